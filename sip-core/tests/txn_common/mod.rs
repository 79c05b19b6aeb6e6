//! Shared helpers for the transaction and endpoint tests: a virtual clock and message makers.
#![allow(dead_code, clippy::disallowed_methods)] // the virtual clock's origin is read once

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pbxkit_sip_core::Message;
use pbxkit_sip_core::endpoint::{Config, Endpoint, Event};
use pbxkit_sip_core::transaction::Transmit;

pub(crate) const PEER: &str = "127.0.0.1:5070";

pub(crate) fn peer() -> SocketAddr {
    PEER.parse().expect("addr")
}

/// The origin of virtual time.
pub(crate) fn t0() -> Instant {
    Instant::now()
}

pub(crate) fn secs(t0: Instant, s: f64) -> Instant {
    t0 + Duration::from_secs_f64(s)
}

pub(crate) fn endpoint() -> Endpoint {
    Endpoint::new(Config::default(), 42)
}

/// A request from the peer: `to_tag` for in-dialog requests (and 2xx ACKs).
pub(crate) fn request(
    method: &str,
    branch: &str,
    to_tag: Option<&str>,
    extra: &str,
    body: &str,
) -> Message {
    let raw = format!(
        "{method} sip:bob@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=a1\r\n\
         To: <sip:bob@127.0.0.1>{}\r\n\
         Call-ID: call-1@127.0.0.1\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:alice@127.0.0.1:5070>\r\n\
         {extra}Content-Length: {}\r\n\r\n{body}",
        to_tag.map(|t| format!(";tag={t}")).unwrap_or_default(),
        body.len()
    );
    Message::parse(raw.into_bytes()).expect("valid request")
}

/// A response to `req` as a peer would send it.
pub(crate) fn response(req: &Message, code: u16, to_tag: Option<&str>) -> Message {
    let mut b = pbxkit_sip_core::ResponseBuilder::reply(req, code, "Reason", to_tag);
    if code == 200 {
        b = b.header(
            pbxkit_sip_core::HeaderName::Contact,
            "<sip:bob@127.0.0.1:5080>",
        );
    }
    b.build().expect("valid response")
}

pub(crate) fn drain(ep: &mut Endpoint) -> (Vec<Transmit>, Vec<Event>) {
    let mut t = Vec::new();
    while let Some(x) = ep.poll_transmit() {
        t.push(x);
    }
    let mut e = Vec::new();
    while let Some(x) = ep.poll_event() {
        e.push(x);
    }
    (t, e)
}

/// What happened when, in seconds since t0.
pub(crate) type Timeline = (Vec<(f64, Transmit)>, Vec<(f64, Event)>);

/// Runs the endpoint's timers until `until`, returning (time since t0 in seconds, transmit).
pub(crate) fn run_until(ep: &mut Endpoint, t0: Instant, until: Instant) -> Timeline {
    let mut sent = Vec::new();
    let mut events = Vec::new();
    while let Some(at) = ep.poll_timeout() {
        if at > until {
            break;
        }
        ep.handle_timeout(at);
        let (t, e) = drain(ep);
        let s = (at - t0).as_secs_f64();
        sent.extend(t.into_iter().map(|x| (s, x)));
        events.extend(e.into_iter().map(|x| (s, x)));
    }
    (sent, events)
}

pub(crate) fn first_line(t: &Transmit) -> String {
    let s = String::from_utf8_lossy(&t.payload);
    s.lines().next().unwrap_or("").to_owned()
}

pub(crate) fn parse(t: &Transmit) -> Message {
    Message::parse(t.payload.clone()).expect("endpoint output parses")
}
