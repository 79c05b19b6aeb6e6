//! The text encodings checked by independent parsers: Python's `json` module reads our JSON
//! lines and Wireshark's syslog dissector reads our RFC 5424 messages. Each test skips when its
//! program is missing. (The MIB module is not linted here: Debian's libsmi ships without the
//! IETF base modules such as SNMPv2-SMI, so `smilint` cannot resolve its imports offline.)

use std::io::Write as _;
use std::process::{Command, Stdio};

mod common;

use common::pcap;
use pbxkit_events::{Event, EventKind, NodeId, Timestamp, format};

fn sample() -> Vec<Event> {
    let t = Timestamp::from_unix_secs(1_795_904_456);
    vec![
        Event::builder(EventKind::SipAccountUnavailable, NodeId(1), t)
            .text("provider", "Opérateur \"A\"\\B")
            .text("account", "a]b")
            .code("reason", 1)
            .build()
            .expect("valid"),
        Event::builder(EventKind::Overheating470, NodeId(4), t)
            .unsigned("card_number", 2)
            .signed("temperature", -5)
            .build()
            .expect("valid"),
        Event::builder(EventKind::DosIpBlacklisted, NodeId(1), t)
            .ip("ip_address", "2001:db8::1".parse().expect("ip"))
            .code("cause", 3)
            .build()
            .expect("valid"),
        Event::simple(EventKind::SystemRestarted, NodeId(2), t).expect("valid"),
    ]
}

fn python() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn json_lines_parse_in_python() {
    let Some(py) = python() else {
        testkit::peer_available(false, "python3");
        return;
    };
    let events = sample();
    let mut input = String::new();
    for ev in &events {
        input.push_str(&format::json_line(ev));
        input.push('\n');
    }
    // Python re-emits selected fields, tab-separated, one line per object.
    let script = "import json,sys\nfor l in sys.stdin:\n    o=json.loads(l)\n    d=o['details']\n    print('\\t'.join([o['id'],o['severity'],str(o['node']),o['at'],json.dumps(d,sort_keys=True,ensure_ascii=False)]))\n";
    let mut child = Command::new(py)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "python rejected our JSON: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0][..4],
        [
            "sip_account_unavailable",
            "critical",
            "1",
            "2026-11-28T22:20:56.000Z"
        ]
    );
    assert_eq!(
        lines[0][4],
        r#"{"account": "a]b", "provider": "Opérateur \"A\"\\B", "reason": 1, "reason_meaning": "not_authorised"}"#
    );
    assert_eq!(lines[1][4], r#"{"card_number": 2, "temperature": -5}"#);
    assert_eq!(
        lines[2][4],
        r#"{"cause": 3, "cause_meaning": "modified_message", "ip_address": "2001:db8::1"}"#
    );
    assert_eq!(lines[3][..3], ["system_restarted", "critical", "2"]);
}

#[test]
fn syslog_decodes_in_tshark() {
    if !testkit::peer("tshark") {
        return;
    }
    let events = sample();
    let payloads: Vec<Vec<u8>> = events
        .iter()
        .map(|ev| {
            format::syslog_line(ev, format::FACILITY_LOCAL0, "pbx.example.org", "pbxkit")
                .into_bytes()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("pbxkit-events-{}-syslog", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("syslog.pcap");
    std::fs::write(&file, pcap(&payloads, 514)).expect("write");
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args(["-T", "fields", "-E", "separator=|"])
        .args([
            "-e",
            "syslog.facility",
            "-e",
            "syslog.level",
            "-e",
            "syslog.version",
            "-e",
            "syslog.hostname",
        ])
        .args([
            "-e",
            "syslog.appname",
            "-e",
            "syslog.msgid",
            "-e",
            "syslog.timestamp",
        ])
        .stderr(Stdio::null())
        .output()
        .expect("tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), 4, "{text}");
    // local0 = 16; critical -> 2, important -> 4.
    assert_eq!(
        rows[0][..5],
        ["16", "2", "1", "pbx.example.org", "pbxkit"],
        "{text}"
    );
    // Wireshark's dissector leaves the structured data and message inside its msgid field.
    assert!(
        rows[0][5]
            .starts_with("sip_account_unavailable [event@32473 id=\"sip_account_unavailable\""),
        "{text}"
    );
    assert_eq!(rows[2][1], "4", "dos_ip_blacklisted is important: {text}");
    assert!(rows[0][6].starts_with("Nov 28, 2026 22:20:56"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}
