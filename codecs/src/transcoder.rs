//! Frame transcoding between any two codecs, and codec construction by kind.
//!
//! [`Transcoder`] decodes a payload, resamples when the two codecs sample at
//! different rates, and encodes the result: one input frame gives one output
//! frame of the same duration. The frame must therefore suit both codecs
//! (20 ms suits them all; G.729 needs multiples of 10 ms, Opus 10/20/40/60 ms).
//! Buffers are allocated once, at construction. An encoder with DTX (G.729
//! with VAD, Opus with DTX) may return an empty payload: send nothing then.

use crate::g711::{PcmaDecoder, PcmaEncoder, PcmuDecoder, PcmuEncoder};
use crate::g722::{G722Decoder, G722Encoder, G722Mode};
use crate::g729::{G729Decoder, G729Encoder};
use crate::opus::{OpusConfig, OpusDecoder, OpusEncoder};
use crate::resample::{MAX_FRAME, Resampler};
use crate::{CodecDescriptor, CodecKind, Decoder, Encoder, Error};

/// A boxed encoder that can move between threads.
pub type BoxEncoder = Box<dyn Encoder + Send>;
/// A boxed decoder that can move between threads.
pub type BoxDecoder = Box<dyn Decoder + Send>;

/// Creates an encoder for `kind` with default settings: G.722 at 64 kbit/s,
/// G.729 without VAD, Opus at 48 kHz with [`OpusConfig::default`].
pub fn encoder(kind: CodecKind) -> Result<BoxEncoder, Error> {
    Ok(match kind {
        CodecKind::Pcmu => Box::new(PcmuEncoder::new()),
        CodecKind::Pcma => Box::new(PcmaEncoder::new()),
        CodecKind::G722 => Box::new(G722Encoder::new()),
        CodecKind::G729 => Box::new(G729Encoder::new(false)),
        CodecKind::Opus => Box::new(OpusEncoder::new(&OpusConfig::default())?),
    })
}

/// Creates a decoder for `kind` with default settings (G.722 mode 1, Opus at
/// 48 kHz).
pub fn decoder(kind: CodecKind) -> Result<BoxDecoder, Error> {
    Ok(match kind {
        CodecKind::Pcmu => Box::new(PcmuDecoder::new()),
        CodecKind::Pcma => Box::new(PcmaDecoder::new()),
        CodecKind::G722 => Box::new(G722Decoder::new(G722Mode::Mode1)),
        CodecKind::G729 => Box::new(G729Decoder::new()),
        CodecKind::Opus => Box::new(OpusDecoder::new(48000)?),
    })
}

/// Converts frames from one codec to another.
pub struct Transcoder {
    decoder: BoxDecoder,
    encoder: BoxEncoder,
    resampler: Option<Resampler>,
    decoded: Vec<i16>,
    /// Samples of the last decoded frame in `decoded`.
    last: usize,
    resampled: Vec<i16>,
}

impl std::fmt::Debug for Transcoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcoder")
            .field("from", &self.decoder.descriptor())
            .field("to", &self.encoder.descriptor())
            .finish_non_exhaustive()
    }
}

impl Transcoder {
    /// A transcoder between two codecs with default settings (see
    /// [`encoder`] and [`decoder`]).
    pub fn new(from: CodecKind, to: CodecKind) -> Result<Self, Error> {
        Self::with_codecs(decoder(from)?, encoder(to)?)
    }

    /// A transcoder from an already configured decoder to an encoder.
    pub fn with_codecs(decoder: BoxDecoder, encoder: BoxEncoder) -> Result<Self, Error> {
        let (from, to) = (decoder.descriptor(), encoder.descriptor());
        let resampler = if from.sample_rate == to.sample_rate {
            None
        } else {
            Some(Resampler::new(from.sample_rate, to.sample_rate)?)
        };
        Ok(Self {
            decoder,
            encoder,
            resampler,
            decoded: vec![0; MAX_FRAME],
            last: 0,
            resampled: vec![0; MAX_FRAME],
        })
    }

    /// The input codec.
    pub fn input(&self) -> CodecDescriptor {
        self.decoder.descriptor()
    }

    /// The output codec.
    pub fn output(&self) -> CodecDescriptor {
        self.encoder.descriptor()
    }

    /// Transcodes one payload; returns the length of the payload written to `out`.
    pub fn transcode(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let n = self.decoder.decode(payload, &mut self.decoded)?;
        self.encode_decoded(n, out)
    }

    /// Conceals a lost input frame of `samples` samples (at the input codec's
    /// rate) and encodes the concealment; returns the payload length.
    pub fn conceal(&mut self, samples: usize, out: &mut [u8]) -> Result<usize, Error> {
        let frame = self
            .decoded
            .get_mut(..samples)
            .ok_or(Error::UnsupportedFrameSize(samples))?;
        let n = self.decoder.conceal(frame)?;
        self.encode_decoded(n, out)
    }

    /// The PCM of the last transcoded or concealed frame, at the input codec's sample rate
    /// (for example to detect in-band tones in what passed through).
    pub fn last_input(&self) -> &[i16] {
        &self.decoded[..self.last]
    }

    /// Encodes `pcm`, sampled at the output codec's rate, with the output encoder (for
    /// example a tone inserted into the stream, keeping the encoder's state continuous);
    /// returns the payload length.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
        self.encoder.encode(pcm, out)
    }

    fn encode_decoded(&mut self, n: usize, out: &mut [u8]) -> Result<usize, Error> {
        self.last = n;
        let pcm = &self.decoded[..n];
        match &mut self.resampler {
            None => self.encoder.encode(pcm, out),
            Some(r) => {
                let m = r.process(pcm, &mut self.resampled)?;
                self.encoder.encode(&self.resampled[..m], out)
            }
        }
    }

    /// Resets both codecs and the resampler.
    pub fn reset(&mut self) {
        self.last = 0;
        self.decoder.reset();
        self.encoder.reset();
        if let Some(r) = &mut self.resampler {
            r.reset();
        }
    }
}
