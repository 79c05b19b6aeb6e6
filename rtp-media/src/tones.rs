//! Call-progress and DTMF tone generation (ITU-T E.180 / Q.23 defaults,
//! configurable) and in-band DTMF detection on decoded PCM (Goertzel, with
//! ITU-T Q.24-style level, twist and timing checks).

use crate::dtmf::DtmfDigit;
use std::collections::VecDeque;
use std::f64::consts::PI;
use std::time::Duration;

/// Row (low-group) frequencies, Hz (ITU-T Q.23).
pub const DTMF_LOW: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// Column (high-group) frequencies, Hz (ITU-T Q.23).
pub const DTMF_HIGH: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// Keypad layout by (row, column).
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Level of a full-scale sine in G.711 μ-law, dBm0 (G.711 Table 2; it is not π).
#[allow(clippy::approx_constant)]
const FULL_SCALE_DBM0: f64 = 3.14;

/// Peak amplitude of a sine at `dbm0` in 16-bit linear PCM.
fn amplitude(dbm0: f64) -> f64 {
    32767.0 * 10f64.powf((dbm0 - FULL_SCALE_DBM0) / 20.0)
}

/// A tone: frequency components and an on/off cadence.
#[derive(Clone, Debug, PartialEq)]
pub struct ToneSpec {
    /// (frequency Hz, level dBm0) of each component.
    pub components: Vec<(f64, f64)>,
    /// (on, off) pairs repeated; empty = continuous.
    pub cadence: Vec<(Duration, Duration)>,
}

impl ToneSpec {
    fn with(freq: f64, level: f64, cadence: &[(u64, u64)]) -> Self {
        Self {
            components: vec![(freq, level)],
            cadence: cadence
                .iter()
                .map(|&(on, off)| (Duration::from_millis(on), Duration::from_millis(off)))
                .collect(),
        }
    }

    /// Dial tone: 425 Hz continuous, −10 dBm0 (E.180 recommended frequency).
    pub fn dial() -> Self {
        Self::with(425.0, -10.0, &[])
    }

    /// Busy tone: 425 Hz, 0.5 s on / 0.5 s off (E.180).
    pub fn busy() -> Self {
        Self::with(425.0, -10.0, &[(500, 500)])
    }

    /// Ringback tone: 425 Hz, 1 s on / 4 s off (E.180).
    pub fn ringback() -> Self {
        Self::with(425.0, -10.0, &[(1000, 4000)])
    }

    /// Call-waiting tone: 425 Hz, 0.2 on / 0.2 off / 0.2 on, then 4.4 s off (E.180 range 3–10 s).
    pub fn call_waiting() -> Self {
        Self::with(425.0, -10.0, &[(200, 200), (200, 4400)])
    }

    /// Intrusion warning tone: 425 Hz, 0.2 s every 2 s (our default; the seed gives none).
    pub fn intrusion_warning() -> Self {
        Self::with(425.0, -15.0, &[(200, 1800)])
    }

    /// A DTMF digit: its row and column frequencies at −8 / −6 dBm0 (Q.23
    /// nominal, high group 2 dB above low), continuous (the caller times it).
    pub fn dtmf(digit: DtmfDigit) -> Self {
        let c = digit.as_char();
        let (mut r, mut k) = (0, 0);
        for (ri, row) in KEYPAD.iter().enumerate() {
            if let Some(ci) = row.iter().position(|&x| x == c) {
                (r, k) = (ri, ci);
            }
        }
        Self {
            components: vec![(DTMF_LOW[r], -8.0), (DTMF_HIGH[k], -6.0)],
            cadence: Vec::new(),
        }
    }
}

/// Renders a [`ToneSpec`] frame by frame into caller buffers.
#[derive(Clone, Debug)]
pub struct ToneGenerator {
    spec: ToneSpec,
    rate: f64,
    sample: u64,
    cycle: u64,
}

impl ToneGenerator {
    /// A generator at `sample_rate` Hz.
    pub fn new(spec: ToneSpec, sample_rate: u32) -> Self {
        let rate = f64::from(sample_rate.max(1));
        let cycle = spec
            .cadence
            .iter()
            .map(|(on, off)| ((on.as_secs_f64() + off.as_secs_f64()) * rate).round() as u64)
            .sum();
        Self {
            spec,
            rate,
            sample: 0,
            cycle,
        }
    }

    fn on(&self, n: u64) -> bool {
        if self.cycle == 0 {
            return true;
        }
        let mut t = n % self.cycle;
        for (on, off) in &self.spec.cadence {
            let on_n = (on.as_secs_f64() * self.rate).round() as u64;
            let off_n = (off.as_secs_f64() * self.rate).round() as u64;
            if t < on_n {
                return true;
            }
            if t < on_n + off_n {
                return false;
            }
            t -= on_n + off_n;
        }
        false
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        for o in out.iter_mut() {
            let n = self.sample;
            self.sample += 1;
            if !self.on(n) {
                *o = 0;
                continue;
            }
            let t = n as f64 / self.rate;
            let v: f64 = self
                .spec
                .components
                .iter()
                .map(|&(f, l)| amplitude(l) * (2.0 * PI * f * t).sin())
                .sum();
            *o = v.round().clamp(-32768.0, 32767.0) as i16;
        }
    }
}

/// Detector thresholds (defaults follow ITU-T Q.24 practice).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Minimum level of each frequency, dBm0.
    pub min_level_dbm0: f64,
    /// Largest allowed high-group excess over the low group (normal twist), dB.
    pub max_normal_twist_db: f64,
    /// Largest allowed low-group excess over the high group (reverse twist), dB.
    pub max_reverse_twist_db: f64,
    /// Fraction of the window energy the two tones must hold.
    pub min_tone_ratio: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_level_dbm0: -30.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 8.0,
            min_tone_ratio: 0.5,
        }
    }
}

/// A detected in-band digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectedDigit {
    /// The digit.
    pub digit: DtmfDigit,
    /// Approximate duration.
    pub duration: Duration,
}

const WINDOW: usize = 205;
const HOP: usize = 102;
/// Consecutive windows needed: with ≥ 50 % of a window's energy required, three
/// windows span at least 307 samples, so a 40 ms (320-sample) tone is always
/// accepted and a tone shorter than 204 samples (25.5 ms) never is.
const CONFIRM: u32 = 3;

/// Goertzel DTMF detector over 8 kHz PCM: 205-sample windows advanced by 102
/// samples; a digit is confirmed after three consecutive windows (so Q.24's
/// 40 ms tones are accepted and 23 ms tones are not) and reported when the
/// first window without it ends the tone.
#[derive(Clone, Debug)]
pub struct DtmfDetector {
    config: DetectorConfig,
    coef: [f64; 8],
    buf: Vec<f64>,
    candidate: Option<(char, u32)>,
    active: Option<(char, u32)>,
    events: VecDeque<DetectedDigit>,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new(DetectorConfig::default())
    }
}

impl DtmfDetector {
    /// A detector for 8 kHz PCM.
    pub fn new(config: DetectorConfig) -> Self {
        let mut coef = [0.0; 8];
        for (i, f) in DTMF_LOW.iter().chain(DTMF_HIGH.iter()).enumerate() {
            coef[i] = 2.0 * (2.0 * PI * f / 8000.0).cos();
        }
        Self {
            config,
            coef,
            buf: Vec::with_capacity(WINDOW + 320),
            candidate: None,
            active: None,
            events: VecDeque::new(),
        }
    }

    /// Feeds decoded 8 kHz PCM.
    pub fn process(&mut self, pcm: &[i16]) {
        for &s in pcm {
            self.buf.push(f64::from(s));
            if self.buf.len() == WINDOW {
                let d = self.analyse();
                self.step(d);
                self.buf.drain(..HOP);
            }
        }
    }

    /// The next detected digit (reported when it ends).
    pub fn poll_event(&mut self) -> Option<DetectedDigit> {
        self.events.pop_front()
    }

    /// The digit sounding now: confirmed (three windows) and not yet ended.
    pub fn active(&self) -> Option<DtmfDigit> {
        self.active.and_then(|(c, _)| DtmfDigit::from_char(c))
    }

    /// How long a digit has sounded when it is confirmed: the windows it takes, about 38 ms.
    pub const CONFIRMATION: Duration =
        Duration::from_micros(((CONFIRM as u64 - 1) * HOP as u64 + WINDOW as u64) * 125);

    fn analyse(&self) -> Option<char> {
        let n = WINDOW as f64;
        let energy: f64 = self.buf.iter().map(|x| x * x).sum();
        if energy <= 0.0 {
            return None;
        }
        let mut power = [0.0; 8];
        for (p, &c) in power.iter_mut().zip(&self.coef) {
            let (mut s1, mut s2) = (0.0, 0.0);
            for &x in &self.buf {
                let s0 = x + c * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            // Energy of the matching sinusoid in the window: 2|X|²/N.
            *p = 2.0 * (s1 * s1 + s2 * s2 - c * s1 * s2) / n;
        }
        let best = |r: std::ops::Range<usize>| {
            r.max_by(|&a, &b| power[a].total_cmp(&power[b]))
                .unwrap_or(0)
        };
        let (lo, hi) = (best(0..4), best(4..8));
        let (pl, ph) = (power[lo], power[hi]);
        // Level of each tone: mean power per sample vs a 0 dBm0 sine's.
        let ref0 = amplitude(0.0).powi(2) / 2.0;
        let level = |p: f64| 10.0 * (p / n / ref0).log10();
        if level(pl) < self.config.min_level_dbm0 || level(ph) < self.config.min_level_dbm0 {
            return None;
        }
        let twist = 10.0 * (ph / pl).log10();
        if twist > self.config.max_normal_twist_db || -twist > self.config.max_reverse_twist_db {
            return None;
        }
        if (pl + ph) / energy < self.config.min_tone_ratio {
            return None;
        }
        // Each tone must dominate its group by 6 dB.
        let second = |r: std::ops::Range<usize>, b: usize| {
            r.filter(|&i| i != b).map(|i| power[i]).fold(0.0, f64::max)
        };
        if second(0..4, lo) * 4.0 > pl || second(4..8, hi) * 4.0 > ph {
            return None;
        }
        Some(KEYPAD[lo][hi - 4])
    }

    fn step(&mut self, d: Option<char>) {
        match (self.active, d) {
            (Some((a, n)), Some(x)) if a == x => self.active = Some((a, n + 1)),
            (Some((a, n)), _) => {
                self.active = None;
                if let Some(digit) = DtmfDigit::from_char(a) {
                    // Windows seen × hop, plus the rest of one window.
                    let samples = u64::from(n) * HOP as u64 + (WINDOW - HOP) as u64;
                    self.events.push_back(DetectedDigit {
                        digit,
                        duration: Duration::from_micros(samples * 125),
                    });
                }
                self.candidate = d.map(|x| (x, 1));
            }
            (None, Some(x)) => match self.candidate {
                Some((c, n)) if c == x && n + 1 >= CONFIRM => {
                    self.active = Some((x, n + 1));
                    self.candidate = None;
                }
                Some((c, n)) if c == x => self.candidate = Some((c, n + 1)),
                _ => self.candidate = Some((x, 1)),
            },
            (None, None) => self.candidate = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(spec: ToneSpec, ms: usize) -> Vec<i16> {
        let mut g = ToneGenerator::new(spec, 8000);
        let mut v = vec![0; ms * 8];
        g.fill(&mut v);
        v
    }

    fn detect(pcm: &[i16]) -> String {
        let mut d = DtmfDetector::default();
        d.process(pcm);
        d.process(&[0; 800]);
        std::iter::from_fn(|| d.poll_event())
            .map(|e| e.digit.as_char())
            .collect()
    }

    #[test]
    fn all_sixteen_digits_detected() {
        for c in "0123456789*#ABCD".chars() {
            let d = DtmfDigit::from_char(c).expect("digit");
            assert_eq!(detect(&render(ToneSpec::dtmf(d), 100)), c.to_string());
        }
    }

    #[test]
    fn q24_timing_40ms_accepted_20ms_rejected_40ms_pause_separates() {
        let five = DtmfDigit::from_char('5').expect("digit");
        let mut pcm = vec![0i16; 100];
        pcm.extend(render(ToneSpec::dtmf(five), 40));
        assert_eq!(detect(&pcm), "5");
        let mut short = vec![0i16; 100];
        short.extend(render(ToneSpec::dtmf(five), 20));
        assert_eq!(detect(&short), "");
        let mut two = render(ToneSpec::dtmf(five), 45);
        two.extend(vec![0i16; 40 * 8]);
        two.extend(render(ToneSpec::dtmf(five), 45));
        assert_eq!(detect(&two), "55");
    }

    #[test]
    fn twist_and_level_limits() {
        let spec = |lo: f64, hi: f64| ToneSpec {
            components: vec![(DTMF_LOW[1], lo), (DTMF_HIGH[1], hi)],
            cadence: Vec::new(),
        };
        assert_eq!(detect(&render(spec(-10.0, -6.0), 100)), "5"); // +4 dB normal twist
        assert_eq!(detect(&render(spec(-6.0, -10.0), 100)), "5"); // 4 dB reverse twist
        assert_eq!(detect(&render(spec(-18.0, -6.0), 100)), ""); // 12 dB
        assert_eq!(detect(&render(spec(-6.0, -18.0), 100)), "");
        assert_eq!(detect(&render(spec(-40.0, -40.0), 100)), ""); // below −30 dBm0
        // A single frequency (dial tone) is not a digit.
        assert_eq!(detect(&render(ToneSpec::dial(), 300)), "");
    }

    #[test]
    fn cadences_follow_e180() {
        let busy = render(ToneSpec::busy(), 2000);
        let on = |ms: usize| busy[ms * 8..ms * 8 + 80].iter().any(|&s| s != 0);
        assert!(on(100) && !on(600) && on(1100) && !on(1600));
        let ring = render(ToneSpec::ringback(), 6000);
        let on = |ms: usize| ring[ms * 8..ms * 8 + 80].iter().any(|&s| s != 0);
        assert!(on(500) && !on(1500) && !on(4900) && on(5100));
        let cw = render(ToneSpec::call_waiting(), 5200);
        let on = |ms: usize| cw[ms * 8..ms * 8 + 80].iter().any(|&s| s != 0);
        assert!(on(50) && !on(250) && on(450) && !on(700) && on(5050));
    }

    #[test]
    fn level_is_calibrated_to_dbm0() {
        // −10 dBm0 → RMS = 0 dBm0 RMS × 10^(−0.5).
        let v = render(ToneSpec::dial(), 1000);
        let rms = (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        let expected = amplitude(-10.0) / 2f64.sqrt();
        assert!((rms / expected - 1.0).abs() < 0.01, "{rms} vs {expected}");
    }
}
