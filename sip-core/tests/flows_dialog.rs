//! In-dialog flows on the simulated network as ladder diagrams (MV-31 hold/enquiry/transfer,
//! MV-34 presence subscriptions build on them):
//! re-INVITE hold with a target refresh (RFC 3261 §12.2, §14; RFC 3264 §8.4 hold),
//! reliable provisional responses with PRACK (RFC 3262), and an attended transfer with REFER,
//! NOTIFY sipfrag and INVITE/Replaces (RFC 3515 §2.4, RFC 3891 §3, RFC 5589 §7), a failed
//! blind transfer, UPDATE in the early dialog (RFC 3311), SUBSCRIBE/NOTIFY (RFC 6665), and
//! the same ladders under 20 % loss.
#![allow(clippy::disallowed_methods)] // the virtual clock's origin is read once

mod flows_common;

use std::time::Duration;

use flows_common::*;
use pbxkit_sip_core::dialog::*;
use pbxkit_sip_core::endpoint::Event;
use pbxkit_sip_core::sim::LinkModel;
use pbxkit_sip_core::{HeaderName, Message, Method, RequestBuilder};

#[test]
fn reinvite_hold_refreshes_target_and_keeps_cseq_order() {
    let mut l = reinvite_hold_refreshes_target_and_keeps_cseq_order_on(Ladder::new());
    // No 2xx of the re-INVITE came again after its ACK, so Alice never re-ACKed it.
    let later = l.now() + Duration::from_secs(33);
    l.advance_to(later);
    let again = l.count(BOB, |e| {
        matches!(e, Event::Ack { request, .. }
            if request.call_id().is_ok_and(|c| c.0 == "hold-1"))
    });
    assert_eq!(again, 0, "2xx retransmitted after its ACK");
}

fn reinvite_hold_refreshes_target_and_keeps_cseq_order_on(mut l: Ladder) -> Ladder {
    // Alice                Bob
    //   |--INVITE/200/ACK---|   call up
    //   |--re-INVITE sendonly, new Contact-->|   MV-31 hold (RFC 3264 §8.4), refresh (§12.2)
    //   |<-200 recvonly-----|
    //   |--ACK------------->|
    //   |<-BYE--------------|   Bob's first CSeq in his own space
    //   |--200------------->|
    let (mut a, mut b, _) = l.call(ALICE, BOB, "hold-1", &[]);
    assert_eq!(a.id().call_id, b.id().call_id);
    assert_eq!(a.id().local_tag, b.id().remote_tag);
    let (t, s, br) = l.via(ALICE);
    let reinvite = a
        .request(Method::Invite, (&t, &s, &br))
        .expect("build")
        .contact("<sip:alice-moved@127.0.0.1:5070>")
        .body("application/sdp", sdp("sendonly").into_bytes())
        .build()
        .expect("valid");
    assert_eq!(reinvite.cseq().expect("cseq").seq, 2, "§12.2.1.1: CSeq + 1");
    let tx = l.send(ALICE, BOB, reinvite.clone());
    let (stx, req) = l.request(BOB, Method::Invite);
    assert_eq!(DialogId::of_incoming(&req).as_ref(), Some(b.id()));
    b.on_request(&req).expect("in order");
    assert_eq!(
        b.remote_target(),
        "sip:alice-moved@127.0.0.1:5070",
        "target refreshed"
    );
    assert!(String::from_utf8_lossy(req.body()).contains("a=sendonly"));
    l.reply(
        BOB,
        stx,
        200,
        &[],
        Some(("application/sdp", sdp("recvonly"))),
    );
    let ok = l.response(ALICE, tx, 200);
    assert!(String::from_utf8_lossy(ok.body()).contains("a=recvonly"));
    a.on_refresh_response(&ok);
    l.send_ack(&a, ALICE, BOB, 2);
    let is_ack2 = |e: &Event| {
        matches!(e, Event::Ack { request, .. }
            if request.call_id().is_ok_and(|c| c.0 == "hold-1")
                && request.cseq().is_ok_and(|c| c.seq == 2))
    };
    let Event::Ack {
        invite,
        request: ack,
        ..
    } = l.wait(BOB, is_ack2)
    else {
        unreachable!()
    };
    assert_eq!(
        ack.cseq().expect("cseq").seq,
        2,
        "ACK carries the re-INVITE's CSeq"
    );
    // The ACK matches the re-INVITE's transaction, which then stops retransmitting its 2xx
    // (RFC 6026 §8.7; checked on a lossless link by the caller of this flow).
    assert_eq!(invite, Some(stx), "ACK of the re-INVITE's 2xx matched");
    // §12.2.2: a request replayed with an old CSeq is out of order (answer 500).
    assert_eq!(b.on_request(&reinvite), Err(DialogError::OutOfOrder));
    let (btx, bye) = l.in_dialog(&mut b, BOB, ALICE, Method::Bye, &[], None);
    assert_eq!(
        bye.request_uri_str(),
        Some("sip:alice-moved@127.0.0.1:5070")
    );
    assert_eq!(bye.cseq().expect("cseq").seq, 1);
    let (atx, got) = l.request(ALICE, Method::Bye);
    a.on_request(&got).expect("BYE in dialog");
    l.reply(ALICE, atx, 200, &[], None);
    l.response(BOB, btx, 200);
    l
}

#[test]
fn reliable_183_is_pracked_before_the_200() {
    // Alice                Bob
    //   |--INVITE (Supported: 100rel)-->|
    //   |<-183 Require: 100rel, RSeq-----|   RFC 3262 §3
    //   |--PRACK RAck: rseq 1 INVITE---->|   in the early dialog (§4)
    //   |<-200 (PRACK)-------------------|
    //   |<-200 (INVITE)------------------|
    let mut l = Ladder::new();
    let (t, s, br) = l.via(ALICE);
    let invite = RequestBuilder::new(Method::Invite, &format!("sip:u@{BOB}"))
        .via(&t, &s, &br)
        .from(&format!("<sip:u@{ALICE}>"), "a-tag")
        .to(&format!("<sip:u@{BOB}>"))
        .call_id("prack-1")
        .cseq(1)
        .max_forwards(70)
        .contact(&format!("<sip:u@{ALICE}>"))
        .header(HeaderName::Supported, "100rel")
        .build()
        .expect("valid");
    let itx = l.send(ALICE, BOB, invite.clone());
    let (stx, req) = l.request(BOB, Method::Invite);
    assert!(lists_tag(&req, HeaderName::Supported, TAG_100REL));
    let mut rel = UasReliable::new(1, 4711, Default::default());
    let rseq = rel.next_rseq().expect("none pending");
    let p183 = l.reply(
        BOB,
        stx,
        183,
        &[
            (HeaderName::Require, TAG_100REL.into()),
            (HeaderName::RSeq, rseq.to_string()),
        ],
        None,
    );
    rel.sent(l.now(), p183);
    let early = l.response(ALICE, itx, 183);
    let mut uac_rel = UacReliable::new();
    let rack = uac_rel.on_provisional(&early).expect("reliable");
    let mut a = Dialog::uac(&invite, &early).expect("early dialog");
    assert_eq!(a.state(), DialogState::Early);
    let (ptx, _) = l.in_dialog(
        &mut a,
        ALICE,
        BOB,
        Method::Prack,
        &[(HeaderName::RAck, rack.value())],
        None,
    );
    let (sptx, prack) = l.request(BOB, Method::Prack);
    assert_eq!(rel.on_prack(&prack), PrackMatch::Acknowledged);
    l.reply(BOB, sptx, 200, &[], None);
    l.response(ALICE, ptx, 200);
    l.reply(BOB, stx, 200, &[], None);
    let ok = l.response(ALICE, itx, 200);
    assert_eq!(ok.cseq().expect("cseq").seq, 1);
    assert_eq!(
        uac_rel.on_provisional(&early),
        None,
        "a retransmitted 183 is not PRACKed twice"
    );
    // RFC 3261 §13.2.2.4: the early dialog is confirmed by the 2xx (same dialog, CSeq space
    // kept), so the BYE follows the PRACK's CSeq and Bob's dialog accepts it.
    a.confirm_uac(&ok).expect("same dialog");
    assert_eq!(a.state(), DialogState::Confirmed);
    l.send_ack(&a, ALICE, BOB, 1);
    let tag = l.ep(BOB).to_tag(stx).expect("tag").to_owned();
    let mut b = Dialog::uas(&req, &tag).expect("uas");
    b.on_request(&prack).expect("PRACK in order");
    let ack = l.ack(BOB, "prack-1", 1);
    b.on_request(&ack).expect("ACK");
    let (btx, bye) = l.in_dialog(&mut a, ALICE, BOB, Method::Bye, &[], None);
    assert_eq!(bye.cseq().expect("cseq").seq, 3, "INVITE 1, PRACK 2, BYE 3");
    let (sbtx, got) = l.request(BOB, Method::Bye);
    b.on_request(&got).expect("BYE after PRACK is in order");
    l.reply(BOB, sbtx, 200, &[], None);
    l.response(ALICE, btx, 200);
}

fn notify_body(ev: &Message) -> Option<u16> {
    sipfrag_status(ev.body())
}

#[test]
fn attended_transfer_with_refer_notify_and_replaces() {
    attended_transfer_with_refer_notify_and_replaces_on(Ladder::new());
}

fn attended_transfer_with_refer_notify_and_replaces_on(mut l: Ladder) -> Ladder {
    // Alice        Bob         Carol
    //   |<==call==>|            |
    //   |          |<==call====>|   MV-31 enquiry: Bob consults Carol
    //   |<-REFER---|            |   Refer-To: Carol?Replaces=<Bob–Carol dialog> (RFC 3515 §2.4)
    //   |--202---->|            |
    //   |--NOTIFY 100 Trying--->|   implicit subscription, sipfrag body (§2.4.5)
    //   |--INVITE Replaces----------->|   RFC 3891 §3: Carol matches her dialog with Bob
    //   |<-200------------------------|
    //   |          |<-BYE-------|   Carol ends the replaced dialog
    //   |--NOTIFY 200 OK, terminated->|
    //   |<-BYE-----|            |   Bob leaves
    let (mut ab_a, mut ab_b, _) = l.call(ALICE, BOB, "xfer-ab", &[]);
    let (mut bc_b, mut bc_c, _) = l.call(BOB, CAROL, "xfer-bc", &[]);
    let refer_to = ReferTo {
        uri: format!("sip:u@{CAROL}"),
        replaces: Some(Replaces::for_peer_of(bc_b.id())),
    };
    let (rtx, _) = l.in_dialog(
        &mut ab_b,
        BOB,
        ALICE,
        Method::Refer,
        &[(HeaderName::ReferTo, refer_to.value())],
        None,
    );
    let (srtx, refer) = l.request(ALICE, Method::Refer);
    ab_a.on_request(&refer).expect("REFER in dialog");
    let target = ReferTo::of(&refer).expect("one Refer-To");
    assert_eq!(
        target, refer_to,
        "Refer-To and its escaped Replaces survive the wire"
    );
    l.reply(ALICE, srtx, 202, &[], None);
    l.response(BOB, rtx, 202);
    let mut sub = Subscription::new("refer", l.now(), Duration::from_secs(60));
    let frag = |code, reason| Some(("message/sipfrag", sipfrag(code, reason)));
    let ev = |state: &str| {
        [
            (HeaderName::Event, refer_event(0, true)),
            (HeaderName::SubscriptionState, state.to_owned()),
        ]
    };
    let (ntx, _) = l.in_dialog(
        &mut ab_a,
        ALICE,
        BOB,
        Method::Notify,
        &ev("active;expires=60"),
        frag(100, "Trying"),
    );
    let (sntx, n1) = l.request(BOB, Method::Notify);
    ab_b.on_request(&n1).expect("NOTIFY in dialog");
    assert_eq!(
        sub.on_notify(l.now(), &n1).cloned(),
        Ok(SubState::Active { expires: Some(60) })
    );
    assert_eq!(notify_body(&n1), Some(100));
    l.reply(BOB, sntx, 200, &[], None);
    l.response(ALICE, ntx, 200);
    // Alice calls Carol with the Replaces from the Refer-To.
    let replaces = target.replaces.expect("attended transfer").value();
    let (ac_a, _ac_c, at_carol) =
        l.call(ALICE, CAROL, "xfer-ac", &[(HeaderName::Replaces, replaces)]);
    assert_eq!(ac_a.state(), DialogState::Confirmed);
    // Carol reads the Replaces of the INVITE she received: it names her dialog with Bob.
    let r = Replaces::of(&at_carol).expect("one").expect("present");
    assert_eq!(r.matches(bc_c.id(), bc_c.state()), ReplacesMatch::Replace);
    assert_eq!(
        r.matches(ab_a.id(), DialogState::Confirmed),
        ReplacesMatch::NoMatch
    );
    let (cbtx, _) = l.in_dialog(&mut bc_c, CAROL, BOB, Method::Bye, &[], None);
    let (sbtx, bye) = l.request(BOB, Method::Bye);
    bc_b.on_request(&bye).expect("BYE for the replaced dialog");
    l.reply(BOB, sbtx, 200, &[], None);
    l.response(CAROL, cbtx, 200);
    let (ntx, _) = l.in_dialog(
        &mut ab_a,
        ALICE,
        BOB,
        Method::Notify,
        &ev("terminated;reason=noresource"),
        frag(200, "OK"),
    );
    let (sntx, n2) = l.request(BOB, Method::Notify);
    ab_b.on_request(&n2).expect("NOTIFY in dialog");
    assert!(matches!(
        sub.on_notify(l.now(), &n2),
        Ok(SubState::Terminated { .. })
    ));
    assert_eq!(notify_body(&n2), Some(200), "the transfer succeeded");
    l.reply(BOB, sntx, 200, &[], None);
    l.response(ALICE, ntx, 200);
    let (bbtx, _) = l.in_dialog(&mut ab_b, BOB, ALICE, Method::Bye, &[], None);
    let (sabtx, bye) = l.request(ALICE, Method::Bye);
    ab_a.on_request(&bye).expect("BYE");
    l.reply(ALICE, sabtx, 200, &[], None);
    l.response(BOB, bbtx, 200);
    l
}

#[test]
fn lost_reliable_183_is_retransmitted_after_t1() {
    // RFC 3262 §3: the UAS retransmits an unacknowledged reliable 1xx at T1 (500 ms), and
    // stops once the PRACK arrives.
    let mut l = Ladder::new();
    let (t, s, br) = l.via(ALICE);
    let invite = RequestBuilder::new(Method::Invite, &format!("sip:u@{BOB}"))
        .via(&t, &s, &br)
        .from(&format!("<sip:u@{ALICE}>"), "a-lost")
        .to(&format!("<sip:u@{BOB}>"))
        .call_id("prack-lost")
        .cseq(1)
        .max_forwards(70)
        .contact(&format!("<sip:u@{ALICE}>"))
        .header(HeaderName::Require, TAG_100REL)
        .build()
        .expect("valid");
    let itx = l.send(ALICE, BOB, invite.clone());
    let (stx, _) = l.request(BOB, Method::Invite);
    // Bob's auto 100 Trying went out already; drain it so only the 183 is dropped below.
    l.net.collect();
    let mut rel = UasReliable::new(1, 1, Default::default());
    let rseq = rel.next_rseq().expect("none pending");
    let headers = [
        (HeaderName::Require, TAG_100REL.to_owned()),
        (HeaderName::RSeq, rseq.to_string()),
    ];
    let p183 = l.reply(BOB, stx, 183, &headers, None);
    let sent_at = l.now();
    rel.sent(sent_at, p183);
    let lost = l.ep(BOB).poll_transmit().expect("the 183 is lost");
    assert!(lost.payload.starts_with(b"SIP/2.0 183"));
    let due = rel.poll_timeout().expect("retransmission scheduled");
    assert_eq!(due - sent_at, std::time::Duration::from_millis(500));
    l.advance_to(due);
    let got_183 =
        |e: &Event| matches!(e, Event::Response { response, .. } if response.status() == Some(183));
    assert_eq!(l.count(ALICE, got_183), 0, "nothing reached Alice yet");
    let Some(UasTimeout::Retransmit(again)) = rel.handle_timeout(l.now()) else {
        panic!("expected a retransmission");
    };
    let now = l.now();
    l.ep(BOB).respond(now, stx, &again).expect("1xx again");
    let early = l.response(ALICE, itx, 183);
    assert_eq!(rseq_of(&early), Some(1));
    let rack = UacReliable::new().on_provisional(&early).expect("reliable");
    let mut a = Dialog::uac(&invite, &early).expect("early dialog");
    let (ptx, _) = l.in_dialog(
        &mut a,
        ALICE,
        BOB,
        Method::Prack,
        &[(HeaderName::RAck, rack.value())],
        None,
    );
    let (sptx, prack) = l.request(BOB, Method::Prack);
    assert_eq!(rel.on_prack(&prack), PrackMatch::Acknowledged);
    assert_eq!(rel.poll_timeout(), None, "retransmissions stop");
    l.reply(BOB, sptx, 200, &[], None);
    l.response(ALICE, ptx, 200);
}

#[test]
fn subscribe_notify_usage_and_unsubscribe() {
    subscribe_notify_usage_and_unsubscribe_on(Ladder::new());
}

fn subscribe_notify_usage_and_unsubscribe_on(mut l: Ladder) -> Ladder {
    // Alice                        Bob
    //   |--SUBSCRIBE Event: presence-->|   RFC 6665 §4.1.2.1 (MV-34 presence)
    //   |<-200 Expires: 600------------|
    //   |<-NOTIFY active;expires=600---|   §4.2.1.2: the notifier NOTIFYs at once
    //   |--200------------------------>|
    //   |--SUBSCRIBE Expires: 0------->|   unsubscribe (§4.1.2.3)
    //   |<-200-------------------------|
    //   |<-NOTIFY terminated-----------|
    //   |--200------------------------>|
    //   |<-NOTIFY (stray)--------------|   after termination: 481 (§4.1.3)
    //   |--481------------------------>|
    let (t, s, br) = l.via(ALICE);
    let subscribe = RequestBuilder::new(Method::Subscribe, &format!("sip:u@{BOB}"))
        .via(&t, &s, &br)
        .from(&format!("<sip:u@{ALICE}>"), "a-sub")
        .to(&format!("<sip:u@{BOB}>"))
        .call_id("sub-1")
        .cseq(1)
        .max_forwards(70)
        .contact(&format!("<sip:u@{ALICE}>"))
        .header(HeaderName::Event, "presence")
        .header(HeaderName::Expires, "600")
        .build()
        .expect("valid");
    let tx = l.send(ALICE, BOB, subscribe.clone());
    let mut sub = Subscription::new("presence", l.now(), Duration::from_secs(600));
    let (stx, req) = l.request(BOB, Method::Subscribe);
    let tag = l.ep(BOB).to_tag(stx).expect("tag").to_owned();
    let mut b = Dialog::uas(&req, &tag).expect("notifier dialog");
    b.confirm();
    l.reply(BOB, stx, 200, &[(HeaderName::Expires, "600".into())], None);
    let ok = l.response(ALICE, tx, 200);
    let mut a = Dialog::uac(&subscribe, &ok).expect("subscriber dialog");
    let notify = |l: &mut Ladder, b: &mut Dialog, state: &str| {
        let h = [
            (HeaderName::Event, "presence".to_owned()),
            (HeaderName::SubscriptionState, state.to_owned()),
        ];
        l.in_dialog(b, BOB, ALICE, Method::Notify, &h, None).0
    };
    let ntx = notify(&mut l, &mut b, "active;expires=600");
    let (sntx, n) = l.request(ALICE, Method::Notify);
    a.on_request(&n)
        .expect("NOTIFY in the subscription's dialog");
    let st = sub.on_notify(l.now(), &n).cloned();
    assert_eq!(st, Ok(SubState::Active { expires: Some(600) }));
    l.reply(ALICE, sntx, 200, &[], None);
    l.response(BOB, ntx, 200);
    // Unsubscribe.
    let unsub = [
        (HeaderName::Event, "presence".to_owned()),
        (HeaderName::Expires, "0".to_owned()),
    ];
    let (utx, _) = l.in_dialog(&mut a, ALICE, BOB, Method::Subscribe, &unsub, None);
    let (sutx, u) = l.request(BOB, Method::Subscribe);
    b.on_request(&u).expect("refresh in dialog");
    l.reply(BOB, sutx, 200, &[(HeaderName::Expires, "0".into())], None);
    l.response(ALICE, utx, 200);
    let ntx = notify(&mut l, &mut b, "terminated;reason=timeout");
    let (sntx, n) = l.request(ALICE, Method::Notify);
    a.on_request(&n).expect("in dialog");
    assert!(matches!(
        sub.on_notify(l.now(), &n),
        Ok(SubState::Terminated { .. })
    ));
    l.reply(ALICE, sntx, 200, &[], None);
    l.response(BOB, ntx, 200);
    // A NOTIFY after termination is refused with 481.
    let ntx = notify(&mut l, &mut b, "active");
    let (sntx, n) = l.request(ALICE, Method::Notify);
    assert_eq!(sub.on_notify(l.now(), &n), Err(NotifyError::Terminated));
    l.reply(ALICE, sntx, 481, &[], None);
    l.response(BOB, ntx, 481);
    l
}

#[test]
fn failed_blind_transfer_reports_486_and_keeps_the_call() {
    // Alice        Bob         Carol
    //   |<==call==>|            |
    //   |<-REFER---|            |   Refer-To: Carol (no Replaces: blind)
    //   |--202---->|            |
    //   |--INVITE---------------->|
    //   |<-486--------------------|
    //   |--NOTIFY 486, terminated->|   RFC 3515 §2.4.5: the final response in the sipfrag
    //   |<-200-----|            |
    //   |<==call still up==>|       Bob ends it himself
    let mut l = Ladder::new();
    let (mut a, mut b, _) = l.call(ALICE, BOB, "blind-1", &[]);
    let to = ReferTo {
        uri: format!("sip:u@{CAROL}"),
        replaces: None,
    };
    let (rtx, _) = l.in_dialog(
        &mut b,
        BOB,
        ALICE,
        Method::Refer,
        &[(HeaderName::ReferTo, to.value())],
        None,
    );
    let (srtx, refer) = l.request(ALICE, Method::Refer);
    a.on_request(&refer).expect("REFER in dialog");
    let target = ReferTo::of(&refer).expect("one Refer-To");
    assert_eq!(target.replaces, None);
    l.reply(ALICE, srtx, 202, &[], None);
    l.response(BOB, rtx, 202);
    let mut sub = Subscription::new("refer", l.now(), Duration::from_secs(60));
    let (t, s, br) = l.via(ALICE);
    let inv = RequestBuilder::new(Method::Invite, &target.uri)
        .via(&t, &s, &br)
        .from(&format!("<sip:u@{ALICE}>"), "a-blind")
        .to(&target.uri)
        .call_id("blind-2")
        .cseq(1)
        .max_forwards(70)
        .contact(&format!("<sip:u@{ALICE}>"))
        .build()
        .expect("valid");
    let itx = l.send(ALICE, CAROL, inv);
    let (ctx, _) = l.request(CAROL, Method::Invite);
    l.reply(CAROL, ctx, 486, &[], None);
    let busy = l.response(ALICE, itx, 486);
    let h = [
        (HeaderName::Event, refer_event(0, true)),
        (
            HeaderName::SubscriptionState,
            "terminated;reason=noresource".to_owned(),
        ),
    ];
    let frag = sipfrag(busy.status().unwrap_or(0), "Busy Here");
    let (ntx, _) = l.in_dialog(
        &mut a,
        ALICE,
        BOB,
        Method::Notify,
        &h,
        Some(("message/sipfrag", frag)),
    );
    let (sntx, n) = l.request(BOB, Method::Notify);
    b.on_request(&n).expect("NOTIFY in dialog");
    assert!(matches!(
        sub.on_notify(l.now(), &n),
        Ok(SubState::Terminated { .. })
    ));
    assert_eq!(sipfrag_status(n.body()), Some(486), "the transfer failed");
    l.reply(BOB, sntx, 200, &[], None);
    l.response(ALICE, ntx, 200);
    let (btx, _) = l.in_dialog(&mut b, BOB, ALICE, Method::Bye, &[], None);
    let (sbtx, bye) = l.request(ALICE, Method::Bye);
    a.on_request(&bye)
        .expect("the original call is still there");
    l.reply(ALICE, sbtx, 200, &[], None);
    l.response(BOB, btx, 200);
}

#[test]
fn dialog_flows_complete_under_20_percent_loss() {
    // The same ladders on a link losing 20 % of datagrams, with jitter (reordering) and
    // duplicates: RFC 3261 §17 retransmissions (Timers A, E, G), 2xx retransmission and
    // re-ACK (§13.3.1.4, §13.2.2.4) bring every flow to its end, for several seeds.
    let mut link = LinkModel::default();
    link.loss = 0.2;
    link.duplicate = 0.05;
    link.jitter = Duration::from_millis(30);
    let (mut sent, mut lost) = (0, 0);
    for seed in 1..=8 {
        for l in [
            reinvite_hold_refreshes_target_and_keeps_cseq_order_on(Ladder::with_link(link, seed)),
            attended_transfer_with_refer_notify_and_replaces_on(Ladder::with_link(link, seed)),
            subscribe_notify_usage_and_unsubscribe_on(Ladder::with_link(link, seed)),
        ] {
            sent += l.net.counters().sent;
            lost += l.net.counters().lost;
        }
    }
    // The link really lost about a fifth of what was sent.
    assert!(
        lost * 10 > sent && lost * 10 < sent * 3,
        "lost {lost} of {sent}"
    );
}

#[test]
fn update_in_the_early_dialog_changes_the_session_before_the_answer() {
    // Alice                Bob
    //   |--INVITE---------->|
    //   |<-180 (tag)--------|   early dialog (RFC 3261 §12.1)
    //   |--UPDATE sendonly-->|   RFC 3311 §5.1: UPDATE in the early dialog, target refresh
    //   |<-200 recvonly-----|
    //   |<-200 (INVITE)-----|   the early dialog is confirmed, CSeq space kept
    //   |--ACK------------->|
    let mut l = Ladder::new();
    let (t, s, br) = l.via(ALICE);
    let invite = RequestBuilder::new(Method::Invite, &format!("sip:u@{BOB}"))
        .via(&t, &s, &br)
        .from(&format!("<sip:u@{ALICE}>"), "a-upd")
        .to(&format!("<sip:u@{BOB}>"))
        .call_id("update-1")
        .cseq(1)
        .max_forwards(70)
        .contact(&format!("<sip:u@{ALICE}>"))
        .body("application/sdp", sdp("sendrecv").into_bytes())
        .build()
        .expect("valid");
    let itx = l.send(ALICE, BOB, invite.clone());
    let (stx, req) = l.request(BOB, Method::Invite);
    let tag = l.ep(BOB).to_tag(stx).expect("tag").to_owned();
    let mut b = Dialog::uas(&req, &tag).expect("uas");
    l.reply(BOB, stx, 180, &[], None);
    let ringing = l.response(ALICE, itx, 180);
    let mut a = Dialog::uac(&invite, &ringing).expect("early");
    assert_eq!(a.state(), DialogState::Early);
    let (utx, update) = l.in_dialog(
        &mut a,
        ALICE,
        BOB,
        Method::Update,
        &[],
        Some(("application/sdp", sdp("sendonly"))),
    );
    assert_eq!(update.cseq().expect("cseq").seq, 2);
    let (sutx, got) = l.request(BOB, Method::Update);
    b.on_request(&got).expect("UPDATE in the early dialog");
    l.reply(
        BOB,
        sutx,
        200,
        &[],
        Some(("application/sdp", sdp("recvonly"))),
    );
    let uok = l.response(ALICE, utx, 200);
    a.on_refresh_response(&uok);
    assert!(String::from_utf8_lossy(uok.body()).contains("a=recvonly"));
    l.reply(
        BOB,
        stx,
        200,
        &[],
        Some(("application/sdp", sdp("recvonly"))),
    );
    let ok = l.response(ALICE, itx, 200);
    a.confirm_uac(&ok).expect("same dialog");
    b.confirm();
    l.send_ack(&a, ALICE, BOB, 1);
    let ack = l.ack(BOB, "update-1", 1);
    b.on_request(&ack).expect("ACK");
    let (btx, bye) = l.in_dialog(&mut a, ALICE, BOB, Method::Bye, &[], None);
    assert_eq!(
        bye.cseq().expect("cseq").seq,
        3,
        "INVITE 1, UPDATE 2, BYE 3"
    );
    let (sbtx, got) = l.request(BOB, Method::Bye);
    b.on_request(&got).expect("BYE in order");
    l.reply(BOB, sbtx, 200, &[], None);
    l.response(ALICE, btx, 200);
}
