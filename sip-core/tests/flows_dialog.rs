//! In-dialog flows on the deterministic simulated network, written as ladder diagrams:
//! re-INVITE hold with a target refresh (RFC 3261 §12.2, §14; RFC 3264 §8.4 hold),
//! reliable provisional responses with PRACK (RFC 3262), and an attended transfer with REFER,
//! NOTIFY sipfrag and INVITE/Replaces (RFC 3515 §2.4, RFC 3891 §3, RFC 5589 §7).
#![allow(clippy::disallowed_methods)] // the virtual clock's origin is read once

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pbxkit_sip_core::dialog::*;
use pbxkit_sip_core::endpoint::{Config, Endpoint, Event};
use pbxkit_sip_core::sim::{LinkModel, Network};
use pbxkit_sip_core::transaction::{Transport, TxId};
use pbxkit_sip_core::{HeaderName, Message, Method, RequestBuilder};

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const CAROL: &str = "127.0.0.1:5090";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

fn sdp(mode: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na={mode}\r\n"
    )
}

/// The network plus the events not yet consumed by the script.
struct Ladder {
    net: Network,
    queue: Vec<(SocketAddr, Event)>,
}

impl Ladder {
    fn new() -> Self {
        let mut net = Network::new(Instant::now(), LinkModel::default(), 7);
        for (i, a) in [ALICE, BOB, CAROL].into_iter().enumerate() {
            let mut c = Config::default();
            c.allow
                .extend(["REFER", "NOTIFY", "SUBSCRIBE"].map(String::from));
            c.accept.push("message/sipfrag".into());
            c.supported.push(TAG_100REL.into());
            net.attach(addr(a), Endpoint::new(c, i as u64 + 1));
        }
        Self {
            net,
            queue: Vec::new(),
        }
    }

    fn now(&self) -> Instant {
        self.net.now()
    }

    fn ep(&mut self, at: &str) -> &mut Endpoint {
        self.net.endpoint(addr(at)).expect("node")
    }

    fn via(&mut self, at: &str) -> (String, String, String) {
        ("UDP".into(), at.into(), self.ep(at).new_branch())
    }

    fn send(&mut self, from: &str, to: &str, m: Message) -> TxId {
        let now = self.now();
        self.ep(from)
            .send_request(now, m, Transport::Udp, addr(to))
            .expect("send")
    }

    /// Steps the network until `at` reports an event `f` accepts (at most 40 virtual s).
    fn wait(&mut self, at: &str, mut f: impl FnMut(&Event) -> bool) -> Event {
        let deadline = self.now() + Duration::from_secs(40);
        loop {
            if let Some(i) = self.queue.iter().position(|(a, e)| *a == addr(at) && f(e)) {
                return self.queue.remove(i).1;
            }
            let evs = self.net.step(deadline).expect("nothing happened in time");
            self.queue.extend(evs);
        }
    }

    fn request(&mut self, at: &str, method: Method<'_>) -> (TxId, Message) {
        match self.wait(
            at,
            |e| matches!(e, Event::Request { request, .. } if request.method() == Some(method)),
        ) {
            Event::Request { tx, request, .. } => (tx, request),
            _ => unreachable!(),
        }
    }

    fn ack(&mut self, at: &str) -> Message {
        match self.wait(at, |e| matches!(e, Event::Ack { .. })) {
            Event::Ack { request, .. } => request,
            _ => unreachable!(),
        }
    }

    fn response(&mut self, at: &str, tx: TxId, code: u16) -> Message {
        match self.wait(at, |e| {
            matches!(e, Event::Response { tx: t, response } if *t == tx && response.status() == Some(code))
        }) {
            Event::Response { response, .. } => response,
            _ => unreachable!(),
        }
    }

    /// Answers `tx` at `at`, with `contact` and a body, and returns the response sent.
    fn reply(
        &mut self,
        at: &str,
        tx: TxId,
        code: u16,
        extra: &[(HeaderName, String)],
        body: Option<(&str, String)>,
    ) -> Message {
        let now = self.now();
        let mut all = extra.to_vec();
        all.push((HeaderName::Contact, format!("<sip:u@{at}>")));
        let body = body.map(|(t, b)| (t, Bytes::from(b)));
        let ep = self.ep(at);
        let resp = ep
            .build_response(
                tx,
                code,
                "Whatever",
                &all,
                body.as_ref().map(|(t, b)| (*t, b)),
            )
            .expect("build");
        ep.respond(now, tx, &resp).expect("respond");
        resp
    }

    /// Sends an in-dialog request built by `d` from `at` to `to`, with optional headers/body.
    fn in_dialog(
        &mut self,
        d: &mut Dialog,
        at: &str,
        to: &str,
        method: Method<'_>,
        extra: &[(HeaderName, String)],
        body: Option<(&str, String)>,
    ) -> (TxId, Message) {
        let (t, s, b) = self.via(at);
        let mut rb = d
            .request(method, (&t, &s, &b))
            .expect("build")
            .contact(&format!("<sip:u@{at}>"));
        for (n, v) in extra {
            rb = rb.header(*n, v);
        }
        if let Some((ty, body)) = body {
            rb = rb.body(ty, body.into_bytes());
        }
        let m = rb.build().expect("valid");
        (self.send(at, to, m.clone()), m)
    }

    /// ACKs a 2xx to the INVITE with CSeq `seq` (§13.2.2.4).
    fn send_ack(&mut self, d: &Dialog, at: &str, to: &str, seq: u32) {
        let (t, s, b) = self.via(at);
        let ack = d
            .ack(seq, (&t, &s, &b))
            .expect("ack")
            .build()
            .expect("valid");
        self.ep(at).send_stateless(&ack, Transport::Udp, addr(to));
    }

    /// A whole call setup `from` → `to`; returns the caller's dialog, the callee's dialog and
    /// the INVITE as the callee received it. `extra` goes into the INVITE.
    fn call(
        &mut self,
        from: &str,
        to: &str,
        call_id: &str,
        extra: &[(HeaderName, String)],
    ) -> (Dialog, Dialog, Message) {
        let (t, s, b) = self.via(from);
        let mut rb = RequestBuilder::new(Method::Invite, &format!("sip:u@{to}"))
            .via(&t, &s, &b)
            .from(&format!("<sip:u@{from}>"), &format!("tag-{call_id}"))
            .to(&format!("<sip:u@{to}>"))
            .call_id(call_id)
            .cseq(1)
            .max_forwards(70)
            .contact(&format!("<sip:u@{from}>"));
        for (n, v) in extra {
            rb = rb.header(*n, v);
        }
        let invite = rb
            .body("application/sdp", sdp("sendrecv").into_bytes())
            .build()
            .expect("valid");
        let tx = self.send(from, to, invite.clone());
        let (stx, req) = self.request(to, Method::Invite);
        let tag = self.ep(to).to_tag(stx).expect("tag").to_owned();
        let mut uas = Dialog::uas(&req, &tag).expect("uas dialog");
        self.reply(
            to,
            stx,
            200,
            &[],
            Some(("application/sdp", sdp("sendrecv"))),
        );
        let ok = self.response(from, tx, 200);
        let uac = Dialog::uac(&invite, &ok).expect("uac dialog");
        self.send_ack(&uac, from, to, 1);
        let ack = self.ack(to);
        uas.on_request(&ack).expect("ACK in dialog");
        uas.confirm();
        (uac, uas, req)
    }
}

#[test]
fn reinvite_hold_refreshes_target_and_keeps_cseq_order() {
    // Alice                Bob
    //   |--INVITE/200/ACK---|   call up
    //   |--re-INVITE sendonly, new Contact-->|   hold (RFC 3264 §8.4), target refresh (§12.2)
    //   |<-200 recvonly-----|
    //   |--ACK------------->|
    //   |<-BYE--------------|   Bob's first CSeq in his own space
    //   |--200------------->|
    let mut l = Ladder::new();
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
    let ack = l.ack(BOB);
    assert_eq!(
        ack.cseq().expect("cseq").seq,
        2,
        "ACK carries the re-INVITE's CSeq"
    );
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
    let ack = l.ack(BOB);
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
    // Alice        Bob         Carol
    //   |<==call==>|            |
    //   |          |<==call====>|   Bob consults Carol
    //   |<-REFER---|            |   Refer-To: Carol?Replaces=<Bob–Carol dialog> (RFC 3515 §2.4)
    //   |--202---->|            |
    //   |--NOTIFY 100 Trying--->|   implicit subscription, sipfrag body (§2.4.5)
    //   |--INVITE Replaces----------->|   RFC 3891 §3: Carol matches her dialog with Bob
    //   |<-200------------------------|
    //   |          |<-BYE-------|   Carol ends the replaced dialog
    //   |--NOTIFY 200 OK, terminated->|
    //   |<-BYE-----|            |   Bob leaves
    let mut l = Ladder::new();
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
}
