//! Session timers (RFC 4028): Session-Expires and Min-SE values, the UAS's negotiation
//! (422, refresher choice), the UAC's reading of the answer, and when to refresh or give up.

use std::time::{Duration, Instant};

use super::reliable::lists_tag;
use crate::{HeaderName, Message};

/// The option tag (RFC 4028 §3).
pub const TAG_TIMER: &str = "timer";

/// The smallest Min-SE allowed, and its default (RFC 4028 §4, §5: 90 seconds).
pub const MIN_SE_FLOOR: u32 = 90;

/// Who refreshes the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// The caller (the UAC of the INVITE or UPDATE).
    Uac,
    /// The callee.
    Uas,
}

/// A Session-Expires value: `delta-seconds [;refresher=uac|uas]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpires {
    /// The session interval in seconds.
    pub delta: u32,
    /// The refresher, when given.
    pub refresher: Option<Refresher>,
}

fn delta(s: &str) -> Option<u32> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl SessionExpires {
    /// Parses a header value; unknown parameters are ignored.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(';');
        let delta = delta(parts.next()?)?;
        let mut refresher = None;
        for p in parts {
            let (name, val) = p.split_once('=').unwrap_or((p, ""));
            if name.trim().eq_ignore_ascii_case("refresher") {
                refresher = match val.trim().to_ascii_lowercase().as_str() {
                    "uac" => Some(Refresher::Uac),
                    "uas" => Some(Refresher::Uas),
                    _ => return None,
                };
            }
        }
        Some(Self { delta, refresher })
    }

    /// The Session-Expires of a message.
    pub fn of(msg: &Message) -> Option<Self> {
        msg.values(HeaderName::SessionExpires)
            .next()
            .and_then(Self::parse)
    }

    /// The header value.
    pub fn value(&self) -> String {
        match self.refresher {
            Some(Refresher::Uac) => format!("{};refresher=uac", self.delta),
            Some(Refresher::Uas) => format!("{};refresher=uas", self.delta),
            None => self.delta.to_string(),
        }
    }
}

/// The Min-SE of a message (RFC 4028 §5), if present and valid.
pub fn min_se_of(msg: &Message) -> Option<u32> {
    msg.values(HeaderName::MinSe)
        .next()
        .and_then(|v| delta(v.split(';').next().unwrap_or("")))
}

/// What a UAS answers to a session-refresh request (RFC 4028 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UasDecision {
    /// The interval is below our minimum: answer 422 with this Min-SE.
    TooSmall {
        /// Our Min-SE, for the 422's Min-SE header.
        min_se: u32,
    },
    /// Put this Session-Expires in the 2xx; `require_timer` says whether to add
    /// `Require: timer` (only when the UAC supports it).
    Use {
        /// The value for the 2xx.
        session_expires: SessionExpires,
        /// Add `Require: timer` to the 2xx.
        require_timer: bool,
    },
    /// No session timer.
    None,
}

/// The UAS's choice for `request`, given our minimum (`local_min_se`, at least 90) and the
/// interval we would like when the UAC did not ask (`preferred`, `None` to not insist).
pub fn uas_negotiate(request: &Message, local_min_se: u32, preferred: Option<u32>) -> UasDecision {
    let local_min = local_min_se.max(MIN_SE_FLOOR);
    let uac_supports = lists_tag(request, HeaderName::Supported, TAG_TIMER)
        || lists_tag(request, HeaderName::Require, TAG_TIMER);
    let asked = SessionExpires::of(request);
    let delta = match (asked, preferred) {
        (Some(se), _) if se.delta < local_min => {
            return UasDecision::TooSmall { min_se: local_min };
        }
        // §9: the UAS may shorten the interval, but not below the request's Min-SE or ours.
        (Some(se), Some(p)) => se
            .delta
            .min(p.max(local_min).max(min_se_of(request).unwrap_or(0))),
        (Some(se), None) => se.delta,
        (None, Some(p)) => p.max(local_min).max(min_se_of(request).unwrap_or(0)),
        (None, None) => return UasDecision::None,
    };
    // §9: keep the UAC's refresher choice; otherwise the UAC refreshes when it can.
    let refresher = asked.and_then(|s| s.refresher).unwrap_or(if uac_supports {
        Refresher::Uac
    } else {
        Refresher::Uas
    });
    UasDecision::Use {
        session_expires: SessionExpires {
            delta,
            refresher: Some(refresher),
        },
        require_timer: uac_supports,
    }
}

/// The UAC's retry after a 422 (RFC 4028 §7.4): the new interval, at least the 422's Min-SE.
pub fn uac_retry_after_422(response: &Message, asked: u32) -> Option<u32> {
    (response.status() == Some(422))
        .then(|| min_se_of(response))
        .flatten()
        .map(|m| m.max(asked))
}

/// A running session timer for one dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    /// The session interval.
    pub interval: Duration,
    /// Whether we are the refresher.
    pub we_refresh: bool,
    started: Instant,
}

impl SessionTimer {
    /// From the Session-Expires of the 2xx that (re)started the session at `now`; `we_are_uac`
    /// says which side of that transaction we were. `None` when the 2xx has no
    /// Session-Expires. A 2xx without refresher means the UAC refreshes (RFC 4028 §7.2).
    pub fn from_2xx(response: &Message, we_are_uac: bool, now: Instant) -> Option<Self> {
        let se = SessionExpires::of(response)?;
        let refresher = se.refresher.unwrap_or(Refresher::Uac);
        Some(Self {
            interval: Duration::from_secs(u64::from(se.delta)),
            we_refresh: (refresher == Refresher::Uac) == we_are_uac,
            started: now,
        })
    }

    /// When the refresher sends its refresh: half the interval (RFC 4028 §10).
    pub fn refresh_at(&self) -> Option<Instant> {
        self.we_refresh.then(|| self.started + self.interval / 2)
    }

    /// When the other side gives up and sends BYE: the interval minus the smaller of 32 s
    /// and a third of it (RFC 4028 §10).
    pub fn expire_at(&self) -> Instant {
        let margin = (self.interval / 3).min(Duration::from_secs(32));
        self.started + self.interval - margin
    }

    /// A refresh succeeded at `now`: the interval starts again.
    pub fn refreshed(&mut self, now: Instant) {
        self.started = now;
    }
}
