//! The `transcode` command, driven as a user would, checked against the ITU-T
//! STL vectors (MV-43: G.711; G.722 as the wideband extra of MV-46).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::{le_words, read, shared_testdata};

fn transcode(input: &Path, output: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_transcode"))
        .arg(input)
        .arg(output)
        .output()
        .expect("run transcode")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pbxkit-transcode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A WAV header written out by hand (RIFF layout), so the tests do not trust
/// our own writer.
fn wav_bytes(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut f = Vec::new();
    for part in [
        &b"RIFF"[..],
        &(36 + data).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
    ] {
        f.extend_from_slice(part);
    }
    f.extend_from_slice(&[1, 0, 1, 0]);
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * 2).to_le_bytes());
    f.extend_from_slice(&[2, 0, 16, 0]);
    f.extend_from_slice(b"data");
    f.extend_from_slice(&data.to_le_bytes());
    samples
        .iter()
        .for_each(|s| f.extend_from_slice(&s.to_le_bytes()));
    f
}

fn wav_samples(bytes: &[u8]) -> Vec<i16> {
    assert_eq!(&bytes[..4], b"RIFF");
    le_words(&bytes[44..])
}

fn low_bytes(words: &[u8]) -> Vec<u8> {
    words.chunks_exact(2).map(|w| w[0]).collect()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "transcode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn count_equal<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x == y).count()
}

#[test]
fn mv_43_wav_to_g711_matches_stl_sweep() {
    let Some(dir) = shared_testdata("transcode g711", "codecs/g711") else {
        return;
    };
    let sweep = le_words(&read(&dir.join("sweep.src")));
    let input = scratch("sweep.wav");
    std::fs::write(&input, wav_bytes(8000, &sweep)).unwrap();
    for (ext, expected) in [("pcma", "sweep-r.a"), ("pcmu", "sweep-r.u")] {
        let output = scratch(&format!("sweep.{ext}"));
        assert_ok(&transcode(&input, &output));
        let got = std::fs::read(&output).unwrap();
        let want = low_bytes(&read(&dir.join(expected)));
        let same = count_equal(&got, &want);
        eprintln!(
            "wav -> .{ext}: {same}/{} octets equal {expected}",
            want.len()
        );
        assert_eq!((got.len(), same), (want.len(), want.len()));
    }
}

#[test]
fn mv_43_g711_to_wav_matches_stl_expansion() {
    let Some(dir) = shared_testdata("transcode g711", "codecs/g711") else {
        return;
    };
    for (ext, coded, expected) in [
        ("pcma", "sweep-r.a", "sweep-r.rea"),
        ("pcmu", "sweep-r.u", "sweep-r.reu"),
    ] {
        let input = scratch(&format!("coded.{ext}"));
        std::fs::write(&input, low_bytes(&read(&dir.join(coded)))).unwrap();
        let output = scratch(&format!("expanded-{ext}.wav"));
        assert_ok(&transcode(&input, &output));
        let got = wav_samples(&std::fs::read(&output).unwrap());
        let want = le_words(&read(&dir.join(expected)));
        assert_eq!(
            count_equal(&got, &want),
            want.len(),
            ".{ext} -> wav vs {expected}"
        );
    }
}

#[test]
fn g722_both_ways_match_stl_vectors() {
    let Some(dir) = shared_testdata("transcode g722", "codecs/g722") else {
        return;
    };
    let speech = le_words(&read(&dir.join("inpsp.bin")));
    let input = scratch("inpsp.wav");
    std::fs::write(&input, wav_bytes(16000, &speech)).unwrap();
    let coded = scratch("inpsp.g722");
    assert_ok(&transcode(&input, &coded));
    let got = std::fs::read(&coded).unwrap();
    let want = low_bytes(&read(&dir.join("codspw.cod")));
    let same = count_equal(&got, &want);
    eprintln!(
        "wav -> .g722: {same}/{} codewords equal codspw.cod",
        want.len()
    );
    assert_eq!((got.len(), same), (want.len(), want.len()));

    let decoded = scratch("outsp.wav");
    assert_ok(&transcode(&coded, &decoded));
    let got = wav_samples(&std::fs::read(&decoded).unwrap());
    let want = le_words(&read(&dir.join("outsp1.bin")));
    let same = count_equal(&got, &want);
    eprintln!(
        ".g722 -> wav: {same}/{} samples equal outsp1.bin",
        want.len()
    );
    assert_eq!((got.len(), same), (want.len(), want.len()));
}

#[test]
fn wideband_wav_to_pcmu_keeps_the_tone_and_the_length() {
    // 1 s of 1004 Hz at 48 kHz -> PCMU (8 kHz) -> WAV: same duration, same tone.
    let tone: Vec<i16> = (0..48000)
        .map(|n| (8000.0 * (std::f64::consts::TAU * 1004.0 * n as f64 / 48000.0).sin()) as i16)
        .collect();
    let input = scratch("tone48.wav");
    std::fs::write(&input, wav_bytes(48000, &tone)).unwrap();
    let coded = scratch("tone48.pcmu");
    assert_ok(&transcode(&input, &coded));
    assert_eq!(std::fs::read(&coded).unwrap().len(), 8000);
    let back = scratch("tone8.wav");
    assert_ok(&transcode(&coded, &back));
    let pcm = wav_samples(&std::fs::read(&back).unwrap());
    // Compare with the ideal 8 kHz tone (delay compensated by transcode).
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (n, &s) in pcm.iter().enumerate().skip(400).take(7000) {
        let ideal = 8000.0 * (std::f64::consts::TAU * 1004.0 * n as f64 / 8000.0).sin();
        sig += ideal * ideal;
        err += (ideal - f64::from(s)).powi(2);
    }
    let snr = 10.0 * (sig / err).log10();
    eprintln!("48k wav -> pcmu -> wav: SNR {snr:.1} dB against the ideal tone");
    // G.711 itself limits this to ~38 dB at this level.
    assert!(snr > 30.0, "SNR {snr:.1} dB");
}

#[test]
fn bad_input_is_a_clear_error_not_a_crash() {
    let truncated = scratch("truncated.wav");
    std::fs::write(&truncated, &wav_bytes(8000, &[1, 2, 3])[..30]).unwrap();
    let stereo = scratch("stereo.wav");
    let mut bytes = wav_bytes(8000, &[1, 2]);
    bytes[22] = 2;
    std::fs::write(&stereo, bytes).unwrap();
    let odd_rate = scratch("rate.wav");
    std::fs::write(&odd_rate, wav_bytes(44100, &[0; 100])).unwrap();
    let not_wav = scratch("text.wav");
    std::fs::write(&not_wav, b"hello, I am not a wave file").unwrap();
    for (input, needle) in [
        (&truncated, "truncated"),
        (&stereo, "channels"),
        (&odd_rate, "44100"),
        (&not_wav, "RIFF"),
        (&scratch("missing.wav"), "cannot read"),
    ] {
        let out = transcode(input, &scratch("out.pcmu"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", input.display());
        assert!(stderr.contains(needle), "{}: {stderr}", input.display());
    }
    let out = transcode(&truncated, &scratch("out.mp3"));
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_transcode"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
