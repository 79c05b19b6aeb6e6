//! A ladder-diagram driver for flows between endpoints on the simulated network.
#![allow(dead_code, clippy::disallowed_methods)] // the virtual clock's origin is read once

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pbxkit_sip_core::dialog::*;
use pbxkit_sip_core::endpoint::{Config, Endpoint, Event};
use pbxkit_sip_core::sim::{LinkModel, Network};
use pbxkit_sip_core::transaction::{Transport, TxId};
use pbxkit_sip_core::{HeaderName, Message, Method, RequestBuilder};

pub(crate) const ALICE: &str = "127.0.0.1:5070";
pub(crate) const BOB: &str = "127.0.0.1:5080";
pub(crate) const CAROL: &str = "127.0.0.1:5090";

pub(crate) fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

pub(crate) fn sdp(mode: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na={mode}\r\n"
    )
}

/// The network plus the events not yet consumed by the script.
pub(crate) struct Ladder {
    pub(crate) net: Network,
    queue: Vec<(SocketAddr, Event)>,
    /// ACKs sent for 2xx, by sender: re-sent when the 2xx is retransmitted (§13.2.2.4).
    acks: Vec<(SocketAddr, SocketAddr, Message)>,
}

impl Ladder {
    pub(crate) fn new() -> Self {
        Self::with_link(LinkModel::default(), 7)
    }

    /// Nodes on a link with `link` behaviour and `seed` for its randomness.
    pub(crate) fn with_link(link: LinkModel, seed: u64) -> Self {
        let mut net = Network::new(Instant::now(), link, seed);
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
            acks: Vec::new(),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        self.net.now()
    }

    pub(crate) fn ep(&mut self, at: &str) -> &mut Endpoint {
        self.net.endpoint(addr(at)).expect("node")
    }

    pub(crate) fn via(&mut self, at: &str) -> (String, String, String) {
        ("UDP".into(), at.into(), self.ep(at).new_branch())
    }

    pub(crate) fn send(&mut self, from: &str, to: &str, m: Message) -> TxId {
        let now = self.now();
        self.ep(from)
            .send_request(now, m, Transport::Udp, addr(to))
            .expect("send")
    }

    /// Steps the network until `at` reports an event `f` accepts (at most 40 virtual s).
    pub(crate) fn wait(&mut self, at: &str, mut f: impl FnMut(&Event) -> bool) -> Event {
        let deadline = self.now() + Duration::from_secs(40);
        loop {
            if let Some(i) = self.queue.iter().position(|(a, e)| *a == addr(at) && f(e)) {
                return self.queue.remove(i).1;
            }
            let evs = self.net.step(deadline).expect("nothing happened in time");
            self.absorb(evs);
        }
    }

    /// Queues events, re-ACKing retransmitted 2xx to INVITEs we ACKed already.
    fn absorb(&mut self, evs: Vec<(SocketAddr, Event)>) {
        for (at, e) in &evs {
            let (Event::Response { response, .. } | Event::Stray2xx { response }) = e else {
                continue;
            };
            let same = |ack: &Message| {
                response.call_id().ok().map(|c| c.0) == ack.call_id().ok().map(|c| c.0)
                    && response.cseq().ok().map(|c| c.seq) == ack.cseq().ok().map(|c| c.seq)
                    && response.cseq().is_ok_and(|c| c.method == Method::Invite)
                    && response.status().is_some_and(|c| (200..300).contains(&c))
            };
            let again: Vec<(SocketAddr, Message)> = self
                .acks
                .iter()
                .filter(|(from, _, ack)| from == at && same(ack))
                .map(|(_, to, ack)| (*to, ack.clone()))
                .collect();
            for (to, ack) in again {
                if let Some(ep) = self.net.endpoint(*at) {
                    ep.send_stateless(&ack, Transport::Udp, to);
                }
            }
        }
        self.queue.extend(evs);
    }

    /// How many queued events at `at` satisfy `f`.
    pub(crate) fn count(&self, at: &str, f: impl Fn(&Event) -> bool) -> usize {
        self.queue
            .iter()
            .filter(|(a, e)| *a == addr(at) && f(e))
            .count()
    }

    /// Lets virtual time run to `t`, queueing what happens meanwhile.
    pub(crate) fn advance_to(&mut self, t: Instant) {
        while let Some(evs) = self.net.step(t) {
            self.absorb(evs);
        }
    }

    pub(crate) fn request(&mut self, at: &str, method: Method<'_>) -> (TxId, Message) {
        match self.wait(
            at,
            |e| matches!(e, Event::Request { request, .. } if request.method() == Some(method)),
        ) {
            Event::Request { tx, request, .. } => (tx, request),
            _ => unreachable!(),
        }
    }

    /// The ACK of call `call_id` with CSeq `seq` at `at` (re-ACKs of the same 2xx may follow
    /// and are left in the queue).
    pub(crate) fn ack(&mut self, at: &str, call_id: &str, seq: u32) -> Message {
        let is = |r: &Message| {
            r.call_id().is_ok_and(|c| c.0 == call_id) && r.cseq().is_ok_and(|c| c.seq == seq)
        };
        match self.wait(
            at,
            |e| matches!(e, Event::Ack { request, .. } if is(request)),
        ) {
            Event::Ack { request, .. } => request,
            _ => unreachable!(),
        }
    }

    pub(crate) fn response(&mut self, at: &str, tx: TxId, code: u16) -> Message {
        match self.wait(at, |e| {
            matches!(e, Event::Response { tx: t, response } if *t == tx && response.status() == Some(code))
        }) {
            Event::Response { response, .. } => response,
            _ => unreachable!(),
        }
    }

    /// Answers `tx` at `at`, with `contact` and a body, and returns the response sent.
    pub(crate) fn reply(
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
    pub(crate) fn in_dialog(
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
    pub(crate) fn send_ack(&mut self, d: &Dialog, at: &str, to: &str, seq: u32) {
        let (t, s, b) = self.via(at);
        let ack = d
            .ack(seq, (&t, &s, &b))
            .expect("ack")
            .build()
            .expect("valid");
        self.ep(at).send_stateless(&ack, Transport::Udp, addr(to));
        self.acks.push((addr(at), addr(to), ack));
    }

    /// A whole call setup `from` → `to`; returns the caller's dialog, the callee's dialog and
    /// the INVITE as the callee received it. `extra` goes into the INVITE.
    pub(crate) fn call(
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
        let ack = self.ack(to, call_id, 1);
        uas.on_request(&ack).expect("ACK in dialog");
        uas.confirm();
        (uac, uas, req)
    }
}
