//! Signed, EID-bound licence files and the complete MiVoice Office 400 licence model.
//!
//! This crate is the licensing core of PBXKit: the licence file (format, canonical
//! encoding, Ed25519 signature, verification), the 49 licence types of the seed's Tab. 15
//! ([`catalogue`]), and a sans-IO engine ([`Licensing`]) that turns a verified file, the
//! passage of time and a few external facts (licence-server answers, AIN links) into an
//! operating [`Mode`], admission decisions and typed [`Event`]s. A second profile,
//! [`ucm`], covers the UC-module licence/subscription rules. [`sls`] is our
//! online-verification protocol with a reference licence server.
//!
//! # Time
//!
//! The crate never reads a clock (`clippy.toml` bans it). Every time-dependent call takes
//! `now: SystemTime` — wall-clock time, because licence expiries are dates and the
//! countdowns that must survive a restart are persisted as instants. Drive the engine
//! like every PBXKit core:
//!
//! ```text
//! after any handle_* / load_file / use / acquire call:
//!     while let Some(e) = licensing.poll_event() { map e into the event system }
//! sleep until licensing.poll_timeout(), then licensing.handle_timeout(now)
//! ```
//!
//! Timers ([`Config`], defaults are the seed's numbers): restricted mode 4 h after boot or
//! software load without a valid Software Release (and, on a VA, Base VA) licence; test
//! licences 60 days; offline temporary licences 36 h; satellite restart every 4 h
//! without an upgrade licence, restricted after 36 h / 4 h offline; 72 h without the
//! licence server or without the gateway satellite; 24 h clone quiet period.
//!
//! # Licence file format (version 1)
//!
//! A TOML document. Only the values matter: comments, blank space and key order are free.
//!
//! ```toml
//! format = 1                          # required; other versions are refused
//! key_id = "0537149d8c8d3972"         # id of the signing key (SHA-256 of it, 8 bytes)
//! eid = "VA-1234"                     # the EID the file is bound to
//! gateway_eid = "SAT-415-1"           # only in gateway-EID mode
//! sales_channel = "generic"           # the sales channel the file is tied to
//! issued = "2026-11-22"
//! activation = "permanent"            # or "temporary" + activation_expires = "YYYY-MM-DD"
//! signature = "…128 hex digits…"      # Ed25519 over the canonical encoding
//!
//! [swa]                               # Software Assurance: covered users, last day
//! covered_users = 50
//! expires = "2027-12-31"
//!
//! [licences]                          # keys: LicenceInfo::key of the 49 types
//! software_release = "6.0"            # the SR licence: a release
//! user = 50                           # count licences: 1..=1_000_000
//! secure_voip = true                  # switch licences: true
//!
//! [expires]                           # optional: last day of a licence that ends
//! user = "2027-06-30"                 # (a licence without an entry does not end)
//! ```
//!
//! The signature covers [`LicenceFile::canonical_bytes`]: a line-oriented encoding of every
//! field in fixed order (licences in Tab. 15 order), each value from an alphabet without
//! separators, so two files verify to the same content exactly when their canonical bytes
//! are equal. Verification ([`LicenceFile::verify`]) rejects, each with its own
//! [`VerifyError`]: non-UTF-8 or non-TOML input, a missing or unsupported version, a
//! missing, unknown or malformed field, a missing or malformed signature, a key not among
//! the embedder's [`TrustAnchors`], a signature that does not match (any tampering), a
//! missing dependency, a Software Release without a valid SWA, another EID, another or
//! missing gateway EID in gateway mode, a gateway file in online mode, another sales
//! channel. Keys are one-line texts (`ed25519-private:<hex>`, `ed25519-public:<hex>`);
//! the embedding application supplies its vendor's public key as a trust anchor.
//!
//! # Persistence
//!
//! The crate is pure: it does no file I/O. What must survive a restart (test-licence
//! activations, countdown starts, the offline start) is in [`PersistentState`]; when
//! [`Event::PersistentStateChanged`] is raised, write [`PersistentState::to_toml`]
//! atomically (temporary file in the same directory, fsync, rename) and pass
//! [`PersistentState::from_toml`] to [`Licensing::new`] at boot. The licence file itself
//! is kept by the embedder as received and verified again at boot
//! ([`Licensing::with_file`]).
//!
//! # Admission
//!
//! [`Licensing::may_register`] (terminal licences with the seed's one-way fallbacks),
//! [`Licensing::acquire_channel`] (AIN-wide pools, per-node QSIG, free PRI and G.711
//! allowances), [`Licensing::use_feature`] / [`Licensing::feature_enabled`] (switch
//! features, first-use test licences), [`Licensing::behaviour_allowed`] (what restricted
//! mode gates) and [`Licensing::mode`]. Grants are RAII guards over shared [`Pools`]:
//! dropping one gives the unit back. In an AIN the pools live on the master; the AIN layer
//! acquires on behalf of satellites ([`Licensing::register_on`],
//! [`Licensing::acquire_channel`] with the satellite's [`NodeId`]) and drops the guards
//! when a satellite releases them or is lost ([`ain::RemoteLeases`]; an inter-node
//! connection's two VoIP units come from [`Licensing::acquire_inter_node`]); per-node licences of other nodes are
//! reported with [`Licensing::set_node_licences`], the master's counts go to satellites
//! through [`Licensing::handle_master_licences`].
//!
//! # Errors
//!
//! [`VerifyError`] and [`LoadError`] for files, [`Refusal`] for admission, [`KeyError`],
//! [`StateError`], [`sls::SlsError`] and [`ucm::UcmError`]: typed, `#[non_exhaustive]`.
//! Nothing read from a file or the network panics.
//!
//! Decisions on the seed's ambiguities (A4, A5, A7…) are recorded in
//! `docs/decisions.md`.

mod admission;
pub mod ain;
pub mod catalogue;
mod date;
mod engine;
mod event;
mod file;
mod key;
mod pool;
pub mod sls;
mod state;
pub mod ucm;

pub use admission::{
    ChannelGuard, ChannelKind, MediaSwitch, Package, PackageSeat, Registration, Session, SwaSource,
    SwaStatus, SwaValidity, TerminalKind, UccBonus, UserTerminals, ucc_bonus,
};
pub use catalogue::{Kind, LicenceInfo, LicenceType, OaiConsumer, Placement, Unlicensed};
pub use date::Date;
pub use engine::{
    Behaviour, Config, Grant, Identity, Licensing, LoadError, Mode, Platform, Refusal, Role,
    SatelliteRoles, ServerVerdict, ViewEntry, ViewValue,
};
pub use event::{Event, LimitClass, MiCollabLimit, RestrictedCause};
pub use file::{
    Activation, Binding, Eid, Expectations, FORMAT_VERSION, Field, LicenceFile, MAX_COUNT, Release,
    SalesChannel, Swa, Value, VerifyError,
};
pub use key::{KeyError, KeyId, SIGNATURE_LEN, SigningKey, TrustAnchors, VerifyingKey};
pub use pool::{Lease, NodeId, PoolKey, Pools, UserId};
pub use state::{PersistentState, StateError};
