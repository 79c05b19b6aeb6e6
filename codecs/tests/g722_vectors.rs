//! G.722 against the ITU-T oracles (MV-46: wideband is an extra beyond the
//! seed's G.711/G.729, but when offered it must be the real G.722):
//!
//! - the ITU-T STL end-to-end vectors (`codecs/g722/`): encoder, decoder in
//!   modes 1/2/3, and encoder followed by decoder, every word exact;
//! - the Rec. G.722 Appendix II sub-band sequences (`codecs/g722/appendix2/`),
//!   driving the lower- and higher-band ADPCM coders without the QMF, every
//!   word exact, reset words included.
//!
//! The data is read at run time from `../shared/testdata` (see
//! `testkit::shared_testdata`); the tests skip when it is absent.

use std::path::{Path, PathBuf};

use pbxkit_codecs::g722::subband::{
    HighBandDecoder, HighBandEncoder, LowBandDecoder, LowBandEncoder,
};
use pbxkit_codecs::g722::{G722Decoder, G722Encoder, G722Mode};
use pbxkit_codecs::{Decoder, Encoder};

fn data(sub: &str) -> Option<PathBuf> {
    testkit::shared_testdata("g722 vectors", sub)
}

fn words(dir: &Path, name: &str) -> Vec<i16> {
    let bytes = testkit::read(&dir.join(name));
    assert_eq!(bytes.len() % 2, 0, "{name}: odd length");
    testkit::le_words(&bytes)
}

/// Counts equal positions; reports the first mismatch.
fn matches<T: PartialEq + std::fmt::Debug>(what: &str, got: &[T], want: &[T]) -> usize {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut first = None;
    let n = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(i, (g, w))| {
            let ok = g == w;
            if !ok && first.is_none() {
                first = Some(*i);
            }
            ok
        })
        .count();
    if let Some(i) = first {
        eprintln!(
            "{what}: first mismatch at word {i}: got {:?}, want {:?}",
            got[i], want[i]
        );
    }
    eprintln!("{what}: {n}/{} words exact", want.len());
    n
}

/// The codeword stream of `codspw.cod` (low byte of each word).
fn codewords(dir: &Path) -> Vec<u8> {
    let w = words(dir, "codspw.cod");
    assert!(
        w.iter().all(|&x| x as u16 >> 8 == 0),
        "codspw.cod high bytes must be 0"
    );
    w.iter().map(|&x| x as u8).collect()
}

#[test]
fn stl_encoder_is_bit_exact() {
    let Some(dir) = data("codecs/g722") else {
        return;
    };
    let pcm = words(&dir, "inpsp.bin");
    let want = codewords(&dir);
    let mut enc = G722Encoder::new();
    let mut got = vec![0u8; pcm.len() / 2];
    // In 20 ms frames (320 samples), as a real call would.
    let mut n = 0;
    for (frame, out) in pcm.chunks(320).zip(got.chunks_mut(160)) {
        n += enc.encode(frame, out).expect("even frame");
    }
    assert_eq!(n, want.len());
    let exact = matches("g722 encode inpsp.bin -> codspw.cod", &got, &want);
    assert_eq!(exact, 48_768);
}

fn decode_all(mode: G722Mode, codes: &[u8]) -> Vec<i16> {
    let mut dec = G722Decoder::new(mode);
    let mut out = vec![0i16; codes.len() * 2];
    for (payload, frame) in codes.chunks(160).zip(out.chunks_mut(320)) {
        dec.decode(payload, frame).expect("output sized");
    }
    out
}

#[test]
fn stl_decoder_modes_are_bit_exact() {
    let Some(dir) = data("codecs/g722") else {
        return;
    };
    let codes = codewords(&dir);
    for (mode, file) in [
        (G722Mode::Mode1, "outsp1.bin"),
        (G722Mode::Mode2, "outsp2.bin"),
        (G722Mode::Mode3, "outsp3.bin"),
    ] {
        let want = words(&dir, file);
        let got = decode_all(mode, &codes);
        let exact = matches(
            &format!("g722 decode {mode:?} codspw.cod -> {file}"),
            &got,
            &want,
        );
        assert_eq!(exact, 97_536, "{mode:?}");
    }
}

#[test]
fn stl_encode_then_decode_is_bit_exact() {
    let Some(dir) = data("codecs/g722") else {
        return;
    };
    let pcm = words(&dir, "inpsp.bin");
    let want = words(&dir, "outsp1.bin");
    let mut enc = G722Encoder::new();
    let mut codes = vec![0u8; pcm.len() / 2];
    enc.encode(&pcm, &mut codes).expect("even");
    let got = decode_all(G722Mode::Mode1, &codes);
    let exact = matches("g722 encode+decode inpsp.bin -> outsp1.bin", &got, &want);
    assert_eq!(exact, 97_536);
}

/// Appendix II: sub-band encoders, `.xmt` -> `.cod`.
fn appendix2_encode(dir: &Path, input: &str, expected: &str) -> (usize, usize) {
    let xmt = words(dir, input);
    let want: Vec<u16> = words(dir, expected).iter().map(|&w| w as u16).collect();
    let mut low = LowBandEncoder::new();
    let mut high = HighBandEncoder::new();
    let got: Vec<u16> = xmt
        .iter()
        .map(|&w| {
            if w & 1 != 0 {
                low.reset();
                high.reset();
                0x0001
            } else {
                let x = w >> 1;
                let il = low.encode(x);
                let ih = high.encode(x);
                u16::from((ih << 6) | il) << 8
            }
        })
        .collect();
    let what = format!("appendix II encode {input} -> {expected}");
    (matches(&what, &got, &want), want.len())
}

#[test]
fn appendix2_encoder_sequences_are_exact() {
    let Some(dir) = data("codecs/g722/appendix2") else {
        return;
    };
    for (input, expected, len) in [
        ("bt1c1.xmt", "bt2r1.cod", 16_416),
        ("bt1c2.xmt", "bt2r2.cod", 800),
    ] {
        let (exact, total) = appendix2_encode(&dir, input, expected);
        assert_eq!(total, len, "{expected}");
        assert_eq!(exact, total, "{input}");
    }
}

/// Appendix II: sub-band decoders, `.cod` -> `.rcN` (lower band in `mode`)
/// and `.rc0` (higher band).
fn appendix2_decode(
    dir: &Path,
    input: &str,
    mode: G722Mode,
    low_file: &str,
    high_file: &str,
) -> bool {
    let cod: Vec<u16> = words(dir, input).iter().map(|&w| w as u16).collect();
    let want_low: Vec<u16> = words(dir, low_file).iter().map(|&w| w as u16).collect();
    let want_high: Vec<u16> = words(dir, high_file).iter().map(|&w| w as u16).collect();
    let mut low = LowBandDecoder::new(mode);
    let mut high = HighBandDecoder::new();
    let mut got_low = Vec::with_capacity(cod.len());
    let mut got_high = Vec::with_capacity(cod.len());
    for &w in &cod {
        if w & 1 != 0 {
            low.reset();
            high.reset();
            got_low.push(0x0001);
            got_high.push(0x0001);
        } else {
            let code = (w >> 8) as u8;
            got_low.push((low.decode(code & 0x3F) as u16) << 1);
            got_high.push((high.decode(code >> 6) as u16) << 1);
        }
    }
    let l = matches(
        &format!("appendix II decode {input} {mode:?} -> {low_file}"),
        &got_low,
        &want_low,
    );
    let h = matches(
        &format!("appendix II decode {input} -> {high_file}"),
        &got_high,
        &want_high,
    );
    l == want_low.len() && h == want_high.len()
}

#[test]
fn appendix2_decoder_sequences_are_exact() {
    let Some(dir) = data("codecs/g722/appendix2") else {
        return;
    };
    let mut all = true;
    for (input, n) in [("bt2r1.cod", 1), ("bt2r2.cod", 2), ("bt1d3.cod", 3)] {
        for (mode, rc) in [
            (G722Mode::Mode1, 1),
            (G722Mode::Mode2, 2),
            (G722Mode::Mode3, 3),
        ] {
            all &= appendix2_decode(
                &dir,
                input,
                mode,
                &format!("bt3l{n}.rc{rc}"),
                &format!("bt3h{n}.rc0"),
            );
        }
    }
    assert!(
        all,
        "some Appendix II decoder sequence differs (see the log)"
    );
}
