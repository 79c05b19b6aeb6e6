//! The active event messages (=mr), counterpart clearing, acknowledgement and SRM status.

use std::collections::BTreeMap;

use crate::event::{DetailValue, Event, NodeId};
use crate::kind::{Colour, EventKind, Polarity, Severity};

/// Identifies one entry of the active set, for acknowledgement (EV-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActiveId(pub u64);

/// Fields that describe a measurement or a reason rather than *which* thing is faulty; they
/// are left out when matching a positive message to the negative it clears.
const NOT_INSTANCE_KEYS: &[&str] = &[
    "reason",
    "cause",
    "temperature",
    "used_memory_percent",
    "total_licences_acquired",
    "user_count",
    "parameter",
    "parameter_1",
];

/// One active message: the latest message of its instance and how often it was raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveEntry {
    /// Handle for [`ActiveSet::acknowledge`].
    pub id: ActiveId,
    /// The latest message of this instance.
    pub event: Event,
    /// How many messages of this instance arrived while it was active.
    pub count: u32,
}

/// How a message changed the active set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveChange {
    /// The message entered the set (or refreshed an entry of the same instance).
    Entered(ActiveId),
    /// A positive message cleared this many active negatives (EV-4).
    Cleared(usize),
    /// The message does not affect the set.
    Unchanged,
}

/// The SRM system status: the highest severity among the active messages (EV-35, MV2-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemStatus {
    /// No active important or critical message: blue.
    Normal,
    /// At least one active important message and no critical one: yellow.
    Important,
    /// At least one active critical message: red.
    Critical,
}

impl SystemStatus {
    /// The row colour shown in the SRM agent (EV-35).
    pub const fn colour(self) -> Colour {
        match self {
            Self::Normal => Colour::Blue,
            Self::Important => Colour::Yellow,
            Self::Critical => Colour::Red,
        }
    }
}

/// The set of active event messages (EV-5, EV-6, MV2-4), apart from the event log.
///
/// Membership (EV-6 proposal, see `docs/decisions.md`): a message enters if it is
/// negative, or status-less with severity important or critical. A negative is keyed by its
/// kind, node and *instance* fields (the fields it shares with its counterpart, e.g. the card
/// and port); a repeat of the same instance refreshes the entry. A positive clears the active
/// negatives of the types it clears on the same node whose instance fields match. Anything can
/// be acknowledged by hand.
#[derive(Debug, Clone, Default)]
pub struct ActiveSet {
    entries: BTreeMap<ActiveId, ActiveEntry>,
    next: u64,
}

impl ActiveSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a raised message (EV-4, EV-6).
    pub fn apply(&mut self, event: &Event) -> ActiveChange {
        let kind = event.kind();
        match kind.polarity() {
            Polarity::Positive => {
                let before = self.entries.len();
                let clears = kind.clears();
                self.entries.retain(|_, e| {
                    let neg = e.event.kind();
                    !(clears.contains(&neg)
                        && e.event.node() == event.node()
                        && instance_matches(&e.event, event))
                });
                let n = before - self.entries.len();
                if n == 0 {
                    ActiveChange::Unchanged
                } else {
                    ActiveChange::Cleared(n)
                }
            }
            Polarity::Negative => self.enter(event, true),
            Polarity::None if event.severity() >= Severity::Important => self.enter(event, false),
            Polarity::None => ActiveChange::Unchanged,
        }
    }

    fn enter(&mut self, event: &Event, by_instance: bool) -> ActiveChange {
        let existing = self.entries.values_mut().find(|e| {
            e.event.kind() == event.kind()
                && e.event.node() == event.node()
                && (!by_instance || same_instance(&e.event, event))
        });
        if let Some(entry) = existing {
            entry.event = event.clone();
            entry.count = entry.count.saturating_add(1);
            return ActiveChange::Entered(entry.id);
        }
        let id = ActiveId(self.next);
        self.next += 1;
        self.entries.insert(
            id,
            ActiveEntry {
                id,
                event: event.clone(),
                count: 1,
            },
        );
        ActiveChange::Entered(id)
    }

    /// Acknowledges an entry by hand: same effect as its positive counterpart (EV-5).
    /// Returns the removed entry, or `None` if it is not active.
    pub fn acknowledge(&mut self, id: ActiveId) -> Option<ActiveEntry> {
        self.entries.remove(&id)
    }

    /// The active entry `id`.
    pub fn entry(&self, id: ActiveId) -> Option<&ActiveEntry> {
        self.entries.get(&id)
    }

    /// Active entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &ActiveEntry> + '_ {
        self.entries.values()
    }

    /// The active entry of `kind` raised by `node`, if any (first by age).
    pub fn find(&self, kind: EventKind, node: NodeId) -> Option<&ActiveEntry> {
        self.entries
            .values()
            .find(|e| e.event.kind() == kind && e.event.node() == node)
    }

    /// Number of active entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no message is active (WebAdmin hides its indicator, EV-6).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The SRM system status derived from the active set (EV-35).
    pub fn status(&self) -> SystemStatus {
        let max = self.entries.values().map(|e| e.event.severity()).max();
        match max {
            Some(Severity::Critical) => SystemStatus::Critical,
            Some(Severity::Important) => SystemStatus::Important,
            Some(Severity::Normal) | None => SystemStatus::Normal,
        }
    }
}

fn is_instance_key(name: &str) -> bool {
    !NOT_INSTANCE_KEYS.contains(&name)
}

/// Two messages of the same kind describe the same faulty thing.
fn same_instance(a: &Event, b: &Event) -> bool {
    a.details()
        .zip(b.details())
        .filter(|((f, _), _)| f.required && !f.is_timestamp() && is_instance_key(f.name))
        .all(|((_, va), (_, vb))| va == vb)
}

/// `positive` clears `negative` if every instance field they share has the same value.
fn instance_matches(negative: &Event, positive: &Event) -> bool {
    negative
        .details()
        .filter(|(f, _)| f.required && !f.is_timestamp() && is_instance_key(f.name))
        .all(|(f, nv)| match positive.kind().spec().field(f.name) {
            Some((_, pf)) if pf.required => positive
                .detail(f.name)
                .is_none_or(|pv| values_equal(nv, pv)),
            _ => true,
        })
}

fn values_equal(a: Option<&DetailValue>, b: &DetailValue) -> bool {
    a.is_none_or(|a| a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    const T: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    fn card(kind: EventKind, slot: u64) -> Event {
        Event::builder(kind, NodeId(1), T)
            .unsigned("expansion_slot_number", slot)
            .build()
            .expect("valid")
    }

    #[test]
    fn ev4_counterpart_clears_matching_instance_only() {
        let mut set = ActiveSet::new();
        assert!(matches!(
            set.apply(&card(EventKind::CardOutOfService, 1)),
            ActiveChange::Entered(_)
        ));
        assert!(matches!(
            set.apply(&card(EventKind::CardOutOfService, 2)),
            ActiveChange::Entered(_)
        ));
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.apply(&card(EventKind::CardInService, 2)),
            ActiveChange::Cleared(1)
        );
        assert_eq!(set.len(), 1);
        assert_eq!(
            set.iter()
                .next()
                .map(|e| e.event.detail("expansion_slot_number").cloned()),
            Some(Some(DetailValue::Unsigned(1)))
        );
        // Repeat of the same instance refreshes the entry.
        set.apply(&card(EventKind::CardOutOfService, 1));
        assert_eq!(set.len(), 1);
        assert_eq!(set.iter().next().map(|e| e.count), Some(2));
    }

    #[test]
    fn ev4_one_positive_clears_two_negative_types() {
        let mut set = ActiveSet::new();
        let hot = |k| {
            Event::builder(k, NodeId(2), T)
                .unsigned("card_number", 1)
                .signed("temperature", 80)
                .build()
                .expect("valid")
        };
        set.apply(&hot(EventKind::Overheating470));
        set.apply(&hot(EventKind::Overheating415_430));
        let ok = Event::builder(EventKind::TemperatureBackToNormal, NodeId(2), T)
            .unsigned("card_number", 1)
            .signed("temperature", 40)
            .build()
            .expect("valid");
        assert_eq!(set.apply(&ok), ActiveChange::Cleared(2));
        assert!(set.is_empty());
        let mut set = ActiveSet::new();
        let va = Event::builder(EventKind::RestrictedModeActivatedVa, NodeId(1), T)
            .code("cause", 2)
            .build()
            .expect("valid");
        let nva = Event::builder(EventKind::RestrictedModeActivatedNonVa, NodeId(1), T)
            .code("cause", 0)
            .build()
            .expect("valid");
        set.apply(&va);
        set.apply(&nva);
        let off = Event::simple(EventKind::RestrictedModeDeactivated, NodeId(1), T).expect("valid");
        assert_eq!(set.apply(&off), ActiveChange::Cleared(2));
    }

    #[test]
    fn ev6_membership_and_ev5_acknowledgement() {
        let mut set = ActiveSet::new();
        // Status-less normal never enters.
        let normal = Event::builder(EventKind::TooManyErrorsSameId, NodeId(1), T)
            .unsigned("error_id", 4)
            .build()
            .expect("valid");
        assert_eq!(set.apply(&normal), ActiveChange::Unchanged);
        // Status-less important enters and needs acknowledgement.
        let restart = Event::simple(EventKind::SystemRestarted, NodeId(1), T).expect("valid");
        let ActiveChange::Entered(id) = set.apply(&restart) else {
            panic!("should enter")
        };
        assert_eq!(set.status(), SystemStatus::Critical);
        assert!(set.acknowledge(id).is_some());
        assert!(set.acknowledge(id).is_none());
        assert_eq!(set.status(), SystemStatus::Normal);
        // A positive with nothing to clear leaves the set unchanged and never raises the status.
        let ok = Event::simple(EventKind::NtpSyncRestored, NodeId(1), T).expect("valid");
        assert_eq!(set.apply(&ok), ActiveChange::Unchanged);
        assert_eq!(set.status(), SystemStatus::Normal);
        // Negatives on another node are not cleared.
        set.apply(&Event::simple(EventKind::NtpSyncFailed, NodeId(2), T).expect("valid"));
        set.apply(&ok);
        assert_eq!(set.len(), 1);
        assert!(set.find(EventKind::NtpSyncFailed, NodeId(2)).is_some());
    }
}
