//! Transactions through the sans-IO `Endpoint`, two endpoints wired back to back in memory
//! (no sockets): an OPTIONS transaction (request, 200) and a whole call (INVITE, 100, 200,
//! ACK, BYE, 200), each through both the client and the server side. Also prints the size
//! of the per-transaction and per-dialog state, and the heap each one really holds (measured
//! with a counting allocator over 1,000 live instances).
//!
//! Run: `cargo bench -p pbxkit-benches --bench sip_endpoint`.
#![allow(missing_docs, clippy::disallowed_methods)]

use std::alloc::System;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sip_core::dialog::{Dialog, InviteGuard, SessionTimer, Subscription, UacReliable, UasReliable};
use sip_core::endpoint::{Config, Endpoint, Event};
use sip_core::transaction::{ClientTransaction, ServerTransaction, Transport};
use sip_core::{HeaderName, Method, RequestBuilder};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static ALLOC: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes, from the instrumented allocator.
fn live() -> isize {
    let s = ALLOC.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize + s.bytes_reallocated
}

const UAC: &str = "127.0.0.1:5070";
const UAS: &str = "127.0.0.1:5080";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

/// Delivers everything `from` wants to send to `to`.
fn pump(now: Instant, from: &mut Endpoint, to: &mut Endpoint, src: SocketAddr) {
    while let Some(t) = from.poll_transmit() {
        to.handle_datagram(now, src, t.payload);
    }
}

fn request(
    ep: &mut Endpoint,
    method: Method<'_>,
    call: u64,
    to_tag: Option<&str>,
    seq: u32,
) -> sip_core::Message {
    let branch = ep.new_branch();
    let to = match to_tag {
        Some(t) => format!("<sip:bob@127.0.0.1>;tag={t}"),
        None => "<sip:bob@127.0.0.1>".to_owned(),
    };
    let mut b = RequestBuilder::new(method, "sip:bob@127.0.0.1:5080")
        .via("UDP", UAC, &branch)
        .from("<sip:alice@127.0.0.1>", "a1")
        .header(HeaderName::To, &to)
        .call_id(&format!("bench-{call}"))
        .header(HeaderName::CSeq, &format!("{seq} {}", method.as_str()))
        .max_forwards(70)
        .contact("<sip:alice@127.0.0.1:5070>");
    if method == Method::Invite {
        b = b.body("application/sdp", &b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"[..]);
    }
    b.build().expect("valid request")
}

/// Answers every request the UAS endpoint reports with 200 (and SDP for INVITE).
fn serve(now: Instant, uas: &mut Endpoint) {
    while let Some(ev) = uas.poll_event() {
        if let Event::Request { tx, .. } = ev {
            uas.reply(now, tx, 200, "OK").expect("reply");
        }
    }
}

fn options(now: Instant, uac: &mut Endpoint, uas: &mut Endpoint, n: u64) {
    let req = request(uac, Method::Options, n, None, 1);
    uac.send_request(now, req, Transport::Udp, addr(UAS))
        .expect("send");
    pump(now, uac, uas, addr(UAC));
    serve(now, uas);
    pump(now, uas, uac, addr(UAS));
    while uac.poll_event().is_some() {}
}

fn call(now: Instant, uac: &mut Endpoint, uas: &mut Endpoint, n: u64) {
    let invite = request(uac, Method::Invite, n, None, 1);
    uac.send_request(now, invite, Transport::Udp, addr(UAS))
        .expect("send");
    pump(now, uac, uas, addr(UAC));
    serve(now, uas);
    pump(now, uas, uac, addr(UAS));
    let mut tag = None;
    while let Some(ev) = uac.poll_event() {
        if let Event::Response { response, .. } = ev
            && response.status() == Some(200)
        {
            tag = response.to().ok().and_then(|t| t.tag().map(str::to_owned));
        }
    }
    let tag = tag.expect("answered");
    let ack = request(uac, Method::Ack, n, Some(&tag), 1);
    uac.send_stateless(&ack, Transport::Udp, addr(UAS));
    pump(now, uac, uas, addr(UAC));
    while uas.poll_event().is_some() {}
    let bye = request(uac, Method::Bye, n, Some(&tag), 2);
    uac.send_request(now, bye, Transport::Udp, addr(UAS))
        .expect("send");
    pump(now, uac, uas, addr(UAC));
    serve(now, uas);
    pump(now, uas, uac, addr(UAS));
    while uac.poll_event().is_some() {}
}

/// Heap held per live transaction pair and per dialog: 1,000 OPTIONS transactions left in
/// their Completed/Timer K and J wait, 1,000 answered calls (INVITE server transactions in
/// Accepted), and 1,000 UAS dialogs built from the INVITE.
fn heap_per_state() {
    const N: u64 = 1000;
    let now = Instant::now();
    let (mut uac, mut uas) = (
        Endpoint::new(Config::default(), 11),
        Endpoint::new(Config::default(), 12),
    );
    // Warm up buffers and maps so their growth is not counted as per-transaction cost.
    for n in 0..N {
        options(now, &mut uac, &mut uas, n);
    }
    let before = live();
    for n in N..2 * N {
        options(now, &mut uac, &mut uas, n);
    }
    let per_tx = (live() - before) / N as isize;
    let before = live();
    for n in 2 * N..3 * N {
        call(now, &mut uac, &mut uas, n);
    }
    let per_call = (live() - before) / N as isize;
    let invites: Vec<_> = (0..N)
        .map(|n| request(&mut uac, Method::Invite, n, None, 1))
        .collect();
    let before = live();
    let dialogs: Vec<_> = invites
        .iter()
        .map(|r| Dialog::uas(r, "t1").expect("dialog"))
        .collect();
    let per_dialog = (live() - before) / N as isize;
    eprintln!(
        "heap per live OPTIONS transaction (client + server side, retained messages included): \
         {per_tx} B; per finished call (INVITE + BYE transactions, both sides): {per_call} B; \
         per UAS dialog: {per_dialog} B"
    );
    black_box((uac, uas, dialogs));
}

fn bench(c: &mut Criterion) {
    heap_per_state();
    eprintln!(
        "state sizes: client transaction {} B, server transaction {} B, dialog {} B (plus the \
         messages they keep)",
        size_of::<ClientTransaction>(),
        size_of::<ServerTransaction>(),
        size_of::<Dialog>()
    );
    eprintln!(
        "dialog extensions: UAS 100rel {} B (plus the pending 1xx), UAC 100rel {} B, session \
         timer {} B, subscription {} B, glare guard {} B",
        size_of::<UasReliable>(),
        size_of::<UacReliable>(),
        size_of::<SessionTimer>(),
        size_of::<Subscription>(),
        size_of::<InviteGuard>()
    );
    // Virtual time advances 1 ms per iteration and timers run, so finished transactions
    // leave after their Timer J/K/L/M and memory stays bounded (about 64 s of work live).
    let start = Instant::now();
    let tick = |n: u64| start + std::time::Duration::from_millis(n);
    let mut g = c.benchmark_group("sip_endpoint");
    g.throughput(Throughput::Elements(1));
    let (mut uac, mut uas) = (
        Endpoint::new(Config::default(), 1),
        Endpoint::new(Config::default(), 2),
    );
    let mut n = 0u64;
    g.bench_function("options_transaction", |b| {
        b.iter(|| {
            n += 1;
            let now = tick(n);
            options(now, &mut uac, &mut uas, n);
            uac.handle_timeout(now);
            uas.handle_timeout(now);
        });
    });
    let (mut uac, mut uas) = (
        Endpoint::new(Config::default(), 3),
        Endpoint::new(Config::default(), 4),
    );
    g.bench_function("call_invite_ack_bye", |b| {
        b.iter(|| {
            n += 1;
            let now = tick(n);
            call(now, &mut uac, &mut uas, n);
            uac.handle_timeout(now);
            uas.handle_timeout(now);
        });
    });
    g.finish();
    eprintln!(
        "live transactions at the end (client, server): {:?}",
        black_box(uac.transaction_count())
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
