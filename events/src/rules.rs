//! Event-specific raising rules (EV-39..EV-45): helpers a raiser uses to decide *whether* and
//! *when* to raise. The engine applies the rules that need its state (EV-39 unfiltered local
//! delivery, EV-41 error flood, EV-42 once-only, EV-43 roles); these are the others.

use core::time::Duration;

use crate::event::{Event, EventError, NodeId};
use crate::kind::EventKind;
use crate::time::Timestamp;

/// The user-event feature code prefix (EV-40).
pub const USER_EVENT_PREFIX: &str = "*77";

/// EV-40: a user dialled `digits`; if they are `*77` + a 4- or 5-digit code, the
/// `user_event_message` to raise. `None` when the digits are not a user-event code.
pub fn user_event(
    digits: &str,
    user_number: &str,
    node: NodeId,
    at: Timestamp,
) -> Option<Result<Event, EventError>> {
    let code = digits.strip_prefix(USER_EVENT_PREFIX)?;
    if !(4..=5).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        Event::builder(EventKind::UserEventMessage, node, at)
            .digits("user_code", code)
            .digits("user_number", user_number)
            .build(),
    )
}

/// EV-44: `sip_account_unavailable` is raised only when the account requires registration.
/// `reason`: 0 provider unreachable, 1 not authorised.
pub fn sip_account_unavailable(
    registration_required: bool,
    provider: &str,
    account: &str,
    reason: u32,
    node: NodeId,
    at: Timestamp,
) -> Option<Result<Event, EventError>> {
    registration_required.then(|| {
        Event::builder(EventKind::SipAccountUnavailable, node, at)
            .text("provider", provider)
            .text("account", account)
            .code("reason", reason)
            .build()
    })
}

/// Where a dialled emergency number comes from (EV-44, B6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmergencySource {
    /// The public emergency number list: raises `emergency_call_started`.
    PublicList,
    /// The internal numbering plan: raises nothing (6252–6255).
    InternalPlan,
}

/// EV-44: the `emergency_call_started` message for a call, or `None` for an internal-plan
/// number. Only the first 4 digits of the dialled number are carried.
/// `terminal_or_trunk_group` is the terminal id (user number ≠ 0) or trunk group id.
pub fn emergency_call_started(
    source: EmergencySource,
    dialled: &str,
    user_number: &str,
    terminal_or_trunk_group: &str,
    node: NodeId,
    at: Timestamp,
) -> Option<Result<Event, EventError>> {
    if source == EmergencySource::InternalPlan {
        return None;
    }
    let first4: String = dialled.chars().take(4).collect();
    Some(
        Event::builder(EventKind::EmergencyCallStarted, node, at)
            .digits("dialled_number_first_4_digits", &first4)
            .digits("user_number", user_number)
            .text("terminal_or_trunk_group_id", terminal_or_trunk_group)
            .build(),
    )
}

/// EV-45: terminal power over the limit for more than 4 s.
pub const TERMINAL_POWER_AFTER: Duration = Duration::from_secs(4);
/// EV-45: CPU2 data link down for more than 1 h.
pub const CPU2_DATA_COMM_DOWN_AFTER: Duration = Duration::from_secs(3600);
/// EV-45 / MV2-22: 24 h without a clone before `no_other_clone_detected`.
pub const NO_OTHER_CLONE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// EV-45: restricted mode at most 72 h after the licence server became unreachable.
pub const SLS_RESTRICTED_MAX: Duration = Duration::from_secs(72 * 3600);
/// EV-45: offline licences expire after 36 h.
pub const OFFLINE_LICENCES_EXPIRE_AFTER: Duration = Duration::from_secs(36 * 3600);
/// EV-45: the traffic-observation printer silent for 4 min.
pub const OT_OUTPUT_BLOCKED_AFTER: Duration = Duration::from_secs(4 * 60);
/// EV-45: Mitel 470 with no fan running shuts down after 2 min.
pub const FAN_SHUTDOWN_AFTER: Duration = Duration::from_secs(2 * 60);

/// A condition that must hold continuously for a duration before its event is raised, once
/// (EV-45). Sans-IO: feed observations with [`observe`](Self::observe), wake it at
/// [`poll_timeout`](Self::poll_timeout) with [`handle_timeout`](Self::handle_timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persistence {
    after: Duration,
    since: Option<Timestamp>,
    fired: bool,
}

/// A [`Persistence`] state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The condition lasted long enough: raise the negative event.
    Fired,
    /// The condition ended after having fired: raise the positive counterpart.
    Recovered,
}

impl Persistence {
    /// A condition that fires after holding for `after` (node supervision passes its
    /// configured time here, EV-45).
    pub const fn new(after: Duration) -> Self {
        Self {
            after,
            since: None,
            fired: false,
        }
    }

    /// Records whether the condition holds at `now`.
    pub fn observe(&mut self, now: Timestamp, holding: bool) -> Option<Transition> {
        if holding {
            if self.since.is_none() {
                self.since = Some(now);
            }
            self.handle_timeout(now)
        } else {
            self.since = None;
            core::mem::take(&mut self.fired).then_some(Transition::Recovered)
        }
    }

    /// When the condition would fire if it keeps holding.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        if self.fired {
            None
        } else {
            self.since.map(|s| s.plus(self.after))
        }
    }

    /// Fires if the condition has held for the duration, strictly more than `after` is not
    /// required: reaching it is enough.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Option<Transition> {
        let since = self.since?;
        if !self.fired && now.since(since) >= self.after {
            self.fired = true;
            return Some(Transition::Fired);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp::from_unix_secs(1_000_000);

    #[test]
    fn ev40_star77_user_event() {
        let ev = user_event("*771234", "201", NodeId(1), T).and_then(Result::ok);
        assert_eq!(
            ev.as_ref()
                .and_then(|e| e.detail("user_code"))
                .map(ToString::to_string),
            Some("1234".into())
        );
        assert!(user_event("*7712345", "201", NodeId(1), T).is_some_and(|r| r.is_ok()));
        assert!(user_event("*77123", "201", NodeId(1), T).is_none());
        assert!(user_event("*78123", "201", NodeId(1), T).is_none());
        assert!(user_event("*7712a4", "201", NodeId(1), T).is_none());
    }

    #[test]
    fn ev44_conditional_raising() {
        assert!(sip_account_unavailable(false, "p", "a", 0, NodeId(1), T).is_none());
        assert!(
            sip_account_unavailable(true, "p", "a", 1, NodeId(1), T).is_some_and(|r| r.is_ok())
        );
        assert!(
            emergency_call_started(
                EmergencySource::InternalPlan,
                "112",
                "201",
                "7",
                NodeId(1),
                T
            )
            .is_none()
        );
        let ev = emergency_call_started(
            EmergencySource::PublicList,
            "1127788",
            "201",
            "7",
            NodeId(1),
            T,
        )
        .and_then(Result::ok);
        assert_eq!(
            ev.and_then(|e| e
                .detail("dialled_number_first_4_digits")
                .map(ToString::to_string)),
            Some("1127".into())
        );
    }

    #[test]
    fn ev45_thresholds_in_virtual_time() {
        // Terminal power overload: more than 4 s.
        let mut p = Persistence::new(TERMINAL_POWER_AFTER);
        assert_eq!(p.observe(T, true), None);
        assert_eq!(p.poll_timeout(), Some(T.plus(Duration::from_secs(4))));
        assert_eq!(p.handle_timeout(T.plus(Duration::from_millis(3999))), None);
        assert_eq!(
            p.handle_timeout(T.plus(Duration::from_secs(4))),
            Some(Transition::Fired)
        );
        assert_eq!(p.handle_timeout(T.plus(Duration::from_secs(5))), None);
        assert_eq!(
            p.observe(T.plus(Duration::from_secs(6)), false),
            Some(Transition::Recovered)
        );
        // A blip shorter than the threshold raises nothing.
        let mut p = Persistence::new(OT_OUTPUT_BLOCKED_AFTER);
        p.observe(T, true);
        assert_eq!(p.observe(T.plus(Duration::from_secs(239)), false), None);
        assert_eq!(p.poll_timeout(), None);
        // The other EV-45 constants, checked against the spec.
        assert_eq!(CPU2_DATA_COMM_DOWN_AFTER.as_secs(), 3600);
        assert_eq!(NO_OTHER_CLONE_AFTER.as_secs(), 86_400);
        assert_eq!(SLS_RESTRICTED_MAX.as_secs(), 72 * 3600);
        assert_eq!(OFFLINE_LICENCES_EXPIRE_AFTER.as_secs(), 36 * 3600);
        assert_eq!(FAN_SHUTDOWN_AFTER.as_secs(), 120);
    }
}
