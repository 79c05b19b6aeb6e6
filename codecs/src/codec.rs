//! The uniform codec API: descriptors and the encoder/decoder traits.

use crate::Error;

/// The codecs this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecKind {
    /// G.711 µ-law (PCMU).
    Pcmu,
    /// G.711 A-law (PCMA).
    Pcma,
    /// G.722 at 64 kbit/s.
    G722,
    /// G.729 Annex A (with Annex B VAD/DTX/CNG when enabled).
    G729,
    /// Opus (RFC 6716, RTP mapping RFC 7587).
    Opus,
}

impl std::fmt::Display for CodecKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.descriptor().name)
    }
}

/// Static facts about a codec, as SDP and RTP need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecDescriptor {
    /// Which codec.
    pub kind: CodecKind,
    /// The SDP `rtpmap` encoding name (`PCMU`, `PCMA`, `G722`, `G729`, `opus`).
    pub name: &'static str,
    /// The audio sampling rate the encoder consumes and the decoder produces.
    pub sample_rate: u32,
    /// The RTP timestamp clock rate (8000 for G.722 although it samples at
    /// 16 kHz, RFC 3551 §4.5.2; 48000 for Opus, RFC 7587).
    pub rtp_clock_rate: u32,
    /// Channels (always 1 in this crate today).
    pub channels: u8,
    /// The RFC 3551 static payload type, `None` for dynamic ones (Opus).
    pub static_payload_type: Option<u8>,
    /// The smallest frame the codec works in, in milliseconds.
    pub frame_ms: u32,
}

impl CodecKind {
    /// Every codec, in a stable order.
    pub const ALL: [Self; 5] = [Self::Pcmu, Self::Pcma, Self::G722, Self::G729, Self::Opus];

    /// The descriptor of this codec.
    pub const fn descriptor(self) -> CodecDescriptor {
        let (name, sample_rate, rtp_clock_rate, static_payload_type, frame_ms) = match self {
            Self::Pcmu => ("PCMU", 8000, 8000, Some(0), 1),
            Self::Pcma => ("PCMA", 8000, 8000, Some(8), 1),
            Self::G722 => ("G722", 16000, 8000, Some(9), 1),
            Self::G729 => ("G729", 8000, 8000, Some(18), 10),
            Self::Opus => ("opus", 48000, 48000, None, 10),
        };
        CodecDescriptor {
            kind: self,
            name,
            sample_rate,
            rtp_clock_rate,
            channels: 1,
            static_payload_type,
            frame_ms,
        }
    }

    /// Looks a codec up by its static RTP payload type.
    pub fn from_static_payload_type(pt: u8) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.descriptor().static_payload_type == Some(pt))
    }

    /// Looks a codec up by its SDP encoding name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.descriptor().name.eq_ignore_ascii_case(name))
    }
}

/// Encodes 16-bit PCM frames into RTP payloads.
///
/// The encoder never allocates per frame: it writes into `out` and returns the
/// number of bytes written.
pub trait Encoder {
    /// The codec this encoder produces.
    fn descriptor(&self) -> CodecDescriptor;

    /// Encodes one frame of mono PCM at [`CodecDescriptor::sample_rate`].
    ///
    /// The accepted frame lengths are codec-specific (a whole number of
    /// [`CodecDescriptor::frame_ms`] for most codecs; 2.5–60 ms steps for Opus).
    /// Returns the payload length written to `out`.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error>;

    /// Returns the encoder to its initial state.
    fn reset(&mut self);
}

/// Decodes RTP payloads into 16-bit PCM frames.
pub trait Decoder {
    /// The codec this decoder consumes.
    fn descriptor(&self) -> CodecDescriptor;

    /// Decodes one payload into `out` (mono, at [`CodecDescriptor::sample_rate`]).
    /// Returns the number of samples written.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, Error>;

    /// Synthesises `out.len()` samples in place of a lost packet
    /// (packet-loss concealment) and returns the number written.
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, Error>;

    /// Returns the decoder to its initial state.
    fn reset(&mut self);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_payload_types_follow_rfc3551() {
        assert_eq!(
            CodecKind::from_static_payload_type(0),
            Some(CodecKind::Pcmu)
        );
        assert_eq!(
            CodecKind::from_static_payload_type(8),
            Some(CodecKind::Pcma)
        );
        assert_eq!(
            CodecKind::from_static_payload_type(9),
            Some(CodecKind::G722)
        );
        assert_eq!(
            CodecKind::from_static_payload_type(18),
            Some(CodecKind::G729)
        );
        assert_eq!(CodecKind::from_static_payload_type(96), None);
        assert_eq!(CodecKind::Opus.descriptor().static_payload_type, None);
    }

    #[test]
    fn g722_rtp_clock_differs_from_its_sample_rate() {
        let d = CodecKind::G722.descriptor();
        assert_eq!((d.sample_rate, d.rtp_clock_rate), (16000, 8000));
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(CodecKind::from_name("OPUS"), Some(CodecKind::Opus));
        assert_eq!(CodecKind::from_name("pcma"), Some(CodecKind::Pcma));
        assert_eq!(CodecKind::from_name("iLBC"), None);
    }
}
