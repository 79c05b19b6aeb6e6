//! A listening-quality estimate for CDRs: the ITU-T G.107 E-model reduced to what a relay
//! measures (packet loss and jitter), with the G.113 Appendix I impairment factors.
//!
//! `R = 93.2 − Id − Ie,eff`, `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl + Bpl)`; the delay
//! impairment uses the jitter-buffer delay estimate `2 · jitter` plus 40 ms of packetisation
//! and network (G.107 §7.5 simplified: `Id = 0.024 d + 0.11 (d − 177.3) H(d − 177.3)`).

use codecs::CodecKind;

/// Equipment impairment `Ie` and packet-loss robustness `Bpl` (G.113 Appendix I).
const fn impairment(codec: CodecKind) -> (f64, f64) {
    match codec {
        CodecKind::Pcmu | CodecKind::Pcma => (0.0, 25.1),
        CodecKind::G722 => (0.0, 20.0),
        CodecKind::G729 => (11.0, 19.0),
        // Opus at narrowband-equivalent scoring: robust with its concealment.
        _ => (0.0, 30.0),
    }
}

/// R-factor for `codec` with `loss_pct` percent loss and `jitter_ms` mean jitter.
pub fn r_factor(codec: CodecKind, loss_pct: f64, jitter_ms: f64) -> f64 {
    let (ie, bpl) = impairment(codec);
    let ppl = loss_pct.clamp(0.0, 100.0);
    let ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
    let d = 40.0 + 2.0 * jitter_ms.max(0.0);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    (93.2 - id - ie_eff).clamp(0.0, 100.0)
}

/// MOS from an R-factor (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

/// MOS estimate for `codec`, `loss_pct` and `jitter_ms`, rounded to 2 decimals.
pub fn mos(codec: CodecKind, loss_pct: f64, jitter_ms: f64) -> f64 {
    (mos_from_r(r_factor(codec, loss_pct, jitter_ms)) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g107_reference_points() {
        // G.107: R = 93.2 gives MOS ≈ 4.41; the default G.711 connection scores about 4.4.
        assert!((mos_from_r(93.2) - 4.41).abs() < 0.01);
        assert!((mos(CodecKind::Pcmu, 0.0, 0.0) - 4.39).abs() < 0.02);
        // G.729 scores lower than G.711; loss and jitter lower the score monotonically.
        assert!(mos(CodecKind::G729, 0.0, 0.0) < mos(CodecKind::Pcmu, 0.0, 0.0));
        assert!(mos(CodecKind::Pcmu, 5.0, 0.0) < mos(CodecKind::Pcmu, 1.0, 0.0));
        assert!(mos(CodecKind::Pcmu, 0.0, 100.0) < mos(CodecKind::Pcmu, 0.0, 10.0));
        // Total loss: R ≈ 16, MOS ≈ 1.15 (the E-model bottoms out above 1).
        assert!((mos(CodecKind::Pcmu, 100.0, 0.0) - 1.15).abs() < 0.02);
    }
}
