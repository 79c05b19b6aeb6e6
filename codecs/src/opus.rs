//! Opus (RFC 6716) through `libopus`, with the RFC 7587 RTP/SDP mapping.
//!
//! [`OpusEncoder`] and [`OpusDecoder`] wrap the system `libopus` (linked by
//! the `audiopus` crate through pkg-config) behind the crate's
//! [`Encoder`]/[`Decoder`] traits. Both are mono and work at 8, 12, 16, 24 or
//! 48 kHz ([`OpusConfig::sample_rate`] / [`OpusDecoder::new`]); whatever the
//! audio rate, the RTP clock is always 48 kHz (RFC 7587 §4.1), so
//! [`CodecDescriptor::rtp_clock_rate`] is 48000 and
//! [`CodecDescriptor::sample_rate`] is the configured rate.
//!
//! # Frames
//! [`Encoder::encode`] takes exactly one frame of 2.5, 5, 10, 20, 40 or 60 ms
//! (`sample_rate / 400 × {1, 2, 4, 8, 16, 24}` samples) and writes one Opus
//! packet, which is one RTP payload (RFC 7587 §4.2). Any other length is
//! [`Error::UnsupportedFrameSize`]. 80–120 ms frames, which Opus allows, are
//! deliberately not offered. [`Decoder::decode`] accepts any valid packet (up
//! to 120 ms) and writes all its samples; the output buffer must hold them
//! ([`OpusDecoder::packet_samples`] tells how many).
//!
//! # Loss
//! - [`Decoder::conceal`] runs libopus packet-loss concealment for
//!   `out.len()` samples, which must be a multiple of 2.5 ms up to 120 ms.
//! - [`OpusDecoder::decode_fec`] recovers a lost frame from the in-band FEC
//!   (SILK LBRR) data of the packet that followed it; when that packet carries
//!   no FEC data libopus falls back to concealment. The encoder only sends FEC
//!   when [`OpusConfig::inband_fec`] is set *and*
//!   [`OpusConfig::packet_loss_percent`] is non-zero *and* the bitrate leaves
//!   room for it.
//!
//! # DTX
//! With [`OpusConfig::dtx`], libopus emits packets of 1–2 bytes during
//! silence; its documentation says such packets need not be transmitted, and
//! the receiver conceals the gap (which, after a DTX packet, produces
//! comfort noise). This module returns them like any packet and leaves the
//! decision to send them to the packetizer ([`OpusEncoder::DTX_MAX_PACKET_BYTES`]).
//!
//! # SDP
//! [`OpusFmtp`] parses and prints the RFC 7587 §6.1 `a=fmtp` parameters, and
//! [`OpusConfig::apply_remote_fmtp`] turns the *remote* party's parameters
//! (its receive preferences) into our encoder settings (§7). See there for the
//! exact mapping.
//!
//! # Errors
//! Unsupported rates → [`Error::UnsupportedSampleRate`]; bad frame lengths →
//! [`Error::UnsupportedFrameSize`]; out-of-range settings →
//! [`Error::InvalidParameter`]; an empty or malformed packet →
//! [`Error::InvalidPayload`]; a too-small output buffer →
//! [`Error::OutputTooSmall`]; any other libopus failure → [`Error::Opus`] with
//! libopus's (negative) error code. Nothing here panics on any input.
//!
//! # Allocation
//! libopus allocates its state once, at construction; encoding and decoding
//! use only the caller's buffers and the stack.

mod fmtp;

pub use fmtp::OpusFmtp;

use audiopus::coder::GenericCtl;
use audiopus::packet::Packet;
use audiopus::{Application, Bandwidth, Bitrate, Channels, MutSignals, SampleRate};

use crate::{CodecDescriptor, CodecKind, Decoder, Encoder, Error};

/// libopus `OPUS_BAD_ARG`.
const OPUS_BAD_ARG: i32 = -1;
/// libopus `OPUS_BUFFER_TOO_SMALL`.
const OPUS_BUFFER_TOO_SMALL: i32 = -2;
/// libopus `OPUS_INVALID_PACKET`.
const OPUS_INVALID_PACKET: i32 = -4;

/// The largest buffer handed to libopus per packet (its documented
/// recommendation for `max_data_bytes`; more is never used).
const MAX_DATA_BYTES: usize = 4000;

/// What the encoder is tuned for (libopus `OPUS_APPLICATION_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OpusApplication {
    /// Speech: favours intelligibility, enables SILK (the default).
    #[default]
    Voip,
    /// Music and mixed content: favours fidelity to the input.
    Audio,
    /// Lowest delay: CELT only, no speech-specific tools (and so no FEC).
    LowDelay,
}

/// An Opus audio bandwidth (RFC 6716 §2, Table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum OpusBandwidth {
    /// 4 kHz audio bandwidth (8 kHz sampling).
    Narrowband,
    /// 6 kHz audio bandwidth (12 kHz sampling).
    Mediumband,
    /// 8 kHz audio bandwidth (16 kHz sampling).
    Wideband,
    /// 12 kHz audio bandwidth (24 kHz sampling).
    SuperWideband,
    /// 20 kHz audio bandwidth (48 kHz sampling; the default).
    #[default]
    Fullband,
}

impl OpusBandwidth {
    /// The narrowest bandwidth that carries everything a device playing back
    /// (or capturing) at `rate` Hz can render: the RFC 7587 §7.1 reading of
    /// `maxplaybackrate`/`sprop-maxcapturerate`. Rates between the Opus ones
    /// round down (`maxplaybackrate=22050` → super-wideband), rates below
    /// 8 kHz give narrowband and rates above 48 kHz fullband.
    pub const fn for_rate(rate: u32) -> Self {
        match rate {
            0..12_000 => Self::Narrowband,
            12_000..16_000 => Self::Mediumband,
            16_000..24_000 => Self::Wideband,
            24_000..48_000 => Self::SuperWideband,
            _ => Self::Fullband,
        }
    }

    /// The sampling rate that carries this bandwidth without loss.
    pub const fn sample_rate(self) -> u32 {
        match self {
            Self::Narrowband => 8_000,
            Self::Mediumband => 12_000,
            Self::Wideband => 16_000,
            Self::SuperWideband => 24_000,
            Self::Fullband => 48_000,
        }
    }

    fn to_audiopus(self) -> Bandwidth {
        match self {
            Self::Narrowband => Bandwidth::Narrowband,
            Self::Mediumband => Bandwidth::Mediumband,
            Self::Wideband => Bandwidth::Wideband,
            Self::SuperWideband => Bandwidth::Superwideband,
            Self::Fullband => Bandwidth::Fullband,
        }
    }
}

/// Opus encoder settings: plain data, RFC 7587 defaults.
///
/// The defaults are what a party that said nothing in its `a=fmtp` line gets
/// (RFC 7587 §6.1: `useinbandfec=0`, `usedtx=0`, `cbr=0`, fullband), at
/// 48 kHz mono, 32 kbit/s, complexity 9, tuned for speech (VoIP).
/// [`OpusConfig::apply_remote_fmtp`] turns the remote party's preferences
/// into these settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusConfig {
    /// The PCM rate the encoder consumes: 8000, 12000, 16000, 24000 or 48000
    /// (default 48000). Independent of the RTP clock, which is always 48 kHz.
    pub sample_rate: u32,
    /// Target bitrate in bit/s, 6000..=510000 (default 32000: transparent
    /// wideband speech, good fullband speech).
    pub bitrate: u32,
    /// Encoder complexity 0..=10 (default 9, libopus 1.3's own default).
    /// Below 7 libopus skips its signal analysis (speech/music detection),
    /// which changes mode decisions: lower values save CPU on a busy PBX at
    /// some quality cost.
    pub complexity: u8,
    /// Constant bitrate (`cbr=1`); `false` (default) is constrained VBR.
    pub cbr: bool,
    /// Send in-band FEC (`useinbandfec=1`); default off. Takes effect only
    /// with a non-zero [`OpusConfig::packet_loss_percent`].
    pub inband_fec: bool,
    /// Discontinuous transmission (`usedtx=1`); default off.
    pub dtx: bool,
    /// The packet loss the encoder should expect, 0..=100 percent (default 0).
    /// Higher values make packets more self-contained and size the FEC.
    pub packet_loss_percent: u8,
    /// What the encoder is tuned for (default [`OpusApplication::Voip`]).
    pub application: OpusApplication,
    /// The widest audio bandwidth the encoder may use (default fullband; the
    /// sampling rate caps it too).
    pub max_bandwidth: OpusBandwidth,
}

impl Default for OpusConfig {
    fn default() -> Self {
        Self {
            sample_rate: 48_000,
            bitrate: 32_000,
            complexity: 9,
            cbr: false,
            inband_fec: false,
            dtx: false,
            packet_loss_percent: 0,
            application: OpusApplication::Voip,
            max_bandwidth: OpusBandwidth::Fullband,
        }
    }
}

impl OpusConfig {
    /// The lowest bitrate libopus accepts and RFC 7587 allows for
    /// `maxaveragebitrate`, in bit/s.
    pub const MIN_BITRATE: u32 = 6_000;
    /// The highest bitrate libopus accepts and RFC 7587 allows for
    /// `maxaveragebitrate`, in bit/s.
    pub const MAX_BITRATE: u32 = 510_000;

    /// Applies the remote party's `a=fmtp` parameters (its preferences as a
    /// *receiver*, RFC 7587 §7) to the settings of the encoder that sends to
    /// it:
    ///
    /// | parameter | effect |
    /// |---|---|
    /// | `maxplaybackrate` | `max_bandwidth` lowered to [`OpusBandwidth::for_rate`] (never raised) |
    /// | `maxaveragebitrate` | `bitrate` lowered to it, after clamping it to 6000..=510000 (never raised) |
    /// | `useinbandfec` | `inband_fec` set to it (absent = 0: the receiver cannot use FEC, so it would waste bits) |
    /// | `usedtx` | `dtx` set to it (absent = 0) |
    /// | `cbr` | `cbr` set to it (absent = 0) |
    /// | `stereo` | ignored: this crate encodes mono; `stereo` is only a preference (§6.1) and every Opus decoder handles mono |
    /// | `sprop-maxcapturerate`, `sprop-stereo` | ignored: they describe the remote *sender*, i.e. what our decoder will receive |
    /// | `ptime`, `minptime`, `maxptime` | ignored here: packetization is the caller's choice of frame length ([`OpusFmtp`] keeps them) |
    ///
    /// `inband_fec` without a non-zero `packet_loss_percent` sends no FEC;
    /// when FEC is turned on and the expected loss is 0 this sets it to 10 %
    /// so the preference has an effect.
    pub fn apply_remote_fmtp(&mut self, fmtp: &OpusFmtp) {
        if let Some(rate) = fmtp.max_playback_rate {
            self.max_bandwidth = self.max_bandwidth.min(OpusBandwidth::for_rate(rate));
        }
        if let Some(max) = fmtp.max_average_bitrate {
            let max = max.clamp(Self::MIN_BITRATE, Self::MAX_BITRATE);
            self.bitrate = self.bitrate.min(max);
        }
        self.inband_fec = fmtp.use_inband_fec.unwrap_or(false);
        if self.inband_fec && self.packet_loss_percent == 0 {
            self.packet_loss_percent = 10;
        }
        self.dtx = fmtp.use_dtx.unwrap_or(false);
        self.cbr = fmtp.cbr.unwrap_or(false);
    }

    /// Checks every field's range; [`OpusEncoder::new`] calls this.
    pub fn validate(&self) -> Result<(), Error> {
        opus_rate(self.sample_rate)?;
        if !(Self::MIN_BITRATE..=Self::MAX_BITRATE).contains(&self.bitrate) {
            return Err(Error::InvalidParameter {
                name: "bitrate",
                value: i64::from(self.bitrate),
            });
        }
        if self.complexity > 10 {
            return Err(Error::InvalidParameter {
                name: "complexity",
                value: i64::from(self.complexity),
            });
        }
        if self.packet_loss_percent > 100 {
            return Err(Error::InvalidParameter {
                name: "packet_loss_percent",
                value: i64::from(self.packet_loss_percent),
            });
        }
        Ok(())
    }
}

/// Maps a rate to libopus's, or [`Error::UnsupportedSampleRate`].
fn opus_rate(rate: u32) -> Result<SampleRate, Error> {
    Ok(match rate {
        8_000 => SampleRate::Hz8000,
        12_000 => SampleRate::Hz12000,
        16_000 => SampleRate::Hz16000,
        24_000 => SampleRate::Hz24000,
        48_000 => SampleRate::Hz48000,
        _ => return Err(Error::UnsupportedSampleRate(rate)),
    })
}

/// Converts an `audiopus` error into ours.
fn map_err(err: audiopus::Error) -> Error {
    match err {
        audiopus::Error::Opus(code) => Error::Opus(code as i32),
        audiopus::Error::EmptyPacket => Error::InvalidPayload {
            codec: CodecKind::Opus,
            len: 0,
        },
        audiopus::Error::InvalidSampleRate(rate) => {
            Error::UnsupportedSampleRate(u32::try_from(rate).unwrap_or(0))
        }
        // The wrapper's own argument checks, which our checks pre-empt.
        _ => Error::Opus(OPUS_BAD_ARG),
    }
}

/// Samples in 2.5 ms at `rate` (every supported rate is a multiple of 400).
const fn quantum(rate: u32) -> usize {
    (rate / 400) as usize
}

/// The descriptor of an Opus stream sampled at `rate`.
const fn descriptor_at(rate: u32) -> CodecDescriptor {
    let mut d = CodecKind::Opus.descriptor();
    d.sample_rate = rate;
    d
}

/// A mono Opus encoder (one RTP payload per call).
#[derive(Debug)]
pub struct OpusEncoder {
    inner: audiopus::coder::Encoder,
    config: OpusConfig,
    lookahead: usize,
}

impl OpusEncoder {
    /// With DTX on, packets of at most this many bytes carry no audio and
    /// need not be transmitted (libopus documentation of `opus_encode`).
    pub const DTX_MAX_PACKET_BYTES: usize = 2;
    /// An output buffer of this size always holds a packet (libopus's
    /// recommended `max_data_bytes`). Smaller buffers work too: libopus
    /// lowers the bitrate of a frame that would not fit.
    pub const MAX_PACKET_BYTES: usize = MAX_DATA_BYTES;

    /// Creates an encoder; every [`OpusConfig`] field is checked
    /// ([`OpusConfig::validate`]).
    pub fn new(config: &OpusConfig) -> Result<Self, Error> {
        config.validate()?;
        let rate = opus_rate(config.sample_rate)?;
        let application = match config.application {
            OpusApplication::Voip => Application::Voip,
            OpusApplication::Audio => Application::Audio,
            OpusApplication::LowDelay => Application::LowDelay,
        };
        let inner =
            audiopus::coder::Encoder::new(rate, Channels::Mono, application).map_err(map_err)?;
        let mut encoder = Self {
            inner,
            config: *config,
            lookahead: 0,
        };
        encoder.apply(config)?;
        Ok(encoder)
    }

    /// Changes the settings of a running encoder (for example after a
    /// re-INVITE changed the remote `a=fmtp`), keeping its state. The sample
    /// rate cannot change: a different one is
    /// [`Error::InvalidParameter`] `sample_rate`.
    pub fn reconfigure(&mut self, config: &OpusConfig) -> Result<(), Error> {
        config.validate()?;
        if config.sample_rate != self.config.sample_rate {
            return Err(Error::InvalidParameter {
                name: "sample_rate",
                value: i64::from(config.sample_rate),
            });
        }
        if config.application != self.config.application {
            let application = match config.application {
                OpusApplication::Voip => Application::Voip,
                OpusApplication::Audio => Application::Audio,
                OpusApplication::LowDelay => Application::LowDelay,
            };
            self.inner.set_application(application).map_err(map_err)?;
        }
        self.apply(config)?;
        self.config = *config;
        Ok(())
    }

    fn apply(&mut self, config: &OpusConfig) -> Result<(), Error> {
        let enc = &mut self.inner;
        // Validated: 6000..=510000 fits an i32.
        let bitrate = i32::try_from(config.bitrate).unwrap_or(i32::MAX);
        enc.set_bitrate(Bitrate::BitsPerSecond(bitrate))
            .map_err(map_err)?;
        enc.set_complexity(config.complexity).map_err(map_err)?;
        enc.set_vbr(!config.cbr).map_err(map_err)?;
        enc.set_inband_fec(config.inband_fec).map_err(map_err)?;
        enc.set_packet_loss_perc(config.packet_loss_percent)
            .map_err(map_err)?;
        enc.set_dtx(config.dtx).map_err(map_err)?;
        enc.set_max_bandwidth(config.max_bandwidth.to_audiopus())
            .map_err(map_err)?;
        let lookahead = enc.lookahead().map_err(map_err)?;
        self.lookahead = usize::try_from(lookahead).unwrap_or(0);
        Ok(())
    }

    /// The settings in force.
    pub fn config(&self) -> &OpusConfig {
        &self.config
    }

    /// The encoder's lookahead in samples at the configured rate: decoded
    /// audio lags the input by this much (libopus `OPUS_GET_LOOKAHEAD`:
    /// 2.5 ms, plus 4 ms in the VoIP and audio applications).
    pub fn lookahead(&self) -> usize {
        self.lookahead
    }
}

impl Encoder for OpusEncoder {
    fn descriptor(&self) -> CodecDescriptor {
        descriptor_at(self.config.sample_rate)
    }

    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
        let q = quantum(self.config.sample_rate);
        let steps = pcm.len() / q;
        if !pcm.len().is_multiple_of(q) || !matches!(steps, 1 | 2 | 4 | 8 | 16 | 24) {
            return Err(Error::UnsupportedFrameSize(pcm.len()));
        }
        if out.is_empty() {
            return Err(Error::OutputTooSmall {
                needed: 1,
                available: 0,
            });
        }
        let cap = out.len().min(MAX_DATA_BYTES);
        match self.inner.encode(pcm, &mut out[..cap]) {
            Ok(n) => Ok(n),
            Err(audiopus::Error::Opus(code)) if code as i32 == OPUS_BUFFER_TOO_SMALL => {
                Err(Error::OutputTooSmall {
                    needed: cap + 1,
                    available: cap,
                })
            }
            Err(err) => Err(map_err(err)),
        }
    }

    fn reset(&mut self) {
        // OPUS_RESET_STATE cannot fail on a valid encoder; it keeps the
        // settings.
        let _ = self.inner.reset_state();
    }
}

/// A mono Opus decoder.
#[derive(Debug)]
pub struct OpusDecoder {
    inner: audiopus::coder::Decoder,
    rate: SampleRate,
    sample_rate: u32,
}

impl OpusDecoder {
    /// Creates a decoder producing PCM at `sample_rate` (8000, 12000, 16000,
    /// 24000 or 48000), whatever rate the sender encoded at.
    pub fn new(sample_rate: u32) -> Result<Self, Error> {
        let rate = opus_rate(sample_rate)?;
        let inner = audiopus::coder::Decoder::new(rate, Channels::Mono).map_err(map_err)?;
        Ok(Self {
            inner,
            rate,
            sample_rate,
        })
    }

    /// The number of samples (at this decoder's rate) `payload` decodes to,
    /// or [`Error::InvalidPayload`] if it is not a valid Opus packet.
    pub fn packet_samples(&self, payload: &[u8]) -> Result<usize, Error> {
        let invalid = Error::InvalidPayload {
            codec: CodecKind::Opus,
            len: payload.len(),
        };
        let packet = Packet::try_from(payload).map_err(|_| invalid.clone())?;
        match audiopus::packet::nb_samples(packet, self.rate) {
            // A code-3 packet may declare zero frames; libopus counts 0
            // samples and then refuses to decode it.
            Ok(0) => Err(invalid),
            Ok(n) => Ok(n),
            Err(audiopus::Error::Opus(code)) if code as i32 == OPUS_INVALID_PACKET => Err(invalid),
            Err(other) => Err(map_err(other)),
        }
    }

    /// Recovers the frame lost just before `next_payload` from the in-band
    /// FEC data `next_payload` carries, writing exactly `out.len()` samples
    /// (the lost frame's duration: a multiple of 2.5 ms, at most 120 ms).
    ///
    /// Call it *instead of* [`Decoder::conceal`] for the lost frame, then
    /// [`Decoder::decode`] `next_payload` as usual. If `next_payload` has no
    /// FEC data, libopus conceals instead, so this is never worse than
    /// concealment.
    pub fn decode_fec(&mut self, next_payload: &[u8], out: &mut [i16]) -> Result<usize, Error> {
        self.check_loss_len(out.len())?;
        // Validates the packet (and rejects an empty one) before libopus.
        self.packet_samples(next_payload)?;
        let packet = Packet::try_from(next_payload).map_err(map_err)?;
        let signals = MutSignals::try_from(out).map_err(map_err)?;
        self.inner
            .decode(Some(packet), signals, true)
            .map_err(|err| self.map_decode_err(err, next_payload.len()))
    }

    fn check_loss_len(&self, len: usize) -> Result<(), Error> {
        let q = quantum(self.sample_rate);
        if len == 0 || !len.is_multiple_of(q) || len / q > 48 {
            return Err(Error::UnsupportedFrameSize(len));
        }
        Ok(())
    }

    fn map_decode_err(&self, err: audiopus::Error, len: usize) -> Error {
        match err {
            audiopus::Error::Opus(code) if code as i32 == OPUS_INVALID_PACKET => {
                Error::InvalidPayload {
                    codec: CodecKind::Opus,
                    len,
                }
            }
            other => map_err(other),
        }
    }
}

impl Decoder for OpusDecoder {
    fn descriptor(&self) -> CodecDescriptor {
        descriptor_at(self.sample_rate)
    }

    /// Decodes one Opus packet; `out` must hold
    /// [`OpusDecoder::packet_samples`] samples (else
    /// [`Error::OutputTooSmall`]). An empty or malformed packet is
    /// [`Error::InvalidPayload`] and leaves the decoder state unchanged.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, Error> {
        let needed = self.packet_samples(payload)?;
        if out.len() < needed {
            return Err(Error::OutputTooSmall {
                needed,
                available: out.len(),
            });
        }
        let packet = Packet::try_from(payload).map_err(map_err)?;
        let signals = MutSignals::try_from(&mut out[..needed]).map_err(map_err)?;
        self.inner
            .decode(Some(packet), signals, false)
            .map_err(|err| self.map_decode_err(err, payload.len()))
    }

    /// libopus packet-loss concealment (comfort noise after a DTX packet)
    /// for `out.len()` samples, a multiple of 2.5 ms up to 120 ms (else
    /// [`Error::UnsupportedFrameSize`]).
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, Error> {
        self.check_loss_len(out.len())?;
        let signals = MutSignals::try_from(out).map_err(map_err)?;
        self.inner.decode(None, signals, false).map_err(map_err)
    }

    fn reset(&mut self) {
        // OPUS_RESET_STATE cannot fail on a valid decoder.
        let _ = self.inner.reset_state();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, len: usize) -> Vec<i16> {
        (0..len)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn descriptor_reports_configured_rate_and_48k_clock() {
        for rate in [8_000, 12_000, 16_000, 24_000, 48_000] {
            let enc = OpusEncoder::new(&OpusConfig {
                sample_rate: rate,
                ..OpusConfig::default()
            })
            .unwrap();
            let dec = OpusDecoder::new(rate).unwrap();
            for d in [enc.descriptor(), dec.descriptor()] {
                assert_eq!(d.sample_rate, rate);
                assert_eq!(d.rtp_clock_rate, 48_000);
                assert_eq!(d.kind, CodecKind::Opus);
                assert_eq!(d.name, "opus");
                assert_eq!(d.static_payload_type, None);
                assert_eq!(d.channels, 1);
            }
        }
    }

    #[test]
    fn unsupported_rates_are_rejected() {
        for rate in [0, 11_025, 22_050, 32_000, 44_100, 96_000] {
            assert_eq!(
                OpusDecoder::new(rate).unwrap_err(),
                Error::UnsupportedSampleRate(rate)
            );
            let cfg = OpusConfig {
                sample_rate: rate,
                ..OpusConfig::default()
            };
            assert_eq!(
                OpusEncoder::new(&cfg).unwrap_err(),
                Error::UnsupportedSampleRate(rate)
            );
        }
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        let bad = [
            (
                OpusConfig {
                    bitrate: 5_999,
                    ..OpusConfig::default()
                },
                "bitrate",
                5_999,
            ),
            (
                OpusConfig {
                    bitrate: 510_001,
                    ..OpusConfig::default()
                },
                "bitrate",
                510_001,
            ),
            (
                OpusConfig {
                    complexity: 11,
                    ..OpusConfig::default()
                },
                "complexity",
                11,
            ),
            (
                OpusConfig {
                    packet_loss_percent: 101,
                    ..OpusConfig::default()
                },
                "packet_loss_percent",
                101,
            ),
        ];
        for (cfg, name, value) in bad {
            assert_eq!(
                OpusEncoder::new(&cfg).unwrap_err(),
                Error::InvalidParameter { name, value }
            );
        }
    }

    #[test]
    fn frame_sizes() {
        for rate in [8_000u32, 16_000, 48_000] {
            let mut enc = OpusEncoder::new(&OpusConfig {
                sample_rate: rate,
                ..OpusConfig::default()
            })
            .unwrap();
            let mut dec = OpusDecoder::new(rate).unwrap();
            let mut out = [0u8; OpusEncoder::MAX_PACKET_BYTES];
            let mut pcm_out = vec![0i16; rate as usize * 120 / 1000];
            // 2.5, 5, 10, 20, 40, 60 ms.
            for tenths in [25u32, 50, 100, 200, 400, 600] {
                let len = (rate * tenths / 10_000) as usize;
                let pcm = tone(rate, len);
                let n = enc.encode(&pcm, &mut out).unwrap();
                assert!(n > 0);
                assert_eq!(dec.packet_samples(&out[..n]).unwrap(), len);
                assert_eq!(dec.decode(&out[..n], &mut pcm_out).unwrap(), len);
            }
            let ms = rate as usize / 1000;
            for len in [0, 1, ms, 15 * ms, 30 * ms, 80 * ms, 120 * ms, 20 * ms + 1] {
                let pcm = vec![0i16; len];
                assert_eq!(
                    enc.encode(&pcm, &mut out).unwrap_err(),
                    Error::UnsupportedFrameSize(len),
                    "{len} samples at {rate}"
                );
            }
        }
    }

    #[test]
    fn empty_output_buffer_is_too_small() {
        let mut enc = OpusEncoder::new(&OpusConfig::default()).unwrap();
        assert_eq!(
            enc.encode(&[0; 960], &mut []).unwrap_err(),
            Error::OutputTooSmall {
                needed: 1,
                available: 0
            }
        );
    }

    #[test]
    fn small_output_buffer_for_decode() {
        let mut enc = OpusEncoder::new(&OpusConfig::default()).unwrap();
        let mut dec = OpusDecoder::new(48_000).unwrap();
        let mut out = [0u8; 1500];
        let n = enc.encode(&tone(48_000, 960), &mut out).unwrap();
        let mut pcm = [0i16; 959];
        assert_eq!(
            dec.decode(&out[..n], &mut pcm).unwrap_err(),
            Error::OutputTooSmall {
                needed: 960,
                available: 959
            }
        );
    }

    #[test]
    fn conceal_and_fec_lengths() {
        let mut dec = OpusDecoder::new(16_000).unwrap();
        let mut pcm = vec![0i16; 16 * 130];
        assert_eq!(dec.conceal(&mut pcm[..320]).unwrap(), 320);
        assert_eq!(dec.conceal(&mut pcm[..40]).unwrap(), 40);
        assert_eq!(dec.conceal(&mut pcm[..1920]).unwrap(), 1920);
        for len in [0, 1, 41, 16 * 130] {
            assert_eq!(
                dec.conceal(&mut pcm[..len]).unwrap_err(),
                Error::UnsupportedFrameSize(len)
            );
        }
        assert_eq!(
            dec.decode_fec(&[], &mut pcm[..320]).unwrap_err(),
            Error::InvalidPayload {
                codec: CodecKind::Opus,
                len: 0
            }
        );
        assert_eq!(
            dec.decode_fec(&[0xF8, 0xFF, 0xFE], &mut pcm[..33])
                .unwrap_err(),
            Error::UnsupportedFrameSize(33)
        );
    }

    #[test]
    fn reconfigure_keeps_rate() {
        let mut enc = OpusEncoder::new(&OpusConfig::default()).unwrap();
        let cfg = OpusConfig {
            bitrate: 12_000,
            dtx: true,
            application: OpusApplication::Audio,
            ..OpusConfig::default()
        };
        enc.reconfigure(&cfg).unwrap();
        assert_eq!(enc.config(), &cfg);
        let wrong = OpusConfig {
            sample_rate: 16_000,
            ..cfg
        };
        assert_eq!(
            enc.reconfigure(&wrong).unwrap_err(),
            Error::InvalidParameter {
                name: "sample_rate",
                value: 16_000
            }
        );
    }

    #[test]
    fn lookahead_matches_libopus() {
        // 2.5 ms + 4 ms delay compensation in the VoIP application,
        // 2.5 ms alone in restricted low-delay.
        let voip = OpusEncoder::new(&OpusConfig::default()).unwrap();
        assert_eq!(voip.lookahead(), 312);
        let low = OpusEncoder::new(&OpusConfig {
            sample_rate: 8_000,
            application: OpusApplication::LowDelay,
            ..OpusConfig::default()
        })
        .unwrap();
        assert_eq!(low.lookahead(), 20);
        // Our default complexity is libopus's own.
        let raw =
            audiopus::coder::Encoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)
                .unwrap();
        assert_eq!(raw.complexity().unwrap(), OpusConfig::default().complexity);
    }

    #[test]
    fn bandwidth_for_rate() {
        use OpusBandwidth::*;
        let cases = [
            (1, Narrowband),
            (8_000, Narrowband),
            (11_999, Narrowband),
            (12_000, Mediumband),
            (16_000, Wideband),
            (22_050, Wideband),
            (24_000, SuperWideband),
            (44_100, SuperWideband),
            (48_000, Fullband),
            (96_000, Fullband),
        ];
        for (rate, bw) in cases {
            assert_eq!(OpusBandwidth::for_rate(rate), bw, "{rate}");
        }
        assert_eq!(Wideband.sample_rate(), 16_000);
    }

    #[test]
    fn remote_fmtp_maps_to_encoder_settings() {
        let fmtp: OpusFmtp =
            "maxplaybackrate=16000; sprop-maxcapturerate=48000; stereo=1; useinbandfec=1; \
             usedtx=1; maxaveragebitrate=20000; cbr=1"
                .parse()
                .unwrap();
        let mut cfg = OpusConfig::default();
        cfg.apply_remote_fmtp(&fmtp);
        assert_eq!(cfg.max_bandwidth, OpusBandwidth::Wideband);
        assert_eq!(cfg.bitrate, 20_000);
        assert!(cfg.inband_fec && cfg.dtx && cfg.cbr);
        assert_eq!(cfg.packet_loss_percent, 10);
        assert_eq!(cfg.sample_rate, 48_000, "stereo/sprop-* do not touch us");
        OpusEncoder::new(&cfg).unwrap();

        // Absent parameters take the RFC 7587 defaults.
        let mut cfg = OpusConfig {
            inband_fec: true,
            dtx: true,
            packet_loss_percent: 5,
            ..OpusConfig::default()
        };
        cfg.apply_remote_fmtp(&OpusFmtp::default());
        assert!(!cfg.inband_fec && !cfg.dtx && !cfg.cbr);
        assert_eq!(cfg.max_bandwidth, OpusBandwidth::Fullband);
        assert_eq!(cfg.bitrate, 32_000);
        assert_eq!(cfg.packet_loss_percent, 5);

        // maxaveragebitrate is clamped into libopus's range, never raises.
        for (max, want) in [(1_000, 6_000), (6_000, 6_000), (900_000, 32_000)] {
            let mut cfg = OpusConfig::default();
            cfg.apply_remote_fmtp(&OpusFmtp {
                max_average_bitrate: Some(max),
                ..OpusFmtp::default()
            });
            assert_eq!(cfg.bitrate, want, "maxaveragebitrate={max}");
            OpusEncoder::new(&cfg).unwrap();
        }

        // maxplaybackrate never widens a narrower local choice.
        let mut cfg = OpusConfig {
            max_bandwidth: OpusBandwidth::Narrowband,
            ..OpusConfig::default()
        };
        cfg.apply_remote_fmtp(&OpusFmtp {
            max_playback_rate: Some(48_000),
            ..OpusFmtp::default()
        });
        assert_eq!(cfg.max_bandwidth, OpusBandwidth::Narrowband);
    }

    #[test]
    fn max_bandwidth_is_honoured() {
        // A 48 kHz encoder told maxplaybackrate=8000 sends narrowband packets:
        // the TOC byte's config (RFC 6716 §3.1) is 0..=3 (SILK NB) or
        // 16..=19 (CELT NB).
        let mut cfg = OpusConfig::default();
        cfg.apply_remote_fmtp(&"maxplaybackrate=8000".parse().unwrap());
        let mut enc = OpusEncoder::new(&cfg).unwrap();
        let mut out = [0u8; 1500];
        for _ in 0..10 {
            let n = enc.encode(&tone(48_000, 960), &mut out).unwrap();
            let config = out[..n][0] >> 3;
            assert!(
                config <= 3 || (16..=19).contains(&config),
                "TOC config {config} is not narrowband"
            );
        }
    }
}
