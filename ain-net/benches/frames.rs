//! AIN throughput: frame encode+decode, and config sync to 49 satellites in simulation.

#![allow(missing_docs)]

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pbxkit_ain_net::{Frame, Message};

fn frames(c: &mut Criterion) {
    let msgs = [
        Message::Heartbeat { config_version: 7 },
        Message::ChannelAcquire {
            request: 9,
            units: 2,
        },
        Message::ConfigSnapshot {
            version: 3,
            data: vec![b'x'; 512],
        },
    ];
    let mut g = c.benchmark_group("ain_frames");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("encode_decode", |b| {
        let mut buf = Vec::with_capacity(1024);
        b.iter(|| {
            for (i, m) in msgs.iter().enumerate() {
                buf.clear();
                Frame {
                    seq: i as u32,
                    msg: m.clone(),
                }
                .encode(&mut buf);
                black_box(Frame::decode(black_box(&buf)).ok());
            }
        });
    });
    g.finish();
}

fn config_sync(c: &mut Criterion) {
    let mut net = sim::Net::new(49, 3);
    net.run(Duration::from_secs(5));
    c.bench_function("ain_config_sync_49_satellites", |b| {
        b.iter(|| {
            let v = net.master.set_config(vec![b'c'; 256]);
            net.run(Duration::from_millis(200));
            assert!(net.sats.iter().all(|s| s.config_version() == v));
        });
    });
}

criterion_group!(benches, frames, config_sync);
criterion_main!(benches);
