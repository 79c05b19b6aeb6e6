//! An adaptive (NetEQ-like) or fixed jitter buffer.
//!
//! The network side calls [`JitterBuffer::insert`] for each received RTP
//! packet; the audio side calls [`JitterBuffer::pop`] once per output frame
//! (every ptime) and gets a [`Playout`] instruction: decode this payload,
//! conceal a lost frame, generate comfort noise, or keep buffering.
//!
//! **Delay estimate.** Each packet's *relative delay* is its transit time
//! (arrival − media time) minus the smallest transit seen recently (which
//! tracks the fixed network delay and clock drift). Relative delays go into
//! a histogram whose old mass decays with a forgetting factor; the target
//! delay is a high percentile of it (95 % by default) plus one frame, clamped
//! to `[min_delay, max_delay]`. In fixed mode the target is configured.
//!
//! **Delay control.** When the buffer level exceeds the target by
//! `2 × frame` (and its smoothed level by 1.5 frames), the next pop *accelerates* (returns a packet and drops the
//! following frame, like NetEQ's accelerate on a low-energy frame); when it
//! falls a frame below target while packets are waiting, the pop is a
//! *preemptive expand* (a concealment frame without consuming a packet).
//! Loss is concealment (*expand*); DTX (comfort-noise payload type) yields
//! comfort noise, not expand.
//!
//! Packets are copied into preallocated slots: no allocation per packet
//! once a slot has seen a payload of that size.

use crate::rtp::{PayloadType, Ssrc, seq_after};
use std::time::{Duration, Instant};

/// Fixed or adaptive target delay.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum JitterMode {
    /// Always this delay.
    Fixed(Duration),
    /// A high percentile of the relative delay, with forgetting.
    Adaptive {
        /// Percentile of the delay distribution to cover (0.0–1.0, e.g. 0.95).
        percentile: f64,
        /// Per-packet forgetting factor of the histogram (e.g. 0.998: ~500-packet memory).
        forget: f64,
    },
}

/// Jitter-buffer configuration (defaults: adaptive 95 %, 20 ms frames at 8 kHz).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JitterConfig {
    /// Target-delay mode.
    pub mode: JitterMode,
    /// Media clock rate in Hz.
    pub clock_rate: u32,
    /// Frame duration assumed until packets show otherwise.
    pub frame: Duration,
    /// Lower bound of the target delay.
    pub min_delay: Duration,
    /// Upper bound of the target delay (and of buffered audio).
    pub max_delay: Duration,
    /// Packets held at most (slots); must be ≥ `max_delay / frame`.
    pub capacity: usize,
    /// Payload type treated as comfort noise (RFC 3389: 13).
    pub comfort_noise: Option<PayloadType>,
    /// The negotiated RFC 4733 telephone-event payload type. Insert event
    /// packets too: they hold their sequence numbers, so playout skips them
    /// instead of concealing a "loss" (the digits go to `dtmf::DtmfReceiver`).
    pub telephone_event: Option<PayloadType>,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            mode: JitterMode::Adaptive {
                percentile: 0.95,
                forget: 0.998,
            },
            clock_rate: 8000,
            frame: Duration::from_millis(20),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(1000),
            capacity: 128,
            comfort_noise: Some(PayloadType::CN),
            telephone_event: None,
        }
    }
}

/// Result of [`JitterBuffer::insert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertOutcome {
    /// Stored for playout.
    Stored,
    /// Same sequence number already buffered or played.
    Duplicate,
    /// Arrived after its playout time; discarded.
    Late,
    /// New SSRC or a timestamp/sequence jump: the buffer restarted with this packet.
    Reset,
    /// Payload larger than a slot allows (`MAX_PAYLOAD`); discarded.
    TooLarge,
}

/// Largest payload a slot stores (bytes).
pub const MAX_PAYLOAD: usize = 1500;

/// A buffered packet handed to the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitterPacket<'a> {
    /// RTP payload.
    pub payload: &'a [u8],
    /// RTP payload type.
    pub payload_type: PayloadType,
    /// RTP timestamp.
    pub timestamp: u32,
    /// RTP sequence number.
    pub sequence: u16,
}

/// What the audio side should render for this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Playout<'a> {
    /// Not started yet (or empty after a reset): render silence.
    Buffering,
    /// Decode this packet.
    Audio(JitterPacket<'a>),
    /// Decode this packet; the next frame was dropped to reduce delay (crossfade if you can).
    Accelerate(JitterPacket<'a>),
    /// Run packet-loss concealment for `samples` (loss, underrun or preemptive expand).
    Conceal {
        /// Samples to synthesise.
        samples: u32,
    },
    /// Generate comfort noise for `samples` (DTX); the CN payload, if any, parameterises it.
    ComfortNoise {
        /// Samples to synthesise.
        samples: u32,
        /// The RFC 3389 payload when this frame carried one.
        payload: Option<&'a [u8]>,
    },
}

/// NetEQ-style statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JitterStats {
    /// Packets offered to `insert`.
    pub packets_received: u64,
    /// Buffered audio at the last pop.
    pub current_delay: Duration,
    /// Current target delay.
    pub target_delay: Duration,
    /// Frames popped.
    pub frames: u64,
    /// Frames concealed because of loss or underrun.
    pub expand_frames: u64,
    /// Frames dropped to accelerate.
    pub accelerate_frames: u64,
    /// Frames inserted by preemptive expand.
    pub preemptive_frames: u64,
    /// Comfort-noise frames.
    pub comfort_noise_frames: u64,
    /// Packets discarded as late.
    pub late_discards: u64,
    /// Duplicate packets.
    pub duplicates: u64,
    /// Buffer restarts (SSRC change, timestamp jump).
    pub resets: u64,
}

impl JitterStats {
    /// Expand frames / frames.
    pub fn expand_rate(&self) -> f64 {
        ratio(self.expand_frames, self.frames)
    }
    /// Accelerate frames / frames.
    pub fn accelerate_rate(&self) -> f64 {
        ratio(self.accelerate_frames, self.frames)
    }
    /// Preemptive-expand frames / frames.
    pub fn preemptive_rate(&self) -> f64 {
        ratio(self.preemptive_frames, self.frames)
    }
    /// Late discards / packets received.
    pub fn late_rate(&self) -> f64 {
        ratio(self.late_discards, self.packets_received)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[derive(Debug, Default)]
struct Slot {
    used: bool,
    /// A non-audio packet (telephone-event) that only holds its sequence number.
    skip: bool,
    seq: u16,
    timestamp: u32,
    payload_type: u8,
    len: usize,
    data: Vec<u8>,
}

const BUCKET_MS: f64 = 5.0;
const BASE_BUCKETS: usize = 4;
const BASE_BUCKET_MS: f64 = 500.0;
const BUCKETS: usize = 400; // 0..2 s

#[derive(Debug)]
struct Histogram {
    mass: [f64; BUCKETS],
    weight: f64,
    total: f64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            mass: [0.0; BUCKETS],
            weight: 1.0,
            total: 0.0,
        }
    }

    /// Adds a sample; older mass decays by `forget` per sample (done by growing
    /// the weight of new samples and renormalising rarely).
    fn add(&mut self, ms: f64, forget: f64) {
        self.weight /= forget;
        let b = ((ms / BUCKET_MS) as usize).min(BUCKETS - 1);
        self.mass[b] += self.weight;
        self.total += self.weight;
        if self.weight > 1e12 {
            let k = 1.0 / self.weight;
            self.mass.iter_mut().for_each(|m| *m *= k);
            self.total *= k;
            self.weight = 1.0;
        }
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.total <= 0.0 {
            return 0.0;
        }
        let want = self.total * p;
        let mut acc = 0.0;
        for (i, m) in self.mass.iter().enumerate() {
            acc += m;
            if acc >= want {
                return (i + 1) as f64 * BUCKET_MS;
            }
        }
        BUCKETS as f64 * BUCKET_MS
    }
}

/// The jitter buffer.
#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    slots: Vec<Slot>,
    ssrc: Option<Ssrc>,
    origin: Option<Instant>,
    /// Next sequence to play, once playing.
    next_seq: Option<u16>,
    highest_seq: Option<u16>,
    /// Samples per packet as observed.
    frame_samples: u32,
    last_ts: Option<(u16, u32)>,
    /// Minimum transit (ms) per 500 ms arrival bucket, last `BASE_BUCKETS` buckets:
    /// the base is their minimum, so clock drift is followed within ~2 s.
    base_buckets: [(u64, f64); BASE_BUCKETS],
    hist: Histogram,
    target: Duration,
    inserts_since_target: u32,
    in_dtx: bool,
    preempted: bool,
    filtered_level: f64,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer with `config`.
    pub fn new(config: JitterConfig) -> Self {
        let cap = config.capacity.max(4);
        let frame_samples =
            (config.frame.as_secs_f64() * f64::from(config.clock_rate)).round() as u32;
        let target = match config.mode {
            JitterMode::Fixed(d) => d,
            JitterMode::Adaptive { .. } => config.frame * 2,
        };
        Self {
            config,
            slots: (0..cap).map(|_| Slot::default()).collect(),
            ssrc: None,
            origin: None,
            next_seq: None,
            highest_seq: None,
            frame_samples: frame_samples.max(1),
            last_ts: None,
            base_buckets: [(u64::MAX, 0.0); BASE_BUCKETS],
            hist: Histogram::new(),
            target,
            inserts_since_target: 0,
            in_dtx: false,
            preempted: false,
            filtered_level: 0.0,
            stats: JitterStats {
                target_delay: target,
                ..JitterStats::default()
            },
        }
    }

    /// Current statistics.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Current target delay.
    pub fn target_delay(&self) -> Duration {
        self.target
    }

    fn slot_index(&self, seq: u16) -> usize {
        usize::from(seq) % self.slots.len()
    }

    fn frame_dur(&self) -> Duration {
        Duration::from_secs_f64(f64::from(self.frame_samples) / f64::from(self.config.clock_rate))
    }

    fn reset(&mut self) {
        for s in &mut self.slots {
            s.used = false;
        }
        self.next_seq = None;
        self.highest_seq = None;
        self.last_ts = None;
        self.base_buckets = [(u64::MAX, 0.0); BASE_BUCKETS];
        self.in_dtx = false;
        self.stats.resets += 1;
    }

    /// Offers a received packet.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        now: Instant,
        ssrc: Ssrc,
        seq: u16,
        timestamp: u32,
        payload_type: PayloadType,
        payload: &[u8],
    ) -> InsertOutcome {
        self.stats.packets_received += 1;
        if payload.len() > MAX_PAYLOAD {
            return InsertOutcome::TooLarge;
        }
        let mut outcome = InsertOutcome::Stored;
        let jump = self.highest_seq.is_some_and(|h| {
            let ahead = seq.wrapping_sub(h);
            let behind = h.wrapping_sub(seq);
            ahead >= self.slots.len() as u16 && behind > self.slots.len() as u16 * 4
        });
        if self.ssrc.is_some_and(|s| s != ssrc) || jump {
            self.reset();
            outcome = InsertOutcome::Reset;
        }
        self.ssrc = Some(ssrc);
        if let Some(next) = self.next_seq
            && seq_after(next, seq)
        {
            // Played (or concealed) already.
            let idx = self.slot_index(seq);
            if self.slots[idx].used && self.slots[idx].seq == seq {
                self.stats.duplicates += 1;
                return InsertOutcome::Duplicate;
            }
            self.stats.late_discards += 1;
            return InsertOutcome::Late;
        }
        let idx = self.slot_index(seq);
        if self.slots[idx].used {
            if self.slots[idx].seq == seq {
                self.stats.duplicates += 1;
                return InsertOutcome::Duplicate;
            }
            // The slot holds a packet a full buffer behind: the buffer overflowed.
            if let Some(next) = self.next_seq
                && seq.wrapping_sub(next) >= self.slots.len() as u16
            {
                self.reset();
                outcome = InsertOutcome::Reset;
            }
        }
        let is_event = self.config.telephone_event == Some(payload_type);
        // Frame size from consecutive audio packets.
        if !is_event
            && let Some((ls, lt)) = self.last_ts
            && seq == ls.wrapping_add(1)
        {
            let d = timestamp.wrapping_sub(lt);
            if d > 0 && d < self.config.clock_rate {
                self.frame_samples = d;
            }
        }
        if !is_event && self.last_ts.is_none_or(|(ls, _)| seq_after(seq, ls)) {
            self.last_ts = Some((seq, timestamp));
        }
        if self.highest_seq.is_none_or(|h| seq_after(seq, h)) {
            self.highest_seq = Some(seq);
        }
        if !is_event {
            self.observe_delay(now, timestamp);
        }
        let slot = &mut self.slots[idx];
        slot.used = true;
        slot.skip = is_event;
        slot.seq = seq;
        slot.timestamp = timestamp;
        slot.payload_type = payload_type.value();
        slot.len = payload.len();
        slot.data.clear();
        slot.data.extend_from_slice(payload);
        outcome
    }

    fn observe_delay(&mut self, now: Instant, timestamp: u32) {
        let JitterMode::Adaptive { percentile, forget } = self.config.mode else {
            return;
        };
        let origin = *self.origin.get_or_insert(now);
        let arrival_ms = now.saturating_duration_since(origin).as_secs_f64() * 1000.0;
        // Media time in ms, unwrapped around the last packet.
        let media_ms = f64::from(timestamp) * 1000.0 / f64::from(self.config.clock_rate);
        let transit = arrival_ms - media_ms;
        let bucket = (arrival_ms / BASE_BUCKET_MS) as u64;
        // A timestamp jump (transit far from every recent minimum) restarts the window.
        let jumped = self
            .base_buckets
            .iter()
            .filter(|(b, _)| *b != u64::MAX)
            .any(|(_, m)| (transit - m).abs() > 10_000.0);
        if jumped {
            self.base_buckets = [(u64::MAX, 0.0); BASE_BUCKETS];
        }
        let slot = &mut self.base_buckets[(bucket % BASE_BUCKETS as u64) as usize];
        if slot.0 != bucket {
            *slot = (bucket, transit);
        } else if transit < slot.1 {
            slot.1 = transit;
        }
        let base = self
            .base_buckets
            .iter()
            .filter(|(b, _)| *b != u64::MAX && bucket.saturating_sub(*b) < BASE_BUCKETS as u64)
            .map(|(_, m)| *m)
            .fold(transit, f64::min);
        self.hist.add(transit - base, forget);
        self.inserts_since_target += 1;
        if self.inserts_since_target >= 8 {
            self.inserts_since_target = 0;
            let p = self.hist.percentile_ms(percentile);
            let t = Duration::from_secs_f64(p / 1000.0) + self.frame_dur();
            self.target = t.clamp(self.config.min_delay, self.config.max_delay);
            self.stats.target_delay = self.target;
        }
    }

    /// Buffered frames from `next_seq` to the highest sequence (holes included,
    /// telephone-event slots excluded).
    fn level_frames(&self, next: u16) -> u32 {
        match self.highest_seq {
            Some(h) if !seq_after(next, h) => {
                let span = u32::from(h.wrapping_sub(next)) + 1;
                let events = (0..span.min(self.slots.len() as u32))
                    .filter(|&k| {
                        let q = next.wrapping_add(k as u16);
                        let s = &self.slots[self.slot_index(q)];
                        s.used && s.skip && s.seq == q
                    })
                    .count() as u32;
                span - events
            }
            _ => 0,
        }
    }

    fn take(&mut self, seq: u16) -> Option<usize> {
        let idx = self.slot_index(seq);
        let s = &self.slots[idx];
        (s.used && s.seq == seq).then_some(idx)
    }

    fn packet_at(&self, idx: usize) -> JitterPacket<'_> {
        let s = &self.slots[idx];
        JitterPacket {
            payload: &s.data[..s.len],
            // Stored from a PayloadType, so always 7-bit.
            payload_type: PayloadType::new(s.payload_type).unwrap_or(PayloadType::PCMU),
            timestamp: s.timestamp,
            sequence: s.seq,
        }
    }

    /// The playout decision for the next output frame.
    pub fn pop(&mut self, now: Instant) -> Playout<'_> {
        let _ = now;
        let frame = self.frame_samples;
        let frame_dur = self.frame_dur();
        let next = match self.next_seq {
            Some(n) => n,
            None => {
                // Start once the buffered span reaches the target.
                let Some(h) = self.highest_seq else {
                    return Playout::Buffering;
                };
                let lowest = (0..self.slots.len() as u16)
                    .map(|k| h.wrapping_sub(k))
                    .filter(|&q| self.take(q).is_some())
                    .last()
                    .unwrap_or(h);
                let span = frame_dur * (u32::from(h.wrapping_sub(lowest)) + 1);
                if span < self.target {
                    return Playout::Buffering;
                }
                self.next_seq = Some(lowest);
                lowest
            }
        };
        // Telephone-event packets only hold sequence numbers: step over them.
        let mut next = next;
        while let Some(idx) = self.take(next) {
            if !self.slots[idx].skip {
                break;
            }
            self.slots[idx].used = false;
            next = next.wrapping_add(1);
            self.next_seq = Some(next);
        }
        self.stats.frames += 1;
        let level = self.level_frames(next);
        self.stats.current_delay = frame_dur * level;
        let target_frames = (self.target.as_secs_f64() / frame_dur.as_secs_f64()).ceil() as u32;
        // NetEQ-style filtered level: act on a sustained excess, not on one burst.
        self.filtered_level += (f64::from(level) - self.filtered_level) / 8.0;
        let Some(idx) = self.take(next) else {
            if level > 0 {
                // A hole with later packets waiting: a lost packet.
                self.next_seq = Some(next.wrapping_add(1));
                if self.in_dtx {
                    self.stats.comfort_noise_frames += 1;
                    return Playout::ComfortNoise {
                        samples: frame,
                        payload: None,
                    };
                }
                self.stats.expand_frames += 1;
                return Playout::Conceal { samples: frame };
            }
            // Underrun: nothing buffered.
            if self.in_dtx {
                self.stats.comfort_noise_frames += 1;
                return Playout::ComfortNoise {
                    samples: frame,
                    payload: None,
                };
            }
            self.stats.expand_frames += 1;
            return Playout::Conceal { samples: frame };
        };
        // Preemptive expand: too little buffered while audio is flowing.
        // At most one in a row, so a lone last packet is never starved.
        if level + 1 < target_frames && !self.in_dtx && level < 2 && !self.preempted {
            self.preempted = true;
            self.stats.preemptive_frames += 1;
            return Playout::Conceal { samples: frame };
        }
        self.preempted = false;
        let is_cn = self
            .config
            .comfort_noise
            .is_some_and(|cn| cn.value() == self.slots[idx].payload_type);
        self.slots[idx].used = false;
        self.next_seq = Some(next.wrapping_add(1));
        if is_cn {
            self.in_dtx = true;
            self.stats.comfort_noise_frames += 1;
            let s = &self.slots[idx];
            return Playout::ComfortNoise {
                samples: frame,
                payload: Some(&s.data[..s.len]),
            };
        }
        self.in_dtx = false;
        if level >= target_frames + 2 && self.filtered_level >= f64::from(target_frames) + 1.5 {
            // Drop the following frame (if present) to shed delay.
            let after = next.wrapping_add(1);
            let droppable = self.take(after).is_none_or(|j| !self.slots[j].skip);
            if droppable {
                if let Some(j) = self.take(after) {
                    self.slots[j].used = false;
                }
                self.next_seq = Some(next.wrapping_add(2));
                self.stats.accelerate_frames += 1;
                return Playout::Accelerate(self.packet_at(idx));
            }
        }
        Playout::Audio(self.packet_at(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // virtual-clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn in_order_stream_plays_every_packet() {
        let t = t0();
        let mut jb = JitterBuffer::new(JitterConfig {
            mode: JitterMode::Fixed(ms(40)),
            ..JitterConfig::default()
        });
        let mut played = Vec::new();
        for i in 0..100u16 {
            let now = t + ms(20 * u64::from(i));
            jb.insert(
                now,
                Ssrc(1),
                i,
                u32::from(i) * 160,
                PayloadType::PCMU,
                &[i as u8; 160],
            );
            if let Playout::Audio(p) = jb.pop(now) {
                played.push(p.sequence);
            }
        }
        assert_eq!(played, (0..played.len() as u16).collect::<Vec<_>>());
        assert!(played.len() >= 97);
        assert_eq!(jb.stats().late_discards, 0);
        assert_eq!(jb.target_delay(), ms(40));
    }

    #[test]
    fn duplicates_late_loss_and_reorder() {
        let t = t0();
        let mut jb = JitterBuffer::new(JitterConfig {
            mode: JitterMode::Fixed(ms(100)),
            ..JitterConfig::default()
        });
        let ins = |jb: &mut JitterBuffer, q: u16| {
            jb.insert(
                t,
                Ssrc(1),
                q,
                u32::from(q) * 160,
                PayloadType::PCMU,
                &[0; 160],
            )
        };
        for q in [0, 2, 1] {
            assert_eq!(ins(&mut jb, q), InsertOutcome::Stored);
        }
        assert_eq!(ins(&mut jb, 1), InsertOutcome::Duplicate);
        ins(&mut jb, 4); // 3 is lost
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(match jb.pop(t) {
                Playout::Audio(p) => Some(p.sequence),
                Playout::Conceal { .. } => None,
                other => panic!("{other:?}"),
            });
        }
        // Packet 3 is concealed (loss), in order otherwise.
        assert_eq!(out, [Some(0), Some(1), Some(2), None]);
        assert_eq!(ins(&mut jb, 3), InsertOutcome::Late);
        let s = jb.stats();
        assert_eq!((s.duplicates, s.late_discards, s.expand_frames), (1, 1, 1));
        // Below target with one packet left: preemptive expand, then the packet.
        let rest: Vec<_> = (0..3)
            .map(|_| matches!(jb.pop(t), Playout::Audio(p) if p.sequence == 4))
            .collect();
        assert!(rest.contains(&true));
    }

    #[test]
    fn ssrc_change_and_sequence_jump_reset() {
        let t = t0();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        jb.insert(t, Ssrc(1), 10, 0, PayloadType::PCMU, &[0; 160]);
        assert_eq!(
            jb.insert(t, Ssrc(2), 500, 0, PayloadType::PCMU, &[0; 160]),
            InsertOutcome::Reset
        );
        assert_eq!(
            jb.insert(t, Ssrc(2), 30000, 0, PayloadType::PCMU, &[0; 160]),
            InsertOutcome::Reset
        );
        assert_eq!(jb.stats().resets, 2);
    }

    #[test]
    fn dtx_gives_comfort_noise_not_expand() {
        let t = t0();
        let mut jb = JitterBuffer::new(JitterConfig {
            mode: JitterMode::Fixed(ms(20)),
            ..JitterConfig::default()
        });
        jb.insert(t, Ssrc(1), 0, 0, PayloadType::PCMU, &[0; 160]);
        jb.insert(t, Ssrc(1), 1, 160, PayloadType::CN, &[40]);
        assert!(matches!(jb.pop(t), Playout::Audio(_)));
        assert!(matches!(
            jb.pop(t),
            Playout::ComfortNoise {
                payload: Some([40]),
                ..
            }
        ));
        // Silence period: no packets, still comfort noise.
        for _ in 0..10 {
            assert!(matches!(
                jb.pop(t),
                Playout::ComfortNoise { payload: None, .. }
            ));
        }
        assert_eq!(jb.stats().expand_frames, 0);
    }

    #[test]
    fn timestamp_jump_with_continuous_sequence_keeps_playing() {
        // A sender that restarts its timestamp (or a relay switching sources
        // without continuity) must not blow the target delay up.
        let t = t0();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let mut played = 0;
        for i in 0..400u32 {
            let now = t + ms(20 * u64::from(i));
            let ts = if i < 200 {
                i * 160
            } else {
                3_000_000_000 + i * 160
            };
            jb.insert(now, Ssrc(1), i as u16, ts, PayloadType::PCMU, &[0; 160]);
            if matches!(jb.pop(now), Playout::Audio(_) | Playout::Accelerate(_)) {
                played += 1;
            }
        }
        assert!(played >= 390, "{played}");
        assert!(jb.target_delay() <= ms(60), "{:?}", jb.target_delay());
    }

    #[test]
    fn telephone_event_packets_are_skipped_not_concealed() {
        let t = t0();
        let te = PayloadType::new(101).expect("pt");
        let mut jb = JitterBuffer::new(JitterConfig {
            mode: JitterMode::Fixed(ms(20)),
            telephone_event: Some(te),
            ..JitterConfig::default()
        });
        jb.insert(t, Ssrc(1), 0, 0, PayloadType::PCMU, &[0; 160]);
        for q in 1..4 {
            jb.insert(t, Ssrc(1), q, 160, te, &[1, 10, 0, 0]);
        }
        jb.insert(t, Ssrc(1), 4, 640, PayloadType::PCMU, &[0; 160]);
        let seqs: Vec<_> = (0..2)
            .map(|_| match jb.pop(t) {
                Playout::Audio(p) => p.sequence,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(seqs, [0, 4]);
        assert_eq!(jb.stats().expand_frames, 0);
    }

    #[test]
    fn oversized_payload_rejected() {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        assert_eq!(
            jb.insert(
                t0(),
                Ssrc(1),
                0,
                0,
                PayloadType::PCMU,
                &[0; MAX_PAYLOAD + 1]
            ),
            InsertOutcome::TooLarge
        );
    }
}
