//! RFC 4733 telephone events (DTMF over RTP): payload codec, a receiver that
//! reports one digit per event despite retransmitted end packets, and a
//! sender that produces the canonical packet train.

use crate::rtp::seq_after;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use thiserror::Error;

/// A DTMF event code (RFC 4733 §3.2: 0–9, `*` = 10, `#` = 11, A–D = 12–15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DtmfDigit(u8);

impl DtmfDigit {
    /// From an RFC 4733 event code; `None` for codes above 15 (non-DTMF events).
    pub const fn from_code(code: u8) -> Option<Self> {
        if code <= 15 { Some(Self(code)) } else { None }
    }

    /// From a keypad character (`0-9`, `*`, `#`, `A-D`, case-insensitive).
    pub fn from_char(c: char) -> Option<Self> {
        let code = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Some(Self(code))
    }

    /// The event code.
    pub const fn code(self) -> u8 {
        self.0
    }

    /// The keypad character.
    pub const fn as_char(self) -> char {
        match self.0 {
            0..=9 => (b'0' + self.0) as char,
            10 => '*',
            11 => '#',
            _ => (b'A' + self.0 - 12) as char,
        }
    }
}

/// Why an RFC 4733 payload is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// Payload shorter than the 4-byte event block.
    #[error("telephone-event payload is {0} bytes, need 4")]
    Truncated(usize),
    /// The event code is not a DTMF digit (0–15).
    #[error("event code {0} is not a DTMF digit")]
    NotDtmf(u8),
}

/// One RFC 4733 §2.3 event block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code.
    pub event: u8,
    /// End bit.
    pub end: bool,
    /// Power level in −dBm0 (0–63).
    pub volume: u8,
    /// Duration in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first event block of a payload (redundant blocks are ignored).
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let [event, flags, d0, d1, ..] = *payload else {
            return Err(DtmfError::Truncated(payload.len()));
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// Serialises the event block.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }
}

/// What the receiver reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtmfEvent {
    /// A digit began (first packet of an event).
    Started {
        /// The digit.
        digit: DtmfDigit,
        /// RTP timestamp identifying the event.
        timestamp: u32,
    },
    /// A digit ended (end packet, or timeout without one).
    Ended {
        /// The digit.
        digit: DtmfDigit,
        /// RTP timestamp identifying the event.
        timestamp: u32,
        /// Total duration in timestamp units (segments summed).
        duration: u32,
        /// Power level in −dBm0.
        volume: u8,
        /// Whether it ended by timeout rather than an end packet.
        timed_out: bool,
    },
}

#[derive(Clone, Copy, Debug)]
struct Current {
    digit: DtmfDigit,
    timestamp: u32,
    /// Duration accumulated by completed segments of a long event.
    base: u32,
    duration: u16,
    volume: u8,
    last_seen: Instant,
}

/// Receiver configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfReceiverConfig {
    /// End an event without end packet after this much silence (RFC 4733 §2.5.2.2 suggests a few update intervals).
    pub timeout: Duration,
}

impl Default for DtmfReceiverConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(200),
        }
    }
}

/// RFC 4733 §2.5.2 receiver: feed telephone-event packets, drain [`DtmfEvent`]s.
#[derive(Debug, Default)]
pub struct DtmfReceiver {
    config: DtmfReceiverConfig,
    current: Option<Current>,
    /// Timestamp of the last completed event, to ignore its retransmitted end packets.
    last_ended: Option<u32>,
    last_seq: Option<u16>,
    events: VecDeque<DtmfEvent>,
}

impl DtmfReceiver {
    /// A receiver with `config`.
    pub fn new(config: DtmfReceiverConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Handles one telephone-event RTP packet (`payload` is the RTP payload).
    pub fn handle_packet(
        &mut self,
        now: Instant,
        seq: u16,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        let digit = DtmfDigit::from_code(ev.event).ok_or(DtmfError::NotDtmf(ev.event))?;
        // Packets older than the newest seen are stale reorderings, except the
        // repeated end packet that shares its sequence number (ignored below).
        if let Some(last) = self.last_seq
            && seq_after(last, seq)
        {
            return Ok(());
        }
        self.last_seq = Some(seq);
        if self.last_ended == Some(timestamp) {
            return Ok(()); // retransmitted end (or late update) of a finished event
        }
        match self.current {
            Some(mut cur) if cur.timestamp == timestamp => {
                if ev.duration >= cur.duration {
                    cur.duration = ev.duration;
                }
                cur.volume = ev.volume;
                cur.last_seen = now;
                self.current = Some(cur);
            }
            Some(mut cur)
                if cur.digit == digit
                    && timestamp == cur.timestamp.wrapping_add(u32::from(cur.duration)) =>
            {
                // RFC 4733 §2.5.2.3 long event: a new segment continues the event.
                cur.base += u32::from(cur.duration);
                cur.timestamp = timestamp;
                cur.duration = ev.duration;
                cur.volume = ev.volume;
                cur.last_seen = now;
                self.current = Some(cur);
            }
            other => {
                if let Some(prev) = other {
                    self.finish(prev, true);
                }
                self.events
                    .push_back(DtmfEvent::Started { digit, timestamp });
                self.current = Some(Current {
                    digit,
                    timestamp,
                    base: 0,
                    duration: ev.duration,
                    volume: ev.volume,
                    last_seen: now,
                });
            }
        }
        if ev.end
            && let Some(cur) = self.current.take()
        {
            self.finish(cur, false);
        }
        Ok(())
    }

    fn finish(&mut self, cur: Current, timed_out: bool) {
        self.last_ended = Some(cur.timestamp);
        self.events.push_back(DtmfEvent::Ended {
            digit: cur.digit,
            timestamp: cur.timestamp,
            duration: cur.base + u32::from(cur.duration),
            volume: cur.volume,
            timed_out,
        });
    }

    /// Ends an event whose end packets were all lost.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(cur) = self.current
            && now.saturating_duration_since(cur.last_seen) >= self.config.timeout
        {
            self.current = None;
            self.finish(cur, true);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current.map(|c| c.last_seen + self.config.timeout)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.events.pop_front()
    }
}

/// Sender configuration (RFC 4733 §2.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfSenderConfig {
    /// Timestamp units the duration grows per update packet.
    pub duration_step: u16,
    /// Time between update packets.
    pub update_interval: Duration,
    /// Power level in −dBm0.
    pub volume: u8,
    /// Total number of end packets (RFC 4733 §2.5.1.4: three).
    pub end_packets: u8,
    /// Whether the repeated end packets reuse one sequence number (as sip-tester's
    /// golden captures do) rather than incrementing it. Keep `false` with SRTP:
    /// a repeated sequence number is a replay there and is dropped (decision D-RTP-3).
    pub end_same_sequence: bool,
}

impl Default for DtmfSenderConfig {
    fn default() -> Self {
        Self {
            duration_step: 160,
            update_interval: Duration::from_millis(20),
            volume: 10,
            end_packets: 3,
            end_same_sequence: false,
        }
    }
}

/// One packet of a DTMF train, to be sent `offset` after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    /// When to send, relative to the first packet.
    pub offset: Duration,
    /// Marker bit (set on the first packet of the event).
    pub marker: bool,
    /// RTP sequence number.
    pub sequence: u16,
    /// RTP timestamp (the event start, identical for all packets).
    pub timestamp: u32,
    /// The 4-byte payload.
    pub payload: [u8; 4],
}

/// Generates RFC 4733 packet trains.
#[derive(Clone, Copy, Debug, Default)]
pub struct DtmfSender {
    config: DtmfSenderConfig,
}

impl DtmfSender {
    /// A sender with `config`.
    pub fn new(config: DtmfSenderConfig) -> Self {
        Self { config }
    }

    /// The packet train for `digit` lasting `duration` timestamp units, starting
    /// at RTP `timestamp` and sequence `first_seq`: a start packet (marker,
    /// duration 0), updates every `duration_step`, then the end packet(s).
    pub fn packets(
        &self,
        digit: DtmfDigit,
        duration: u16,
        timestamp: u32,
        first_seq: u16,
    ) -> impl Iterator<Item = DtmfPacket> + use<> {
        let c = self.config;
        let step = c.duration_step.max(1);
        let updates = duration.div_ceil(step); // packets after the start one
        let ends = u16::from(c.end_packets.max(1));
        (0..=updates + ends - 1).map(move |i| {
            let is_end = i >= updates;
            let k = i.min(updates);
            let dur = if is_end {
                duration
            } else {
                k.saturating_mul(step).min(duration)
            };
            let seq_index = if is_end && c.end_same_sequence {
                updates
            } else {
                i
            };
            DtmfPacket {
                offset: c.update_interval * u32::from(k),
                marker: i == 0,
                sequence: first_seq.wrapping_add(seq_index),
                timestamp,
                payload: TelephoneEvent {
                    event: digit.code(),
                    end: is_end,
                    volume: c.volume,
                    duration: dur,
                }
                .to_bytes(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // virtual-clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn digit_chars_round_trip() {
        for c in "0123456789*#ABCD".chars() {
            assert_eq!(DtmfDigit::from_char(c).map(DtmfDigit::as_char), Some(c));
        }
        assert_eq!(DtmfDigit::from_char('x'), None);
        assert_eq!(DtmfDigit::from_code(16), None);
    }

    #[test]
    fn rfc4733_payload_layout() {
        // RFC 4733 §2.3: event 5, E=1, volume 10, duration 1600.
        let ev = TelephoneEvent::parse(&[5, 0x8a, 0x06, 0x40]).expect("valid");
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 1600
            }
        );
        assert_eq!(ev.to_bytes(), [5, 0x8a, 0x06, 0x40]);
        assert_eq!(TelephoneEvent::parse(&[1, 2]), Err(DtmfError::Truncated(2)));
    }

    #[test]
    fn timeout_ends_event_without_end_packet() {
        let t = t0();
        let mut r = DtmfReceiver::default();
        r.handle_packet(t, 1, 800, &[7, 10, 0, 160]).expect("ok");
        assert!(matches!(r.poll_event(), Some(DtmfEvent::Started { .. })));
        r.handle_timeout(t + Duration::from_millis(100));
        assert_eq!(r.poll_event(), None);
        assert_eq!(r.poll_timeout(), Some(t + Duration::from_millis(200)));
        r.handle_timeout(t + Duration::from_millis(200));
        assert!(matches!(
            r.poll_event(),
            Some(DtmfEvent::Ended {
                timed_out: true,
                duration: 160,
                ..
            })
        ));
    }

    #[test]
    fn long_event_segments_are_summed() {
        // RFC 4733 §2.5.2.3: a segment that starts where the previous ended continues it.
        let t = t0();
        let mut r = DtmfReceiver::default();
        r.handle_packet(t, 1, 1000, &[3, 10, 0xff, 0xff])
            .expect("ok");
        r.handle_packet(t, 2, 1000 + 0xffff, &[3, 0x8a, 0x01, 0x00])
            .expect("ok");
        let evs: Vec<_> = std::iter::from_fn(|| r.poll_event()).collect();
        assert_eq!(evs.len(), 2);
        assert!(matches!(
            evs[1],
            DtmfEvent::Ended {
                duration: 65791,
                timed_out: false,
                ..
            }
        ));
    }

    #[test]
    fn sender_shape_default() {
        let s = DtmfSender::default();
        let d = DtmfDigit::from_char('9').expect("digit");
        let pkts: Vec<_> = s.packets(d, 800, 4000, 10).collect();
        // start (0) + updates 160..640, then the end (800) three times.
        assert_eq!(pkts.len(), 8);
        assert!(pkts[0].marker && pkts[1..].iter().all(|p| !p.marker));
        assert_eq!(pkts[0].payload, [9, 10, 0, 0]);
        assert!(pkts[5..].iter().all(|p| p.payload == [9, 0x8a, 0x03, 0x20]));
        let seqs: Vec<u16> = pkts.iter().map(|p| p.sequence).collect();
        assert_eq!(seqs, (10..18).collect::<Vec<_>>());
        let same = DtmfSender::new(DtmfSenderConfig {
            end_same_sequence: true,
            ..DtmfSenderConfig::default()
        });
        assert!(
            same.packets(d, 800, 4000, 10)
                .skip(5)
                .all(|p| p.sequence == 15)
        );
    }
}
