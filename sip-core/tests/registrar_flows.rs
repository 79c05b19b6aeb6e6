//! The registrar core against RFC 3261 §10.3 and the RFC 3665 §2 registration flows
//! (successful new registration, update of contact list, request for current contact list,
//! cancellation, unsuccessful), with licence admission at registration (MV-13, MV-29).

mod txn_common;

use std::net::SocketAddr;

use pbxkit_sip_core::location::{
    Admission, EndReason, Registrar, RegistrarConfig, RegistrarEvent, Reply, address_of_record,
};
use pbxkit_sip_core::transaction::Transport;
use pbxkit_sip_core::{HeaderName, Message};
use txn_common::*;

fn register(call_id: &str, cseq: u32, contacts: &[&str], expires: Option<u32>) -> Message {
    let mut raw = format!(
        "REGISTER sip:biloxi.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n\
         Max-Forwards: 70\r\n\
         From: Bob <sip:bob@biloxi.example.com>;tag=a73kszlfl\r\n\
         To: Bob <sip:bob@Biloxi.example.com>\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
    );
    for c in contacts {
        raw.push_str(&format!("Contact: {c}\r\n"));
    }
    if let Some(e) = expires {
        raw.push_str(&format!("Expires: {e}\r\n"));
    }
    raw.push_str("Content-Length: 0\r\n\r\n");
    Message::parse(raw.into_bytes()).expect("valid REGISTER")
}

fn source() -> SocketAddr {
    "192.0.2.4:5060".parse().expect("addr")
}

fn run(reg: &mut Registrar, at: std::time::Instant, m: &Message) -> Reply {
    let aor = address_of_record(m).expect("SIP AOR");
    reg.register(at, &aor, m, source(), Transport::Udp, |_, _| {
        Admission::Accept
    })
}

fn contacts(r: &Reply) -> Vec<&str> {
    r.headers
        .iter()
        .filter(|(n, _)| *n == HeaderName::Contact)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn rfc3665_successful_new_registration_update_query_cancel() {
    let t0 = t0();
    let mut reg = Registrar::default();
    // §2.1 (F3/F4): a new binding; the 200 lists it with its expiry; the AOR is normalised.
    let r = run(
        &mut reg,
        t0,
        &register("c1", 2, &["<sip:bob@192.0.2.4>"], Some(7200)),
    );
    assert_eq!(r.code, 200);
    assert_eq!(
        contacts(&r),
        ["<sip:bob@192.0.2.4>;expires=3600"],
        "capped at max_expires"
    );
    assert!(
        matches!(reg.poll_event(), Some(RegistrarEvent::Registered { aor, .. }) if aor == "sip:bob@biloxi.example.com")
    );
    // §2.2: update the contact list (add a second, lower-q contact).
    let r = run(
        &mut reg,
        secs(t0, 10.0),
        &register("c1", 3, &["<sip:bob@192.0.2.5>;q=0.5"], Some(600)),
    );
    assert_eq!(r.code, 200);
    assert_eq!(contacts(&r).len(), 2);
    // §2.3: request for the current list (no Contact) changes nothing.
    let r = run(&mut reg, secs(t0, 20.0), &register("c1", 4, &[], None));
    assert_eq!(contacts(&r).len(), 2);
    let found: Vec<&str> = reg
        .lookup("sip:bob@biloxi.example.com")
        .iter()
        .map(|b| b.contact.as_str())
        .collect();
    assert_eq!(
        found,
        ["sip:bob@192.0.2.4", "sip:bob@192.0.2.5"],
        "highest q first"
    );
    // §2.4: cancellation with `*` and Expires: 0 removes everything.
    while reg.poll_event().is_some() {}
    let r = run(
        &mut reg,
        secs(t0, 30.0),
        &register("c1", 5, &["*"], Some(0)),
    );
    assert_eq!(r.code, 200);
    assert_eq!(reg.counts(), (0, 0));
    let removed = std::iter::from_fn(|| reg.poll_event())
        .filter(|e| {
            matches!(
                e,
                RegistrarEvent::Unregistered {
                    reason: EndReason::Removed,
                    ..
                }
            )
        })
        .count();
    assert_eq!(removed, 2);
}

#[test]
fn rfc3665_unsuccessful_and_section_10_3_rules() {
    let t0 = t0();
    let mut reg = Registrar::default();
    // 423 with Min-Expires for a too-short interval.
    let r = run(
        &mut reg,
        t0,
        &register("c1", 1, &["<sip:bob@192.0.2.4>"], Some(30)),
    );
    assert_eq!(r.code, 423);
    assert_eq!(r.headers, [(HeaderName::MinExpires, "60".to_owned())]);
    // `*` with a non-zero Expires, or beside another contact, is 400 (step 6).
    assert_eq!(
        run(&mut reg, t0, &register("c1", 2, &["*"], Some(60))).code,
        400
    );
    assert_eq!(
        run(
            &mut reg,
            t0,
            &register("c1", 3, &["*", "<sip:x@y>"], Some(0))
        )
        .code,
        400
    );
    // Step 7: same Call-ID with a CSeq not above the stored one is refused.
    assert_eq!(
        run(
            &mut reg,
            t0,
            &register("c1", 10, &["<sip:bob@192.0.2.4>"], None)
        )
        .code,
        200
    );
    assert_eq!(
        run(
            &mut reg,
            t0,
            &register("c1", 10, &["<sip:bob@192.0.2.4>"], None)
        )
        .code,
        400
    );
    // Another Call-ID may update it.
    assert_eq!(
        run(
            &mut reg,
            t0,
            &register("c2", 1, &["<sip:bob@192.0.2.4>"], None)
        )
        .code,
        200
    );
    // A non-SIP To is not an address of record (RFC 4475 §3.3.4: 400).
    let isbn = Message::parse(
        b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <isbn:2983792873>\r\nCall-ID: i\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n".to_vec(),
    )
    .expect("parses");
    assert_eq!(address_of_record(&isbn), None);
}

#[test]
fn bindings_expire_and_keepalives_are_tracked() {
    let t0 = t0();
    let mut reg = Registrar::default();
    run(
        &mut reg,
        t0,
        &register("c1", 1, &["<sip:bob@192.0.2.4>;expires=60"], None),
    );
    reg.keepalive(secs(t0, 30.0), source());
    assert_eq!(
        reg.lookup("sip:bob@biloxi.example.com")[0].last_keepalive,
        Some(secs(t0, 30.0))
    );
    assert_eq!(reg.poll_timeout(), Some(secs(t0, 60.0)));
    while reg.poll_event().is_some() {}
    reg.handle_timeout(secs(t0, 60.0));
    assert_eq!(reg.counts(), (0, 0));
    assert!(matches!(
        reg.poll_event(),
        Some(RegistrarEvent::Unregistered {
            reason: EndReason::Expired,
            ..
        })
    ));
}

#[test]
fn a_contact_that_differs_from_the_source_is_behind_a_nat() {
    let t0 = t0();
    let mut reg = Registrar::default();
    let contacts = [
        "<sip:bob@192.0.2.4>",         // the source itself (port 5060)
        "<sip:bob@10.0.0.7:5062>",     // a private address: rewritten by a NAT
        "<sip:bob@192.0.2.4:5070>",    // the source IP on another port
        "<sip:bob@phone.example.com>", // a name: not comparable
    ];
    run(&mut reg, t0, &register("c1", 1, &contacts, Some(60)));
    let mut nat: Vec<(String, bool)> = reg
        .bindings()
        .map(|(aor, b)| {
            assert_eq!(aor, "sip:bob@biloxi.example.com");
            (b.contact.clone(), b.behind_nat())
        })
        .collect();
    nat.sort();
    assert_eq!(
        nat,
        [
            ("sip:bob@10.0.0.7:5062".to_owned(), true),
            ("sip:bob@192.0.2.4".to_owned(), false),
            ("sip:bob@192.0.2.4:5070".to_owned(), true),
            ("sip:bob@phone.example.com".to_owned(), false),
        ]
    );
}

#[test]
fn mv13_registration_refused_without_a_terminal_licence() {
    // MV-13 / MV2-38: the PBX admits a new device only if a terminal licence is free; a refusal
    // leaves no binding behind. A refresh of an existing binding is not asked again.
    let t0 = t0();
    let mut reg = Registrar::default();
    let m = register("c1", 1, &["<sip:bob@192.0.2.4>"], None);
    let aor = address_of_record(&m).expect("aor");
    let r = reg.register(t0, &aor, &m, source(), Transport::Udp, |_, _| {
        Admission::Refuse(403, "No terminal licence".into())
    });
    assert_eq!((r.code, r.reason.as_str()), (403, "No terminal licence"));
    assert_eq!(reg.counts(), (0, 0));
    assert!(reg.poll_event().is_none());
    assert_eq!(run(&mut reg, t0, &m).code, 200);
    let mut asked = 0;
    let refresh = register("c1", 2, &["<sip:bob@192.0.2.4>"], None);
    reg.register(t0, &aor, &refresh, source(), Transport::Udp, |_, _| {
        asked += 1;
        Admission::Refuse(403, "x".into())
    });
    assert_eq!(asked, 0);
}

#[test]
fn mv29_account_and_contact_limits() {
    // MV-29: the registrar holds a bounded number of accounts; each AOR a bounded number of devices.
    let t0 = t0();
    let mut cfg = RegistrarConfig::default();
    cfg.max_aors = 2;
    cfg.max_contacts_per_aor = 2;
    let mut reg = Registrar::new(cfg);
    for user in ["a", "b", "c"] {
        let m = register("c", 1, &[&format!("<sip:{user}@192.0.2.4>")], None);
        let code = reg
            .register(
                t0,
                &format!("sip:{user}@x"),
                &m,
                source(),
                Transport::Udp,
                |_, _| Admission::Accept,
            )
            .code;
        assert_eq!(code, if user == "c" { 403 } else { 200 }, "{user}");
    }
    let m = register("d", 1, &["<sip:a2@h>", "<sip:a3@h>"], None);
    let code = reg
        .register(t0, "sip:a@x", &m, source(), Transport::Udp, |_, _| {
            Admission::Accept
        })
        .code;
    assert_eq!(code, 403, "a third device for one AOR");
}
