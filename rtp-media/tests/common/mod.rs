//! Test helpers: golden captures and tshark plumbing (pcap files: `testkit::pcap`).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where sip-tester's golden captures live.
pub const SIP_TESTER: &str = "/usr/share/sip-tester";

fn required() -> bool {
    std::env::var(testkit::ENV_REQUIRE).is_ok_and(|v| v == "1")
}

/// The path of a sip-tester capture, or `None` (after `SKIP`) when absent.
pub fn sip_tester_pcap(what: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(SIP_TESTER).join(name);
    if p.is_file() {
        return Some(p);
    }
    assert!(
        !required(),
        "{what}: {} missing and REQUIRE_SHARED_TESTDATA=1 (install sip-tester)",
        p.display()
    );
    eprintln!(
        "SKIP {what}: {} not found (apt-get install sip-tester)",
        p.display()
    );
    None
}

/// Whether tshark is installed (prints `SKIP` otherwise; fails when required).
pub fn have_tshark(what: &str) -> bool {
    if testkit::have_program("tshark") {
        return true;
    }
    assert!(
        !required(),
        "{what}: tshark missing and REQUIRE_SHARED_TESTDATA=1"
    );
    eprintln!("SKIP {what}: tshark not installed (apt-get install tshark)");
    false
}

/// Runs tshark with `args` and returns stdout.
pub fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One row of `tshark -z rtp,streams`.
#[derive(Debug, Clone)]
pub struct TsharkStream {
    pub ssrc: u32,
    pub packets: u64,
    pub lost: i64,
    pub max_delta_ms: f64,
    pub min_jitter_ms: f64,
    pub mean_jitter_ms: f64,
    pub max_jitter_ms: f64,
}

/// Parses the stream rows of `tshark -q -z rtp,streams`.
pub fn rtp_streams(output: &str) -> Vec<TsharkStream> {
    output
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let ssrc_at = f.iter().position(|w| w.starts_with("0x"))?;
            let ssrc = u32::from_str_radix(&f[ssrc_at][2..], 16).ok()?;
            // After SSRC: payload name (may be one token), packets, lost, (pct), deltas, jitters.
            let rest = &f[ssrc_at + 2..];
            let n = |i: usize| rest[i].parse::<f64>().ok();
            Some(TsharkStream {
                ssrc,
                packets: rest[0].parse().ok()?,
                lost: rest[1].parse().ok()?,
                max_delta_ms: n(5)?,
                min_jitter_ms: n(6)?,
                mean_jitter_ms: n(7)?,
                max_jitter_ms: n(8)?,
            })
        })
        .collect()
}

/// A temporary file path unique to this test process.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pbxkit-rtp-{}-{name}", std::process::id()))
}
