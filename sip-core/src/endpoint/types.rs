//! The endpoint's settings, events and errors.

use std::net::SocketAddr;

use crate::transaction::{InvalidState, TimeoutKind, Timers, Transport, TxId};
use crate::{Message, Method, ParseOptions};

/// Endpoint settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Transaction timers.
    pub timers: Timers,
    /// Methods the application handles (ACK and CANCEL are always accepted); others get 405.
    pub allow: Vec<String>,
    /// Option tags we support (a Require outside them gets 420).
    pub supported: Vec<String>,
    /// Body types we accept (others get 415).
    pub accept: Vec<String>,
    /// Whether `tel:` Request-URIs are accepted (otherwise 416).
    pub accept_tel: bool,
    /// Send `100 Trying` as soon as an INVITE arrives (RFC 3261 §17.2.1 allows it).
    pub auto_trying: bool,
    /// Live server transactions beyond which new requests get 503 (bounded memory).
    pub max_server_transactions: usize,
    /// `Server` header value on the responses the endpoint builds.
    pub server: Option<String>,
    /// Parser options (strict by default).
    pub parse: ParseOptions,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timers: Timers::default(),
            allow: [
                "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "PRACK", "INFO",
            ]
            .map(String::from)
            .to_vec(),
            supported: vec!["replaces".into(), "timer".into()],
            accept: vec!["application/sdp".into()],
            accept_tel: false,
            auto_trying: true,
            max_server_transactions: 100_000,
            server: None,
            parse: ParseOptions::default(),
        }
    }
}

impl Config {
    pub(crate) fn allows(&self, m: Method<'_>) -> bool {
        matches!(m, Method::Ack | Method::Cancel) || self.allow.iter().any(|a| a == m.as_str())
    }

    pub(crate) fn allow_header(&self) -> String {
        self.allow.join(", ")
    }
}

/// What the endpoint reports to the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A new request (not ACK, not CANCEL): answer it with [`super::Endpoint::reply`] or
    /// [`super::Endpoint::respond`].
    Request {
        /// The server transaction.
        tx: TxId,
        /// The request.
        request: Message,
        /// Where it came from.
        source: SocketAddr,
        /// How.
        transport: Transport,
    },
    /// An ACK for a 2xx (or one that matched nothing): end-to-end, for the dialog layer.
    Ack {
        /// The INVITE server transaction it acknowledges, when it matched one.
        invite: Option<TxId>,
        /// The ACK.
        request: Message,
        /// Where it came from.
        source: SocketAddr,
    },
    /// A response to one of our requests (provisional, final, or a 2xx retransmission).
    Response {
        /// The client transaction.
        tx: TxId,
        /// The response.
        response: Message,
    },
    /// A 2xx to an INVITE that matched no transaction (its transaction has ended): re-ACK it.
    Stray2xx {
        /// The response.
        response: Message,
    },
    /// The INVITE was cancelled; the endpoint already answered it 487.
    Cancelled {
        /// The INVITE server transaction.
        invite: TxId,
    },
    /// A transaction timed out (Timer B/F: treat as 408; H or L: send BYE if a dialog exists).
    Timeout {
        /// The transaction.
        tx: TxId,
        /// Which timer.
        kind: TimeoutKind,
    },
    /// The transport failed for this transaction.
    TransportError {
        /// The transaction.
        tx: TxId,
    },
    /// A keep-alive arrived (RFC 5626): a double CRLF on a stream (already answered with a
    /// CRLF), a CRLF datagram, or a STUN Binding request on UDP (already answered). Feed it
    /// to [`crate::location::Registrar::keepalive`] to track the flow.
    KeepAlive {
        /// The transport.
        transport: Transport,
        /// Where it came from.
        source: SocketAddr,
    },
    /// A stream lost framing (e.g. conflicting Content-Length): close the connection.
    CloseConnection {
        /// The transport.
        transport: Transport,
        /// The peer.
        peer: SocketAddr,
    },
}

/// Errors of the application-facing API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// No such transaction (it ended, or the id is of the other kind).
    #[error("no such transaction")]
    UnknownTransaction,
    /// The request lacks a top Via with an RFC 3261 branch, or a CSeq.
    #[error("the request needs a top Via with a z9hG4bK branch and a CSeq")]
    NotKeyable,
    /// A transaction with this branch and method exists already.
    #[error("a transaction with this branch and method exists")]
    Duplicate,
    /// ACKs are sent with [`super::Endpoint::send_stateless`].
    #[error("an ACK is not a transaction: use send_stateless")]
    Ack,
    /// Only an INVITE client transaction that has no final response can be cancelled.
    #[error("the transaction cannot be cancelled")]
    NotCancellable,
    /// The response cannot be sent now.
    #[error(transparent)]
    InvalidState(#[from] InvalidState),
    /// The response could not be built.
    #[error("the response could not be built")]
    Build,
}
