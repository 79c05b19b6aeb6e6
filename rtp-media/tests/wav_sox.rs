//! WAV in and out checked against SoX: clips SoX writes are read correctly,
//! and what the recorder writes SoX reads with the right rate and duration.

mod common;

use pbxkit_rtp_media::player::{Clip, Player, Recorder};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn have_sox(what: &str) -> bool {
    if testkit::have_program("sox") {
        return true;
    }
    assert!(
        std::env::var("REQUIRE_SHARED_TESTDATA").as_deref() != Ok("1"),
        "{what}: sox missing and REQUIRE_SHARED_TESTDATA=1"
    );
    eprintln!("SKIP {what}: sox not installed (apt-get install sox)");
    false
}

fn zero_crossings(v: &[i16]) -> usize {
    v.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
}

#[test]
fn reads_sox_wav_mono_and_stereo() {
    if !have_sox("reads_sox_wav_mono_and_stereo") {
        return;
    }
    for channels in ["1", "2"] {
        let path = common::temp_path(&format!("tone{channels}.wav"));
        let status = Command::new("sox")
            .args(["-n", "-r", "8000", "-c", channels, "-b", "16"])
            .arg(&path)
            .args(["synth", "0.5", "sine", "1000", "vol", "0.5"])
            .status()
            .expect("run sox");
        assert!(status.success());
        let clip = Clip::from_wav(&testkit::read(&path)).expect("valid WAV");
        let _ = std::fs::remove_file(&path);
        assert_eq!(clip.sample_rate, 8000);
        assert_eq!(clip.samples.len(), 4000);
        // 1 kHz for 0.5 s: 1000 zero crossings (±2 at the edges).
        let zc = zero_crossings(&clip.samples);
        assert!((998..=1002).contains(&zc), "{zc}");
        let peak = clip
            .samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!((15_000..=17_000).contains(&peak), "{peak}");
    }
}

#[test]
fn sox_reads_what_the_recorder_writes() {
    if !have_sox("sox_reads_what_the_recorder_writes") {
        return;
    }
    // Record 1.5 s of looping music on hold.
    let mut moh = Player::new(8000, true);
    let tone: Vec<i16> = (0..80).map(|n| if n < 40 { 4000 } else { -4000 }).collect();
    moh.enqueue(Arc::new(Clip {
        sample_rate: 8000,
        samples: tone,
    }))
    .expect("rate");
    let mut rec = Recorder::new(8000, Duration::from_secs(10));
    let mut frame = [0i16; 160];
    for _ in 0..75 {
        moh.fill(&mut frame);
        rec.push(&frame);
    }
    assert_eq!(rec.duration(), Duration::from_millis(1500));
    let path = common::temp_path("rec.wav");
    std::fs::write(&path, rec.finish().to_wav()).expect("write");
    let info = |flag: &str| {
        let out = Command::new("sox")
            .args(["--i", flag])
            .arg(&path)
            .output()
            .expect("sox --i");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(info("-r"), "8000");
    assert_eq!(info("-c"), "1");
    assert_eq!(info("-s"), "12000"); // samples
    let secs: f64 = info("-D").parse().expect("duration");
    assert!((secs - 1.5).abs() < 1e-6);
    let _ = std::fs::remove_file(&path);
}
