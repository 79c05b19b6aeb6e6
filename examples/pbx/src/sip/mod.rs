//! The SIP driver: UDP, TCP and TLS listeners feeding one core task.
//!
//! Transport tasks frame bytes with sip-core (datagrams, [`sip_core::StreamFramer`] on
//! streams, RFC 5626 CRLF keep-alives answered) and send [`Inbound`] messages to the core
//! task; the core answers with [`Outbound`] bytes routed back to the source (UDP) or onto the
//! same connection (TCP/TLS). The core is the DoS guard plus [`b2bua::Pbx`]: sip-core's
//! Endpoint (transactions), the digest registrar and a back-to-back user agent.

pub mod b2bua;
pub mod core;
pub mod sdp;
mod transport;

use std::net::SocketAddr;

use bytes::Bytes;
use sip_core::{Message, ParseError};

pub use transport::{SipServer, TlsGate, Transports};

/// A SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// The Via transport token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
        }
    }
}

/// A connection of a stream transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A message (or a framed but invalid one) received by a transport.
#[derive(Debug)]
pub struct Inbound {
    /// The transport.
    pub transport: Transport,
    /// The connection, for TCP/TLS.
    pub conn: Option<ConnId>,
    /// The source address.
    pub from: SocketAddr,
    /// What arrived.
    pub message: Received,
}

/// What a transport received.
#[derive(Debug)]
pub enum Received {
    /// A SIP message.
    Message(Message),
    /// A framed message that failed to parse (so it can be answered).
    Invalid(ParseError),
    /// A UDP keep-alive for the endpoint: a STUN Binding request or CRLFs (RFC 5626).
    KeepAlive(bytes::Bytes),
}

/// Bytes to send.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The transport.
    pub transport: Transport,
    /// The connection to write to (TCP/TLS).
    pub conn: Option<ConnId>,
    /// The destination (UDP).
    pub to: SocketAddr,
    /// The bytes.
    pub bytes: Bytes,
}
