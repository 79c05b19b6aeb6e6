//! Usage counters for licence pools, with RAII leases.
//!
//! A pool counts units in use; the capacity comes from the effective licences at the
//! moment of acquisition (so loading a file or activating a test licence changes what the
//! *next* acquisition sees; leases already granted are never revoked — the seed has no
//! licence return, MV-21). Dropping a [`Lease`] gives its unit back.
//!
//! In an AIN the pools live on the master (MV-17): a channel used on any node is a unit of
//! the one AIN-wide pool. Per-node licences (Secure VoIP, QSIG, MV-18) are keyed by node.
//! The AIN layer acquires leases on behalf of satellites through the same API, keeps the
//! guards keyed by its own remote-lease ids, and drops them when a satellite releases the
//! unit or is declared lost.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::catalogue::LicenceType;

/// An AIN node (the master is a node too). A single system is `NodeId::LOCAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u16);

impl NodeId {
    /// The node of a single (non-AIN) system, and the master's own id by convention.
    pub const LOCAL: Self = Self(0);
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// A configured user, for user-bound packages (MV-15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub u32);

/// What a unit of a pool is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PoolKey {
    /// A licence pooled on the master (AIN-wide, "Master" placement).
    Licence(LicenceType),
    /// A licence held per node ("per node" or "backup server" placement).
    NodeLicence(LicenceType, NodeId),
    /// The free B-channels of one PRI interface (10, not transferable, MV-19).
    FreePri {
        /// The node carrying the PRI.
        node: NodeId,
        /// The PRI interface on that node.
        interface: u16,
    },
    /// The 2 free G.711 channels of a hardware node in G.711 VoIP mode (MV-19).
    FreeG711(NodeId),
    /// Voice-mail / recording / IVR audio channels (Enterprise VM's 2 + Audio Record &
    /// Play + the UCC bonus, MV-15, MV-17).
    AudioChannels,
    /// The terminal slots of one user's package (1 for Basic User, 8 for UCC).
    PackageSlots(UserId),
    /// Package licences assigned to users, per package type.
    Package(LicenceType),
    /// UCM voicemail ports leased by voicemail-server instances (UCM-LIC-8).
    VoicemailPorts,
}

#[derive(Debug, Default)]
struct Table {
    used: HashMap<PoolKey, u32>,
}

/// Shared usage counters. Cheap to clone (an `Arc`).
#[derive(Debug, Clone, Default)]
pub struct Pools {
    inner: Arc<Mutex<Table>>,
}

impl Pools {
    /// Empty counters.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A poisoned lock only means another thread panicked mid-update of plain counters;
        // the counters themselves stay consistent (each update is a single `+=`/`-=`).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Units of `key` in use.
    pub fn in_use(&self, key: PoolKey) -> u32 {
        self.lock().used.get(&key).copied().unwrap_or(0)
    }

    /// Takes one unit from the first candidate `(key, capacity)` with room, atomically.
    pub fn acquire_first(&self, candidates: &[(PoolKey, u32)]) -> Option<Lease> {
        let mut t = self.lock();
        for &(key, cap) in candidates {
            let used = t.used.entry(key).or_insert(0);
            if *used < cap {
                *used += 1;
                return Some(Lease {
                    pools: self.clone(),
                    key,
                });
            }
        }
        None
    }

    /// Takes one unit of every `(key, capacity)` pair, or none of them.
    pub fn acquire_all(&self, wanted: &[(PoolKey, u32)]) -> Option<Vec<Lease>> {
        let mut t = self.lock();
        let fits = wanted.iter().all(|&(key, cap)| {
            let extra = wanted.iter().filter(|(k, _)| *k == key).count();
            let used = t.used.get(&key).copied().unwrap_or(0);
            u64::from(used) + extra as u64 <= u64::from(cap)
        });
        if !fits {
            return None;
        }
        let mut leases = Vec::with_capacity(wanted.len());
        for &(key, _) in wanted {
            *t.used.entry(key).or_insert(0) += 1;
            leases.push(Lease {
                pools: self.clone(),
                key,
            });
        }
        Some(leases)
    }

    fn release(&self, key: PoolKey) {
        let mut t = self.lock();
        if let Some(used) = t.used.get_mut(&key) {
            *used = used.saturating_sub(1);
        }
    }
}

/// One unit taken from a pool; dropping it gives the unit back.
#[derive(Debug)]
#[must_use = "dropping a lease releases the unit at once"]
pub struct Lease {
    pools: Pools,
    key: PoolKey,
}

impl Lease {
    /// What the unit is counted against.
    pub const fn key(&self) -> PoolKey {
        self.key
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pools.release(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_count_and_release() {
        let p = Pools::new();
        let k = PoolKey::Licence(LicenceType::SipAccessChannels);
        let a = p.acquire_first(&[(k, 2)]).unwrap();
        let b = p.acquire_first(&[(k, 2)]).unwrap();
        assert!(p.acquire_first(&[(k, 2)]).is_none());
        assert_eq!(p.in_use(k), 2);
        drop(a);
        assert_eq!(p.in_use(k), 1);
        let _c = p.acquire_first(&[(k, 2)]).unwrap();
        drop(b);
        assert_eq!(p.in_use(k), 1);
    }

    #[test]
    fn first_with_room_wins() {
        let p = Pools::new();
        let a = PoolKey::Licence(LicenceType::MitelSipTerminals);
        let b = PoolKey::Licence(LicenceType::SipTerminals);
        let l = p.acquire_first(&[(a, 0), (b, 1)]).unwrap();
        assert_eq!(l.key(), b);
    }

    #[test]
    fn all_or_nothing() {
        let p = Pools::new();
        let a = PoolKey::Licence(LicenceType::SipTerminals);
        let v = PoolKey::Licence(LicenceType::VideoTerminals);
        assert!(p.acquire_all(&[(a, 1), (v, 0)]).is_none());
        assert_eq!(p.in_use(a), 0);
        let both = p.acquire_all(&[(a, 1), (v, 1)]).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(p.in_use(v), 1);
    }
}
