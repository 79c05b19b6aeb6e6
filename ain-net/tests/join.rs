//! Join handshake against the master, driven frame by frame (MV2-28, MV2-29, MV-22).

#![allow(clippy::disallowed_methods)] // the virtual clock's origin is read once

mod sim;

use std::time::Instant;

use pbxkit_ain_net::{
    ConnId, Frame, FrameDecoder, Master, MasterEvent, Message, NodeStatus, RefuseReason, Timing,
    auth,
};

fn frames_out(m: &mut Master) -> (Vec<Message>, bool) {
    let (mut d, mut out, mut closed) = (FrameDecoder::new(), Vec::new(), false);
    while let Some(t) = m.poll_transmit() {
        d.push(&t.bytes);
        closed |= t.close;
    }
    while let Ok(Some(f)) = d.next_frame() {
        out.push(f.msg);
    }
    (out, closed)
}

fn join(m: &mut Master, conn: u64, node: u16, eid: &str, ver: &str, secret: &[u8]) -> Vec<Message> {
    let now = Instant::now();
    let c = ConnId(conn);
    m.handle_connected(c);
    let hello = Message::Hello {
        node,
        eid: eid.into(),
        sw_version: ver.into(),
    };
    m.handle_stream_bytes(now, c, &Frame { seq: 1, msg: hello }.to_bytes());
    let (msgs, _) = frames_out(m);
    let [Message::Challenge { nonce }] = msgs[..] else {
        panic!("challenge expected: {msgs:?}")
    };
    let mac = auth::response(secret, &nonce, node, eid);
    m.handle_stream_bytes(
        now,
        c,
        &Frame {
            seq: 2,
            msg: Message::AuthResponse { mac },
        }
        .to_bytes(),
    );
    frames_out(m).0
}

fn master() -> Master {
    Master::new(sim::master_config(60, Timing::default()), [1; 32])
}

#[test]
fn mv2_29_authenticated_known_node_is_welcomed_with_a_snapshot() {
    let mut m = master();
    let out = join(&mut m, 1, 3, &sim::eid(3), sim::VERSION, sim::SECRET);
    // Then the AIN-wide remote-maintenance state (MV2-31), locked by default.
    assert!(matches!(
        out[..],
        [
            Message::Welcome { .. },
            Message::ConfigSnapshot { .. },
            Message::Maintenance { unlocked: false }
        ]
    ));
}

/// An unauthenticated peer learns nothing: wrong secret gets BadAuth even with a wrong
/// version or an unknown EID (those are checked only after authentication, MV2-28).
#[test]
fn bad_secret_learns_nothing_but_bad_auth() {
    let mut m = master();
    let refused = |r| vec![Message::Refused { reason: r }];
    assert_eq!(
        join(&mut m, 1, 3, "nope", "0.1", b"wrong"),
        refused(RefuseReason::BadAuth)
    );
    assert_eq!(
        join(&mut m, 2, 3, &sim::eid(3), "0.1", sim::SECRET),
        refused(RefuseReason::VersionMismatch)
    );
    assert_eq!(
        join(&mut m, 3, 3, "EID-other", sim::VERSION, sim::SECRET),
        refused(RefuseReason::UnknownNode)
    );
    assert!(m.joined().is_empty());
}

/// MV-22: the same node id cannot join twice, and the 50th satellite is refused as Full.
#[test]
fn mv22_duplicate_node_and_fiftieth_satellite_are_refused() {
    let mut m = master();
    for n in 1..=49u16 {
        let out = join(
            &mut m,
            u64::from(n),
            n,
            &sim::eid(n.into()),
            sim::VERSION,
            sim::SECRET,
        );
        assert!(matches!(out[0], Message::Welcome { .. }), "node {n}");
    }
    let full = vec![Message::Refused {
        reason: RefuseReason::Full,
    }];
    assert_eq!(
        join(&mut m, 100, 50, &sim::eid(50), sim::VERSION, sim::SECRET),
        full
    );
    assert_eq!(m.joined().len(), 49);
}

/// A frame out of place (config ack before authentication) closes the connection.
#[test]
fn message_before_authentication_closes_the_connection() {
    let mut m = master();
    m.handle_connected(ConnId(1));
    let ack = Frame {
        seq: 1,
        msg: Message::ConfigAck { version: 1 },
    }
    .to_bytes();
    m.handle_stream_bytes(Instant::now(), ConnId(1), &ack);
    let (msgs, closed) = frames_out(&mut m);
    assert!(msgs.is_empty() && closed);
}

fn send(m: &mut Master, conn: u64, msg: Message) -> Vec<Message> {
    m.handle_stream_bytes(
        Instant::now(),
        ConnId(conn),
        &Frame { seq: 9, msg }.to_bytes(),
    );
    frames_out(m).0
}

/// MV-17, MV-26: the master's pooled channel units are a semaphore; an inter-node call takes
/// 2 units; a repeated acquire is not counted twice; a lost node's units return to the pool.
#[test]
fn mv17_mv26_pooled_channels_are_a_master_side_semaphore() {
    let mut m = master();
    m.set_channel_pool(5);
    join(&mut m, 1, 1, &sim::eid(1), sim::VERSION, sim::SECRET);
    join(&mut m, 2, 2, &sim::eid(2), sim::VERSION, sim::SECRET);
    let acq = |request| Message::ChannelAcquire { request, units: 2 };
    assert_eq!(
        send(&mut m, 1, acq(1)),
        [Message::ChannelGrant { request: 1 }]
    );
    assert_eq!(
        send(&mut m, 1, acq(1)),
        [Message::ChannelGrant { request: 1 }]
    );
    assert_eq!(
        m.channels_in_use(),
        2,
        "duplicate acquire not double counted"
    );
    assert_eq!(
        send(&mut m, 2, acq(1)),
        [Message::ChannelGrant { request: 1 }]
    );
    assert_eq!(
        send(&mut m, 2, acq(2)),
        [Message::ChannelDeny { request: 2 }]
    );
    assert_eq!(m.channels_in_use(), 4);
    assert!(send(&mut m, 2, Message::ChannelRelease { request: 1 }).is_empty());
    assert!(send(&mut m, 2, Message::ChannelRelease { request: 1 }).is_empty());
    assert_eq!(m.channels_in_use(), 2, "release is idempotent");
    m.handle_closed(ConnId(1));
    assert_eq!(m.channels_in_use(), 0, "lost node's units released");
}

/// MV-17: a node reporting requests the master has no record of (the master restarted)
/// gets them counted at an inter-node call's 2 units; a later report that drops one frees it.
#[test]
fn mv17_status_from_a_node_sets_its_pool_holdings() {
    let mut m = master();
    m.set_channel_pool(4);
    join(&mut m, 1, 1, &sim::eid(1), sim::VERSION, sim::SECRET);
    let status = |held: &[u64]| {
        Message::Status(NodeStatus {
            active_calls: held.len() as u32,
            was_offline: true,
            held_requests: held.to_vec(),
        })
    };
    assert!(send(&mut m, 1, status(&[7, 8, 9])).is_empty());
    assert_eq!(
        m.channels_in_use(),
        6,
        "running calls count beyond the pool"
    );
    assert!(send(&mut m, 1, status(&[8])).is_empty());
    assert_eq!(m.channels_in_use(), 2);
    let events: Vec<MasterEvent> = std::iter::from_fn(|| m.poll_event()).collect();
    assert!(events.contains(&MasterEvent::PoolReconciled {
        node: 1,
        requests: 1,
        in_use: 2
    }));
}
