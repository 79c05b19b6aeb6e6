//! Client transactions against RFC 3261 §17.1 (Figures 5 and 6, Table 4) and RFC 6026,
//! driven by a virtual clock: Timer B's 32 s runs in microseconds.

mod txn_common;

use pbxkit_sip_core::endpoint::Event;
use pbxkit_sip_core::transaction::{ClientState, TimeoutKind, Transport};
use txn_common::*;

fn times(sent: &[(f64, pbxkit_sip_core::transaction::Transmit)]) -> Vec<f64> {
    sent.iter().map(|(s, _)| *s).collect()
}

#[test]
fn invite_timer_a_doubles_until_timer_b() {
    // §17.1.1.2: A starts at T1 and doubles; B = 64*T1 ends the transaction with a timeout.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let inv = request("INVITE", &branch, None, "", "");
    let tx = ep
        .send_request(t0, inv, Transport::Udp, peer())
        .expect("send");
    let (first, _) = drain(&mut ep);
    assert_eq!(first.len(), 1);
    let (sent, events) = run_until(&mut ep, t0, secs(t0, 40.0));
    assert_eq!(times(&sent), [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    assert!(
        sent.iter()
            .all(|(_, t)| first_line(t).starts_with("INVITE "))
    );
    assert!(matches!(
        events.as_slice(),
        [(s, Event::Timeout { tx: t, kind: TimeoutKind::NoResponse })] if *s == 32.0 && *t == tx
    ));
    assert!(ep.client(tx).is_none(), "terminated after Timer B");
}

#[test]
fn non_invite_timer_e_caps_at_t2_until_timer_f() {
    // §17.1.2.2: E doubles up to T2 (4 s); F = 64*T1.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let tx = ep
        .send_request(
            t0,
            request("OPTIONS", &branch, None, "", ""),
            Transport::Udp,
            peer(),
        )
        .expect("send");
    drain(&mut ep);
    let (sent, events) = run_until(&mut ep, t0, secs(t0, 40.0));
    assert_eq!(
        times(&sent),
        [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert!(matches!(
        events.as_slice(),
        [(s, Event::Timeout { tx: t, kind: TimeoutKind::NoResponse })] if *s == 32.0 && *t == tx
    ));
}

#[test]
fn non_invite_retransmits_at_t2_after_a_provisional() {
    // Figure 6: in Proceeding, E fires every T2.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let req = request("OPTIONS", &branch, None, "", "");
    let tx = ep
        .send_request(t0, req.clone(), Transport::Udp, peer())
        .expect("send");
    drain(&mut ep);
    ep.handle_datagram(secs(t0, 0.2), peer(), response(&req, 100, None).to_bytes());
    let (_, ev) = drain(&mut ep);
    assert!(matches!(ev.as_slice(), [Event::Response { tx: t, .. }] if *t == tx));
    assert_eq!(
        ep.client(tx).map(|c| c.state()),
        Some(ClientState::Proceeding)
    );
    let (sent, _) = run_until(&mut ep, t0, secs(t0, 12.0));
    // The pending E (0.5 s) fires, then every T2.
    assert_eq!(times(&sent), [0.5, 4.5, 8.5]);
}

#[test]
fn reliable_transport_never_retransmits_but_times_out() {
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    ep.send_request(
        t0,
        request("INVITE", &branch, None, "", ""),
        Transport::Tcp,
        peer(),
    )
    .expect("send");
    drain(&mut ep);
    let (sent, events) = run_until(&mut ep, t0, secs(t0, 40.0));
    assert!(sent.is_empty());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, 32.0);
}

#[test]
fn invite_non_2xx_is_acked_in_transaction_and_absorbed_for_timer_d() {
    // §17.1.1.3: the ACK reuses the INVITE's branch, Request-URI, From, Call-ID and CSeq
    // number, takes To from the response; a retransmitted final response is re-ACKed.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let inv = request("INVITE", &branch, None, "", "");
    let tx = ep
        .send_request(t0, inv.clone(), Transport::Udp, peer())
        .expect("send");
    drain(&mut ep);
    let busy = response(&inv, 486, Some("b7"));
    ep.handle_datagram(secs(t0, 0.1), peer(), busy.to_bytes());
    let (sent, ev) = drain(&mut ep);
    assert_eq!(sent.len(), 1);
    let ack = parse(&sent[0]);
    assert_eq!(first_line(&sent[0]), "ACK sip:bob@127.0.0.1 SIP/2.0");
    assert_eq!(ack.via().expect("via").branch(), Some(branch.as_str()));
    assert_eq!(ack.to().expect("to").tag(), Some("b7"));
    let cseq = ack.cseq().expect("cseq");
    assert_eq!((cseq.seq, cseq.method.as_str()), (1, "ACK"));
    assert!(
        matches!(ev.as_slice(), [Event::Response { response, .. }] if response.status() == Some(486))
    );
    assert_eq!(
        ep.client(tx).map(|c| c.state()),
        Some(ClientState::Completed)
    );
    // Retransmitted 486: ACK again, no second event.
    ep.handle_datagram(secs(t0, 1.0), peer(), busy.to_bytes());
    let (sent, ev) = drain(&mut ep);
    assert_eq!(sent.len(), 1);
    assert!(ev.is_empty());
    // Timer D (32 s on UDP) ends it without a timeout event.
    let (sent, ev) = run_until(&mut ep, t0, secs(t0, 40.0));
    assert!(sent.is_empty() && ev.is_empty());
    assert!(ep.client(tx).is_none());
}

#[test]
fn invite_2xx_enters_accepted_and_passes_retransmissions_to_the_tu() {
    // RFC 6026 §8.4: 2xx → Accepted; retransmitted 2xx still reach the TU; Timer M ends it.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let inv = request("INVITE", &branch, None, "", "");
    let tx = ep
        .send_request(t0, inv.clone(), Transport::Udp, peer())
        .expect("send");
    drain(&mut ep);
    let ok = response(&inv, 200, Some("b1"));
    ep.handle_datagram(secs(t0, 0.1), peer(), ok.to_bytes());
    let (sent, ev) = drain(&mut ep);
    assert!(
        sent.is_empty(),
        "the TU acknowledges a 2xx, not the transaction"
    );
    assert_eq!(ev.len(), 1);
    assert_eq!(
        ep.client(tx).map(|c| c.state()),
        Some(ClientState::Accepted)
    );
    ep.handle_datagram(secs(t0, 0.6), peer(), ok.to_bytes());
    let (_, ev) = drain(&mut ep);
    assert!(matches!(ev.as_slice(), [Event::Response { tx: t, .. }] if *t == tx));
    run_until(&mut ep, t0, secs(t0, 32.0));
    assert!(
        ep.client(tx).is_some(),
        "Timer M is 64*T1 from the first 2xx"
    );
    run_until(&mut ep, t0, secs(t0, 32.2));
    assert!(ep.client(tx).is_none());
    // After M, a late 2xx is reported as stray so the TU can re-ACK it.
    ep.handle_datagram(secs(t0, 33.0), peer(), ok.to_bytes());
    let (_, ev) = drain(&mut ep);
    assert!(matches!(ev.as_slice(), [Event::Stray2xx { .. }]));
}

#[test]
fn non_invite_final_then_timer_k() {
    // §17.1.2.2: K = T4 on unreliable transports; retransmitted finals are absorbed.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let req = request("BYE", &branch, Some("b1"), "", "");
    let tx = ep
        .send_request(t0, req.clone(), Transport::Udp, peer())
        .expect("send");
    drain(&mut ep);
    let ok = response(&req, 200, None);
    ep.handle_datagram(secs(t0, 0.1), peer(), ok.to_bytes());
    ep.handle_datagram(secs(t0, 0.2), peer(), ok.to_bytes());
    let (_, ev) = drain(&mut ep);
    assert_eq!(ev.len(), 1, "the retransmitted 200 is absorbed");
    assert_eq!(
        ep.client(tx).map(|c| c.state()),
        Some(ClientState::Completed)
    );
    run_until(&mut ep, t0, secs(t0, 5.0));
    assert!(ep.client(tx).is_some());
    run_until(&mut ep, t0, secs(t0, 5.2));
    assert!(ep.client(tx).is_none());
}

#[test]
fn cancel_copies_the_invite_identity() {
    // §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via branch.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let inv = request("INVITE", &branch, None, "", "");
    let tx = ep
        .send_request(t0, inv.clone(), Transport::Udp, peer())
        .expect("send");
    ep.handle_datagram(t0, peer(), response(&inv, 180, Some("b1")).to_bytes());
    drain(&mut ep);
    let ctx = ep.cancel(t0, tx).expect("cancel");
    let (sent, _) = drain(&mut ep);
    let cancel = parse(&sent[0]);
    assert_eq!(first_line(&sent[0]), "CANCEL sip:bob@127.0.0.1 SIP/2.0");
    assert_eq!(cancel.via().expect("via").branch(), Some(branch.as_str()));
    assert_eq!(cancel.cseq().expect("cseq").seq, 1);
    assert_eq!(cancel.to().expect("to").tag(), None);
    assert_ne!(ctx, tx);
    // The 200 to the CANCEL and the 487 to the INVITE land in their own transactions.
    ep.handle_datagram(t0, peer(), response(&cancel, 200, None).to_bytes());
    ep.handle_datagram(t0, peer(), response(&inv, 487, Some("b1")).to_bytes());
    let (sent, ev) = drain(&mut ep);
    assert_eq!(sent.len(), 1, "the 487 is ACKed");
    let ids: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Response { tx, response } => Some((*tx, response.status())),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [(ctx, Some(200)), (tx, Some(487))]);
}

#[test]
fn transport_failure_ends_the_transaction() {
    // §17.1.4.
    let t0 = t0();
    let mut ep = endpoint();
    let branch = ep.new_branch();
    let tx = ep
        .send_request(
            t0,
            request("OPTIONS", &branch, None, "", ""),
            Transport::Tcp,
            peer(),
        )
        .expect("send");
    ep.handle_send_failure(Transport::Tcp, peer());
    let (_, ev) = drain(&mut ep);
    assert!(matches!(ev.as_slice(), [Event::TransportError { tx: t }] if *t == tx));
    assert!(ep.client(tx).is_none());
}
