//! PROTOS c07-sip robustness suite (oracle: `sip/protos/`, materialised by its own
//! `materialize.py`): 4,527 INVITEs and their CANCELs, each fed as one datagram.
//!
//! Hard gate: no panic, a message or a typed error for every case, case 0 parses.
//! Per-group gate: php-sip's verdicts from `groups.tsv`, with every deliberate difference
//! listed in `tests/data/protos-deviations.tsv` (group, verdict, cases, RFC reason). The list
//! is exact: a new difference fails, and so does a listed case that no longer differs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use pbxkit_sip_core::{Frame, Message, StreamFramer};

struct Materialized(PathBuf);

impl Drop for Materialized {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn materialize(protos: &Path) -> Option<Materialized> {
    if !testkit::have_program("python3") {
        eprintln!("SKIP protos: python3 not found (needed to run materialize.py)");
        return None;
    }
    let out = std::env::temp_dir().join(format!("pbxkit-sip-protos-{}", std::process::id()));
    let status = Command::new("python3")
        .arg(protos.join("materialize.py"))
        .arg(&out)
        .arg("--teardown")
        .status()
        .expect("run materialize.py");
    assert!(status.success(), "materialize.py failed");
    Some(Materialized(out))
}

/// Parses `a-b,c` into a set.
fn ranges(s: &str) -> BTreeSet<u32> {
    let mut set = BTreeSet::new();
    for part in s.split(',').filter(|p| !p.is_empty() && *p != "-") {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        set.extend(lo.parse::<u32>().unwrap()..=hi.parse::<u32>().unwrap());
    }
    set
}

fn compact(set: &BTreeSet<u32>) -> String {
    let mut out = Vec::new();
    let mut it = set.iter().copied().peekable();
    while let Some(lo) = it.next() {
        let mut hi = lo;
        while it.peek() == Some(&(hi + 1)) {
            hi = it.next().unwrap_or(hi);
        }
        out.push(if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        });
    }
    out.join(",")
}

#[test]
fn protos_c07_sip_all_cases() {
    let Some(protos) = common::dir("protos", "sip/protos") else {
        return;
    };
    let Some(out) = materialize(&protos) else {
        return;
    };
    let expect = String::from_utf8(testkit::read(&out.0.join("expect.tsv"))).unwrap();
    let mut deviating: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
    let (mut total, mut ok, mut any) = (0, 0, 0);
    for line in expect.lines().skip(1) {
        let mut c = line.split('\t');
        let (case, group, verdict) = (c.next().unwrap(), c.next().unwrap(), c.next().unwrap());
        let n: u32 = case.parse().unwrap();
        let invite = Bytes::from(testkit::read(&out.0.join(format!("{case}.sip"))));
        let teardown = Bytes::from(testkit::read(&out.0.join(format!("{case}.teardown.sip"))));
        let result = Message::parse(invite.clone());
        if let Ok(m) = &result {
            // Accepted messages print and re-parse.
            let p = m.to_bytes();
            assert_eq!(
                Message::parse(p.clone()).unwrap().to_bytes(),
                p,
                "case {case}"
            );
        } else if let Err(e) = &result {
            let _ = (e.status_code(), e.to_string(), e.message());
        }
        // The CANCEL is handled too (no panic; its verdict is not part of the gate).
        let _ = Message::parse(teardown);
        // And the INVITE over a stream, in two chunks: no panic, bounded buffering.
        let mut f = StreamFramer::default();
        let mid = invite.len() / 2;
        f.push(&invite[..mid]);
        let _ = f.next_frame();
        f.push(&invite[mid..]);
        while let Ok(Frame::Message(_) | Frame::Invalid(_) | Frame::Ping) = f.next_frame() {}
        total += 1;
        ok += usize::from(result.is_ok());
        if n == 0 {
            assert!(
                result.is_ok(),
                "case 0 (the valid INVITE) must parse: {result:?}"
            );
        }
        let want_ok = match verdict {
            "MUST_PASS" => true,
            "MUST_FAIL" => false,
            _ => {
                any += 1;
                continue;
            }
        };
        if want_ok != result.is_ok() {
            deviating
                .entry((group.to_owned(), verdict.to_owned()))
                .or_default()
                .insert(n);
        }
    }
    assert_eq!(total, 4527);
    // Compare with the checked deviation list.
    let listed_text = include_str!("data/protos-deviations.tsv");
    let mut listed: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
    for line in listed_text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut c = line.split('\t');
        let group = c.next().unwrap().to_owned();
        let verdict = c.next().unwrap().to_owned();
        let cases = ranges(c.next().unwrap());
        let reason = c.next().unwrap_or("");
        assert!(!reason.is_empty(), "{group}: a deviation needs its reason");
        listed.entry((group, verdict)).or_default().extend(cases);
    }
    let mut report = Vec::new();
    for key in deviating
        .keys()
        .chain(listed.keys())
        .collect::<BTreeSet<_>>()
    {
        let got = deviating.get(key).cloned().unwrap_or_default();
        let want = listed.get(key).cloned().unwrap_or_default();
        let new: BTreeSet<_> = got.difference(&want).copied().collect();
        let stale: BTreeSet<_> = want.difference(&got).copied().collect();
        if !new.is_empty() {
            report.push(format!("{}\t{}\tnew: {}", key.0, key.1, compact(&new)));
        }
        if !stale.is_empty() {
            report.push(format!("{}\t{}\tstale: {}", key.0, key.1, compact(&stale)));
        }
    }
    let n_dev: usize = deviating.values().map(BTreeSet::len).sum();
    eprintln!(
        "protos: {total} cases, {ok} accepted, {} rejected, {any} ANY, {n_dev} listed deviations",
        total - ok
    );
    assert!(
        report.is_empty(),
        "PROTOS deviations changed:\n{}",
        report.join("\n")
    );
}
