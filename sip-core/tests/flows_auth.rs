//! RFC 3665 §3.2 (session establishment with proxy authentication) on the simulated network:
//! F1 INVITE, F2 407 Proxy Authentication Required, F3 ACK (sent by the INVITE client
//! transaction, RFC 3261 §17.1.1.3), F4 INVITE with Proxy-Authorization (RFC 3261 §22.3,
//! CSeq + 1, same Call-ID and From tag), 200, ACK, BYE. The authenticating proxy is collapsed
//! into the callee, which checks credentials with `digest::DigestServer` in proxy mode (RFC 7616).

mod flows_common;

use flows_common::*;
use pbxkit_sip_core::dialog::Dialog;
use pbxkit_sip_core::digest::{self, Algorithm, DigestServer, ServerConfig};
use pbxkit_sip_core::endpoint::Event;
use pbxkit_sip_core::header::ProxyAuthenticate;
use pbxkit_sip_core::transaction::TxId;
use pbxkit_sip_core::{HeaderName, Message, Method, RequestBuilder};

const REALM: &str = "atlanta.example.com";

fn invite(l: &mut Ladder, seq: u32, auth: Option<String>) -> Message {
    let (t, s, b) = l.via(ALICE);
    let mut rb = RequestBuilder::new(Method::Invite, &format!("sip:bob@{BOB}"))
        .via(&t, &s, &b)
        .from("Alice <sip:alice@atlanta.example.com>", "9fxced76sl")
        .to(&format!("Bob <sip:bob@{BOB}>"))
        .call_id("3848276298220188511@atlanta.example.com")
        .cseq(seq)
        .max_forwards(70)
        .contact(&format!("<sip:alice@{ALICE}>"));
    if let Some(a) = auth {
        rb = rb.header(HeaderName::ProxyAuthorization, &a);
    }
    rb.body("application/sdp", sdp("sendrecv").into_bytes())
        .build()
        .expect("valid")
}

/// Bob (as the proxy) checks the INVITE; answers 407 with challenges or accepts it.
fn check(l: &mut Ladder, server: &mut DigestServer, tx: TxId, req: &Message) -> bool {
    let ha1 = |user: &str, alg: Algorithm| {
        (user == "alice").then(|| digest::ha1(alg, "alice", REALM, "wonderland"))
    };
    match server.verify(0, req, ha1) {
        Ok(v) => {
            assert_eq!(v.username, "alice");
            true
        }
        Err(_) => {
            let ch = server.challenges(0, false);
            l.reply(BOB, tx, server.status().0, &ch, None);
            false
        }
    }
}

/// Alice answers the first Proxy-Authenticate of a 407 (the preferred algorithm, SHA-256).
fn answer(r407: &Message, password: &str) -> String {
    let ch: ProxyAuthenticate<'_> = r407
        .header_all::<ProxyAuthenticate<'_>>()
        .next()
        .expect("a challenge")
        .expect("valid");
    assert_eq!(ch.algorithm().as_deref(), Some("SHA-256"));
    digest::authorization(
        &ch,
        "alice",
        password,
        "INVITE",
        &format!("sip:bob@{BOB}"),
        "0a4f113b",
        1,
    )
    .expect("answerable")
}

fn proxy_server() -> DigestServer {
    let mut cfg = ServerConfig::new(REALM);
    cfg.proxy = true;
    DigestServer::new(cfg, b"proxy secret")
}

#[test]
fn rfc3665_3_2_invite_with_proxy_authentication() {
    let mut l = Ladder::new();
    let mut server = proxy_server();
    // F1/F2/F3
    let f1 = invite(&mut l, 1, None);
    let tx1 = l.send(ALICE, BOB, f1);
    let (stx1, req1) = l.request(BOB, Method::Invite);
    assert!(!check(&mut l, &mut server, stx1, &req1));
    let r407 = l.response(ALICE, tx1, 407);
    // The transaction's ACK for the 407 reaches Bob's server transaction and is absorbed
    // there (it is no end-to-end ACK event, RFC 3261 §17.2.1).
    let later = l.now() + std::time::Duration::from_millis(100);
    l.advance_to(later);
    assert_eq!(l.count(BOB, |e| matches!(e, Event::Ack { .. })), 0);
    // F4: CSeq + 1 with credentials.
    let f4 = invite(&mut l, 2, Some(answer(&r407, "wonderland")));
    let tx4 = l.send(ALICE, BOB, f4.clone());
    let (stx4, req4) = l.request(BOB, Method::Invite);
    assert_eq!(req4.cseq().expect("cseq").seq, 2);
    assert!(
        check(&mut l, &mut server, stx4, &req4),
        "credentials accepted"
    );
    let tag = l.ep(BOB).to_tag(stx4).expect("tag").to_owned();
    let mut b = Dialog::uas(&req4, &tag).expect("uas");
    l.reply(
        BOB,
        stx4,
        200,
        &[],
        Some(("application/sdp", sdp("sendrecv"))),
    );
    let ok = l.response(ALICE, tx4, 200);
    let mut a = Dialog::uac(&f4, &ok).expect("uac");
    l.send_ack(&a, ALICE, BOB, 2);
    let ack = l.ack(BOB, "3848276298220188511@atlanta.example.com", 2);
    b.on_request(&ack).expect("ACK");
    let (btx, bye) = l.in_dialog(&mut a, ALICE, BOB, Method::Bye, &[], None);
    assert_eq!(bye.cseq().expect("cseq").seq, 3);
    let (sbtx, got) = l.request(BOB, Method::Bye);
    b.on_request(&got).expect("BYE");
    l.reply(BOB, sbtx, 200, &[], None);
    l.response(ALICE, btx, 200);
}

#[test]
fn wrong_password_is_challenged_again() {
    let mut l = Ladder::new();
    let mut server = proxy_server();
    let f1 = invite(&mut l, 1, None);
    let tx1 = l.send(ALICE, BOB, f1);
    let (stx1, req1) = l.request(BOB, Method::Invite);
    assert!(!check(&mut l, &mut server, stx1, &req1));
    let r407 = l.response(ALICE, tx1, 407);
    let f4 = invite(&mut l, 2, Some(answer(&r407, "looking-glass")));
    let tx4 = l.send(ALICE, BOB, f4);
    let (stx4, req4) = l.request(BOB, Method::Invite);
    assert!(
        !check(&mut l, &mut server, stx4, &req4),
        "wrong password refused"
    );
    l.response(ALICE, tx4, 407);
}
