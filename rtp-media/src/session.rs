//! An RTP session endpoint: per-source reception statistics, sender counters,
//! periodic compound RTCP (SR or RR + SDES CNAME, RFC 3550 §6), round-trip
//! time from report blocks, and BYE handling.
//!
//! Drive: [`RtpSession::handle_rtp`] for each received RTP packet,
//! [`RtpSession::on_sent`] for each sent one, [`RtpSession::handle_rtcp`] for
//! each received RTCP datagram, and [`RtpSession::handle_timeout`] when
//! [`RtpSession::poll_timeout`] is due; then drain
//! [`RtpSession::poll_transmit`] (RTCP to send) and
//! [`RtpSession::poll_event`]. The NTP wall clock is injected (`ntp`
//! arguments, 32.32 fixed point), monotonic time is `now`.

use crate::jitter::JitterStats;
use crate::rtcp::{
    ReportBlock, RtcpError, RtcpPacket, RtcpWriter, SenderInfo, VoipMetrics, parse_compound,
};
use crate::rtp::{RtpPacket, Ssrc};
use crate::stats::{ReceiverStats, SenderStats, SeqVerdict, StatsConfig, round_trip_time};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Session configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our SSRC.
    pub ssrc: Ssrc,
    /// Our CNAME (RFC 3550 §6.5.1).
    pub cname: String,
    /// Media clock rate.
    pub clock_rate: u32,
    /// Nominal RTCP interval (RFC 3550 §6.2 minimum 5 s); each interval is
    /// randomised in [0.5, 1.5] × this, deterministically from the SSRC.
    pub rtcp_interval: Duration,
    /// Sequence-validation tunables.
    pub stats: StatsConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            ssrc: Ssrc(0),
            cname: String::new(),
            clock_rate: 8000,
            rtcp_interval: Duration::from_secs(5),
            stats: StatsConfig::default(),
        }
    }
}

/// What the session reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A new remote source started sending.
    NewSource(Ssrc),
    /// A remote source said BYE.
    Bye(Ssrc),
    /// A round-trip time measured from a report block about us.
    RoundTripTime(Duration),
    /// A report block about our stream (loss and jitter seen by the peer).
    RemoteReport(ReportBlock),
}

/// One RTP session (one local source, any number of remote sources).
#[derive(Debug)]
pub struct RtpSession {
    config: SessionConfig,
    sender: SenderStats,
    last_sent: Option<(u32, Instant)>,
    sent_since_report: bool,
    sources: HashMap<Ssrc, ReceiverStats>,
    next_rtcp: Option<Instant>,
    rng: u32,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<SessionEvent>,
}

impl RtpSession {
    /// A session; the first RTCP report is due half an interval after `now`.
    pub fn new(now: Instant, config: SessionConfig) -> Self {
        let rng = config.ssrc.0 | 1;
        let first = now + config.rtcp_interval / 2;
        Self {
            config,
            sender: SenderStats::default(),
            last_sent: None,
            sent_since_report: false,
            sources: HashMap::new(),
            next_rtcp: Some(first),
            rng,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Reception statistics of a remote source.
    pub fn source(&self, ssrc: Ssrc) -> Option<&ReceiverStats> {
        self.sources.get(&ssrc)
    }

    /// Accounts a received RTP packet.
    pub fn handle_rtp(&mut self, now: Instant, packet: &RtpPacket<'_>) -> SeqVerdict {
        let ssrc = packet.ssrc();
        let cfg = &self.config;
        let stats = self.sources.entry(ssrc).or_insert_with(|| {
            self.events.push_back(SessionEvent::NewSource(ssrc));
            ReceiverStats::new(ssrc, cfg.clock_rate, packet.sequence(), cfg.stats)
        });
        stats.handle_packet(now, packet.sequence(), packet.timestamp())
    }

    /// Accounts a packet we sent (its RTP timestamp and payload length).
    pub fn on_sent(&mut self, now: Instant, rtp_timestamp: u32, payload_len: usize) {
        self.sender.on_sent(payload_len);
        self.last_sent = Some((rtp_timestamp, now));
        self.sent_since_report = true;
    }

    /// Handles a received compound RTCP datagram; `ntp` is the wall clock now.
    pub fn handle_rtcp(
        &mut self,
        now: Instant,
        ntp: u64,
        datagram: &[u8],
    ) -> Result<(), RtcpError> {
        for pkt in parse_compound(datagram)? {
            let reports = match pkt? {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                } => {
                    if let Some(s) = self.sources.get_mut(&ssrc) {
                        s.handle_sender_report(now, info.ntp);
                    }
                    reports
                }
                RtcpPacket::ReceiverReport { reports, .. } => reports,
                RtcpPacket::Bye { sources, .. } => {
                    for s in sources {
                        if self.sources.remove(&s).is_some() {
                            self.events.push_back(SessionEvent::Bye(s));
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            for block in reports.iter() {
                if block.ssrc != self.config.ssrc {
                    continue;
                }
                self.events.push_back(SessionEvent::RemoteReport(block));
                if let Some(rtt) = round_trip_time((ntp >> 16) as u32, &block) {
                    self.events.push_back(SessionEvent::RoundTripTime(rtt));
                }
            }
        }
        Ok(())
    }

    fn next_interval(&mut self) -> Duration {
        // xorshift32: deterministic randomisation in [0.5, 1.5] (RFC 3550 §6.3.5).
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let f = 0.5 + f64::from(self.rng) / f64::from(u32::MAX);
        self.config.rtcp_interval.mul_f64(f)
    }

    /// Sends a report if one is due.
    pub fn handle_timeout(&mut self, now: Instant, ntp: u64) {
        let Some(due) = self.next_rtcp else { return };
        if now < due {
            return;
        }
        self.queue_report(now, ntp, None);
        self.next_rtcp = Some(now + self.next_interval());
    }

    /// Queues a final report with BYE (leaving the session) and stops reporting.
    pub fn close(&mut self, now: Instant, ntp: u64) {
        self.queue_report(now, ntp, Some(self.config.ssrc));
        self.next_rtcp = None;
    }

    fn queue_report(&mut self, now: Instant, ntp: u64, bye: Option<Ssrc>) {
        let blocks: Vec<ReportBlock> = self
            .sources
            .values_mut()
            .take(31)
            .map(|s| s.report_block(now))
            .collect();
        let mut buf = vec![0u8; 28 + 24 * blocks.len() + 4 + 8 + 256 + 16];
        let mut w = RtcpWriter::new(&mut buf);
        let ssrc = self.config.ssrc;
        let res = if self.sent_since_report {
            let rtp_timestamp = self.last_sent.map_or(0, |(ts, at)| {
                let d = now.saturating_duration_since(at).as_secs_f64();
                ts.wrapping_add((d * f64::from(self.config.clock_rate)) as u32)
            });
            let info = SenderInfo {
                ntp,
                rtp_timestamp,
                packet_count: self.sender.packets,
                octet_count: self.sender.octets,
            };
            w.sender_report(ssrc, &info, &blocks).map(|_| ())
        } else {
            w.receiver_report(ssrc, &blocks).map(|_| ())
        };
        let cname = self.config.cname.as_bytes();
        let res = res
            .and_then(|()| {
                w.sdes_cname(ssrc, &cname[..cname.len().min(255)])
                    .map(|_| ())
            })
            .and_then(|()| match bye {
                Some(s) => w.bye(&[s], None).map(|_| ()),
                None => Ok(()),
            });
        if res.is_ok() {
            let n = w.finish();
            buf.truncate(n);
            self.transmits.push_back(buf);
        }
        self.sent_since_report = false;
    }

    /// The next RTCP datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_rtcp
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }
}

/// Builds an RFC 3611 §4.7 VoIP Metrics block for source `rx` from what this
/// crate measures: loss from the RFC 3550 counters, discards and delays from
/// the jitter buffer, and the round-trip time. Burst/gap analysis, signal,
/// noise, echo and the R-factor/MOS values are reported as unavailable
/// (zero / 127), as RFC 3611 allows. `adaptive` and `abs_max` describe the
/// jitter-buffer configuration.
pub fn voip_metrics(
    rx: &ReceiverStats,
    jb: &JitterStats,
    rtt: Option<Duration>,
    adaptive: bool,
    abs_max: Duration,
) -> VoipMetrics {
    let rate = |num: f64, den: f64| {
        if den <= 0.0 {
            0
        } else {
            (num / den * 256.0).clamp(0.0, 255.0) as u8
        }
    };
    let ms = |d: Duration| u16::try_from(d.as_millis()).unwrap_or(u16::MAX);
    VoipMetrics {
        ssrc: rx.ssrc(),
        loss_rate: rate(rx.cumulative_lost().max(0) as f64, f64::from(rx.expected())),
        discard_rate: rate(jb.late_discards as f64, jb.packets_received as f64),
        burst_density: 0,
        gap_density: 0,
        burst_duration: 0,
        gap_duration: 0,
        round_trip_delay: rtt.map_or(0, ms),
        end_system_delay: ms(jb.current_delay),
        signal_level: 127,
        noise_level: 127,
        rerl: 127,
        gmin: 16,
        r_factor: 127,
        ext_r_factor: 127,
        mos_lq: 127,
        mos_cq: 127,
        // PLC unspecified (the decoder is the PBX's), JBA adaptive (11) or non-adaptive (10).
        rx_config: if adaptive { 0b0011_0000 } else { 0b0010_0000 },
        jb_nominal: ms(jb.target_delay),
        jb_maximum: ms(jb.current_delay.max(jb.target_delay)),
        jb_abs_max: ms(abs_max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::{PayloadType, RtpHeader};

    #[allow(clippy::disallowed_methods)] // virtual-clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    /// NTP time for a virtual instant: an arbitrary epoch plus the elapsed time.
    fn ntp_at(base: Instant, now: Instant) -> u64 {
        let d = now.saturating_duration_since(base);
        let secs = 3_900_000_000u64 + d.as_secs();
        (secs << 32) | ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
    }

    #[test]
    fn voip_metrics_from_measurements() {
        let t = t0();
        let mut rx = ReceiverStats::new(Ssrc(9), 8000, 0, StatsConfig::default());
        for q in (0..100u16).filter(|q| q % 10 != 5) {
            rx.handle_packet(t, q, u32::from(q) * 160);
        }
        let jb = JitterStats {
            packets_received: 90,
            late_discards: 9,
            current_delay: Duration::from_millis(60),
            target_delay: Duration::from_millis(40),
            ..JitterStats::default()
        };
        let m = voip_metrics(
            &rx,
            &jb,
            Some(Duration::from_millis(85)),
            true,
            Duration::from_secs(1),
        );
        assert_eq!(m.ssrc, Ssrc(9));
        assert_eq!(m.loss_rate, 25); // 10 of 100 → 25.6/256
        assert_eq!(m.discard_rate, 25);
        assert_eq!((m.round_trip_delay, m.end_system_delay), (85, 60));
        assert_eq!((m.jb_nominal, m.jb_maximum, m.jb_abs_max), (40, 60, 1000));
        assert_eq!(m.rx_config, 0b0011_0000);
    }

    #[test]
    fn rtt_loss_and_bye_between_two_sessions() {
        let t = t0();
        let one_way = Duration::from_millis(40);
        let cfg = |ssrc, cname: &str| SessionConfig {
            ssrc: Ssrc(ssrc),
            cname: cname.to_owned(),
            ..SessionConfig::default()
        };
        let mut a = RtpSession::new(t, cfg(0xa, "a@pbx"));
        let mut b = RtpSession::new(t, cfg(0xb, "b@phone"));
        // In flight: (arrival, to_b, bytes).
        let mut wire: Vec<(Instant, bool, Vec<u8>)> = Vec::new();
        let mut rtts = Vec::new();
        let mut remote = Vec::new();
        let mut buf = [0u8; 200];
        for tick in 0..1000u32 {
            let now = t + Duration::from_millis(20 * u64::from(tick));
            // A sends RTP every 20 ms, losing every 50th packet.
            let seq = tick as u16;
            let n = RtpHeader::new(PayloadType::PCMA, seq, tick * 160, Ssrc(0xa))
                .build(&[0xd5; 160], 0, &mut buf)
                .expect("fits");
            a.on_sent(now, tick * 160, 160);
            if tick % 50 != 49 {
                wire.push((now + one_way, true, buf[..n].to_vec()));
            }
            for s in [&mut a, &mut b] {
                s.handle_timeout(now, ntp_at(t, now));
            }
            while let Some(p) = a.poll_transmit() {
                wire.push((now + one_way, true, p));
            }
            while let Some(p) = b.poll_transmit() {
                wire.push((now + one_way, false, p));
            }
            let (due, rest): (Vec<_>, Vec<_>) = wire.into_iter().partition(|(at, _, _)| *at <= now);
            wire = rest;
            for (at, to_b, bytes) in due {
                let s = if to_b { &mut b } else { &mut a };
                if crate::rtp::is_rtcp(&bytes) {
                    s.handle_rtcp(at, ntp_at(t, at), &bytes)
                        .expect("valid RTCP");
                } else {
                    let p = RtpPacket::parse(&bytes).expect("rtp");
                    s.handle_rtp(at, &p);
                }
            }
            while let Some(e) = a.poll_event() {
                match e {
                    SessionEvent::RoundTripTime(r) => rtts.push(r),
                    SessionEvent::RemoteReport(rb) => remote.push(rb),
                    _ => {}
                }
            }
        }
        // RTT = 2 × 40 ms, quantised to 1/65536 s, plus up to one 20 ms tick of handling delay.
        assert!(!rtts.is_empty());
        for r in &rtts {
            assert!(
                *r >= Duration::from_millis(79) && *r <= Duration::from_millis(101),
                "{r:?}"
            );
        }
        // B's view of A's stream, reported back: 1 loss per 50 packets.
        let last = remote.last().expect("report");
        let expected_lost = i64::from(last.highest_sequence + 1) / 50;
        assert!(
            (i64::from(last.cumulative_lost) - expected_lost).abs() <= 1,
            "{last:?}"
        );
        let st = b.source(Ssrc(0xa)).expect("source");
        assert_eq!(st.cumulative_lost(), i64::from(st.expected() / 50));
        // BYE.
        a.close(t, 0);
        let bye = a.poll_transmit().expect("bye");
        b.poll_event();
        b.handle_rtcp(t, 0, &bye).expect("valid");
        let evs: Vec<_> = std::iter::from_fn(|| b.poll_event()).collect();
        assert!(evs.contains(&SessionEvent::Bye(Ssrc(0xa))));
        assert!(a.poll_timeout().is_none());
    }
}
