//! Hunt groups (MV-50, MV-52). A group number rings its members: all at once ("all"), or
//! one after another for `ring_secs` each, in an order set per call: always from the first
//! member ("linear"), from the member after the one the previous call started with
//! ("cyclic"), the member idle longest first ("longest_idle"), or the member who last
//! answered this caller first ("last_agent") or the member a table gives for the caller's
//! number first ("clip"). A member without a registered device, or whose devices are all
//! busy, is skipped.

use std::collections::{HashMap, HashSet, VecDeque};
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
    /// One at a time, the member whose last call ended longest ago first (members with no
    /// call since the PBX started come first, in list order).
    LongestIdle,
    /// One at a time, the member who last answered this caller from this group first, then
    /// the others in list order.
    LastAgent,
    /// One at a time, the member [`HuntGroup::clip`] gives for the caller's number first
    /// (longest prefix), then the others in list order.
    Clip,
}

/// Most callers a group remembers for [`HuntStrategy::LastAgent`]; the oldest is forgotten.
pub(super) const LAST_AGENTS: usize = 256;

/// What the call-centre strategies remember (MV-52), in memory only.
#[derive(Debug, Default)]
pub(super) struct Memory {
    /// Extensions that are members of some group (the only ones remembered).
    members: HashSet<String>,
    /// Calls ended so far, and the count when each member's last call ended.
    ends: u64,
    idle_since: HashMap<String, u64>,
    /// Per group: (caller, member who answered), most recent last.
    last_agent: HashMap<String, VecDeque<(String, String)>>,
}

impl Memory {
    pub(super) fn new(groups: &HashMap<String, HuntGroup>) -> Self {
        Self {
            members: groups.values().flat_map(|g| g.members.clone()).collect(),
            ..Self::default()
        }
    }

    /// An answered call with these parties ended: members among them are idle from now.
    pub(super) fn call_ended(&mut self, parties: [&str; 2]) {
        self.ends += 1;
        for p in parties {
            if self.members.contains(p) {
                self.idle_since.insert(p.to_owned(), self.ends);
            }
        }
    }

    /// `member` of `group` answered `caller`.
    pub(super) fn answered(&mut self, group: &str, caller: &str, member: &str) {
        let seen = self.last_agent.entry(group.to_owned()).or_default();
        seen.retain(|(c, _)| c != caller);
        if seen.len() >= LAST_AGENTS {
            seen.pop_front();
        }
        seen.push_back((caller.to_owned(), member.to_owned()));
    }

    /// The members of `group` (number `number`) in the order a call from `caller` rings
    /// them; `turn` is the cyclic group's next start, advanced here.
    pub(super) fn order(
        &self,
        number: &str,
        group: &HuntGroup,
        caller: &str,
        turn: &mut usize,
    ) -> Vec<String> {
        let mut order = group.members.clone();
        let n = order.len();
        match group.strategy {
            HuntStrategy::All | HuntStrategy::Linear => {}
            HuntStrategy::Cyclic if n > 0 => {
                order.rotate_left(*turn % n);
                *turn = (*turn + 1) % n;
            }
            HuntStrategy::Cyclic => {}
            // Stable: members idle equally long keep their list order.
            HuntStrategy::LongestIdle => {
                order.sort_by_key(|m| self.idle_since.get(m).copied().unwrap_or(0));
            }
            HuntStrategy::LastAgent => {
                let last = self
                    .last_agent
                    .get(number)
                    .and_then(|seen| seen.iter().rev().find(|(c, _)| c == caller).map(|(_, m)| m));
                first(&mut order, last);
            }
            HuntStrategy::Clip => {
                let routed = group
                    .clip
                    .iter()
                    .filter(|(prefix, _)| caller.starts_with(prefix.as_str()))
                    .max_by_key(|(prefix, _)| prefix.len())
                    .map(|(_, m)| m);
                first(&mut order, routed);
            }
        }
        order
    }
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
    /// For [`HuntStrategy::Clip`]: (caller-number prefix, member).
    pub clip: Vec<(String, String)>,
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

/// Moves `member` to the front of `order`, when it is in it.
fn first(order: &mut Vec<String>, member: Option<&String>) {
    if let Some(i) = member.and_then(|m| order.iter().position(|x| x == m)) {
        let m = order.remove(i);
        order.insert(0, m);
    }
}

impl Hunt {
    /// The member ringing now.
    pub(super) fn member(&self) -> Option<&str> {
        self.order.get(self.at).map(String::as_str)
    }
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
            let caller = self.calls.get(&id)?.record.caller.clone();
            let turn = self.hunt_turns.entry(callee.clone()).or_insert(0);
            let order = self.hunt_memory.order(&callee, &group, &caller, turn);
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

    /// Notes that the ringing member of call `id`'s one-at-a-time group answered it.
    pub(super) fn hunt_answered(&mut self, id: u64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if let Some((h, member)) = call.hunt.as_ref().and_then(|h| Some((h, h.member()?))) {
            self.hunt_memory
                .answered(&h.group, &call.record.caller, member);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn group(strategy: HuntStrategy) -> HashMap<String, HuntGroup> {
        let members = ["201", "202", "203"].map(String::from).to_vec();
        let ring = Duration::from_secs(5);
        HashMap::from([(
            "600".to_owned(),
            HuntGroup {
                members,
                strategy,
                ring,
                clip: vec![
                    ("079".to_owned(), "203".to_owned()),
                    ("0791".to_owned(), "202".to_owned()),
                    ("+41".to_owned(), "299".to_owned()),
                ],
            },
        )])
    }

    fn order(m: &Memory, groups: &HashMap<String, HuntGroup>, caller: &str) -> Vec<String> {
        let mut turn = 0;
        m.order("600", &groups["600"], caller, &mut turn)
    }

    /// MV-52 longest idle: members with no call yet first (list order), then by the end of
    /// their last call, oldest first; non-members are not remembered.
    #[test]
    fn mv52_longest_idle_rings_the_member_free_longest_first() {
        let groups = group(HuntStrategy::LongestIdle);
        let mut m = Memory::new(&groups);
        assert_eq!(order(&m, &groups, "100"), ["201", "202", "203"]);
        m.call_ended(["100", "201"]);
        assert_eq!(order(&m, &groups, "100"), ["202", "203", "201"]);
        m.call_ended(["203", "100"]);
        assert_eq!(order(&m, &groups, "100"), ["202", "201", "203"]);
        m.call_ended(["202", "999"]);
        assert_eq!(order(&m, &groups, "100"), ["201", "203", "202"]);
        // Two members freed by the same call keep their list order.
        m.call_ended(["203", "201"]);
        assert_eq!(order(&m, &groups, "100"), ["202", "201", "203"]);
        assert!(!m.idle_since.contains_key("999") && !m.idle_since.contains_key("100"));
    }

    /// MV-52 last agent: the member who last answered this caller rings first, the others
    /// follow in list order; other callers are unaffected; memory is bounded per group.
    #[test]
    fn mv52_last_agent_rings_whoever_last_answered_the_caller_first() {
        let groups = group(HuntStrategy::LastAgent);
        let mut m = Memory::new(&groups);
        assert_eq!(order(&m, &groups, "0791234567"), ["201", "202", "203"]);
        m.answered("600", "0791234567", "203");
        assert_eq!(order(&m, &groups, "0791234567"), ["203", "201", "202"]);
        assert_eq!(order(&m, &groups, "0217654321"), ["201", "202", "203"]);
        m.answered("600", "0791234567", "202");
        assert_eq!(order(&m, &groups, "0791234567"), ["202", "201", "203"]);
        // A member no longer in the group is ignored.
        m.answered("600", "0791234567", "299");
        assert_eq!(order(&m, &groups, "0791234567"), ["201", "202", "203"]);
        for i in 0..LAST_AGENTS + 10 {
            m.answered("600", &format!("caller{i}"), "203");
        }
        assert_eq!(m.last_agent["600"].len(), LAST_AGENTS);
        assert_eq!(order(&m, &groups, "caller0"), ["201", "202", "203"]);
        let newest = format!("caller{}", LAST_AGENTS + 9);
        assert_eq!(order(&m, &groups, &newest), ["203", "201", "202"]);
    }

    /// MV-52 CLIP routing: the longest matching prefix names the first member; a caller
    /// matching none, or a prefix naming a non-member, keeps the list order.
    #[test]
    fn mv52_clip_routing_rings_the_member_for_the_callers_number_first() {
        let groups = group(HuntStrategy::Clip);
        let m = Memory::new(&groups);
        assert_eq!(order(&m, &groups, "0797654321"), ["203", "201", "202"]);
        assert_eq!(order(&m, &groups, "0791234567"), ["202", "201", "203"]);
        assert_eq!(order(&m, &groups, "0217654321"), ["201", "202", "203"]);
        assert_eq!(order(&m, &groups, "+41791234567"), ["201", "202", "203"]);
    }

    /// MV-52 cyclic: each call starts one member further on.
    #[test]
    fn mv52_cyclic_turns_through_the_members() {
        let groups = group(HuntStrategy::Cyclic);
        let m = Memory::new(&groups);
        let mut turn = 0;
        let first: Vec<_> = (0..4)
            .map(|_| m.order("600", &groups["600"], "100", &mut turn)[0].clone())
            .collect();
        assert_eq!(first, ["201", "202", "203", "201"]);
    }
}
