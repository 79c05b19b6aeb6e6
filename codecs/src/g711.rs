//! G.711 A-law (PCMA) and µ-law (PCMU), table-driven.
//!
//! The octets are in *line format*: exactly what goes into an RTP PCMA/PCMU
//! payload (RFC 3551 §4.5.14) — A-law with its even bits inverted (`^ 0x55`),
//! µ-law with all bits inverted. Linear samples are left-justified 16-bit
//! PCM.
//!
//! # Conformance
//! The compression laws follow ITU-T G.711 as the ITU-T STL implements it:
//! A-law quantises the one's-complement magnitude `x >> 4` (negative `x` maps
//! to `!x`), µ-law quantises `(|x| >> 2) + 33` with the same one's-complement
//! rule and a clip at `0x1FFF`. That µ-law differs from the widespread
//! "Sun `g711.c`" table (bias `0x84`, clip 32635) on 127 inputs; this module
//! matches the ITU STL sweep vectors on all 65,536 inputs for compression,
//! expansion and compression-then-expansion (see `tests/g711_vectors.rs`).
//!
//! # Speed
//! All four laws are table lookups; the tables are built at compile time by
//! `const fn`s (no lazy initialisation). A-law compression depends only on
//! `x >> 4` (4,096 entries), µ-law on `x >> 2` (16,384 entries), expansion on
//! the octet (256 entries). The slice functions ([`alaw_encode_slice`], ...)
//! are the hot path.
//!
//! # Codec objects
//! [`PcmaEncoder`], [`PcmaDecoder`], [`PcmuEncoder`] and [`PcmuDecoder`]
//! implement [`Encoder`] / [`Decoder`]: one byte per sample, any frame length
//! (including empty). The decoders conceal lost packets with [`Plc`]
//! (G.711 Appendix I style waveform substitution).

use crate::plc::Plc;
use crate::{CodecDescriptor, CodecKind, Decoder, Encoder, Error};

/// A-law compression of a one's-complement magnitude index `m = |x| >> 4`
/// (0..=2047) plus the sign, before the even-bit inversion.
const fn alaw_compress_index(idx: u16) -> u8 {
    // `idx` is the 12-bit value `(x as u16) >> 4`, i.e. `x >> 4` of the
    // two's-complement sample. Negative samples have the top bit set; their
    // magnitude is the one's complement (`!x >> 4 == !(x >> 4)`).
    let negative = idx & 0x800 != 0;
    let m = if negative { !idx & 0x7FF } else { idx & 0x7FF };
    let code = if m < 32 {
        // Segments 0 and 1 share the finest step: the code is the value.
        m as u8
    } else {
        // Segment e (2..=7) holds magnitudes [16 << (e - 1), 32 << (e - 1)).
        let bits = 16 - m.leading_zeros(); // 6..=11
        let seg = bits - 4; // 2..=7
        ((seg << 4) as u8) | (((m >> (seg - 1)) & 0x0F) as u8)
    };
    let signed = if negative { code } else { code | 0x80 };
    signed ^ 0x55
}

/// µ-law compression of a 14-bit index `(x as u16) >> 2`.
const fn ulaw_compress_index(idx: u16) -> u8 {
    let negative = idx & 0x2000 != 0;
    let m = if negative {
        !idx & 0x1FFF
    } else {
        idx & 0x1FFF
    };
    let mut biased = m + 33;
    if biased > 0x1FFF {
        biased = 0x1FFF;
    }
    // Segment number 1..=8: one more than the bit length of `biased >> 6`.
    let seg = 1 + (16 - (biased >> 6).leading_zeros()) as u16;
    let high = 8 - seg;
    let low = 0x0F - ((biased >> seg) & 0x0F);
    let code = ((high << 4) | low) as u8;
    if negative { code } else { code | 0x80 }
}

/// A-law expansion of a line-format octet.
const fn alaw_expand(b: u8) -> i16 {
    let ix = b ^ 0x55;
    let seg = ((ix >> 4) & 0x07) as u32;
    let mant = (ix & 0x0F) as i32;
    let mag = if seg == 0 {
        (mant << 4) + 8
    } else {
        (((mant + 16) << 4) + 8) << (seg - 1)
    };
    if ix & 0x80 != 0 {
        mag as i16
    } else {
        -mag as i16
    }
}

/// µ-law expansion of a line-format octet.
const fn ulaw_expand(b: u8) -> i16 {
    let v = !b;
    let seg = ((v >> 4) & 0x07) as u32;
    let mant = (v & 0x0F) as i32;
    let mag = (((mant << 3) + 0x84) << seg) - 0x84;
    if v & 0x80 != 0 {
        -mag as i16
    } else {
        mag as i16
    }
}

const fn build_alaw_encode() -> [u8; 4096] {
    let mut t = [0u8; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = alaw_compress_index(i as u16);
        i += 1;
    }
    t
}

const fn build_ulaw_encode() -> [u8; 16384] {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        t[i] = ulaw_compress_index(i as u16);
        i += 1;
    }
    t
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_expand(i as u8);
        i += 1;
    }
    t
}

const fn build_ulaw_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_expand(i as u8);
        i += 1;
    }
    t
}

/// A-law compression table, indexed by `(x as u16) >> 4`.
static ALAW_ENCODE: [u8; 4096] = build_alaw_encode();
/// µ-law compression table, indexed by `(x as u16) >> 2`.
static ULAW_ENCODE: [u8; 16384] = build_ulaw_encode();
/// A-law expansion table, indexed by the line octet.
static ALAW_DECODE: [i16; 256] = build_alaw_decode();
/// µ-law expansion table, indexed by the line octet.
static ULAW_DECODE: [i16; 256] = build_ulaw_decode();

/// Compresses one 16-bit sample to an A-law line octet.
#[inline]
pub fn alaw_encode(s: i16) -> u8 {
    ALAW_ENCODE[usize::from((s as u16) >> 4)]
}

/// Expands an A-law line octet to a 16-bit sample.
#[inline]
pub fn alaw_decode(b: u8) -> i16 {
    ALAW_DECODE[usize::from(b)]
}

/// Compresses one 16-bit sample to a µ-law line octet (ITU-T rule).
#[inline]
pub fn ulaw_encode(s: i16) -> u8 {
    ULAW_ENCODE[usize::from((s as u16) >> 2)]
}

/// Expands a µ-law line octet to a 16-bit sample.
#[inline]
pub fn ulaw_decode(b: u8) -> i16 {
    ULAW_DECODE[usize::from(b)]
}

fn check_len(needed: usize, available: usize) -> Result<(), Error> {
    if available < needed {
        Err(Error::OutputTooSmall { needed, available })
    } else {
        Ok(())
    }
}

/// Compresses `pcm` into A-law octets in `out[..pcm.len()]`.
///
/// Returns `pcm.len()`; fails with [`Error::OutputTooSmall`] (writing
/// nothing) when `out` is shorter than `pcm`. A longer `out` is fine: the
/// bytes past `pcm.len()` are left untouched.
pub fn alaw_encode_slice(pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
    check_len(pcm.len(), out.len())?;
    for (o, &s) in out.iter_mut().zip(pcm) {
        *o = ALAW_ENCODE[usize::from((s as u16) >> 4)];
    }
    Ok(pcm.len())
}

/// Compresses `pcm` into µ-law octets in `out[..pcm.len()]`.
///
/// Same contract as [`alaw_encode_slice`].
pub fn ulaw_encode_slice(pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
    check_len(pcm.len(), out.len())?;
    for (o, &s) in out.iter_mut().zip(pcm) {
        *o = ULAW_ENCODE[usize::from((s as u16) >> 2)];
    }
    Ok(pcm.len())
}

/// Expands A-law octets into `out[..bytes.len()]`.
///
/// Returns `bytes.len()`; fails with [`Error::OutputTooSmall`] (writing
/// nothing) when `out` is shorter than `bytes`.
pub fn alaw_decode_slice(bytes: &[u8], out: &mut [i16]) -> Result<usize, Error> {
    check_len(bytes.len(), out.len())?;
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = ALAW_DECODE[usize::from(b)];
    }
    Ok(bytes.len())
}

/// Expands µ-law octets into `out[..bytes.len()]`.
///
/// Same contract as [`alaw_decode_slice`].
pub fn ulaw_decode_slice(bytes: &[u8], out: &mut [i16]) -> Result<usize, Error> {
    check_len(bytes.len(), out.len())?;
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = ULAW_DECODE[usize::from(b)];
    }
    Ok(bytes.len())
}

/// Transcodes A-law octets to µ-law octets through the linear domain
/// (expand, then compress). Same length contract as [`alaw_encode_slice`].
pub fn alaw_to_ulaw_slice(bytes: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    check_len(bytes.len(), out.len())?;
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = ulaw_encode(alaw_decode(b));
    }
    Ok(bytes.len())
}

/// Transcodes µ-law octets to A-law octets through the linear domain
/// (expand, then compress). Same length contract as [`alaw_encode_slice`].
pub fn ulaw_to_alaw_slice(bytes: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    check_len(bytes.len(), out.len())?;
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = alaw_encode(ulaw_decode(b));
    }
    Ok(bytes.len())
}

macro_rules! g711_codec {
    ($enc:ident, $dec:ident, $kind:expr, $name:literal, $encode:ident, $decode:ident) => {
        #[doc = concat!("G.711 ", $name, " encoder: one octet per 8 kHz sample, any frame length.")]
        ///
        /// Stateless apart from the trait plumbing; [`Encoder::reset`] is a no-op.
        #[derive(Debug, Clone, Default)]
        pub struct $enc {
            _private: (),
        }

        impl $enc {
            /// Creates an encoder.
            pub fn new() -> Self {
                Self::default()
            }
        }

        impl Encoder for $enc {
            fn descriptor(&self) -> CodecDescriptor {
                $kind.descriptor()
            }

            /// Writes `pcm.len()` octets; [`Error::OutputTooSmall`] if `out`
            /// is shorter than `pcm`.
            fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
                $encode(pcm, out)
            }

            fn reset(&mut self) {}
        }

        #[doc = concat!("G.711 ", $name, " decoder with packet-loss concealment ([`Plc`]).")]
        ///
        /// [`Decoder::decode`] writes one sample per payload octet.
        /// [`Decoder::conceal`] synthesises a lost frame from the recent
        /// history; the first frame decoded after a loss is cross-faded from
        /// the synthetic signal into the real one.
        #[derive(Debug, Clone)]
        pub struct $dec {
            plc: Plc,
        }

        impl $dec {
            /// Creates a decoder.
            pub fn new() -> Self {
                Self {
                    plc: Plc::narrowband(),
                }
            }
        }

        impl Default for $dec {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Decoder for $dec {
            fn descriptor(&self) -> CodecDescriptor {
                $kind.descriptor()
            }

            /// Writes `payload.len()` samples; [`Error::OutputTooSmall`] if
            /// `out` is shorter than the payload.
            fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, Error> {
                let n = $decode(payload, out)?;
                self.plc.good(&mut out[..n]);
                Ok(n)
            }

            fn conceal(&mut self, out: &mut [i16]) -> Result<usize, Error> {
                self.plc.conceal(out);
                Ok(out.len())
            }

            fn reset(&mut self) {
                self.plc.reset();
            }
        }
    };
}

g711_codec!(
    PcmaEncoder,
    PcmaDecoder,
    CodecKind::Pcma,
    "A-law (PCMA)",
    alaw_encode_slice,
    alaw_decode_slice
);
g711_codec!(
    PcmuEncoder,
    PcmuDecoder,
    CodecKind::Pcmu,
    "µ-law (PCMU)",
    ulaw_encode_slice,
    ulaw_decode_slice
);

#[cfg(test)]
mod tests {
    use super::*;

    // Reference formulations written directly from the G.711 segment tables
    // (independent of the table builders above) for a self-check; the
    // authoritative oracle is the STL sweep in tests/g711_vectors.rs.
    fn alaw_ref(x: i16) -> u8 {
        let (sign, mag) = if x >= 0 {
            (0x80u8, i32::from(x))
        } else {
            (0u8, -i32::from(x) - 1)
        };
        let m = mag >> 4;
        let mut seg = 0;
        let mut top = 32;
        while m >= top {
            top <<= 1;
            seg += 1;
        }
        let code = if seg == 0 {
            m
        } else {
            ((seg + 1) << 4) | ((m >> seg) & 0x0F)
        };
        (sign | code as u8) ^ 0x55
    }

    #[test]
    fn alaw_matches_segment_table() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(alaw_encode(x), alaw_ref(x), "x = {x}");
        }
    }

    // MV-43: known anchor points of the laws.
    #[test]
    fn anchor_points() {
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
    }

    #[test]
    fn expansion_then_compression_is_identity() {
        for b in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#04x}");
            // µ-law has two zeros (0x7F and 0xFF); -0 re-encodes as +0.
            if b != 0x7F {
                assert_eq!(ulaw_encode(ulaw_decode(b)), b, "µ-law {b:#04x}");
            }
        }
    }

    #[test]
    fn compression_is_monotonic() {
        let mut prev_a = alaw_decode(alaw_encode(i16::MIN));
        let mut prev_u = ulaw_decode(ulaw_encode(i16::MIN));
        for x in i16::MIN..=i16::MAX {
            let a = alaw_decode(alaw_encode(x));
            let u = ulaw_decode(ulaw_encode(x));
            assert!(a >= prev_a && u >= prev_u, "x = {x}");
            prev_a = a;
            prev_u = u;
        }
    }

    #[test]
    fn slices_reject_short_output() {
        let pcm = [0i16; 4];
        let mut out = [0u8; 3];
        assert_eq!(
            alaw_encode_slice(&pcm, &mut out),
            Err(Error::OutputTooSmall {
                needed: 4,
                available: 3
            })
        );
        let mut pcm_out = [0i16; 1];
        assert!(ulaw_decode_slice(&[0xFF, 0xFF], &mut pcm_out).is_err());
        let mut enc = PcmuEncoder::new();
        assert!(enc.encode(&pcm, &mut out).is_err());
        let mut dec = PcmaDecoder::new();
        assert!(matches!(
            dec.decode(&[0xD5; 8], &mut pcm_out),
            Err(Error::OutputTooSmall { .. })
        ));
        // Longer output buffers are fine.
        let mut big = [0u8; 10];
        assert_eq!(ulaw_encode_slice(&pcm, &mut big), Ok(4));
    }

    #[test]
    fn codec_objects_round_trip_any_length() {
        let pcm: Vec<i16> = (0..161)
            .map(|i| ((i * 397) % 20000 - 10000) as i16)
            .collect();
        let mut bytes = vec![0u8; pcm.len()];
        let mut back = vec![0i16; pcm.len()];
        let mut enc = PcmaEncoder::new();
        let mut dec = PcmaDecoder::new();
        assert_eq!(enc.encode(&pcm, &mut bytes), Ok(161));
        assert_eq!(dec.decode(&bytes, &mut back), Ok(161));
        for (&a, &b) in pcm.iter().zip(&back) {
            assert_eq!(b, alaw_decode(alaw_encode(a)));
        }
        assert_eq!(enc.encode(&[], &mut []), Ok(0));
        assert_eq!(dec.decode(&[], &mut []), Ok(0));
        assert_eq!(enc.descriptor().static_payload_type, Some(8));
        assert_eq!(PcmuDecoder::new().descriptor().static_payload_type, Some(0));
    }

    #[test]
    fn decoder_conceals_a_lost_frame() {
        // A 250 Hz tone (period 32 samples): the concealed 20 ms frame
        // follows it closely at first and the decoder resumes cleanly.
        let pcm: Vec<i16> = (0..800)
            .map(|i| (8000.0 * (f64::from(i) * std::f64::consts::PI / 16.0).sin()) as i16)
            .collect();
        let mut bytes = vec![0u8; 800];
        PcmuEncoder::new().encode(&pcm, &mut bytes).unwrap();
        let mut dec = PcmuDecoder::new();
        let mut out = vec![0i16; 800];
        for (f, (payload, frame)) in bytes.chunks(160).zip(out.chunks_mut(160)).enumerate() {
            if f == 3 {
                assert_eq!(dec.conceal(frame), Ok(160));
            } else {
                assert_eq!(dec.decode(payload, frame), Ok(160));
            }
        }
        // First 10 ms of the concealed frame within 2 µ-law steps of the truth.
        for i in 480..560 {
            let want = ulaw_decode(bytes[i]);
            assert!(
                (i32::from(out[i]) - i32::from(want)).abs() < 600,
                "sample {i}"
            );
        }
        // After the merge window the output is the plain decode again.
        for i in 700..800 {
            assert_eq!(out[i], ulaw_decode(bytes[i]));
        }
        dec.reset();
        let mut lost = [1i16; 10];
        assert_eq!(dec.conceal(&mut lost), Ok(10));
        assert_eq!(lost, [0; 10]); // nothing to repeat after a reset
    }

    #[test]
    fn transcoding_between_laws() {
        let a: Vec<u8> = (0..=255).collect();
        let mut u = vec![0u8; 256];
        let mut a2 = vec![0u8; 256];
        alaw_to_ulaw_slice(&a, &mut u).unwrap();
        ulaw_to_alaw_slice(&u, &mut a2).unwrap();
        for (i, (&x, &y)) in a.iter().zip(&a2).enumerate() {
            let d = i32::from(alaw_decode(x)) - i32::from(alaw_decode(y));
            // Two requantisations: within one A-law step (≤ 1024 at the top).
            assert!(d.abs() <= 1024, "octet {i}: {x:#x} -> {y:#x}");
        }
    }
}
