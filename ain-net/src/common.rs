//! Types shared by the master and satellite machines.

use std::time::Duration;

use crate::{Frame, Message};

/// A connection id chosen by the driver (one TCP connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Bytes to write on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Connection to write to.
    pub conn: ConnId,
    /// Encoded frames.
    pub bytes: Vec<u8>,
    /// Close the connection after writing (refusal, protocol error, timeout).
    pub close: bool,
}

/// Liveness timers (documented defaults, overridable for tests and the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Heartbeat interval (default 5 s).
    pub heartbeat_interval: Duration,
    /// Silence after which the peer is lost / the satellite goes offline (default 30 s).
    pub heartbeat_timeout: Duration,
    /// Lifetime of the offline temporary licences (36 h, MV-8/MV-25).
    pub offline_licence_lifetime: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(30),
            offline_licence_lifetime: Duration::from_secs(36 * 3600),
        }
    }
}

/// Most nodes in one AIN, master included (MV-22).
pub const MAX_NODES: usize = 50;

pub(crate) fn frame_bytes(seq: &mut u32, msg: Message) -> Vec<u8> {
    *seq = seq.wrapping_add(1);
    Frame { seq: *seq, msg }.to_bytes()
}
