//! G.722: 7 kHz wideband audio at 64, 56 and 48 kbit/s (Rec. ITU-T G.722).
//!
//! The encoder splits 16 kHz PCM into two 8 kHz sub-bands with a 24-tap
//! quadrature mirror filter (QMF) and codes the lower band with 6-bit and
//! the higher band with 2-bit ADPCM ([`subband`]). Each pair of input
//! samples gives one 8-bit codeword `(IH << 6) | IL`; an RTP G.722 payload
//! (RFC 3551 §4.5.2, static payload type 9, RTP clock 8000 although the
//! audio is sampled at 16 kHz) is one such byte per codeword.
//!
//! The encoder always produces 64 kbit/s codewords. The 56 and 48 kbit/s
//! modes drop the one or two least significant bits of `IL` in transit;
//! [`G722Decoder`] is told the [`G722Mode`] and reconstructs the lower band
//! from the 6, 5 or 4 most significant bits of `IL` (its predictor always
//! adapts on the 4-bit value, so encoder and decoder stay in step).
//!
//! # Conformance
//! Bit-exact to the ITU-T STL end-to-end vectors (encoder, decoder in modes
//! 1–3, encoder then decoder) and to the Rec. G.722 Appendix II sub-band
//! sequences; see `tests/g722_vectors.rs`. The arithmetic follows the
//! Recommendation's block descriptions in 16-bit fixed point.
//!
//! # Packet loss
//! [`G722Decoder::conceal`](crate::Decoder::conceal) conceals in the PCM
//! domain with a 16 kHz [`Plc`]. The concealed PCM is then run through the
//! encoder's analysis QMF and quantisers and the resulting codewords through
//! the decoder, output discarded, so that the ADPCM predictors, scale
//! factors and the synthesis QMF follow the concealed signal. When packets
//! resume the decoder continues from a state consistent with what was
//! played, and the [`Plc`] merge cross-fades the rest.

pub mod subband;

use crate::plc::Plc;
use crate::{CodecDescriptor, CodecKind, Decoder, Encoder, Error};
use subband::Band;

/// QMF coefficients `h0..h23` (scaled by 2¹³), Rec. G.722 Table 12.
/// The filter is symmetric: `H[i] == H[23 - i]`.
const H: [i32; 24] = [
    3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32,
    -156, 12, 53, -11, -11, 3,
];

/// Bit rate / decoder mode of G.722.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum G722Mode {
    /// Mode 1, 64 kbit/s: the lower band uses all 6 bits of `IL`.
    #[default]
    Mode1,
    /// Mode 2, 56 kbit/s: the lower band uses the 5 MSBs of `IL`.
    Mode2,
    /// Mode 3, 48 kbit/s: the lower band uses the 4 MSBs of `IL`.
    Mode3,
}

impl G722Mode {
    /// The bit rate of this mode in bit/s.
    pub const fn bit_rate(self) -> u32 {
        match self {
            Self::Mode1 => 64_000,
            Self::Mode2 => 56_000,
            Self::Mode3 => 48_000,
        }
    }
}

/// Analysis (transmit) QMF: 16 kHz in, one lower- and one higher-band sample
/// per input pair.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TxQmf {
    /// The last 24 input samples, newest first.
    x: [i32; 24],
}

impl TxQmf {
    const fn new() -> Self {
        Self { x: [0; 24] }
    }

    /// Consumes the pair (`first`, `second`) in time order; returns (XL, XH).
    #[inline]
    fn analyse(&mut self, first: i16, second: i16) -> (i32, i32) {
        self.x.copy_within(0..22, 2);
        self.x[1] = i32::from(first);
        self.x[0] = i32::from(second);
        let mut xa = 0i32;
        let mut xb = 0i32;
        for i in 0..12 {
            xa += H[2 * i] * self.x[2 * i];
            xb += H[2 * i + 1] * self.x[2 * i + 1];
        }
        let xl = (xa + xb) >> 14;
        let xh = (xa - xb) >> 14;
        (xl.clamp(-16384, 16383), xh.clamp(-16384, 16383))
    }
}

/// Synthesis (receive) QMF: one lower- and one higher-band sample in, two
/// 16 kHz samples out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RxQmf {
    /// `RL - RH` history, newest first.
    xd: [i32; 12],
    /// `RL + RH` history, newest first.
    xs: [i32; 12],
}

impl RxQmf {
    const fn new() -> Self {
        Self {
            xd: [0; 12],
            xs: [0; 12],
        }
    }

    #[inline]
    fn synthesise(&mut self, rl: i32, rh: i32) -> (i16, i16) {
        self.xd.copy_within(0..11, 1);
        self.xs.copy_within(0..11, 1);
        self.xd[0] = rl - rh;
        self.xs[0] = rl + rh;
        let mut y1 = 0i32;
        let mut y2 = 0i32;
        for i in 0..12 {
            y1 += H[2 * i] * self.xd[i];
            y2 += H[2 * i + 1] * self.xs[i];
        }
        (
            (y1 >> 11).clamp(-32768, 32767) as i16,
            (y2 >> 11).clamp(-32768, 32767) as i16,
        )
    }
}

/// G.722 encoder: 16 kHz PCM in, 64 kbit/s codewords out (one byte per two
/// samples).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct G722Encoder {
    qmf: TxQmf,
    low: Band,
    high: Band,
}

impl G722Encoder {
    /// An encoder in the reset state.
    pub fn new() -> Self {
        Self {
            qmf: TxQmf::new(),
            low: Band::low(),
            high: Band::high(),
        }
    }

    /// Encodes one pair of samples into a codeword.
    #[inline]
    fn encode_pair(&mut self, first: i16, second: i16) -> u8 {
        let (xl, xh) = self.qmf.analyse(first, second);
        let il = self.low.encode_low(xl);
        let ih = self.high.encode_high(xh);
        (ih << 6) | il
    }
}

impl Default for G722Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder for G722Encoder {
    fn descriptor(&self) -> CodecDescriptor {
        CodecKind::G722.descriptor()
    }

    /// Encodes an even number of 16 kHz samples into `pcm.len() / 2` bytes.
    ///
    /// Errors: [`Error::UnsupportedFrameSize`] for an odd sample count,
    /// [`Error::OutputTooSmall`] when `out` holds fewer than `pcm.len() / 2`
    /// bytes. Nothing is encoded on error.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
        if pcm.len() & 1 == 1 {
            return Err(Error::UnsupportedFrameSize(pcm.len()));
        }
        let n = pcm.len() / 2;
        if out.len() < n {
            return Err(Error::OutputTooSmall {
                needed: n,
                available: out.len(),
            });
        }
        for (o, pair) in out.iter_mut().zip(pcm.chunks_exact(2)) {
            *o = self.encode_pair(pair[0], pair[1]);
        }
        Ok(n)
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}

/// G.722 decoder: codewords in, 16 kHz PCM out (two samples per byte), with
/// packet-loss concealment.
#[derive(Debug, Clone)]
pub struct G722Decoder {
    mode: G722Mode,
    qmf: RxQmf,
    low: Band,
    high: Band,
    plc: Plc,
    /// Analysis QMF used to re-encode concealed PCM into the ADPCM state.
    shadow_qmf: TxQmf,
}

impl G722Decoder {
    /// A decoder in the reset state for `mode`.
    pub fn new(mode: G722Mode) -> Self {
        Self {
            mode,
            qmf: RxQmf::new(),
            low: Band::low(),
            high: Band::high(),
            plc: Plc::wideband(),
            shadow_qmf: TxQmf::new(),
        }
    }

    /// The mode this decoder reconstructs in.
    pub fn mode(&self) -> G722Mode {
        self.mode
    }

    /// Decodes one codeword into two samples.
    #[inline]
    fn decode_byte(&mut self, code: u8) -> (i16, i16) {
        let rl = self.low.decode_low(code & 0x3F, self.mode);
        let rh = self.high.decode_high(code >> 6);
        self.qmf.synthesise(rl, rh)
    }
}

impl Default for G722Decoder {
    fn default() -> Self {
        Self::new(G722Mode::Mode1)
    }
}

impl Decoder for G722Decoder {
    fn descriptor(&self) -> CodecDescriptor {
        CodecKind::G722.descriptor()
    }

    /// Decodes `payload.len()` codewords into `2 * payload.len()` samples.
    ///
    /// Errors: [`Error::OutputTooSmall`] when `out` is shorter; nothing is
    /// decoded then.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, Error> {
        let n = payload.len() * 2;
        if out.len() < n {
            return Err(Error::OutputTooSmall {
                needed: n,
                available: out.len(),
            });
        }
        for (&code, pair) in payload.iter().zip(out.chunks_exact_mut(2)) {
            let (a, b) = self.decode_byte(code);
            pair[0] = a;
            pair[1] = b;
        }
        self.plc.good(&mut out[..n]);
        Ok(n)
    }

    /// Conceals an even number of samples (a whole number of codewords);
    /// [`Error::UnsupportedFrameSize`] for an odd count.
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, Error> {
        if out.len() & 1 == 1 {
            return Err(Error::UnsupportedFrameSize(out.len()));
        }
        if !self.plc.is_concealing() {
            // Prime the analysis QMF with the signal played so far.
            let mut tail = [0i16; 24];
            self.plc.recent(&mut tail);
            for (slot, &s) in self.shadow_qmf.x.iter_mut().zip(tail.iter().rev()) {
                *slot = i32::from(s);
            }
        }
        self.plc.conceal(out);
        // Drive the ADPCM state and the synthesis QMF with the concealed
        // signal, as if its codewords had been received.
        for pair in out.chunks_exact(2) {
            let (xl, xh) = self.shadow_qmf.analyse(pair[0], pair[1]);
            let il = self.low.peek_low(xl);
            let ih = self.high.peek_high(xh);
            let _ = self.decode_byte((ih << 6) | il);
        }
        Ok(out.len())
    }

    fn reset(&mut self) {
        *self = Self::new(self.mode);
    }
}

impl Band {
    /// The lower-band code the encoder would emit for `xl` from this state,
    /// without changing the state.
    fn peek_low(&self, xl: i32) -> u8 {
        self.clone().encode_low(xl)
    }

    /// The higher-band code the encoder would emit for `xh` from this state,
    /// without changing the state.
    fn peek_high(&self, xh: i32) -> u8 {
        self.clone().encode_high(xh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, freq: f64, amp: f64) -> Vec<i16> {
        (0..n)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / 16000.0).sin()) as i16)
            .collect()
    }

    fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
        let (mut sig, mut noise) = (0.0, 0.0);
        for (&r, &t) in reference.iter().zip(test) {
            sig += f64::from(r).powi(2);
            noise += (f64::from(r) - f64::from(t)).powi(2);
        }
        10.0 * (sig / noise.max(1e-9)).log10()
    }

    #[test]
    fn round_trip_keeps_wideband_tones() {
        // MV-46: wideband is an extra; a 1 kHz and a 6 kHz tone survive
        // mode 1 with good SNR (QMF delay: 22 samples end to end).
        for freq in [1000.0, 6000.0] {
            let pcm = tone(3200, freq, 8000.0);
            let mut enc = G722Encoder::new();
            let mut dec = G722Decoder::new(G722Mode::Mode1);
            let mut bytes = vec![0u8; 1600];
            let mut out = vec![0i16; 3200];
            assert_eq!(enc.encode(&pcm, &mut bytes), Ok(1600));
            assert_eq!(dec.decode(&bytes, &mut out), Ok(3200));
            let snr = snr_db(&pcm[800..3000], &out[822..3022]);
            eprintln!("G.722 {freq} Hz tone: SNR {snr:.1} dB");
            assert!(snr > 20.0, "{freq} Hz: {snr:.1} dB");
        }
    }

    #[test]
    fn bad_sizes_are_typed_errors() {
        let mut enc = G722Encoder::new();
        let mut out = [0u8; 4];
        assert_eq!(
            enc.encode(&[0i16; 3], &mut out),
            Err(Error::UnsupportedFrameSize(3))
        );
        assert_eq!(
            enc.encode(&[0i16; 10], &mut out),
            Err(Error::OutputTooSmall {
                needed: 5,
                available: 4
            })
        );
        let mut dec = G722Decoder::default();
        let mut pcm = [0i16; 5];
        assert_eq!(
            dec.decode(&[0u8; 3], &mut pcm),
            Err(Error::OutputTooSmall {
                needed: 6,
                available: 5
            })
        );
        assert_eq!(dec.conceal(&mut pcm), Err(Error::UnsupportedFrameSize(5)));
        assert_eq!(dec.decode(&[], &mut []), Ok(0));
        assert_eq!(dec.conceal(&mut []), Ok(0));
        assert_eq!(dec.descriptor().rtp_clock_rate, 8000);
        assert_eq!(enc.descriptor().sample_rate, 16000);
    }

    #[test]
    fn extreme_input_never_panics() {
        // Full-scale square waves and alternating extremes drive every
        // limiter (QMF outputs, predictor, scale factors).
        let mut pcm = Vec::new();
        for i in 0..4000 {
            pcm.push(if (i / 7) % 2 == 0 { i16::MAX } else { i16::MIN });
        }
        for i in 0..4000 {
            pcm.push(if i % 2 == 0 { i16::MAX } else { i16::MIN });
        }
        let mut enc = G722Encoder::new();
        let mut bytes = vec![0u8; pcm.len() / 2];
        enc.encode(&pcm, &mut bytes).unwrap();
        for mode in [G722Mode::Mode1, G722Mode::Mode2, G722Mode::Mode3] {
            let mut dec = G722Decoder::new(mode);
            let mut out = vec![0i16; pcm.len()];
            dec.decode(&bytes, &mut out).unwrap();
            // Every byte value is a valid codeword, including the ones no
            // encoder emits (IL 0..=3).
            let all: Vec<u8> = (0..=255).collect();
            let mut out = vec![0i16; 512];
            assert_eq!(dec.decode(&all, &mut out), Ok(512));
        }
    }

    #[test]
    fn reset_restores_the_initial_state() {
        let pcm = tone(640, 440.0, 9000.0);
        let mut enc = G722Encoder::new();
        let mut first = vec![0u8; 320];
        let mut second = vec![0u8; 320];
        enc.encode(&pcm, &mut first).unwrap();
        enc.reset();
        enc.encode(&pcm, &mut second).unwrap();
        assert_eq!(first, second);
        let mut dec = G722Decoder::new(G722Mode::Mode2);
        let (mut a, mut b) = (vec![0i16; 640], vec![0i16; 640]);
        dec.decode(&first, &mut a).unwrap();
        dec.reset();
        assert_eq!(dec.mode(), G722Mode::Mode2);
        dec.decode(&first, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(G722Mode::Mode3.bit_rate(), 48_000);
    }

    #[test]
    fn concealment_keeps_decoder_in_step() {
        // Lose 2 of 10 frames of a 500 Hz tone; after the loss the decoded
        // audio is close to the loss-free decode again.
        let pcm = tone(16000, 500.0, 8000.0);
        let mut enc = G722Encoder::new();
        let mut bytes = vec![0u8; 8000];
        enc.encode(&pcm, &mut bytes).unwrap();
        let mut clean = vec![0i16; 16000];
        G722Decoder::default().decode(&bytes, &mut clean).unwrap();

        let mut dec = G722Decoder::default();
        let mut out = vec![0i16; 16000];
        for (f, (payload, frame)) in bytes.chunks(160).zip(out.chunks_mut(320)).enumerate() {
            if f == 20 || f == 21 {
                dec.conceal(frame).unwrap();
            } else {
                dec.decode(payload, frame).unwrap();
            }
        }
        let lost = snr_db(&clean[6400..7040], &out[6400..7040]);
        // The decoder state converges back to the clean decoder's: measure
        // 10 ms windows 20..30 ms and 50..60 ms after the resume.
        let soon = snr_db(&clean[7360..7520], &out[7360..7520]);
        let later = snr_db(&clean[7840..8000], &out[7840..8000]);
        eprintln!(
            "G.722 PLC: concealed 40 ms SNR {lost:.1} dB; after resume +20 ms {soon:.1} dB, +50 ms {later:.1} dB"
        );
        assert!(lost > 3.0, "concealed {lost:.1} dB");
        assert!(
            soon > 10.0 && later > 25.0,
            "after resume {soon:.1} / {later:.1} dB"
        );
        assert!(later > soon);
        let jump = out
            .windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap_or(0);
        // A 500 Hz tone at amplitude 8000 moves by at most ~1571 per sample.
        assert!(jump < 2200, "max step {jump}");
    }
}
