//! AIN across real processes on loopback: one master and two satellites (`ain_node`), short
//! timers from the CLI. MV-23 (config reaches all), MV-24 / MV2-29 (master lost → offline,
//! master back → online again).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ain_node");
const TIMERS: [&str; 4] = ["--heartbeat-ms", "200", "--timeout-ms", "1000"];

/// A node process killed on drop, with its stdout lines on a channel.
struct Node {
    child: Child,
    lines: Receiver<String>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .args(TIMERS)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ain_node");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits (bounded) for a line starting with `prefix`; returns it.
    fn expect(&self, prefix: &str) -> String {
        let end = Instant::now() + Duration::from_secs(8);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no line starting with {prefix:?}");
    }
}

fn master(listen: &str, cfg: &str) -> Node {
    let args = [
        "master",
        "--listen",
        listen,
        "--nodes",
        "1=EID-1,2=EID-2",
        "--config-file",
        cfg,
    ];
    Node::start(&args)
}

#[test]
fn mv23_mv24_master_config_kill_and_restart() {
    let dir = std::env::temp_dir().join(format!("pbxkit-ain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let cfg = dir.join("ain.cfg");
    std::fs::write(&cfg, "v1").expect("write config");
    let cfg = cfg.to_str().expect("utf-8 path");

    let m = master("127.0.0.1:0", cfg);
    let addr = m
        .expect("listening ")
        .trim_start_matches("listening ")
        .to_owned();
    let sat = |n: &str| {
        Node::start(&[
            "satellite",
            "--master",
            &addr,
            "--node",
            n,
            "--eid",
            &format!("EID-{n}"),
        ])
    };
    let (s1, s2) = (sat("1"), sat("2"));
    for s in [&s1, &s2] {
        s.expect("online");
        assert_eq!(s.expect("config "), "config 1 v1");
    }
    // MV-23: a change authored on the master reaches both satellites.
    std::fs::write(cfg, "v2").expect("write config");
    for s in [&s1, &s2] {
        assert_eq!(s.expect("config "), "config 2 v2");
    }
    // MV-24: killing the master puts both satellites offline after the timeout, keeping v2.
    drop(m);
    for s in [&s1, &s2] {
        assert_eq!(s.expect("offline"), "offline 2");
    }
    // MV2-29: a restarted master on the same address brings them back online. It goes on
    // from the version it persisted, so the next change is version 3 on both satellites.
    let m = master(&addr, cfg);
    assert_eq!(m.expect("restored "), "restored 2");
    m.expect("listening ");
    for s in [&s1, &s2] {
        s.expect("online");
    }
    m.expect("joined ");
    m.expect("joined ");
    std::fs::write(cfg, "v3").expect("write config");
    assert_eq!(m.expect("authored "), "authored 3");
    for s in [&s1, &s2] {
        assert_eq!(s.expect("config "), "config 3 v3");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
