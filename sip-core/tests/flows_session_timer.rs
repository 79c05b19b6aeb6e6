//! Session timers on the simulated network (RFC 4028): 422 and retry with the Min-SE, the
//! negotiated interval, an UPDATE refresh (RFC 3311) at half the interval, and the BYE the
//! non-refresher sends when refreshes stop. Virtual time: minutes run in milliseconds.

mod flows_common;

use std::time::Duration;

use flows_common::*;
use pbxkit_sip_core::dialog::*;
use pbxkit_sip_core::{HeaderName, Message, Method, RequestBuilder};

fn invite(l: &mut Ladder, seq: u32, se: u32) -> Message {
    let (t, s, b) = l.via(ALICE);
    RequestBuilder::new(Method::Invite, &format!("sip:u@{BOB}"))
        .via(&t, &s, &b)
        .from(&format!("<sip:u@{ALICE}>"), "a-st")
        .to(&format!("<sip:u@{BOB}>"))
        .call_id("st-1")
        .cseq(seq)
        .max_forwards(70)
        .contact(&format!("<sip:u@{ALICE}>"))
        .header(HeaderName::Supported, TAG_TIMER)
        .header(HeaderName::SessionExpires, &se.to_string())
        .header(HeaderName::MinSe, &se.to_string())
        .body("application/sdp", sdp("sendrecv").into_bytes())
        .build()
        .expect("valid")
}

/// Bob's answer to a session-refresh request per RFC 4028 §9 (Min-SE 90).
fn bob_answers(l: &mut Ladder, tx: pbxkit_sip_core::transaction::TxId, req: &Message) -> Message {
    match uas_negotiate(req, 90, None) {
        UasDecision::TooSmall { min_se } => l.reply(
            BOB,
            tx,
            422,
            &[(HeaderName::MinSe, min_se.to_string())],
            None,
        ),
        UasDecision::Use {
            session_expires,
            require_timer,
        } => {
            let mut h = vec![(HeaderName::SessionExpires, session_expires.value())];
            if require_timer {
                h.push((HeaderName::Require, TAG_TIMER.into()));
            }
            let body = (req.method() == Some(Method::Invite))
                .then(|| ("application/sdp", sdp("sendrecv")));
            l.reply(BOB, tx, 200, &h, body)
        }
        _ => panic!("Bob always runs a timer for this caller"),
    }
}

#[test]
fn session_timer_422_retry_update_refresh_and_expiry_bye() {
    // Alice                          Bob
    //   |--INVITE SE: 60------------->|
    //   |<-422 Min-SE: 90-------------|   RFC 4028 §9 (interval below Bob's Min-SE)
    //   |--ACK (in the transaction)-->|
    //   |--INVITE SE: 90, Min-SE: 90->|   §7.4 retry
    //   |<-200 SE: 90;refresher=uac---|   Require: timer
    //   |--ACK----------------------->|
    //   |   ... 45 s ...              |
    //   |--UPDATE SE: 90------------->|   §10 refresh at half the interval (RFC 3311)
    //   |<-200------------------------|
    //   |   ... Alice stops refreshing ...
    //   |<-BYE------------------------|   at 90 - min(32, 30) = 60 s after the refresh
    //   |--200----------------------->|
    let mut l = Ladder::new();
    let t0 = l.now();
    let first = invite(&mut l, 1, 60);
    let tx1 = l.send(ALICE, BOB, first);
    let (stx1, req1) = l.request(BOB, Method::Invite);
    bob_answers(&mut l, stx1, &req1);
    let r422 = l.response(ALICE, tx1, 422);
    let retry = uac_retry_after_422(&r422, 60).expect("Min-SE");
    assert_eq!(retry, 90);
    let second = invite(&mut l, 2, retry);
    let tx2 = l.send(ALICE, BOB, second.clone());
    let (stx2, req2) = l.request(BOB, Method::Invite);
    let tag = l.ep(BOB).to_tag(stx2).expect("tag").to_owned();
    let mut b = Dialog::uas(&req2, &tag).expect("uas");
    let bob_ok = bob_answers(&mut l, stx2, &req2);
    assert_eq!(
        SessionExpires::of(&bob_ok),
        Some(SessionExpires {
            delta: 90,
            refresher: Some(Refresher::Uac)
        })
    );
    assert!(lists_tag(&bob_ok, HeaderName::Require, TAG_TIMER));
    let ok = l.response(ALICE, tx2, 200);
    let mut a = Dialog::uac(&second, &ok).expect("uac");
    let mut a_timer = SessionTimer::from_2xx(&ok, true, l.now()).expect("timer");
    l.send_ack(&a, ALICE, BOB, 2);
    let ack = l.ack(BOB, "st-1", 2);
    b.on_request(&ack).expect("ACK");
    let mut b_timer = SessionTimer::from_2xx(&bob_ok, false, l.now()).expect("timer");
    assert!(a_timer.we_refresh && !b_timer.we_refresh);

    // Refresh at half the interval with an UPDATE.
    let refresh_at = a_timer.refresh_at().expect("Alice refreshes");
    l.advance_to(refresh_at);
    let se = [
        (HeaderName::SessionExpires, "90;refresher=uac".to_owned()),
        (HeaderName::Supported, TAG_TIMER.to_owned()),
    ];
    let (utx, update) = l.in_dialog(&mut a, ALICE, BOB, Method::Update, &se, None);
    assert_eq!(update.cseq().expect("cseq").seq, 3);
    let (sutx, got) = l.request(BOB, Method::Update);
    b.on_request(&got).expect("UPDATE in dialog");
    bob_answers(&mut l, sutx, &got);
    let bob_refreshed = l.now();
    b_timer.refreshed(bob_refreshed);
    let uok = l.response(ALICE, utx, 200);
    a.on_refresh_response(&uok);
    a_timer.refreshed(l.now());
    assert!(bob_refreshed - t0 >= Duration::from_secs(45));

    // Alice stops refreshing: Bob hangs up min(32, 90/3) = 30 s before the 90 s end.
    let expiry = b_timer.expire_at();
    assert_eq!(expiry - bob_refreshed, Duration::from_secs(60));
    assert!(
        Some(expiry) > a_timer.refresh_at(),
        "Alice would have refreshed first"
    );
    l.advance_to(expiry);
    assert_eq!(l.now(), expiry);
    let (btx, _) = l.in_dialog(&mut b, BOB, ALICE, Method::Bye, &[], None);
    let (sbtx, bye) = l.request(ALICE, Method::Bye);
    a.on_request(&bye).expect("BYE in dialog");
    l.reply(ALICE, sbtx, 200, &[], None);
    l.response(BOB, btx, 200);
}
