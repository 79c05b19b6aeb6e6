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
