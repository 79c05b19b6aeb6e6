//! The PBX's SIP logic on sip-core: registrar with digest authentication, and a
//! back-to-back user agent for calls between registered users (two dialogs per call,
//! in-dialog requests forwarded leg to leg). Sans-IO like the cores it drives: the core task
//! feeds messages and time, and drains what to send.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_core::dialog::{Dialog, DialogId};
use sip_core::digest::{Algorithm, AuthError, DigestServer, ServerConfig, ha1};
use sip_core::endpoint::{Config as EpConfig, Endpoint, Event};
use sip_core::location::{Admission, Registrar, RegistrarConfig, address_of_record};
use sip_core::transaction::{Transmit, Transport, TxId};
use sip_core::{HeaderName, Message, Method, ParseError, RequestBuilder};
use tracing::{debug, info};

use super::sdp::{self, Audio};
use crate::cdr::{CdrRecord, Disposition};
use crate::data::Credentials;
use crate::delivery::wall_now;
use crate::licence::LicenceMode;

/// Settings of the SIP logic.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Our address per transport (Via and Contact of what we send).
    pub local: Vec<(Transport, SocketAddr)>,
    /// The digest realm (the SIP domain).
    pub realm: String,
    /// `Server`/`User-Agent` value.
    pub user_agent: String,
    /// Registration interval bounds.
    pub min_expires: u32,
    /// Longest registration granted.
    pub max_expires: u32,
    /// Ringing time before the no-answer status.
    pub no_answer: Duration,
    /// 480 or 408.
    pub no_answer_status: u16,
    /// Key of the digest nonces (random per start).
    pub nonce_secret: [u8; 32],
    /// Relay media on this IP (`None`: SDP passes end to end, direct media).
    pub relay_ip: Option<IpAddr>,
    /// Unconditional call forwarding: extension → where its calls go.
    pub forward_always: HashMap<String, String>,
    /// Demo or strict licensing (terminal licences at registration, MV-13).
    pub licence: LicenceMode,
    /// The terminal kind of each extension (MV-13).
    pub terminals: HashMap<String, licensing::TerminalKind>,
}

/// Media work for the core task, which owns the RTP sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaAction {
    /// Start a relay for `call` from the caller's offer, then call [`Pbx::media_ready`] or
    /// [`Pbx::media_failed`].
    Start {
        /// The call.
        call: u64,
        /// The caller's audio.
        a: Audio,
    },
    /// The call ended: stop its relay.
    Stop {
        /// The call.
        call: u64,
    },
}

/// A call waiting for its relay.
#[derive(Debug)]
struct Pending {
    a_tx: TxId,
    a_req: Message,
    from: (Transport, SocketAddr),
    contact: String,
    callee: String,
    target: (Transport, SocketAddr),
}

/// One leg of a call: its dialog (once formed) and where to send.
#[derive(Debug)]
struct Leg {
    dialog: Option<Dialog>,
    peer: (Transport, SocketAddr),
}

#[derive(Debug)]
struct Call {
    /// The caller's INVITE server transaction while it is pending.
    a_invite: Option<TxId>,
    a: Leg,
    /// The callee INVITE client transaction while it is pending, and its request.
    b_invite: Option<(TxId, Message)>,
    b: Leg,
    ring_deadline: Option<Instant>,
    answered: bool,
    /// The relay's address for leg A and for leg B, when media is relayed.
    relay: Option<[SocketAddr; 2]>,
    /// For the call record: the caller's Call-ID, caller, callee, times, codec.
    record: Record,
}

#[derive(Debug)]
struct Record {
    call_id: String,
    caller: String,
    callee: String,
    start: events::Timestamp,
    answer: Option<events::Timestamp>,
    codec: Option<String>,
}

/// A request forwarded to the other leg: answer `server` when `client` gets a final response.
#[derive(Debug, Clone, Copy)]
struct Forwarded {
    call: u64,
    server: TxId,
    bye: bool,
    /// The request came from leg A (its answer goes back to A).
    from_a: bool,
}

/// The SIP logic.
pub struct Pbx {
    ep: Endpoint,
    digest: DigestServer,
    registrar: Registrar,
    creds: Credentials,
    settings: Settings,
    calls: HashMap<u64, Call>,
    by_dialog: HashMap<DialogId, u64>,
    by_b_invite: HashMap<TxId, u64>,
    by_a_invite: HashMap<TxId, u64>,
    forwarded: HashMap<TxId, Forwarded>,
    next_call: u64,
    pending: HashMap<u64, Pending>,
    media: VecDeque<MediaAction>,
    cdrs: VecDeque<CdrRecord>,
    /// Terminal licences held per binding (AOR, contact); dropping one releases it.
    held: HashMap<(String, String), licensing::Registration>,
}

impl std::fmt::Debug for Pbx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbx")
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

fn wall_clock() -> std::time::SystemTime {
    #[allow(clippy::disallowed_methods)] // the driver owns the clock
    std::time::SystemTime::now()
}

fn unix_now() -> u64 {
    #[allow(clippy::disallowed_methods)] // the driver owns the clock
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Pbx {
    /// The SIP logic for `creds` with `settings`.
    pub fn new(settings: Settings, creds: Credentials) -> Self {
        let mut ep_cfg = EpConfig::default();
        ep_cfg.allow.push("REGISTER".into());
        ep_cfg.server = Some(settings.user_agent.clone());
        let mut digest = ServerConfig::new(settings.realm.clone());
        // Most deployed phones (and SIPp) answer only MD5 and take the first challenge, so MD5
        // comes first; SHA-256 is offered too (RFC 8760). See docs/decisions.md.
        digest.algorithms = vec![Algorithm::Md5, Algorithm::Sha256];
        let mut reg = RegistrarConfig::default();
        reg.min_expires = settings.min_expires;
        reg.max_expires = settings.max_expires;
        Self {
            ep: Endpoint::new(ep_cfg, rand::random()),
            digest: DigestServer::new(digest, &settings.nonce_secret),
            registrar: Registrar::new(reg),
            creds,
            settings,
            calls: HashMap::new(),
            by_dialog: HashMap::new(),
            by_b_invite: HashMap::new(),
            by_a_invite: HashMap::new(),
            forwarded: HashMap::new(),
            next_call: 0,
            pending: HashMap::new(),
            media: VecDeque::new(),
            cdrs: VecDeque::new(),
            held: HashMap::new(),
        }
    }

    /// Number of calls in progress.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// A parsed message arrived.
    pub fn handle_message(&mut self, now: Instant, t: Transport, from: SocketAddr, m: Message) {
        self.ep.handle_message(now, t, from, m);
        self.process(now);
    }

    /// A framed message failed to parse.
    pub fn handle_invalid(&mut self, t: Transport, from: SocketAddr, e: &ParseError) {
        self.ep.handle_invalid(t, from, e);
    }

    /// Timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.registrar.handle_timeout(now);
        let expired: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| c.ring_deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.no_answer(now, id);
        }
        self.process(now);
    }

    /// The next wake-up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let rings = self.calls.values().filter_map(|c| c.ring_deadline);
        [self.ep.poll_timeout(), self.registrar.poll_timeout()]
            .into_iter()
            .flatten()
            .chain(rings)
            .min()
    }

    /// Next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.ep.poll_transmit()
    }

    /// Next call detail record to write.
    pub fn poll_cdr(&mut self) -> Option<CdrRecord> {
        self.cdrs.pop_front()
    }

    /// Next media work for the core task.
    pub fn poll_media(&mut self) -> Option<MediaAction> {
        self.media.pop_front()
    }

    /// The relay for `call` runs: `local` is its address towards leg A and towards leg B.
    pub fn media_ready(&mut self, now: Instant, call: u64, local: [SocketAddr; 2]) {
        let Some(p) = self.pending.remove(&call) else {
            self.media.push_back(MediaAction::Stop { call });
            return;
        };
        let body = sdp::rewrite(p.a_req.body(), local[1]);
        self.dial(now, call, p, body, Some(local));
        self.process(now);
    }

    /// No relay could be had for `call` (budget or ports): 503 to the caller (MV-36).
    pub fn media_failed(&mut self, now: Instant, call: u64) {
        if let Some(p) = self.pending.remove(&call) {
            self.by_a_invite.remove(&p.a_tx);
            let extra = [(HeaderName::RetryAfter, "5".to_owned())];
            drop(
                self.ep
                    .reply_with(now, p.a_tx, 503, "Media resources exhausted", &extra, None),
            );
        }
    }

    fn local(&self, t: Transport) -> SocketAddr {
        self.settings
            .local
            .iter()
            .find(|(lt, _)| *lt == t)
            .or(self.settings.local.first())
            .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)), |(_, a)| *a)
    }

    fn contact(&self, t: Transport) -> String {
        let tp = if t == Transport::Udp {
            String::new()
        } else {
            format!(";transport={}", t.as_str().to_ascii_lowercase())
        };
        format!("<sip:pbx@{}{tp}>", self.local(t))
    }

    fn process(&mut self, now: Instant) {
        while let Some(ev) = self.ep.poll_event() {
            match ev {
                Event::Request {
                    tx,
                    request,
                    source,
                    transport,
                } => {
                    self.on_request(now, tx, request, (transport, source));
                }
                Event::Response { tx, response } => self.on_response(now, tx, &response),
                Event::Cancelled { invite } => self.on_cancelled(now, invite),
                Event::Timeout { tx, .. } | Event::TransportError { tx } => {
                    self.on_failure(now, tx)
                }
                Event::Stray2xx { response } => self.reack(now, &response),
                _ => {}
            }
        }
        while let Some(ev) = self.registrar.poll_event() {
            info!(?ev, "registrar");
            if let sip_core::location::RegistrarEvent::Unregistered { aor, contact, .. } = ev {
                // The device is gone: its terminal licence goes back to the pool.
                self.held.remove(&(aor, contact));
            }
        }
    }

    fn on_request(&mut self, now: Instant, tx: TxId, req: Message, from: (Transport, SocketAddr)) {
        let in_dialog = req.to().is_ok_and(|t| t.tag().is_some());
        match req.method() {
            Some(Method::Register) => self.on_register(now, tx, &req, from),
            Some(Method::Options) if !in_dialog => {
                let allow = self.ep.config().allow.join(", ");
                let extra = [
                    (HeaderName::Allow, allow),
                    (HeaderName::Accept, "application/sdp".to_owned()),
                ];
                drop(self.ep.reply_with(now, tx, 200, "OK", &extra, None));
            }
            Some(Method::Invite) if !in_dialog => self.on_invite(now, tx, req, from),
            _ if in_dialog => self.on_in_dialog(now, tx, &req),
            _ => drop(self.ep.reply(now, tx, 403, "Forbidden")),
        }
    }

    fn on_register(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Message,
        from: (Transport, SocketAddr),
    ) {
        // One domain: the To user names the account, whatever host the phone wrote.
        let to_user = address_of_record(req).and_then(|a| {
            a.strip_prefix("sip:")
                .and_then(|r| r.split_once('@'))
                .map(|(u, _)| u.to_owned())
        });
        let Some(to_user) = to_user else {
            drop(
                self.ep
                    .reply(now, tx, 400, "To is not a SIP address of record"),
            );
            return;
        };
        let aor = format!("sip:{to_user}@{}", self.realm_host());
        let (creds, realm) = (&self.creds, &self.settings.realm);
        let lookup = |u: &str, alg: Algorithm| creds.password(u).map(|p| ha1(alg, u, realm, p));
        let user = match self.digest.verify(unix_now(), req, lookup) {
            Ok(v) => v.username,
            Err(e) if e.challenge() => return self.challenge(now, tx, e == AuthError::Stale),
            Err(e) => return drop(self.ep.reply(now, tx, 400, &e.to_string())),
        };
        if user != to_user {
            drop(
                self.ep
                    .reply(now, tx, 403, "Credentials do not match the AOR"),
            );
            return;
        }
        // MV-13: each new device draws a terminal licence; none free refuses the REGISTER.
        let kind = self.settings.terminals.get(&user).copied();
        let licence = &self.settings.licence;
        let mut granted = Vec::new();
        let r = self
            .registrar
            .register(now, &aor, req, from.1, from.0, |_, contact| {
                let LicenceMode::Strict(engine) = licence else {
                    return Admission::Accept;
                };
                let Ok(mut engine) = engine.lock() else {
                    return Admission::Refuse(500, "Licensing unavailable".into());
                };
                let kind = kind.unwrap_or(licensing::TerminalKind::StandardSip);
                match engine.may_register(wall_clock(), kind) {
                    Ok(reg) => {
                        granted.push((contact.to_owned(), reg));
                        Admission::Accept
                    }
                    Err(refusal) => {
                        Admission::Refuse(403, format!("No terminal licence: {refusal}"))
                    }
                }
            });
        if r.code == 200 {
            for (contact, reg) in granted {
                self.held.insert((aor.clone(), contact), reg);
            }
        }
        drop(
            self.ep
                .reply_with(now, tx, r.code, &r.reason, &r.headers, None),
        );
    }

    fn challenge(&mut self, now: Instant, tx: TxId, stale: bool) {
        let (code, reason) = self.digest.status();
        let ch = self.digest.challenges(unix_now(), stale);
        drop(self.ep.reply_with(now, tx, code, reason, &ch, None));
    }

    /// Whether `req` comes from where its From user is registered (calls are trusted by
    /// registration source; see docs/decisions.md).
    fn caller(&self, req: &Message, from: SocketAddr) -> Option<String> {
        let uri = req.from().ok()?;
        let user = uri.uri().as_sip()?.user()?.to_owned();
        let aor = format!("sip:{user}@{}", self.realm_host());
        let known = self.registrar.lookup(&aor).iter().any(|b| b.source == from);
        known.then_some(user)
    }

    fn realm_host(&self) -> String {
        self.settings.realm.to_ascii_lowercase()
    }

    /// Follows unconditional forwarding from `ext` (at most 8 hops; `None` on a loop).
    fn forwarded_target(&self, mut ext: String) -> Option<String> {
        for _ in 0..8 {
            match self.settings.forward_always.get(&ext) {
                Some(next) => ext.clone_from(next),
                None => return Some(ext),
            }
        }
        None
    }

    fn on_invite(&mut self, now: Instant, tx: TxId, req: Message, from: (Transport, SocketAddr)) {
        if self.caller(&req, from.1).is_none() {
            drop(
                self.ep
                    .reply(now, tx, 403, "Caller not registered from this address"),
            );
            return;
        }
        let Some(callee) = req
            .request_uri()
            .and_then(|u| u.as_sip().and_then(|s| s.user().map(str::to_owned)))
        else {
            drop(self.ep.reply(now, tx, 404, "Not Found"));
            return;
        };
        let Some(callee) = self.forwarded_target(callee) else {
            drop(
                self.ep
                    .reply(now, tx, 482, "Loop Detected in call forwarding"),
            );
            return;
        };
        if self.creds.password(&callee).is_none() {
            drop(self.ep.reply(now, tx, 404, "Not Found"));
            return;
        }
        let aor = format!("sip:{callee}@{}", self.realm_host());
        let Some(target) = self
            .registrar
            .lookup(&aor)
            .first()
            .map(|b| (b.contact.clone(), b.transport, b.source))
        else {
            drop(self.ep.reply(now, tx, 480, "Temporarily Unavailable"));
            return;
        };
        let (contact, t, dest) = target;
        self.next_call += 1;
        let id = self.next_call;
        self.by_a_invite.insert(tx, id);
        let p = Pending {
            a_tx: tx,
            a_req: req,
            from,
            contact,
            callee,
            target: (t, dest),
        };
        match (self.settings.relay_ip, sdp::audio(p.a_req.body())) {
            (Some(_), Some(a)) => {
                self.pending.insert(id, p);
                self.media.push_back(MediaAction::Start { call: id, a });
            }
            _ => {
                let body = (!p.a_req.body().is_empty()).then(|| p.a_req.body().clone());
                self.dial(now, id, p, body, None);
            }
        }
    }

    /// Sends the callee's INVITE for call `id` with `body` as its SDP.
    fn dial(
        &mut self,
        now: Instant,
        id: u64,
        p: Pending,
        body: Option<Bytes>,
        relay: Option<[SocketAddr; 2]>,
    ) {
        let (t, dest) = p.target;
        let Some(b_req) = self.outgoing_invite(&p.a_req, &p.contact, &p.callee, t, body) else {
            self.by_a_invite.remove(&p.a_tx);
            drop(
                self.ep
                    .reply(now, p.a_tx, 500, "Cannot build the outgoing INVITE"),
            );
            return;
        };
        let Ok(b_tx) = self.ep.send_request(now, b_req.clone(), t, dest) else {
            self.by_a_invite.remove(&p.a_tx);
            drop(
                self.ep
                    .reply(now, p.a_tx, 500, "Cannot send the outgoing INVITE"),
            );
            return;
        };
        debug!(call = id, callee = %p.callee, "call attempt");
        let record = Record {
            call_id: p
                .a_req
                .call_id()
                .map(|c| c.0.to_owned())
                .unwrap_or_default(),
            caller: p
                .a_req
                .from()
                .ok()
                .and_then(|f| f.uri().as_sip().and_then(|u| u.user().map(str::to_owned)))
                .unwrap_or_default(),
            callee: p.callee.clone(),
            start: wall_now(),
            answer: None,
            codec: sdp::audio(p.a_req.body()).map(|a| a.codec.to_string()),
        };
        self.calls.insert(
            id,
            Call {
                a_invite: Some(p.a_tx),
                a: Leg {
                    dialog: None,
                    peer: p.from,
                },
                b_invite: Some((b_tx, b_req)),
                b: Leg {
                    dialog: None,
                    peer: (t, dest),
                },
                ring_deadline: Some(now + self.settings.no_answer),
                answered: false,
                relay,
                record,
            },
        );
        self.by_b_invite.insert(b_tx, id);
    }

    fn outgoing_invite(
        &mut self,
        a: &Message,
        contact: &str,
        callee: &str,
        t: Transport,
        body: Option<Bytes>,
    ) -> Option<Message> {
        let from_value = a.values(HeaderName::From).next()?;
        let from_uri = from_value.split(";tag=").next().unwrap_or(from_value);
        let mut b = RequestBuilder::new(Method::Invite, contact)
            .via(
                t.as_str(),
                &self.local(t).to_string(),
                &self.ep.new_branch(),
            )
            .from(from_uri, &self.ep.new_tag())
            .to(&format!("<sip:{callee}@{}>", self.realm_host()))
            .call_id(&format!("{}@pbxkit", self.ep.new_branch()))
            .cseq(1)
            .max_forwards(
                a.max_forwards()
                    .ok()
                    .flatten()
                    .unwrap_or(70)
                    .saturating_sub(1),
            )
            .contact(&self.contact(t))
            .header(HeaderName::UserAgent, &self.settings.user_agent);
        if let Some(body) = body {
            let ct = a
                .values(HeaderName::ContentType)
                .next()
                .unwrap_or("application/sdp");
            b = b.body(ct, body);
        }
        b.build().ok()
    }

    fn body_of(m: &Message) -> Option<(String, Bytes)> {
        (!m.body().is_empty()).then(|| {
            let ct = m
                .values(HeaderName::ContentType)
                .next()
                .unwrap_or("application/sdp");
            (ct.to_owned(), m.body().clone())
        })
    }

    /// The body of `m` for the leg it goes to: with the relay's address for that leg.
    fn relayed_body(
        relay: Option<[SocketAddr; 2]>,
        m: &Message,
        towards_a: bool,
    ) -> Option<(String, Bytes)> {
        let (ct, body) = Self::body_of(m)?;
        let Some(relay) = relay else {
            return Some((ct, body));
        };
        let addr = if towards_a { relay[0] } else { relay[1] };
        Some((ct, sdp::rewrite(&body, addr).unwrap_or(body)))
    }

    fn relay_of(&self, call: u64) -> Option<[SocketAddr; 2]> {
        self.calls.get(&call).and_then(|c| c.relay)
    }

    /// Forgets call `id`, stopping its relay and writing its record.
    fn drop_call(&mut self, id: u64, how: Disposition) -> Option<Call> {
        let call = self.calls.remove(&id)?;
        if call.relay.is_some() {
            self.media.push_back(MediaAction::Stop { call: id });
        }
        let r = &call.record;
        let mut rec = CdrRecord::new(
            r.call_id.clone(),
            r.caller.clone(),
            r.callee.clone(),
            r.start,
            r.answer,
            wall_now(),
            how,
        );
        rec.codecs = [r.codec.clone(), r.codec.clone()];
        self.cdrs.push_back(rec);
        Some(call)
    }

    fn on_response(&mut self, now: Instant, tx: TxId, resp: &Message) {
        if let Some(&id) = self.by_b_invite.get(&tx) {
            self.on_b_invite_response(now, id, tx, resp);
        } else if let Some(fw) = self.forwarded.get(&tx).copied() {
            let code = resp.status().unwrap_or(500);
            if code >= 200 {
                self.forwarded.remove(&tx);
                let body = Self::relayed_body(self.relay_of(fw.call), resp, fw.from_a);
                let b = body.as_ref().map(|(ct, b)| (ct.as_str(), b));
                drop(
                    self.ep
                        .reply_with(now, fw.server, code, resp.reason().unwrap_or(""), &[], b),
                );
                if fw.bye {
                    self.end_call(fw.call);
                }
            }
        }
    }

    fn on_b_invite_response(&mut self, now: Instant, id: u64, tx: TxId, resp: &Message) {
        let code = resp.status().unwrap_or(500);
        let Some((a_tx, a_t)) = self
            .calls
            .get(&id)
            .and_then(|c| c.a_invite.map(|t| (t, c.a.peer.0)))
        else {
            return;
        };
        if code == 100 {
            return;
        }
        let body = Self::relayed_body(self.relay_of(id), resp, true);
        let b = body.as_ref().map(|(ct, b)| (ct.as_str(), b));
        let extra = [(HeaderName::Contact, self.contact(a_t))];
        let reason = resp.reason().unwrap_or("").to_owned();
        if code < 200 {
            drop(self.ep.reply_with(now, a_tx, code, &reason, &extra, b));
            return;
        }
        self.by_b_invite.remove(&tx);
        self.by_a_invite.remove(&a_tx);
        if code >= 300 {
            self.drop_call(id, disposition(code));
            drop(self.ep.reply_with(now, a_tx, code, &reason, &[], None));
            return;
        }
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        // 2xx: form both dialogs, ACK the callee, answer the caller.
        let b_req = call.b_invite.take().map(|(_, r)| r);
        let b_dialog = b_req.as_ref().and_then(|r| Dialog::uac(r, resp).ok());
        let a_req = self.ep.server(a_tx).map(|s| s.request().clone());
        let a_tag = self.ep.to_tag(a_tx).map(str::to_owned);
        let a_dialog = a_req
            .as_ref()
            .zip(a_tag.as_deref())
            .and_then(|(r, tag)| Dialog::uas(r, tag).ok());
        let (Some(b_dialog), Some(mut a_dialog)) = (b_dialog, a_dialog) else {
            drop(self.ep.reply(now, a_tx, 502, "Bad Gateway"));
            return;
        };
        a_dialog.confirm();
        let (bt, bdest) = call.b.peer;
        let (local, branch) = (self.local(bt).to_string(), self.ep.new_branch());
        if let Ok(Ok(ack)) = b_dialog
            .ack(1, (bt.as_str(), &local, &branch))
            .map(RequestBuilder::build)
        {
            self.ep.send_stateless(&ack, bt, bdest);
        }
        self.by_dialog.insert(a_dialog.id().clone(), id);
        self.by_dialog.insert(b_dialog.id().clone(), id);
        call.a_invite = None;
        call.ring_deadline = None;
        call.answered = true;
        call.record.answer = Some(wall_now());
        call.a.dialog = Some(a_dialog);
        call.b.dialog = Some(b_dialog);
        self.calls.insert(id, call);
        drop(self.ep.reply_with(now, a_tx, 200, "OK", &extra, b));
        info!(call = id, "call answered");
    }

    /// A 2xx retransmission after its transaction ended: ACK it again.
    fn reack(&mut self, _now: Instant, resp: &Message) {
        let Some(id) = DialogId::of_incoming(resp).map(|d| DialogId {
            call_id: d.call_id,
            local_tag: d.remote_tag,
            remote_tag: d.local_tag,
        }) else {
            return;
        };
        let Some(&call) = self.by_dialog.get(&id) else {
            return;
        };
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(d) = c.b.dialog.as_ref().filter(|d| d.id() == &id) else {
            return;
        };
        let (bt, bdest) = c.b.peer;
        let seq = resp.cseq().map_or(1, |c| c.seq);
        let (local, branch) = (self.local(bt).to_string(), self.ep.new_branch());
        if let Ok(Ok(ack)) = d
            .ack(seq, (bt.as_str(), &local, &branch))
            .map(RequestBuilder::build)
        {
            self.ep.send_stateless(&ack, bt, bdest);
        }
    }

    fn on_in_dialog(&mut self, now: Instant, tx: TxId, req: &Message) {
        let found =
            DialogId::of_incoming(req).and_then(|d| self.by_dialog.get(&d).map(|c| (d, *c)));
        let Some((id, call_id)) = found else {
            drop(
                self.ep
                    .reply(now, tx, 481, "Call/Transaction Does Not Exist"),
            );
            return;
        };
        let Some(mut call) = self.calls.remove(&call_id) else {
            return;
        };
        let result = self.forward(now, req, &id, &mut call);
        self.calls.insert(call_id, call);
        match result {
            Ok((ctx, bye, from_a)) => {
                self.forwarded.insert(
                    ctx,
                    Forwarded {
                        call: call_id,
                        server: tx,
                        bye,
                        from_a,
                    },
                );
            }
            Err((code, reason)) => drop(self.ep.reply(now, tx, code, reason)),
        }
    }

    /// Sends `req` (received on the leg of dialog `id`) on the other leg of `call`.
    fn forward(
        &mut self,
        now: Instant,
        req: &Message,
        id: &DialogId,
        call: &mut Call,
    ) -> Result<(TxId, bool, bool), (u16, &'static str)> {
        let from_a = call.a.dialog.as_ref().is_some_and(|d| d.id() == id);
        let call_relay = call.relay;
        let (this, other) = if from_a {
            (&mut call.a, &mut call.b)
        } else {
            (&mut call.b, &mut call.a)
        };
        if let Some(d) = this.dialog.as_mut() {
            d.on_request(req).map_err(|_| (500, "CSeq out of order"))?;
        }
        let method = req.method().unwrap_or(Method::Options);
        let (ot, odest) = other.peer;
        let od = other
            .dialog
            .as_mut()
            .ok_or((481, "Call/Transaction Does Not Exist"))?;
        let local = self.local(ot).to_string();
        let branch = self.ep.new_branch();
        let mut b = od
            .request(method, (ot.as_str(), &local, &branch))
            .map_err(|_| (500, "Cannot forward"))?;
        if let Some((ct, body)) = Self::relayed_body(call_relay, req, !from_a) {
            b = b.body(&ct, body);
        }
        if matches!(method, Method::Invite | Method::Update) {
            b = b.contact(&format!("<sip:pbx@{local}>"));
        }
        let fwd = b.build().map_err(|_| (500, "Cannot forward"))?;
        let ctx = self
            .ep
            .send_request(now, fwd, ot, odest)
            .map_err(|_| (500, "Cannot forward"))?;
        Ok((ctx, method == Method::Bye, from_a))
    }

    fn on_cancelled(&mut self, now: Instant, invite: TxId) {
        let Some(id) = self.by_a_invite.remove(&invite) else {
            return;
        };
        // A call still waiting for its relay just stops waiting (media_ready then stops it).
        self.pending.remove(&id);
        if let Some(call) = self.drop_call(id, Disposition::Cancelled)
            && let Some((b_tx, _)) = call.b_invite
        {
            self.by_b_invite.remove(&b_tx);
            drop(self.ep.cancel(now, b_tx));
        }
    }

    fn no_answer(&mut self, now: Instant, id: u64) {
        let Some(call) = self.drop_call(id, Disposition::NoAnswer) else {
            return;
        };
        if let Some(a_tx) = call.a_invite {
            self.by_a_invite.remove(&a_tx);
            let code = self.settings.no_answer_status;
            let reason = if code == 408 {
                "Request Timeout"
            } else {
                "Temporarily Unavailable"
            };
            drop(self.ep.reply(now, a_tx, code, reason));
        }
        if let Some((b_tx, _)) = call.b_invite {
            self.by_b_invite.remove(&b_tx);
            drop(self.ep.cancel(now, b_tx));
        }
    }

    fn on_failure(&mut self, now: Instant, tx: TxId) {
        if let Some(id) = self.by_b_invite.remove(&tx) {
            if let Some(call) = self.drop_call(id, Disposition::Failed)
                && let Some(a_tx) = call.a_invite
            {
                self.by_a_invite.remove(&a_tx);
                drop(self.ep.reply(now, a_tx, 408, "Request Timeout"));
            }
        } else if let Some(fw) = self.forwarded.remove(&tx) {
            drop(self.ep.reply(now, fw.server, 408, "Request Timeout"));
            if fw.bye {
                self.end_call(fw.call);
            }
        }
    }

    fn end_call(&mut self, id: u64) {
        if let Some(call) = self.drop_call(id, Disposition::Answered) {
            for leg in [call.a, call.b] {
                if let Some(d) = leg.dialog {
                    self.by_dialog.remove(d.id());
                }
            }
            info!(call = id, "call ended");
        }
    }
}

/// The call-record disposition of a final failure response.
fn disposition(code: u16) -> Disposition {
    match code {
        486 | 600 => Disposition::Busy,
        603 => Disposition::Rejected,
        408 | 480 => Disposition::NoAnswer,
        487 => Disposition::Cancelled,
        403 | 503 => Disposition::Refused,
        _ => Disposition::Failed,
    }
}
