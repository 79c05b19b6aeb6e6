//! Per-source reception statistics exactly as RFC 3550 Appendix A: sequence
//! validation (A.1), loss accounting and report blocks (A.3), interarrival
//! jitter (A.8), plus LSR/DLSR bookkeeping and RTT from a report (§6.4.1).

use crate::rtcp::ReportBlock;
use crate::rtp::Ssrc;
use std::time::{Duration, Instant};

const RTP_SEQ_MOD: u32 = 1 << 16;

/// Tunables of the RFC 3550 A.1 validation algorithm (its constants as defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatsConfig {
    /// Packets in sequence before a source is valid (`MIN_SEQUENTIAL`, 2).
    pub min_sequential: u32,
    /// Largest forward jump treated as loss (`MAX_DROPOUT`, 3000).
    pub max_dropout: u32,
    /// Largest backward jump treated as reordering (`MAX_MISORDER`, 100).
    pub max_misorder: u32,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self {
            min_sequential: 2,
            max_dropout: 3000,
            max_misorder: 100,
        }
    }
}

/// What [`ReceiverStats::handle_packet`] concluded about one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeqVerdict {
    /// Counted (in order, after a gap, or late but within `max_misorder`).
    Valid,
    /// Still in probation: the source is not validated yet.
    Probation,
    /// A very large jump; if the next packet follows it, the source is resynchronised.
    Resync,
    /// The source was restarted at this packet (two packets in sequence after a jump).
    Restarted,
}

/// Reception statistics of one RTP source.
#[derive(Clone, Debug)]
pub struct ReceiverStats {
    config: StatsConfig,
    ssrc: Ssrc,
    clock_rate: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    origin: Option<Instant>,
    transit: Option<f64>,
    jitter: f64,
    jitter_max: f64,
    jitter_sum: f64,
    jitter_samples: u64,
    last_sr: Option<(u32, Instant)>,
}

impl ReceiverStats {
    /// Starts tracking `ssrc` whose first packet has sequence `seq` (A.1 source creation).
    pub fn new(ssrc: Ssrc, clock_rate: u32, seq: u16, config: StatsConfig) -> Self {
        let mut s = Self {
            config,
            ssrc,
            clock_rate: clock_rate.max(1),
            max_seq: seq.wrapping_sub(1),
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: config.min_sequential,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            origin: None,
            transit: None,
            jitter: 0.0,
            jitter_max: 0.0,
            jitter_sum: 0.0,
            jitter_samples: 0,
            last_sr: None,
        };
        s.init_seq(seq);
        s.max_seq = seq.wrapping_sub(1);
        s
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// The tracked source.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// RFC 3550 A.1 `update_seq`, then A.8 jitter with `now` as arrival time.
    pub fn handle_packet(&mut self, now: Instant, seq: u16, rtp_timestamp: u32) -> SeqVerdict {
        let verdict = self.update_seq(seq);
        if verdict != SeqVerdict::Resync {
            self.update_jitter(now, rtp_timestamp);
        }
        verdict
    }

    fn update_seq(&mut self, seq: u16) -> SeqVerdict {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    // Decision D-RTP-1: the probation packets count as received, so
                    // the base is the first of them (A.1 would drop them).
                    let n = self.config.min_sequential.max(1);
                    let first = seq.wrapping_sub((n - 1) as u16);
                    self.init_seq(first);
                    self.max_seq = seq;
                    self.received = n;
                    return SeqVerdict::Valid;
                }
            } else {
                self.probation = self.config.min_sequential.saturating_sub(1);
                self.max_seq = seq;
            }
            return SeqVerdict::Probation;
        }
        if udelta < self.config.max_dropout {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if udelta <= RTP_SEQ_MOD - self.config.max_misorder {
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
                self.received = 1;
                return SeqVerdict::Restarted;
            }
            self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
            return SeqVerdict::Resync;
        }
        // else: duplicate or reordered packet, counted (A.1).
        self.received = self.received.wrapping_add(1);
        SeqVerdict::Valid
    }

    fn update_jitter(&mut self, now: Instant, rtp_timestamp: u32) {
        let origin = *self.origin.get_or_insert(now);
        let arrival =
            now.saturating_duration_since(origin).as_secs_f64() * f64::from(self.clock_rate);
        // Transit in timestamp units; the timestamp is unwrapped against the
        // previous transit so that a 32-bit wrap does not show up as jitter.
        let transit = arrival - f64::from(rtp_timestamp);
        if let Some(prev) = self.transit {
            let mut d = transit - prev;
            // Undo a wrap of the 32-bit timestamp.
            let wrap = 4_294_967_296.0;
            if d > wrap / 2.0 {
                d -= wrap;
            } else if d < -wrap / 2.0 {
                d += wrap;
            }
            self.jitter += (d.abs() - self.jitter) / 16.0;
            self.jitter_max = self.jitter.max(self.jitter_max);
            self.jitter_sum += self.jitter;
            self.jitter_samples += 1;
        }
        self.transit = Some(transit);
    }

    /// Extended highest sequence number received (A.3 `extended_max`).
    pub fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected (A.3).
    pub fn expected(&self) -> u32 {
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Packets received, duplicates included (A.1 `received`).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative packets lost (A.3; negative with duplicates).
    pub fn cumulative_lost(&self) -> i64 {
        i64::from(self.expected()) - i64::from(self.received)
    }

    /// Interarrival jitter in timestamp units (A.8).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Current jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / f64::from(self.clock_rate)
    }

    /// Largest jitter seen so far, in milliseconds.
    pub fn max_jitter_ms(&self) -> f64 {
        self.jitter_max * 1000.0 / f64::from(self.clock_rate)
    }

    /// Mean of the jitter estimates after each packet but the first (as
    /// Wireshark's RTP analysis reports it), in milliseconds.
    pub fn mean_jitter_ms(&self) -> f64 {
        if self.jitter_samples == 0 {
            return 0.0;
        }
        self.jitter_sum / self.jitter_samples as f64 * 1000.0 / f64::from(self.clock_rate)
    }

    /// Records an SR from this source (`ntp` is the SR's 64-bit NTP timestamp).
    pub fn handle_sender_report(&mut self, now: Instant, ntp: u64) {
        // Middle 32 bits (RFC 3550 §6.4.1 LSR).
        self.last_sr = Some(((ntp >> 16) as u32, now));
    }

    /// Builds the reception report block for this source and advances the
    /// interval counters (A.3 fraction lost).
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => {
                let d = now.saturating_duration_since(at);
                (
                    lsr,
                    (d.as_secs_f64() * 65536.0).min(f64::from(u32::MAX)) as u32,
                )
            }
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            highest_sequence: self.extended_max(),
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        }
    }
}

/// Round-trip time from a report block (RFC 3550 §6.4.1): `arrival_ntp_mid`
/// is the middle 32 bits of the NTP time at which the report arrived. `None`
/// when the block carries no LSR.
pub fn round_trip_time(arrival_ntp_mid: u32, block: &ReportBlock) -> Option<Duration> {
    if block.last_sr == 0 {
        return None;
    }
    let rtt = arrival_ntp_mid
        .wrapping_sub(block.last_sr)
        .wrapping_sub(block.delay_since_last_sr);
    if rtt > 0x8000_0000 {
        return None; // clocks inconsistent: negative RTT
    }
    Some(Duration::from_secs_f64(f64::from(rtt) / 65536.0))
}

/// Sender-side counters for the SR sender-info block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// Packets sent.
    pub packets: u32,
    /// Payload octets sent.
    pub octets: u32,
}

impl SenderStats {
    /// Accounts one sent packet with `payload_len` payload bytes.
    pub fn on_sent(&mut self, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // the test's virtual-clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn rtt_example_from_rfc3550_6_4_1() {
        // RFC 3550 §6.4.1 worked example: A = b710:8000, LSR = b705:2000, DLSR = 0005:4000 → 6.125 s.
        let block = ReportBlock {
            last_sr: 0xb705_2000,
            delay_since_last_sr: 0x0005_4000,
            ..ReportBlock::default()
        };
        let rtt = round_trip_time(0xb710_8000, &block).expect("has LSR");
        assert_eq!(rtt, Duration::from_millis(6125));
        assert_eq!(round_trip_time(1, &ReportBlock::default()), None);
    }

    #[test]
    fn loss_reorder_duplicate_and_wrap() {
        let t = t0();
        let mut s = ReceiverStats::new(Ssrc(1), 8000, 65530, StatsConfig::default());
        let mut seqs: Vec<u16> = (65530..=65535).collect();
        seqs.extend([0, 2, 1, 1, 5]); // 3 and 4 lost, 1 duplicated, 2/1 reordered
        for (i, &q) in seqs.iter().enumerate() {
            s.handle_packet(t + Duration::from_millis(20 * i as u64), q, 160 * i as u32);
        }
        assert_eq!(s.extended_max(), 65536 + 5);
        assert_eq!(s.expected(), 12); // 65530..=65541
        assert_eq!(s.received(), 11);
        assert_eq!(s.cumulative_lost(), 1); // two lost, one duplicate
        let rb = s.report_block(t);
        assert_eq!(rb.highest_sequence, 65541);
        assert_eq!(rb.cumulative_lost, 1);
        assert_eq!(rb.fraction_lost, (256 / 12) as u8);
        assert_eq!(s.report_block(t).fraction_lost, 0);
    }

    #[test]
    fn resyncs_after_big_jump_in_sequence() {
        let t = t0();
        let mut s = ReceiverStats::new(Ssrc(1), 8000, 100, StatsConfig::default());
        for q in 100..110 {
            s.handle_packet(t, q, 0);
        }
        assert_eq!(s.handle_packet(t, 40000, 0), SeqVerdict::Resync);
        assert_eq!(s.handle_packet(t, 40001, 0), SeqVerdict::Restarted);
        s.handle_packet(t, 40002, 0);
        assert_eq!(s.expected(), 2);
        assert_eq!(s.received(), 2);
    }

    #[test]
    fn jitter_of_constant_offset_is_zero_and_of_alternating_converges() {
        let t = t0();
        let mut s = ReceiverStats::new(Ssrc(1), 8000, 0, StatsConfig::default());
        for i in 0..50u16 {
            s.handle_packet(
                t + Duration::from_millis(20 * u64::from(i)),
                i,
                160 * u32::from(i),
            );
        }
        assert!(s.jitter() < 1e-6);
        // Alternate +2 ms / 0: |D| = 2 ms = 16 units every packet, so J → 16.
        for i in 50..400u16 {
            let skew = if i % 2 == 0 { 2 } else { 0 };
            s.handle_packet(
                t + Duration::from_millis(20 * u64::from(i) + skew),
                i,
                160 * u32::from(i),
            );
        }
        assert!((s.jitter() - 16.0).abs() < 0.01, "{}", s.jitter());
        assert!((s.jitter_ms() - 2.0).abs() < 0.01);
    }

    #[test]
    fn dlsr_counts_from_sr_arrival() {
        let t = t0();
        let mut s = ReceiverStats::new(Ssrc(1), 8000, 0, StatsConfig::default());
        s.handle_sender_report(t, 0x0000_b705_2000_0000);
        let rb = s.report_block(t + Duration::from_millis(5250));
        assert_eq!(rb.last_sr, 0xb705_2000);
        assert_eq!(rb.delay_since_last_sr, 0x0005_4000);
    }
}
