//! The G.722 sub-band ADPCM coders (no QMF), exposed for conformance tests.
//!
//! G.722 splits 16 kHz audio into two 8 kHz sub-bands with a QMF and codes
//! each with ADPCM: the lower band with an embedded 6-bit quantiser (`IL`),
//! the higher band with a 2-bit quantiser (`IH`). This module implements
//! the two sub-band coders exactly as Rec. ITU-T G.722 §3–§4 specify them
//! (the blocks SUBTRA, QUANTL/QUANTH, INVQAL/INVQAH, INVQBL, LOGSCL/LOGSCH,
//! SCALEL/SCALEH, and the adaptive predictor RECONS, PARREC, UPPOL1, UPPOL2,
//! UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC), in 16-bit fixed point.
//!
//! The normal entry points are [`super::G722Encoder`] and
//! [`super::G722Decoder`]. These types exist so that the Rec. G.722
//! Appendix II digital test sequences, which drive the sub-band coders
//! directly, can be checked word for word (`tests/g722_vectors.rs`).
//!
//! Sub-band signals are 15-bit (−16,384..=16,383) as in the Recommendation.

use super::G722Mode;

/// Six-bit quantiser decision levels (lower band), Rec. G.722 Table 6.
const Q6: [i32; 31] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
    1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0,
];
/// Codes for negative errors, by quantiser interval `mil` (1..=30).
const ILN: [u8; 31] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
    10, 9, 8, 7, 6, 5, 4,
];
/// Codes for positive errors, by quantiser interval `mil` (1..=30).
const ILP: [u8; 31] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
    38, 37, 36, 35, 34, 33, 32,
];
/// Four-bit inverse quantiser outputs (×8), by `IL >> 2`.
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
/// Five-bit inverse quantiser outputs (×8), by `IL >> 1` (mode 2).
const QM5: [i32; 32] = [
    -280, -280, -23352, -17560, -14120, -11664, -9752, -8184, -6864, -5712, -4696, -3784, -2960,
    -2208, -1520, -880, 23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712, 4696, 3784, 2960, 2208,
    1520, 880, 280, -280,
];
/// Six-bit inverse quantiser outputs (×8), by `IL` (mode 1).
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// Lower-band log-scale-factor multipliers, by the 3-bit magnitude of `IL >> 2`.
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/// Magnitude index (0..=7) of each four-bit code.
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/// Inverse-log table for SCALEL/SCALEH.
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Higher-band inverse quantiser outputs (×8), by `IH`.
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
/// Higher-band log-scale-factor multipliers, by magnitude index.
const WH: [i32; 3] = [0, -214, 798];
/// Magnitude index of each higher-band code.
const RH2: [usize; 4] = [2, 1, 2, 1];

/// Saturates to the 16-bit range (the Recommendation's "limited" sums).
#[inline]
fn sat(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// Limits a reconstructed sub-band signal to 15 bits (block LIMIT).
#[inline]
fn limit15(x: i32) -> i32 {
    x.clamp(-16384, 16383)
}

/// The state one sub-band coder keeps: the adaptive predictor and the
/// quantiser scale factor. Encoder and decoder update it identically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Band {
    /// Predictor output `S` (signal estimate) for the next sample.
    s: i32,
    /// Zero-section predictor output `SZ`.
    sz: i32,
    /// Reconstructed signal `R` one and two samples back.
    r: [i32; 2],
    /// Partially reconstructed signal `P` one and two samples back.
    p: [i32; 2],
    /// Pole coefficients `A1`, `A2`.
    a: [i32; 2],
    /// Quantised difference `D` one to six samples back.
    d: [i32; 6],
    /// Zero coefficients `B1`..`B6`.
    b: [i32; 6],
    /// Log scale factor `NB`.
    nb: i32,
    /// Scale factor `DET`.
    det: i32,
}

impl Band {
    const fn new(det: i32) -> Self {
        Self {
            s: 0,
            sz: 0,
            r: [0; 2],
            p: [0; 2],
            a: [0; 2],
            d: [0; 6],
            b: [0; 6],
            nb: 0,
            det,
        }
    }

    /// Initial lower-band state (DETL = 32).
    pub(crate) const fn low() -> Self {
        Self::new(32)
    }

    /// Initial higher-band state (DETH = 8).
    pub(crate) const fn high() -> Self {
        Self::new(8)
    }

    /// SCALEL / SCALEH: the scale factor from the log scale factor.
    #[inline]
    fn scale(&mut self, shift_base: i32) {
        let wd1 = ((self.nb >> 6) & 31) as usize;
        let wd2 = shift_base - (self.nb >> 11);
        let wd3 = if wd2 < 0 {
            ILB[wd1] << -wd2
        } else {
            ILB[wd1] >> wd2
        };
        self.det = wd3 << 2;
    }

    /// LOGSCL + SCALEL for lower-band four-bit code `ril`.
    #[inline]
    fn adapt_scale_low(&mut self, ril: usize) {
        let wd = (self.nb * 127) >> 7;
        self.nb = (wd + WL[RL42[ril]]).clamp(0, 18432);
        self.scale(8);
    }

    /// LOGSCH + SCALEH for higher-band code `ih`.
    #[inline]
    fn adapt_scale_high(&mut self, ih: usize) {
        let wd = (self.nb * 127) >> 7;
        self.nb = (wd + WH[RH2[ih]]).clamp(0, 22528);
        self.scale(10);
    }

    /// The adaptive predictor (Rec. G.722 block 4): updates the pole and
    /// zero sections with the quantised difference `d` and computes the
    /// signal estimate for the next sample.
    #[inline]
    fn predict(&mut self, d: i32) {
        // RECONS and PARREC.
        let r0 = sat(self.s + d);
        let p0 = sat(self.sz + d);

        // UPPOL2: second pole coefficient.
        let sg0 = p0 < 0;
        let sg1 = self.p[0] < 0;
        let sg2 = self.p[1] < 0;
        let wd1 = sat(self.a[0] << 2);
        let wd2 = if sg0 == sg1 { -wd1 } else { wd1 }.min(32767);
        let wd3 = if sg0 == sg2 { 128 } else { -128 } + (wd2 >> 7) + ((self.a[1] * 32512) >> 15);
        let a2 = wd3.clamp(-12288, 12288);

        // UPPOL1: first pole coefficient, limited by the second.
        let wd1 = if sg0 == sg1 { 192 } else { -192 };
        let wd2 = (self.a[0] * 32640) >> 15;
        let lim = sat(15360 - a2);
        let a1 = sat(wd1 + wd2).clamp(-lim, lim);

        // UPZERO: zero coefficients (sign-sign algorithm with leakage).
        let step = if d == 0 { 0 } else { 128 };
        let sgd = d < 0;
        for (b, &di) in self.b.iter_mut().zip(&self.d) {
            let wd2 = if (di < 0) == sgd { step } else { -step };
            *b = sat(wd2 + ((*b * 32640) >> 15));
        }

        // DELAYA.
        self.d.copy_within(0..5, 1);
        self.d[0] = d;
        self.r = [r0, self.r[0]];
        self.p = [p0, self.p[0]];
        self.a = [a1, a2];

        // FILTEP: pole section.
        let wd1 = (self.a[0] * sat(self.r[0] + self.r[0])) >> 15;
        let wd2 = (self.a[1] * sat(self.r[1] + self.r[1])) >> 15;
        let sp = sat(wd1 + wd2);

        // FILTEZ: zero section.
        let mut sz = 0;
        for (&b, &di) in self.b.iter().zip(&self.d) {
            sz += (b * sat(di + di)) >> 15;
        }
        self.sz = sat(sz);

        // PREDIC.
        self.s = sat(sp + self.sz);
    }

    /// Lower-band encoder step: quantises `xl`, adapts, returns `IL`.
    #[inline]
    pub(crate) fn encode_low(&mut self, xl: i32) -> u8 {
        // SUBTRA.
        let el = sat(xl - self.s);
        // QUANTL: the magnitude is the one's complement for negative errors.
        let wd = if el >= 0 { el } else { -(el + 1) };
        // The interval `mil` (1..=30): one plus the number of decision
        // levels 1..=29 at or below the magnitude (the levels grow with
        // `mil`). Counting instead of searching has no data-dependent
        // branches and vectorises.
        let det = self.det;
        let mut mil = 1;
        for &q in &Q6[1..30] {
            mil += usize::from(wd >= (q * det) >> 12);
        }
        let il = if el < 0 { ILN[mil] } else { ILP[mil] };
        // INVQAL, LOGSCL, SCALEL, predictor.
        let ril = usize::from(il >> 2);
        let dlt = (det * QM4[ril]) >> 15;
        self.adapt_scale_low(ril);
        self.predict(dlt);
        il
    }

    /// Lower-band decoder step for six-bit code `il` (only the bits the mode
    /// keeps are used for the output); returns the 15-bit signal `RL`.
    #[inline]
    pub(crate) fn decode_low(&mut self, il: u8, mode: G722Mode) -> i32 {
        let il = usize::from(il & 0x3F);
        // INVQBL: the output uses 6, 5 or 4 bits.
        let wd2 = match mode {
            G722Mode::Mode1 => QM6[il],
            G722Mode::Mode2 => QM5[il >> 1],
            G722Mode::Mode3 => QM4[il >> 2],
        };
        let det = self.det;
        let dl = (det * wd2) >> 15;
        let rl = limit15(self.s + dl);
        // INVQAL: the predictor always adapts on the four-bit value.
        let ril = il >> 2;
        let dlt = (det * QM4[ril]) >> 15;
        self.adapt_scale_low(ril);
        self.predict(dlt);
        rl
    }

    /// Higher-band encoder step: quantises `xh`, adapts, returns `IH`.
    #[inline]
    pub(crate) fn encode_high(&mut self, xh: i32) -> u8 {
        let eh = sat(xh - self.s);
        let wd = if eh >= 0 { eh } else { -(eh + 1) };
        let det = self.det;
        let large = wd >= (564 * det) >> 12;
        let ih: u8 = match (eh < 0, large) {
            (true, false) => 1,
            (true, true) => 0,
            (false, false) => 3,
            (false, true) => 2,
        };
        let dh = (det * QM2[usize::from(ih)]) >> 15;
        self.adapt_scale_high(usize::from(ih));
        self.predict(dh);
        ih
    }

    /// Higher-band decoder step for two-bit code `ih`; returns `RH`.
    #[inline]
    pub(crate) fn decode_high(&mut self, ih: u8) -> i32 {
        let ih = usize::from(ih & 0x03);
        let det = self.det;
        let dh = (det * QM2[ih]) >> 15;
        let rh = limit15(self.s + dh);
        self.adapt_scale_high(ih);
        self.predict(dh);
        rh
    }
}

/// Lower-band ADPCM encoder (15-bit sub-band samples in, 6-bit `IL` out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowBandEncoder {
    band: Band,
}

impl LowBandEncoder {
    /// An encoder in the reset state.
    pub fn new() -> Self {
        Self { band: Band::low() }
    }

    /// Encodes one lower-band sample (clamped to 15 bits) into `IL` (0..=63).
    pub fn encode(&mut self, xl: i16) -> u8 {
        self.band.encode_low(limit15(i32::from(xl)))
    }

    /// Returns to the reset state.
    pub fn reset(&mut self) {
        self.band = Band::low();
    }
}

impl Default for LowBandEncoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Higher-band ADPCM encoder (15-bit sub-band samples in, 2-bit `IH` out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighBandEncoder {
    band: Band,
}

impl HighBandEncoder {
    /// An encoder in the reset state.
    pub fn new() -> Self {
        Self { band: Band::high() }
    }

    /// Encodes one higher-band sample (clamped to 15 bits) into `IH` (0..=3).
    pub fn encode(&mut self, xh: i16) -> u8 {
        self.band.encode_high(limit15(i32::from(xh)))
    }

    /// Returns to the reset state.
    pub fn reset(&mut self) {
        self.band = Band::high();
    }
}

impl Default for HighBandEncoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Lower-band ADPCM decoder (6-bit `IL` in, 15-bit signal out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowBandDecoder {
    band: Band,
    mode: G722Mode,
}

impl LowBandDecoder {
    /// A decoder in the reset state, reconstructing with the bits `mode` keeps.
    pub fn new(mode: G722Mode) -> Self {
        Self {
            band: Band::low(),
            mode,
        }
    }

    /// Decodes `IL` (the low six bits of `il` are used) into `RL`.
    pub fn decode(&mut self, il: u8) -> i16 {
        // `decode_low` limits its output to 15 bits.
        self.band.decode_low(il, self.mode) as i16
    }

    /// Returns to the reset state (the mode is kept).
    pub fn reset(&mut self) {
        self.band = Band::low();
    }
}

/// Higher-band ADPCM decoder (2-bit `IH` in, 15-bit signal out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighBandDecoder {
    band: Band,
}

impl HighBandDecoder {
    /// A decoder in the reset state.
    pub fn new() -> Self {
        Self { band: Band::high() }
    }

    /// Decodes `IH` (the low two bits of `ih` are used) into `RH`.
    pub fn decode(&mut self, ih: u8) -> i16 {
        // `decode_high` limits its output to 15 bits.
        self.band.decode_high(ih) as i16
    }

    /// Returns to the reset state.
    pub fn reset(&mut self) {
        self.band = Band::high();
    }
}

impl Default for HighBandDecoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiser_tables_are_consistent() {
        // Every six-bit code maps to a four-bit code whose output has the
        // same sign, and the positive/negative code sets are disjoint.
        for mil in 1..=30 {
            let (n, p) = (ILN[mil], ILP[mil]);
            assert!(
                QM6[usize::from(n)] < 0 && QM6[usize::from(p)] > 0,
                "mil {mil}"
            );
            assert!(QM4[usize::from(n >> 2)] <= 0 && QM4[usize::from(p >> 2)] >= 0);
            // Reconstruction levels lie between the decision levels (×8).
            let level = QM6[usize::from(p)] / 8;
            assert!(level >= Q6[mil - 1], "mil {mil}");
            if mil < 30 {
                assert!(level < Q6[mil], "mil {mil}");
            }
        }
        assert!(Q6[1..30].windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn silence_stays_silent_and_scale_factor_stays_minimal() {
        let mut enc = LowBandEncoder::new();
        let mut dec = LowBandDecoder::new(G722Mode::Mode1);
        for _ in 0..100 {
            let il = enc.encode(0);
            let rl = dec.decode(il);
            assert!(rl.abs() <= 1, "rl {rl}");
        }
        assert_eq!(enc.band, dec.band);
    }

    #[test]
    fn encoder_and_decoder_states_track_each_other() {
        // The ADPCM decoder state after decoding the encoder's codes equals
        // the encoder's state: the encoder embeds the decoder.
        let mut le = LowBandEncoder::new();
        let mut he = HighBandEncoder::new();
        let mut ld = LowBandDecoder::new(G722Mode::Mode3);
        let mut hd = HighBandDecoder::new();
        for i in 0..2000i32 {
            let x = ((f64::from(i) * 0.3).sin() * 12000.0) as i16;
            ld.decode(le.encode(x));
            hd.decode(he.encode(x / 3));
            assert_eq!(le.band, ld.band);
            assert_eq!(he.band, hd.band);
        }
    }
}
