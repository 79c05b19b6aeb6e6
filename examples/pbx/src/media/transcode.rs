//! One direction of RTP transcoding: decode the incoming codec, encode the outgoing one, and
//! rewrite payload type and timestamp (the clock rates may differ: Opus 48 kHz, PCMU 8 kHz).

use codecs::{CodecKind, Transcoder};
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket};

/// Transcodes the audio payload type of one direction; other payload types are dropped.
pub(crate) struct RtpTranscoder {
    from_pt: u8,
    to_pt: PayloadType,
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
    pub(crate) fn new(from: (CodecKind, u8), to: (CodecKind, u8)) -> Result<Self, codecs::Error> {
        let to_pt = PayloadType::new(to.1).ok_or(codecs::Error::UnsupportedFrameSize(0))?;
        Ok(Self {
            from_pt: from.1,
            to_pt,
            rates: (
                u64::from(from.0.descriptor().rtp_clock_rate),
                u64::from(to.0.descriptor().rtp_clock_rate),
            ),
            tc: Transcoder::new(from.0, to.0)?,
            base: None,
            payload: vec![0; 1500],
        })
    }

    /// Rewrites `packet` (a valid RTP packet) into `out`; the length, or `None` to drop.
    pub(crate) fn process(&mut self, packet: &[u8], out: &mut [u8]) -> Option<usize> {
        let p = RtpPacket::parse(packet).ok()?;
        if p.payload_type().value() != self.from_pt {
            return None;
        }
        let n = self.tc.transcode(p.payload(), &mut self.payload).ok()?;
        if n == 0 {
            return None; // DTX: nothing to send
        }
        let (in0, out0) = *self.base.get_or_insert((p.timestamp(), p.timestamp()));
        let delta = u64::from(p.timestamp().wrapping_sub(in0)) * self.rates.1 / self.rates.0;
        let ts = out0.wrapping_add(delta as u32);
        let mut h = RtpHeader::new(self.to_pt, p.sequence(), ts, p.ssrc());
        h.marker = p.marker();
        h.build(&self.payload[..n], 0, out).ok()
    }
}
