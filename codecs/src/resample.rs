//! Anti-aliased sample-rate conversion between 8, 16 and 48 kHz.
//!
//! [`Resampler`] is a streaming rational polyphase FIR resampler (up by `L`,
//! low-pass, down by `M`). Its filter is a Kaiser-windowed sinc designed once
//! at construction:
//!
//! - cut-off at the lower of the two Nyquist frequencies, with the passband
//!   flat to 85 % of it (3.4 kHz of 4 kHz for telephony rates);
//! - stopband attenuation of about 80 dB (Kaiser β = 7.86), so a tone above
//!   the output's Nyquist frequency is removed, not folded back;
//! - a whole-sample group delay in both the input and the output domain
//!   ([`Resampler::delay`]), so chained conversions stay sample-aligned.
//!
//! Frames are processed with no allocation: the history buffer is sized at
//! construction for frames up to [`MAX_FRAME`] input samples (longer inputs
//! are accepted and grow it once).

use crate::Error;

/// The largest input frame (in samples) handled without growing a buffer:
/// 120 ms at 48 kHz.
pub const MAX_FRAME: usize = 5760;

/// Supported rates.
const RATES: [u32; 3] = [8000, 16000, 48000];

/// Kaiser β for about 80 dB of stopband attenuation.
const KAISER_BETA: f64 = 7.857;
/// Passband edge as a fraction of the cut-off (lower Nyquist) frequency.
const PASSBAND: f64 = 0.85;

/// A streaming resampler from one supported rate to another.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    up: usize,
    down: usize,
    /// Taps per polyphase branch.
    taps: usize,
    /// Coefficients laid out branch by branch: `coeffs[p * taps + k]`.
    coeffs: Vec<f32>,
    /// `taps - 1` samples of history followed by the current input.
    buf: Vec<f32>,
    /// Position of the next output, in up-sampled units, relative to the
    /// first sample after the history.
    pos: usize,
    delay_in: usize,
}

impl Resampler {
    /// Creates a resampler from `from` Hz to `to` Hz (8000, 16000 or 48000).
    pub fn new(from: u32, to: u32) -> Result<Self, Error> {
        for rate in [from, to] {
            if !RATES.contains(&rate) {
                return Err(Error::UnsupportedSampleRate(rate));
            }
        }
        let g = gcd(from, to);
        let (up, down) = ((to / g) as usize, (from / g) as usize);
        let up_rate = f64::from(from) * up as f64;
        let nyquist = f64::from(from.min(to)) / 2.0;
        // Transition band from PASSBAND * nyquist to nyquist, centred cut-off.
        let width = (1.0 - PASSBAND) * nyquist / up_rate;
        let cutoff = (1.0 + PASSBAND) / 2.0 * nyquist / up_rate;
        // Kaiser's estimate of the length for ~80 dB: (A - 8) / (2.285 * 2π Δf).
        let min_len = (72.0 / (2.285 * std::f64::consts::TAU * width)).ceil() as usize;
        // A group delay that is a whole number of input and output samples:
        // a multiple of up * down in up-sampled units.
        let unit = up * down;
        let delay = min_len.div_ceil(2).div_ceil(unit) * unit;
        let design_len = 2 * delay + 1;
        // Taps per branch, padded with zeros to whole SIMD-friendly chunks.
        let taps = design_len.div_ceil(up).next_multiple_of(LANES);
        let mut proto = vec![0.0f64; taps * up];
        let i0_beta = bessel_i0(KAISER_BETA);
        for (n, h) in proto.iter_mut().enumerate().take(design_len) {
            let t = n as f64 - delay as f64;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (std::f64::consts::TAU * cutoff * t).sin() / (std::f64::consts::PI * t)
            };
            let r = t / delay as f64;
            let window = bessel_i0(KAISER_BETA * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            *h = sinc * window * up as f64;
        }
        // Branch p holds proto[p + k * up] for input x[i - k], stored oldest
        // first so that it lines up with the input window.
        let mut coeffs = vec![0.0f32; taps * up];
        for p in 0..up {
            for k in 0..taps {
                coeffs[p * taps + (taps - 1 - k)] = proto[p + k * up] as f32;
            }
        }
        let mut buf = Vec::with_capacity(taps - 1 + MAX_FRAME);
        buf.resize(taps - 1, 0.0);
        Ok(Self {
            from,
            to,
            up,
            down,
            taps,
            coeffs,
            buf,
            pos: 0,
            delay_in: delay / up,
        })
    }

    /// The input rate in Hz.
    pub fn input_rate(&self) -> u32 {
        self.from
    }

    /// The output rate in Hz.
    pub fn output_rate(&self) -> u32 {
        self.to
    }

    /// The group delay in output samples (always a whole number).
    pub fn delay(&self) -> usize {
        self.delay_in * self.up / self.down
    }

    /// How many samples the next call to [`process`](Self::process) writes
    /// for `input_len` input samples.
    pub fn output_len(&self, input_len: usize) -> usize {
        (input_len * self.up)
            .saturating_sub(self.pos)
            .div_ceil(self.down)
    }

    /// Converts `input` and writes the result to `out`, returning the number
    /// of samples written (exactly `input.len() * to / from` when each frame
    /// is a whole number of milliseconds).
    pub fn process(&mut self, input: &[i16], out: &mut [i16]) -> Result<usize, Error> {
        let needed = self.output_len(input.len());
        if out.len() < needed {
            return Err(Error::OutputTooSmall {
                needed,
                available: out.len(),
            });
        }
        let history = self.taps - 1;
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        for slot in &mut out[..needed] {
            let newest = history + self.pos / self.up;
            let phase = self.pos % self.up;
            let branch = &self.coeffs[phase * self.taps..(phase + 1) * self.taps];
            let window = &self.buf[newest + 1 - self.taps..=newest];
            *slot = dot(branch, window).round().clamp(-32768.0, 32767.0) as i16;
            self.pos += self.down;
        }
        self.buf.drain(..input.len());
        self.pos -= input.len() * self.up;
        Ok(needed)
    }

    /// Clears the history, as if newly constructed.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.buf.resize(self.taps - 1, 0.0);
        self.pos = 0;
    }
}

/// Accumulator lanes of the dot product (a multiple of the SIMD width).
const LANES: usize = 8;

/// Dot product of two equal-length slices whose length is a multiple of
/// [`LANES`]; independent accumulators let the compiler vectorise it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The zeroth-order modified Bessel function of the first kind (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= half / f64::from(k);
        sum += term * term;
        if term * term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, freq: f64, amplitude: f64, len: usize) -> Vec<i16> {
        (0..len)
            .map(|n| {
                let t = n as f64 / f64::from(rate);
                (amplitude * (std::f64::consts::TAU * freq * t).sin()).round() as i16
            })
            .collect()
    }

    /// Runs `input` through `r` in 20 ms frames.
    fn run(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
        let frame = r.input_rate() as usize / 50;
        let mut out = Vec::new();
        let mut buf = vec![0i16; MAX_FRAME];
        for chunk in input.chunks(frame) {
            let n = r.process(chunk, &mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    fn snr_db(reference: &[i16], actual: &[i16]) -> f64 {
        let (mut sig, mut err) = (0.0, 0.0);
        for (&r, &a) in reference.iter().zip(actual) {
            sig += f64::from(r).powi(2);
            err += (f64::from(r) - f64::from(a)).powi(2);
        }
        10.0 * (sig / err.max(1e-9)).log10()
    }

    #[test]
    fn rejects_unsupported_rates() {
        assert_eq!(
            Resampler::new(44100, 8000).unwrap_err(),
            Error::UnsupportedSampleRate(44100)
        );
        assert_eq!(
            Resampler::new(8000, 22050).unwrap_err(),
            Error::UnsupportedSampleRate(22050)
        );
    }

    #[test]
    fn frame_lengths_scale_exactly() {
        for (from, to) in [(8000, 48000), (48000, 8000), (16000, 48000), (48000, 16000)] {
            let mut r = Resampler::new(from, to).unwrap();
            let input = vec![0i16; from as usize / 50];
            let mut out = vec![0i16; MAX_FRAME];
            for _ in 0..3 {
                assert_eq!(r.process(&input, &mut out).unwrap(), to as usize / 50);
            }
        }
    }

    #[test]
    fn output_too_small_is_an_error_and_changes_nothing() {
        let mut r = Resampler::new(8000, 16000).unwrap();
        let mut out = [0i16; 10];
        let err = r.process(&[1; 160], &mut out).unwrap_err();
        assert_eq!(
            err,
            Error::OutputTooSmall {
                needed: 320,
                available: 10
            }
        );
        let mut big = [0i16; 320];
        assert_eq!(r.process(&[1; 160], &mut big).unwrap(), 320);
    }

    /// UCM-COD-2: prompts are transcoded to the call's rate without damage —
    /// a 1 kHz tone through 8k → 48k → 8k keeps at least 50 dB SNR.
    #[test]
    fn ucm_cod_2_round_trip_8k_48k_8k_keeps_50_db() {
        // 1004 Hz (not 1 kHz): a tone commensurate with 8 kHz has five distinct
        // sample values and would round back exactly whatever the filter.
        let input = tone(8000, 1004.0, 16000.0, 8000);
        let mut up = Resampler::new(8000, 48000).unwrap();
        let mut down = Resampler::new(48000, 8000).unwrap();
        let wide = run(&mut up, &input);
        let back = run(&mut down, &wide);
        let delay = up.delay() / 6 + down.delay();
        let skip = 400;
        let snr = snr_db(&input[skip..input.len() - delay], &back[skip + delay..]);
        eprintln!("8k->48k->8k: SNR {snr:.1} dB");
        assert!(snr >= 50.0, "8k->48k->8k SNR {snr:.1} dB");
    }

    #[test]
    fn round_trip_16k_48k_16k_keeps_50_db() {
        let input = tone(16000, 3011.0, 12000.0, 16000);
        let mut up = Resampler::new(16000, 48000).unwrap();
        let mut down = Resampler::new(48000, 16000).unwrap();
        let back = run(&mut down, &run(&mut up, &input));
        let delay = up.delay() / 3 + down.delay();
        let skip = 800;
        let snr = snr_db(&input[skip..input.len() - delay], &back[skip + delay..]);
        eprintln!("16k->48k->16k: SNR {snr:.1} dB");
        assert!(snr >= 50.0, "16k->48k->16k SNR {snr:.1} dB");
    }

    #[test]
    fn downsampling_removes_tones_above_the_new_nyquist() {
        // A 6 kHz tone at 16 kHz has no place at 8 kHz: it must not fold to 2 kHz.
        for freq in [6000.0, 6113.0, 4500.0] {
            let input = tone(16000, freq, 16000.0, 16000);
            let out = run(&mut Resampler::new(16000, 8000).unwrap(), &input);
            let attenuation = 20.0 * (rms(&input) / rms(&out[400..]).max(0.5)).log10();
            eprintln!("{freq} Hz at 16k->8k: attenuated {attenuation:.1} dB");
            assert!(
                attenuation >= 50.0,
                "{freq} Hz attenuated by {attenuation:.1} dB"
            );
        }
        // And 20 kHz at 48 kHz going to 16 kHz (folds to 4 kHz if not filtered).
        let input = tone(48000, 20011.0, 16000.0, 48000);
        let out = run(&mut Resampler::new(48000, 16000).unwrap(), &input);
        let attenuation = 20.0 * (rms(&input) / rms(&out[800..]).max(0.5)).log10();
        eprintln!("20011 Hz at 48k->16k: attenuated {attenuation:.1} dB");
        assert!(
            attenuation >= 50.0,
            "20 kHz attenuated by {attenuation:.1} dB"
        );
    }

    #[test]
    fn passband_is_flat_to_3_4_khz() {
        for freq in [300.0, 1000.0, 3400.0] {
            let input = tone(8000, freq, 10000.0, 8000);
            let out = run(&mut Resampler::new(8000, 16000).unwrap(), &input);
            let gain = 20.0 * (rms(&out[800..]) / rms(&input[400..])).log10();
            assert!(gain.abs() < 0.1, "{freq} Hz gain {gain:.3} dB");
        }
    }

    #[test]
    fn upsampling_creates_no_images() {
        // A 3 kHz tone at 8 kHz must not produce its 5 kHz image at 16 kHz.
        let input = tone(8000, 3001.0, 16000.0, 8000);
        let out = run(&mut Resampler::new(8000, 16000).unwrap(), &input);
        // Goertzel power at 5 kHz vs 3 kHz in the output.
        let power = |freq: f64| {
            let w = std::f64::consts::TAU * freq / 16000.0;
            let (mut s1, mut s2) = (0.0, 0.0);
            for &x in &out[800..] {
                let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
                s2 = s1;
                s1 = s;
            }
            s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2
        };
        let rejection = 10.0 * (power(3001.0) / power(4999.0).max(1e-9)).log10();
        eprintln!("8k->16k image at 5 kHz: rejected {rejection:.1} dB");
        assert!(rejection >= 60.0, "image rejected by {rejection:.1} dB");
    }

    #[test]
    fn same_rate_is_identity_after_delay() {
        let input = tone(16000, 440.0, 8000.0, 3200);
        let mut r = Resampler::new(16000, 16000).unwrap();
        let out = run(&mut r, &input);
        let d = r.delay();
        let snr = snr_db(&input[..input.len() - d], &out[d..]);
        assert!(snr > 60.0, "identity SNR {snr:.1}");
    }
}
