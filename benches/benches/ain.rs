//! The AIN protocol (`ain-net`): frames per second, encoded and decoded, for typical
//! messages; and the time a configuration change takes to reach 49 satellites (50 nodes,
//! MV-22) over in-memory links without latency, which is the protocol's own cost.
//!
//! Run: `cargo bench -p pbxkit-benches --bench ain`.
#![allow(missing_docs, clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use ain_net::{
    ConnId, Frame, LinkState, Master, MasterConfig, Message, Satellite, SatelliteConfig, Timing,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn messages() -> Vec<(&'static str, Message)> {
    vec![
        ("heartbeat", Message::Heartbeat { config_version: 7 }),
        (
            "channel_acquire",
            Message::ChannelAcquire {
                request: 42,
                units: 2,
            },
        ),
        (
            "config_snapshot_4k",
            Message::ConfigSnapshot {
                version: 8,
                data: vec![b'x'; 4096],
            },
        ),
        (
            "directory_100",
            Message::Directory {
                entries: (0..100)
                    .map(|i| (format!("{}", 2000 + i), i % 50))
                    .collect(),
            },
        ),
    ]
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("ain_frame");
    for (name, msg) in messages() {
        let frame = Frame { seq: 1, msg };
        let len = frame.to_bytes().len() as u64;
        group.throughput(Throughput::Bytes(len));
        group.bench_function(format!("encode+decode/{name}"), |b| {
            b.iter(|| {
                let bytes = black_box(&frame).to_bytes();
                let (back, used) = Frame::decode(&bytes).unwrap().unwrap();
                black_box((back.seq, used))
            });
        });
    }
    group.finish();
}

const SECRET: &[u8] = b"bench-secret";

/// A master and `n` satellites joined over in-memory links (connection i + 1 is satellite i).
struct Net {
    now: Instant,
    master: Master,
    sats: Vec<Satellite>,
}

impl Net {
    fn new(n: usize) -> Self {
        let timing = Timing::default();
        let eid = |i: usize| format!("EID-{i:04}");
        let master = Master::new(
            MasterConfig {
                secret: SECRET.to_vec(),
                sw_version: "1.0".into(),
                nodes: (1..=n as u16).map(|i| (i, eid(usize::from(i)))).collect(),
                timing,
            },
            [7; 32],
        );
        let now = Instant::now();
        let sats = (1..=n)
            .map(|i| {
                let cfg = SatelliteConfig {
                    node: i as u16,
                    eid: eid(i),
                    sw_version: "1.0".into(),
                    secret: SECRET.to_vec(),
                    timing,
                };
                Satellite::new(cfg, now)
            })
            .collect();
        let mut net = Self { now, master, sats };
        for i in 0..n {
            let conn = ConnId(i as u64 + 1);
            net.master.handle_connected(conn);
            net.sats[i].handle_connected(net.now, conn);
        }
        net.pump();
        assert!(net.sats.iter().all(|s| s.state() == LinkState::Online));
        net
    }

    /// Delivers every queued frame until the network is quiet.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.master.poll_transmit() {
                let i = (t.conn.0 - 1) as usize;
                self.sats[i].handle_stream_bytes(self.now, t.conn, &t.bytes);
                moved = true;
            }
            for s in &mut self.sats {
                while let Some(t) = s.poll_transmit() {
                    self.master.handle_stream_bytes(self.now, t.conn, &t.bytes);
                    moved = true;
                }
                while s.poll_event().is_some() {}
            }
            while self.master.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }
}

fn config_sync(c: &mut Criterion) {
    let mut net = Net::new(49);
    let data = vec![b'c'; 4096];
    let mut group = c.benchmark_group("ain_config_sync");
    group.bench_function("4k_config_to_49_satellites", |b| {
        b.iter(|| {
            let v = net.master.set_config(black_box(data.clone()));
            net.pump();
            debug_assert!(net.sats.iter().all(|s| s.config_version() == v));
            v
        });
    });
    group.finish();
    // Every satellite applied the last version: the bench measured a real sync.
    let v = net.master.config_version();
    assert!(net.sats.iter().all(|s| s.config_version() == v));
}

criterion_group!(benches, frames, config_sync);
criterion_main!(benches);
