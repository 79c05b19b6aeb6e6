//! Test support shared by the codec quality and differential tests:
//! a seeded speech-like signal generator, tones, and SNR measurement.
//!
//! Each integration test uses a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::f64::consts::PI;

/// xorshift64* — small, seeded, reproducible on every platform.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed (zero is mapped to a constant).
    pub(crate) fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Roughly Gaussian (sum of four uniforms), unit variance.
    pub(crate) fn gauss(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum();
        (s - 2.0) * 3f64.sqrt()
    }
}

/// A two-pole resonator (one formant), unity gain at DC.
#[derive(Debug, Clone, Default)]
struct Resonator {
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn run(&mut self, x: f64, freq: f64, bw: f64, rate: f64) -> f64 {
        let r = (-PI * bw / rate).exp();
        let c = 2.0 * r * (2.0 * PI * freq / rate).cos();
        let a0 = 1.0 - c + r * r;
        let y = a0 * x + c * self.y1 - r * r * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Vowel formant targets (F1, F2, F3) in Hz, after Peterson & Barney.
const VOWELS: [[f64; 3]; 5] = [
    [730.0, 1090.0, 2440.0], // a
    [270.0, 2290.0, 3010.0], // i
    [300.0, 870.0, 2240.0],  // u
    [530.0, 1840.0, 2480.0], // e
    [570.0, 840.0, 2410.0],  // o
];
const BANDWIDTHS: [f64; 4] = [70.0, 100.0, 140.0, 200.0];
const F4: f64 = 3500.0;

/// Raised-cosine fade in and out over `ramp` samples of a `len`-sample span.
fn envelope(i: usize, len: usize, ramp: usize) -> f64 {
    let ramp = ramp.min(len / 2).max(1);
    let edge = i.min(len - 1 - i);
    if edge >= ramp {
        1.0
    } else {
        0.5 - 0.5 * (PI * edge as f64 / ramp as f64).cos()
    }
}

/// A seeded speech-like signal at `rate` Hz: voiced syllables (a
/// Rosenberg glottal pulse train with a moving pitch contour and jitter,
/// through four formant resonators gliding between vowels), unvoiced
/// fricatives (resonant noise), and pauses holding a faint noise floor
/// (−80 to −90 dBFS RMS, a few LSBs). Peaks are normalised to −6 dBFS. It
/// starts with speech; by duration about 60 % is voiced, 10 % fricative and
/// 30 % pause.
pub(crate) fn speech_like(rate: u32, seconds: f64, seed: u64) -> Vec<i16> {
    let fs = f64::from(rate);
    let total = (seconds * fs) as usize;
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(total);
    let mut formants: [Resonator; 4] = Default::default();
    let mut fricative = Resonator::default();
    let mut phase = 0.0f64; // glottal cycle position in [0, 1)
    let mut jitter = 1.0f64;
    let mut segment = 0usize;
    while out.len() < total {
        // Segment type: voiced, fricative or pause; start with speech.
        let pick = if segment == 0 { 0.0 } else { rng.unit() };
        segment += 1;
        if pick < 0.6 {
            // Voiced syllable.
            let len = (rng.range(0.15, 0.35) * fs) as usize;
            let f0_start = rng.range(95.0, 210.0);
            let f0_end = f0_start * rng.range(0.75, 1.2);
            let from = VOWELS[(rng.next_u64() % 5) as usize];
            let to = VOWELS[(rng.next_u64() % 5) as usize];
            let loudness = rng.range(0.4, 1.0);
            let breath = rng.range(0.01, 0.04);
            let mut prev_glottal = 0.0;
            for i in 0..len {
                let x = i as f64 / len as f64;
                let vibrato = 1.0 + 0.02 * (2.0 * PI * 5.0 * i as f64 / fs).sin();
                let f0 = (f0_start + (f0_end - f0_start) * x) * vibrato * jitter;
                phase += f0 / fs;
                if phase >= 1.0 {
                    phase -= 1.0;
                    jitter = 1.0 + 0.01 * rng.gauss();
                }
                // Rosenberg pulse: 40 % opening, 16 % closing, then closed.
                let glottal = if phase < 0.4 {
                    0.5 - 0.5 * (PI * phase / 0.4).cos()
                } else if phase < 0.56 {
                    (PI * (phase - 0.4) / 0.32).cos()
                } else {
                    0.0
                };
                // Lip radiation: first difference.
                let source = (glottal - prev_glottal) * 8.0 + breath * rng.gauss();
                prev_glottal = glottal;
                let mut v = source;
                for (k, res) in formants.iter_mut().enumerate() {
                    let f = if k < 3 {
                        from[k] + (to[k] - from[k]) * x
                    } else {
                        F4
                    };
                    // Keep every resonance below 0.45 fs.
                    if f < 0.45 * fs {
                        v = res.run(v, f, BANDWIDTHS[k], fs);
                    }
                }
                let env = envelope(i, len, (0.025 * fs) as usize);
                out.push(v * env * loudness);
            }
        } else if pick < 0.8 {
            // Unvoiced fricative: noise through a high resonance.
            let len = (rng.range(0.06, 0.15) * fs) as usize;
            let centre = rng.range(2500.0, 6000.0).min(0.4 * fs);
            let loudness = rng.range(0.05, 0.2);
            for i in 0..len {
                let v = fricative.run(rng.gauss(), centre, 0.3 * centre, fs);
                let env = envelope(i, len, (0.015 * fs) as usize);
                out.push(v * env * loudness * 4.0);
            }
        } else {
            // Pause with a faint noise floor.
            let len = (rng.range(0.15, 0.6) * fs) as usize;
            for _ in 0..len {
                out.push(0.0005 * rng.gauss());
            }
        }
    }
    out.truncate(total);
    let peak = out.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-9);
    let scale = 16_384.0 / peak;
    out.iter()
        .map(|v| (v * scale).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// A sum of sines at `freqs` Hz, each of amplitude `amp`, `len` samples.
pub(crate) fn tones(rate: u32, freqs: &[f64], amp: f64, len: usize) -> Vec<i16> {
    let fs = f64::from(rate);
    (0..len)
        .map(|i| {
            let t = i as f64 / fs;
            let v: f64 = freqs.iter().map(|f| (2.0 * PI * f * t).sin()).sum();
            (amp * v).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// The lag (0..=max_lag) at which `decoded` best matches `reference`
/// (maximum normalised cross-correlation over the overlap).
pub(crate) fn best_delay(reference: &[i16], decoded: &[i16], max_lag: usize) -> usize {
    let mut best = (0, f64::MIN);
    for lag in 0..=max_lag.min(decoded.len().saturating_sub(1)) {
        let n = reference.len().min(decoded.len() - lag);
        let (mut xy, mut yy) = (0.0f64, 0.0f64);
        for i in 0..n {
            let x = f64::from(reference[i]);
            let y = f64::from(decoded[i + lag]);
            xy += x * y;
            yy += y * y;
        }
        let score = xy / yy.sqrt().max(1.0);
        if score > best.1 {
            best = (lag, score);
        }
    }
    best.0
}

/// SNR in dB of `decoded` against `reference` (equal lengths assumed; the
/// shorter is used).
pub(crate) fn snr_db(reference: &[i16], decoded: &[i16]) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (&x, &y) in reference.iter().zip(decoded) {
        let x = f64::from(x);
        s += x * x;
        e += (x - f64::from(y)).powi(2);
    }
    10.0 * (s.max(1e-9) / e.max(1e-9)).log10()
}

/// Segmental SNR in dB: the mean over `frame`-sample frames whose reference
/// power is within 40 dB of the loudest frame, each frame's SNR clamped to
/// [-10, 35] dB (the usual bounds, so silent or perfect frames do not
/// dominate).
pub(crate) fn segmental_snr_db(reference: &[i16], decoded: &[i16], frame: usize) -> f64 {
    let n = reference.len().min(decoded.len());
    let frames: Vec<(f64, f64)> = (0..n / frame)
        .map(|k| {
            let r = &reference[k * frame..(k + 1) * frame];
            let d = &decoded[k * frame..(k + 1) * frame];
            let s: f64 = r.iter().map(|&x| f64::from(x).powi(2)).sum();
            let e: f64 = r
                .iter()
                .zip(d)
                .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
                .sum();
            (s, e)
        })
        .collect();
    let loudest = frames.iter().fold(0.0f64, |m, f| m.max(f.0));
    let active: Vec<f64> = frames
        .iter()
        .filter(|f| f.0 > loudest * 1e-4 && f.0 > 0.0)
        .map(|&(s, e)| (10.0 * (s / e.max(1e-9)).log10()).clamp(-10.0, 35.0))
        .collect();
    active.iter().sum::<f64>() / active.len().max(1) as f64
}

/// Little-endian bytes of 16-bit samples.
pub(crate) fn to_le_bytes(pcm: &[i16]) -> Vec<u8> {
    pcm.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// 16-bit samples from little-endian bytes (a trailing odd byte is dropped).
pub(crate) fn from_le_bytes(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|w| i16::from_le_bytes([w[0], w[1]]))
        .collect()
}
