//! Dialogs (RFC 3261 §12): identity, tags, route set, CSeq spaces and remote target, for both
//! sides, with target refresh (re-INVITE, UPDATE) and the in-dialog requests a UA sends.
//!
//! A dialog is plain state: create it from the request and the response that established it
//! ([`Dialog::uac`], [`Dialog::uas`]), feed it the in-dialog requests and refresh responses,
//! and ask it to build requests ([`Dialog::request`], [`Dialog::ack`]). An early UAC dialog
//! is confirmed by its 2xx with [`Dialog::confirm_uac`].
//!
//! Extensions are separate plain-state types kept next to a dialog, driven with `now`:
//! - RFC 3262 reliable provisional responses: [`UasReliable`] (RSeq, retransmission at T1
//!   doubling for 64*T1, PRACK matching) and [`UacReliable`] (RSeq order, [`RAck`]).
//! - RFC 4028 session timers: [`SessionExpires`], [`uas_negotiate`] (422 / refresher choice),
//!   [`uac_retry_after_422`], [`SessionTimer`] (refresh at half, BYE before expiry).
//! - RFC 3515 REFER and RFC 3891 Replaces: [`ReferTo`], [`Replaces`] (matching from the
//!   receiver's side), [`sipfrag`] bodies, [`refer_event`].
//! - RFC 3261 §14 re-INVITE glare: [`InviteGuard`] (491 / 500), [`glare_retry_delay`].
//! - RFC 6665 subscriptions: [`SubState`], [`Subscription`] (the subscriber's view).

mod glare;
mod refer;
mod reliable;
mod session_timer;
mod subscription;

pub use glare::{InviteGuard, Refusal, glare_retry_delay};
pub use refer::{ReferTo, Replaces, ReplacesMatch, refer_event, sipfrag, sipfrag_status};
pub use reliable::{
    PrackMatch, RAck, TAG_100REL, UacReliable, UasReliable, UasTimeout, lists_tag, rseq_of,
};
pub use session_timer::{
    MIN_SE_FLOOR, Refresher, SessionExpires, SessionTimer, TAG_TIMER, UasDecision, min_se_of,
    uac_retry_after_422, uas_negotiate,
};
pub use subscription::{NotifyError, SubState, Subscription};

use crate::header::Contact;
use crate::{HeaderName, Message, Method, RequestBuilder};

/// Dialog identifier (§12): Call-ID and both tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The id of the dialog an in-dialog request received by us belongs to (our tag is in To).
    pub fn of_incoming(request: &Message) -> Option<Self> {
        Some(Self {
            call_id: request.call_id().ok()?.0.to_owned(),
            local_tag: request.to().ok()?.tag()?.to_owned(),
            remote_tag: request.from().ok()?.tag()?.to_owned(),
        })
    }
}

/// Early (after a tagged 1xx) or confirmed (after a 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogState {
    /// Created by a provisional response.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// Why a dialog cannot be created or a request does not fit it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// The messages lack what a dialog needs (tags, Contact, Call-ID, CSeq).
    #[error("cannot form a dialog: missing {0}")]
    Missing(&'static str),
    /// A request's CSeq is lower than the last one (§12.2.2: answer 500).
    #[error("CSeq out of order")]
    OutOfOrder,
    /// The request belongs to another dialog.
    #[error("not this dialog")]
    Mismatch,
    /// The request could not be built.
    #[error("cannot build the request")]
    Build,
}

/// One dialog.
#[derive(Debug, Clone)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    /// Our URI header value (From for requests we send), without tag.
    local: String,
    /// The peer's URI header value (To for requests we send), without tag.
    remote: String,
    local_seq: u32,
    remote_seq: Option<u32>,
    remote_target: String,
    route_set: Vec<String>,
}

fn contact_uri(msg: &Message) -> Option<String> {
    let c: Contact<'_> = msg.contacts().next()?.ok()?;
    c.addr().map(|a| a.uri().as_str().to_owned())
}

/// A From/To value without its tag parameter, kept as written otherwise.
fn without_tag(value: &str) -> String {
    let mut out = String::new();
    for (i, part) in value.split(';').enumerate() {
        let is_tag = i > 0
            && part
                .trim()
                .split('=')
                .next()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("tag"));
        if !is_tag {
            if i > 0 {
                out.push(';');
            }
            out.push_str(part);
        }
    }
    out.trim().to_owned()
}

fn first(msg: &Message, name: HeaderName) -> Option<String> {
    msg.values(name).next().map(without_tag)
}

fn record_route(msg: &Message) -> Vec<String> {
    msg.values(HeaderName::RecordRoute)
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Dialog {
    /// The UAC side, from our request and a tagged 1xx or a 2xx (§12.1.2): route set is the
    /// response's Record-Route reversed, remote target its Contact.
    pub fn uac(request: &Message, response: &Message) -> Result<Self, DialogError> {
        let code = response.status().ok_or(DialogError::Missing("status"))?;
        let remote_tag = response.to().ok().and_then(|t| t.tag().map(str::to_owned));
        let local_tag = request.from().ok().and_then(|f| f.tag().map(str::to_owned));
        let mut route_set = record_route(response);
        route_set.reverse();
        Ok(Self {
            id: DialogId {
                call_id: request
                    .call_id()
                    .map_err(|_| DialogError::Missing("Call-ID"))?
                    .0
                    .to_owned(),
                local_tag: local_tag.ok_or(DialogError::Missing("From tag"))?,
                remote_tag: remote_tag.ok_or(DialogError::Missing("To tag"))?,
            },
            state: if code < 200 {
                DialogState::Early
            } else {
                DialogState::Confirmed
            },
            local: first(request, HeaderName::From).ok_or(DialogError::Missing("From"))?,
            remote: first(request, HeaderName::To).ok_or(DialogError::Missing("To"))?,
            local_seq: request
                .cseq()
                .map_err(|_| DialogError::Missing("CSeq"))?
                .seq,
            remote_seq: None,
            remote_target: contact_uri(response).ok_or(DialogError::Missing("Contact"))?,
            route_set,
        })
    }

    /// The UAS side, from the request we answer with `local_tag` (§12.1.1): route set is the
    /// request's Record-Route in order, remote target its Contact. Early until
    /// [`Dialog::confirm`].
    pub fn uas(request: &Message, local_tag: &str) -> Result<Self, DialogError> {
        Ok(Self {
            id: DialogId {
                call_id: request
                    .call_id()
                    .map_err(|_| DialogError::Missing("Call-ID"))?
                    .0
                    .to_owned(),
                local_tag: local_tag.to_owned(),
                remote_tag: request
                    .from()
                    .ok()
                    .and_then(|f| f.tag().map(str::to_owned))
                    .ok_or(DialogError::Missing("From tag"))?,
            },
            state: DialogState::Early,
            local: first(request, HeaderName::To).ok_or(DialogError::Missing("To"))?,
            remote: first(request, HeaderName::From).ok_or(DialogError::Missing("From"))?,
            local_seq: 0,
            remote_seq: Some(
                request
                    .cseq()
                    .map_err(|_| DialogError::Missing("CSeq"))?
                    .seq,
            ),
            remote_target: contact_uri(request).ok_or(DialogError::Missing("Contact"))?,
            route_set: record_route(request),
        })
    }

    /// The id.
    pub const fn id(&self) -> &DialogId {
        &self.id
    }

    /// The state.
    pub const fn state(&self) -> DialogState {
        self.state
    }

    /// A 2xx confirmed the dialog.
    pub fn confirm(&mut self) {
        self.state = DialogState::Confirmed;
    }

    /// The UAC's early dialog received the 2xx of its INVITE (RFC 3261 §13.2.2.4): it is
    /// confirmed, its route set recomputed from the 2xx's Record-Route and its remote target
    /// taken from the 2xx's Contact. The local CSeq is kept (PRACKs or UPDATEs may have been
    /// sent in the early dialog). Responses of another dialog are refused.
    pub fn confirm_uac(&mut self, response: &Message) -> Result<(), DialogError> {
        if !response.status().is_some_and(|c| (200..300).contains(&c)) {
            return Err(DialogError::Missing("a 2xx"));
        }
        let tag = response.to().ok().and_then(|t| t.tag().map(str::to_owned));
        if tag.as_deref() != Some(self.id.remote_tag.as_str()) {
            return Err(DialogError::Mismatch);
        }
        let mut route_set = record_route(response);
        route_set.reverse();
        self.route_set = route_set;
        if let Some(target) = contact_uri(response) {
            self.remote_target = target;
        }
        self.state = DialogState::Confirmed;
        Ok(())
    }

    /// Where in-dialog requests go (the peer's Contact, updated by target refreshes).
    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    /// The route set.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// Our last CSeq number.
    pub const fn local_seq(&self) -> u32 {
        self.local_seq
    }

    /// An in-dialog request received (§12.2.2): checks the CSeq order and applies a target
    /// refresh (INVITE or UPDATE with a Contact, RFC 3311).
    pub fn on_request(&mut self, request: &Message) -> Result<(), DialogError> {
        if DialogId::of_incoming(request).as_ref() != Some(&self.id) {
            return Err(DialogError::Mismatch);
        }
        let cseq = request.cseq().map_err(|_| DialogError::Missing("CSeq"))?;
        let method = request.method();
        if method != Some(Method::Ack) && method != Some(Method::Cancel) {
            if self.remote_seq.is_some_and(|s| cseq.seq <= s) {
                return Err(DialogError::OutOfOrder);
            }
            self.remote_seq = Some(cseq.seq);
        }
        if matches!(method, Some(Method::Invite | Method::Update))
            && let Some(target) = contact_uri(request)
        {
            self.remote_target = target;
        }
        Ok(())
    }

    /// A 2xx to our target-refresh request (re-INVITE, UPDATE) updates the remote target.
    pub fn on_refresh_response(&mut self, response: &Message) {
        if response.status().is_some_and(|c| (200..300).contains(&c))
            && let Some(target) = contact_uri(response)
        {
            self.remote_target = target;
        }
    }

    /// A new in-dialog request (§12.2.1.1): next CSeq, tags, route set (loose or strict
    /// routing), remote target as Request-URI. The caller adds Contact and a body as needed.
    pub fn request(
        &mut self,
        method: Method<'_>,
        via: (&str, &str, &str),
    ) -> Result<RequestBuilder, DialogError> {
        self.local_seq = self.local_seq.wrapping_add(1).max(1);
        self.build(method, self.local_seq, via)
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `invite_seq` (§13.2.2.4).
    pub fn ack(
        &self,
        invite_seq: u32,
        via: (&str, &str, &str),
    ) -> Result<RequestBuilder, DialogError> {
        self.build(Method::Ack, invite_seq, via)
    }

    fn build(
        &self,
        method: Method<'_>,
        seq: u32,
        (transport, sent_by, branch): (&str, &str, &str),
    ) -> Result<RequestBuilder, DialogError> {
        let strict = self.route_set.first().is_some_and(|r| !r.contains(";lr"));
        let (ruri, routes): (String, Vec<String>) = if strict {
            // §12.2.1.1 strict routing: first route becomes the Request-URI.
            let first = self.route_set[0]
                .trim_matches(|c| c == '<' || c == '>')
                .to_owned();
            let mut rest: Vec<String> = self.route_set[1..].to_vec();
            rest.push(format!("<{}>", self.remote_target));
            (first, rest)
        } else {
            (self.remote_target.clone(), self.route_set.clone())
        };
        let mut b = RequestBuilder::new(method, &ruri).via(transport, sent_by, branch);
        for r in &routes {
            b = b.header(HeaderName::Route, r);
        }
        let method_name = method.as_str();
        Ok(b.from(&self.local, &self.id.local_tag)
            .header(
                HeaderName::To,
                &format!("{};tag={}", self.remote, self.id.remote_tag),
            )
            .call_id(&self.id.call_id)
            .header(HeaderName::CSeq, &format!("{seq} {method_name}"))
            .max_forwards(70))
    }
}
