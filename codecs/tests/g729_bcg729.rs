//! G.729 differential test against Debian's `libbcg729` (MV-43: G.729 is the
//! seed's compressed codec; the 50-channel limit is enforced elsewhere, this
//! proves the codec itself).
//!
//! Our crates forbid `unsafe`, so there is no FFI here: the test compiles
//! `tests/support/bcg729_ref.c` with the system C compiler (`$CC`, else `cc`,
//! else `gcc`) against `-lbcg729` into Cargo's test temp dir, and runs it as
//! a subprocess that encodes raw PCM to a frames file and decodes a frames
//! file to PCM (the format is described in the C file). Our
//! [`G729Encoder`]/[`G729Decoder`] then process the same input and every
//! frame and sample is compared.
//!
//! Input: 12 s of the seeded speech-like signal (`support::speech_like`, 8 kHz;
//! voiced syllables, fricatives and pauses with a faint noise floor, so
//! Annex B produces speech, SID and untransmitted frames).
//!
//! Checked, with and without Annex B VAD:
//! - decoder: the reference bitstream decoded by us equals `bcg729Decoder`'s
//!   PCM sample for sample, frame by frame and packed into 20 ms RFC 3551
//!   payloads — **1200/1200 frames, 96000/96000 samples identical** in both
//!   modes;
//! - concealment: the same with 5 % of the frames and a 6-frame burst lost,
//!   our [`Decoder::conceal`] against `bcg729Decoder` with the erasure flag —
//!   **identical** in both modes;
//! - encoder: our bitstream against `bcg729Encoder`'s, frame for frame
//!   (length and bytes) — identical except for one documented rounding
//!   difference, below;
//! - framing: our 20 ms payloads are the RFC 3551 packing of the reference
//!   frames (575/575 with VAD, 600/600 without, outside the known divergence).
//!
//! # The one encoder difference
//! g729-sys 0.3.0 computes the linear interpolation that refines each LSP
//! root (`LP2LSPConversion`, G.729 §3.2.3) as
//! `((Cx_prev << 14) / (Cx − Cx_prev)) << 1`, where bcg729 computes
//! `(Cx_prev << 14) / ((Cx − Cx_prev) >> 1)` (apparently changed so that a
//! difference of ±1, a division by zero in bcg729, cannot panic). The two
//! quotients round differently in the last bit or two, which now and then
//! moves one LSP by 1 LSB (frame 552 of the continuous VAD-off stream:
//! LSP₀ = 32028 here, 32029 in bcg729), which can change the quantised LSP
//! indices; from that frame on the two encoders' states (MA predictor
//! memory, filters, excitation) differ, so later frames differ too. With
//! the encoder reset every 50 frames the difference stays inside its 0.5 s
//! segment. `KNOWN_DIVERGENCES` lists where it starts on this input:
//!
//! | VAD | stream | identical frames | first difference |
//! |---|---|---|---|
//! | off | continuous | 987/1200 | 552 |
//! | on | continuous | 1200/1200 | — |
//! | off | reset every 50 frames | 1200/1200 | — |
//! | on | reset every 50 frames | 1176/1200 | 675 (segment 650–699) |
//!
//! Verified outside the test suite: g729-sys with that one expression
//! written as in bcg729 (and a zero denominator saturated) produces exactly
//! libbcg729's bitstream on this input and on two further 60 s inputs, with
//! and without VAD, continuous and reset every 50 or 100 frames (18 runs,
//! 132 s of audio per mode). The difference is harmless:
//! `encoder_divergence_is_harmless` decodes both bitstreams with libbcg729
//! and finds the same segmental SNR (4.89 dB on both from frame 552 on);
//! any G.729 decoder accepts either bitstream.
//!
//! One equivalence is relied on and thereby tested: for an untransmitted
//! DTX frame the reference is called with the erasure flag clear and the
//! SID flag set (the ITU "no transmission" frame), while our decoder has no
//! packet and conceals (erasure flag set); bcg729 turns an erasure after an
//! inactive frame into exactly that SID-flag path (Annex B.27), so the
//! output is the same.
//!
//! When no C compiler or no `libbcg729-dev` is found the tests print `SKIP`
//! and pass, unless `REQUIRE_SHARED_TESTDATA=1` (as in CI), which makes them
//! fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pbxkit_codecs::g729::{FRAME_BYTES, FRAME_SAMPLES, G729Decoder, G729Encoder};
use pbxkit_codecs::{Decoder, Encoder};
use support::{Rng, best_delay, from_le_bytes, segmental_snr_db, speech_like, to_le_bytes};

/// Seconds of input.
const SECONDS: f64 = 12.0;
/// Seed of the speech-like input.
const SEED: u64 = 729;
/// Frames-file length byte marking a lost frame.
const ERASED: u8 = 255;

/// One 10 ms frame of a frames file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    /// A transmitted or untransmitted frame: 10, 2 or 0 bytes.
    Bits(Vec<u8>),
    /// A lost frame.
    Erased,
}

fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("g729_bcg729");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles the reference driver once; `None` (after printing why) when the
/// toolchain or library is missing and `REQUIRE_SHARED_TESTDATA` is not 1.
fn reference() -> Option<&'static Path> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cc = std::env::var("CC").ok().unwrap_or_else(|| {
            if testkit::have_program("cc") {
                "cc".into()
            } else {
                "gcc".into()
            }
        });
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/bcg729_ref.c");
        let binary = work_dir().join("bcg729_ref");
        let output = Command::new(&cc)
            .args(["-std=c99", "-O2", "-Wall", "-Wextra", "-o"])
            .arg(&binary)
            .arg(&source)
            .arg("-lbcg729")
            .output()
            .map_err(|err| format!("cannot run C compiler `{cc}`: {err}"))?;
        if !output.status.success() {
            return Err(format!(
                "`{cc}` could not build the bcg729 driver (is libbcg729-dev installed?):\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(binary)
    });
    match built {
        Ok(path) => Some(path),
        Err(why) => {
            let required = std::env::var(testkit::ENV_REQUIRE).is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{why}\n({}=1 makes this a failure)",
                testkit::ENV_REQUIRE
            );
            eprintln!("SKIP G.729 differential test against libbcg729: {why}");
            None
        }
    }
}

fn run(binary: &Path, args: &[&str]) {
    let output = Command::new(binary).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "bcg729_ref {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn parse_frames(bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut rest = bytes;
    while let Some((&len, tail)) = rest.split_first() {
        if len == ERASED {
            frames.push(Frame::Erased);
            rest = tail;
            continue;
        }
        let len = usize::from(len);
        assert!(matches!(len, 0 | 2 | 10), "bad length byte {len}");
        frames.push(Frame::Bits(tail[..len].to_vec()));
        rest = &tail[len..];
    }
    frames
}

fn write_frames(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        match frame {
            Frame::Bits(bits) => {
                out.push(u8::try_from(bits.len()).unwrap());
                out.extend_from_slice(bits);
            }
            Frame::Erased => out.push(ERASED),
        }
    }
    out
}

fn input() -> Vec<i16> {
    speech_like(8000, SECONDS, SEED)
}

/// Encodes `pcm` with the reference; `tag` keeps parallel tests apart.
fn reference_encode(binary: &Path, pcm: &[i16], vad: bool, tag: &str) -> Vec<Frame> {
    reference_encode_segments(binary, pcm, vad, 0, tag)
}

/// Encodes `pcm` with the reference, re-initialising it every `reset`
/// frames (0: never).
fn reference_encode_segments(
    binary: &Path,
    pcm: &[i16],
    vad: bool,
    reset: usize,
    tag: &str,
) -> Vec<Frame> {
    let dir = work_dir();
    let pcm_path = dir.join(format!("{tag}-in.pcm"));
    let frames_path = dir.join(format!("{tag}-ref.frames"));
    std::fs::write(&pcm_path, to_le_bytes(pcm)).unwrap();
    let vad_arg = if vad { "1" } else { "0" };
    run(
        binary,
        &[
            "enc",
            vad_arg,
            pcm_path.to_str().unwrap(),
            frames_path.to_str().unwrap(),
            &reset.to_string(),
        ],
    );
    parse_frames(&std::fs::read(&frames_path).unwrap())
}

/// Decodes `frames` with the reference.
fn reference_decode(binary: &Path, frames: &[Frame], tag: &str) -> Vec<i16> {
    let dir = work_dir();
    let frames_path = dir.join(format!("{tag}-dec.frames"));
    let pcm_path = dir.join(format!("{tag}-ref-out.pcm"));
    std::fs::write(&frames_path, write_frames(frames)).unwrap();
    run(
        binary,
        &[
            "dec",
            frames_path.to_str().unwrap(),
            pcm_path.to_str().unwrap(),
        ],
    );
    from_le_bytes(&std::fs::read(&pcm_path).unwrap())
}

/// Decodes `frames` with ours, one frame at a time.
fn our_decode(frames: &[Frame]) -> Vec<i16> {
    let mut dec = G729Decoder::new();
    let mut out = Vec::with_capacity(frames.len() * FRAME_SAMPLES);
    let mut pcm = [0i16; FRAME_SAMPLES];
    for frame in frames {
        let n = match frame {
            Frame::Bits(bits) if !bits.is_empty() => dec.decode(bits, &mut pcm).unwrap(),
            // Untransmitted or lost: no packet arrived.
            _ => dec.conceal(&mut pcm).unwrap(),
        };
        assert_eq!(n, FRAME_SAMPLES);
        out.extend_from_slice(&pcm);
    }
    out
}

/// Decodes `frames` with ours, packed as a sender would into 20 ms RFC 3551
/// payloads: two speech frames, or speech + SID, share a payload; anything
/// else goes frame by frame.
fn our_decode_packed(frames: &[Frame]) -> Vec<i16> {
    let mut dec = G729Decoder::new();
    let mut out = Vec::with_capacity(frames.len() * FRAME_SAMPLES);
    let mut pcm = [0i16; 2 * FRAME_SAMPLES];
    let mut packed = 0;
    for pair in frames.chunks(2) {
        if let [Frame::Bits(a), Frame::Bits(b)] = pair
            && a.len() == FRAME_BYTES
            && !b.is_empty()
        {
            let payload = [a.as_slice(), b.as_slice()].concat();
            assert_eq!(dec.decode(&payload, &mut pcm).unwrap(), 2 * FRAME_SAMPLES);
            out.extend_from_slice(&pcm);
            packed += 1;
            continue;
        }
        for frame in pair {
            let one = &mut pcm[..FRAME_SAMPLES];
            match frame {
                Frame::Bits(bits) if !bits.is_empty() => dec.decode(bits, one).unwrap(),
                _ => dec.conceal(one).unwrap(),
            };
            out.extend_from_slice(one);
        }
    }
    assert!(packed > 0);
    out
}

/// (speech, SID, untransmitted, erased) frame counts.
fn census(frames: &[Frame]) -> (usize, usize, usize, usize) {
    let mut c = (0, 0, 0, 0);
    for f in frames {
        match f {
            Frame::Bits(b) if b.len() == FRAME_BYTES => c.0 += 1,
            Frame::Bits(b) if b.len() == 2 => c.1 += 1,
            Frame::Bits(_) => c.2 += 1,
            Frame::Erased => c.3 += 1,
        }
    }
    c
}

/// Compares PCM; returns (identical samples, identical 10 ms frames).
fn compare_pcm(what: &str, ours: &[i16], theirs: &[i16]) -> (usize, usize) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let samples = ours.iter().zip(theirs).filter(|(a, b)| a == b).count();
    let mut bad_frames = Vec::new();
    let mut frames = 0;
    for (i, (a, b)) in ours
        .chunks(FRAME_SAMPLES)
        .zip(theirs.chunks(FRAME_SAMPLES))
        .enumerate()
    {
        if a == b {
            frames += 1;
        } else {
            bad_frames.push(i);
        }
    }
    let total_frames = ours.len().div_ceil(FRAME_SAMPLES);
    println!(
        "{what}: {frames}/{total_frames} frames identical, {samples}/{} samples identical",
        ours.len()
    );
    assert!(
        bad_frames.is_empty(),
        "{what}: frames differ: {:?}",
        &bad_frames[..bad_frames.len().min(20)]
    );
    (samples, frames)
}

/// Where our encoder first departs from `bcg729Encoder` on [`input`], per
/// (VAD, encoder reset period in frames; 0 = one continuous stream): the
/// frame whose LSP root interpolation rounds differently (see the module
/// docs). `None`: identical throughout.
const KNOWN_DIVERGENCES: [(bool, usize, Option<usize>); 4] = [
    (false, 0, Some(552)),
    (true, 0, None),
    (false, 50, None),
    (true, 50, Some(675)),
];

/// Our encoder over `pcm`, frame by frame, reset every `reset` frames.
fn our_encode(pcm: &[i16], vad: bool, reset: usize) -> Vec<Frame> {
    let mut enc = G729Encoder::new(vad);
    let mut bytes = [0u8; FRAME_BYTES];
    pcm.chunks_exact(FRAME_SAMPLES)
        .enumerate()
        .map(|(i, chunk)| {
            if reset > 0 && i > 0 && i % reset == 0 {
                enc.reset();
            }
            let kind = enc.encode_frame(chunk, &mut bytes).unwrap();
            Frame::Bits(bytes[..kind.payload_len()].to_vec())
        })
        .collect()
}

#[test]
fn encoder_matches_bcg729_up_to_the_known_lsp_rounding() {
    // Every frame equals the reference's, except from the documented
    // divergence on (KNOWN_DIVERGENCES); with resets every 50 frames a
    // divergence stays inside its 0.5 s segment and every other segment is
    // bit-exact.
    let Some(binary) = reference() else {
        return;
    };
    let pcm = input();
    for (vad, reset, expected) in KNOWN_DIVERGENCES {
        let tag = format!("enc-vad{}-reset{reset}", u8::from(vad));
        let theirs = reference_encode_segments(binary, &pcm, vad, reset, &tag);
        let ours = our_encode(&pcm, vad, reset);
        assert_eq!(ours.len(), theirs.len());
        let differing: Vec<usize> = (0..ours.len()).filter(|&i| ours[i] != theirs[i]).collect();
        let first = differing.first().copied();
        let (speech, sid, untransmitted, _) = census(&theirs);
        println!(
            "G.729 encoder, VAD {}, {}: {}/{} frames identical, first difference {first:?} \
             (reference: {speech} speech, {sid} SID, {untransmitted} untransmitted)",
            if vad { "on" } else { "off" },
            if reset == 0 {
                "one continuous stream".to_string()
            } else {
                format!("reset every {reset} frames")
            },
            ours.len() - differing.len(),
            ours.len()
        );
        assert_eq!(
            first, expected,
            "VAD {vad}, reset {reset}: first differing frame moved (if g729-sys now rounds \
             like bcg729, update KNOWN_DIVERGENCES and the docs)"
        );
        if let (Some(first), true) = (first, reset > 0) {
            // Confined to the segment it starts in.
            let segment_end = (first / reset + 1) * reset;
            assert!(
                differing.iter().all(|&i| i < segment_end),
                "VAD {vad}: difference leaks past frame {segment_end}"
            );
        }
        if vad {
            assert!(
                sid > 0 && untransmitted > 0 && speech > 0,
                "input must exercise every Annex B frame type"
            );
        } else {
            assert_eq!(speech, ours.len());
        }
    }
}

#[test]
fn encoder_divergence_is_harmless() {
    // The reference decoder plays our bitstream as well as its own: on the
    // continuous VAD-off stream (frames 552.. differ) the segmental SNR
    // against the input is the same within 0.5 dB.
    let Some(binary) = reference() else {
        return;
    };
    let pcm = input();
    let theirs = reference_encode_segments(binary, &pcm, false, 0, "harm-ref");
    let ours = our_encode(&pcm, false, 0);
    let out_theirs = reference_decode(binary, &theirs, "harm-ref");
    let out_ours = reference_decode(binary, &ours, "harm-ours");
    let delay = best_delay(&pcm, &out_theirs, 160);
    let n = pcm.len() - delay;
    let tail = 552 * FRAME_SAMPLES;
    let seg = |out: &[i16]| segmental_snr_db(&pcm[tail..n], &out[tail + delay..], FRAME_SAMPLES);
    let (s_theirs, s_ours) = (seg(&out_theirs), seg(&out_ours));
    println!(
        "frames 552..: segmental SNR via libbcg729's decoder, its bitstream {s_theirs:.2} dB, ours {s_ours:.2} dB (delay {delay})"
    );
    assert!((s_theirs - s_ours).abs() < 0.5);
}

#[test]
fn decoder_matches_bcg729_sample_for_sample() {
    let Some(binary) = reference() else {
        return;
    };
    let pcm = input();
    for vad in [false, true] {
        let tag = format!("dec-vad{}", u8::from(vad));
        let frames = reference_encode(binary, &pcm, vad, &tag);
        let theirs = reference_decode(binary, &frames, &tag);
        let what = format!("G.729 decoder, VAD {}", if vad { "on" } else { "off" });
        compare_pcm(&what, &our_decode(&frames), &theirs);
        compare_pcm(
            &format!("{what}, 20 ms RFC 3551 payloads"),
            &our_decode_packed(&frames),
            &theirs,
        );
    }
}

#[test]
fn concealment_matches_bcg729() {
    let Some(binary) = reference() else {
        return;
    };
    let pcm = input();
    for vad in [false, true] {
        let tag = format!("plc-vad{}", u8::from(vad));
        let mut frames = reference_encode(binary, &pcm, vad, &tag);
        // Lose 5 % of the frames at random, plus a 6-frame burst.
        let mut rng = Rng::new(0x6729);
        for frame in frames.iter_mut() {
            if rng.next_u64().is_multiple_of(20) {
                *frame = Frame::Erased;
            }
        }
        for frame in &mut frames[400..406] {
            *frame = Frame::Erased;
        }
        let (speech, sid, untransmitted, erased) = census(&frames);
        let theirs = reference_decode(binary, &frames, &tag);
        let what = format!(
            "G.729 concealment, VAD {} ({erased} lost of {} frames; {speech} speech, {sid} SID, {untransmitted} untransmitted left)",
            if vad { "on" } else { "off" },
            frames.len()
        );
        compare_pcm(&what, &our_decode(&frames), &theirs);
    }
}

/// The RFC 3551 payload our encoder promises for consecutive frames (module
/// docs of `g729`): speech frames in order, untransmitted frames dropped,
/// the last SID kept only when nothing transmitted follows it.
fn expected_payload(frames: &[Frame]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut sid: Option<&[u8]> = None;
    for frame in frames {
        match frame {
            Frame::Bits(b) if b.len() == FRAME_BYTES => {
                sid = None;
                payload.extend_from_slice(b);
            }
            Frame::Bits(b) if b.len() == 2 => sid = Some(b),
            _ => {}
        }
    }
    payload.extend_from_slice(sid.unwrap_or_default());
    payload
}

#[test]
fn rtp_payloads_carry_the_reference_frames() {
    // 20 ms per call, encoder reset every 50 frames as in KNOWN_DIVERGENCES:
    // every payload equals the RFC 3551 packing of libbcg729's frames,
    // except inside the one segment with a known divergence.
    let Some(binary) = reference() else {
        return;
    };
    let pcm = input();
    let reset = 50;
    for (vad, _, divergence) in KNOWN_DIVERGENCES.into_iter().filter(|k| k.1 == reset) {
        let tag = format!("rtp-vad{}", u8::from(vad));
        let theirs = reference_encode_segments(binary, &pcm, vad, reset, &tag);
        let skip = divergence.map(|f| (f / reset * reset)..((f / reset + 1) * reset));
        let mut enc = G729Encoder::new(vad);
        let mut payload = [0u8; 2 * FRAME_BYTES];
        let (mut same, mut compared, mut empty, mut with_sid) = (0, 0, 0, 0);
        for (call, chunk) in pcm.chunks_exact(2 * FRAME_SAMPLES).enumerate() {
            let first = 2 * call;
            if first > 0 && first % reset == 0 {
                enc.reset();
            }
            let n = enc.encode(chunk, &mut payload).unwrap();
            empty += usize::from(n == 0);
            with_sid += usize::from(n % FRAME_BYTES == 2);
            if skip.as_ref().is_some_and(|r| r.contains(&first)) {
                continue;
            }
            compared += 1;
            same += usize::from(payload[..n] == expected_payload(&theirs[first..first + 2])[..]);
        }
        println!(
            "G.729 20 ms payloads, VAD {}: {same}/{compared} equal to the reference frames' RFC 3551 packing \
             ({empty} empty, {with_sid} ending in a SID)",
            if vad { "on" } else { "off" }
        );
        assert_eq!(same, compared);
        if vad {
            assert!(empty > 0 && with_sid > 0);
        }
    }
}
