//! Sans-IO media engine for PBXKit: RTP/RTCP, statistics, jitter buffer,
//! RFC 4733 DTMF, in-band tones, SRTP, SDP offer/answer, conference mixing,
//! RTP relay and the media-resource budget.
//!
//! # What it is
//!
//! The media half of a PBX without sockets, threads or clocks. The PBX
//! (`examples/pbx`) owns the UDP sockets and the audio clock, feeds bytes and
//! times in, and sends what comes out. This crate knows no SIP (SDP arrives
//! as text) and no codec (payload types are wired to `codecs` by the PBX).
//!
//! | module | what | standards |
//! |---|---|---|
//! | [`rtp`] | zero-copy RTP parse, allocation-free build, rtcp-mux demux | RFC 3550 §5, RFC 5761 |
//! | [`rtcp`] | compound RTCP: SR, RR, SDES, BYE, APP (others raw) | RFC 3550 §6 |
//! | [`stats`] | sequence validation, loss, jitter, report blocks, RTT | RFC 3550 A.1/A.3/A.8 |
//! | [`session`] | one RTP session: stats per source, periodic SR/RR + SDES, RTT, BYE | RFC 3550 §6 |
//! | [`jitter`] | adaptive (percentile + forgetting) or fixed jitter buffer | NetEQ-style |
//! | [`dtmf`] | telephone-event receive/send | RFC 4733 |
//! | [`inband`] | RFC 4733 events ↔ in-band DTMF for a gateway between the two | RFC 4733 §2.5, Q.24 |
//! | [`tones`] | dial/busy/ringback/call-waiting/DTMF generation; Goertzel DTMF detection | ITU-T E.180, Q.23, Q.24 |
//! | [`srtp`] | SRTP/SRTCP AES_CM_128_HMAC_SHA1_80/_32, AEAD_AES_128_GCM | RFC 3711, RFC 7714 |
//! | [`sdes`] | `a=crypto` parse/print | RFC 4568 |
//! | [`sdp`] | SDP parse/print, offer/answer, hold, typed rejections (488) | RFC 8866, RFC 3264 |
//! | [`mixer`] | N-party minus-self mixing, silent intrusion, whisper | MV-37 |
//! | [`relay`] | symmetric RTP, comedia latching, SSRC/seq continuity | MV-36 |
//! | [`player`] | WAV clips, playlists, looping MoH, locale prompts, recorder | UCM-RTP-2/3 |
//! | [`budget`] | connection/conference/tone/audio/codec-channel limits; storage hours | MV-36..43, MV2-42..44, UCM-RTP-1/2/4/5 |
//!
//! # Drive contract
//!
//! Every stateful type follows the workspace vocabulary (ARCHITECTURE.md):
//! inputs are `handle_*` calls (or `insert`/`process`/`allocate` where the
//! noun reads better), outputs are drained with `poll_event` and, where
//! there are timers, `poll_timeout` tells the driver when to call
//! `handle_timeout(now)`. For one RTP stream a driver typically does:
//!
//! ```text
//! datagram from socket ──► rtp::is_rtcp? ──► srtp::SrtpContext::unprotect_rtp / _rtcp
//!        │ RTP                                   │ RTCP
//!        ▼                                       ▼
//! stats::ReceiverStats::handle_packet     rtcp::parse_compound (SR → handle_sender_report)
//!        │
//!        ├── PT = telephone-event ──► dtmf::DtmfReceiver::handle_packet ─► poll_event
//!        └── every packet (events hold their sequence numbers) ──► jitter::JitterBuffer::insert
//! every ptime: jitter::JitterBuffer::pop(now) ─► decode / conceal / comfort noise (codecs)
//!              ─► mixer::Mixer::set_input … mix … output ─► encode ─► srtp protect ─► socket
//! ```
//!
//! A minimal receive path, runnable as a doc test:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use pbxkit_rtp_media::jitter::{JitterBuffer, JitterConfig, JitterMode, Playout};
//! use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
//! use pbxkit_rtp_media::srtp::{SrtpContext, SrtpProfile};
//!
//! // Sender side: build and protect one PCMA packet.
//! let (key, salt) = ([7u8; 16], [9u8; 14]);
//! let mut tx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key, &salt)?;
//! let mut buf = [0u8; 256];
//! let n = RtpHeader::new(PayloadType::PCMA, 1, 160, Ssrc(42)).build(&[0xd5; 160], 0, &mut buf)?;
//! let n = tx.protect_rtp(&mut buf, n)?;
//!
//! // Receiver side: unprotect, parse, buffer, and pop at the frame clock.
//! let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key, &salt)?;
//! let len = rx.unprotect_rtp(&mut buf[..n])?;
//! let p = RtpPacket::parse(&buf[..len])?;
//! let now = Instant::now(); // the driver's clock; the crate never reads one
//! let mut jb = JitterBuffer::new(JitterConfig {
//!     mode: JitterMode::Fixed(Duration::from_millis(20)),
//!     ..JitterConfig::default()
//! });
//! jb.insert(now, p.ssrc(), p.sequence(), p.timestamp(), p.payload_type(), p.payload());
//! let mut decoded = 0;
//! for tick in 0..5u32 {
//!     if let Playout::Audio(frame) = jb.pop(now + Duration::from_millis(20) * tick) {
//!         decoded += frame.payload.len(); // hand to the G.711 decoder
//!     }
//! }
//! assert_eq!(decoded, 160);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Time
//!
//! Time is always an argument: `now: Instant` for monotonic time (arrival,
//! playout, timeouts). Nothing here reads a clock or sleeps (`clippy.toml`
//! bans `Instant::now`, `SystemTime::now`, `thread::sleep`), so tests run a
//! virtual clock: a minute of media takes milliseconds.
//!
//! # Errors
//!
//! Each module has its own `#[non_exhaustive]` error enum (`RtpError`,
//! `RtcpError`, `SrtpError`, `SdesError`, `SdpError`, `MixerError`,
//! budget [`budget::Refusal`], SDP [`sdp::Rejection`]) carrying structure,
//! never strings. Bytes from the network never panic: every parser is
//! bounds-checked and returns an error (or a typed drop reason) instead.
//!
//! # Buffers
//!
//! Parsing borrows the datagram; building, SRTP and the relay work in
//! caller-owned buffers. The jitter buffer and mixer preallocate their
//! slots, so the per-packet paths do not allocate.

pub mod budget;
pub mod dtmf;
pub mod inband;
pub mod jitter;
pub mod mixer;
pub mod player;
pub mod relay;
pub mod rtcp;
pub mod rtp;
pub mod sdes;
pub mod sdp;
pub mod session;
pub mod srtp;
pub mod stats;
pub mod tones;
