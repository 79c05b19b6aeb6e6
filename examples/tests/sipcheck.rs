//! The `sipcheck` command on the RFC 4475 and RFC 5118 torture messages: its
//! verdicts must follow each suite's `EXPECTED.tsv` (`reject` -> error,
//! `parse` and `parse_semantic` -> ok).

use std::path::Path;
use std::process::Command;

use testkit::shared_testdata;

fn check_suite(what: &str, sub: &str) {
    let Some(dir) = shared_testdata(what, sub) else {
        return;
    };
    let table = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let rows: Vec<(String, String)> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_owned(), f.nth(1)?.to_owned()))
        })
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args(rows.iter().map(|(file, _)| dir.join(file)))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), rows.len(), "one line per file");
    for ((file, expect), line) in rows.iter().zip(&lines) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert!(Path::new(fields[0]).ends_with(file), "{line}");
        let want = if expect == "reject" { "error" } else { "ok" };
        assert_eq!(fields[1], want, "{file} ({expect}): {line}");
        assert!(!fields[2].is_empty(), "{line}");
    }
    eprintln!(
        "sipcheck {what}: {}/{} verdicts as expected",
        lines.len(),
        rows.len()
    );
}

#[test]
fn mv_29_rfc4475_verdicts() {
    check_suite("sipcheck rfc4475", "sip/rfc4475");
}

#[test]
fn rfc5118_verdicts() {
    check_suite("sipcheck rfc5118", "sip/rfc5118");
}

#[test]
fn reports_method_and_status_and_fails_only_on_unreadable_files() {
    let dir = std::env::temp_dir().join(format!("pbxkit-sipcheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let request = dir.join("options.sip");
    std::fs::write(
        &request,
        b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
Max-Forwards: 70\r\nTo: <sip:a@example.com>\r\nFrom: <sip:b@example.com>;tag=1\r\n\
Call-ID: x1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let response = dir.join("ok.sip");
    std::fs::write(
        &response,
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
To: <sip:a@example.com>;tag=2\r\nFrom: <sip:b@example.com>;tag=1\r\n\
Call-ID: x1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let garbage = dir.join("garbage.sip");
    std::fs::write(&garbage, b"\x00\x01not sip\tat all\r\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args([&request, &response, &garbage])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(verdicts[0][1..], ["ok", "OPTIONS"]);
    assert_eq!(verdicts[1][1..], ["ok", "200"]);
    assert_eq!(verdicts[2][1], "error");
    assert_eq!(verdicts[2].len(), 3);

    let out = Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .arg(&request)
        .arg(dir.join("does-not-exist.sip"))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
}
