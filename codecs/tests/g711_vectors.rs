//! MV-43 (G.711 channels need a real G.711): A-law and µ-law against the
//! ITU-T STL exhaustive sweep vectors (`codecs/g711/`), all 65,536 inputs of
//! every pair of the STL build (compress, compress-then-expand, expand).
//! UCM-COD-1 derives storage budgets from the codec's byte rate; G.711 is
//! exactly one octet per 8 kHz sample, checked here for every frame length.
//!
//! The data is read at run time from `../shared/testdata`; the tests skip
//! when it is absent.

use std::path::{Path, PathBuf};

use pbxkit_codecs::g711::{
    PcmaDecoder, PcmaEncoder, PcmuDecoder, PcmuEncoder, alaw_decode, alaw_decode_slice,
    alaw_encode, alaw_encode_slice, ulaw_decode, ulaw_decode_slice, ulaw_encode, ulaw_encode_slice,
};
use pbxkit_codecs::{Decoder, Encoder};

fn data() -> Option<PathBuf> {
    testkit::shared_testdata("g711 vectors", "codecs/g711")
}

fn words(dir: &Path, name: &str) -> Vec<i16> {
    let bytes = testkit::read(&dir.join(name));
    assert_eq!(bytes.len(), 131_072, "{name}: 65,536 words expected");
    testkit::le_words(&bytes)
}

/// Octet files hold one octet per word, in the low byte.
fn octets(dir: &Path, name: &str) -> Vec<u8> {
    let w = words(dir, name);
    assert!(
        w.iter().all(|&x| (x as u16) >> 8 == 0),
        "{name}: high bytes must be 0"
    );
    w.iter().map(|&x| x as u8).collect()
}

fn count<T: PartialEq + std::fmt::Debug>(what: &str, got: &[T], want: &[T]) -> usize {
    assert_eq!(got.len(), want.len());
    let n = got.iter().zip(want).filter(|(g, w)| g == w).count();
    if let Some(i) = got.iter().zip(want).position(|(g, w)| g != w) {
        eprintln!(
            "{what}: first mismatch at {i}: got {:?}, want {:?}",
            got[i], want[i]
        );
    }
    eprintln!("{what}: {n}/{} exact", want.len());
    n
}

#[test]
fn sweep_source_is_the_full_ramp() {
    let Some(dir) = data() else { return };
    let src = words(&dir, "sweep.src");
    assert!(src.iter().copied().eq(i16::MIN..=i16::MAX));
}

// MV-43
#[test]
fn alaw_compress_matches_stl() {
    let Some(dir) = data() else { return };
    let src = words(&dir, "sweep.src");
    let want = octets(&dir, "sweep-r.a");
    let scalar: Vec<u8> = src.iter().map(|&s| alaw_encode(s)).collect();
    let mut sliced = vec![0u8; src.len()];
    assert_eq!(alaw_encode_slice(&src, &mut sliced), Ok(65_536));
    assert_eq!(
        count("A-law compress sweep.src -> sweep-r.a", &scalar, &want),
        65_536
    );
    assert_eq!(count("A-law compress (slice)", &sliced, &want), 65_536);
}

// MV-43
#[test]
fn ulaw_compress_matches_stl() {
    let Some(dir) = data() else { return };
    let src = words(&dir, "sweep.src");
    let want = octets(&dir, "sweep-r.u");
    let scalar: Vec<u8> = src.iter().map(|&s| ulaw_encode(s)).collect();
    let mut sliced = vec![0u8; src.len()];
    assert_eq!(ulaw_encode_slice(&src, &mut sliced), Ok(65_536));
    assert_eq!(
        count("µ-law compress sweep.src -> sweep-r.u", &scalar, &want),
        65_536
    );
    assert_eq!(count("µ-law compress (slice)", &sliced, &want), 65_536);
}

// MV-43
#[test]
fn compress_then_expand_matches_stl() {
    let Some(dir) = data() else { return };
    let src = words(&dir, "sweep.src");
    let want_a = words(&dir, "sweep-r.a-a");
    let want_u = words(&dir, "sweep-r.u-u");
    let got_a: Vec<i16> = src.iter().map(|&s| alaw_decode(alaw_encode(s))).collect();
    let got_u: Vec<i16> = src.iter().map(|&s| ulaw_decode(ulaw_encode(s))).collect();
    assert_eq!(
        count("A-law compress+expand -> sweep-r.a-a", &got_a, &want_a),
        65_536
    );
    assert_eq!(
        count("µ-law compress+expand -> sweep-r.u-u", &got_u, &want_u),
        65_536
    );

    // Through the codec objects in 20 ms frames (160 samples).
    for (law, want) in [("A", &want_a), ("µ", &want_u)] {
        let (mut enc, mut dec): (Box<dyn Encoder>, Box<dyn Decoder>) = if law == "A" {
            (Box::new(PcmaEncoder::new()), Box::new(PcmaDecoder::new()))
        } else {
            (Box::new(PcmuEncoder::new()), Box::new(PcmuDecoder::new()))
        };
        let mut got = vec![0i16; src.len()];
        let mut bytes = [0u8; 160];
        for (frame, out) in src.chunks(160).zip(got.chunks_mut(160)) {
            let n = enc.encode(frame, &mut bytes).expect("sized");
            assert_eq!(n, frame.len()); // UCM-COD-1: one octet per sample
            assert_eq!(dec.decode(&bytes[..n], out), Ok(n));
        }
        assert_eq!(
            count(&format!("{law}-law codec objects"), &got, want),
            65_536
        );
    }
}

// MV-43
#[test]
fn expand_matches_stl() {
    let Some(dir) = data() else { return };
    for (input, expected, expand, slice) in [
        (
            "sweep-r.a",
            "sweep-r.rea",
            alaw_decode as fn(u8) -> i16,
            alaw_decode_slice as fn(&[u8], &mut [i16]) -> Result<usize, pbxkit_codecs::Error>,
        ),
        ("sweep-r.u", "sweep-r.reu", ulaw_decode, ulaw_decode_slice),
    ] {
        let bytes = octets(&dir, input);
        let want = words(&dir, expected);
        let got: Vec<i16> = bytes.iter().map(|&b| expand(b)).collect();
        let mut sliced = vec![0i16; bytes.len()];
        assert_eq!(slice(&bytes, &mut sliced), Ok(65_536));
        assert_eq!(
            count(&format!("expand {input} -> {expected}"), &got, &want),
            65_536
        );
        assert_eq!(count("expand (slice)", &sliced, &want), 65_536);
    }
}

/// The widespread "Sun g711.c" µ-law (bias 0x84, clip 32635) — written here
/// only to show the vectors tell the two apart.
fn sun_ulaw(s: i16) -> u8 {
    let mut pcm = i32::from(s);
    let mask = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    pcm = pcm.min(32635) + 0x84;
    let seg = (0..8).find(|&i| pcm <= (0xFF << i) | 0xFF).unwrap_or(7);
    let code = ((seg << 4) | ((pcm >> (seg + 3)) & 0x0F)) as u8;
    code ^ mask
}

#[test]
fn vectors_reject_the_sun_ulaw_variant() {
    let Some(dir) = data() else { return };
    let src = words(&dir, "sweep.src");
    let want = octets(&dir, "sweep-r.u");
    let sun: Vec<u8> = src.iter().map(|&s| sun_ulaw(s)).collect();
    let differ = sun.iter().zip(&want).filter(|(a, b)| a != b).count();
    eprintln!("Sun-style µ-law differs from the STL on {differ} inputs");
    assert_eq!(differ, 127);
}
