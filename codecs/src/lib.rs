//! Voice codecs for PBXKit: G.711 (A-law, µ-law), G.722, G.729 (Annex A/B),
//! Opus, sample-rate conversion and transcoding.
//!
//! This is a pure DSP crate: no I/O, no clocks, no allocation per frame.
//! Every codec implements the same two traits over caller-owned buffers:
//!
//! - [`Encoder::encode`] turns a frame of 16-bit PCM at the codec's
//!   [`CodecDescriptor::sample_rate`] into an RTP payload;
//! - [`Decoder::decode`] turns a payload back into PCM, and
//!   [`Decoder::conceal`] synthesises a frame for a lost packet
//!   (packet-loss concealment).
//!
//! [`Transcoder`] converts a frame between any two supported codecs,
//! resampling as needed ([`resample`]). [`wav`] reads and writes 16-bit PCM
//! WAV files from memory.
//!
//! # Correctness
//! G.711 and G.722 are bit-exact to the ITU-T STL test vectors, G.729 is
//! checked bit for bit against `libbcg729`, Opus is `libopus` (through
//! `audiopus`). The tests read the vectors from `../shared/testdata` at run
//! time and skip with a message when it is absent.
//!
//! # Errors
//! Every fallible call returns [`Error`]: wrong buffer sizes, unsupported
//! rates or frame sizes, malformed payloads and malformed WAV files are typed
//! variants. Nothing panics on bad input.

pub mod g711;
pub mod g722;
pub mod g729;
pub mod opus;
pub mod plc;
pub mod resample;
pub mod transcoder;
pub mod wav;

mod codec;
mod error;

pub use codec::{CodecDescriptor, CodecKind, Decoder, Encoder};
pub use error::Error;
pub use transcoder::Transcoder;
