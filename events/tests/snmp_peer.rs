//! SNMPv2c trap encoding checked by real peers (EV-27, MV2-10):
//! Wireshark's dissector (`tshark`) decodes a captured trap, and Net-SNMP's `snmptrapd`
//! receives one over loopback UDP. Each test skips when its program is missing.

mod common;

use std::io::Write as _;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use pbxkit_events::{Event, EventKind, NodeId, Timestamp, snmp};

fn trap_event() -> Event {
    Event::builder(
        EventKind::FanFailure470,
        NodeId(2),
        Timestamp::from_unix_secs(1_795_904_456),
    )
    .code("parameter_1", 1)
    .unsigned("parameter_2_defective_fan_number", 2)
    .build()
    .expect("valid")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pbxkit-events-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn ev27_trap_decodes_in_tshark() {
    if !testkit::peer("tshark") {
        return;
    }
    let ev = trap_event();
    let trap = snmp::event_trap(&ev, b"public", 4242, 12_345);
    let dir = scratch("tshark");
    let file = dir.join("trap.pcap");
    std::fs::write(&file, common::pcap(&[trap], 162)).expect("write pcap");
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(&file)
        .args([
            "-d",
            "udp.port==162,snmp",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=;",
        ])
        .args([
            "-e",
            "snmp.version",
            "-e",
            "snmp.community",
            "-e",
            "snmp.request_id",
            "-e",
            "snmp.name",
        ])
        .args([
            "-e",
            "snmp.value.oid",
            "-e",
            "snmp.value.timeticks",
            "-e",
            "snmp.value.int",
            "-e",
            "snmp.value.octets",
        ])
        .args(["-e", "snmp.value.g32", "-e", "_ws.expert"])
        .stderr(Stdio::null())
        .output()
        .expect("run tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let cols: Vec<&str> = text.trim_end().split('|').collect();
    assert!(cols.len() >= 9, "tshark output: {text}");
    assert_eq!(cols[0], "1", "v2c");
    assert_eq!(cols[1], "public");
    assert_eq!(cols[2], "4242");
    let names: Vec<&str> = cols[3].split(';').collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(names[0], "1.3.6.1.2.1.1.3.0");
    assert_eq!(names[1], "1.3.6.1.6.3.1.1.4.1.0");
    assert_eq!(names[2], "1.3.6.1.4.1.32473.1.1.1.1.0");
    let kind_arc = EventKind::FanFailure470.index() + 1;
    assert_eq!(cols[4], format!("1.3.6.1.4.1.32473.1.1.0.{kind_arc}"));
    assert_eq!(cols[5], "12345");
    assert_eq!(cols[6], "3;1", "severity critical(3), polarity negative(1)");
    let octets: Vec<String> = cols[7]
        .split(';')
        .map(|h| {
            let bytes: Vec<u8> = (0..h.len() / 2)
                .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect();
    assert_eq!(octets[0], "fan_failure_470");
    assert_eq!(octets[1], "2026-11-28T22:20:56.000Z");
    assert_eq!(
        octets[3],
        "parameter_1=1; parameter_2_defective_fan_number=2"
    );
    assert_eq!(cols[8], "2;1", "node 2, occurrence 1");
    assert!(
        cols.get(9).is_none_or(|e| e.is_empty()),
        "no malformed-packet expert info: {}",
        cols[9]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[allow(clippy::disallowed_methods)] // Waits for a real external process (snmptrapd).
fn ev27_trap_received_by_snmptrapd() {
    let Some(bin) = ["/usr/sbin/snmptrapd", "snmptrapd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file() || testkit::have_program(p))
    else {
        testkit::peer_available(false, "snmptrapd");
        return;
    };
    let dir = scratch("snmptrapd");
    let conf = dir.join("snmptrapd.conf");
    let log = dir.join("traps.log");
    std::fs::write(&conf, "authCommunity log public\ndisableAuthorization no\n").expect("conf");
    // Pick a free UDP port.
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut child = Command::new(bin)
        .args(["-f", "-n", "-On", "-C", "-c"])
        .arg(&conf)
        .arg("-Lf")
        .arg(&log)
        .arg(format!("udp:127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn snmptrapd");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let trap = snmp::event_trap(&trap_event(), b"public", 7, 100);
    let expected_oid = format!(
        ".1.3.6.1.4.1.32473.1.1.0.{}",
        EventKind::FanFailure470.index() + 1
    );
    let mut seen = String::new();
    // snmptrapd needs a moment to bind: resend until it logs (at most ~5 s).
    for _ in 0..50 {
        let _ = sock.send_to(&trap, ("127.0.0.1", port));
        std::thread::sleep(Duration::from_millis(100));
        seen = std::fs::read_to_string(&log).unwrap_or_default();
        if seen.contains(&expected_oid) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::io::stderr().flush();
    assert!(seen.contains(&expected_oid), "snmptrapd log: {seen}");
    assert!(seen.contains("fan_failure_470"), "snmptrapd log: {seen}");
    assert!(
        seen.contains("parameter_2_defective_fan_number=2"),
        "snmptrapd log: {seen}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
