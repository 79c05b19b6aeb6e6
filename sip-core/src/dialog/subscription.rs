//! SUBSCRIBE/NOTIFY usages (RFC 6665, and the implicit subscription of REFER, RFC 3515):
//! the Subscription-State value and the subscriber's view of one subscription.

use std::time::{Duration, Instant};

use crate::{HeaderName, Message};

/// A Subscription-State value (RFC 6665 §8.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubState {
    /// Accepted; `expires` seconds left when given.
    Active {
        /// Remaining seconds.
        expires: Option<u32>,
    },
    /// Not yet authorised.
    Pending {
        /// Remaining seconds.
        expires: Option<u32>,
    },
    /// Over.
    Terminated {
        /// `reason` parameter (e.g. `noresource`, `timeout`).
        reason: Option<String>,
        /// `retry-after` seconds.
        retry_after: Option<u32>,
    },
}

fn param<'a>(parts: &[&'a str], name: &str) -> Option<&'a str> {
    parts.iter().find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

impl SubState {
    /// Parses a header value; an unknown state is treated as `pending` (RFC 6665 §8.2.3).
    pub fn parse(value: &str) -> Option<Self> {
        let parts: Vec<&str> = value.split(';').collect();
        let state = parts.first()?.trim();
        if state.is_empty() {
            return None;
        }
        let num = |n: &str| param(&parts, n).and_then(|v| v.parse().ok());
        Some(match state.to_ascii_lowercase().as_str() {
            "active" => Self::Active {
                expires: num("expires"),
            },
            "terminated" => Self::Terminated {
                reason: param(&parts, "reason").map(str::to_owned),
                retry_after: num("retry-after"),
            },
            _ => Self::Pending {
                expires: num("expires"),
            },
        })
    }

    /// The Subscription-State of a NOTIFY.
    pub fn of(msg: &Message) -> Option<Self> {
        msg.values(HeaderName::SubscriptionState)
            .next()
            .and_then(Self::parse)
    }

    /// The header value.
    pub fn value(&self) -> String {
        match self {
            Self::Active { expires: Some(e) } => format!("active;expires={e}"),
            Self::Active { expires: None } => "active".to_owned(),
            Self::Pending { expires: Some(e) } => format!("pending;expires={e}"),
            Self::Pending { expires: None } => "pending".to_owned(),
            Self::Terminated {
                reason,
                retry_after,
            } => {
                let mut s = "terminated".to_owned();
                if let Some(r) = reason {
                    s.push_str(";reason=");
                    s.push_str(r);
                }
                if let Some(r) = retry_after {
                    s.push_str(&format!(";retry-after={r}"));
                }
                s
            }
        }
    }
}

/// Why a NOTIFY does not fit the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// No or another Event package / id: answer 489 Bad Event.
    #[error("bad event")]
    BadEvent,
    /// No valid Subscription-State: answer 400.
    #[error("missing Subscription-State")]
    NoState,
    /// The subscription has terminated: answer 481.
    #[error("subscription terminated")]
    Terminated,
}

/// The subscriber's side of one subscription (SUBSCRIBE, or the implicit one of a REFER).
#[derive(Debug, Clone)]
pub struct Subscription {
    event: String,
    id: Option<String>,
    state: Option<SubState>,
    expires_at: Instant,
}

fn event_parts(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let package = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let id = parts.find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case("id")
            .then(|| v.trim().to_owned())
    });
    (package, id)
}

impl Subscription {
    /// A subscription to `event` (an Event header value, `package[;id=…]`) requested at
    /// `now` for `expires`.
    pub fn new(event: &str, now: Instant, expires: Duration) -> Self {
        let (event, id) = event_parts(event);
        Self {
            event,
            id,
            state: None,
            expires_at: now + expires,
        }
    }

    /// The last state a NOTIFY reported (`None` before the first NOTIFY).
    pub fn state(&self) -> Option<&SubState> {
        self.state.as_ref()
    }

    /// When the subscription lapses unless refreshed.
    pub const fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// Whether it has ended.
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, Some(SubState::Terminated { .. }))
    }

    /// A NOTIFY arrived at `now`: checks Event (package and id) and applies the state; the
    /// expiry follows the notifier's `expires` (RFC 6665 §4.1.2.3).
    pub fn on_notify(&mut self, now: Instant, notify: &Message) -> Result<&SubState, NotifyError> {
        if self.is_terminated() {
            return Err(NotifyError::Terminated);
        }
        let event = notify
            .values(HeaderName::Event)
            .next()
            .ok_or(NotifyError::BadEvent)?;
        if event_parts(event) != (self.event.clone(), self.id.clone()) {
            return Err(NotifyError::BadEvent);
        }
        let state = SubState::of(notify).ok_or(NotifyError::NoState)?;
        if let SubState::Active { expires: Some(e) } | SubState::Pending { expires: Some(e) } =
            state
        {
            self.expires_at = now + Duration::from_secs(u64::from(e));
        }
        Ok(self.state.insert(state))
    }
}
