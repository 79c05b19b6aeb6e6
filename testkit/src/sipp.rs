//! Running SIPp (Debian `sip-tester`) as an independent peer: bounded runs on loopback and
//! their statistics.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A free UDP port on 127.0.0.1 (bound, then released).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// A scenario file shipped in the workspace's `examples/sipp/`.
pub fn scenario(name: &str) -> String {
    crate::workspace_root()
        .join("examples/sipp")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A SIPp run's exit code and final statistics row (column name, value).
#[derive(Debug)]
pub struct Run {
    /// SIPp's exit code (0: every call succeeded).
    pub code: i32,
    /// The last row of `-trace_stat`, by column.
    pub stats: Vec<(String, String)>,
}

impl Run {
    /// A counter such as `SuccessfulCall(C)`; panics when absent.
    pub fn stat(&self, name: &str) -> u64 {
        self.stats
            .iter()
            .find(|(h, _)| h == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from SIPp statistics: {:?}", self.stats))
    }
}

fn command(dir: &Path, target: &str, local_port: u16, args: &[&str]) -> Command {
    let mut c = Command::new("timeout");
    c.arg("90")
        .arg("sipp")
        .arg(target)
        .args(["-i", "127.0.0.1", "-nostdin", "-trace_stat"])
        .args(["-timeout", "60", "-timeout_error"])
        .args(["-p", &local_port.to_string()])
        .arg("-stf")
        .arg(dir.join(format!("stat-{local_port}.csv")))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn stats(dir: &Path, local_port: u16) -> Vec<(String, String)> {
    let path: PathBuf = dir.join(format!("stat-{local_port}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
    let last: Vec<&str> = lines.last().unwrap_or("").split(';').collect();
    header
        .iter()
        .zip(last)
        .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
        .collect()
}

/// Runs SIPp against `target` from `local_port` with `args` (scenario, counts, rate...) in
/// `dir`, bounded to 90 s, and waits for it.
pub fn run(dir: &Path, target: &str, local_port: u16, args: &[&str]) -> Run {
    let status = command(dir, target, local_port, args)
        .status()
        .expect("run sipp");
    Run {
        code: status.code().unwrap_or(-1),
        stats: stats(dir, local_port),
    }
}

/// A SIPp run in the background (e.g. a `uas`); killed on drop.
#[derive(Debug)]
pub struct Background {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Background {
    /// Starts SIPp like [`run`] without waiting.
    pub fn start(dir: &Path, target: &str, local_port: u16, args: &[&str]) -> Self {
        let child = command(dir, target, local_port, args)
            .spawn()
            .expect("start sipp");
        Self {
            child,
            dir: dir.to_owned(),
            port: local_port,
        }
    }

    /// Waits for it to end and returns its run.
    pub fn wait(mut self) -> Run {
        let status = self.child.wait().expect("wait sipp");
        Run {
            code: status.code().unwrap_or(-1),
            stats: stats(&self.dir, self.port),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
