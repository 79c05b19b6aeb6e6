//! Sans-IO SIP for PBXKit. This part is the **message layer**: parsing and printing SIP
//! requests and responses (RFC 3261 §7, §19, §20, §25), URIs, typed headers, stream and
//! datagram framing, and builders. Transactions, dialogs, digest authentication and the
//! endpoint build on it.
//!
//! # Parsing
//!
//! The caller owns the receive buffer. [`Message::parse`] (or
//! [`ParseOptions::parse_datagram`]) takes a [`bytes::Bytes`] and keeps a cheap clone of it;
//! the message is a start line plus an index of byte ranges (one `Vec` entry per header
//! line). Nothing else is allocated: typed headers are decoded on access and borrow from the
//! message.
//!
//! ```
//! use pbxkit_sip_core::{Message, Method, header::{Via, Contact}};
//! let raw = b"REGISTER sip:example.com SIP/2.0\r\n\
//! v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport\r\n\
//! f: <sip:alice@example.com>;tag=a1\r\nt: <sip:alice@example.com>\r\n\
//! i: c1@192.0.2.1\r\nCSeq: 2 REGISTER\r\nMax-Forwards: 70\r\n\
//! m: <sip:alice@192.0.2.1>;expires=3600\r\nl: 0\r\n\r\n";
//! let msg = Message::parse(&raw[..]).unwrap();
//! assert_eq!(msg.method(), Some(Method::Register));
//! let via: Via<'_> = msg.header().unwrap();
//! assert_eq!(via.branch(), Some("z9hG4bK776"));
//! assert_eq!(via.rport(), Some(None));
//! let contact = msg.contacts().next().unwrap().unwrap();
//! assert_eq!(contact.expires(), Some(Ok(3600)));
//! assert_eq!(msg.cseq().unwrap().seq, 2);
//! ```
//!
//! # Strictness
//!
//! [`ParseOptions::default`] is strict: every RFC 4475 §3.1.2 "invalid" message is rejected.
//! Each relaxation is a named `allow_*` field of [`ParseOptions`] quoting the rule it bends.
//! What the parser validates eagerly: the start line, Via, From, To, Call-ID, CSeq
//! (and that its method matches the request's), Contact, Max-Forwards, Content-Length,
//! Content-Type, Route, Record-Route, Require, Proxy-Require, Supported, Allow, Accept and
//! Date. Other headers are kept byte-exact and decoded only on access. Semantic checks that
//! need a policy (mandatory headers, option tags, URI schemes, Max-Forwards of zero) are left
//! to the layer above, with helpers: [`Message::check_mandatory`],
//! [`Message::unsupported_requirements`], [`uri::Uri::is_sip`], [`Message::max_forwards`].
//!
//! # Errors
//!
//! [`ParseError`] says what failed ([`ParseErrorKind`]) and, when the head could be framed,
//! carries the message as read ([`ParseError::message`]) so a UAS can answer with the
//! suggested [`ParseError::status_code`] (`400`, `505`, `513`) and the error's `Display`
//! text as reason phrase. Responses that fail are dropped, never answered.
//!
//! # Framing
//!
//! - Datagrams (UDP, RFC 3261 §18.3): one message per datagram; octets beyond Content-Length
//!   are ignored; a Content-Length beyond the datagram is an error; without Content-Length
//!   the body runs to the end.
//! - Streams (TCP/TLS): [`StreamFramer`] takes chunks of any size and returns
//!   [`Frame::Partial`] until a whole message is buffered. Content-Length is mandatory.
//!   RFC 5626 keep-alives: a double CRLF is a [`Frame::Ping`] (answer a single CRLF).
//! - WebSocket (RFC 7118): each WebSocket message carries exactly one SIP message, so the
//!   WebSocket layer frames it; parse each with [`ParseOptions::parse_datagram`].
//!
//! # Time and I/O
//!
//! This crate is sans-IO: no sockets, no clocks, no threads. The message layer needs no
//! time at all; the transaction and dialog layers (to come) take `now` as an argument and
//! follow the workspace drive contract (`handle_*`, then drain `poll_transmit`,
//! `poll_event`, `poll_timeout`).
//!
//! # Limits
//!
//! Hostile input cannot make the parser allocate without bound: header count, head size and
//! body size are capped ([`ParseOptions::max_headers`], [`ParseOptions::max_head_len`],
//! [`ParseOptions::max_body_len`]). Nothing reachable from input panics.

mod builder;
mod cache;
pub mod dialog;
pub mod digest;
pub mod dos;
pub mod endpoint;
mod error;
mod framing;
pub mod header;
pub mod location;
mod message;
mod method;
pub mod multipart;
#[cfg(test)]
mod mutate;
mod name;
mod parse;
pub mod registration;
pub mod resolve;
pub mod sim;
pub mod stun;
mod text;
pub mod transaction;
pub mod uri;

pub use builder::{BuildError, RequestBuilder, ResponseBuilder};
pub use error::{
    Expected, HeaderError, HeaderErrorKind, ParseError, ParseErrorKind, UriError, ValueError,
};
pub use framing::{Frame, KeepAliveRole, StreamFramer};
pub use header::HeaderParams;
pub use message::{HeaderField, HeaderIter, Message};
pub use method::Method;
pub use name::HeaderName;
pub use parse::{Datagram, ParseOptions};
