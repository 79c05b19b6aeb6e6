//! The crate's error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A byte buffer meant to hold 16-bit samples has an odd length.
    #[error("odd-length PCM buffer ({0} bytes)")]
    OddLength(usize),
    /// The sample rate is not supported by this codec or operation.
    #[error("unsupported sample rate {0} Hz")]
    UnsupportedSampleRate(u32),
    /// The frame length (in samples) is not supported by this codec.
    #[error("unsupported frame size of {0} samples")]
    UnsupportedFrameSize(usize),
    /// The channel count is not supported.
    #[error("unsupported channel count {0}")]
    UnsupportedChannels(u8),
    /// The output buffer is too small.
    #[error("output buffer too small: need {needed}, have {available}")]
    OutputTooSmall {
        /// Elements (samples or bytes) required.
        needed: usize,
        /// Elements available.
        available: usize,
    },
    /// A payload is malformed for its codec (wrong length, bad framing).
    #[error("invalid {codec} payload of {len} bytes")]
    InvalidPayload {
        /// The codec that rejected it.
        codec: crate::CodecKind,
        /// Payload length in bytes.
        len: usize,
    },
    /// A codec parameter is out of range (bitrate, complexity, ...).
    #[error("invalid parameter {name}: {value}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value.
        value: i64,
    },
    /// libopus reported an error (its numeric error code).
    #[error("opus error {0}")]
    Opus(i32),
    /// A WAV file is malformed or not 16-bit PCM.
    #[error("invalid WAV: {0}")]
    Wav(WavError),
}

/// Why a WAV file was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The file ends before a required chunk or field.
    #[error("truncated")]
    Truncated,
    /// Not a RIFF/WAVE file.
    #[error("not a RIFF/WAVE file")]
    NotWave,
    /// The format is not integer PCM (format tag given).
    #[error("format tag {0} is not PCM")]
    NotPcm(u16),
    /// Sample width other than 16 bits.
    #[error("{0}-bit samples (need 16)")]
    BitsPerSample(u16),
    /// More than one channel.
    #[error("{0} channels (need mono)")]
    Channels(u16),
    /// No `fmt ` chunk before `data`.
    #[error("missing fmt chunk")]
    MissingFmt,
    /// No `data` chunk.
    #[error("missing data chunk")]
    MissingData,
}
