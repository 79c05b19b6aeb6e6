//! Media hot paths of `rtp-media`: RTP parse/build (next to the `rtp-rs`
//! crate's zero-copy reader), SRTP protect and protect+unprotect per packet
//! for each suite, jitter-buffer insert+pop per packet, the conference mixer
//! per 20 ms frame for N = 3, 6, 10, and the relay per packet.
//!
//! Run: `cargo bench -p pbxkit-benches --bench media`.
#![allow(missing_docs, clippy::disallowed_methods)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtp_media::jitter::{JitterBuffer, JitterConfig, JitterMode};
use rtp_media::mixer::{Mixer, MixerConfig, PartyId, Role};
use rtp_media::relay::{Leg, RelayConfig, RtpRelay};
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
use rtp_media::srtp::{SrtpContext, SrtpProfile};

fn g711_packet(seq: u16) -> Vec<u8> {
    let mut b = vec![0u8; 12 + 160];
    RtpHeader::new(
        PayloadType::PCMA,
        seq,
        u32::from(seq) * 160,
        Ssrc(0x1234_5678),
    )
    .build(&[0xd5; 160], 0, &mut b)
    .unwrap();
    b
}

fn rtp(c: &mut Criterion) {
    let pkt = g711_packet(7);
    let mut group = c.benchmark_group("rtp");
    group.throughput(Throughput::Bytes(pkt.len() as u64));
    group.bench_function("parse/pbxkit", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&pkt)).unwrap();
            black_box((p.sequence(), p.timestamp(), p.ssrc(), p.payload().len()))
        });
    });
    group.bench_function("parse/rtp-rs", |b| {
        b.iter(|| {
            let p = rtp_rs::RtpReader::new(black_box(&pkt)).unwrap();
            black_box((
                p.sequence_number(),
                p.timestamp(),
                p.ssrc(),
                p.payload().len(),
            ))
        });
    });
    let mut out = [0u8; 256];
    group.bench_function("build/pbxkit", |b| {
        let mut seq = 0u16;
        b.iter(|| {
            seq = seq.wrapping_add(1);
            let h = RtpHeader::new(PayloadType::PCMA, seq, u32::from(seq) * 160, Ssrc(1));
            black_box(h.build(black_box(&pkt[12..]), 0, &mut out).unwrap())
        });
    });
    group.finish();
}

fn srtp(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp/packet");
    group.throughput(Throughput::Elements(1));
    for profile in [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
    ] {
        let key = [0x11u8; 16];
        let salt = vec![0x22u8; profile.master_salt_len()];
        let mut tx = SrtpContext::new(profile, &key, &salt).unwrap();
        let mut rx = SrtpContext::new(profile, &key, &salt).unwrap();
        let plain = g711_packet(0);
        let mut buf = vec![0u8; plain.len() + 16];
        let name = profile.sdes_name();
        let mut seq = 0u16;
        group.bench_function(BenchmarkId::new("protect", name), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                buf[..plain.len()].copy_from_slice(&plain);
                buf[2..4].copy_from_slice(&seq.to_be_bytes());
                black_box(tx.protect_rtp(&mut buf, plain.len()).unwrap())
            });
        });
        // Fresh sequence numbers so the replay window accepts every packet.
        let mut tx = SrtpContext::new(profile, &key, &salt).unwrap();
        let mut seq = 0u16;
        group.bench_function(BenchmarkId::new("protect+unprotect", name), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                buf[..plain.len()].copy_from_slice(&plain);
                buf[2..4].copy_from_slice(&seq.to_be_bytes());
                let n = tx.protect_rtp(&mut buf, plain.len()).unwrap();
                black_box(rx.unprotect_rtp(&mut buf[..n]).unwrap())
            });
        });
    }
    group.finish();
}

fn jitter(c: &mut Criterion) {
    let mut group = c.benchmark_group("jitter");
    group.throughput(Throughput::Elements(1));
    let payload = [0xd5u8; 160];
    for (name, mode) in [
        ("adaptive", JitterConfig::default().mode),
        ("fixed", JitterMode::Fixed(Duration::from_millis(60))),
    ] {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig {
            mode,
            ..JitterConfig::default()
        });
        let mut seq = 0u16;
        let mut ts = 0u32;
        let mut now = t0;
        group.bench_function(BenchmarkId::new("insert+pop", name), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(160);
                now += Duration::from_millis(20);
                jb.insert(
                    now,
                    Ssrc(1),
                    seq,
                    ts,
                    PayloadType::PCMA,
                    black_box(&payload),
                );
                black_box(matches!(jb.pop(now), rtp_media::jitter::Playout::Audio(_)))
            });
        });
    }
    group.finish();
}

fn mixer(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixer/20ms");
    for n in [3u32, 6, 10] {
        let mut m = Mixer::new(MixerConfig {
            max_parties: 10,
            frame_samples: 160,
        });
        for i in 0..n {
            m.add_party(PartyId(i), Role::Full).unwrap();
        }
        let frames: Vec<Vec<i16>> = (0..n)
            .map(|i| {
                (0..160)
                    .map(|k| ((k * 37 + i as usize * 101) % 4000) as i16 - 2000)
                    .collect()
            })
            .collect();
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_function(BenchmarkId::new("g711-rate", n), |b| {
            b.iter(|| {
                for i in 0..n {
                    m.set_input(PartyId(i), &frames[i as usize]).unwrap();
                }
                m.mix();
                black_box(m.output(PartyId(0)).unwrap()[0])
            });
        });
    }
    group.finish();
}

fn relay(c: &mut Criterion) {
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(1));
    let mut r = RtpRelay::new(RelayConfig::default());
    let from: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    r.set_remote(Leg::B, "192.0.2.2:5000".parse().unwrap());
    let mut pkt = g711_packet(1);
    let t0 = Instant::now();
    let mut seq = 0u16;
    group.bench_function("packet", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            pkt[2..4].copy_from_slice(&seq.to_be_bytes());
            black_box(
                r.handle_datagram(t0, Leg::A, from, black_box(&mut pkt))
                    .unwrap(),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, rtp, srtp, jitter, mixer, relay);
criterion_main!(benches);
