//! The sans-IO SIP endpoint: demultiplexes datagrams and stream bytes to transactions,
//! answers protocol errors itself, and hands requests and responses to the application.
//!
//! # Drive contract
//!
//! ```text
//! handle_datagram(now, from, bytes) / handle_stream_bytes(now, transport, from, bytes)
//! handle_timeout(now)
//! poll_transmit() -> Option<Transmit>     bytes + destination
//! poll_event()    -> Option<Event>        typed, #[non_exhaustive]
//! poll_timeout()  -> Option<Instant>      next wake-up
//! ```
//! After any `handle_*` or API call, drain `poll_transmit` and `poll_event`, then sleep until
//! `poll_timeout` (or the next input).
//!
//! # What the endpoint answers itself
//!
//! Unparseable requests get the parser's code (`400`, `505`, `513`) with the parse error as
//! reason; missing mandatory headers `400`; a method outside [`Config::allow`] `405` with
//! Allow; a Request-URI scheme other than `sip`/`sips` (and `tel` when accepted) `416`;
//! Max-Forwards of zero on anything but OPTIONS `483`; unknown Require tags `420` with
//! Unsupported; a body type outside [`Config::accept`] `415` with Accept; an INVITE whose
//! Accept excludes SDP `406`; a merged request (same From tag, Call-ID and CSeq on another
//! branch, RFC 3261 §8.2.2.2) `482`; a CANCEL without its INVITE `481`; more live server
//! transactions than [`Config::max_server_transactions`] `503` with Retry-After. These
//! answers go through server transactions, so retransmissions are absorbed.

mod checks;
mod reply;
mod table;
mod types;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::transaction::{
    ClientKey, ClientTransaction, Output, ServerKey, ServerTransaction, Transmit, Transport, TxId,
};
use crate::{Frame, HeaderName, KeepAliveRole, Message, Method, StreamFramer};

pub use crate::transaction::InvalidState;
use table::Table;
pub use types::{Config, EndpointError, Event};

/// The endpoint. See the module docs for the drive contract.
#[derive(Debug)]
pub struct Endpoint {
    config: Config,
    table: Table,
    timers: BinaryHeap<Reverse<(Instant, TxId)>>,
    framers: HashMap<(Transport, SocketAddr), StreamFramer>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    seed: u64,
    counter: u64,
}

impl Endpoint {
    /// An endpoint; `seed` makes its branches and tags unique (use a random value).
    pub fn new(config: Config, seed: u64) -> Self {
        Self {
            config,
            table: Table::default(),
            timers: BinaryHeap::new(),
            framers: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            seed,
            counter: 0,
        }
    }

    /// The settings.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    fn unique(&mut self) -> u64 {
        self.counter += 1;
        // SplitMix64 of seed + counter: unique per endpoint, unpredictable across endpoints.
        let mut z = self
            .seed
            .wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fresh RFC 3261 branch (`z9hG4bK` + 16 hex digits).
    pub fn new_branch(&mut self) -> String {
        format!("{}{:016x}", crate::header::BRANCH_COOKIE, self.unique())
    }

    /// A fresh tag for From or To (RFC 3261 §19.3: at least 32 random bits).
    pub fn new_tag(&mut self) -> String {
        format!("{:012x}", self.unique() >> 16)
    }

    /// Number of live client and server transactions.
    pub fn transaction_count(&self) -> (usize, usize) {
        self.table.counts()
    }

    /// The client transaction `tx`, if live.
    pub fn client(&self, tx: TxId) -> Option<&ClientTransaction> {
        self.table.client(tx)
    }

    /// The server transaction `tx`, if live.
    pub fn server(&self, tx: TxId) -> Option<&ServerTransaction> {
        self.table.server(tx).map(|e| &e.tx)
    }

    /// One UDP datagram arrived.
    ///
    /// STUN Binding requests sharing the port are answered (RFC 5626 §4.4.2); other STUN
    /// messages are dropped.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: impl Into<Bytes>) {
        let data = data.into();
        if crate::stun::is_stun(&data) {
            if let Ok(req) = crate::stun::BindingRequest::parse(&data) {
                self.transmits.push_back(Transmit {
                    transport: Transport::Udp,
                    destination: from,
                    payload: Bytes::from(req.answer(from)),
                });
                self.keepalive(Transport::Udp, from);
            }
            return;
        }
        match self.config.parse.datagram(data) {
            Ok(crate::Datagram::Message(m)) => self.handle_message(now, Transport::Udp, from, m),
            Ok(crate::Datagram::KeepAlive) => self.keepalive(Transport::Udp, from),
            Err(e) => self.answer_parse_error(Transport::Udp, from, &e),
        }
    }

    fn keepalive(&mut self, transport: Transport, source: SocketAddr) {
        self.events
            .push_back(Event::KeepAlive { transport, source });
    }

    /// Bytes arrived on a stream connection (TCP, TLS) from `from`.
    pub fn handle_stream_bytes(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        data: &[u8],
    ) {
        let options = self.config.parse.clone();
        let framer = self
            .framers
            .entry((transport, from))
            .or_insert_with(|| StreamFramer::new(options, KeepAliveRole::Server));
        framer.push(data);
        let mut frames = Vec::new();
        let mut broken = None;
        loop {
            match framer.next_frame() {
                Ok(Frame::Partial) => break,
                Ok(f) => frames.push(f),
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        for f in frames {
            match f {
                Frame::Message(m) => self.handle_message(now, transport, from, m),
                Frame::Invalid(e) => self.answer_parse_error(transport, from, &e),
                Frame::Ping => {
                    self.transmits.push_back(Transmit {
                        transport,
                        destination: from,
                        payload: Bytes::from_static(b"\r\n"),
                    });
                    self.keepalive(transport, from);
                }
                _ => {}
            }
        }
        if let Some(e) = broken {
            self.answer_parse_error(transport, from, &e);
            self.framers.remove(&(transport, from));
            self.events.push_back(Event::CloseConnection {
                transport,
                peer: from,
            });
        }
    }

    /// A stream connection closed: forget its framing state.
    pub fn handle_stream_closed(&mut self, transport: Transport, peer: SocketAddr) {
        self.framers.remove(&(transport, peer));
    }

    /// Sending to `destination` failed: its transactions end with a transport error.
    pub fn handle_send_failure(&mut self, transport: Transport, destination: SocketAddr) {
        for (id, outs) in self.table.transport_error(transport, destination) {
            self.apply(id, outs);
        }
    }

    /// Timers due at `now` fire.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let outs = self.table.fire(id, now);
            self.apply(id, outs);
        }
    }

    /// Next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`Endpoint::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Sends `request` in a new client transaction. It needs a top Via with a fresh
    /// [`Endpoint::new_branch`] and a CSeq.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Message,
        transport: Transport,
        destination: SocketAddr,
    ) -> Result<TxId, EndpointError> {
        if request.method() == Some(Method::Ack) {
            return Err(EndpointError::Ack);
        }
        let key = ClientKey::from_request(&request).ok_or(EndpointError::NotKeyable)?;
        if !request.via().is_ok_and(|v| v.has_rfc3261_branch()) {
            return Err(EndpointError::NotKeyable);
        }
        if self.table.has_client(&key) {
            return Err(EndpointError::Duplicate);
        }
        let id = self.next_id();
        let mut outs = Vec::new();
        let tx = ClientTransaction::start(
            now,
            request,
            transport,
            destination,
            self.config.timers,
            &mut outs,
        );
        self.table.insert_client(id, key, tx);
        self.apply(id, outs);
        Ok(id)
    }

    /// Cancels an INVITE client transaction (RFC 3261 §9.1): sends a CANCEL in its own
    /// transaction, whose id is returned. The INVITE then normally ends with a 487.
    pub fn cancel(&mut self, now: Instant, invite: TxId) -> Result<TxId, EndpointError> {
        let tx = self
            .table
            .client(invite)
            .ok_or(EndpointError::UnknownTransaction)?;
        let cancellable = tx.request().method() == Some(Method::Invite)
            && matches!(
                tx.state(),
                crate::transaction::ClientState::Calling
                    | crate::transaction::ClientState::Proceeding
            );
        if !cancellable {
            return Err(EndpointError::NotCancellable);
        }
        let (transport, destination) = tx.destination();
        let cancel = build_cancel(tx.request()).ok_or(EndpointError::Build)?;
        self.send_request(now, cancel, transport, destination)
    }

    /// Sends a message outside any transaction (the ACK for a 2xx, a stateless reply).
    pub fn send_stateless(
        &mut self,
        message: &Message,
        transport: Transport,
        destination: SocketAddr,
    ) {
        self.transmits.push_back(Transmit {
            transport,
            destination,
            payload: message.to_bytes(),
        });
    }

    /// Sends a double-CRLF keep-alive to `destination` (RFC 5626 §4.4.1 ping on a stream;
    /// on UDP it refreshes the NAT binding in front of a device, which ignores it).
    pub fn send_keepalive(&mut self, transport: Transport, destination: SocketAddr) {
        self.transmits.push_back(Transmit {
            transport,
            destination,
            payload: Bytes::from_static(b"\r\n\r\n"),
        });
    }

    /// Answers server transaction `tx` with `code` and `reason` (the endpoint's To tag is
    /// added to non-100 responses).
    pub fn reply(
        &mut self,
        now: Instant,
        tx: TxId,
        code: u16,
        reason: &str,
    ) -> Result<(), EndpointError> {
        self.reply_with(now, tx, code, reason, &[], None)
    }

    /// Like [`Endpoint::reply`] with extra headers and an optional body `(content type, bytes)`.
    pub fn reply_with(
        &mut self,
        now: Instant,
        tx: TxId,
        code: u16,
        reason: &str,
        extra: &[(HeaderName, String)],
        body: Option<(&str, &Bytes)>,
    ) -> Result<(), EndpointError> {
        let response = self.build_response(tx, code, reason, extra, body)?;
        self.respond(now, tx, &response)
    }

    /// The response [`Endpoint::reply_with`] would send, to adjust before [`Endpoint::respond`].
    pub fn build_response(
        &self,
        tx: TxId,
        code: u16,
        reason: &str,
        extra: &[(HeaderName, String)],
        body: Option<(&str, &Bytes)>,
    ) -> Result<Message, EndpointError> {
        let e = self
            .table
            .server(tx)
            .ok_or(EndpointError::UnknownTransaction)?;
        let mut all: Vec<(HeaderName, String)> = extra.to_vec();
        if let Some(s) = &self.config.server {
            all.push((HeaderName::Server, s.clone()));
        }
        reply::build(
            e.tx.request(),
            e.source,
            code,
            reason,
            Some(&e.to_tag),
            &all,
            body,
        )
        .ok_or(EndpointError::Build)
    }

    /// The local tag the endpoint puts in To for server transaction `tx`.
    pub fn to_tag(&self, tx: TxId) -> Option<&str> {
        self.table.server(tx).map(|e| &*e.to_tag)
    }

    /// Sends `response` in server transaction `tx`.
    pub fn respond(
        &mut self,
        now: Instant,
        tx: TxId,
        response: &Message,
    ) -> Result<(), EndpointError> {
        let outs = self.table.respond(tx, now, response)?;
        self.apply(tx, outs);
        Ok(())
    }

    fn next_id(&mut self) -> TxId {
        self.counter += 1;
        TxId(self.counter)
    }

    fn apply(&mut self, id: TxId, outs: Vec<Output>) {
        let Some((transport, destination)) = self.table.peer(id) else {
            return;
        };
        for out in outs {
            match out {
                Output::Send(payload) => self.transmits.push_back(Transmit {
                    transport,
                    destination,
                    payload,
                }),
                Output::Response(response) => {
                    self.events.push_back(Event::Response { tx: id, response });
                }
                Output::Timeout(kind) => self.events.push_back(Event::Timeout { tx: id, kind }),
                Output::TransportError => self.events.push_back(Event::TransportError { tx: id }),
                Output::Terminated => self.table.remove(id),
            }
        }
        if let Some(at) = self.table.deadline(id) {
            self.timers.push(Reverse((at, id)));
        }
    }

    fn answer_parse_error(
        &mut self,
        transport: Transport,
        from: SocketAddr,
        e: &crate::ParseError,
    ) {
        let Some(req) = e.message().filter(|m| m.is_request()) else {
            return; // responses that fail are dropped (RFC 3261 §18.1.2)
        };
        if req.method() == Some(Method::Ack) {
            return;
        }
        let tag = self.new_tag();
        let to = reply::response_destination(req, from, transport.is_reliable());
        if let Some(resp) = reply::build(
            req,
            from,
            e.status_code(),
            &e.to_string(),
            Some(&tag),
            &[],
            None,
        ) {
            self.send_stateless(&resp, transport, to);
        }
    }

    /// A message the driver framed and parsed itself arrived (same as the bytes entry points
    /// after framing).
    pub fn handle_message(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        m: Message,
    ) {
        if m.is_response() {
            self.handle_response(now, m);
        } else {
            self.handle_request(now, transport, from, m);
        }
    }

    /// A message the driver framed failed to parse: a request is answered with the parser's
    /// status code (400, 505, 513) and the error as reason; anything else is dropped.
    pub fn handle_invalid(
        &mut self,
        transport: Transport,
        from: SocketAddr,
        e: &crate::ParseError,
    ) {
        self.answer_parse_error(transport, from, e);
    }

    fn handle_response(&mut self, now: Instant, response: Message) {
        let id = ClientKey::from_response(&response).and_then(|k| self.table.client_id(&k));
        match id {
            Some(id) => {
                let outs = self.table.client_response(id, now, response);
                self.apply(id, outs);
            }
            None => {
                let is_invite_2xx = response.status().is_some_and(|c| (200..300).contains(&c))
                    && response.cseq().is_ok_and(|c| c.method == Method::Invite);
                if is_invite_2xx {
                    self.events.push_back(Event::Stray2xx { response });
                }
            }
        }
    }

    fn handle_request(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        req: Message,
    ) {
        let Some(key) = ServerKey::from_request(&req) else {
            let r = checks::check(&self.config, &req);
            let (code, reason) = r.map_or((400, "Bad Request".to_owned()), |r| (r.code, r.reason));
            let tag = self.new_tag();
            let to = reply::response_destination(&req, from, transport.is_reliable());
            if req.method() != Some(Method::Ack)
                && let Some(resp) = reply::build(&req, from, code, &reason, Some(&tag), &[], None)
            {
                self.send_stateless(&resp, transport, to);
            }
            return;
        };
        if let Some(id) = self.table.server_id(&key) {
            let is_ack = req.method() == Some(Method::Ack);
            let accepted = self
                .table
                .server(id)
                .is_some_and(|e| e.tx.state() == crate::transaction::ServerState::Accepted);
            let outs = self.table.server_request(id, now, &req);
            self.apply(id, outs);
            if is_ack && accepted {
                self.events.push_back(Event::Ack {
                    invite: Some(id),
                    request: req,
                    source: from,
                });
            }
            return;
        }
        match req.method() {
            Some(Method::Ack) => {
                let invite = self.table.ack_2xx(&req);
                self.events.push_back(Event::Ack {
                    invite,
                    request: req,
                    source: from,
                });
            }
            Some(Method::Cancel) => self.handle_cancel(now, transport, from, req, key),
            _ => self.handle_new_request(now, transport, from, req, key),
        }
    }

    fn new_server(
        &mut self,
        transport: Transport,
        from: SocketAddr,
        req: Message,
        key: ServerKey,
    ) -> TxId {
        let id = self.next_id();
        let to = reply::response_destination(&req, from, transport.is_reliable());
        let tag = self.new_tag();
        let tx = ServerTransaction::new(req, transport, to, self.config.timers);
        self.table.insert_server(id, key, tx, from, tag);
        id
    }

    fn handle_cancel(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        req: Message,
        key: ServerKey,
    ) {
        let invite = self.table.server_id(&key.with_method(Method::Invite));
        let id = self.new_server(transport, from, req, key);
        let Some(invite) = invite else {
            let _ = self.reply(now, id, 481, "Call/Transaction Does Not Exist");
            return;
        };
        let _ = self.reply(now, id, 200, "OK");
        let pending = self.table.server(invite).is_some_and(|e| !e.tx.is_final());
        if pending && self.reply(now, invite, 487, "Request Terminated").is_ok() {
            self.events.push_back(Event::Cancelled { invite });
        }
    }

    fn handle_new_request(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        req: Message,
        key: ServerKey,
    ) {
        let merged = self.table.is_merged(&req);
        let full = self.table.counts().1 >= self.config.max_server_transactions;
        let rejection = checks::check(&self.config, &req);
        let is_invite = req.method() == Some(Method::Invite);
        let id = self.new_server(transport, from, req, key);
        if merged {
            let _ = self.reply(now, id, 482, "Loop Detected");
        } else if let Some(r) = rejection {
            let _ = self.reply_with(now, id, r.code, &r.reason, &r.extra, None);
        } else if full {
            let extra = [(HeaderName::RetryAfter, "5".to_owned())];
            let _ = self.reply_with(now, id, 503, "Service Unavailable", &extra, None);
        } else {
            if is_invite && self.config.auto_trying {
                let _ = self.reply(now, id, 100, "Trying");
            }
            let request = self.table.server(id).map(|e| e.tx.request().clone());
            if let Some(request) = request {
                self.events.push_back(Event::Request {
                    tx: id,
                    request,
                    source: from,
                    transport,
                });
            }
        }
    }
}

/// CANCEL for `invite` (§9.1): same Request-URI, top Via, Route, From, To, Call-ID and CSeq
/// number.
fn build_cancel(invite: &Message) -> Option<Message> {
    let mut b = crate::RequestBuilder::new(Method::Cancel, invite.request_uri_str()?)
        .header(HeaderName::Via, invite.values(HeaderName::Via).next()?);
    for r in invite.values(HeaderName::Route) {
        b = b.header(HeaderName::Route, r);
    }
    let seq = invite.cseq().ok()?.seq;
    b.header(HeaderName::From, invite.values(HeaderName::From).next()?)
        .header(HeaderName::To, invite.values(HeaderName::To).next()?)
        .call_id(invite.call_id().ok()?.0)
        .header(HeaderName::CSeq, &format!("{seq} CANCEL"))
        .max_forwards(70)
        .build()
        .ok()
}
