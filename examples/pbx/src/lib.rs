//! The PBXKit reference PBX: a thin tokio composition of the PBXKit crates.
//!
//! - [`config`]: the TOML configuration (embedded default, `deny_unknown_fields`, positioned
//!   diagnostics, capacity limits of MV-50).
//! - [`cli`]: the command line (`pbx`, `--config`, `--check-config`, `--data-dir`).
//! - [`data`]: the data directory (atomic writes, generated passwords, TLS certificate).
//! - [`secrets`]: generated SIP passwords and the UCM-OPS-4 policy.
//! - [`sip`]: UDP/TCP/TLS listeners, framing, the core task: digest registrar and B2BUA.
//! - [`cdr`]: call detail records as JSON lines.
//! - [`media`]: RTP port allocation, the two-leg relay with transcoding, MOS estimates.
//! - [`licence`]: strict licensing or the demo mode.
//! - [`delivery`]: event delivery (JSON lines, syslog, SNMP, SMTP) through the events engine.
//! - [`runtime`]: the composition and graceful shutdown.

pub mod cdr;
pub mod cli;
pub mod config;
pub mod data;
pub mod delivery;
pub mod licence;
pub mod media;
pub mod notice;
pub mod runtime;
pub mod secrets;
pub mod sip;
pub mod tls_expiry;
