//! G.729 Annex A, with Annex B (VAD, DTX, comfort noise), RTP framing per
//! RFC 3551 §4.5.6.
//!
//! The codec is the pure-Rust `g729-sys` crate, a port of Belledonne's
//! `bcg729` (fixed-point, no allocation, no `unsafe` beyond its SIMD dot
//! products). `tests/g729_bcg729.rs` checks it bit for bit against Debian's
//! `libbcg729` 1.1.1 (MV-43: G.729 is the seed's compressed codec): the
//! decoder, SID/comfort-noise and concealment paths are sample-identical;
//! the encoder is byte-identical except that g729-sys rounds one
//! intermediate of the LSP root search differently, which every few seconds
//! of speech moves an LSP by one LSB and from there lets the two bitstreams
//! drift apart (equally good, and valid for any decoder). The test and
//! `docs/decisions.md` give the exact expression and
//! frames.
//!
//! # Frames and payloads
//! G.729 codes 10 ms (80 samples at 8 kHz) into one 10-byte frame. With
//! Annex B ([`G729Encoder::new`]`(true)`) each frame is one of
//! [`G729FrameKind`]: speech (10 bytes), a SID frame carrying comfort-noise
//! parameters (2 bytes), or untransmitted (0 bytes: nothing changed in the
//! background noise).
//!
//! An RTP payload is zero or more 10-byte speech frames followed by at most
//! one 2-byte SID frame (RFC 3551 §4.5.6), so its length is `10·N` or
//! `10·N + 2`. [`Encoder::encode`] takes any whole number of frames
//! (`80·k` samples) and builds such a payload:
//!
//! - speech frames are written in order;
//! - untransmitted frames write nothing;
//! - a SID frame is written only if no transmitted frame follows it in the
//!   same call (a SID cannot precede speech in a payload); a later SID
//!   replaces an earlier one.
//!
//! So with VAD on a payload can cover less time than the PCM it came from
//! (0 bytes: send nothing; RTP timestamps carry the gap, RFC 3551 §4.5.6).
//! At a silence→speech or speech→silence transition inside a multi-frame
//! call the payload's frames may not start at the call's first sample; a
//! packetizer that needs exact timestamps across transitions encodes 10 ms
//! at a time with [`G729Encoder::encode_frame`], which reports each frame's
//! kind. Without VAD every frame is speech and a call of `80·k` samples
//! always gives `10·k` bytes.
//!
//! [`Decoder::decode`] splits a payload back into frames and writes
//! `80·(N + sid)` samples. [`Decoder::conceal`] stands in for a lost *or
//! untransmitted* frame: after speech it runs the G.729 frame-erasure
//! concealment (§4.4), after a SID it continues the comfort noise
//! (Annex B.27), exactly as `bcg729` does for an erased frame.
//!
//! # Errors
//! PCM that is not a non-zero multiple of 80 samples →
//! [`Error::UnsupportedFrameSize`]; a payload whose length is not `10·N` or
//! `10·N + 2`, or is empty → [`Error::InvalidPayload`]; an output buffer
//! shorter than the worst case (`10` bytes per frame for `encode`, `80`
//! samples per frame for `decode`) → [`Error::OutputTooSmall`]. Errors are
//! detected before any state changes. Any bit pattern in a well-sized
//! payload decodes to *something* (G.729 has no invalid codewords); nothing
//! panics.

use std::fmt;

use crate::{CodecDescriptor, CodecKind, Decoder, Encoder, Error};

/// Samples in one G.729 frame (10 ms at 8 kHz).
pub const FRAME_SAMPLES: usize = g729_sys::FRAME_SAMPLES;
/// Bytes in one speech frame.
pub const FRAME_BYTES: usize = g729_sys::VOICE_FRAME_BYTES;
/// Bytes in one Annex B SID (silence insertion descriptor) frame.
pub const SID_BYTES: usize = 2;

/// What the encoder made of one 10 ms frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G729FrameKind {
    /// A speech frame (10 bytes).
    Speech,
    /// An Annex B SID frame: new comfort-noise parameters (2 bytes).
    Sid,
    /// An Annex B untransmitted frame: the receiver keeps generating the
    /// same comfort noise (0 bytes).
    Untransmitted,
}

impl G729FrameKind {
    /// The frame's length on the wire: 10, 2 or 0 bytes.
    pub const fn payload_len(self) -> usize {
        match self {
            Self::Speech => FRAME_BYTES,
            Self::Sid => SID_BYTES,
            Self::Untransmitted => 0,
        }
    }
}

/// Splits a payload length into (speech frames, has SID), or rejects it.
fn parse_len(len: usize) -> Result<(usize, bool), Error> {
    let (speech, sid) = match len % FRAME_BYTES {
        0 => (len / FRAME_BYTES, false),
        SID_BYTES => (len / FRAME_BYTES, true),
        _ => (0, false),
    };
    if speech == 0 && !sid {
        return Err(Error::InvalidPayload {
            codec: CodecKind::G729,
            len,
        });
    }
    Ok((speech, sid))
}

/// The number of 10 ms frames (speech plus SID) in an RFC 3551 G.729
/// payload, or [`Error::InvalidPayload`] if its length is not `10·N` or
/// `10·N + 2` (or it is empty).
pub fn payload_frames(payload: &[u8]) -> Result<usize, Error> {
    parse_len(payload.len()).map(|(speech, sid)| speech + usize::from(sid))
}

/// Checks that `len` samples are a non-zero whole number of frames.
fn frames_in(len: usize) -> Result<usize, Error> {
    if len == 0 || !len.is_multiple_of(FRAME_SAMPLES) {
        return Err(Error::UnsupportedFrameSize(len));
    }
    Ok(len / FRAME_SAMPLES)
}

/// A G.729A encoder, with Annex B VAD/DTX when enabled.
pub struct G729Encoder {
    inner: g729_sys::Encoder,
    vad: bool,
}

impl fmt::Debug for G729Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("G729Encoder")
            .field("vad", &self.vad)
            .finish_non_exhaustive()
    }
}

impl G729Encoder {
    /// Creates an encoder; `vad` enables Annex B (VAD, DTX and SID frames).
    pub fn new(vad: bool) -> Self {
        Self {
            inner: g729_sys::Encoder::new(vad),
            vad,
        }
    }

    /// Whether Annex B VAD/DTX is on.
    pub fn vad(&self) -> bool {
        self.vad
    }

    /// Encodes exactly one 10 ms frame (80 samples) into `out` (at least 10
    /// bytes) and says what it became; `kind.payload_len()` bytes of `out`
    /// are valid. This is `bcg729Encoder` frame for frame.
    pub fn encode_frame(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<G729FrameKind, Error> {
        let frame: &[i16; FRAME_SAMPLES] = pcm
            .try_into()
            .map_err(|_| Error::UnsupportedFrameSize(pcm.len()))?;
        let available = out.len();
        let bytes: &mut [u8; FRAME_BYTES] = out
            .get_mut(..FRAME_BYTES)
            .and_then(|b| b.try_into().ok())
            .ok_or(Error::OutputTooSmall {
                needed: FRAME_BYTES,
                available,
            })?;
        Ok(self.encode_one(frame, bytes))
    }

    fn encode_one(
        &mut self,
        frame: &[i16; FRAME_SAMPLES],
        bytes: &mut [u8; FRAME_BYTES],
    ) -> G729FrameKind {
        match usize::from(self.inner.encode_into(frame, bytes)) {
            FRAME_BYTES => G729FrameKind::Speech,
            SID_BYTES => G729FrameKind::Sid,
            // 0: the only other length the codec returns.
            _ => G729FrameKind::Untransmitted,
        }
    }
}

impl Encoder for G729Encoder {
    fn descriptor(&self) -> CodecDescriptor {
        CodecKind::G729.descriptor()
    }

    /// Encodes `80·k` samples into one RFC 3551 payload (see the module
    /// docs for the Annex B framing rules); `out` must hold `10·k` bytes.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
        let frames = frames_in(pcm.len())?;
        let needed = frames * FRAME_BYTES;
        if out.len() < needed {
            return Err(Error::OutputTooSmall {
                needed,
                available: out.len(),
            });
        }
        let mut written = 0;
        let mut pending_sid: Option<[u8; SID_BYTES]> = None;
        let mut bytes = [0u8; FRAME_BYTES];
        for chunk in pcm.chunks_exact(FRAME_SAMPLES) {
            let Ok(frame) = <&[i16; FRAME_SAMPLES]>::try_from(chunk) else {
                continue; // unreachable: chunks_exact yields 80 samples
            };
            match self.encode_one(frame, &mut bytes) {
                G729FrameKind::Speech => {
                    // A SID cannot precede speech inside a payload.
                    pending_sid = None;
                    out[written..written + FRAME_BYTES].copy_from_slice(&bytes);
                    written += FRAME_BYTES;
                }
                G729FrameKind::Sid => pending_sid = Some([bytes[0], bytes[1]]),
                G729FrameKind::Untransmitted => {}
            }
        }
        if let Some(sid) = pending_sid {
            out[written..written + SID_BYTES].copy_from_slice(&sid);
            written += SID_BYTES;
        }
        Ok(written)
    }

    fn reset(&mut self) {
        self.inner = g729_sys::Encoder::new(self.vad);
    }
}

/// A G.729 decoder (Annex A, with Annex B comfort noise for SID frames).
pub struct G729Decoder {
    inner: g729_sys::Decoder,
}

impl fmt::Debug for G729Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("G729Decoder").finish_non_exhaustive()
    }
}

impl Default for G729Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl G729Decoder {
    /// Creates a decoder.
    pub fn new() -> Self {
        Self {
            inner: g729_sys::Decoder::new(),
        }
    }
}

impl Decoder for G729Decoder {
    fn descriptor(&self) -> CodecDescriptor {
        CodecKind::G729.descriptor()
    }

    /// Decodes an RFC 3551 payload of `10·N` or `10·N + 2` bytes into
    /// `80·(N + sid)` samples.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, Error> {
        let (speech, sid) = parse_len(payload.len())?;
        let needed = (speech + usize::from(sid)) * FRAME_SAMPLES;
        if out.len() < needed {
            return Err(Error::OutputTooSmall {
                needed,
                available: out.len(),
            });
        }
        let (frames, tail) = payload.split_at(speech * FRAME_BYTES);
        let mut outs = out.chunks_exact_mut(FRAME_SAMPLES);
        for (frame, dst) in frames.chunks_exact(FRAME_BYTES).zip(&mut outs) {
            dst.copy_from_slice(&self.inner.decode(frame, false, false, false));
        }
        if let Some(dst) = outs.next().filter(|_| sid) {
            dst.copy_from_slice(&self.inner.decode(tail, false, true, false));
        }
        Ok(needed)
    }

    /// Frame-erasure concealment (after speech) or comfort noise (after a
    /// SID) for `out.len()` samples, a non-zero multiple of 80.
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, Error> {
        frames_in(out.len())?;
        for dst in out.chunks_exact_mut(FRAME_SAMPLES) {
            // bcg729's erased frame: no bitstream, erasure flag set; the
            // decoder picks PLC or CNG from the previous frame's activity.
            dst.copy_from_slice(&self.inner.decode(&[], true, true, false));
        }
        Ok(out.len())
    }

    fn reset(&mut self) {
        self.inner = g729_sys::Decoder::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, noisy, voiced-ish test signal.
    fn signal(len: usize, seed: u32) -> Vec<i16> {
        let mut s = seed;
        (0..len)
            .map(|i| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = f64::from((s >> 16) as u16 as i16) / 32768.0;
                let t = i as f64 / 8000.0;
                let v = (2.0 * std::f64::consts::PI * 180.0 * t).sin() * 6000.0
                    + (2.0 * std::f64::consts::PI * 720.0 * t).sin() * 2000.0
                    + noise * 500.0;
                v as i16
            })
            .collect()
    }

    #[test]
    fn descriptor() {
        let d = G729Encoder::new(false).descriptor();
        assert_eq!(d, G729Decoder::new().descriptor());
        assert_eq!(
            (d.sample_rate, d.rtp_clock_rate, d.static_payload_type),
            (8000, 8000, Some(18))
        );
        assert_eq!(d.frame_ms, 10);
    }

    #[test]
    fn frame_and_buffer_sizes() {
        let mut enc = G729Encoder::new(false);
        let mut out = [0u8; 64];
        for len in [0, 1, 79, 81, 159, 161] {
            assert_eq!(
                enc.encode(&vec![0; len], &mut out).unwrap_err(),
                Error::UnsupportedFrameSize(len)
            );
        }
        assert_eq!(
            enc.encode(&[0; 160], &mut out[..19]).unwrap_err(),
            Error::OutputTooSmall {
                needed: 20,
                available: 19
            }
        );
        assert_eq!(
            enc.encode_frame(&[0; 80], &mut out[..9]).unwrap_err(),
            Error::OutputTooSmall {
                needed: 10,
                available: 9
            }
        );
        assert_eq!(
            enc.encode_frame(&[0; 160], &mut out).unwrap_err(),
            Error::UnsupportedFrameSize(160)
        );
        let pcm = signal(480, 1);
        assert_eq!(enc.encode(&pcm, &mut out).unwrap(), 60);

        let mut dec = G729Decoder::new();
        let mut pcm_out = [0i16; 480];
        assert_eq!(dec.decode(&out[..60], &mut pcm_out).unwrap(), 480);
        assert_eq!(
            dec.decode(&out[..60], &mut pcm_out[..479]).unwrap_err(),
            Error::OutputTooSmall {
                needed: 480,
                available: 479
            }
        );
        for len in [0, 1, 3, 9, 11, 13, 19, 21, 59] {
            assert_eq!(
                dec.decode(&out[..len], &mut pcm_out).unwrap_err(),
                Error::InvalidPayload {
                    codec: CodecKind::G729,
                    len
                },
                "{len}"
            );
            assert!(payload_frames(&out[..len]).is_err());
        }
        for (len, frames) in [(2, 1), (10, 1), (12, 2), (20, 2), (22, 3)] {
            assert_eq!(payload_frames(&out[..len]).unwrap(), frames);
            assert_eq!(dec.decode(&out[..len], &mut pcm_out).unwrap(), frames * 80);
        }
        for len in [0, 1, 79, 81] {
            assert_eq!(
                dec.conceal(&mut pcm_out[..len]).unwrap_err(),
                Error::UnsupportedFrameSize(len)
            );
        }
        assert_eq!(dec.conceal(&mut pcm_out[..160]).unwrap(), 160);
    }

    #[test]
    fn multi_frame_encode_equals_frame_by_frame() {
        let pcm = signal(8000, 7);
        let mut a = G729Encoder::new(false);
        let mut b = G729Encoder::new(false);
        let mut pa = [0u8; 40];
        let mut pb = [0u8; 10];
        for chunk in pcm.chunks_exact(320) {
            assert_eq!(a.encode(chunk, &mut pa).unwrap(), 40);
            for (i, frame) in chunk.chunks_exact(80).enumerate() {
                assert_eq!(
                    b.encode_frame(frame, &mut pb).unwrap(),
                    G729FrameKind::Speech
                );
                assert_eq!(pa[i * 10..i * 10 + 10], pb);
            }
        }
    }

    #[test]
    fn vad_framing_puts_sid_last() {
        // Speech, then digital silence, then speech again, 20 ms per call.
        let mut pcm = signal(8000, 3);
        pcm[2400..5600].fill(0);
        let mut enc = G729Encoder::new(true);
        let mut reference = G729Encoder::new(true);
        let mut out = [0u8; 20];
        let mut frame = [0u8; 10];
        let (mut sids, mut empties) = (0, 0);
        for chunk in pcm.chunks_exact(160) {
            let n = enc.encode(chunk, &mut out).unwrap();
            assert!(payload_frames(&out[..n]).is_ok() || n == 0, "{n}");
            let k0 = reference.encode_frame(&chunk[..80], &mut frame).unwrap();
            let f0 = frame;
            let k1 = reference.encode_frame(&chunk[80..], &mut frame).unwrap();
            use G729FrameKind::*;
            let want: Vec<u8> = match (k0, k1) {
                (Speech, Speech) => [&f0[..], &frame[..]].concat(),
                (Speech, Sid) => [&f0[..], &frame[..2]].concat(),
                (Speech, Untransmitted) => f0.to_vec(),
                (Sid, Untransmitted) => f0[..2].to_vec(),
                (_, Speech) => frame.to_vec(),
                (_, Sid) => frame[..2].to_vec(),
                (Untransmitted, Untransmitted) => vec![],
            };
            assert_eq!(&out[..n], &want[..]);
            sids += usize::from(n % 10 == 2);
            empties += usize::from(n == 0);
        }
        assert!(sids > 0 && empties > 0, "sids {sids}, empty {empties}");
    }

    #[test]
    fn reset_restarts_the_bitstream() {
        let pcm = signal(800, 9);
        let mut enc = G729Encoder::new(true);
        let mut first = [0u8; 100];
        let mut second = [0u8; 100];
        let n1 = enc.encode(&pcm, &mut first).unwrap();
        enc.reset();
        let n2 = enc.encode(&pcm, &mut second).unwrap();
        assert_eq!(first[..n1], second[..n2]);

        let mut dec = G729Decoder::new();
        let mut a = [0i16; 800];
        let mut b = [0i16; 800];
        dec.decode(&first[..n1], &mut a).unwrap();
        dec.reset();
        dec.decode(&first[..n1], &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn arbitrary_input_never_panics() {
        // Random payloads of every valid length class, interleaved with
        // concealment, and extreme PCM through both encoder modes.
        let mut dec = G729Decoder::new();
        let mut s: u32 = 0x9e37_79b9;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        let mut out = [0i16; 560];
        let mut payload = [0u8; 62];
        for i in 0..20_000u32 {
            let len = [2, 10, 12, 20, 22, 62][(next() % 6) as usize];
            for b in &mut payload[..len] {
                *b = next() as u8;
            }
            dec.decode(&payload[..len], &mut out).unwrap();
            if i % 7 == 0 {
                dec.conceal(&mut out[..80]).unwrap();
            }
        }
        for vad in [false, true] {
            let mut enc = G729Encoder::new(vad);
            let mut bytes = [0u8; 10];
            for i in 0..3_000u32 {
                let pcm: [i16; 80] = std::array::from_fn(|j| match i % 4 {
                    0 => next() as i16,
                    1 => {
                        if (j / 4) % 2 == 0 {
                            i16::MAX
                        } else {
                            i16::MIN
                        }
                    }
                    2 => i16::MIN,
                    _ => 0,
                });
                enc.encode_frame(&pcm, &mut bytes).unwrap();
            }
        }
    }

    #[test]
    fn codec_is_send() {
        fn send<T: Send>() {}
        send::<G729Encoder>();
        send::<G729Decoder>();
    }
}
