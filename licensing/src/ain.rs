//! What the AIN layer needs from licensing on the master (MV-17, MV-25, MV-26).
//!
//! Satellites do not hold licences of master-placed types: they ask the master, which
//! acquires on their behalf through the ordinary admission calls
//! ([`crate::Licensing::register_on`], [`crate::Licensing::acquire_channel`] with the
//! satellite's [`NodeId`], [`crate::Licensing::open_session`]) and parks the resulting
//! guards here under the satellite's own request id. A release message drops one guard; a
//! satellite declared lost drops all of its guards at once.

use std::collections::BTreeMap;

use crate::admission::{ChannelGuard, PackageSeat, Registration};
use crate::pool::{Lease, NodeId};

/// A grant held for a remote node.
#[derive(Debug)]
#[non_exhaustive]
pub enum Held {
    /// A channel (VoIP, SIP access, PRI, audio, QSIG).
    Channel(ChannelGuard),
    /// A terminal registration.
    Registration(Registration),
    /// A counted session (CSTA, SIMPLE/MSRP, Dialer).
    Session(Lease),
    /// A package bound to a user.
    Seat(PackageSeat),
    /// Both ends of an inter-node connection.
    Connection([ChannelGuard; 2]),
}

/// Grants held by the master for other nodes, keyed by (node, the node's request id).
#[derive(Debug, Default)]
pub struct RemoteLeases {
    held: BTreeMap<(NodeId, u64), Held>,
}

impl RemoteLeases {
    /// No grants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parks a grant for `node` under its request id. A duplicate id is refused and the
    /// grant handed back (dropping it releases the units).
    pub fn insert(&mut self, node: NodeId, id: u64, held: Held) -> Result<(), Held> {
        if self.held.contains_key(&(node, id)) {
            return Err(held);
        }
        self.held.insert((node, id), held);
        Ok(())
    }

    /// Releases one grant; `false` if unknown.
    pub fn release(&mut self, node: NodeId, id: u64) -> bool {
        self.held.remove(&(node, id)).is_some()
    }

    /// Releases everything `node` holds (the node was lost); returns how many grants.
    pub fn release_node(&mut self, node: NodeId) -> usize {
        let before = self.held.len();
        self.held.retain(|(n, _), _| *n != node);
        before - self.held.len()
    }

    /// Grants held for `node`.
    pub fn held_by(&self, node: NodeId) -> usize {
        self.held.keys().filter(|(n, _)| *n == node).count()
    }
}
