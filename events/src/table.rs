//! Event tables and their per-type filters: none / all / advanced (EV-12..EV-17, MV2-5).

use core::time::Duration;
use std::collections::{HashMap, VecDeque};

use crate::event::NodeId;
use crate::kind::{EventKind, Severity};
use crate::time::Timestamp;

/// Number of event tables: 7, as the manual says twice (EV-12, EV-46; decision recorded in
/// `docs/decisions.md`: system-phone destination 2 defaults to table 1).
pub const TABLE_COUNT: usize = 7;

/// Fewest occurrences an advanced filter accepts (EV-13).
pub const MIN_OCCURRENCES: u8 = 2;
/// Most occurrences an advanced filter accepts (EV-13).
pub const MAX_OCCURRENCES: u8 = 20;
/// Shortest advanced-filter interval, in hours (EV-13).
pub const MIN_INTERVAL_HOURS: u16 = 1;
/// Longest advanced-filter interval, in hours: 28 days (EV-13).
pub const MAX_INTERVAL_HOURS: u16 = 672;

/// A configuration value out of the manual's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// Occurrences must be in 2..=20 (EV-13).
    #[error("occurrences {0} is outside 2..=20")]
    Occurrences(u32),
    /// Interval must be in 1..=672 hours (EV-13).
    #[error("interval {0} h is outside 1..=672")]
    IntervalHours(u32),
    /// Event tables are numbered 1..=7 (EV-12).
    #[error("event table {0} does not exist (1..=7)")]
    Table(u32),
}

/// An event table number, 1..=[`TABLE_COUNT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(u8);

impl TableId {
    /// Table `n`, if it exists.
    pub fn new(n: u32) -> Result<Self, FilterError> {
        match u8::try_from(n) {
            Ok(v) if v >= 1 && usize::from(v) <= TABLE_COUNT => Ok(Self(v)),
            _ => Err(FilterError::Table(n)),
        }
    }

    /// The table number, 1-based.
    pub const fn number(self) -> u8 {
        self.0
    }

    pub(crate) const fn slot(self) -> usize {
        self.0 as usize - 1
    }

    /// Every table, in order.
    pub fn all() -> impl Iterator<Item = Self> {
        (1..=TABLE_COUNT as u8).map(Self)
    }

    pub(crate) const fn from_slot(slot: usize) -> Self {
        Self(slot as u8 + 1)
    }
}

/// The advanced filter's settings: send once the type occurred `occurrences` times within
/// `interval` hours (EV-13). Construction checks the ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Advanced {
    occurrences: u8,
    interval_hours: u16,
}

impl Advanced {
    /// Checked constructor: occurrences in 2..=20, interval in 1..=672 hours (EV-13).
    pub fn new(occurrences: u32, interval_hours: u32) -> Result<Self, FilterError> {
        let occ = u8::try_from(occurrences)
            .ok()
            .filter(|o| (MIN_OCCURRENCES..=MAX_OCCURRENCES).contains(o))
            .ok_or(FilterError::Occurrences(occurrences))?;
        let hours = u16::try_from(interval_hours)
            .ok()
            .filter(|h| (MIN_INTERVAL_HOURS..=MAX_INTERVAL_HOURS).contains(h))
            .ok_or(FilterError::IntervalHours(interval_hours))?;
        Ok(Self {
            occurrences: occ,
            interval_hours: hours,
        })
    }

    /// Occurrences needed.
    pub const fn occurrences(self) -> u8 {
        self.occurrences
    }

    /// The interval in hours.
    pub const fn interval_hours(self) -> u16 {
        self.interval_hours
    }

    /// The interval as a duration.
    pub const fn interval(self) -> Duration {
        Duration::from_secs(self.interval_hours as u64 * 3600)
    }
}

/// The filter of one event type in one table (EV-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filter {
    /// *Pas d'événement*: never sent.
    NoEvent,
    /// *Tous les événements*: every message sent.
    All,
    /// *Avancé*: sent once the type occurred N times within the interval.
    Advanced(Advanced),
}

/// One event table: a filter for every event type (EV-12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTable {
    filters: Box<[Filter; EventKind::COUNT]>,
}

impl EventTable {
    /// A table with the same filter for every type.
    pub fn uniform(filter: Filter) -> Self {
        Self {
            filters: Box::new([filter; EventKind::COUNT]),
        }
    }

    /// The default contents of table `id` after a first start (EV-17 proposal): table 4 (event
    /// log) sends every type; the others send important and critical types and no normal type.
    pub fn first_start(id: TableId) -> Self {
        if id.number() == 4 {
            return Self::uniform(Filter::All);
        }
        let mut t = Self::uniform(Filter::All);
        for kind in EventKind::ALL {
            if kind.severity() == Severity::Normal {
                t.set(kind, Filter::NoEvent);
            }
        }
        t
    }

    /// The filter of `kind`.
    pub fn filter(&self, kind: EventKind) -> Filter {
        self.filters[kind.index()]
    }

    /// Sets the filter of `kind`.
    pub fn set(&mut self, kind: EventKind, filter: Filter) {
        self.filters[kind.index()] = filter;
    }
}

/// The sliding-window state of the advanced filters (EV-15 proposal): per (table, type, node),
/// the times of the recent raises within the interval. At most `occurrences` times are kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct AdvancedState {
    windows: HashMap<(u8, u8, NodeId), VecDeque<Timestamp>>,
}

impl AdvancedState {
    /// Records a raise at `now`; returns whether the filter lets this message through.
    pub(crate) fn admit(
        &mut self,
        table: TableId,
        kind: EventKind,
        node: NodeId,
        adv: Advanced,
        now: Timestamp,
    ) -> bool {
        let key = (table.number(), kind.index() as u8, node);
        let window = self.windows.entry(key).or_default();
        // Keep raises strictly inside the last `interval` (a raise exactly one interval ago
        // has left the window).
        while window
            .front()
            .is_some_and(|t| now.since(*t) >= adv.interval())
        {
            window.pop_front();
        }
        window.push_back(now);
        if window.len() >= usize::from(adv.occurrences()) {
            window.clear();
            true
        } else {
            false
        }
    }

    /// Forgets the counters of `kind` in `table` (after its filter changed).
    pub(crate) fn reset(&mut self, table: TableId, kind: EventKind) {
        self.windows
            .retain(|(t, k, _), _| !(*t == table.number() && usize::from(*k) == kind.index()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ev13_ranges_are_enforced() {
        assert!(Advanced::new(2, 1).is_ok());
        assert!(Advanced::new(20, 672).is_ok());
        assert_eq!(Advanced::new(1, 1), Err(FilterError::Occurrences(1)));
        assert_eq!(Advanced::new(21, 1), Err(FilterError::Occurrences(21)));
        assert_eq!(
            Advanced::new(u32::MAX, 1),
            Err(FilterError::Occurrences(u32::MAX))
        );
        assert_eq!(Advanced::new(2, 0), Err(FilterError::IntervalHours(0)));
        assert_eq!(Advanced::new(2, 673), Err(FilterError::IntervalHours(673)));
        assert_eq!(
            Advanced::new(2, 672).map(|a| a.interval()),
            Ok(Duration::from_secs(28 * 24 * 3600))
        );
    }

    #[test]
    fn ev12_seven_tables() {
        // EV-12 / EV-46: 7 tables, numbered 1..=7.
        assert_eq!(TableId::all().count(), 7);
        assert!(TableId::new(7).is_ok());
        assert_eq!(TableId::new(8), Err(FilterError::Table(8)));
        assert_eq!(TableId::new(0), Err(FilterError::Table(0)));
    }

    #[test]
    fn ev17_first_start_defaults() {
        for id in TableId::all() {
            let t = EventTable::first_start(id);
            for kind in EventKind::ALL {
                let expected = if id.number() == 4 || kind.severity() != Severity::Normal {
                    Filter::All
                } else {
                    Filter::NoEvent
                };
                assert_eq!(t.filter(kind), expected, "table {} {kind}", id.number());
            }
        }
    }

    #[test]
    fn ev14_worked_example_ten_in_one_hour() {
        // EV-14 / Tab. 25: total_sync_loss, 10 occurrences in 1 h.
        let adv = Advanced::new(10, 1).expect("in range");
        let table = TableId::new(2).expect("exists");
        let mut st = AdvancedState::default();
        let t0 = Timestamp::from_unix_secs(1_000_000);
        let k = EventKind::TotalSyncLoss;
        for i in 0..9 {
            assert!(
                !st.admit(
                    table,
                    k,
                    NodeId(1),
                    adv,
                    t0.plus(Duration::from_secs(i * 360))
                ),
                "raise {}",
                i + 1
            );
        }
        // The 10th raise at 59 min, inside the same hour: sent once.
        assert!(st.admit(
            table,
            k,
            NodeId(1),
            adv,
            t0.plus(Duration::from_secs(59 * 60))
        ));
        // The counter restarts.
        assert!(!st.admit(
            table,
            k,
            NodeId(1),
            adv,
            t0.plus(Duration::from_secs(59 * 60 + 1))
        ));
    }

    #[test]
    fn ev15_window_slides() {
        let adv = Advanced::new(10, 1).expect("in range");
        let table = TableId::new(1).expect("exists");
        let mut st = AdvancedState::default();
        let t0 = Timestamp::from_unix_secs(1_000_000);
        let k = EventKind::TotalSyncLoss;
        // Raises every 7 minutes: 9 fit in an hour (0..56 min), the 10th at 63 min does not.
        for i in 0..9 {
            assert!(!st.admit(
                table,
                k,
                NodeId(1),
                adv,
                t0.plus(Duration::from_secs(i * 420))
            ));
        }
        assert!(!st.admit(
            table,
            k,
            NodeId(1),
            adv,
            t0.plus(Duration::from_secs(9 * 420))
        ));
        // Per node: another node has its own window.
        assert!(!st.admit(table, k, NodeId(2), adv, t0));
        // Reset drops the counters.
        st.reset(table, k);
        assert!(st.windows.is_empty());
    }
}
