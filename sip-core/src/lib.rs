//! Sans-IO SIP for PBXKit: message parsing and printing, transactions, dialogs, registrar and digest authentication.
//!
//! **Status:** scaffold. The API of this crate is being built; see the
//! project's issue tracker ("sip-core, part 1 and part 2"). Nothing here is stable yet.
//!
//! Drive contract (once implemented): `handle_datagram` / `handle_stream_bytes` / `handle_timeout` feed input, `poll_transmit` / `poll_event` / `poll_timeout` drain output. Time is always an argument.
