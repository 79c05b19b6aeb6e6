//! Compound RTCP (RFC 3550 §6): zero-copy parsing of SR, RR, SDES, BYE and APP
//! (others are surfaced raw; RFC 3611 XR VoIP metrics blocks decode with
//! [`xr_blocks`] and [`VoipMetrics::parse`]), and an allocation-free writer.

use crate::rtp::Ssrc;
use thiserror::Error;

/// RTCP packet type: sender report.
pub const PT_SR: u8 = 200;
/// RTCP packet type: receiver report.
pub const PT_RR: u8 = 201;
/// RTCP packet type: source description.
pub const PT_SDES: u8 = 202;
/// RTCP packet type: goodbye.
pub const PT_BYE: u8 = 203;
/// RTCP packet type: application-defined.
pub const PT_APP: u8 = 204;
/// RTCP packet type: extended report (RFC 3611).
pub const PT_XR: u8 = 207;
/// SDES item type CNAME.
pub const SDES_CNAME: u8 = 1;

/// Why bytes are not valid RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Fewer bytes than a header or length field announces.
    #[error("RTCP truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// Version is not 2.
    #[error("unsupported RTCP version {0}")]
    Version(u8),
    /// Invalid padding.
    #[error("invalid RTCP padding")]
    Padding,
    /// A compound packet that does not begin with SR or RR (RFC 3550 §6.1).
    #[error("compound RTCP must start with SR or RR, found type {0}")]
    FirstNotReport(u8),
    /// A packet body inconsistent with its count field.
    #[error("RTCP packet type {0} body does not match its count")]
    Body(u8),
    /// Output buffer too small.
    #[error("output buffer too small: need {needed} bytes, have {have}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field too long for its length byte (SDES text, BYE reason) or too many entries.
    #[error("field too long for RTCP encoding")]
    FieldTooLong,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The sender-info block of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp.
    pub ntp: u64,
    /// RTP timestamp corresponding to `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
}

/// A reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// Source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (signed 24-bit; duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp (0 if none).
    pub last_sr: u32,
    /// Delay since the last SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    const LEN: usize = 24;

    fn parse(b: &[u8]) -> Self {
        let raw = be32(b, 4) & 0x00ff_ffff;
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = ((raw << 8) as i32) >> 8;
        Self {
            ssrc: Ssrc(be32(b, 0)),
            fraction_lost: b[4],
            cumulative_lost,
            highest_sequence: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        }
    }

    fn write(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.ssrc.0.to_be_bytes());
        let lost = (self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        out[4..8].copy_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        out[8..12].copy_from_slice(&self.highest_sequence.to_be_bytes());
        out[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        out[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        out[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// Report blocks decoded lazily from an SR or RR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportBlocks<'a>(&'a [u8]);

impl ReportBlocks<'_> {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.0.len() / ReportBlock::LEN
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates over the blocks.
    pub fn iter(&self) -> impl Iterator<Item = ReportBlock> + '_ {
        self.0
            .chunks_exact(ReportBlock::LEN)
            .map(ReportBlock::parse)
    }
}

/// One SDES item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// Item type (1 = CNAME, …).
    pub kind: u8,
    /// Item text (UTF-8 by RFC, not checked).
    pub value: &'a [u8],
}

/// One SDES chunk: a source and its items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The described source.
    pub ssrc: Ssrc,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// Iterates over the items (stops at the END item or malformed data).
    pub fn items(&self) -> impl Iterator<Item = SdesItem<'a>> + 'a {
        let mut rest = self.items;
        std::iter::from_fn(move || {
            let (&kind, tail) = rest.split_first()?;
            if kind == 0 {
                return None;
            }
            let (&len, tail) = tail.split_first()?;
            let value = tail.get(..usize::from(len))?;
            rest = &tail[usize::from(len)..];
            Some(SdesItem { kind, value })
        })
    }

    /// The CNAME item, if present.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items().find(|i| i.kind == SDES_CNAME).map(|i| i.value)
    }
}

/// XR block type of VoIP metrics (RFC 3611 §4.7).
pub const XR_VOIP_METRICS: u8 = 7;

/// An RFC 3611 §4.7 VoIP Metrics report block. Values follow the RFC's
/// units; 127 (R factors, MOS) and 127 dBm (levels) mean "unavailable".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoipMetrics {
    /// Source the metrics describe.
    pub ssrc: Ssrc,
    /// Packets lost, in 1/256 of expected.
    pub loss_rate: u8,
    /// Packets discarded (late/early) by the jitter buffer, in 1/256.
    pub discard_rate: u8,
    /// Loss/discard density within bursts, 1/256.
    pub burst_density: u8,
    /// Loss/discard density within gaps, 1/256.
    pub gap_density: u8,
    /// Mean burst duration, ms.
    pub burst_duration: u16,
    /// Mean gap duration, ms.
    pub gap_duration: u16,
    /// Round-trip delay, ms.
    pub round_trip_delay: u16,
    /// End-system delay, ms.
    pub end_system_delay: u16,
    /// Signal level, dBm0 (127 = unavailable).
    pub signal_level: i8,
    /// Noise level, dBm0 (127 = unavailable).
    pub noise_level: i8,
    /// Residual echo return loss, dB (127 = unavailable).
    pub rerl: u8,
    /// Gap threshold (RFC 3611 recommends 16).
    pub gmin: u8,
    /// R factor (127 = unavailable).
    pub r_factor: u8,
    /// External R factor (127 = unavailable).
    pub ext_r_factor: u8,
    /// MOS-LQ × 10 (127 = unavailable).
    pub mos_lq: u8,
    /// MOS-CQ × 10 (127 = unavailable).
    pub mos_cq: u8,
    /// Receiver configuration byte (PLC, jitter-buffer adaptive/rate).
    pub rx_config: u8,
    /// Jitter-buffer nominal delay, ms.
    pub jb_nominal: u16,
    /// Jitter-buffer maximum delay, ms.
    pub jb_maximum: u16,
    /// Jitter-buffer absolute maximum delay, ms.
    pub jb_abs_max: u16,
}

impl VoipMetrics {
    const LEN: usize = 36;

    /// Parses one XR block body (after the 4-byte block header) of type 7.
    pub fn parse(content: &[u8]) -> Option<Self> {
        let b = content.get(..32)?;
        let u16at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        Some(Self {
            ssrc: Ssrc(be32(b, 0)),
            loss_rate: b[4],
            discard_rate: b[5],
            burst_density: b[6],
            gap_density: b[7],
            burst_duration: u16at(8),
            gap_duration: u16at(10),
            round_trip_delay: u16at(12),
            end_system_delay: u16at(14),
            signal_level: b[16] as i8,
            noise_level: b[17] as i8,
            rerl: b[18],
            gmin: b[19],
            r_factor: b[20],
            ext_r_factor: b[21],
            mos_lq: b[22],
            mos_cq: b[23],
            rx_config: b[24],
            jb_nominal: u16at(26),
            jb_maximum: u16at(28),
            jb_abs_max: u16at(30),
        })
    }

    fn write(&self, out: &mut [u8]) {
        out[0] = XR_VOIP_METRICS;
        out[1] = 0;
        out[2..4].copy_from_slice(&8u16.to_be_bytes());
        let b = &mut out[4..Self::LEN];
        b[0..4].copy_from_slice(&self.ssrc.0.to_be_bytes());
        b[4..8].copy_from_slice(&[
            self.loss_rate,
            self.discard_rate,
            self.burst_density,
            self.gap_density,
        ]);
        b[8..10].copy_from_slice(&self.burst_duration.to_be_bytes());
        b[10..12].copy_from_slice(&self.gap_duration.to_be_bytes());
        b[12..14].copy_from_slice(&self.round_trip_delay.to_be_bytes());
        b[14..16].copy_from_slice(&self.end_system_delay.to_be_bytes());
        b[16..26].copy_from_slice(&[
            self.signal_level as u8,
            self.noise_level as u8,
            self.rerl,
            self.gmin,
            self.r_factor,
            self.ext_r_factor,
            self.mos_lq,
            self.mos_cq,
            self.rx_config,
            0,
        ]);
        b[26..28].copy_from_slice(&self.jb_nominal.to_be_bytes());
        b[28..30].copy_from_slice(&self.jb_maximum.to_be_bytes());
        b[30..32].copy_from_slice(&self.jb_abs_max.to_be_bytes());
    }
}

/// Iterates over the report blocks of an XR packet body (after the sender
/// SSRC is skipped): `(block type, type-specific byte, content)`.
pub fn xr_blocks(body: &[u8]) -> impl Iterator<Item = (u8, u8, &[u8])> {
    let mut rest = body.get(4..).unwrap_or(&[]);
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = 4 * usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let content = rest.get(4..4 + len)?;
        let item = (rest[0], rest[1], content);
        rest = &rest[4 + len..];
        Some(item)
    })
}

/// One packet of a compound RTCP datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// Sender report.
    SenderReport {
        /// Sender SSRC.
        ssrc: Ssrc,
        /// Sender info.
        info: SenderInfo,
        /// Reception reports.
        reports: ReportBlocks<'a>,
    },
    /// Receiver report.
    ReceiverReport {
        /// Reporter SSRC.
        ssrc: Ssrc,
        /// Reception reports.
        reports: ReportBlocks<'a>,
    },
    /// Source description.
    Sdes(Vec<SdesChunk<'a>>),
    /// Goodbye.
    Bye {
        /// Sources leaving.
        sources: Vec<Ssrc>,
        /// Optional reason text.
        reason: Option<&'a [u8]>,
    },
    /// Application-defined.
    App {
        /// 5-bit subtype.
        subtype: u8,
        /// Source.
        ssrc: Ssrc,
        /// Four ASCII name bytes.
        name: [u8; 4],
        /// Application data.
        data: &'a [u8],
    },
    /// A packet type this module does not decode (e.g. XR 207, RTPFB 205), passed through raw.
    Other {
        /// Packet type.
        packet_type: u8,
        /// The 5-bit count/format field.
        count: u8,
        /// Body after the 4-byte header (padding removed).
        body: &'a [u8],
    },
}

impl<'a> RtcpPacket<'a> {
    fn decode(pt: u8, count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let n = usize::from(count);
        match pt {
            PT_SR => {
                if body.len() < 24 + n * ReportBlock::LEN {
                    return Err(RtcpError::Body(pt));
                }
                Ok(Self::SenderReport {
                    ssrc: Ssrc(be32(body, 0)),
                    info: SenderInfo {
                        ntp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                        rtp_timestamp: be32(body, 12),
                        packet_count: be32(body, 16),
                        octet_count: be32(body, 20),
                    },
                    reports: ReportBlocks(&body[24..24 + n * ReportBlock::LEN]),
                })
            }
            PT_RR => {
                if body.len() < 4 + n * ReportBlock::LEN {
                    return Err(RtcpError::Body(pt));
                }
                Ok(Self::ReceiverReport {
                    ssrc: Ssrc(be32(body, 0)),
                    reports: ReportBlocks(&body[4..4 + n * ReportBlock::LEN]),
                })
            }
            PT_SDES => {
                let mut chunks = Vec::with_capacity(n);
                let mut rest = body;
                for _ in 0..n {
                    if rest.len() < 4 {
                        return Err(RtcpError::Body(pt));
                    }
                    let ssrc = Ssrc(be32(rest, 0));
                    let mut at = 4;
                    // Walk items up to the END (0) byte, then pad to 32 bits.
                    loop {
                        let &kind = rest.get(at).ok_or(RtcpError::Body(pt))?;
                        if kind == 0 {
                            at += 1;
                            break;
                        }
                        let &len = rest.get(at + 1).ok_or(RtcpError::Body(pt))?;
                        at += 2 + usize::from(len);
                        if at > rest.len() {
                            return Err(RtcpError::Body(pt));
                        }
                    }
                    let items = &rest[4..at];
                    let end = at.next_multiple_of(4).min(rest.len());
                    chunks.push(SdesChunk { ssrc, items });
                    rest = &rest[end..];
                }
                Ok(Self::Sdes(chunks))
            }
            PT_BYE => {
                if body.len() < 4 * n {
                    return Err(RtcpError::Body(pt));
                }
                let sources = (0..n).map(|i| Ssrc(be32(body, 4 * i))).collect();
                let rest = &body[4 * n..];
                let reason = match rest.split_first() {
                    Some((&len, tail)) => {
                        Some(tail.get(..usize::from(len)).ok_or(RtcpError::Body(pt))?)
                    }
                    None => None,
                };
                Ok(Self::Bye { sources, reason })
            }
            PT_APP => {
                if body.len() < 8 {
                    return Err(RtcpError::Body(pt));
                }
                Ok(Self::App {
                    subtype: count,
                    ssrc: Ssrc(be32(body, 0)),
                    name: [body[4], body[5], body[6], body[7]],
                    data: &body[8..],
                })
            }
            _ => Ok(Self::Other {
                packet_type: pt,
                count,
                body,
            }),
        }
    }
}

/// Iterator over the packets of a compound RTCP datagram; see [`parse_compound`].
#[derive(Clone, Debug)]
pub struct Compound<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for Compound<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let res = self.next_packet();
        self.failed = res.is_err();
        Some(res)
    }
}

impl<'a> Compound<'a> {
    fn next_packet(&mut self) -> Result<RtcpPacket<'a>, RtcpError> {
        let b = self.rest;
        if b.len() < 4 {
            return Err(RtcpError::Truncated {
                needed: 4,
                have: b.len(),
            });
        }
        let version = b[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let len = 4 * (usize::from(u16::from_be_bytes([b[2], b[3]])) + 1);
        if b.len() < len {
            return Err(RtcpError::Truncated {
                needed: len,
                have: b.len(),
            });
        }
        let mut body = &b[4..len];
        if b[0] & 0x20 != 0 {
            let pad = usize::from(*body.last().ok_or(RtcpError::Padding)?);
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Padding);
            }
            body = &body[..body.len() - pad];
        }
        self.rest = &b[len..];
        RtcpPacket::decode(b[1], b[0] & 0x1f, body)
    }
}

/// Parses a compound RTCP datagram lazily. The first packet must be SR or RR
/// (RFC 3550 §6.1); that is checked here so the iterator only yields packets.
pub fn parse_compound(buf: &[u8]) -> Result<Compound<'_>, RtcpError> {
    if buf.len() < 4 {
        return Err(RtcpError::Truncated {
            needed: 4,
            have: buf.len(),
        });
    }
    if buf[1] != PT_SR && buf[1] != PT_RR {
        return Err(RtcpError::FirstNotReport(buf[1]));
    }
    Ok(Compound {
        rest: buf,
        failed: false,
    })
}

/// Writes a compound RTCP packet into a caller buffer without allocating.
#[derive(Debug)]
pub struct RtcpWriter<'b> {
    out: &'b mut [u8],
    at: usize,
}

impl<'b> RtcpWriter<'b> {
    /// Starts writing at the beginning of `out`.
    pub fn new(out: &'b mut [u8]) -> Self {
        Self { out, at: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.at
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.at == 0
    }

    fn reserve(&mut self, n: usize) -> Result<&mut [u8], RtcpError> {
        let end = self.at + n;
        if self.out.len() < end {
            return Err(RtcpError::BufferTooSmall {
                needed: end,
                have: self.out.len(),
            });
        }
        let slice = &mut self.out[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn header(b: &mut [u8], count: u8, pt: u8, total_len: usize) {
        b[0] = 0x80 | (count & 0x1f);
        b[1] = pt;
        // total_len is a multiple of 4 bounded by the caller's buffer; RTCP lengths fit u16.
        let words = (total_len / 4 - 1) as u16;
        b[2..4].copy_from_slice(&words.to_be_bytes());
    }

    /// Appends a sender report.
    pub fn sender_report(
        &mut self,
        ssrc: Ssrc,
        info: &SenderInfo,
        reports: &[ReportBlock],
    ) -> Result<&mut Self, RtcpError> {
        if reports.len() > 31 {
            return Err(RtcpError::FieldTooLong);
        }
        let len = 28 + reports.len() * ReportBlock::LEN;
        let b = self.reserve(len)?;
        Self::header(b, reports.len() as u8, PT_SR, len);
        b[4..8].copy_from_slice(&ssrc.0.to_be_bytes());
        b[8..16].copy_from_slice(&info.ntp.to_be_bytes());
        b[16..20].copy_from_slice(&info.rtp_timestamp.to_be_bytes());
        b[20..24].copy_from_slice(&info.packet_count.to_be_bytes());
        b[24..28].copy_from_slice(&info.octet_count.to_be_bytes());
        for (i, r) in reports.iter().enumerate() {
            r.write(&mut b[28 + i * ReportBlock::LEN..]);
        }
        Ok(self)
    }

    /// Appends a receiver report.
    pub fn receiver_report(
        &mut self,
        ssrc: Ssrc,
        reports: &[ReportBlock],
    ) -> Result<&mut Self, RtcpError> {
        if reports.len() > 31 {
            return Err(RtcpError::FieldTooLong);
        }
        let len = 8 + reports.len() * ReportBlock::LEN;
        let b = self.reserve(len)?;
        Self::header(b, reports.len() as u8, PT_RR, len);
        b[4..8].copy_from_slice(&ssrc.0.to_be_bytes());
        for (i, r) in reports.iter().enumerate() {
            r.write(&mut b[8 + i * ReportBlock::LEN..]);
        }
        Ok(self)
    }

    /// Appends an SDES packet with one chunk carrying a CNAME.
    pub fn sdes_cname(&mut self, ssrc: Ssrc, cname: &[u8]) -> Result<&mut Self, RtcpError> {
        let clen = u8::try_from(cname.len()).map_err(|_| RtcpError::FieldTooLong)?;
        // header + ssrc + (type, len, text, END) padded to 4.
        let chunk = (4 + 2 + cname.len() + 1).next_multiple_of(4);
        let len = 4 + chunk;
        let b = self.reserve(len)?;
        Self::header(b, 1, PT_SDES, len);
        b[4..8].copy_from_slice(&ssrc.0.to_be_bytes());
        b[8] = SDES_CNAME;
        b[9] = clen;
        b[10..10 + cname.len()].copy_from_slice(cname);
        b[10 + cname.len()..].fill(0);
        Ok(self)
    }

    /// Appends a BYE for `sources` with an optional reason.
    pub fn bye(&mut self, sources: &[Ssrc], reason: Option<&[u8]>) -> Result<&mut Self, RtcpError> {
        if sources.len() > 31 {
            return Err(RtcpError::FieldTooLong);
        }
        let rlen = match reason {
            Some(r) => 1 + usize::from(u8::try_from(r.len()).map_err(|_| RtcpError::FieldTooLong)?),
            None => 0,
        };
        let len = (4 + 4 * sources.len() + rlen).next_multiple_of(4);
        let b = self.reserve(len)?;
        Self::header(b, sources.len() as u8, PT_BYE, len);
        for (i, s) in sources.iter().enumerate() {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&s.0.to_be_bytes());
        }
        let at = 4 + 4 * sources.len();
        b[at..].fill(0);
        if let Some(r) = reason {
            b[at] = r.len() as u8;
            b[at + 1..at + 1 + r.len()].copy_from_slice(r);
        }
        Ok(self)
    }

    /// Appends an APP packet; `data` must be a multiple of 4 bytes.
    pub fn app(
        &mut self,
        subtype: u8,
        ssrc: Ssrc,
        name: [u8; 4],
        data: &[u8],
    ) -> Result<&mut Self, RtcpError> {
        if !data.len().is_multiple_of(4) || subtype > 31 {
            return Err(RtcpError::FieldTooLong);
        }
        let len = 12 + data.len();
        let b = self.reserve(len)?;
        Self::header(b, subtype, PT_APP, len);
        b[4..8].copy_from_slice(&ssrc.0.to_be_bytes());
        b[8..12].copy_from_slice(&name);
        b[12..].copy_from_slice(data);
        Ok(self)
    }

    /// Appends an XR packet (RFC 3611) carrying one VoIP Metrics block.
    pub fn xr_voip_metrics(
        &mut self,
        ssrc: Ssrc,
        metrics: &VoipMetrics,
    ) -> Result<&mut Self, RtcpError> {
        let len = 8 + VoipMetrics::LEN;
        let b = self.reserve(len)?;
        Self::header(b, 0, PT_XR, len);
        b[4..8].copy_from_slice(&ssrc.0.to_be_bytes());
        metrics.write(&mut b[8..]);
        Ok(self)
    }

    /// Total bytes written.
    pub fn finish(self) -> usize {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real compound SR + SDES(CNAME) as emitted by common stacks, assembled per RFC 3550 §6.4.1/§6.5.
    const SR_SDES: [u8; 52] = [
        0x81, 0xc8, 0x00, 0x0c, // V=2 RC=1 PT=200 len=12
        0x11, 0x22, 0x33, 0x44, // SSRC
        0xe7, 0x6e, 0x2b, 0x00, 0x80, 0x00, 0x00, 0x00, // NTP
        0x00, 0x00, 0x01, 0x40, // RTP ts 320
        0x00, 0x00, 0x00, 0x02, // packets
        0x00, 0x00, 0x01, 0x40, // octets
        0xaa, 0xbb, 0xcc, 0xdd, // report: SSRC
        0x10, 0xff, 0xff, 0xfe, // fraction 16, cumulative -2
        0x00, 0x01, 0x00, 0x05, // ext highest seq
        0x00, 0x00, 0x00, 0x07, // jitter
        0x2b, 0x00, 0x80, 0x00, // LSR
        0x00, 0x00, 0x80, 0x00, // DLSR
    ];

    #[test]
    fn parses_sr_with_signed_loss() {
        let mut c = parse_compound(&SR_SDES).expect("starts with SR");
        let Some(Ok(RtcpPacket::SenderReport {
            ssrc,
            info,
            reports,
        })) = c.next()
        else {
            panic!("expected SR");
        };
        assert_eq!(ssrc, Ssrc(0x1122_3344));
        assert_eq!(info.rtp_timestamp, 320);
        assert_eq!(info.ntp, 0xe76e_2b00_8000_0000);
        let r: Vec<_> = reports.iter().collect();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].fraction_lost, 16);
        assert_eq!(r[0].cumulative_lost, -2);
        assert_eq!(r[0].highest_sequence, 0x0001_0005);
        assert_eq!(r[0].jitter, 7);
        assert!(c.next().is_none());
    }

    #[test]
    fn writer_round_trips_compound() {
        let mut buf = [0u8; 256];
        let mut w = RtcpWriter::new(&mut buf);
        let block = ReportBlock {
            ssrc: Ssrc(9),
            fraction_lost: 3,
            cumulative_lost: -5,
            highest_sequence: 70000,
            jitter: 12,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65536,
        };
        w.receiver_report(Ssrc(1), &[block])
            .and_then(|w| w.sdes_cname(Ssrc(1), b"user@host"))
            .and_then(|w| w.bye(&[Ssrc(1)], Some(b"done")))
            .and_then(|w| w.app(3, Ssrc(1), *b"PBXK", &[1, 2, 3, 4]))
            .expect("fits");
        let n = w.finish();
        assert_eq!(n % 4, 0);
        let pkts: Vec<_> = parse_compound(&buf[..n])
            .expect("RR first")
            .collect::<Result<_, _>>()
            .expect("valid");
        assert_eq!(pkts.len(), 4);
        match &pkts[0] {
            RtcpPacket::ReceiverReport { ssrc, reports } => {
                assert_eq!(*ssrc, Ssrc(1));
                assert_eq!(reports.iter().next(), Some(block));
            }
            other => panic!("unexpected {other:?}"),
        }
        match &pkts[1] {
            RtcpPacket::Sdes(chunks) => assert_eq!(chunks[0].cname(), Some(&b"user@host"[..])),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            pkts[2],
            RtcpPacket::Bye {
                sources: vec![Ssrc(1)],
                reason: Some(b"done")
            }
        );
        assert!(
            matches!(pkts[3], RtcpPacket::App { subtype: 3, name, data, .. } if &name == b"PBXK" && data == [1, 2, 3, 4])
        );
    }

    #[test]
    fn xr_voip_metrics_round_trip() {
        let m = VoipMetrics {
            ssrc: Ssrc(0x0a0b_0c0d),
            loss_rate: 5,
            discard_rate: 3,
            burst_density: 0,
            gap_density: 2,
            burst_duration: 0,
            gap_duration: 9000,
            round_trip_delay: 80,
            end_system_delay: 60,
            signal_level: 127,
            noise_level: 127,
            rerl: 127,
            gmin: 16,
            r_factor: 127,
            ext_r_factor: 127,
            mos_lq: 127,
            mos_cq: 127,
            rx_config: 0b1011_0000,
            jb_nominal: 40,
            jb_maximum: 120,
            jb_abs_max: 1000,
        };
        let mut buf = [0u8; 128];
        let mut w = RtcpWriter::new(&mut buf);
        w.receiver_report(Ssrc(1), &[])
            .and_then(|w| w.xr_voip_metrics(Ssrc(1), &m))
            .expect("fits");
        let n = w.finish();
        let pkts: Vec<_> = parse_compound(&buf[..n])
            .expect("RR first")
            .collect::<Result<_, _>>()
            .expect("valid");
        let RtcpPacket::Other {
            packet_type: PT_XR,
            body,
            ..
        } = pkts[1]
        else {
            panic!("expected XR: {pkts:?}");
        };
        let blocks: Vec<_> = xr_blocks(body).collect();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].0, XR_VOIP_METRICS);
        assert_eq!(VoipMetrics::parse(blocks[0].2), Some(m));
        assert_eq!(VoipMetrics::parse(&[0; 10]), None);
        assert_eq!(xr_blocks(&[0, 0, 0, 0, 7, 0, 0, 9]).count(), 0);
    }

    #[test]
    fn malformed_never_panics() {
        for len in 0..SR_SDES.len() {
            if let Ok(c) = parse_compound(&SR_SDES[..len]) {
                for p in c {
                    let _ = p;
                }
            }
        }
        let mut x = SR_SDES;
        x[3] = 0xff;
        let r: Vec<_> = parse_compound(&x).expect("header ok").collect();
        assert!(matches!(r[0], Err(RtcpError::Truncated { .. })));
        assert_eq!(
            parse_compound(&[0x80, 202, 0, 0]).err(),
            Some(RtcpError::FirstNotReport(202))
        );
        // Arbitrary bodies for every packet type.
        for pt in 200..=207u8 {
            for count in 0..4u8 {
                let pkt = [0x80 | count, pt, 0, 2, 1, 5, 0xff, 9, 8, 7, 6, 5];
                let body = &pkt[4..];
                let _ = RtcpPacket::decode(pt, count, body);
            }
        }
    }
}
