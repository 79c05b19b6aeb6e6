//! One direction of RTP transcoding: decode the incoming codec, encode the outgoing one, and
//! rewrite payload type and timestamp (the clock rates may differ: Opus 48 kHz, PCMU 8 kHz).
//!
//! DTMF follows what each side signalled (issue 10):
//! - both have telephone-event: RFC 4733 packets pass with their payload type mapped and
//!   their duration rescaled to the outgoing clock;
//! - only the sender: its events become in-band tones that replace the audio they cover;
//! - only the receiver: in-band digits heard in the decoded audio are sent as RFC 4733
//!   events while they sound (first packet once confirmed, about 38 ms in; updates; three end
//!   packets), and the digit's audio is held back meanwhile.
//!
//! Sequence numbers stay contiguous: packets inserted (tone frames, event trains) shift the
//! numbering up, packets dropped (audio under a tone, DTX) shift it down.

use codecs::Transcoder;
use codecs::resample::Resampler;
use rtp_media::dtmf::TelephoneEvent;
use rtp_media::inband::{EventsToTones, InbandChange, InbandEvent, TonesToEvents};
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket};
use rtp_media::tones::DetectorConfig;

use super::relay::LegSpec;

/// What happens to DTMF in this direction.
enum Dtmf {
    /// Neither side has telephone-event.
    None,
    /// Both have it: events pass with this outgoing payload type.
    Relay(PayloadType),
    /// Only the sender: events become tones.
    ToTones(EventsToTones),
    /// Only the receiver: in-band digits become events.
    ToEvents(Box<Detect>),
}

/// In-band detection for a receiver that wants events.
struct Detect {
    detect: TonesToEvents,
    to_8k: Option<Resampler>,
    narrow: Vec<i16>,
    /// The outgoing telephone-event payload type.
    pt: PayloadType,
}

/// The packets one input produced.
#[derive(Default)]
struct Outbox {
    bufs: Vec<Vec<u8>>,
    lens: Vec<usize>,
    count: usize,
}

impl Outbox {
    fn push(&mut self, header: &RtpHeader<'_>, payload: &[u8]) {
        if self.count == self.bufs.len() {
            self.bufs.push(vec![0; 1500]);
            self.lens.push(0);
        }
        if let Ok(n) = header.build(payload, 0, &mut self.bufs[self.count]) {
            self.lens[self.count] = n;
            self.count += 1;
        }
    }
}

/// Transcodes the audio payload type of one direction; other payload types are dropped.
pub(crate) struct RtpTranscoder {
    from_pt: u8,
    from_event: Option<u8>,
    to_pt: PayloadType,
    dtmf: Dtmf,
    /// RTP clock rates (in, out).
    rates: (u64, u64),
    tc: Transcoder,
    /// The first (incoming, outgoing) timestamps.
    base: Option<(u32, u32)>,
    /// Added to incoming sequence numbers.
    shift: u16,
    payload: Vec<u8>,
    pcm: Vec<i16>,
    out: Outbox,
}

impl std::fmt::Debug for RtpTranscoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpTranscoder")
            .field("from_pt", &self.from_pt)
            .field("to_pt", &self.to_pt)
            .finish_non_exhaustive()
    }
}

fn dtmf_mode(from: &LegSpec, to: &LegSpec) -> Result<Dtmf, codecs::Error> {
    let (fd, td) = (from.codec.descriptor(), to.codec.descriptor());
    let to_event = to.telephone_event.and_then(PayloadType::new);
    Ok(match (from.telephone_event, to_event) {
        (None, None) => Dtmf::None,
        (Some(_), Some(pt)) => Dtmf::Relay(pt),
        (Some(_), None) => Dtmf::ToTones(EventsToTones::new(td.sample_rate, fd.rtp_clock_rate)),
        (None, Some(pt)) => Dtmf::ToEvents(Box::new(Detect {
            detect: TonesToEvents::new(fd.rtp_clock_rate, DetectorConfig::default()),
            to_8k: (fd.sample_rate != 8000)
                .then(|| Resampler::new(fd.sample_rate, 8000))
                .transpose()?,
            narrow: vec![0; codecs::resample::MAX_FRAME],
            pt,
        })),
    })
}

impl RtpTranscoder {
    pub(crate) fn new(from: &LegSpec, to: &LegSpec) -> Result<Self, codecs::Error> {
        let to_pt =
            PayloadType::new(to.payload_type).ok_or(codecs::Error::UnsupportedFrameSize(0))?;
        let (fd, td) = (from.codec.descriptor(), to.codec.descriptor());
        Ok(Self {
            from_pt: from.payload_type,
            from_event: from.telephone_event,
            to_pt,
            dtmf: dtmf_mode(from, to)?,
            rates: (u64::from(fd.rtp_clock_rate), u64::from(td.rtp_clock_rate)),
            tc: Transcoder::new(from.codec, to.codec)?,
            base: None,
            shift: 0,
            payload: vec![0; 1500],
            pcm: vec![0; codecs::resample::MAX_FRAME],
            out: Outbox::default(),
        })
    }

    /// The packets to send for `packet` (a valid RTP packet): none, one, or several.
    pub(crate) fn process(&mut self, packet: &[u8]) -> impl Iterator<Item = &[u8]> {
        self.out.count = 0;
        if !self.handle(packet) {
            self.shift = self.shift.wrapping_sub(1);
        }
        let out = &self.out;
        (0..out.count).map(|i| &out.bufs[i][..out.lens[i]])
    }

    /// Handles one packet; `false` when it produced nothing.
    fn handle(&mut self, packet: &[u8]) -> bool {
        let Ok(p) = RtpPacket::parse(packet) else {
            return false;
        };
        let pt = p.payload_type().value();
        self.base.get_or_insert((p.timestamp(), p.timestamp()));
        if Some(pt) == self.from_event {
            return self.event(&p);
        }
        if pt != self.from_pt {
            return false;
        }
        if let Dtmf::ToTones(conv) = &self.dtmf
            && conv.covers(p.timestamp())
        {
            return false; // the event's tone takes this audio's place
        }
        let Ok(n) = self.tc.transcode(p.payload(), &mut self.payload) else {
            return false;
        };
        // While an in-band digit sounds, its events stand for it and its audio is not sent.
        let sounding = self.detect(&p);
        if n > 0 && !sounding {
            let mut h = self.header(self.to_pt, &p, p.timestamp());
            h.marker = p.marker();
            self.out.push(&h, &self.payload[..n]);
        }
        self.settle();
        self.out.count > 0 // DTX gives nothing
    }

    fn header(&self, pt: PayloadType, p: &RtpPacket<'_>, ts_in: u32) -> RtpHeader<'static> {
        let seq = p
            .sequence()
            .wrapping_add(self.shift)
            .wrapping_add(self.out.count as u16);
        RtpHeader::new(pt, seq, self.map_ts(ts_in), p.ssrc())
    }

    /// The number of extra packets this input produced, taken into the numbering.
    fn settle(&mut self) {
        if self.out.count > 1 {
            self.shift = self.shift.wrapping_add(self.out.count as u16 - 1);
        }
    }

    fn map_ts(&self, ts_in: u32) -> u32 {
        let (in0, out0) = self.base.unwrap_or((ts_in, ts_in));
        out0.wrapping_add(self.rescale(ts_in.wrapping_sub(in0)))
    }

    fn rescale(&self, ticks: u32) -> u32 {
        (u64::from(ticks) * self.rates.1 / self.rates.0) as u32
    }

    fn event(&mut self, p: &RtpPacket<'_>) -> bool {
        match &mut self.dtmf {
            Dtmf::Relay(pt) => {
                let pt = *pt;
                let Some(block) = p.payload().get(..4) else {
                    return false;
                };
                let duration = u16::from_be_bytes([block[2], block[3]]);
                let scaled = u16::try_from(self.rescale(u32::from(duration))).unwrap_or(u16::MAX);
                let mut payload = [block[0], block[1], 0, 0];
                payload[2..].copy_from_slice(&scaled.to_be_bytes());
                let mut h = self.header(pt, p, p.timestamp());
                h.marker = p.marker();
                self.out.push(&h, &payload);
                true
            }
            Dtmf::ToTones(conv) => match conv.handle_event(p.timestamp(), p.payload()) {
                Ok(Some(span)) => {
                    self.tone(p, span.timestamp, span.duration);
                    self.out.count > 0
                }
                _ => false,
            },
            Dtmf::None | Dtmf::ToEvents(_) => false,
        }
    }

    /// Tone frames for `duration` incoming clock units from `start`: 20 ms frames, the last
    /// rounded down to 10 ms (a size every codec takes).
    fn tone(&mut self, p: &RtpPacket<'_>, start: u32, duration: u32) {
        let mut dtmf = std::mem::replace(&mut self.dtmf, Dtmf::None);
        if let Dtmf::ToTones(conv) = &mut dtmf {
            let (frame, step) = ((self.rates.0 / 50) as u32, (self.rates.0 / 100) as u32);
            let mut done = 0;
            while step > 0 && duration - done >= step {
                let units = (duration - done).min(frame) / step * step;
                let samples = conv.samples(units).min(self.pcm.len());
                conv.fill(&mut self.pcm[..samples]);
                let Ok(n) = self.tc.encode(&self.pcm[..samples], &mut self.payload) else {
                    break;
                };
                let h = self.header(self.to_pt, p, start.wrapping_add(done));
                self.out.push(&h, &self.payload[..n]);
                done += units;
            }
        }
        self.dtmf = dtmf;
        self.settle();
    }

    /// Feeds the decoded audio to the in-band detector and sends the RFC 4733 packets of the
    /// digit sounding: the first when it is confirmed, an update per frame, three at its end
    /// (RFC 4733 §2.5.1). `true` while a digit sounds.
    fn detect(&mut self, p: &RtpPacket<'_>) -> bool {
        let mut dtmf = std::mem::replace(&mut self.dtmf, Dtmf::None);
        let mut sounding = false;
        if let Dtmf::ToEvents(d) = &mut dtmf {
            let Detect {
                detect,
                to_8k,
                narrow,
                pt,
            } = &mut **d;
            let pcm = self.tc.last_input();
            let pcm = match to_8k {
                None => pcm,
                Some(r) => match r.process(pcm, narrow) {
                    Ok(n) => &narrow[..n],
                    Err(_) => &[],
                },
            };
            detect.process(p.timestamp(), pcm);
            let mut sent = false;
            while let Some(change) = detect.poll_event() {
                let (e, end, copies) = match change {
                    InbandChange::Started(e) => (e, false, 1),
                    InbandChange::Ended(e) => (e, true, 3),
                };
                for _ in 0..copies {
                    self.push_event(*pt, p, &e, end, !end && !sent);
                }
                (sounding, sent) = (true, true);
            }
            if let Some(e) = detect.active() {
                sounding = true;
                if !sent {
                    self.push_event(*pt, p, &e, false, false);
                }
            }
        }
        self.dtmf = dtmf;
        sounding
    }

    /// One RFC 4733 packet of event `e`, its duration in the outgoing clock.
    fn push_event(
        &mut self,
        pt: PayloadType,
        p: &RtpPacket<'_>,
        e: &InbandEvent,
        end: bool,
        marker: bool,
    ) {
        let duration = u16::try_from(self.rescale(u32::from(e.duration))).unwrap_or(u16::MAX);
        let payload = TelephoneEvent {
            event: e.digit.code(),
            end,
            volume: 10,
            duration,
        }
        .to_bytes();
        let mut h = self.header(pt, p, e.timestamp);
        h.marker = marker;
        self.out.push(&h, &payload);
    }
}

#[cfg(test)]
mod tests;
