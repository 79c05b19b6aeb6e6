//! Server transactions and the endpoint's own answers: RFC 3261 §17.2 (Figures 7 and 8),
//! RFC 6026 (Accepted), §9.2 (CANCEL), §8.2.2.2 (merged requests), with a virtual clock.

mod txn_common;

use pbxkit_sip_core::endpoint::Event;
use pbxkit_sip_core::transaction::{ServerState, TimeoutKind, TxId};
use txn_common::*;

/// Feeds `msg` from the peer and returns the new request's transaction.
fn incoming(
    ep: &mut pbxkit_sip_core::endpoint::Endpoint,
    at: std::time::Instant,
    msg: &pbxkit_sip_core::Message,
) -> (Vec<String>, Option<TxId>) {
    ep.handle_datagram(at, peer(), msg.to_bytes());
    let (sent, ev) = drain(ep);
    let tx = ev.iter().find_map(|e| match e {
        Event::Request { tx, .. } => Some(*tx),
        _ => None,
    });
    (sent.iter().map(first_line).collect(), tx)
}

#[test]
fn invite_gets_100_at_once_and_retransmissions_are_absorbed() {
    let t0 = t0();
    let mut ep = endpoint();
    let inv = request("INVITE", "z9hG4bKs1", None, "", "");
    let (sent, tx) = incoming(&mut ep, t0, &inv);
    assert_eq!(sent, ["SIP/2.0 100 Trying"]);
    let tx = tx.expect("request event");
    // A retransmission gets the last provisional again and no new event.
    let (sent, again) = incoming(&mut ep, secs(t0, 0.5), &inv);
    assert_eq!(sent, ["SIP/2.0 100 Trying"]);
    assert!(again.is_none());
    ep.reply(secs(t0, 0.6), tx, 180, "Ringing").expect("180");
    let (sent, _) = drain(&mut ep);
    let ringing = parse(&sent[0]);
    assert!(
        ringing.to().expect("to").tag().is_some(),
        "a non-100 response carries our tag"
    );
}

#[test]
fn non_2xx_retransmits_with_timer_g_until_timer_h() {
    // §17.2.1: G starts at T1, doubles to T2; H = 64*T1 reports the missing ACK.
    let t0 = t0();
    let mut ep = endpoint();
    let (_, tx) = incoming(&mut ep, t0, &request("INVITE", "z9hG4bKs2", None, "", ""));
    let tx = tx.expect("tx");
    ep.reply(t0, tx, 486, "Busy Here").expect("486");
    drain(&mut ep);
    let (sent, events) = run_until(&mut ep, t0, secs(t0, 40.0));
    let at: Vec<f64> = sent.iter().map(|(s, _)| *s).collect();
    assert_eq!(at, [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]);
    assert!(
        sent.iter()
            .all(|(_, t)| first_line(t) == "SIP/2.0 486 Busy Here")
    );
    assert!(matches!(
        events.as_slice(),
        [(s, Event::Timeout { tx: t, kind: TimeoutKind::NoAck })] if *s == 32.0 && *t == tx
    ));
}

#[test]
fn ack_confirms_then_timer_i() {
    // §17.2.1: ACK → Confirmed; I = T4 absorbs further ACKs, then Terminated.
    let t0 = t0();
    let mut ep = endpoint();
    let (_, tx) = incoming(&mut ep, t0, &request("INVITE", "z9hG4bKs3", None, "", ""));
    let tx = tx.expect("tx");
    ep.reply(t0, tx, 603, "Decline").expect("603");
    drain(&mut ep);
    let tag = ep.to_tag(tx).expect("tag").to_owned();
    let ack = request("ACK", "z9hG4bKs3", Some(&tag), "", "");
    let (sent, ev) = incoming(&mut ep, secs(t0, 0.2), &ack);
    assert!(
        sent.is_empty() && ev.is_none(),
        "the non-2xx ACK stays in the transaction"
    );
    assert_eq!(
        ep.server(tx).map(|s| s.state()),
        Some(ServerState::Confirmed)
    );
    let (sent, ev) = run_until(&mut ep, t0, secs(t0, 5.1));
    assert!(sent.is_empty(), "Timer G stopped");
    assert!(ev.is_empty());
    assert!(ep.server(tx).is_some());
    run_until(&mut ep, t0, secs(t0, 5.3));
    assert!(ep.server(tx).is_none(), "Timer I = T4 after the ACK");
}

#[test]
fn two_xx_is_retransmitted_until_the_end_to_end_ack() {
    // §13.3.1.4 with RFC 6026: the 2xx is resent at T1, 2T1, … capped at T2; the ACK (own
    // branch) matches by dialog, is passed up, and stops the retransmissions.
    let t0 = t0();
    let mut ep = endpoint();
    let (_, tx) = incoming(&mut ep, t0, &request("INVITE", "z9hG4bKs4", None, "", ""));
    let tx = tx.expect("tx");
    ep.reply(t0, tx, 200, "OK").expect("200");
    drain(&mut ep);
    let (sent, _) = run_until(&mut ep, t0, secs(t0, 8.0));
    let at: Vec<f64> = sent.iter().map(|(s, _)| *s).collect();
    assert_eq!(at, [0.5, 1.5, 3.5, 7.5]);
    let tag = ep.to_tag(tx).expect("tag").to_owned();
    ep.handle_datagram(
        secs(t0, 8.1),
        peer(),
        request("ACK", "z9hG4bKa4", Some(&tag), "", "").to_bytes(),
    );
    let (_, ev) = drain(&mut ep);
    assert!(matches!(ev.as_slice(), [Event::Ack { invite: Some(t), .. }] if *t == tx));
    let (sent, ev) = run_until(&mut ep, t0, secs(t0, 40.0));
    assert!(sent.is_empty(), "no retransmission after the ACK");
    assert!(ev.is_empty(), "acknowledged: Timer L ends quietly");
    assert!(ep.server(tx).is_none());
}

#[test]
fn unacknowledged_2xx_times_out_with_timer_l() {
    let t0 = t0();
    let mut ep = endpoint();
    let (_, tx) = incoming(&mut ep, t0, &request("INVITE", "z9hG4bKs5", None, "", ""));
    let tx = tx.expect("tx");
    ep.reply(t0, tx, 200, "OK").expect("200");
    drain(&mut ep);
    let (_, ev) = run_until(&mut ep, t0, secs(t0, 40.0));
    assert!(matches!(
        ev.as_slice(),
        [(s, Event::Timeout { kind: TimeoutKind::No2xxAck, .. })] if *s == 32.0
    ));
}

#[test]
fn non_invite_repeats_its_final_response_until_timer_j() {
    // §17.2.2: retransmissions in Completed get the final response again; J = 64*T1.
    let t0 = t0();
    let mut ep = endpoint();
    let opt = request("OPTIONS", "z9hG4bKs6", None, "", "");
    let (_, tx) = incoming(&mut ep, t0, &opt);
    let tx = tx.expect("tx");
    ep.reply(t0, tx, 200, "OK").expect("200");
    drain(&mut ep);
    let (sent, _) = incoming(&mut ep, secs(t0, 1.0), &opt);
    assert_eq!(sent, ["SIP/2.0 200 OK"]);
    assert!(
        ep.reply(t0, tx, 200, "OK").is_err(),
        "one final response only"
    );
    run_until(&mut ep, t0, secs(t0, 32.1));
    assert!(ep.server(tx).is_none());
    // After J the same request is new again.
    let (_, again) = incoming(&mut ep, secs(t0, 33.0), &opt);
    assert!(again.is_some());
}

#[test]
fn cancel_answers_200_and_terminates_the_invite_with_487() {
    // §9.2.
    let t0 = t0();
    let mut ep = endpoint();
    let (_, tx) = incoming(&mut ep, t0, &request("INVITE", "z9hG4bKs7", None, "", ""));
    let tx = tx.expect("tx");
    ep.handle_datagram(
        t0,
        peer(),
        request("CANCEL", "z9hG4bKs7", None, "", "").to_bytes(),
    );
    let (sent, ev) = drain(&mut ep);
    let lines: Vec<String> = sent.iter().map(first_line).collect();
    assert_eq!(lines, ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]);
    assert!(parse(&sent[0]).cseq().expect("cseq").method.as_str() == "CANCEL");
    assert!(matches!(ev.as_slice(), [Event::Cancelled { invite }] if *invite == tx));
}

#[test]
fn cancel_without_invite_gets_481() {
    let t0 = t0();
    let mut ep = endpoint();
    ep.handle_datagram(
        t0,
        peer(),
        request("CANCEL", "z9hG4bKnone", None, "", "").to_bytes(),
    );
    let (sent, _) = drain(&mut ep);
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["SIP/2.0 481 Call/Transaction Does Not Exist"]
    );
}

#[test]
fn merged_request_on_another_branch_gets_482() {
    // §8.2.2.2: same From tag, Call-ID and CSeq as a live transaction, different branch.
    let t0 = t0();
    let mut ep = endpoint();
    incoming(&mut ep, t0, &request("INVITE", "z9hG4bKm1", None, "", ""));
    let (sent, tx) = incoming(&mut ep, t0, &request("INVITE", "z9hG4bKm2", None, "", ""));
    assert_eq!(sent, ["SIP/2.0 482 Loop Detected"]);
    assert!(tx.is_none());
}

#[test]
fn responses_carry_received_and_rport() {
    // RFC 3581 §4: rport filled in with the source port, received added; the response goes
    // to the source address and port.
    let t0 = t0();
    let mut ep = endpoint();
    let raw = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;rport;branch=z9hG4bKr1\r\n\
               Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    ep.handle_datagram(t0, peer(), raw.as_bytes().to_vec());
    let (_, ev) = drain(&mut ep);
    let Some(Event::Request { tx, .. }) = ev.first() else {
        panic!("no request")
    };
    ep.reply(t0, *tx, 200, "OK").expect("200");
    let (sent, _) = drain(&mut ep);
    assert_eq!(sent[0].destination, peer());
    let resp = parse(&sent[0]);
    let via = resp
        .values(pbxkit_sip_core::HeaderName::Via)
        .next()
        .expect("via");
    assert!(
        via.contains("rport=5070") && via.contains("received=127.0.0.1"),
        "{via}"
    );
}
