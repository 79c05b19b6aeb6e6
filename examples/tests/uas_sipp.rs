//! SIPp (Debian `sip-tester`) as the independent peer of the `uas` example: its built-in
//! `uac` scenario places calls (INVITE, 200 + SDP, ACK, BYE, 200) through our sans-IO
//! transaction layer and endpoint over UDP on loopback (RFC 3261 §13, §15, §17; MV-29..35
//! build on this layer). Bounded in calls, rate and time; children are killed on drop.

use std::io::{BufRead as _, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Uas(Child);

impl Drop for Uas {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `uas` on an ephemeral port and returns it with its address.
fn start_uas(extra: &[&str]) -> (Uas, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_uas"))
        .args(["--bind", "127.0.0.1:0", "--exit-after", "120"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start uas");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("uas prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .to_owned();
    (Uas(child), addr)
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pbxkit-uas-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// Runs SIPp's `uac` against `target`; returns its exit code and the final statistics row.
fn sipp_uac(dir: &Path, target: &str, calls: u32, rate: u32) -> (i32, Vec<(String, String)>) {
    let stats = dir.join("stat.csv");
    let status = Command::new("timeout")
        .arg("90")
        .arg("sipp")
        .args([
            "-sn",
            "uac",
            target,
            "-i",
            "127.0.0.1",
            "-nostdin",
            "-trace_stat",
        ])
        .args(["-timeout", "60", "-timeout_error"])
        .args(["-m", &calls.to_string(), "-r", &rate.to_string()])
        .args(["-p", &free_udp_port().to_string()])
        .arg("-stf")
        .arg(&stats)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run sipp");
    let text = std::fs::read_to_string(&stats).expect("sipp statistics file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(';').collect();
    let last: Vec<&str> = lines.last().expect("a statistics row").split(';').collect();
    let row = header
        .iter()
        .zip(last)
        .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
        .collect();
    (status.code().unwrap_or(-1), row)
}

fn stat(row: &[(String, String)], name: &str) -> u64 {
    row.iter()
        .find(|(h, _)| h == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from SIPp statistics"))
}

#[test]
fn sipp_uac_calls_complete_against_uas() {
    if !testkit::peer("sipp") {
        return;
    }
    let (_uas, addr) = start_uas(&[]);
    let dir = scratch("ok");
    let (code, row) = sipp_uac(&dir, &addr, 1000, 200);
    assert_eq!(stat(&row, "SuccessfulCall(C)"), 1000, "{row:?}");
    assert_eq!(stat(&row, "FailedCall(C)"), 0, "{row:?}");
    assert_eq!(stat(&row, "FailedUnexpectedMessage(C)"), 0, "{row:?}");
    assert_eq!(code, 0, "sipp exit code");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sipp_uac_sees_486_from_a_busy_uas() {
    // SIPp's uac expects 200: each 486 Busy Here is an "unexpected message" failure.
    if !testkit::peer("sipp") {
        return;
    }
    let (_uas, addr) = start_uas(&["--busy"]);
    let dir = scratch("busy");
    let (code, row) = sipp_uac(&dir, &addr, 20, 50);
    assert_eq!(stat(&row, "SuccessfulCall(C)"), 0, "{row:?}");
    assert_eq!(stat(&row, "FailedUnexpectedMessage(C)"), 20, "{row:?}");
    assert_ne!(code, 0);
    let _ = std::fs::remove_dir_all(dir);
}
