//! Hunt groups (MV-50, MV-52). A group number rings its members: all at once ("all"), or
//! one after another for `ring_secs` each, always from the first member ("linear") or from
//! the member after the one the previous call started with ("cyclic"). A member without a
//! registered device, or whose devices are all busy, is skipped.

use std::time::{Duration, Instant};

use tracing::debug;

use super::*;

/// How a hunt group rings its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntStrategy {
    /// Every member at once; the first to answer takes the call.
    All,
    /// One at a time, from the first member.
    Linear,
    /// One at a time, each call starting one member further on.
    Cyclic,
}

/// A hunt group's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntGroup {
    /// Member extensions, in order.
    pub members: Vec<String>,
    /// How they ring.
    pub strategy: HuntStrategy,
    /// Ringing time per member (one at a time).
    pub ring: Duration,
}

/// A call working through a group one member at a time.
#[derive(Debug)]
pub(super) struct Hunt {
    /// The group number.
    group: String,
    /// Its members in this call's order, and the one ringing now.
    order: Vec<String>,
    at: usize,
}

impl Pbx {
    /// The group `number` when it rings one member at a time.
    fn sequential(&self, number: &str) -> Option<&HuntGroup> {
        self.settings
            .hunt_groups
            .get(number)
            .filter(|g| g.strategy != HuntStrategy::All)
    }

    /// Rings the next member of a one-at-a-time group for call `id` (the first when the call
    /// starts on the group); the devices sent to, and how long they ring. `None` when the
    /// callee is not such a group.
    pub(super) fn ring_member(
        &mut self,
        id: u64,
        invite: &mut dyn FnMut(&mut Self, &str) -> Vec<Branch>,
    ) -> Option<(Vec<Branch>, Duration)> {
        let callee = self.calls.get(&id)?.callee.clone();
        let group = self.sequential(&callee)?.clone();
        let fresh = self
            .calls
            .get(&id)?
            .hunt
            .as_ref()
            .is_none_or(|h| h.group != callee);
        if fresh {
            let mut order = group.members.clone();
            if group.strategy == HuntStrategy::Cyclic && !order.is_empty() {
                let n = order.len();
                let turn = self.hunt_turns.entry(callee.clone()).or_insert(0);
                order.rotate_left(*turn % n);
                *turn = (*turn + 1) % n;
            }
            let hunt = Hunt {
                group: callee.clone(),
                order,
                at: 0,
            };
            self.calls.get_mut(&id)?.hunt = Some(hunt);
        }
        loop {
            let member = {
                let h = self.calls.get(&id)?.hunt.as_ref()?;
                h.order.get(h.at)?.clone()
            };
            let sent = invite(self, &member);
            if !sent.is_empty() {
                debug!(call = id, group = %callee, %member, "hunt group member ringing");
                return Some((sent, group.ring));
            }
            self.calls.get_mut(&id)?.hunt.as_mut()?.at += 1;
        }
    }

    /// Moves call `id` on to the next member of its one-at-a-time group; `false` when there
    /// is none left (the call then ends as an unanswered or busy one).
    pub(super) fn hunt_next(&mut self, now: Instant, id: u64) -> bool {
        let Some(h) = self.calls.get_mut(&id).and_then(|c| c.hunt.as_mut()) else {
            return false;
        };
        if h.at + 1 >= h.order.len() {
            return false;
        }
        h.at += 1;
        self.cancel_branches(now, id, None);
        self.ring(now, id)
    }
}
