//! Shared helpers for the oracle tests: reading the shared test data and EXPECTED.tsv.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use bytes::Bytes;

/// One row of an EXPECTED.tsv.
pub struct Expectation {
    pub file: String,
    pub section: String,
    pub expect: String,
    pub note: String,
}

/// Reads EXPECTED.tsv (columns `file rfc_section expect note`).
pub fn expected(dir: &Path) -> Vec<Expectation> {
    let text = String::from_utf8(testkit::read(&dir.join("EXPECTED.tsv"))).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("file\trfc_section\texpect\tnote"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut c = l.splitn(4, '\t');
            Expectation {
                file: c.next().unwrap().to_owned(),
                section: c.next().unwrap().to_owned(),
                expect: c.next().unwrap().to_owned(),
                note: c.next().unwrap_or("").to_owned(),
            }
        })
        .collect()
}

/// Reads a message file as bytes, byte-exact.
pub fn message(dir: &Path, file: &str) -> Bytes {
    Bytes::from(testkit::read(&dir.join(file)))
}

pub fn dir(what: &str, sub: &str) -> Option<PathBuf> {
    testkit::shared_testdata(what, sub)
}

/// Checks a verdict table against the expectation, honouring a deviation list that must be
/// exact: a deviation that no longer deviates is stale and fails too.
pub fn check_deviations(actual: &[(String, bool, bool)], deviations: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (file, expected_ok, got_ok) in actual {
        let listed = deviations.iter().any(|(f, _)| f == file);
        match (expected_ok == got_ok, listed) {
            (true, true) => failures.push(format!("{file}: stale deviation (now conforms)")),
            (false, false) => failures.push(format!(
                "{file}: expected {}, got {}",
                if *expected_ok { "accept" } else { "reject" },
                if *got_ok { "accept" } else { "reject" }
            )),
            _ => {}
        }
    }
    for (f, _) in deviations {
        if !actual.iter().any(|(file, _, _)| file == f) {
            failures.push(format!("{f}: deviation for an unknown file"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
