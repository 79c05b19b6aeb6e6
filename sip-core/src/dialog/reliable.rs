//! Reliable provisional responses (RFC 3262): RSeq/RAck, the UAS retransmission schedule of
//! an unacknowledged reliable 1xx, PRACK matching, and the UAC's RSeq ordering.

use std::time::{Duration, Instant};

use crate::transaction::Timers;
use crate::{HeaderName, Message};

/// The option tag (RFC 3262 §3).
pub const TAG_100REL: &str = "100rel";

/// Whether `tag` is listed in any `name` header (e.g. Require, Supported).
pub fn lists_tag(msg: &Message, name: HeaderName, tag: &str) -> bool {
    msg.values(name)
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(tag))
}

/// An RAck value (RFC 3262 §7.2): `response-num CSeq-num Method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RAck {
    /// The RSeq of the acknowledged provisional response.
    pub rseq: u32,
    /// The CSeq number of the request it answered.
    pub cseq: u32,
    /// The method of that request.
    pub method: String,
}

impl RAck {
    /// Parses an RAck header value.
    pub fn parse(value: &str) -> Option<Self> {
        let mut it = value.split_ascii_whitespace();
        let rseq = parse_seq(it.next()?)?;
        let cseq = parse_seq(it.next()?)?;
        let method = it.next()?.to_owned();
        it.next().is_none().then_some(Self { rseq, cseq, method })
    }

    /// The RAck of a PRACK.
    pub fn of(msg: &Message) -> Option<Self> {
        msg.values(HeaderName::RAck).next().and_then(Self::parse)
    }

    /// The header value.
    pub fn value(&self) -> String {
        format!("{} {} {}", self.rseq, self.cseq, self.method)
    }
}

/// A 1..=2^31-1 sequence number (RFC 3262 §7.1).
fn parse_seq(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| (1..=0x7fff_ffff).contains(n))
}

/// The RSeq of a response.
pub fn rseq_of(msg: &Message) -> Option<u32> {
    msg.values(HeaderName::RSeq)
        .next()
        .and_then(|v| parse_seq(v.trim()))
}

/// What the UAS does when its retransmission timer fires.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UasTimeout {
    /// Send this reliable provisional response again.
    Retransmit(Message),
    /// No PRACK within 64*T1: reject the request with a 5xx (RFC 3262 §3).
    GiveUp,
}

/// Outcome of a PRACK at the UAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrackMatch {
    /// It acknowledges the pending reliable response: answer it 2xx.
    Acknowledged,
    /// It matches nothing pending: answer it 481 (RFC 3262 §3).
    NoMatch,
}

#[derive(Debug, Clone)]
struct Pending {
    rseq: u32,
    response: Message,
    next_at: Instant,
    interval: Duration,
    give_up_at: Instant,
}

/// The UAS side for one INVITE: numbers reliable provisional responses, retransmits the
/// unacknowledged one at T1, 2T1, 4T1… (no cap at T2, RFC 3262 §3) for 64*T1, and
/// matches PRACKs.
#[derive(Debug, Clone)]
pub struct UasReliable {
    next_rseq: u32,
    invite_cseq: u32,
    timers: Timers,
    pending: Option<Pending>,
}

impl UasReliable {
    /// For an INVITE with CSeq number `invite_cseq`; `initial_rseq` should be random in
    /// 1..=2^31-1 (it is clamped into that range).
    pub fn new(invite_cseq: u32, initial_rseq: u32, timers: Timers) -> Self {
        Self {
            next_rseq: initial_rseq.clamp(1, 0x7fff_ffff),
            invite_cseq,
            timers,
            pending: None,
        }
    }

    /// The RSeq for the next reliable provisional response, or `None` while one is still
    /// unacknowledged (a UAS must not send a second one before the first is PRACKed).
    pub fn next_rseq(&self) -> Option<u32> {
        self.pending.is_none().then_some(self.next_rseq)
    }

    /// Records that `response` (carrying [`UasReliable::next_rseq`] in RSeq and
    /// `Require: 100rel`) was sent at `now`. Like INVITE 2xx, it is retransmitted by the UAS
    /// core whatever the transport (RFC 3262 §3 "passed to the transaction layer periodically").
    pub fn sent(&mut self, now: Instant, response: Message) {
        let rseq = self.next_rseq;
        self.next_rseq = self.next_rseq.wrapping_add(1).clamp(1, 0x7fff_ffff);
        self.pending = Some(Pending {
            rseq,
            response,
            next_at: now + self.timers.t1,
            interval: self.timers.t1,
            give_up_at: now + self.timers.t1x64(),
        });
    }

    /// When [`UasReliable::handle_timeout`] wants to be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.next_at.min(p.give_up_at))
    }

    /// Retransmits or gives up.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<UasTimeout> {
        let p = self.pending.as_mut()?;
        if now >= p.give_up_at {
            self.pending = None;
            return Some(UasTimeout::GiveUp);
        }
        if now < p.next_at {
            return None;
        }
        p.interval *= 2;
        p.next_at = now + p.interval;
        Some(UasTimeout::Retransmit(p.response.clone()))
    }

    /// A PRACK arrived: matches it against the pending response (RAck RSeq, CSeq, method).
    pub fn on_prack(&mut self, prack: &Message) -> PrackMatch {
        let Some(rack) = RAck::of(prack) else {
            return PrackMatch::NoMatch;
        };
        let hit = self.pending.as_ref().is_some_and(|p| {
            p.rseq == rack.rseq
                && rack.cseq == self.invite_cseq
                && rack.method.eq_ignore_ascii_case("INVITE")
        });
        if hit {
            self.pending = None;
            PrackMatch::Acknowledged
        } else {
            PrackMatch::NoMatch
        }
    }

    /// Whether a final response may be sent (RFC 3262 §3: not for a 2xx while a reliable
    /// provisional with an offer is unacknowledged; callers decide about offers).
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }
}

/// The UAC side: accepts reliable provisional responses in RSeq order (RFC 3262 §4).
#[derive(Debug, Clone, Default)]
pub struct UacReliable {
    last_rseq: Option<u32>,
}

impl UacReliable {
    /// A new tracker for one INVITE (per dialog, with forking).
    pub fn new() -> Self {
        Self::default()
    }

    /// A provisional response arrived. Returns the RAck to send in a PRACK when it is a new
    /// reliable response in order; `None` for an unreliable one, a retransmission (already
    /// acknowledged) or one out of order (to be discarded).
    pub fn on_provisional(&mut self, response: &Message) -> Option<RAck> {
        let code = response.status()?;
        if !(101..200).contains(&code) || !lists_tag(response, HeaderName::Require, TAG_100REL) {
            return None;
        }
        let rseq = rseq_of(response)?;
        if let Some(last) = self.last_rseq
            && rseq != last.wrapping_add(1)
        {
            return None;
        }
        let cseq = response.cseq().ok()?;
        self.last_rseq = Some(rseq);
        Some(RAck {
            rseq,
            cseq: cseq.seq,
            method: cseq.method.as_str().to_owned(),
        })
    }
}
