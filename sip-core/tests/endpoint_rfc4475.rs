//! The endpoint's answers to the RFC 4475 `parse_semantic` messages (oracle:
//! `sip/rfc4475/` and its `EXPECTED.tsv` notes): each gets the RFC-mandated response, or
//! reaches the application when the note says an endpoint processes it.

mod txn_common;

use std::collections::BTreeMap;

use pbxkit_sip_core::endpoint::{Config, Endpoint, Event};
use pbxkit_sip_core::{HeaderName, Message};
use txn_common::*;

/// What the endpoint does with one datagram: the status it sends, or `app` when the
/// request reaches the application, or `drop`.
fn outcome(ep: &mut Endpoint, data: Vec<u8>) -> (String, Option<Message>) {
    ep.handle_datagram(t0(), peer(), data);
    let (sent, ev) = drain(ep);
    if ev.iter().any(|e| matches!(e, Event::Request { .. })) {
        return ("app".into(), None);
    }
    // Skip a provisional 100 if one came first. A 400 to a request with a malformed header
    // copies that header (RFC 3261 §8.2.6.2), so read the status from the status line.
    let Some(t) = sent
        .iter()
        .find(|t| !first_line(t).starts_with("SIP/2.0 100 "))
    else {
        return ("drop".into(), None);
    };
    let code = first_line(t).split(' ').nth(1).unwrap_or("?").to_owned();
    (code, Message::parse(t.payload.clone()).ok())
}

#[test]
fn parse_semantic_messages_get_their_rfc_responses() {
    let Some(dir) = testkit::shared_testdata("RFC 4475 endpoint answers", "sip/rfc4475") else {
        return;
    };
    // The endpoint of a UA that is not a registrar (REGISTER is not allowed: 405, as the
    // note of §3.3.7 says for such an endpoint).
    let expected: BTreeMap<&str, &str> = [
        ("insuf.dat", "400"),     // §3.3.1 missing Call-ID, From, To
        ("unkscm.dat", "416"),    // §3.3.2 unknown Request-URI scheme
        ("novelsc.dat", "416"),   // §3.3.3 soap.beep: never accepted here
        ("unksm2.dat", "405"),    // §3.3.4 a REGISTER at a non-registrar
        ("bext01.dat", "420"),    // §3.3.5 unknown Require
        ("invut.dat", "415"),     // §3.3.6 unknown Content-Type
        ("regaut01.dat", "405"),  // §3.3.7 non-registrar endpoint
        ("multi01.dat", "400"),   // §3.3.8 duplicated single-value headers
        ("mcl01.dat", "400"),     // §3.3.9 two Content-Length values
        ("bcast.dat", "drop"),    // §3.3.10 a response matching nothing is discarded
        ("zeromf.dat", "app"),    // §3.3.11 OPTIONS with Max-Forwards 0: processed as usual
        ("cparam01.dat", "405"),  // §3.3.12 REGISTER: registrar's business
        ("cparam02.dat", "405"),  // §3.3.13
        ("regescrt.dat", "405"),  // §3.3.14
        ("sdp01.dat", "406"),     // §3.3.15 Accept excludes SDP
        ("inv2543.dat", "app"),   // §3.4.1 RFC 2543 INVITE accepted (2543 matching)
        ("badbranch.dat", "app"), // §3.2.1 empty branch: RFC 2543 fallback matching
    ]
    .into();
    let tsv = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    let semantic: Vec<&str> = tsv
        .lines()
        .filter(|l| l.split('\t').nth(2) == Some("parse_semantic"))
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(
        semantic.len(),
        expected.len(),
        "every parse_semantic case is covered"
    );
    let mut failures = Vec::new();
    for file in semantic {
        let mut ep = Endpoint::new(Config::default(), 7);
        let (got, msg) = outcome(&mut ep, testkit::read(&dir.join(file)));
        let want = expected.get(file).copied().unwrap_or("?");
        if got != want {
            failures.push(format!("{file}: got {got}, want {want}"));
            continue;
        }
        let Some(msg) = msg else { continue };
        match want {
            "405" => assert!(msg.contains(HeaderName::Allow), "{file}: 405 lists Allow"),
            "415" => assert!(msg.contains(HeaderName::Accept), "{file}: 415 lists Accept"),
            "420" => {
                let tags: Vec<&str> = msg.values(HeaderName::Unsupported).collect();
                assert!(!tags.is_empty(), "{file}: 420 lists Unsupported");
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn registrar_endpoint_passes_register_cases_to_the_application() {
    // With REGISTER allowed, §3.3.12–14 are the registrar's to process (not refused here).
    let Some(dir) = testkit::shared_testdata("RFC 4475 endpoint answers", "sip/rfc4475") else {
        return;
    };
    let mut config = Config::default();
    config.allow.push("REGISTER".into());
    for file in [
        "cparam01.dat",
        "cparam02.dat",
        "regescrt.dat",
        "regaut01.dat",
    ] {
        let mut ep = Endpoint::new(config.clone(), 7);
        let (got, _) = outcome(&mut ep, testkit::read(&dir.join(file)));
        assert_eq!(got, "app", "{file}");
    }
}

#[test]
fn every_rfc4475_message_is_answered_or_passed_without_panic() {
    // The `reject` messages that are requests get an error response; nothing panics.
    let Some(dir) = testkit::shared_testdata("RFC 4475 endpoint answers", "sip/rfc4475") else {
        return;
    };
    let tsv = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    for line in tsv.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(file), _, Some(expect)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let mut ep = Endpoint::new(Config::default(), 7);
        let (got, _) = outcome(&mut ep, testkit::read(&dir.join(file)));
        if expect == "reject" && got != "drop" {
            let code: u16 = got.parse().unwrap_or(0);
            assert!(
                (400..600).contains(&code),
                "{file}: rejected request answered {got}"
            );
        }
    }
}
