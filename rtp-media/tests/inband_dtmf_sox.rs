//! In-band DTMF detection on PCM synthesised by an independent generator
//! (SoX), so the detector is not only checked against our own tone generator.

use pbxkit_rtp_media::tones::{DTMF_HIGH, DTMF_LOW, DtmfDetector};
use std::process::Command;

const KEYS: [&str; 4] = ["123A", "456B", "789C", "*0#D"];

fn sox_pair(low: f64, high: f64, seconds: f64, vol: f64) -> Vec<i16> {
    let out = Command::new("sox")
        .args([
            "-n",
            "-r",
            "8000",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-t",
            "raw",
            "-",
        ])
        .args([
            "synth",
            &seconds.to_string(),
            "sine",
            &low.to_string(),
            "sine",
        ])
        .args([&high.to_string(), "remix", "1,2", "vol", &vol.to_string()])
        .output()
        .expect("run sox");
    assert!(
        out.status.success(),
        "sox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    testkit::le_words(&out.stdout)
}

#[test]
fn detects_sox_generated_digits() {
    if !testkit::have_program("sox") {
        assert!(
            std::env::var("REQUIRE_SHARED_TESTDATA").as_deref() != Ok("1"),
            "sox missing and REQUIRE_SHARED_TESTDATA=1"
        );
        eprintln!("SKIP detects_sox_generated_digits: sox not installed (apt-get install sox)");
        return;
    }
    let mut pcm = Vec::new();
    let mut expected = String::new();
    for (r, row) in KEYS.iter().enumerate() {
        for (c, key) in row.chars().enumerate() {
            pcm.extend(sox_pair(DTMF_LOW[r], DTMF_HIGH[c], 0.07, 0.3));
            pcm.extend(std::iter::repeat_n(0i16, 400)); // 50 ms pause
            expected.push(key);
        }
    }
    // Off-nominal but within Q.24 tolerance: +1.5 % on both frequencies.
    pcm.extend(sox_pair(
        DTMF_LOW[0] * 1.015,
        DTMF_HIGH[0] * 1.015,
        0.07,
        0.3,
    ));
    pcm.extend(std::iter::repeat_n(0i16, 400));
    expected.push('1');
    let mut det = DtmfDetector::default();
    det.process(&pcm);
    let got: String = std::iter::from_fn(|| det.poll_event())
        .map(|d| d.digit.as_char())
        .collect();
    assert_eq!(got, expected);
}
