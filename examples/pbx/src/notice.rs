//! What the PBX's tasks report for the event system (mapped to the catalogue in `events`).

use sip_core::dos;

/// A notice from a task.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Notice {
    /// The DoS blacklist changed (MV2-34).
    Dos(dos::Change),
    /// The licensing engine reported a change.
    Licence(licensing::Event),
    /// A trunk's registration at its provider changed (MV2-35).
    Trunk(crate::sip::b2bua::TrunkNotice),
}
