//! Nothing from the network panics the endpoint: RFC 4475 messages, mutated byte by byte
//! (seeded, bounded), fed as datagrams and as stream chunks, with timers run to the end.

mod txn_common;

use pbxkit_sip_core::endpoint::{Config, Endpoint, Event};
use pbxkit_sip_core::transaction::Transport;
use txn_common::*;

#[test]
fn mutated_torture_messages_never_panic_and_state_stays_bounded() {
    let Some(dir) = testkit::shared_testdata("endpoint robustness", "sip/rfc4475") else {
        return;
    };
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        if entry.path().extension().is_some_and(|e| e == "dat") {
            seeds.push(testkit::read(&entry.path()));
        }
    }
    assert!(seeds.len() > 40);
    let t0 = t0();
    let mut ep = Endpoint::new(Config::default(), 1);
    let mut rng = testkit::Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000u32 {
        let mut msg = seeds[(rng.next_u64() % seeds.len() as u64) as usize].clone();
        for _ in 0..1 + rng.next_u64() % 4 {
            if msg.is_empty() {
                break;
            }
            let at = (rng.next_u64() % msg.len() as u64) as usize;
            match rng.next_u64() % 3 {
                0 => msg[at] = rng.next_u64() as u8,
                1 => {
                    msg.remove(at);
                }
                _ => msg.insert(at, b"\r\n:;,<>\"% "[(rng.next_u64() % 10) as usize]),
            }
        }
        let now = secs(t0, f64::from(i) * 0.001);
        if i % 2 == 0 {
            ep.handle_datagram(now, peer(), msg);
        } else {
            for chunk in msg.chunks(1 + (rng.next_u64() % 64) as usize) {
                ep.handle_stream_bytes(now, Transport::Tcp, peer(), chunk);
            }
        }
        ep.handle_timeout(now);
        // The application answers every request it is given.
        let (_, events) = drain(&mut ep);
        for e in events {
            if let Event::Request { tx, request, .. } = e {
                let r = ep.reply(now, tx, 503, "Busy");
                assert!(
                    r.is_ok(),
                    "{r:?} for {:?}",
                    String::from_utf8_lossy(&request.to_bytes())
                );
            }
        }
        drain(&mut ep);
    }
    // Let every timer run out: all transactions end.
    run_until(&mut ep, t0, secs(t0, 200.0));
    assert_eq!(ep.transaction_count(), (0, 0));
}
