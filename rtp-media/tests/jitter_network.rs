//! The jitter buffer driven by a seeded network model: exponential jitter with
//! spikes, Gilbert–Elliott bursty loss, duplicates, reordering (from the delay
//! variance) and sender clock drift. Asserts that the target delay tracks the
//! jitter, forgets old jitter, and that late loss stays under a stated bound.

use pbxkit_rtp_media::jitter::{JitterBuffer, JitterConfig, Playout};
use pbxkit_rtp_media::rtp::{PayloadType, Ssrc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// Late packets (arrived after their playout) as a fraction of packets: the
/// target covers the 95th percentile, so stationary late loss stays ≤ 5 %.
const LATE_BOUND: f64 = 0.05;

#[derive(Clone, Copy)]
struct Phase {
    seconds: u32,
    /// Mean of the exponential jitter component, ms.
    jitter_ms: f64,
}

struct Model {
    seed: u64,
    phases: Vec<Phase>,
    /// Sender clock speed relative to the receiver (1.0 = none; 1.005 = 0.5 % fast).
    sender_clock: f64,
    loss_good_to_bad: f64,
    loss_bad_to_good: f64,
    duplicate: f64,
}

struct Outcome {
    /// (time s, target ms) sampled every second.
    targets: Vec<(f64, f64)>,
    /// The relative delays (ms above the minimum) of each phase, for percentiles.
    phase_delays: Vec<Vec<f64>>,
    stats: pbxkit_rtp_media::jitter::JitterStats,
    played: u64,
    /// Mean buffered delay over the second half of the stream.
    mean_current_late_half: Duration,
}

#[allow(clippy::disallowed_methods)] // virtual-clock origin
fn origin() -> Instant {
    Instant::now()
}

fn run(m: &Model) -> Outcome {
    let mut rng = StdRng::seed_from_u64(m.seed);
    let mut arrivals: Vec<(f64, u16, u32)> = Vec::new(); // (ms, seq, ts)
    let mut phase_delays = vec![Vec::new(); m.phases.len()];
    let mut bad = false;
    let mut i: u32 = 0;
    let mut start = 0u32;
    for (pi, ph) in m.phases.iter().enumerate() {
        let n = ph.seconds * 50;
        for k in start..start + n {
            // Gilbert–Elliott loss.
            bad = if bad {
                rng.random::<f64>() >= m.loss_bad_to_good
            } else {
                rng.random::<f64>() < m.loss_good_to_bad
            };
            let send_ms = f64::from(k) * 20.0 / m.sender_clock;
            let u: f64 = rng.random::<f64>().max(1e-12);
            let mut jitter = -ph.jitter_ms * u.ln();
            if rng.random::<f64>() < 0.005 {
                jitter += 3.0 * ph.jitter_ms; // rare spike
            }
            phase_delays[pi].push(jitter);
            if bad {
                continue;
            }
            let seq = k as u16;
            let ts = k.wrapping_mul(160);
            arrivals.push((send_ms + 30.0 + jitter, seq, ts));
            if rng.random::<f64>() < m.duplicate {
                arrivals.push((send_ms + 30.0 + jitter + 1.0, seq, ts));
            }
        }
        start += n;
        i = start;
    }
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let t0 = origin();
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut targets = Vec::new();
    let mut played = 0u64;
    let mut next = 0usize;
    let end_ms = f64::from(i) * 20.0 / m.sender_clock + 500.0;
    let mut tick = 0u64;
    let mut sum_current = Duration::ZERO;
    let mut n_current = 0u32;
    loop {
        let now_ms = tick as f64 * 20.0;
        if now_ms > end_ms {
            break;
        }
        while next < arrivals.len() && arrivals[next].0 <= now_ms {
            let (at, seq, ts) = arrivals[next];
            let now = t0 + Duration::from_secs_f64(at / 1000.0);
            jb.insert(now, Ssrc(42), seq, ts, PayloadType::PCMU, &[0xd5; 160]);
            next += 1;
        }
        let now = t0 + Duration::from_secs_f64(now_ms / 1000.0);
        if matches!(jb.pop(now), Playout::Audio(_) | Playout::Accelerate(_)) {
            played += 1;
        }
        if now_ms > end_ms / 2.0 && now_ms < end_ms - 600.0 {
            sum_current += jb.stats().current_delay;
            n_current += 1;
        }
        if tick.is_multiple_of(50) {
            targets.push((now_ms / 1000.0, jb.target_delay().as_secs_f64() * 1000.0));
        }
        tick += 1;
    }
    Outcome {
        targets,
        phase_delays,
        stats: jb.stats(),
        played,
        mean_current_late_half: sum_current / n_current.max(1),
    }
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() as f64 - 1.0) * p) as usize]
}

fn target_at(o: &Outcome, t: f64) -> f64 {
    o.targets
        .iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .map(|(_, v)| *v)
        .expect("sampled")
}

fn model(seed: u64, phases: Vec<Phase>) -> Model {
    Model {
        seed,
        phases,
        sender_clock: 1.0,
        loss_good_to_bad: 0.01,
        loss_bad_to_good: 0.3,
        duplicate: 0.01,
    }
}

#[test]
fn target_delay_tracks_jitter_and_late_loss_is_bounded() {
    for seed in [1, 2, 3] {
        let low = run(&model(
            seed,
            vec![Phase {
                seconds: 40,
                jitter_ms: 4.0,
            }],
        ));
        let high = run(&model(
            seed,
            vec![Phase {
                seconds: 40,
                jitter_ms: 25.0,
            }],
        ));
        let (tl, th) = (target_at(&low, 39.0), target_at(&high, 39.0));
        let p90 = percentile(&high.phase_delays[0], 0.90);
        let p999 = percentile(&high.phase_delays[0], 0.999);
        eprintln!(
            "seed {seed}: target low {tl:.0} ms, high {th:.0} ms (model p90 {p90:.0}, p99.9 {p999:.0}); \
             late low {:.3} high {:.3}; expand {:.3}, accel {:.3}, preempt {:.3}, dups {}",
            low.stats.late_rate(),
            high.stats.late_rate(),
            high.stats.expand_rate(),
            high.stats.accelerate_rate(),
            high.stats.preemptive_rate(),
            high.stats.duplicates
        );
        assert!(th > 2.0 * tl, "target must grow with jitter: {tl} vs {th}");
        assert!(
            th >= p90,
            "target {th} below the model's 90th percentile {p90}"
        );
        assert!(
            th <= p999 + 40.0,
            "target {th} far above the model's p99.9 {p999}"
        );
        assert!(low.stats.late_rate() <= LATE_BOUND);
        assert!(high.stats.late_rate() <= LATE_BOUND);
        assert!(high.stats.duplicates > 0);
        // Nearly every received packet is played.
        let received = high.stats.packets_received - high.stats.duplicates;
        assert!(high.played as f64 >= 0.9 * received as f64);
    }
}

#[test]
fn target_forgets_old_jitter() {
    let o = run(&model(
        7,
        vec![
            Phase {
                seconds: 30,
                jitter_ms: 30.0,
            },
            Phase {
                seconds: 40,
                jitter_ms: 3.0,
            },
        ],
    ));
    let (during, after) = (target_at(&o, 29.0), target_at(&o, 69.0));
    eprintln!("target during high jitter {during:.0} ms, 40 s after it ended {after:.0} ms");
    assert!(after < during / 2.0, "{during} → {after}");
}

#[test]
fn clock_drift_is_absorbed() {
    for clock in [1.005, 0.995] {
        let mut m = model(
            11,
            vec![Phase {
                seconds: 60,
                jitter_ms: 5.0,
            }],
        );
        m.sender_clock = clock;
        let o = run(&m);
        let s = o.stats;
        eprintln!(
            "sender clock {clock}: mean delay in 2nd half {:?}, target {:?}, accel {:.4}, preempt {:.4}, expand {:.4}, late {:.4}",
            o.mean_current_late_half,
            s.target_delay,
            s.accelerate_rate(),
            s.preemptive_rate(),
            s.expand_rate(),
            s.late_rate()
        );
        // The buffer neither grows without bound nor starves.
        assert!(o.mean_current_late_half <= s.target_delay + Duration::from_millis(40));
        assert!(
            s.target_delay <= Duration::from_millis(80),
            "drift must not inflate the target"
        );
        assert!(s.late_rate() <= LATE_BOUND);
        if clock > 1.0 {
            assert!(s.accelerate_frames > 0, "a fast sender needs accelerate");
        }
    }
}
