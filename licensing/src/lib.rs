//! Signed, EID-bound licence files and the complete MiVoice Office 400 licence model.
//!
//! (Manual: see the sections below.)

mod admission;
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
pub use event::{Event, LimitClass, RestrictedCause};
pub use file::{
    Activation, Binding, Eid, Expectations, FORMAT_VERSION, Field, LicenceFile, MAX_COUNT, Release,
    SalesChannel, Swa, Value, VerifyError,
};
pub use key::{KeyError, KeyId, SIGNATURE_LEN, SigningKey, TrustAnchors, VerifyingKey};
pub use pool::{Lease, NodeId, PoolKey, Pools, UserId};
pub use state::{PersistentState, StateError};
