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
use sip_core::{HeaderName, Message, Method, ParseError};
use tracing::info;

use super::sdp::{self, Audio};
use crate::cdr::{CdrRecord, Disposition, Traffic};
use crate::data::Credentials;
use crate::delivery::wall_now;
use crate::licence::LicenceMode;
use rtp_media::sdes::CryptoAttribute;

mod attended;
mod dialog;
mod echo;
mod fork;
mod hunt;
mod invite;
mod media;
mod message;
mod nat;
mod presence;
mod register;
mod shutdown;
mod srtp;
mod transfer;
mod trunk;
mod trunk_reg;

use trunk::TrunkDir;
pub use trunk::TrunkSettings;
pub use trunk_reg::TrunkNotice;

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
    /// Most devices registered at once (MV-50).
    pub max_terminals: u32,
    /// Most devices per user, by extension (MV-50: 16 at most).
    pub max_devices: HashMap<String, u32>,
    /// Relay SRTP calls (SDES) when the Secure VoIP licence allows it (MV-40).
    pub srtp: bool,
    /// Codecs the PBX adds to a callee's offer (it transcodes to them), in order.
    pub codecs: Vec<codecs::CodecKind>,
    /// The `a=ptime` of the PBX's own answers.
    pub ptime_ms: u32,
    /// Interval of the keep-alives sent to devices behind a NAT (zero: none).
    pub nat_keepalive: Duration,
    /// Ringing time before the no-answer status.
    pub no_answer: Duration,
    /// Longest answered call, hung up on both legs when reached (`None`: unlimited).
    pub max_call: Option<Duration>,
    /// 480 or 408.
    pub no_answer_status: u16,
    /// Digest algorithms challenged with, in order.
    pub digest_algorithms: Vec<Algorithm>,
    /// Key of the digest nonces (random per start).
    pub nonce_secret: [u8; 32],
    /// Relay media on this IP (`None`: SDP passes end to end, direct media).
    pub relay_ip: Option<IpAddr>,
    /// Unconditional call forwarding: extension → where its calls go.
    pub forward_always: HashMap<String, String>,
    /// Forwarding when every device of the extension is busy (486/600).
    pub forward_busy: HashMap<String, String>,
    /// Forwarding when the extension does not answer in time.
    pub forward_no_answer: HashMap<String, String>,
    /// Hunt groups by number.
    pub hunt_groups: HashMap<String, HuntGroup>,
    /// Message groups by number: their members (MV-49).
    pub message_groups: HashMap<String, Vec<String>>,
    /// Predefined texts: a text message reading `#n` is delivered as text `n` (MV-49).
    pub texts: Vec<String>,
    /// Display names for caller ID (From and P-Asserted-Identity of the callee's INVITE).
    pub names: HashMap<String, String>,
    /// Demo or strict licensing (terminal licences at registration, MV-13).
    pub licence: LicenceMode,
    /// SIP trunks (providers).
    pub trunks: Vec<TrunkSettings>,
    /// The echo-test number (empty: none).
    pub echo_test: String,
    /// Barred number prefixes (MV-50).
    pub blocked_numbers: Vec<String>,
    /// The terminal kind of each extension (MV-13).
    pub terminals: HashMap<String, licensing::TerminalKind>,
}

/// Media work for the core task, which owns the RTP sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAction {
    /// Start a relay for `call` from the caller's offer, then call [`Pbx::media_ready`] or
    /// [`Pbx::media_failed`].
    Start {
        /// The call.
        call: u64,
        /// The caller's audio.
        a: Audio,
        /// SRTP (MV-40): leg A's keys, and our key for leg B.
        srtp: Option<(LegKeys, CryptoAttribute)>,
    },
    /// The callee answered with `b`: set the relay's leg B to it (transcoding when it
    /// differs from the caller's), then call [`Pbx::media_answered`].
    Answer {
        /// The call.
        call: u64,
        /// The callee's audio.
        b: Audio,
        /// Leg B's SRTP keys, when it is secure.
        srtp: Option<LegKeys>,
    },
    /// Start the echo-test service for `call`, then call [`Pbx::media_ready`] (both
    /// addresses the echo's) or [`Pbx::media_failed`].
    Echo {
        /// The call.
        call: u64,
    },
    /// A transfer replaced the party of `leg` (0: A, 1: B): the relay's leg takes `audio`.
    Retarget {
        /// The call.
        call: u64,
        /// Which leg of the relay.
        leg: u8,
        /// The new party's audio.
        audio: Audio,
        /// The leg's SRTP keys, when it is secure.
        srtp: Option<LegKeys>,
    },
    /// The call ended: stop its relay (or echo).
    Stop {
        /// The call.
        call: u64,
    },
}

/// The SRTP keys of one relayed leg (RFC 4568 SDES, MV-40): the phone's, which it sends
/// with, and ours, which we send with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegKeys {
    /// The phone's key (from its SDP).
    pub phone: CryptoAttribute,
    /// Our key (in the SDP we sent it).
    pub ours: CryptoAttribute,
}

/// A call waiting for its relay.
#[derive(Debug)]
struct Pending {
    a_tx: TxId,
    a_req: Message,
    from: (Transport, SocketAddr),
    callee: String,
    trunk: Option<(usize, TrunkDir)>,
    /// Our SRTP keys for leg A and leg B, when the caller asked for SRTP.
    keys: Option<[CryptoAttribute; 2]>,
}

/// What an INVITE to one device says: where, to whom, from whom.
#[derive(Debug)]
struct Outgoing<'a> {
    contact: &'a str,
    callee: &'a str,
    caller: &'a str,
    max_forwards: u32,
}

/// One device of the callee being rung (parallel ringing): its INVITE client transaction.
#[derive(Debug)]
struct Branch {
    tx: TxId,
    req: Message,
    peer: (Transport, SocketAddr),
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
    /// The caller's INVITE.
    a_req: Message,
    /// The devices ringing, until one answers.
    branches: Vec<Branch>,
    b: Leg,
    /// The body offered to the callee's devices.
    b_offer: Option<Bytes>,
    /// The extension rung now, and those rung before (call forwarding, loop guard).
    callee: String,
    hops: Vec<String>,
    /// The best final failure from a device so far (RFC 3261 §16.7).
    best: Option<(u16, String)>,
    /// The trunk the call comes in on or goes out on, and whether the provider's challenge
    /// was answered already.
    trunk: Option<(usize, TrunkDir)>,
    auth_tried: bool,
    ring_deadline: Option<Instant>,
    /// When an answered call reaches `[calls] max_call_secs`.
    end_deadline: Option<Instant>,
    answered: bool,
    /// The relay's address (and our SRTP key) for leg A and for leg B, when media is relayed.
    relay: Option<[sdp::Local; 2]>,
    /// Per leg: its audio and the SDP that defines its payload types (A's offer, B's answer).
    sdp: [Option<(Audio, Bytes)>; 2],
    /// Working through a one-at-a-time hunt group.
    hunt: Option<hunt::Hunt>,
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
    codecs: [Option<String>; 2],
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
    /// Devices cancelled after another answered: a late 2xx is ACKed and hung up.
    cancelled: HashMap<TxId, Branch>,
    /// Shutting down: new calls get 503; BYEs sent at shutdown still waiting for an answer.
    stopping: bool,
    /// Blind transfers in progress, per call, and their INVITEs to the target.
    transfers: HashMap<u64, transfer::Transfer>,
    by_transfer_invite: HashMap<TxId, u64>,
    /// Attended transfers, by their re-INVITE to the target.
    attended: HashMap<TxId, attended::Attended>,
    /// Trunk registrations (by trunk), their REGISTER transactions and their changes.
    trunk_regs: Vec<Option<sip_core::registration::Registration>>,
    reg_tx: HashMap<TxId, usize>,
    trunk_notices: VecDeque<TrunkNotice>,
    /// Offences for the DoS guard (MV2-34): the source and the cause.
    offences: VecDeque<(IpAddr, sip_core::dos::Cause)>,
    /// Echo-test calls: waiting for their media, and answered (by dialog).
    echo_pending: HashMap<u64, (TxId, Message, (Transport, SocketAddr))>,
    echoes: HashMap<DialogId, echo::EchoCall>,
    closing: std::collections::HashSet<TxId>,
    by_a_invite: HashMap<TxId, u64>,
    forwarded: HashMap<TxId, Forwarded>,
    next_call: u64,
    pending: HashMap<u64, Pending>,
    /// Calls whose callee answered, waiting for the relay to take the callee's codec.
    answering: HashMap<u64, (TxId, Message)>,
    media: VecDeque<MediaAction>,
    cdrs: VecDeque<(u64, CdrRecord)>,
    /// Terminal licences held per binding (AOR, contact); dropping one releases it.
    held: HashMap<(String, String), licensing::Registration>,
    /// When NAT keep-alives are next due.
    next_keepalive: Option<Instant>,
    /// Cyclic hunt groups: where the next call starts.
    hunt_turns: HashMap<String, usize>,
    /// What the longest-idle and last-agent groups remember (MV-52).
    hunt_memory: hunt::Memory,
    /// Text messages being relayed (MV-49), by our MESSAGE to each device.
    messages: HashMap<u64, message::Relay>,
    by_message: HashMap<TxId, u64>,
    /// Presence subscriptions (MV-34) by dialog, the licence each subscribing user holds
    /// (`None` in demo mode), and our NOTIFYs.
    presence: HashMap<DialogId, presence::Sub>,
    presence_leases: HashMap<String, Option<licensing::Lease>>,
    notify_tx: HashMap<TxId, DialogId>,
    /// A registration or an answered call changed since presence was last compared.
    presence_dirty: bool,
}

pub use hunt::{HuntGroup, HuntStrategy};

/// The reason phrase of a refusal in restricted mode (MV-4).
pub(super) const RESTRICTED: &str = "Not available in restricted mode";

impl Pbx {
    /// Whether the licence (restricted mode, MV-4) leaves `b` available.
    pub(super) fn allows(&self, b: licensing::Behaviour) -> bool {
        self.settings.licence.allows(b)
    }
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
        ep_cfg.allow.push("REFER".into());
        ep_cfg.allow.push("MESSAGE".into());
        ep_cfg.allow.push("SUBSCRIBE".into());
        // Text messages (MV-49); an INVITE still takes SDP only (`on_invite`).
        ep_cfg.accept.push("text/plain".into());
        ep_cfg.server = Some(settings.user_agent.clone());
        let mut digest = ServerConfig::new(settings.realm.clone());
        // `[sip] digest_algorithms`, MD5 only by default. See docs/decisions.md.
        digest.algorithms.clone_from(&settings.digest_algorithms);
        let mut reg = RegistrarConfig::default();
        reg.min_expires = settings.min_expires;
        reg.max_expires = settings.max_expires;
        let hunt_memory = hunt::Memory::new(&settings.hunt_groups);
        Self {
            ep: Endpoint::new(ep_cfg, rand::random()),
            digest: DigestServer::new(digest, &settings.nonce_secret),
            registrar: Registrar::new(reg),
            creds,
            settings,
            calls: HashMap::new(),
            by_dialog: HashMap::new(),
            by_b_invite: HashMap::new(),
            cancelled: HashMap::new(),
            stopping: false,
            echo_pending: HashMap::new(),
            transfers: HashMap::new(),
            by_transfer_invite: HashMap::new(),
            attended: HashMap::new(),
            trunk_regs: Vec::new(),
            next_keepalive: None,
            hunt_turns: HashMap::new(),
            hunt_memory,
            messages: HashMap::new(),
            by_message: HashMap::new(),
            presence: HashMap::new(),
            presence_leases: HashMap::new(),
            notify_tx: HashMap::new(),
            presence_dirty: false,
            reg_tx: HashMap::new(),
            trunk_notices: VecDeque::new(),
            offences: VecDeque::new(),
            echoes: HashMap::new(),
            closing: std::collections::HashSet::new(),
            by_a_invite: HashMap::new(),
            forwarded: HashMap::new(),
            next_call: 0,
            pending: HashMap::new(),
            answering: HashMap::new(),
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

    /// A UDP keep-alive (STUN Binding request or CRLFs, RFC 5626): STUN is answered, and
    /// the binding registered from `from` notes it.
    pub fn handle_keepalive(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        self.ep.handle_datagram(now, from, data);
        self.process(now);
    }

    /// The next offence to report to the DoS guard (MV2-34).
    pub fn poll_offence(&mut self) -> Option<(IpAddr, sip_core::dos::Cause)> {
        self.offences.pop_front()
    }

    /// A framed message failed to parse (a modified message for the DoS guard).
    pub fn handle_invalid(&mut self, t: Transport, from: SocketAddr, e: &ParseError) {
        self.offences
            .push_back((from.ip(), sip_core::dos::Cause::ModifiedMessage));
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
        let too_long: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| c.end_deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in too_long {
            info!(call = id, "call reached its longest allowed duration");
            self.hang_up_call(now, id);
        }
        self.transfer_timeouts(now);
        self.process(now);
    }

    /// The next wake-up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let rings = self
            .calls
            .values()
            .filter_map(|c| c.ring_deadline.into_iter().chain(c.end_deadline).min());
        [
            self.ep.poll_timeout(),
            self.registrar.poll_timeout(),
            self.transfer_deadline(),
            self.trunk_reg_deadline(),
            self.keepalive_deadline(),
            self.presence_deadline(),
        ]
        .into_iter()
        .flatten()
        .chain(rings)
        .min()
    }

    /// Next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.ep.poll_transmit()
    }

    /// Next call detail record to write, with its call (the [`MediaAction::Stop`] of a relayed
    /// call comes first, so the relay's statistics can be added to it).
    pub fn poll_cdr(&mut self) -> Option<(u64, CdrRecord)> {
        self.cdrs.pop_front()
    }

    /// Next media work for the core task.
    pub fn poll_media(&mut self) -> Option<MediaAction> {
        self.media.pop_front()
    }

    pub(super) fn local(&self, t: Transport) -> SocketAddr {
        self.settings
            .local
            .iter()
            .find(|(lt, _)| *lt == t)
            .or(self.settings.local.first())
            .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)), |(_, a)| *a)
    }

    pub(super) fn contact(&self, t: Transport) -> String {
        let tp = if t == Transport::Udp {
            String::new()
        } else {
            format!(";transport={}", t.as_str().to_ascii_lowercase())
        };
        format!("<sip:pbx@{}{tp}>", self.local(t))
    }

    /// ACKs the 2xx with CSeq `seq` on dialog `d`, sent to `peer` (stateless).
    pub(super) fn ack_on(&mut self, d: &Dialog, seq: u32, peer: (Transport, SocketAddr)) {
        let (t, dest) = peer;
        let (local, branch) = (self.local(t).to_string(), self.ep.new_branch());
        if let Ok(Ok(ack)) = d
            .ack(seq, (t.as_str(), &local, &branch))
            .map(sip_core::RequestBuilder::build)
        {
            self.ep.send_stateless(&ack, t, dest);
        }
    }

    /// Sends BYE on dialog `d` to `peer`; its transaction, once sent.
    pub(super) fn bye_on(
        &mut self,
        now: Instant,
        d: &mut Dialog,
        peer: (Transport, SocketAddr),
    ) -> Option<TxId> {
        let (t, dest) = peer;
        let (local, branch) = (self.local(t).to_string(), self.ep.new_branch());
        let bye = d
            .request(Method::Bye, (t.as_str(), &local, &branch))
            .ok()?
            .build()
            .ok()?;
        self.ep.send_request(now, bye, t, dest).ok()
    }

    pub(super) fn process(&mut self, now: Instant) {
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
                Event::KeepAlive { source, .. } => self.registrar.keepalive(now, source),
                _ => {}
            }
        }
        while let Some(ev) = self.registrar.poll_event() {
            info!(?ev, "registrar");
            if !matches!(ev, sip_core::location::RegistrarEvent::Refreshed { .. }) {
                self.presence_dirty = true;
            }
            if let sip_core::location::RegistrarEvent::Unregistered { aor, contact, .. } = ev {
                // The device is gone: its terminal licence goes back to the pool.
                self.held.remove(&(aor, contact));
            }
        }
        self.drive_registrations(now);
        self.nat_keepalives(now);
        self.presence_changes(now);
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
            Some(Method::Message) if !in_dialog => self.on_message(now, tx, &req, from),
            Some(Method::Subscribe) if !in_dialog => self.on_subscribe(now, tx, &req, from),
            _ if in_dialog => self.on_in_dialog(now, tx, &req, from.1),
            _ => drop(self.ep.reply(now, tx, 403, "Forbidden")),
        }
    }
}
