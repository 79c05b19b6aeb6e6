//! Call flows between two endpoints on the deterministic simulated network: RFC 3665 §3
//! basic sessions (successful, busy, no answer with CANCEL, unsuccessful) on a clean link, and
//! the successful flow under 20 % loss with jitter and duplication, where only the RFC 3261
//! retransmission rules (Timers A, E, G and 2xx retransmission, re-ACK of repeated 2xx)
//! bring every call to completion. Virtual time: minutes of retransmissions run in
//! milliseconds.

mod txn_common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use pbxkit_sip_core::endpoint::{Config, Endpoint, Event};
use pbxkit_sip_core::sim::{LinkModel, Network};
use pbxkit_sip_core::transaction::Transport;
use pbxkit_sip_core::{HeaderName, Message, Method, RequestBuilder};
use txn_common::*;

fn uac_addr() -> SocketAddr {
    "127.0.0.1:5070".parse().expect("addr")
}

fn uas_addr() -> SocketAddr {
    "127.0.0.1:5080".parse().expect("addr")
}

const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// What the callee does with an INVITE.
#[derive(Clone, Copy)]
enum Callee {
    Answer,
    Busy,
    Ring,
    NotFound,
}

fn req(
    ep: &mut Endpoint,
    method: Method<'_>,
    call: &str,
    to_tag: Option<&str>,
    seq: u32,
) -> Message {
    let to = to_tag.map_or_else(
        || "<sip:bob@127.0.0.1>".to_owned(),
        |t| format!("<sip:bob@127.0.0.1>;tag={t}"),
    );
    let mut b = RequestBuilder::new(method, "sip:bob@127.0.0.1:5080")
        .via("UDP", "127.0.0.1:5070", &ep.new_branch())
        .from("<sip:alice@127.0.0.1>", "a1")
        .header(HeaderName::To, &to)
        .call_id(call)
        .header(HeaderName::CSeq, &format!("{seq} {}", method.as_str()))
        .max_forwards(70)
        .contact("<sip:alice@127.0.0.1:5070>");
    if method == Method::Invite {
        b = b.body("application/sdp", SDP);
    }
    b.build().expect("valid")
}

/// Final status per call and the calls whose BYE completed.
struct Outcome {
    finals: HashMap<String, u16>,
    hung_up: usize,
}

fn run_calls(
    link: LinkModel,
    calls: usize,
    callee: Callee,
    cancel_after: Option<Duration>,
) -> (Outcome, pbxkit_sip_core::sim::Counters) {
    let t0 = t0();
    let mut net = Network::new(t0, link, 0xC0FFEE);
    net.attach(uac_addr(), Endpoint::new(Config::default(), 1));
    net.attach(uas_addr(), Endpoint::new(Config::default(), 2));
    let mut invites = HashMap::new();
    for i in 0..calls {
        let call = format!("call-{i}");
        let ep = net.endpoint(uac_addr()).expect("uac");
        let m = req(ep, Method::Invite, &call, None, 1);
        let tx = ep
            .send_request(t0, m, Transport::Udp, uas_addr())
            .expect("send");
        invites.insert(tx, call);
    }
    let mut out = Outcome {
        finals: HashMap::new(),
        hung_up: 0,
    };
    let mut byes = HashMap::new();
    let deadline = secs(t0, 120.0);
    let mut cancelled = false;
    loop {
        if let Some(after) = cancel_after
            && !cancelled
            && net.now() >= t0 + after
        {
            cancelled = true;
            let now = net.now();
            let ep = net.endpoint(uac_addr()).expect("uac");
            for tx in invites.keys() {
                ep.cancel(now, *tx).expect("cancellable while ringing");
            }
        }
        let until = match cancel_after {
            Some(a) if !cancelled => t0 + a,
            _ => deadline,
        };
        let Some(events) = net.step(until) else {
            if cancelled || cancel_after.is_none() {
                break;
            }
            continue;
        };
        let now = net.now();
        for (at, ev) in events {
            if at == uas_addr() {
                let ep = net.endpoint(uas_addr()).expect("uas");
                if let Event::Request { tx, request, .. } = ev {
                    match (request.method(), callee) {
                        (Some(Method::Invite), Callee::Answer) => {
                            ep.reply(now, tx, 180, "Ringing").expect("180");
                            let sdp = bytes::Bytes::from_static(SDP);
                            let contact =
                                [(HeaderName::Contact, "<sip:bob@127.0.0.1:5080>".to_owned())];
                            ep.reply_with(
                                now,
                                tx,
                                200,
                                "OK",
                                &contact,
                                Some(("application/sdp", &sdp)),
                            )
                            .expect("200");
                        }
                        (Some(Method::Invite), Callee::Busy) => {
                            ep.reply(now, tx, 486, "Busy Here").expect("486")
                        }
                        (Some(Method::Invite), Callee::NotFound) => {
                            ep.reply(now, tx, 404, "Not Found").expect("404")
                        }
                        (Some(Method::Invite), Callee::Ring) => {
                            ep.reply(now, tx, 180, "Ringing").expect("180")
                        }
                        _ => ep.reply(now, tx, 200, "OK").expect("200"),
                    }
                }
                continue;
            }
            let ep = net.endpoint(uac_addr()).expect("uac");
            match ev {
                Event::Response { tx, response } => {
                    let code = response.status().unwrap_or(0);
                    if let Some(call) = invites.get(&tx).cloned() {
                        if code >= 200 {
                            out.finals.entry(call.clone()).or_insert(code);
                        }
                        if (200..300).contains(&code) {
                            // ACK every 2xx, first or retransmitted (RFC 3261 §13.2.2.4).
                            let tag = response.to().ok().and_then(|t| t.tag().map(str::to_owned));
                            let ack = req(ep, Method::Ack, &call, tag.as_deref(), 1);
                            ep.send_stateless(&ack, Transport::Udp, uas_addr());
                            if !byes.values().any(|c| c == &call) {
                                let bye = req(ep, Method::Bye, &call, tag.as_deref(), 2);
                                let btx = ep
                                    .send_request(now, bye, Transport::Udp, uas_addr())
                                    .expect("bye");
                                byes.insert(btx, call);
                            }
                        }
                    } else if byes.contains_key(&tx) && code == 200 {
                        out.hung_up += 1;
                    }
                }
                Event::Stray2xx { response } => {
                    let call = response
                        .call_id()
                        .map(|c| c.0.to_owned())
                        .unwrap_or_default();
                    let tag = response.to().ok().and_then(|t| t.tag().map(str::to_owned));
                    let ack = req(ep, Method::Ack, &call, tag.as_deref(), 1);
                    ep.send_stateless(&ack, Transport::Udp, uas_addr());
                }
                _ => {}
            }
        }
    }
    (out, net.counters())
}

#[test]
fn rfc3665_successful_session() {
    let (out, _) = run_calls(LinkModel::default(), 1, Callee::Answer, None);
    assert_eq!(out.finals.get("call-0"), Some(&200));
    assert_eq!(out.hung_up, 1);
}

#[test]
fn rfc3665_busy_and_unsuccessful() {
    let (out, _) = run_calls(LinkModel::default(), 1, Callee::Busy, None);
    assert_eq!(out.finals.get("call-0"), Some(&486));
    let (out, _) = run_calls(LinkModel::default(), 1, Callee::NotFound, None);
    assert_eq!(out.finals.get("call-0"), Some(&404));
}

#[test]
fn rfc3665_no_answer_cancelled() {
    // §3.8: the caller cancels a ringing call; the INVITE ends with 487.
    let (out, _) = run_calls(
        LinkModel::default(),
        3,
        Callee::Ring,
        Some(Duration::from_secs(5)),
    );
    assert_eq!(out.finals.len(), 3);
    assert!(out.finals.values().all(|c| *c == 487), "{:?}", out.finals);
}

#[test]
fn calls_complete_under_twenty_percent_loss() {
    let mut link = LinkModel::default();
    link.loss = 0.2;
    link.duplicate = 0.05;
    link.delay = Duration::from_millis(20);
    link.jitter = Duration::from_millis(40);

    let (out, counters) = run_calls(link, 40, Callee::Answer, None);
    assert!(
        counters.lost > 20,
        "the link did lose datagrams: {counters:?}"
    );
    assert_eq!(out.finals.len(), 40, "every INVITE got a final response");
    assert!(out.finals.values().all(|c| *c == 200));
    assert_eq!(out.hung_up, 40, "every BYE completed: {counters:?}");
}
