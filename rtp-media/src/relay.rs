//! RTP relay ("indirect switching", MV-36: costs 2 connections) between two
//! legs: symmetric RTP with latching for NAT (comedia), and SSRC / sequence /
//! timestamp continuity towards each leg when the other side changes source
//! (re-INVITE, transfer). Packets are rewritten in place: no allocation.
//!
//! RTCP (recognised by the RFC 5761 rule) is forwarded unchanged: its SSRCs
//! are not rewritten, so a peer may see the original SSRC in reports after a
//! source change.
//!
//! Drive: for each datagram received on a leg's socket call
//! [`RtpRelay::handle_datagram`]; when it returns a [`RelayTransmit`], send
//! the (rewritten) buffer from the other leg's socket to `to`.

use crate::rtp::{RtpPacket, Ssrc, is_rtcp, seq_after};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One side of the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The first leg.
    A,
    /// The second leg.
    B,
}

impl Leg {
    /// The other leg.
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

/// Relay configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayConfig {
    /// Latch to the first source that sends (comedia); otherwise only the signalled address is accepted.
    pub latch: bool,
    /// A latched leg may re-latch to a new source after this much silence from the old one.
    pub relatch_after: Duration,
    /// Rewrite SSRC/sequence/timestamp so each leg sees one continuous stream.
    pub continuity: bool,
    /// Media clock rate, for timestamp continuity across a source change.
    pub clock_rate: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            latch: true,
            relatch_after: Duration::from_secs(2),
            continuity: true,
            clock_rate: 8000,
        }
    }
}

/// Where to send a relayed datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayTransmit {
    /// Destination address.
    pub to: SocketAddr,
    /// The leg whose socket sends it.
    pub via: Leg,
}

/// Why a datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// Not RTP/RTCP.
    Malformed,
    /// From an address other than the latched/signalled one.
    WrongSource,
    /// The other leg has no address yet.
    NoDestination,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Datagrams forwarded.
    pub forwarded: u64,
    /// Datagrams dropped as malformed.
    pub malformed: u64,
    /// Datagrams dropped from a wrong source.
    pub wrong_source: u64,
    /// Datagrams dropped for want of a destination.
    pub no_destination: u64,
    /// Source changes bridged by continuity rewriting.
    pub source_changes: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Output {
    out_ssrc: Option<Ssrc>,
    in_ssrc: Option<Ssrc>,
    seq_delta: u16,
    ts_delta: u32,
    last_seq: u16,
    last_ts: u32,
    last_at: Option<Instant>,
}

#[derive(Clone, Copy, Debug, Default)]
struct LegState {
    signalled: Option<SocketAddr>,
    latched: Option<SocketAddr>,
    last_rx: Option<Instant>,
    /// Rewriting of what is sent *to* this leg.
    output: Output,
}

/// A two-leg RTP relay.
#[derive(Debug, Default)]
pub struct RtpRelay {
    config: RelayConfig,
    legs: [LegState; 2],
    stats: RelayStats,
}

impl RtpRelay {
    /// A relay with `config`.
    pub fn new(config: RelayConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Sets a leg's signalled (SDP) address; a re-INVITE with a new address
    /// clears the latch so the new source can latch.
    pub fn set_remote(&mut self, leg: Leg, addr: SocketAddr) {
        let l = &mut self.legs[leg.index()];
        if l.signalled != Some(addr) {
            l.latched = None;
        }
        l.signalled = Some(addr);
    }

    /// Counters.
    pub fn stats(&self) -> RelayStats {
        self.stats
    }

    /// The address a leg currently sends to.
    pub fn destination(&self, leg: Leg) -> Option<SocketAddr> {
        let l = &self.legs[leg.index()];
        l.latched.or(l.signalled)
    }

    /// Handles a datagram received on `leg` from `from`, rewriting `packet`
    /// in place. Returns where to send it, or why it was dropped.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        leg: Leg,
        from: SocketAddr,
        packet: &mut [u8],
    ) -> Result<RelayTransmit, DropReason> {
        let rtcp = is_rtcp(packet);
        let parsed = if rtcp {
            None
        } else {
            match RtpPacket::parse(packet) {
                Ok(p) => Some((p.ssrc(), p.sequence(), p.timestamp())),
                Err(_) => {
                    self.stats.malformed += 1;
                    return Err(DropReason::Malformed);
                }
            }
        };
        if rtcp && packet.len() < 8 {
            self.stats.malformed += 1;
            return Err(DropReason::Malformed);
        }
        // Latching on the receiving leg.
        let cfg = self.config;
        let l = &mut self.legs[leg.index()];
        let accept = match l.latched {
            Some(a) if a == from => true,
            Some(_) => {
                cfg.latch
                    && l.last_rx
                        .is_none_or(|t| now.saturating_duration_since(t) >= cfg.relatch_after)
            }
            None => cfg.latch || l.signalled == Some(from),
        };
        if !accept {
            self.stats.wrong_source += 1;
            return Err(DropReason::WrongSource);
        }
        l.latched = Some(from);
        l.last_rx = Some(now);
        let out_leg = leg.other();
        let to = self.destination(out_leg).ok_or_else(|| {
            self.stats.no_destination += 1;
            DropReason::NoDestination
        })?;
        if let (Some((ssrc, seq, ts)), true) = (parsed, cfg.continuity) {
            let o = &mut self.legs[out_leg.index()].output;
            let out_ssrc = *o.out_ssrc.get_or_insert(ssrc);
            if o.in_ssrc != Some(ssrc) {
                if let (Some(_), Some(at)) = (o.in_ssrc, o.last_at) {
                    // A new source: continue the sequence and advance the
                    // timestamp by the elapsed wall time.
                    let elapsed = now.saturating_duration_since(at).as_secs_f64();
                    let ts_next = o
                        .last_ts
                        .wrapping_add((elapsed * f64::from(cfg.clock_rate)) as u32)
                        .wrapping_add(1);
                    o.seq_delta = o.last_seq.wrapping_add(1).wrapping_sub(seq);
                    o.ts_delta = ts_next.wrapping_sub(ts);
                    self.stats.source_changes += 1;
                }
                o.in_ssrc = Some(ssrc);
            }
            let new_seq = seq.wrapping_add(o.seq_delta);
            let new_ts = ts.wrapping_add(o.ts_delta);
            if seq_after(new_seq, o.last_seq) || o.last_at.is_none() {
                o.last_seq = new_seq;
                o.last_ts = new_ts;
            }
            o.last_at = Some(now);
            packet[2..4].copy_from_slice(&new_seq.to_be_bytes());
            packet[4..8].copy_from_slice(&new_ts.to_be_bytes());
            packet[8..12].copy_from_slice(&out_ssrc.0.to_be_bytes());
        }
        self.stats.forwarded += 1;
        Ok(RelayTransmit { to, via: out_leg })
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

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    fn pkt(ssrc: u32, seq: u16, ts: u32) -> Vec<u8> {
        let mut b = vec![0u8; 12 + 160];
        RtpHeader::new(PayloadType::PCMA, seq, ts, Ssrc(ssrc))
            .build(&[0xd5; 160], 0, &mut b)
            .expect("fits");
        b
    }

    #[test]
    fn comedia_latching_and_wrong_source() {
        let t = t0();
        let mut r = RtpRelay::new(RelayConfig::default());
        r.set_remote(Leg::A, addr("10.0.0.1:4000")); // private address in SDP (NAT)
        r.set_remote(Leg::B, addr("192.0.2.2:5000"));
        // A's packets come from its public NAT binding: latch to it.
        let mut p = pkt(1, 1, 0);
        let tx = r
            .handle_datagram(t, Leg::A, addr("198.51.100.7:62000"), &mut p)
            .expect("fwd");
        assert_eq!(
            tx,
            RelayTransmit {
                to: addr("192.0.2.2:5000"),
                via: Leg::B
            }
        );
        assert_eq!(r.destination(Leg::A), Some(addr("198.51.100.7:62000")));
        // B's media is symmetric: it goes to the latched address.
        let mut p = pkt(2, 1, 0);
        let tx = r
            .handle_datagram(t, Leg::B, addr("192.0.2.2:5000"), &mut p)
            .expect("fwd");
        assert_eq!(tx.to, addr("198.51.100.7:62000"));
        // Another source on leg A is refused while the latch is fresh.
        let mut p = pkt(9, 1, 0);
        assert_eq!(
            r.handle_datagram(
                t + Duration::from_millis(20),
                Leg::A,
                addr("203.0.113.9:1"),
                &mut p
            ),
            Err(DropReason::WrongSource)
        );
        // After silence, re-latching is allowed.
        let mut p = pkt(9, 2, 0);
        assert!(
            r.handle_datagram(
                t + Duration::from_secs(5),
                Leg::A,
                addr("203.0.113.9:1"),
                &mut p
            )
            .is_ok()
        );
    }

    #[test]
    fn strict_mode_accepts_only_signalled() {
        let t = t0();
        let mut r = RtpRelay::new(RelayConfig {
            latch: false,
            ..RelayConfig::default()
        });
        r.set_remote(Leg::A, addr("192.0.2.1:4000"));
        r.set_remote(Leg::B, addr("192.0.2.2:5000"));
        let mut p = pkt(1, 1, 0);
        assert_eq!(
            r.handle_datagram(t, Leg::A, addr("192.0.2.99:4000"), &mut p),
            Err(DropReason::WrongSource)
        );
        assert!(
            r.handle_datagram(t, Leg::A, addr("192.0.2.1:4000"), &mut p)
                .is_ok()
        );
    }

    #[test]
    fn continuity_across_source_change() {
        let t = t0();
        let mut r = RtpRelay::new(RelayConfig::default());
        r.set_remote(Leg::B, addr("192.0.2.2:5000"));
        let from = addr("192.0.2.1:4000");
        let mut out = Vec::new();
        for i in 0..5u16 {
            let mut p = pkt(111, 1000 + i, 8000 + 160 * u32::from(i));
            let at = t + Duration::from_millis(20 * u64::from(i));
            r.handle_datagram(at, Leg::A, from, &mut p).expect("fwd");
            out.push(
                RtpPacket::parse(&p)
                    .map(|x| (x.ssrc(), x.sequence(), x.timestamp()))
                    .expect("rtp"),
            );
        }
        // Re-INVITE: a new source with unrelated numbering, 20 ms later.
        for i in 0..3u16 {
            let mut p = pkt(222, 50 + i, 123_456 + 160 * u32::from(i));
            let at = t + Duration::from_millis(100 + 20 * u64::from(i));
            r.handle_datagram(at, Leg::A, from, &mut p).expect("fwd");
            out.push(
                RtpPacket::parse(&p)
                    .map(|x| (x.ssrc(), x.sequence(), x.timestamp()))
                    .expect("rtp"),
            );
        }
        assert!(out.iter().all(|(s, _, _)| *s == Ssrc(111)));
        let seqs: Vec<u16> = out.iter().map(|o| o.1).collect();
        assert_eq!(seqs, (1000..1008).collect::<Vec<_>>());
        // Timestamp advances by ≈ the 20 ms gap (160 units) at the switch.
        let jump = out[5].2.wrapping_sub(out[4].2);
        assert!((150..=175).contains(&jump), "{jump}");
        assert_eq!(out[7].2.wrapping_sub(out[5].2), 320);
        assert_eq!(r.stats().source_changes, 1);
    }

    #[test]
    fn rtcp_forwarded_unchanged_and_garbage_dropped() {
        let t = t0();
        let mut r = RtpRelay::new(RelayConfig::default());
        r.set_remote(Leg::B, addr("192.0.2.2:5001"));
        let mut rr = [0x80, 201, 0, 1, 0, 0, 0, 7];
        let before = rr;
        r.handle_datagram(t, Leg::A, addr("192.0.2.1:4001"), &mut rr)
            .expect("fwd");
        assert_eq!(rr, before);
        let mut junk = [1u8, 2, 3];
        assert_eq!(
            r.handle_datagram(t, Leg::A, addr("192.0.2.1:4001"), &mut junk),
            Err(DropReason::Malformed)
        );
        let mut p = pkt(1, 1, 0);
        let mut lone = RtpRelay::new(RelayConfig::default());
        assert_eq!(
            lone.handle_datagram(t, Leg::A, addr("192.0.2.1:4001"), &mut p),
            Err(DropReason::NoDestination)
        );
    }
}
