//! The event log (=r5, ring of 254) and the mains-failure log (=bn, ring of 10) (EV-28, EV-29).

use std::collections::VecDeque;

use crate::event::Event;

/// Capacity of the event log (EV-28).
pub const EVENT_LOG_CAPACITY: usize = 254;
/// Capacity of the mains power failure log (EV-29).
pub const MAINS_LOG_CAPACITY: usize = 10;

/// A fixed-capacity ring that overwrites its oldest entry when full.
#[derive(Debug, Clone)]
pub struct Ring {
    entries: VecDeque<Event>,
    capacity: usize,
    overwritten: u64,
}

impl Ring {
    /// An empty ring holding at most `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            entries: VecDeque::with_capacity(capacity),
            capacity,
            overwritten: 0,
        }
    }

    /// Appends a message, dropping the oldest when full.
    pub fn push(&mut self, event: Event) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.overwritten += 1;
        }
        self.entries.push_back(event);
    }

    /// Entries, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> + ExactSizeIterator + '_ {
        self.entries.iter()
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many entries were overwritten since creation.
    pub fn overwritten(&self) -> u64 {
        self.overwritten
    }

    /// Empties the ring.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NodeId;
    use crate::kind::EventKind;
    use crate::time::Timestamp;

    #[test]
    fn ev28_ring_overwrites_oldest() {
        let mut log = Ring::new(EVENT_LOG_CAPACITY);
        for i in 0..300u64 {
            log.push(
                Event::simple(
                    EventKind::SystemRestarted,
                    NodeId(1),
                    Timestamp::from_unix_secs(i),
                )
                .expect("valid"),
            );
        }
        assert_eq!(log.len(), 254);
        assert_eq!(log.overwritten(), 46);
        assert_eq!(
            log.iter().next().map(Event::at),
            Some(Timestamp::from_unix_secs(46))
        );
        assert_eq!(
            log.iter().next_back().map(Event::at),
            Some(Timestamp::from_unix_secs(299))
        );
        assert_eq!(Ring::new(0).capacity(), 1);
    }
}
