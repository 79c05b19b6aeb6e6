//! The core task: DoS guard, then the SIP logic ([`Pbx`]) for every inbound message; what
//! it sends goes back through the transports (the same connection for TCP/TLS).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use std::sync::{Arc, Mutex};

use rtp_media::budget::MediaBudget;
use rtp_media::relay::Leg;

use super::b2bua::{LegKeys, MediaAction, Pbx};
use super::sdp::Audio;
use super::{ConnId, Inbound, Outbound, Received, Transport, Transports};
use crate::cdr::CdrWriter;
use crate::config::ShutdownMode;
use crate::media::{CallRelay, Echo, LegSpec, LegSrtp, PortAllocator, RelayReport};
use crate::notice::Notice;
use sip_core::dos::{Change, DosGuard};

/// The sip-core transport of a listener transport.
pub const fn to_core(t: Transport) -> sip_core::transaction::Transport {
    match t {
        Transport::Udp => sip_core::transaction::Transport::Udp,
        Transport::Tcp => sip_core::transaction::Transport::Tcp,
        Transport::Tls => sip_core::transaction::Transport::Tls,
    }
}

const fn from_core(t: sip_core::transaction::Transport) -> Transport {
    match t {
        sip_core::transaction::Transport::Tcp => Transport::Tcp,
        sip_core::transaction::Transport::Tls | sip_core::transaction::Transport::Ws => {
            Transport::Tls
        }
        _ => Transport::Udp,
    }
}

/// The RTP side of the core: port range, media budget, relay IP and running relays.
pub struct Media {
    /// RTP ports.
    pub ports: PortAllocator,
    /// The MV-36 budget.
    pub budget: Arc<Mutex<MediaBudget>>,
    /// Where relays bind.
    pub ip: IpAddr,
    relays: HashMap<u64, CallRelay>,
    echoes: HashMap<u64, Echo>,
    /// Statistics of relays stopped in this pass, for their call records.
    reports: HashMap<u64, RelayReport>,
    /// Where call detail records go (`None`: not written).
    pub cdr: Option<CdrWriter>,
}

impl Media {
    /// Media on `ip` with `ports` and `budget`.
    pub fn new(ports: PortAllocator, budget: Arc<Mutex<MediaBudget>>, ip: IpAddr) -> Self {
        Self {
            ports,
            budget,
            ip,
            relays: HashMap::new(),
            echoes: HashMap::new(),
            reports: HashMap::new(),
            cdr: None,
        }
    }

    /// Carries out what the SIP logic asked for media, until it asks nothing more.
    async fn serve(&mut self, pbx: &mut Pbx) {
        loop {
            let mut idle = true;
            while let Some(action) = pbx.poll_media() {
                idle = false;
                self.act(pbx, action).await;
            }
            while let Some((call, mut rec)) = pbx.poll_cdr() {
                idle = false;
                if let Some(r) = self.reports.remove(&call) {
                    rec.media = r.legs.map(|l| l.map(|l| l.media));
                }
                if let Some(w) = &self.cdr
                    && let Err(e) = w.write(&rec)
                {
                    warn!("call record not written: {e}");
                }
            }
            if idle {
                break;
            }
        }
        // A relay stopped without a record (a call gone before its relay started).
        self.reports.clear();
    }

    async fn act(&mut self, pbx: &mut Pbx, action: MediaAction) {
        match action {
            MediaAction::Start { call, a, srtp } => {
                // Leg B takes the callee's codec when it answers (MediaAction::Answer).
                let legs = [leg_spec(&a, a.remote), leg_spec(&a, None)];
                let keys = [
                    srtp_of(srtp.as_ref().map(|(k, _)| k)),
                    Ok(LegSrtp::default()),
                ];
                let relay = match keys {
                    [Ok(a_keys), Ok(b_keys)] => {
                        CallRelay::start(&self.ports, &self.budget, self.ip, legs, [a_keys, b_keys])
                            .await
                            .map_err(|e| e.to_string())
                    }
                    _ => Err("unusable SRTP key".to_owned()),
                };
                match relay {
                    Ok(relay) => {
                        let local = [relay.local_addr(Leg::A), relay.local_addr(Leg::B)];
                        self.relays.insert(call, relay);
                        pbx.media_ready(now(), call, local);
                    }
                    Err(e) => {
                        warn!(call, "no media relay: {e}");
                        pbx.media_failed(now(), call);
                    }
                }
            }
            MediaAction::Answer { call, b, srtp } => {
                let ok = match (self.relays.get_mut(&call), srtp_of(srtp.as_ref())) {
                    (Some(relay), Ok(keys)) => relay
                        .set_leg_b(leg_spec(&b, b.remote), keys)
                        .map_err(|e| warn!(call, "relay cannot take the callee's codec: {e}"))
                        .is_ok(),
                    _ => false,
                };
                pbx.media_answered(now(), call, ok);
            }
            MediaAction::Retarget {
                call,
                leg,
                audio,
                srtp,
            } => {
                let leg = if leg == 0 { Leg::A } else { Leg::B };
                if let Some(relay) = self.relays.get_mut(&call)
                    && let Ok(keys) = srtp_of(srtp.as_ref())
                    && let Err(e) = relay.set_leg(leg, leg_spec(&audio, audio.remote), keys)
                {
                    warn!(call, "relay keeps its codecs after the transfer: {e}");
                }
            }
            MediaAction::Echo { call } => {
                match Echo::start(&self.ports, &self.budget, self.ip).await {
                    Ok(echo) => {
                        let at = echo.local_addr();
                        self.echoes.insert(call, echo);
                        pbx.media_ready(now(), call, [at, at]);
                    }
                    Err(e) => {
                        warn!(call, "no echo test: {e}");
                        pbx.media_failed(now(), call);
                    }
                }
            }
            MediaAction::Stop { call } => {
                self.echoes.remove(&call);
                if let Some(relay) = self.relays.remove(&call)
                    && let Some(report) = relay.stop().await
                {
                    self.reports.insert(call, report);
                }
            }
        }
    }
}

/// How the core stops when asked to.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownPlan {
    /// Hang up at once, or let calls drain first.
    pub mode: ShutdownMode,
    /// Longest drain (and, after the BYEs, longest wait for their answers).
    pub drain: Duration,
}

/// Runs until the transports are gone, or after `stop` turned true and the shutdown `plan`
/// is carried out: new calls refused, calls hung up (at once or after draining), and the
/// BYEs answered or the deadline passed.
pub async fn run(
    mut inbound: mpsc::Receiver<Inbound>,
    transports: Transports,
    (mut pbx, mut media): (Pbx, Media),
    mut dos: DosGuard,
    notices: mpsc::UnboundedSender<Notice>,
    (mut stop, plan): (watch::Receiver<bool>, ShutdownPlan),
) {
    let notify = |c: Change| {
        match c {
            Change::Blacklisted(ip, cause) => warn!(%ip, ?cause, "DoS: IP blacklisted (MV2-34)"),
            Change::Unblacklisted(ip) => warn!(%ip, "DoS: IP removed from the blacklist"),
        }
        let _ = notices.send(Notice::Dos(c));
    };
    let mut conns: HashMap<(Transport, SocketAddr), ConnId> = HashMap::new();
    pbx.start_trunks(now());
    flush(&mut pbx, &transports, &conns, &notices).await;
    // Set once stopping: when to hang up what is left (drain) or to give up waiting.
    let mut deadline: Option<(Instant, bool)> = None;
    loop {
        if deadline.is_some() && pbx.is_idle() {
            info!("all calls ended");
            return;
        }
        let wake = [
            dos.poll_timeout(),
            pbx.poll_timeout(),
            deadline.map(|d| d.0),
        ]
        .into_iter()
        .flatten()
        .min();
        let msg = tokio::select! {
            m = inbound.recv() => match m { Some(m) => m, None => return },
            () = sleep_until(wake) => {
                if let Some((at, hung_up)) = deadline && at <= now() {
                    if hung_up {
                        warn!(calls = pbx.call_count(), "shutdown deadline passed");
                        return;
                    }
                    pbx.hang_up_all(now());
                    deadline = Some((now() + plan.drain, true));
                }
                dos.handle_timeout(now()).into_iter().for_each(notify);
                pbx.handle_timeout(now());
                media.serve(&mut pbx).await;
                flush(&mut pbx, &transports, &conns, &notices).await;
                continue;
            }
            _ = stop.changed(), if deadline.is_none() => {
                info!(calls = pbx.call_count(), mode = ?plan.mode, "stopping calls");
                let hang_up = plan.mode == ShutdownMode::Bye;
                if hang_up {
                    pbx.hang_up_all(now());
                } else {
                    pbx.stop_accepting();
                }
                deadline = Some((now() + plan.drain, hang_up));
                media.serve(&mut pbx).await;
                flush(&mut pbx, &transports, &conns, &notices).await;
                continue;
            }
        };
        // Take what else has queued up before media and sending: fewer wake-ups under load.
        let mut next = Some(msg);
        let mut taken = 0;
        while let Some(msg) = next.take() {
            take(msg, &mut pbx, &mut dos, &mut conns, &notify);
            taken += 1;
            if taken < BATCH {
                next = inbound.try_recv().ok();
            }
        }
        media.serve(&mut pbx).await;
        flush(&mut pbx, &transports, &conns, &notices).await;
    }
}

/// Most inbound messages handled before media and sending get their turn.
const BATCH: usize = 64;

/// Hands one inbound message to the SIP logic, past the DoS guard.
fn take(
    msg: Inbound,
    pbx: &mut Pbx,
    dos: &mut DosGuard,
    conns: &mut HashMap<(Transport, SocketAddr), ConnId>,
    notify: &impl Fn(Change),
) {
    let ip: IpAddr = msg.from.ip();
    if dos.is_blocked(ip) {
        return;
    }
    let framed = match &msg.message {
        Received::Message(m) => Some(m),
        Received::Invalid(e) => e.message(),
        Received::KeepAlive(_) => None,
    };
    let is_request = framed.is_some_and(sip_core::Message::is_request);
    if is_request
        && framed.and_then(|m| m.method()) != Some(sip_core::Method::Ack)
        && let Some(c) = dos.transaction(now(), ip)
    {
        notify(c);
        return;
    }
    if let Some(conn) = msg.conn {
        conns.insert((msg.transport, msg.from), conn);
    }
    match msg.message {
        Received::Message(m) => pbx.handle_message(now(), to_core(msg.transport), msg.from, m),
        Received::Invalid(e) => {
            debug!(from = %msg.from, "unparseable message: {e}");
            pbx.handle_invalid(to_core(msg.transport), msg.from, &e);
        }
        Received::KeepAlive(data) => pbx.handle_keepalive(now(), msg.from, data),
    }
    while let Some((ip, cause)) = pbx.poll_offence() {
        if let Some(c) = dos.record(now(), ip, cause) {
            notify(c);
        }
    }
}

async fn flush(
    pbx: &mut Pbx,
    transports: &Transports,
    conns: &HashMap<(Transport, SocketAddr), ConnId>,
    notices: &mpsc::UnboundedSender<Notice>,
) {
    while let Some(n) = pbx.poll_trunk_notice() {
        let _ = notices.send(Notice::Trunk(n));
    }
    while let Some(t) = pbx.poll_transmit() {
        let transport = from_core(t.transport);
        let conn = conns.get(&(transport, t.destination)).copied();
        transports
            .send(Outbound {
                transport,
                conn,
                to: t.destination,
                bytes: t.payload,
            })
            .await;
    }
}

#[allow(clippy::disallowed_methods)] // the driver owns the clock
fn now() -> Instant {
    Instant::now()
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// The relay leg for a phone's `audio`, sending from `remote`.
fn leg_spec(audio: &Audio, remote: Option<SocketAddr>) -> LegSpec {
    LegSpec {
        remote,
        codec: audio.codec,
        payload_type: audio.payload_type,
        telephone_event: audio.telephone_event,
    }
}

/// The relay's SRTP for a leg with `keys` (plain without).
fn srtp_of(keys: Option<&LegKeys>) -> Result<LegSrtp, rtp_media::srtp::SrtpError> {
    match keys {
        Some(k) => LegSrtp::sdes(&k.phone, &k.ours),
        None => Ok(LegSrtp::default()),
    }
}
