//! SIP trunks (MV-30, MV-35): calls from a provider are routed by the called number (DDI) to
//! an extension; users' calls to a number with a trunk's prefix go out to the provider, which
//! may challenge them (401/407, answered once with the account's digest credentials). Each
//! trunk carries at most its licensed number of simultaneous calls (SIP access channels).

use std::net::SocketAddr;
use std::time::Instant;

use sip_core::header::{ProxyAuthenticate, WwwAuthenticate};
use sip_core::transaction::{Transport, TxId};
use sip_core::{HeaderName, Message, Method, RequestBuilder, digest};
use tracing::{debug, info};

use super::*;

/// A provider account.
#[derive(Debug, Clone)]
pub struct TrunkSettings {
    /// Name for logs.
    pub name: String,
    /// The provider's address (calls from it are the trunk's).
    pub addr: SocketAddr,
    /// Transport to the provider.
    pub transport: Transport,
    /// Account user (From of outgoing calls).
    pub username: String,
    /// Digest user name.
    pub auth_username: String,
    /// Digest password.
    pub password: String,
    /// The provider's domain.
    pub domain: String,
    /// Simultaneous calls allowed (SIP access channels, MV-35).
    pub channels: u32,
    /// Called number → extension.
    pub ddi: HashMap<String, String>,
    /// Extension for other called numbers.
    pub ddi_default: Option<String>,
    /// Dialled prefixes routed to this trunk.
    pub prefixes: Vec<String>,
    /// Remove the prefix before sending.
    pub strip_prefix: bool,
    /// Register at the provider (MV2-35 supervision).
    pub register: bool,
    /// Registration interval asked for, seconds.
    pub expires: u32,
}

/// Which way a trunk call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TrunkDir {
    /// From the provider to an extension.
    In,
    /// From an extension to the provider.
    Out,
}

impl Pbx {
    /// The trunk whose provider sent from `from` (its configured address, IP and port).
    pub(super) fn trunk_of(&self, from: SocketAddr) -> Option<usize> {
        self.settings.trunks.iter().position(|t| t.addr == from)
    }

    /// The trunk and the number to send for a dialled `number`, by longest prefix.
    pub(super) fn outbound_route(&self, number: &str) -> Option<(usize, String)> {
        self.settings
            .trunks
            .iter()
            .enumerate()
            .flat_map(|(k, t)| t.prefixes.iter().map(move |p| (k, t, p)))
            .filter(|(_, _, p)| number.starts_with(p.as_str()) && number.len() > p.len())
            .max_by_key(|(_, _, p)| p.len())
            .map(|(k, t, p)| {
                let out = if t.strip_prefix {
                    &number[p.len()..]
                } else {
                    number
                };
                (k, out.to_owned())
            })
    }

    /// Whether trunk `k` has a free channel (MV-35).
    pub(super) fn trunk_has_room(&self, k: usize) -> bool {
        let busy = self
            .calls
            .values()
            .filter(|c| c.trunk.is_some_and(|(t, _)| t == k))
            .count()
            + self
                .pending
                .values()
                .filter(|p| p.trunk.is_some_and(|(t, _)| t == k))
                .count();
        self.settings
            .trunks
            .get(k)
            .is_some_and(|t| (busy as u64) < u64::from(t.channels))
    }

    /// The extension an inbound trunk call to `number` rings.
    pub(super) fn ddi_target(&self, k: usize, number: &str) -> Option<String> {
        let t = self.settings.trunks.get(k)?;
        t.ddi.get(number).or(t.ddi_default.as_ref()).cloned()
    }

    /// Sends call `id` out on its trunk; `auth` answers the provider's challenge in `resp` to
    /// the previous attempt `prev`. `false` when nothing could be sent.
    pub(super) fn ring_trunk(
        &mut self,
        now: Instant,
        id: u64,
        retry: Option<(&Message, &Message)>,
    ) -> bool {
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        let Some((k, TrunkDir::Out)) = call.trunk else {
            return false;
        };
        let Some(t) = self.settings.trunks.get(k).cloned() else {
            return false;
        };
        let uri = format!("sip:{}@{}", call.callee, t.domain);
        let body = call.b_offer.clone();
        let local = self.local(t.transport).to_string();
        let (call_id, tag, cseq, auth) = match retry {
            Some((prev, resp)) => {
                let Some(auth) = answer(resp, &t, &uri) else {
                    return false;
                };
                let cid = prev.call_id().map(|c| c.0.to_owned()).unwrap_or_default();
                let tag = prev
                    .from()
                    .ok()
                    .and_then(|f| f.tag().map(str::to_owned))
                    .unwrap_or_default();
                let seq = prev.cseq().map_or(1, |c| c.seq) + 1;
                (cid, tag, seq, Some(auth))
            }
            None => (
                format!("{}@pbxkit", self.ep.new_branch()),
                self.ep.new_tag(),
                1,
                None,
            ),
        };
        let mut b = RequestBuilder::new(Method::Invite, &uri)
            .via(t.transport.as_str(), &local, &self.ep.new_branch())
            .from(&format!("<sip:{}@{}>", t.username, t.domain), &tag)
            .to(&format!("<{uri}>"))
            .call_id(&call_id)
            .cseq(cseq)
            .max_forwards(70)
            .contact(&self.contact(t.transport))
            .header(HeaderName::UserAgent, &self.settings.user_agent);
        if let Some((name, value)) = auth {
            b = b.header(name, &value);
        }
        if let Some(body) = body {
            b = b.body("application/sdp", body);
        }
        let Ok(req) = b.build() else {
            return false;
        };
        let Ok(tx) = self.ep.send_request(now, req.clone(), t.transport, t.addr) else {
            return false;
        };
        debug!(call = id, trunk = %t.name, "outbound trunk call");
        self.by_b_invite.insert(tx, id);
        if let Some(call) = self.calls.get_mut(&id) {
            call.branches.push(Branch {
                tx,
                req,
                peer: (t.transport, t.addr),
            });
            call.ring_deadline = Some(now + self.settings.no_answer);
        }
        true
    }

    /// A 401/407 on an outbound trunk call: answered once with the account's credentials.
    /// `true` when the authenticated INVITE went out.
    pub(super) fn trunk_challenge(
        &mut self,
        now: Instant,
        id: u64,
        tx: TxId,
        resp: &Message,
    ) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        if !matches!(call.trunk, Some((_, TrunkDir::Out))) || call.auth_tried {
            return false;
        }
        call.auth_tried = true;
        let Some(prev) = call
            .branches
            .iter()
            .find(|b| b.tx == tx)
            .map(|b| b.req.clone())
        else {
            return false;
        };
        self.by_b_invite.remove(&tx);
        self.take_branch(id, tx);
        let sent = self.ring_trunk(now, id, Some((&prev, resp)));
        if sent {
            info!(call = id, "trunk challenge answered");
        }
        sent
    }
}

/// The Authorization / Proxy-Authorization answering `resp`'s challenge for `uri`.
fn answer(resp: &Message, t: &TrunkSettings, uri: &str) -> Option<(HeaderName, String)> {
    let cnonce = format!("{:016x}", rand::random::<u64>());
    let (user, pw) = (t.auth_username.as_str(), t.password.as_str());
    if resp.status() == Some(407) {
        let ch: ProxyAuthenticate<'_> = resp.header_all::<ProxyAuthenticate<'_>>().next()?.ok()?;
        let v = digest::authorization(&ch, user, pw, "INVITE", uri, &cnonce, 1).ok()?;
        Some((HeaderName::ProxyAuthorization, v))
    } else {
        let ch: WwwAuthenticate<'_> = resp.header_all::<WwwAuthenticate<'_>>().next()?.ok()?;
        let v = digest::authorization(&ch, user, pw, "INVITE", uri, &cnonce, 1).ok()?;
        Some((HeaderName::Authorization, v))
    }
}
