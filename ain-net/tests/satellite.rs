//! Satellite driven frame by frame: idempotent config snapshots (MV-23), offline timing (MV-24).

#![allow(clippy::disallowed_methods)] // the virtual clock's origin is read once

mod sim;

use std::time::{Duration, Instant};

use pbxkit_ain_net::{
    ConnId, Frame, FrameDecoder, LinkState, Message, Satellite, SatelliteEvent, Timing,
};

fn sent(s: &mut Satellite) -> Vec<Message> {
    let mut d = FrameDecoder::new();
    while let Some(t) = s.poll_transmit() {
        d.push(&t.bytes);
    }
    std::iter::from_fn(|| d.next_frame().ok().flatten())
        .map(|f| f.msg)
        .collect()
}

fn feed(s: &mut Satellite, now: Instant, msg: Message) -> Vec<Message> {
    s.handle_stream_bytes(now, ConnId(1), &Frame { seq: 1, msg }.to_bytes());
    sent(s)
}

fn online() -> (Satellite, Instant) {
    let t0 = Instant::now();
    let mut s = Satellite::new(sim::sat_config(4, Timing::default()), t0);
    s.handle_connected(t0, ConnId(1));
    assert!(matches!(sent(&mut s)[..], [Message::Hello { node: 4, .. }]));
    let out = feed(&mut s, t0, Message::Challenge { nonce: [5; 32] });
    let mac = pbxkit_ain_net::auth::response(sim::SECRET, &[5; 32], 4, &sim::eid(4));
    assert_eq!(out, [Message::AuthResponse { mac }]);
    feed(&mut s, t0, Message::Welcome { config_version: 0 });
    assert_eq!(s.state(), LinkState::Online);
    (s, t0)
}

/// MV-23: snapshots apply atomically once; duplicates and stale versions are only acked.
#[test]
fn mv23_duplicate_and_stale_snapshots_are_idempotent() {
    let (mut s, t0) = online();
    let snap = |version, d: &str| Message::ConfigSnapshot {
        version,
        data: d.into(),
    };
    assert_eq!(
        feed(&mut s, t0, snap(2, "b")),
        [Message::ConfigAck { version: 2 }]
    );
    assert_eq!(
        feed(&mut s, t0, snap(2, "b")),
        [Message::ConfigAck { version: 2 }]
    );
    assert_eq!(
        feed(&mut s, t0, snap(1, "a")),
        [Message::ConfigAck { version: 2 }]
    );
    let applied: Vec<_> = std::iter::from_fn(|| s.poll_event())
        .filter(|e| matches!(e, SatelliteEvent::ConfigApplied { .. }))
        .collect();
    assert_eq!(
        applied,
        [SatelliteEvent::ConfigApplied {
            version: 2,
            data: b"b".to_vec()
        }]
    );
    assert_eq!(s.config_version(), 2);
}

/// MV-24: heartbeats answered keep it online; 30 s (default) of silence → offline, not before.
#[test]
fn mv24_offline_exactly_after_the_default_timeout() {
    let (mut s, t0) = online();
    let hb = Message::Heartbeat { config_version: 0 };
    assert_eq!(
        feed(&mut s, t0 + Duration::from_secs(5), hb),
        [Message::Heartbeat { config_version: 0 }]
    );
    s.handle_timeout(t0 + Duration::from_secs(34));
    assert_eq!(s.state(), LinkState::Online);
    s.handle_timeout(t0 + Duration::from_secs(35));
    assert_eq!(s.state(), LinkState::Offline);
    assert!(s.offline_licences_valid(t0 + Duration::from_secs(35 + 36 * 3600 - 1)));
    assert!(!s.offline_licences_valid(t0 + Duration::from_secs(35 + 36 * 3600)));
}
