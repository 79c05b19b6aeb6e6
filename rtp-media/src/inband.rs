//! Conversion between RFC 4733 telephone events and in-band DTMF, for a gateway between a
//! side that signalled `telephone-event` and one that did not.
//!
//! [`EventsToTones`] turns the event packets of a stream into spans of tone PCM that take
//! the place of the audio those packets cover (RFC 4733 §2.5.2.1: the receiver plays the
//! event for its duration). [`TonesToEvents`] detects digits in decoded 8 kHz PCM with
//! [`DtmfDetector`] and reports each as an event for [`crate::dtmf::DtmfSender`].
//!
//! Both work in the stream's RTP clock; PCM is at the sample rate given at construction
//! (they differ for G.722: 16 kHz sampled, 8 kHz clock).

use std::collections::VecDeque;
use std::time::Duration;

use crate::dtmf::{DtmfDigit, DtmfError, TelephoneEvent};
use crate::rtp::ts_after;
use crate::tones::{DetectorConfig, DtmfDetector, ToneGenerator, ToneSpec};

/// A stretch of the stream, in RTP clock units, that a tone covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToneSpan {
    /// RTP timestamp of its first sample.
    pub timestamp: u32,
    /// Length in RTP clock units.
    pub duration: u32,
}

#[derive(Clone, Debug)]
struct Playing {
    timestamp: u32,
    covered: u32,
    ended: bool,
    tone: ToneGenerator,
}

/// RFC 4733 events of one stream → in-band tone PCM.
#[derive(Clone, Debug)]
pub struct EventsToTones {
    sample_rate: u32,
    clock_rate: u32,
    current: Option<Playing>,
}

impl EventsToTones {
    /// A converter producing PCM at `sample_rate` Hz for a stream clocked at `clock_rate` Hz.
    pub fn new(sample_rate: u32, clock_rate: u32) -> Self {
        Self {
            sample_rate: sample_rate.max(1),
            clock_rate: clock_rate.max(1),
            current: None,
        }
    }

    /// Feeds the payload of a telephone-event packet with RTP `timestamp`. Returns the
    /// stretch of the stream this packet newly covers, to be rendered with
    /// [`EventsToTones::fill`]; retransmissions, late packets of an earlier event and
    /// events that are not DTMF digits give `None`.
    pub fn handle_event(
        &mut self,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<Option<ToneSpan>, DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        let Some(digit) = DtmfDigit::from_code(ev.event) else {
            return Ok(None);
        };
        let same = self.current.as_ref().map(|p| p.timestamp);
        if same != Some(timestamp) {
            if same.is_some_and(|t| !ts_after(timestamp, t)) {
                return Ok(None); // a late packet of an earlier event
            }
            self.current = Some(Playing {
                timestamp,
                covered: 0,
                ended: false,
                tone: ToneGenerator::new(ToneSpec::dtmf(digit), self.sample_rate),
            });
        }
        let Some(p) = self.current.as_mut() else {
            return Ok(None);
        };
        p.ended |= ev.end;
        let duration = u32::from(ev.duration);
        if duration <= p.covered {
            return Ok(None);
        }
        let span = ToneSpan {
            timestamp: p.timestamp.wrapping_add(p.covered),
            duration: duration - p.covered,
        };
        p.covered = duration;
        Ok(Some(span))
    }

    /// The number of PCM samples that `units` of RTP clock last.
    pub fn samples(&self, units: u32) -> usize {
        (u64::from(units) * u64::from(self.sample_rate) / u64::from(self.clock_rate)) as usize
    }

    /// Renders the next samples of the current event's tone into `out` (silence when there
    /// is no event).
    pub fn fill(&mut self, out: &mut [i16]) {
        match self.current.as_mut() {
            Some(p) => p.tone.fill(out),
            None => out.fill(0),
        }
    }

    /// Whether audio at `timestamp` falls inside an event, and so gives way to its tone: from
    /// the event's start while it lasts, and within its final duration once it ended.
    pub fn covers(&self, timestamp: u32) -> bool {
        let Some(p) = &self.current else {
            return false;
        };
        let offset = timestamp.wrapping_sub(p.timestamp);
        let started = timestamp == p.timestamp || ts_after(timestamp, p.timestamp);
        started && (!p.ended || offset < p.covered)
    }
}

/// A digit detected in-band, placed in the stream's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InbandEvent {
    /// The digit.
    pub digit: DtmfDigit,
    /// RTP timestamp where the tone began (approximately).
    pub timestamp: u32,
    /// Its length so far in RTP clock units (saturated to the 16-bit RFC 4733 field).
    pub duration: u16,
}

/// What the detector saw change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InbandChange {
    /// A digit was confirmed: send the event's first packet now (RFC 4733 §2.5.1.2).
    Started(InbandEvent),
    /// The digit ended: send the end packets with its final length.
    Ended(InbandEvent),
}

/// In-band DTMF in decoded 8 kHz PCM → events to send as RFC 4733 packets while the digit
/// sounds: [`InbandChange::Started`] once it is confirmed (about 38 ms in), then
/// [`TonesToEvents::active`] for the update packets, and [`InbandChange::Ended`].
#[derive(Clone, Debug)]
pub struct TonesToEvents {
    clock_rate: u32,
    detector: DtmfDetector,
    changes: VecDeque<InbandChange>,
    /// The digit sounding: (digit, start timestamp), and where the PCM fed so far ends.
    current: Option<(DtmfDigit, u32)>,
    end: u32,
}

impl TonesToEvents {
    /// A detector for a stream clocked at `clock_rate` Hz.
    pub fn new(clock_rate: u32, config: DetectorConfig) -> Self {
        Self {
            clock_rate: clock_rate.max(1),
            detector: DtmfDetector::new(config),
            changes: VecDeque::new(),
            current: None,
            end: 0,
        }
    }

    /// Feeds the decoded 8 kHz PCM of the frame that starts at RTP `timestamp`.
    pub fn process(&mut self, timestamp: u32, pcm: &[i16]) {
        self.detector.process(pcm);
        let fed = pcm.len() as u64 * u64::from(self.clock_rate) / 8000;
        self.end = timestamp.wrapping_add(fed as u32);
        while let Some(d) = self.detector.poll_event() {
            // A digit that started and ended within this frame is announced first.
            let start = match self.current.take() {
                Some((digit, start)) if digit == d.digit => start,
                _ => {
                    let start = self.end.wrapping_sub(units(d.duration, self.clock_rate));
                    let e = self.event(d.digit, start);
                    self.changes.push_back(InbandChange::Started(e));
                    start
                }
            };
            let e = self.event(d.digit, start);
            self.changes.push_back(InbandChange::Ended(e));
        }
        if self.current.is_none()
            && let Some(digit) = self.detector.active()
        {
            let lag = units(DtmfDetector::CONFIRMATION, self.clock_rate);
            let start = self.end.wrapping_sub(lag);
            self.current = Some((digit, start));
            let e = self.event(digit, start);
            self.changes.push_back(InbandChange::Started(e));
        }
    }

    /// The digit sounding now, with its length so far (for update packets).
    pub fn active(&self) -> Option<InbandEvent> {
        self.current.map(|(digit, start)| self.event(digit, start))
    }

    /// The next change: a digit started or ended.
    pub fn poll_event(&mut self) -> Option<InbandChange> {
        self.changes.pop_front()
    }

    fn event(&self, digit: DtmfDigit, start: u32) -> InbandEvent {
        let length = self.end.wrapping_sub(start);
        InbandEvent {
            digit,
            timestamp: start,
            duration: u16::try_from(length).unwrap_or(u16::MAX),
        }
    }
}

fn units(d: Duration, clock_rate: u32) -> u32 {
    (d.as_micros() * u128::from(clock_rate) / 1_000_000).min(u128::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent {
            event: code,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    #[test]
    fn each_update_covers_the_new_part_of_the_event_once() {
        let mut c = EventsToTones::new(8000, 8000);
        assert_eq!(c.handle_event(1000, &event(5, false, 0)).unwrap(), None);
        assert!(
            c.covers(1000) && c.covers(1500),
            "audio gives way while it lasts"
        );
        assert!(!c.covers(999));
        let s = c.handle_event(1000, &event(5, false, 160)).unwrap();
        assert_eq!(
            s,
            Some(ToneSpan {
                timestamp: 1000,
                duration: 160
            })
        );
        let s = c.handle_event(1000, &event(5, true, 400)).unwrap();
        assert_eq!(
            s,
            Some(ToneSpan {
                timestamp: 1160,
                duration: 240
            })
        );
        // The end packet's retransmissions add nothing.
        assert_eq!(c.handle_event(1000, &event(5, true, 400)).unwrap(), None);
        assert!(
            c.covers(1399) && !c.covers(1400),
            "ended: only its duration"
        );
        // A late packet of this event after a newer one is ignored.
        assert!(
            c.handle_event(3000, &event(7, false, 160))
                .unwrap()
                .is_some()
        );
        assert_eq!(c.handle_event(1000, &event(5, true, 480)).unwrap(), None);
    }

    #[test]
    fn non_dtmf_events_and_short_payloads() {
        let mut c = EventsToTones::new(8000, 8000);
        assert_eq!(c.handle_event(0, &event(70, false, 160)).unwrap(), None);
        assert!(c.handle_event(0, &[1, 2]).is_err());
        let mut pcm = [1i16; 4];
        c.fill(&mut pcm);
        assert_eq!(pcm, [0; 4], "silence without an event");
    }

    #[test]
    fn samples_follow_the_pcm_rate_not_the_clock() {
        // G.722: 16 kHz samples on an 8 kHz RTP clock.
        assert_eq!(EventsToTones::new(16000, 8000).samples(160), 320);
        assert_eq!(EventsToTones::new(48000, 48000).samples(960), 960);
    }

    #[test]
    fn rendered_events_are_detected_back_in_band() {
        let mut to_tone = EventsToTones::new(8000, 8000);
        let mut detect = TonesToEvents::new(8000, DetectorConfig::default());
        let mut ts = 80_000u32;
        let silence = [0i16; 160];
        for _ in 0..5 {
            detect.process(ts, &silence);
            ts += 160;
        }
        let start = ts;
        let mut started_at = None;
        for k in 1..=6u16 {
            let span = to_tone
                .handle_event(start, &event(11, k == 6, k * 160))
                .unwrap()
                .expect("new span");
            let mut pcm = vec![0i16; to_tone.samples(span.duration)];
            to_tone.fill(&mut pcm);
            detect.process(span.timestamp, &pcm);
            if let Some(InbandChange::Started(e)) = detect.poll_event() {
                started_at.get_or_insert((k, e));
            }
        }
        // Announced while it sounds, within the first 60 ms, its start near the real one.
        let (k, e) = started_at.expect("started while sounding");
        assert!(k <= 3, "confirmed in frame {k}");
        assert_eq!(e.digit.as_char(), '#');
        let err = i64::from(e.timestamp.wrapping_sub(start) as i32).abs();
        assert!(err <= 160, "start within 20 ms: {err}");
        assert!(detect.active().is_some_and(|a| a.duration >= 640));
        ts = start + 960;
        for _ in 0..5 {
            detect.process(ts, &silence);
            ts += 160;
        }
        let Some(InbandChange::Ended(end)) = detect.poll_event() else {
            panic!("no end");
        };
        assert_eq!(end.timestamp, e.timestamp, "one event, one timestamp");
        assert!((900..=1300).contains(&end.duration), "{end:?}");
        assert_eq!(detect.poll_event(), None);
        assert_eq!(detect.active(), None);
    }
}
