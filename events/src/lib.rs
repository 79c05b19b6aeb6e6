//! # pbxkit-events
//!
//! The PBX event subsystem of the MiVoice Office 400 manual (chapter 6.3), sans-IO:
//!
//! * **Catalogue** ([`EventKind`], [`KindSpec`]): the 170 event types of Tab. 23 with their
//!   stable ids, severity, polarity, counterparts and typed detail fields (EV-1..EV-11).
//! * **Messages** ([`Event`]): one raised message carries its kind, the raising [`NodeId`],
//!   a wall-clock [`Timestamp`], its typed details ([`DetailValue`], checked against the
//!   kind's [`FieldSpec`]s) and an occurrence count.
//! * **Active set** ([`ActiveSet`]): negative messages are cleared by their positive
//!   counterpart, the others by manual acknowledgement; the SRM [`SystemStatus`] is derived
//!   from it (EV-4..EV-6, EV-35).
//! * **Event tables** ([`EventTable`], [`Filter`]): 7 tables, each filtering every type with
//!   none / all / advanced (N occurrences in an interval) (EV-12..EV-17).
//! * **Destinations** ([`Destination`], [`Bindings`], [`DestinationConfig`]) and the
//!   [`Engine`] that schedules deliveries: system phones, external primary/backup with 5-min
//!   batching and 4-h backoff, local, SNMP, event log, e-mail, ATAS, SRM, test messages
//!   (EV-18..EV-38).
//! * **Pure delivery formats**: [`email`] (Tab. 24 codes, RFC 5322 message, a sans-IO SMTP
//!   client), [`snmp`] (SNMPv2c trap encoding and our MIB tree), [`format`](mod@format) (JSON lines and
//!   RFC 5424 syslog).
//! * **Raising rules** ([`rules`]): `*77` user events, timing thresholds (EV-39..EV-45).
//! * **UC module and service status** ([`ucm`], UCM-EV-1..8).
//!
//! ## Drive contract (sans-IO)
//!
//! The crate does no I/O and reads no clock; time is always an argument. A driver (the PBX)
//! owns sockets, files and timers and runs this loop:
//!
//! ```
//! use pbxkit_events::{Engine, EngineConfig, Event, EventKind, NodeId, Outcome, Timestamp};
//!
//! let mut engine = Engine::new(EngineConfig::default())?;
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! engine.raise(now, Event::simple(EventKind::SystemRestarted, NodeId(1), now)?)?;
//! // After every `raise` / `report` / `handle_timeout`:
//! while let Some(delivery) = engine.poll_delivery() {
//!     // hand `delivery.events` to the adapter for `delivery.target`, then, if
//!     // `delivery.needs_report`, tell the engine how it went:
//!     if delivery.needs_report {
//!         engine.report(now, delivery.id, Outcome::Delivered)?;
//!     }
//! }
//! while let Some(_notice) = engine.poll_event() { /* status changes, overflows */ }
//! // Sleep until `engine.poll_timeout()`, then call `engine.handle_timeout(now)`.
//! assert_eq!(engine.event_log().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Time
//!
//! [`Timestamp`] is wall-clock milliseconds since the Unix epoch, supplied by the caller. It
//! stamps messages (their `date` and `time` fields) and drives every timer (batching,
//! backoff, advanced-filter windows). Arithmetic saturates: a clock stepped backwards only
//! delays timers.
//!
//! ## Errors
//!
//! Every fallible call returns a typed, `#[non_exhaustive]` error: [`EventError`] (a detail
//! does not fit the kind's field spec), [`FilterError`] (a table or advanced setting out of
//! the manual's range), [`DestinationError`] (too many targets, destination not in
//! service), [`EngineError`] (wrong server role, unknown delivery, not active). Nothing
//! panics on input.
//!
//! ## Delivery guarantees
//!
//! A failing destination never blocks another: each destination has its own bounded queue
//! ([`DestinationConfig::queue_capacity`]). On overflow the oldest message is dropped, counted
//! and reported through [`Notice::Overflow`]. Failed deliveries are retried per the
//! destination's rules.

mod active;
mod catalogue;
mod destination;
pub mod email;
mod engine;
mod event;
pub mod format;
mod kind;
mod log;
pub mod rules;
pub mod snmp;
mod table;
mod time;
pub mod ucm;

pub use active::{ActiveChange, ActiveEntry, ActiveId, ActiveSet, SystemStatus};
pub use destination::{
    Bindings, Destination, DestinationCause, DestinationConfig, DestinationError, ExternalTiming,
    Failure, LocalLink, MAX_EMAIL_TARGETS, MAX_SNMP_TARGETS,
};
pub use email::{EmailCause, EmailClient, SmtpAction};
pub use engine::{
    Delivery, DeliveryId, DestinationSet, ERROR_FLOOD_LIMIT, ERROR_FLOOD_WINDOW, Engine,
    EngineConfig, EngineError, Notice, Outcome, RaiseOutcome, RoutingWarning, ServerRole,
    TRUNK_FLOOD_KINDS, Target, required_role,
};
pub use event::{DetailValue, Event, EventBuilder, EventError, MAX_TEXT_LEN, NodeId};
pub use kind::{
    Colour, EventKind, FieldSpec, FieldType, KindSpec, Platforms, Polarity, Severity, UnknownKind,
};
pub use log::{EVENT_LOG_CAPACITY, MAINS_LOG_CAPACITY, Ring};
pub use table::{
    Advanced, EventTable, Filter, FilterError, MAX_INTERVAL_HOURS, MAX_OCCURRENCES,
    MIN_INTERVAL_HOURS, MIN_OCCURRENCES, TABLE_COUNT, TableId,
};
pub use time::{Civil, Timestamp};
