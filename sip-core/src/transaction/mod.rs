//! The RFC 3261 §17 transaction layer: the four state machines (INVITE and non-INVITE, client
//! and server), their timers, and the keys that match messages to them (§17.1.3, §17.2.3).
//!
//! The machines are driven by [`crate::endpoint::Endpoint`]; they are public so that their
//! states and timer values can be inspected and tested. Time is an argument: every
//! transition takes `now`, and [`ClientTransaction::deadline`] /
//! [`ServerTransaction::deadline`] say when the next timer fires.

mod client;
mod key;
mod server;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use crate::Message;

pub use client::{ClientState, ClientTransaction};
pub use key::{ClientKey, ServerKey};
pub use server::{InvalidState, ServerState, ServerTransaction};

/// RFC 3261 timer base values (§17.1.1.1, Table 4). Shorten them in tests if you like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate (default 500 ms).
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// Maximum duration a message remains in the network (5 s).
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// `64*T1`: Timers B, F, H, J (for unreliable transports), L and M (RFC 6026).
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// The transport a message travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// UDP (unreliable: the transaction layer retransmits).
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// WebSocket (RFC 7118).
    Ws,
}

impl Transport {
    /// Whether the transport is reliable (no retransmissions, zero-length wait timers).
    pub const fn is_reliable(self) -> bool {
        !matches!(self, Self::Udp)
    }

    /// The Via transport token (`UDP`, `TCP`, `TLS`, `WS`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
            Self::Ws => "WS",
        }
    }
}

/// Bytes to send, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The transport to use (for a stream: the connection to `destination`).
    pub transport: Transport,
    /// The remote address.
    pub destination: SocketAddr,
    /// One whole SIP message.
    pub payload: Bytes,
}

/// Identifies a transaction (or a stateless request) inside one [`crate::endpoint::Endpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub(crate) u64);

/// Why a transaction ended without the expected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Timer B or F: the request got no final response (the TU treats it as 408).
    NoResponse,
    /// Timer H: our non-2xx final response to an INVITE was never acknowledged.
    NoAck,
    /// Timer L (RFC 6026): our 2xx to an INVITE was never acknowledged (the TU sends BYE).
    No2xxAck,
}

/// Interval doubling capped at `cap` (Timers A, E, G and 2xx retransmission).
pub(crate) fn backoff(current: Duration, cap: Option<Duration>) -> Duration {
    let next = current * 2;
    match cap {
        Some(c) if next > c => c,
        _ => next,
    }
}

/// What a transaction asks its driver to do.
#[derive(Debug)]
pub(crate) enum Output {
    /// Send these bytes to the transaction's peer.
    Send(Bytes),
    /// Pass this response to the TU.
    Response(Message),
    /// A timer expired without the expected message.
    Timeout(TimeoutKind),
    /// The transport failed.
    TransportError,
    /// The transaction is over; forget it.
    Terminated,
}
