//! The transcoder, checked against the ITU-T STL vectors where a pipeline has
//! an oracle, and by signal quality across every pair of codecs.
//! MV-44: transcoding is needed wherever media apps meet other codecs.

use pbxkit_codecs::resample::Resampler;
use pbxkit_codecs::{CodecKind, Error, Transcoder, g711, transcoder};
use testkit::{le_words, read, shared_testdata};

fn low_bytes(words: &[u8]) -> Vec<u8> {
    words.chunks_exact(2).map(|w| w[0]).collect()
}

/// MV-44: PCMA -> PCMU equals µ-law coding of the ITU's own A-law expansion.
#[test]
fn mv_44_pcma_to_pcmu_follows_the_itu_expansion() {
    let Some(dir) = shared_testdata("transcoder pcma->pcmu", "codecs/g711") else {
        return;
    };
    let alaw = low_bytes(&read(&dir.join("sweep-r.a")));
    let expanded = le_words(&read(&dir.join("sweep-r.rea")));
    let mut t = Transcoder::new(CodecKind::Pcma, CodecKind::Pcmu).unwrap();
    let mut out = [0u8; 160];
    let mut same = 0;
    for (frame, reference) in alaw.chunks(160).zip(expanded.chunks(160)) {
        let n = t.transcode(frame, &mut out).unwrap();
        assert_eq!(n, frame.len());
        same += out[..n]
            .iter()
            .zip(reference)
            .filter(|&(&o, &r)| o == g711::ulaw_encode(r))
            .count();
    }
    eprintln!("pcma->pcmu: {same}/{} octets as expected", alaw.len());
    assert_eq!(same, alaw.len());
}

/// MV-44: G.722 -> PCMU equals the ITU decoder output, resampled to 8 kHz and
/// µ-law coded: the transcoder adds nothing but the documented pipeline.
#[test]
fn mv_44_g722_to_pcmu_follows_the_itu_decoder_output() {
    let Some(dir) = shared_testdata("transcoder g722->pcmu", "codecs/g722") else {
        return;
    };
    let codewords = low_bytes(&read(&dir.join("codspw.cod")));
    let decoded = le_words(&read(&dir.join("outsp1.bin")));
    let mut t = Transcoder::new(CodecKind::G722, CodecKind::Pcmu).unwrap();
    let mut reference = Resampler::new(16000, 8000).unwrap();
    let (mut out, mut narrow) = ([0u8; 160], [0i16; 160]);
    let mut frames = 0;
    for (frame, wide) in codewords.chunks_exact(160).zip(decoded.chunks_exact(320)) {
        let n = t.transcode(frame, &mut out).unwrap();
        assert_eq!(t.last_input(), wide, "decoded input of frame {frames}");
        assert_eq!(reference.process(wide, &mut narrow).unwrap(), n);
        let want: Vec<u8> = narrow.iter().map(|&s| g711::ulaw_encode(s)).collect();
        assert_eq!(&out[..n], &want[..], "frame {frames}");
        frames += 1;
    }
    eprintln!("g722->pcmu: {frames} frames as expected");
    assert_eq!(frames, codewords.len() / 160);
}

/// A speech-like signal: a harmonic series with a moving envelope.
fn speech(rate: u32, len: usize) -> Vec<i16> {
    (0..len)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            let envelope = 0.6 + 0.4 * (std::f64::consts::TAU * 3.0 * t).sin();
            let voiced: f64 = (1..=10)
                .map(|h| (std::f64::consts::TAU * 150.0 * f64::from(h) * t).sin() / f64::from(h))
                .sum();
            (envelope * 5000.0 * voiced) as i16
        })
        .collect()
}

/// Normalised cross-correlation of `b` against `a` at each lag in
/// 0..=max_lag: returns the best lag and its correlation.
fn best_correlation(a: &[f64], b: &[f64], max_lag: usize) -> (usize, f64) {
    (0..=max_lag)
        .map(|lag| {
            let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
            for (x, y) in a.iter().zip(&b[lag..]) {
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
            (lag, ab / (aa * bb).sqrt().max(1e-9))
        })
        .fold((0, f64::MIN), |best, c| if c.1 > best.1 { c } else { best })
}

/// RMS per 10 ms frame at 8 kHz.
fn envelope(x: &[f64]) -> Vec<f64> {
    x.chunks_exact(80)
        .map(|f| (f.iter().map(|v| v * v).sum::<f64>() / 80.0).sqrt())
        .collect()
}

fn energy(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

/// Every ordered pair of codecs transcodes a second of speech-like audio, and
/// what comes out still correlates with what went in.
#[test]
fn mv_44_every_pair_transcodes_and_preserves_the_signal() {
    use CodecKind::{G722, G729, Opus, Pcma, Pcmu};
    let kinds = [Pcmu, Pcma, G722, G729, Opus];
    for from in kinds {
        for to in kinds {
            let in_rate = from.descriptor().sample_rate;
            let out_rate = to.descriptor().sample_rate;
            let source = speech(in_rate, in_rate as usize);
            let mut enc = transcoder::encoder(from).unwrap();
            let mut t = Transcoder::new(from, to).unwrap();
            let mut dec = transcoder::decoder(to).unwrap();
            let (mut a, mut b) = (vec![0u8; 1500], vec![0u8; 1500]);
            let mut pcm = vec![0i16; 960];
            let mut result = Vec::new();
            for frame in source.chunks_exact(in_rate as usize / 50) {
                let n = enc.encode(frame, &mut a).unwrap();
                let m = t.transcode(&a[..n], &mut b).unwrap();
                let k = dec.decode(&b[..m], &mut pcm).unwrap();
                result.extend_from_slice(&pcm[..k]);
            }
            assert_eq!(result.len(), out_rate as usize, "{from}->{to} length");
            // Compare at 8 kHz, the rate every codec carries.
            let reference = to_8k(&source, in_rate);
            let got = to_8k(&result, out_rate);
            let r: Vec<f64> = reference[800..7000].iter().map(|&s| f64::from(s)).collect();
            let g: Vec<f64> = got[800..].iter().map(|&s| f64::from(s)).collect();
            let (lag, corr) = best_correlation(&r, &g, 400);
            let aligned = &g[lag..lag + r.len()];
            let level_db = 10.0 * (energy(aligned) / energy(&r)).log10();
            let (_, env) = best_correlation(&envelope(&r), &envelope(aligned), 0);
            eprintln!(
                "{from}->{to}: waveform correlation {corr:.3} at lag {lag}, \
                 level {level_db:+.2} dB, envelope correlation {env:.3}"
            );
            let perceptual = [from, to].iter().any(|k| matches!(k, G729 | Opus));
            if perceptual {
                // CELP and Opus keep the spectrum and level, not the waveform's phase.
                assert!(corr > 0.5, "{from}->{to}: correlation {corr:.3}");
                assert!(
                    level_db.abs() < 3.0,
                    "{from}->{to}: level {level_db:+.2} dB"
                );
                assert!(env > 0.9, "{from}->{to}: envelope {env:.3}");
            } else {
                assert!(corr > 0.99, "{from}->{to}: correlation {corr:.3}");
                assert!(
                    level_db.abs() < 0.5,
                    "{from}->{to}: level {level_db:+.2} dB"
                );
            }
        }
    }
}

fn to_8k(pcm: &[i16], rate: u32) -> Vec<i16> {
    let mut r = Resampler::new(rate, 8000).unwrap();
    let mut out = vec![0i16; pcm.len()];
    let n = r.process(pcm, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn a_lost_frame_is_concealed_and_encoded() {
    let mut t = Transcoder::new(CodecKind::Pcmu, CodecKind::G722).unwrap();
    let mut out = [0u8; 400];
    let frame: Vec<u8> = speech(8000, 160)
        .iter()
        .map(|&s| g711::ulaw_encode(s))
        .collect();
    for _ in 0..5 {
        assert_eq!(t.transcode(&frame, &mut out).unwrap(), 160);
    }
    assert_eq!(t.conceal(160, &mut out).unwrap(), 160);
    assert!(t.conceal(100_000, &mut out).is_err());
}

#[test]
fn frames_a_codec_cannot_take_are_typed_errors() {
    // 15 ms of PCMU is not a whole number of G.729 frames.
    let mut t = Transcoder::new(CodecKind::Pcmu, CodecKind::G729).unwrap();
    let mut out = [0u8; 400];
    assert!(matches!(
        t.transcode(&[0xff; 120], &mut out),
        Err(Error::UnsupportedFrameSize(_))
    ));
    // Garbage is not Opus.
    let mut t = Transcoder::new(CodecKind::Opus, CodecKind::Pcma).unwrap();
    for garbage in [&[][..], &[0xff; 3][..], &[0x03, 0xff, 0xff, 0xff][..]] {
        assert!(t.transcode(garbage, &mut out).is_err(), "{garbage:?}");
    }
}

/// PCM inserted with `encode` goes through the output encoder alone: for G.711 it is the
/// ITU companding of each sample.
#[test]
fn inserted_pcm_is_encoded_by_the_output_codec() {
    let mut t = Transcoder::new(CodecKind::Opus, CodecKind::Pcma).unwrap();
    assert!(t.last_input().is_empty());
    let pcm: Vec<i16> = (0..160).map(|i| (i * 97 % 8000) as i16 - 4000).collect();
    let mut out = [0u8; 160];
    assert_eq!(t.encode(&pcm, &mut out).unwrap(), 160);
    let want: Vec<u8> = pcm.iter().map(|&s| g711::alaw_encode(s)).collect();
    assert_eq!(&out[..], &want[..]);
}
