//! Running example binaries and SIPp on loopback, bounded, killed on drop.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A child process killed on drop.
pub(crate) struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `bin` with `args`; it must print `listening on ADDR` first. Returns it and ADDR.
pub(crate) fn start(bin: &str, args: &[&str]) -> (Running, String) {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start example");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the example prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .to_owned();
    (Running(child), addr)
}

pub(crate) fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port")
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pbxkit-ex-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// Runs SIPp against `target` with `args` (scenario, calls, rate...) in `dir`, bounded to
/// 90 s; returns its exit code and the final row of its statistics file by column name.
pub(crate) fn sipp(dir: &Path, target: &str, args: &[&str]) -> (i32, Vec<(String, String)>) {
    let stats = dir.join("stat.csv");
    let status = Command::new("timeout")
        .arg("90")
        .arg("sipp")
        .arg(target)
        .args(["-i", "127.0.0.1", "-nostdin", "-trace_stat"])
        .args(["-timeout", "60", "-timeout_error"])
        .args(["-p", &free_udp_port().to_string()])
        .arg("-stf")
        .arg(&stats)
        .args(args)
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

/// A counter from [`sipp`]'s statistics row.
pub(crate) fn stat(row: &[(String, String)], name: &str) -> u64 {
    row.iter()
        .find(|(h, _)| h == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from SIPp statistics"))
}

/// A scenario file shipped in `examples/sipp/`.
pub(crate) fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sipp")
        .join(name)
        .to_string_lossy()
        .into_owned()
}
