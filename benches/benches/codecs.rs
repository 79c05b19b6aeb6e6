//! Codec benches: per-20 ms-frame encode and decode for every codec,
//! resampler throughput and transcoding, each next to the `audio-codec` crate
//! (the codec collection behind rustpbx) doing the same work where it has the
//! codec. G.711 is also measured in bulk, where the figure of merit is
//! samples per nanosecond (criterion's elements/s ÷ 1e9).
//!
//! Run: `cargo bench -p pbxkit-benches --bench codecs`.
#![allow(missing_docs)]

use std::hint::black_box;

use audio_codec::{CodecType, create_decoder, create_encoder};
use codecs::resample::Resampler;
use codecs::{CodecKind, Transcoder, g711, transcoder};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A deterministic speech-like signal: a 140 Hz harmonic series whose
/// amplitude moves like syllables, plus a little noise.
fn speech(rate: u32, len: usize) -> Vec<i16> {
    let mut seed = 0x1234_5678u32;
    (0..len)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            let envelope = 0.55 + 0.45 * (std::f64::consts::TAU * 3.0 * t).sin();
            let voiced: f64 = (1..=12)
                .map(|h| (std::f64::consts::TAU * 140.0 * f64::from(h) * t).sin() / f64::from(h))
                .sum();
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = f64::from(seed >> 16) / 65536.0 - 0.5;
            (envelope * 6000.0 * voiced + 300.0 * noise) as i16
        })
        .collect()
}

fn ours_and_theirs() -> [(CodecKind, Option<CodecType>); 5] {
    [
        (CodecKind::Pcmu, Some(CodecType::PCMU)),
        (CodecKind::Pcma, Some(CodecType::PCMA)),
        (CodecKind::G722, Some(CodecType::G722)),
        (CodecKind::G729, Some(CodecType::G729)),
        (CodecKind::Opus, Some(CodecType::Opus)),
    ]
}

fn frames(c: &mut Criterion) {
    for (kind, peer) in ours_and_theirs() {
        let rate = kind.descriptor().sample_rate;
        let frame = rate as usize / 50;
        let pcm = speech(rate, frame);
        let mut payload = vec![0u8; 4000];
        let mut out = vec![0i16; 5760];

        let mut group = c.benchmark_group(format!("{kind}/20ms"));
        group.throughput(Throughput::Elements(frame as u64));
        let mut enc = transcoder::encoder(kind).unwrap();
        group.bench_function(BenchmarkId::new("encode", "pbxkit"), |b| {
            b.iter(|| enc.encode(black_box(&pcm), &mut payload).unwrap());
        });
        let len = transcoder::encoder(kind)
            .unwrap()
            .encode(&pcm, &mut payload)
            .unwrap();
        let coded = payload[..len].to_vec();
        let mut dec = transcoder::decoder(kind).unwrap();
        group.bench_function(BenchmarkId::new("decode", "pbxkit"), |b| {
            b.iter(|| dec.decode(black_box(&coded), &mut out).unwrap());
        });
        if let Some(peer) = peer {
            let mut enc = create_encoder(peer);
            if enc.sample_rate() == rate {
                group.bench_function(BenchmarkId::new("encode", "audio-codec"), |b| {
                    b.iter(|| enc.encode_into(black_box(&pcm), &mut payload).unwrap());
                });
                let len = create_encoder(peer)
                    .encode_into(&pcm, &mut payload)
                    .unwrap();
                let coded = payload[..len].to_vec();
                let mut dec = create_decoder(peer);
                group.bench_function(BenchmarkId::new("decode", "audio-codec"), |b| {
                    b.iter(|| dec.decode_into(black_box(&coded), &mut out).unwrap());
                });
            }
        }
        group.finish();
    }
}

fn g711_bulk(c: &mut Criterion) {
    let pcm = speech(8000, 65536);
    let mut octets = vec![0u8; pcm.len()];
    let mut back = vec![0i16; pcm.len()];
    let mut group = c.benchmark_group("g711/bulk-64k-samples");
    group.throughput(Throughput::Elements(pcm.len() as u64));
    group.bench_function("alaw-encode/pbxkit", |b| {
        b.iter(|| g711::alaw_encode_slice(black_box(&pcm), &mut octets));
    });
    group.bench_function("ulaw-encode/pbxkit", |b| {
        b.iter(|| g711::ulaw_encode_slice(black_box(&pcm), &mut octets));
    });
    group.bench_function("alaw-decode/pbxkit", |b| {
        b.iter(|| g711::alaw_decode_slice(black_box(&octets), &mut back));
    });
    group.bench_function("ulaw-decode/pbxkit", |b| {
        b.iter(|| g711::ulaw_decode_slice(black_box(&octets), &mut back));
    });
    let mut enc = create_encoder(CodecType::PCMA);
    group.bench_function("alaw-encode/audio-codec", |b| {
        b.iter(|| enc.encode_into(black_box(&pcm), &mut octets).unwrap());
    });
    let mut enc = create_encoder(CodecType::PCMU);
    group.bench_function("ulaw-encode/audio-codec", |b| {
        b.iter(|| enc.encode_into(black_box(&pcm), &mut octets).unwrap());
    });
    let mut dec = create_decoder(CodecType::PCMA);
    group.bench_function("alaw-decode/audio-codec", |b| {
        b.iter(|| dec.decode_into(black_box(&octets), &mut back).unwrap());
    });
    let mut dec = create_decoder(CodecType::PCMU);
    group.bench_function("ulaw-decode/audio-codec", |b| {
        b.iter(|| dec.decode_into(black_box(&octets), &mut back).unwrap());
    });
    group.finish();
}

fn resampling(c: &mut Criterion) {
    for (from, to) in [
        (8000u32, 16000u32),
        (8000, 48000),
        (48000, 8000),
        (16000, 8000),
    ] {
        let pcm = speech(from, from as usize / 50);
        let mut out = vec![0i16; 5760];
        let mut group = c.benchmark_group(format!("resample/{from}-{to}/20ms"));
        group.throughput(Throughput::Elements(pcm.len() as u64));
        let mut ours = Resampler::new(from, to).unwrap();
        group.bench_function("pbxkit", |b| {
            b.iter(|| ours.process(black_box(&pcm), &mut out).unwrap());
        });
        let mut theirs = audio_codec::BoxedResampler::new(from as usize, to as usize).unwrap();
        group.bench_function("audio-codec", |b| {
            b.iter(|| theirs.resample_into(black_box(&pcm), &mut out).unwrap());
        });
        group.finish();
    }
}

fn transcoding(c: &mut Criterion) {
    use CodecKind::{G722, Opus, Pcma, Pcmu};
    for (from, to) in [
        (Pcmu, G722),
        (G722, Pcmu),
        (Pcmu, Opus),
        (Opus, Pcmu),
        (G722, Opus),
        (Pcma, Pcmu),
    ] {
        let rate = from.descriptor().sample_rate;
        let pcm = speech(rate, rate as usize / 50);
        let mut payload = vec![0u8; 4000];
        let len = transcoder::encoder(from)
            .unwrap()
            .encode(&pcm, &mut payload)
            .unwrap();
        let input = payload[..len].to_vec();
        let mut t = Transcoder::new(from, to).unwrap();
        let mut group = c.benchmark_group("transcode/20ms");
        group.bench_function(format!("{from}->{to}/pbxkit"), |b| {
            b.iter(|| t.transcode(black_box(&input), &mut payload).unwrap());
        });
        group.finish();
    }
}

criterion_group!(benches, frames, g711_bulk, resampling, transcoding);
criterion_main!(benches);
