//! RTP packets (RFC 3550 §5): zero-copy parsing and allocation-free building.
//!
//! [`RtpPacket::parse`] borrows the datagram and decodes fields on access;
//! [`RtpHeader::write`] serialises a header (CSRCs, one extension) into a
//! caller buffer. [`is_rtcp`] implements the RFC 5761 §4 demultiplexing rule
//! used with `rtcp-mux`.

use thiserror::Error;

/// Fixed RTP header length (no CSRC, no extension).
pub const FIXED_HEADER_LEN: usize = 12;
/// Largest CSRC count the 4-bit CC field can carry.
pub const MAX_CSRC: usize = 15;

/// A synchronisation source identifier (RFC 3550 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ssrc(pub u32);

/// A 7-bit RTP payload type (RFC 3550 §5.1, RFC 3551 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadType(u8);

impl PayloadType {
    /// PCMU (RFC 3551 static payload type 0).
    pub const PCMU: Self = Self(0);
    /// PCMA (RFC 3551 static payload type 8).
    pub const PCMA: Self = Self(8);
    /// G.722 (RFC 3551 static payload type 9).
    pub const G722: Self = Self(9);
    /// Comfort noise (RFC 3389, static payload type 13).
    pub const CN: Self = Self(13);
    /// G.729 (RFC 3551 static payload type 18).
    pub const G729: Self = Self(18);

    /// Creates a payload type; `None` when `value` does not fit in 7 bits.
    pub const fn new(value: u8) -> Option<Self> {
        if value < 128 { Some(Self(value)) } else { None }
    }

    /// The numeric value (0..=127).
    pub const fn value(self) -> u8 {
        self.0
    }
}

/// Why a datagram is not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer bytes than the header (fixed part, CSRCs, extension) announces.
    #[error("packet truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// Bytes the header requires.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// The version field is not 2.
    #[error("unsupported RTP version {0}")]
    Version(u8),
    /// The padding count is zero or exceeds the payload.
    #[error("invalid padding length {0}")]
    Padding(u8),
    /// The output buffer is too small for what is being written.
    #[error("output buffer too small: need {needed} bytes, have {have}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// An extension body whose length is not a multiple of 4 bytes.
    #[error("extension length {0} is not a multiple of 4")]
    ExtensionLength(usize),
    /// More than 15 CSRCs.
    #[error("{0} CSRCs exceed the maximum of 15")]
    TooManyCsrcs(usize),
}

/// A header extension (RFC 3550 §5.3.1): the profile word and its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The 16-bit "defined by profile" field (`0xBEDE` for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension body (a multiple of 4 bytes).
    pub data: &'a [u8],
}

/// A parsed RTP packet borrowing its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    header_len: usize,
    payload_end: usize,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> RtpPacket<'a> {
    /// Parses `buf` as one RTP packet, validating lengths and padding.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < FIXED_HEADER_LEN {
            return Err(RtpError::Truncated {
                needed: FIXED_HEADER_LEN,
                have: buf.len(),
            });
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let cc = usize::from(buf[0] & 0x0f);
        let mut header_len = FIXED_HEADER_LEN + 4 * cc;
        if buf[0] & 0x10 != 0 {
            if buf.len() < header_len + 4 {
                return Err(RtpError::Truncated {
                    needed: header_len + 4,
                    have: buf.len(),
                });
            }
            let words = usize::from(be16(buf, header_len + 2));
            header_len += 4 + 4 * words;
        }
        if buf.len() < header_len {
            return Err(RtpError::Truncated {
                needed: header_len,
                have: buf.len(),
            });
        }
        let mut payload_end = buf.len();
        if buf[0] & 0x20 != 0 {
            let pad = buf[buf.len() - 1];
            if pad == 0 || usize::from(pad) > buf.len() - header_len {
                return Err(RtpError::Padding(pad));
            }
            payload_end -= usize::from(pad);
        }
        Ok(Self {
            buf,
            header_len,
            payload_end,
        })
    }

    /// The whole datagram.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether the padding bit is set.
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// The marker bit.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The payload type.
    pub fn payload_type(&self) -> PayloadType {
        PayloadType(self.buf[1] & 0x7f)
    }

    /// The 16-bit sequence number.
    pub fn sequence(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// The media timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.buf, 4)
    }

    /// The synchronisation source.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(be32(self.buf, 8))
    }

    /// The contributing sources, decoded lazily.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + 'a {
        let cc = usize::from(self.buf[0] & 0x0f);
        let buf = self.buf;
        (0..cc).map(move |i| Ssrc(be32(buf, FIXED_HEADER_LEN + 4 * i)))
    }

    /// The header extension, when the X bit is set.
    pub fn extension(&self) -> Option<Extension<'a>> {
        if self.buf[0] & 0x10 == 0 {
            return None;
        }
        let at = FIXED_HEADER_LEN + 4 * usize::from(self.buf[0] & 0x0f);
        Some(Extension {
            profile: be16(self.buf, at),
            data: &self.buf[at + 4..self.header_len],
        })
    }

    /// Length of the header including CSRCs and extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..self.payload_end]
    }

    /// The number of padding bytes (0 without padding).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// An owned copy of the header fields (CSRCs and extension still borrow).
    pub fn header(&self) -> RtpHeader<'a> {
        RtpHeader {
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence: self.sequence(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
            csrc_bytes: &self.buf
                [FIXED_HEADER_LEN..FIXED_HEADER_LEN + 4 * usize::from(self.buf[0] & 0x0f)],
            extension: self.extension(),
        }
    }
}

/// Header fields for building an RTP packet without allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type.
    pub payload_type: PayloadType,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: Ssrc,
    /// CSRC list as raw big-endian words (length a multiple of 4, ≤ 60 bytes).
    pub csrc_bytes: &'a [u8],
    /// Optional header extension.
    pub extension: Option<Extension<'a>>,
}

impl<'a> RtpHeader<'a> {
    /// A header with no CSRC and no extension.
    pub const fn new(payload_type: PayloadType, sequence: u16, timestamp: u32, ssrc: Ssrc) -> Self {
        Self {
            marker: false,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrc_bytes: &[],
            extension: None,
        }
    }

    /// Serialised header length.
    pub fn len(&self) -> usize {
        FIXED_HEADER_LEN + self.csrc_bytes.len() + self.extension.map_or(0, |e| 4 + e.data.len())
    }

    /// Always false: a header has at least 12 bytes (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header into `out`, returning the bytes written.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtpError> {
        self.write_with(out, 0)
    }

    fn write_with(&self, out: &mut [u8], padding_flag: u8) -> Result<usize, RtpError> {
        if !self.csrc_bytes.len().is_multiple_of(4) || self.csrc_bytes.len() > 4 * MAX_CSRC {
            return Err(RtpError::TooManyCsrcs(self.csrc_bytes.len().div_ceil(4)));
        }
        if let Some(ext) = self.extension
            && (!ext.data.len().is_multiple_of(4) || ext.data.len() > 4 * usize::from(u16::MAX))
        {
            return Err(RtpError::ExtensionLength(ext.data.len()));
        }
        let len = self.len();
        if out.len() < len {
            return Err(RtpError::BufferTooSmall {
                needed: len,
                have: out.len(),
            });
        }
        // Casts are bounded by the checks above (CC ≤ 15, words ≤ u16::MAX).
        let cc = (self.csrc_bytes.len() / 4) as u8;
        let x = if self.extension.is_some() { 0x10 } else { 0 };
        out[0] = 0x80 | padding_flag | x | cc;
        out[1] = (u8::from(self.marker) << 7) | self.payload_type.0;
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        let mut at = FIXED_HEADER_LEN;
        out[at..at + self.csrc_bytes.len()].copy_from_slice(self.csrc_bytes);
        at += self.csrc_bytes.len();
        if let Some(ext) = self.extension {
            out[at..at + 2].copy_from_slice(&ext.profile.to_be_bytes());
            let words = (ext.data.len() / 4) as u16;
            out[at + 2..at + 4].copy_from_slice(&words.to_be_bytes());
            out[at + 4..at + 4 + ext.data.len()].copy_from_slice(ext.data);
            at += 4 + ext.data.len();
        }
        Ok(at)
    }

    /// Writes header + payload (+ `padding` bytes of RFC 3550 padding, 0 for none) into `out`.
    pub fn build(&self, payload: &[u8], padding: u8, out: &mut [u8]) -> Result<usize, RtpError> {
        let total = self.len() + payload.len() + usize::from(padding);
        if out.len() < total {
            return Err(RtpError::BufferTooSmall {
                needed: total,
                have: out.len(),
            });
        }
        let flag = if padding > 0 { 0x20 } else { 0 };
        let mut at = self.write_with(out, flag)?;
        out[at..at + payload.len()].copy_from_slice(payload);
        at += payload.len();
        if padding > 0 {
            let end = at + usize::from(padding);
            out[at..end - 1].fill(0);
            out[end - 1] = padding;
            at = end;
        }
        Ok(at)
    }
}

/// RFC 5761 §4: with rtcp-mux, a datagram whose second byte is in 192..=223
/// (RTCP packet types SR..=) is RTCP, anything else with version 2 is RTP.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && datagram[0] >> 6 == 2 && (192..=223).contains(&datagram[1])
}

/// Serial-number comparison of 16-bit sequence numbers: whether `a` is after `b`.
pub fn seq_after(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

/// Serial-number comparison of 32-bit RTP timestamps: whether `a` is after `b`.
pub fn ts_after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    // A hand-assembled packet from RFC 3550 §5.1 fields: V=2 P=1 X=1 CC=2 M=1 PT=8.
    const PKT: [u8; 36] = [
        0xb2, 0x88, 0x12, 0x34, 0, 0, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, // fixed
        0, 0, 0, 1, 0, 0, 0, 2, // CSRC 1, 2
        0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, // extension, one word
        1, 2, 3, 4, 5, 0, 0, 3, // payload 1..5 + 3 padding bytes
    ];

    #[test]
    fn parses_every_field() {
        let p = RtpPacket::parse(&PKT).expect("valid");
        assert!(p.marker());
        assert!(p.has_padding());
        assert_eq!(p.payload_type(), PayloadType::PCMA);
        assert_eq!(p.sequence(), 0x1234);
        assert_eq!(p.timestamp(), 256);
        assert_eq!(p.ssrc(), Ssrc(0xdead_beef));
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [Ssrc(1), Ssrc(2)]);
        let ext = p.extension().expect("ext");
        assert_eq!(ext.profile, 0xbede);
        assert_eq!(ext.data, &[0x10, 0xaa, 0, 0]);
        assert_eq!(p.payload(), &[1, 2, 3, 4, 5]);
        assert_eq!(p.padding_len(), 3);
    }

    #[test]
    fn rebuild_is_byte_exact() {
        let p = RtpPacket::parse(&PKT).expect("valid");
        let mut out = [0u8; 64];
        let n = p.header().build(p.payload(), 3, &mut out).expect("fits");
        assert_eq!(&out[..n], &PKT);
    }

    #[test]
    fn rejects_malformed_without_panicking() {
        for len in 0..PKT.len() {
            let _ = RtpPacket::parse(&PKT[..len]);
        }
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut bad = PKT;
        bad[35] = 40;
        assert_eq!(RtpPacket::parse(&bad), Err(RtpError::Padding(40)));
        bad[35] = 0;
        assert_eq!(RtpPacket::parse(&bad), Err(RtpError::Padding(0)));
        // Every byte pattern of a short packet must parse or error, never panic.
        for b0 in 0..=255u8 {
            let mut p = [0u8; 16];
            p[0] = b0;
            p[15] = b0;
            let _ = RtpPacket::parse(&p);
        }
    }

    #[test]
    fn build_checks_buffer() {
        let h = RtpHeader::new(PayloadType::PCMU, 1, 2, Ssrc(3));
        let mut small = [0u8; 11];
        assert!(matches!(
            h.build(&[], 0, &mut small),
            Err(RtpError::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn rtcp_mux_demux_rfc5761() {
        assert!(is_rtcp(&[0x80, 200]));
        assert!(is_rtcp(&[0x81, 201]));
        assert!(!is_rtcp(&[0x80, 0x08]));
        assert!(!is_rtcp(&[0x80, 0x80 | 101])); // marker + PT 101 = 229 is RTP
        assert!(!is_rtcp(&[0x80]));
    }

    #[test]
    fn sequence_serial_arithmetic() {
        assert!(seq_after(1, 0));
        assert!(seq_after(0, 65535));
        assert!(!seq_after(65535, 0));
        assert!(!seq_after(5, 5));
    }
}
