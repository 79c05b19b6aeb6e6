//! `transcode IN OUT`: converts audio between formats chosen by file extension.
//!
//! - `.wav`: 16-bit PCM mono at 8, 16 or 48 kHz (written at the input's rate);
//! - `.pcmu` / `.pcma`: raw G.711 octets, 8 kHz;
//! - `.g722`: raw 64 kbit/s G.722 codewords, one byte each, 16 kHz audio.
//!
//! Exit status 0 on success, 1 on bad input, 2 on a usage error.

use std::path::Path;
use std::process::ExitCode;

use codecs::resample::Resampler;
use codecs::{CodecKind, Error, transcoder, wav};

/// A file format, from its extension.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Wav,
    Raw(CodecKind),
}

impl Format {
    fn of(path: &str) -> Option<Self> {
        let ext = Path::new(path).extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "wav" => Self::Wav,
            "pcmu" => Self::Raw(CodecKind::Pcmu),
            "pcma" => Self::Raw(CodecKind::Pcma),
            "g722" => Self::Raw(CodecKind::G722),
            _ => return None,
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: transcode IN OUT   (formats by extension: .wav .pcmu .pcma .g722)");
        return ExitCode::from(2);
    };
    let (Some(from), Some(to)) = (Format::of(input), Format::of(output)) else {
        eprintln!("transcode: unsupported extension (use .wav, .pcmu, .pcma or .g722)");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("transcode: cannot read {input}: {e}");
            return ExitCode::from(1);
        }
    };
    let result = decode(from, &bytes).and_then(|(rate, pcm)| encode(to, rate, &pcm));
    match result {
        Ok(out) => match std::fs::write(output, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("transcode: cannot write {output}: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("transcode: {input}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Reads the input into PCM; returns its rate and samples.
fn decode(format: Format, bytes: &[u8]) -> Result<(u32, Vec<i16>), Error> {
    match format {
        Format::Wav => {
            let w = wav::parse(bytes)?;
            if ![8000, 16000, 48000].contains(&w.sample_rate) {
                return Err(Error::UnsupportedSampleRate(w.sample_rate));
            }
            Ok((w.sample_rate, w.samples))
        }
        Format::Raw(kind) => {
            let mut decoder = transcoder::decoder(kind)?;
            let rate = decoder.descriptor().sample_rate;
            let per_byte = rate as usize / 8000;
            let mut pcm = vec![0; bytes.len() * per_byte];
            // 20 ms of payload per call: 160 bytes for G.711 and G.722 alike.
            for (chunk, out) in bytes.chunks(160).zip(pcm.chunks_mut(160 * per_byte)) {
                decoder.decode(chunk, out)?;
            }
            Ok((rate, pcm))
        }
    }
}

/// Writes PCM at `rate` in the output format, resampling when needed.
fn encode(format: Format, rate: u32, pcm: &[i16]) -> Result<Vec<u8>, Error> {
    let target = match format {
        Format::Wav => rate,
        Format::Raw(kind) => kind.descriptor().sample_rate,
    };
    let mut pcm = resample(rate, target, pcm)?;
    match format {
        Format::Wav => Ok(wav::write(target, &pcm)),
        Format::Raw(kind) => {
            if kind == CodecKind::G722 && pcm.len() % 2 == 1 {
                pcm.push(0); // G.722 codes sample pairs.
            }
            let mut encoder = transcoder::encoder(kind)?;
            let frame = target as usize / 50;
            let mut out = vec![0; pcm.len()];
            let mut len = 0;
            for chunk in pcm.chunks(frame) {
                len += encoder.encode(chunk, &mut out[len..])?;
            }
            out.truncate(len);
            Ok(out)
        }
    }
}

/// Resamples a whole signal, compensating the filter delay so that the
/// output lines up with the input.
fn resample(from: u32, to: u32, pcm: &[i16]) -> Result<Vec<i16>, Error> {
    if from == to {
        return Ok(pcm.to_vec());
    }
    let mut r = Resampler::new(from, to)?;
    let delay = r.delay();
    let frame = from as usize / 50;
    // Flush the filter with enough silence to push the last input out.
    let tail = vec![0; (delay * from as usize).div_ceil(to as usize) + 1];
    let mut out = Vec::with_capacity(pcm.len() * to as usize / from as usize + delay + frame);
    let mut buf = vec![0; r.output_len(frame.max(tail.len())) + 1];
    for chunk in pcm.chunks(frame).chain(std::iter::once(tail.as_slice())) {
        let n = r.process(chunk, &mut buf)?;
        out.extend_from_slice(&buf[..n]);
    }
    let wanted = pcm.len() * to as usize / from as usize;
    Ok(out.into_iter().skip(delay).take(wanted).collect())
}
