//! Ringing the callee: every registered device at once (parallel ringing), the best final
//! answer when none picks up (RFC 3261 §16.7), call forwarding on busy and on no answer, and
//! devices that answer after another one did (ACKed, then hung up).

use std::time::Instant;

use bytes::Bytes;
use sip_core::dialog::Dialog;
use sip_core::transaction::TxId;
use sip_core::{HeaderName, Message};
use tracing::debug;

use super::dialog::disposition;
use super::*;

/// Why a call moves on to another extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Forwarding {
    /// Every device was busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
}

/// Preference among final failures: lower wins (6xx, then busy, then other 4xx, 3xx, 5xx,
/// and "nobody there" last), as a B2BUA forking to devices chooses what the caller sees.
fn rank(code: u16) -> u8 {
    match code {
        600..=699 => 0,
        486 => 1,
        408 | 480 => 5,
        400..=499 => 2,
        300..=399 => 3,
        _ => 4,
    }
}

impl Pbx {
    /// Sends an INVITE to every device registered for the call's callee; `false` when none
    /// could be sent. The no-answer timer restarts.
    pub(super) fn ring(&mut self, now: Instant, id: u64) -> bool {
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        if matches!(call.trunk, Some((_, TrunkDir::Out))) {
            return self.ring_trunk(now, id, None);
        }
        let caller = call.record.caller.clone();
        let max_forwards = call
            .a_req
            .max_forwards()
            .ok()
            .flatten()
            .unwrap_or(70)
            .saturating_sub(1);
        let ct = call
            .a_req
            .values(HeaderName::ContentType)
            .next()
            .unwrap_or("application/sdp")
            .to_owned();
        let body = call.b_offer.clone().map(|b| (ct, b));
        let callee = call.callee.clone();
        // A one-at-a-time hunt group rings its next member for the group's time.
        let mut one = |pbx: &mut Self, member: &str| {
            pbx.invite_exts(
                now,
                &[member.to_owned()],
                &callee,
                &caller,
                max_forwards,
                body.clone(),
            )
        };
        let (sent, ring) = match self.ring_member(id, &mut one) {
            Some(plan) => plan,
            None => (
                self.invite_devices(now, &callee, &caller, max_forwards, body.clone()),
                self.settings.no_answer,
            ),
        };
        for b in &sent {
            self.by_b_invite.insert(b.tx, id);
        }
        debug!(call = id, %callee, devices = sent.len(), "ringing");
        let ringing = !sent.is_empty();
        if let Some(call) = self.calls.get_mut(&id) {
            call.branches.extend(sent);
            call.ring_deadline = ringing.then(|| now + ring);
        }
        ringing
    }

    /// The extensions whose devices ring for `number`: a hunt group's members, else itself.
    pub(super) fn ring_targets(&self, number: &str) -> Vec<String> {
        match self.settings.hunt_groups.get(number) {
            Some(g) => g.members.clone(),
            None => vec![number.to_owned()],
        }
    }

    /// Sends an INVITE from `caller` with `body` to every device registered for `callee`
    /// (every member's, for a hunt group).
    pub(super) fn invite_devices(
        &mut self,
        now: Instant,
        callee: &str,
        caller: &str,
        max_forwards: u32,
        body: Option<(String, Bytes)>,
    ) -> Vec<Branch> {
        let exts = self.ring_targets(callee);
        self.invite_exts(now, &exts, callee, caller, max_forwards, body)
    }

    /// Sends an INVITE for `callee` from `caller` with `body` to every device registered for
    /// the extensions `exts`.
    pub(super) fn invite_exts(
        &mut self,
        now: Instant,
        exts: &[String],
        callee: &str,
        caller: &str,
        max_forwards: u32,
        body: Option<(String, Bytes)>,
    ) -> Vec<Branch> {
        let mut sent = Vec::new();
        for (_, contact, t, dest) in self.devices_of(exts) {
            let invite = Outgoing {
                contact: &contact,
                callee,
                caller,
                max_forwards,
            };
            let Some(req) = self.outgoing_invite(&invite, t, body.clone()) else {
                continue;
            };
            if let Ok(tx) = self.ep.send_request(now, req.clone(), t, dest) {
                sent.push(Branch {
                    tx,
                    req,
                    peer: (t, dest),
                });
            }
        }
        sent
    }

    /// Removes and returns the device `tx` of call `id`.
    pub(super) fn take_branch(&mut self, id: u64, tx: TxId) -> Option<Branch> {
        let call = self.calls.get_mut(&id)?;
        let at = call.branches.iter().position(|b| b.tx == tx)?;
        Some(call.branches.remove(at))
    }

    /// CANCELs every ringing device of call `id` but `keep`.
    pub(super) fn cancel_branches(&mut self, now: Instant, id: u64, keep: Option<TxId>) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let (kept, gone): (Vec<Branch>, Vec<Branch>) = std::mem::take(&mut call.branches)
            .into_iter()
            .partition(|b| Some(b.tx) == keep);
        call.branches = kept;
        for b in gone {
            self.by_b_invite.remove(&b.tx);
            drop(self.ep.cancel(now, b.tx));
            self.cancelled.insert(b.tx, b);
        }
    }

    /// A final response from a device cancelled earlier: a 2xx (it answered as the CANCEL
    /// crossed) is ACKed and hung up.
    pub(super) fn on_cancelled_branch(&mut self, now: Instant, tx: TxId, resp: &Message) {
        let code = resp.status().unwrap_or(500);
        if code < 200 {
            return;
        }
        if let Some(b) = self.cancelled.remove(&tx)
            && code < 300
        {
            self.ack_and_bye(now, &b, resp);
        }
    }

    /// ACKs a 2xx from device `b` and sends it a BYE.
    pub(super) fn ack_and_bye(&mut self, now: Instant, b: &Branch, resp: &Message) {
        let Ok(mut d) = Dialog::uac(&b.req, resp) else {
            return;
        };
        self.ack_on(&d, 1, b.peer);
        self.bye_on(now, &mut d, b.peer);
    }

    /// Device `tx` of call `id` gave up with `code`; when it was the last one ringing, the
    /// call forwards on busy or the caller gets the best failure.
    pub(super) fn branch_failed(
        &mut self,
        now: Instant,
        id: u64,
        tx: TxId,
        code: u16,
        reason: String,
    ) {
        self.by_b_invite.remove(&tx);
        self.take_branch(id, tx);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call
            .best
            .as_ref()
            .is_none_or(|(c, _)| rank(code) < rank(*c))
        {
            call.best = Some((code, reason));
        }
        if !call.branches.is_empty() {
            return;
        }
        if self.hunt_next(now, id) {
            return; // a busy group member: the next one rings
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let (code, reason) = call.best.take().unwrap_or((480, String::new()));
        if matches!(code, 486 | 600) && self.forward(now, id, Forwarding::Busy) {
            return;
        }
        self.fail_call(now, id, code, &reason);
    }

    /// Moves call `id` to the extension its callee forwards to for `why`; `false` when there
    /// is none, it was already rung (a loop), or none of its devices could be rung.
    pub(super) fn forward(&mut self, now: Instant, id: u64, why: Forwarding) -> bool {
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        let table = match why {
            Forwarding::Busy => &self.settings.forward_busy,
            Forwarding::NoAnswer => &self.settings.forward_no_answer,
        };
        let Some(next) = table
            .get(&call.callee)
            .and_then(|t| self.forwarded_target(t.clone()))
        else {
            return false;
        };
        if call.hops.contains(&next) || call.hops.len() >= 8 {
            return false;
        }
        debug!(call = id, from = %call.callee, to = %next, ?why, "call forwarded");
        if let Some(call) = self.calls.get_mut(&id) {
            call.hops.push(next.clone());
            call.callee = next;
            call.best = None;
        }
        self.ring(now, id)
    }

    /// Ends call `id` before it was answered: `code` to the caller, devices cancelled.
    pub(super) fn fail_call(&mut self, now: Instant, id: u64, code: u16, reason: &str) {
        self.cancel_branches(now, id, None);
        if let Some(call) = self.drop_call(id, disposition(code))
            && let Some(a_tx) = call.a_invite
        {
            self.by_a_invite.remove(&a_tx);
            drop(self.ep.reply(now, a_tx, code, reason));
        }
    }
}
