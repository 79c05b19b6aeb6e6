//! 16-bit PCM mono WAV files, read from and written to memory.
//!
//! [`parse`] accepts a RIFF/WAVE file whose format is integer PCM (tag 1, or
//! `WAVE_FORMAT_EXTENSIBLE` with the PCM sub-format), 16 bits, one channel;
//! unknown chunks (`LIST`, `fact`, ...) are skipped, honouring RIFF's pad byte
//! after odd-sized chunks. Anything else is a typed [`WavError`]. [`write()`]
//! produces the canonical 44-byte-header form.

use crate::Error;
pub use crate::error::WavError;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// A decoded WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// Samples per second.
    pub sample_rate: u32,
    /// The samples (mono).
    pub samples: Vec<i16>,
}

/// Parses a 16-bit PCM mono WAV file.
pub fn parse(bytes: &[u8]) -> Result<Wav, Error> {
    parse_inner(bytes).map_err(Error::Wav)
}

fn parse_inner(bytes: &[u8]) -> Result<Wav, WavError> {
    let header = bytes.get(..12).ok_or(WavError::Truncated)?;
    if &header[..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut rest = &bytes[12..];
    let mut sample_rate = None;
    while !rest.is_empty() {
        let head = rest.get(..8).ok_or(WavError::Truncated)?;
        let id = &head[..4];
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let body = rest.get(8..8 + size).ok_or(WavError::Truncated)?;
        match id {
            b"fmt " => sample_rate = Some(parse_fmt(body)?),
            b"data" => {
                let sample_rate = sample_rate.ok_or(WavError::MissingFmt)?;
                if !size.is_multiple_of(2) {
                    return Err(WavError::Truncated);
                }
                let samples = body
                    .chunks_exact(2)
                    .map(|w| i16::from_le_bytes([w[0], w[1]]))
                    .collect();
                return Ok(Wav {
                    sample_rate,
                    samples,
                });
            }
            _ => {}
        }
        // Chunks are padded to an even size; a missing final pad byte is tolerated.
        let next = (8 + size + size % 2).min(rest.len());
        rest = &rest[next..];
    }
    Err(if sample_rate.is_some() {
        WavError::MissingData
    } else {
        WavError::MissingFmt
    })
}

/// Checks a `fmt ` chunk and returns its sample rate.
fn parse_fmt(body: &[u8]) -> Result<u32, WavError> {
    let fmt = body.get(..16).ok_or(WavError::Truncated)?;
    let word = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let mut tag = word(0);
    if tag == FORMAT_EXTENSIBLE {
        // cbSize(2) validBits(2) channelMask(4) then the sub-format GUID,
        // whose first two bytes are the format tag.
        let sub = body.get(24..26).ok_or(WavError::Truncated)?;
        tag = u16::from_le_bytes([sub[0], sub[1]]);
    }
    if tag != FORMAT_PCM {
        return Err(WavError::NotPcm(tag));
    }
    let channels = word(2);
    if channels != 1 {
        return Err(WavError::Channels(channels));
    }
    let bits = word(14);
    if bits != 16 {
        return Err(WavError::BitsPerSample(bits));
    }
    Ok(u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]))
}

/// Writes `samples` as a canonical 16-bit PCM mono WAV file.
pub fn write(sample_rate: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> WavError {
        match parse(bytes) {
            Err(Error::Wav(e)) => e,
            other => panic!("expected a WAV error, got {other:?}"),
        }
    }

    /// A header written by hand from the RIFF/WAVE layout, not by `write`.
    fn handmade(tag: u16, channels: u16, bits: u16) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(b"RIFF\x28\x00\x00\x00WAVEfmt \x10\x00\x00\x00");
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&[0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0]);
        f.extend_from_slice(&bits.to_le_bytes());
        f.extend_from_slice(b"data\x04\x00\x00\x00\x01\x00\xff\xff");
        f
    }

    #[test]
    fn parses_a_handmade_file() {
        let wav = parse(&handmade(1, 1, 16)).unwrap();
        assert_eq!(wav.sample_rate, 8000);
        assert_eq!(wav.samples, vec![1, -1]);
    }

    #[test]
    fn write_matches_the_handmade_layout() {
        assert_eq!(write(8000, &[1, -1]), handmade(1, 1, 16));
    }

    #[test]
    fn skips_unknown_and_odd_sized_chunks() {
        let mut f = handmade(1, 1, 16);
        // Insert a 3-byte LIST chunk (plus pad byte) before "data".
        let at = f.len() - 12;
        f.splice(at..at, b"LIST\x03\x00\x00\x00abc\x00".iter().copied());
        assert_eq!(parse(&f).unwrap().samples, vec![1, -1]);
    }

    #[test]
    fn rejects_what_is_not_16_bit_pcm_mono() {
        assert_eq!(err(&handmade(3, 1, 16)), WavError::NotPcm(3));
        assert_eq!(err(&handmade(1, 2, 16)), WavError::Channels(2));
        assert_eq!(err(&handmade(1, 1, 8)), WavError::BitsPerSample(8));
        assert_eq!(err(b"RIFX\0\0\0\0WAVE"), WavError::NotWave);
        assert_eq!(err(b"RIFF\0\0\0\0WAVE"), WavError::MissingFmt);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let f = handmade(1, 1, 16);
        for len in 0..f.len() {
            assert!(parse(&f[..len]).is_err(), "truncated to {len} accepted");
        }
    }

    #[test]
    fn odd_data_length_is_rejected() {
        let mut f = handmade(1, 1, 16);
        let n = f.len();
        f[n - 8] = 3;
        f.truncate(n - 1);
        assert_eq!(err(&f), WavError::Truncated);
    }

    #[test]
    fn extensible_pcm_is_accepted() {
        let mut f = Vec::new();
        f.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt \x28\x00\x00\x00");
        f.extend_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        f.extend_from_slice(&[1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0]);
        f.extend_from_slice(&[22, 0, 16, 0, 4, 0, 0, 0, 1, 0]);
        f.extend_from_slice(&[0; 14]);
        f.extend_from_slice(b"data\x02\x00\x00\x00\x07\x00");
        let wav = parse(&f).unwrap();
        assert_eq!((wav.sample_rate, wav.samples), (16000, vec![7]));
    }
}
