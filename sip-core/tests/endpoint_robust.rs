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

/// A STUN Binding request (RFC 5389 §6) with FINGERPRINT, as an RFC 5626 client sends to
/// the SIP port; written out byte by byte rather than with our encoder.
fn stun_binding_request() -> Vec<u8> {
    let mut m = vec![0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42];
    m.extend_from_slice(b"keepalive-01");
    // FINGERPRINT covers the message before it, with the length already counting it.
    let crc = crc32_reference(&m) ^ 0x5354_554E;
    m.extend_from_slice(&[0x80, 0x28, 0x00, 0x04]);
    m.extend_from_slice(&crc.to_be_bytes());
    m
}

/// CRC-32 bit by bit (polynomial 0xEDB88320, reflected), independent of the crate's.
fn crc32_reference(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn keepalives_are_answered_and_reported() {
    let t0 = t0();
    let mut ep = Endpoint::new(Config::default(), 1);
    // STUN on UDP: a Binding success response with our view of the source, and an event.
    ep.handle_datagram(t0, peer(), stun_binding_request());
    let (tx, ev) = drain(&mut ep);
    assert_eq!(tx.len(), 1);
    let r = &tx[0].payload;
    assert_eq!(
        (tx[0].transport, tx[0].destination),
        (Transport::Udp, peer())
    );
    assert_eq!(&r[..2], &[0x01, 0x01], "Binding success");
    assert_eq!(&r[8..20], b"keepalive-01");
    let port = u16::from_be_bytes([r[26], r[27]]) ^ 0x2112;
    assert_eq!(port, peer().port(), "XOR-MAPPED-ADDRESS port");
    let last = r.len() - 4;
    let crc = crc32_reference(&r[..last - 4]) ^ 0x5354_554E;
    assert_eq!(&r[last..], &crc.to_be_bytes(), "FINGERPRINT");
    assert!(matches!(
        ev[..],
        [Event::KeepAlive {
            transport: Transport::Udp,
            ..
        }]
    ));
    // A CRLF datagram: no answer, an event.
    ep.handle_datagram(t0, peer(), &b"\r\n\r\n"[..]);
    let (tx, ev) = drain(&mut ep);
    assert!(tx.is_empty());
    assert_eq!(ev.len(), 1);
    // A double CRLF on TCP: a single CRLF back, an event.
    ep.handle_stream_bytes(t0, Transport::Tcp, peer(), b"\r\n\r\n");
    let (tx, ev) = drain(&mut ep);
    assert_eq!(&tx[0].payload[..], b"\r\n");
    assert!(matches!(
        ev[..],
        [Event::KeepAlive {
            transport: Transport::Tcp,
            ..
        }]
    ));
    // A STUN response or a corrupted request is dropped silently.
    let mut bad = stun_binding_request();
    bad[27] ^= 1;
    ep.handle_datagram(t0, peer(), bad);
    assert_eq!(drain(&mut ep).0.len(), 0);
}
