//! One direction of RTP transcoding: decode the incoming codec, encode the outgoing one, and
//! rewrite payload type and timestamp (the clock rates may differ: Opus 48 kHz, PCMU 8 kHz).
//! RFC 4733 telephone-event packets pass through with their payload type mapped and their
//! timestamp and duration rescaled to the outgoing clock.

use codecs::Transcoder;
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket};

use super::relay::LegSpec;

/// Transcodes the audio payload type of one direction; other payload types are dropped.
pub(crate) struct RtpTranscoder {
    from_pt: u8,
    to_pt: PayloadType,
    /// Telephone-event payload types (in, out) when both legs have one.
    events: Option<(u8, PayloadType)>,
    rates: (u64, u64),
    tc: Transcoder,
    base: Option<(u32, u32)>,
    payload: Vec<u8>,
}

impl std::fmt::Debug for RtpTranscoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpTranscoder")
            .field("from_pt", &self.from_pt)
            .field("to_pt", &self.to_pt)
            .finish()
    }
}

impl RtpTranscoder {
    pub(crate) fn new(from: &LegSpec, to: &LegSpec) -> Result<Self, codecs::Error> {
        let to_pt =
            PayloadType::new(to.payload_type).ok_or(codecs::Error::UnsupportedFrameSize(0))?;
        let events = from
            .telephone_event
            .zip(to.telephone_event.and_then(PayloadType::new));
        Ok(Self {
            from_pt: from.payload_type,
            to_pt,
            events,
            rates: (
                u64::from(from.codec.descriptor().rtp_clock_rate),
                u64::from(to.codec.descriptor().rtp_clock_rate),
            ),
            tc: Transcoder::new(from.codec, to.codec)?,
            base: None,
            payload: vec![0; 1500],
        })
    }

    /// Rewrites `packet` (a valid RTP packet) into `out`; the length, or `None` to drop.
    pub(crate) fn process(&mut self, packet: &[u8], out: &mut [u8]) -> Option<usize> {
        let p = RtpPacket::parse(packet).ok()?;
        let pt = p.payload_type().value();
        let (to_pt, n) = match self.events {
            Some((ev_in, ev_out)) if pt == ev_in => (ev_out, self.event(p.payload())?),
            _ if pt == self.from_pt => (
                self.to_pt,
                self.tc.transcode(p.payload(), &mut self.payload).ok()?,
            ),
            _ => return None,
        };
        if n == 0 {
            return None; // DTX: nothing to send
        }
        let (in0, out0) = *self.base.get_or_insert((p.timestamp(), p.timestamp()));
        let ts = out0.wrapping_add(self.rescale(p.timestamp().wrapping_sub(in0)));
        let mut h = RtpHeader::new(to_pt, p.sequence(), ts, p.ssrc());
        h.marker = p.marker();
        h.build(&self.payload[..n], 0, out).ok()
    }

    fn rescale(&self, ticks: u32) -> u32 {
        (u64::from(ticks) * self.rates.1 / self.rates.0) as u32
    }

    /// An RFC 4733 event payload with its duration in the outgoing clock.
    fn event(&mut self, payload: &[u8]) -> Option<usize> {
        let block = payload.get(..4)?;
        let duration = u16::from_be_bytes([block[2], block[3]]);
        let scaled = u16::try_from(self.rescale(u32::from(duration))).unwrap_or(u16::MAX);
        self.payload[..2].copy_from_slice(&block[..2]);
        self.payload[2..4].copy_from_slice(&scaled.to_be_bytes());
        Some(4)
    }
}
