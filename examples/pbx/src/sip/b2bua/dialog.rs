//! Established calls: in-dialog requests forwarded leg to leg, CANCEL, timeouts, hang-up.

use std::net::SocketAddr;
use std::time::Instant;

use sip_core::dialog::DialogId;
use sip_core::transaction::TxId;
use sip_core::{Message, Method};
use tracing::info;

use super::fork::Forwarding;
use super::*;

impl Pbx {
    /// A 2xx retransmission after its transaction ended: ACK it again.
    pub(super) fn reack(&mut self, _now: Instant, resp: &Message) {
        let Some(id) = DialogId::of_incoming(resp).map(|d| DialogId {
            call_id: d.call_id,
            local_tag: d.remote_tag,
            remote_tag: d.local_tag,
        }) else {
            return;
        };
        let Some(&call) = self.by_dialog.get(&id) else {
            return;
        };
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(d) = c.b.dialog.clone().filter(|d| d.id() == &id) else {
            return;
        };
        let peer = c.b.peer;
        self.ack_on(&d, resp.cseq().map_or(1, |c| c.seq), peer);
    }

    /// A forwarded re-INVITE was answered 2xx: ACK it on the leg it went to at once, as
    /// the initial INVITE's answer is (the caller's own ACK ends at the PBX).
    pub(super) fn ack_forwarded(&mut self, fw: Forwarded, resp: &Message) {
        if resp.cseq().map(|c| c.method) != Ok(Method::Invite) {
            return;
        }
        let Some(call) = self.calls.get(&fw.call) else {
            return;
        };
        let leg = if fw.from_a { &call.b } else { &call.a };
        let (Some(d), peer) = (leg.dialog.clone(), leg.peer) else {
            return;
        };
        self.ack_on(&d, resp.cseq().map_or(1, |c| c.seq), peer);
    }

    pub(super) fn on_in_dialog(&mut self, now: Instant, tx: TxId, req: &Message, from: SocketAddr) {
        if let Some(d) = DialogId::of_incoming(req)
            && (self.echo_request(now, tx, req, &d) || self.presence_request(now, tx, req, &d))
        {
            return;
        }
        let found =
            DialogId::of_incoming(req).and_then(|d| self.by_dialog.get(&d).map(|c| (d, *c)));
        let Some((id, call_id)) = found else {
            self.offences
                .push_back((from.ip(), sip_core::dos::Cause::NoSession));
            drop(
                self.ep
                    .reply(now, tx, 481, "Call/Transaction Does Not Exist"),
            );
            return;
        };
        let from_a = self
            .calls
            .get(&call_id)
            .and_then(|c| c.a.dialog.as_ref())
            .is_some_and(|d| d.id() == &id);
        match req.method() {
            Some(Method::Refer) => {
                self.on_refer(now, tx, req, call_id, usize::from(!from_a));
                return;
            }
            Some(Method::Bye) if self.transferor_left(call_id, &id) => {
                drop(self.ep.reply(now, tx, 200, "OK"));
                return;
            }
            Some(Method::Bye) => self.abandon_transfer(now, call_id),
            _ => {}
        }
        let Some(mut call) = self.calls.remove(&call_id) else {
            return;
        };
        let result = self.forward_in_dialog(now, req, &id, &mut call);
        self.calls.insert(call_id, call);
        match result {
            Ok((ctx, bye, from_a)) => {
                self.forwarded.insert(
                    ctx,
                    Forwarded {
                        call: call_id,
                        server: tx,
                        bye,
                        from_a,
                    },
                );
            }
            Err((code, reason)) => drop(self.ep.reply(now, tx, code, reason)),
        }
    }

    /// Sends `req` (received on the leg of dialog `id`) on the other leg of `call`.
    pub(super) fn forward_in_dialog(
        &mut self,
        now: Instant,
        req: &Message,
        id: &DialogId,
        call: &mut Call,
    ) -> Result<(TxId, bool, bool), (u16, &'static str)> {
        let from_a = call.a.dialog.as_ref().is_some_and(|d| d.id() == id);
        let (this, other) = if from_a {
            (&mut call.a, &mut call.b)
        } else {
            (&mut call.b, &mut call.a)
        };
        if let Some(d) = this.dialog.as_mut() {
            d.on_request(req).map_err(|_| (500, "CSeq out of order"))?;
        }
        let method = req.method().unwrap_or(Method::Options);
        let (ot, odest) = other.peer;
        let od = other
            .dialog
            .as_mut()
            .ok_or((481, "Call/Transaction Does Not Exist"))?;
        let local = self.local(ot).to_string();
        let branch = self.ep.new_branch();
        let mut b = od
            .request(method, (ot.as_str(), &local, &branch))
            .map_err(|_| (500, "Cannot forward"))?;
        if let Some((ct, body)) = Self::body_for(call, req, !from_a) {
            b = b.body(&ct, body);
        }
        if matches!(method, Method::Invite | Method::Update) {
            b = b.contact(&format!("<sip:pbx@{local}>"));
        }
        let fwd = b.build().map_err(|_| (500, "Cannot forward"))?;
        let ctx = self
            .ep
            .send_request(now, fwd, ot, odest)
            .map_err(|_| (500, "Cannot forward"))?;
        Ok((ctx, method == Method::Bye, from_a))
    }

    pub(super) fn on_cancelled(&mut self, now: Instant, invite: TxId) {
        let Some(id) = self.by_a_invite.remove(&invite) else {
            return;
        };
        if self.echo_cancelled(id) {
            return;
        }
        // A call still waiting for its relay just stops waiting (media_ready then stops it).
        self.pending.remove(&id);
        self.answering.remove(&id);
        self.cancel_branches(now, id, None);
        self.drop_call(id, Disposition::Cancelled);
    }

    /// Nobody answered in time: forward on no answer, or 480/408 to the caller.
    pub(super) fn no_answer(&mut self, now: Instant, id: u64) {
        if self.answering.contains_key(&id) {
            return; // answered; the relay is taking the callee's codec
        }
        if self.hunt_next(now, id) {
            return; // the next group member rings
        }
        self.cancel_branches(now, id, None);
        if self.forward(now, id, Forwarding::NoAnswer) {
            return;
        }
        let code = self.settings.no_answer_status;
        let reason = if code == 408 {
            "Request Timeout"
        } else {
            "Temporarily Unavailable"
        };
        self.fail_call(now, id, code, reason);
    }

    pub(super) fn on_failure(&mut self, now: Instant, tx: TxId) {
        if self.on_register_failure(now, tx)
            || self.on_message_failure(now, tx)
            || self.on_notify_failure(tx)
        {
            return;
        }
        if self.cancelled.remove(&tx).is_some() || self.closing.remove(&tx) {
            return;
        }
        if self.attended.contains_key(&tx) {
            self.on_attended_response(now, tx, None);
        } else if let Some(&id) = self.by_b_invite.get(&tx) {
            self.branch_failed(now, id, tx, 408, "Request Timeout".to_owned());
        } else if let Some(fw) = self.forwarded.remove(&tx) {
            drop(self.ep.reply(now, fw.server, 408, "Request Timeout"));
            if fw.bye {
                self.end_call(fw.call);
            }
        }
    }

    pub(super) fn end_call(&mut self, id: u64) {
        if let Some(call) = self.drop_call(id, Disposition::Answered) {
            for leg in [call.a, call.b] {
                if let Some(d) = leg.dialog {
                    self.by_dialog.remove(d.id());
                }
            }
            info!(call = id, "call ended");
        }
    }
}

/// The call-record disposition of a final failure response.
pub(super) fn disposition(code: u16) -> Disposition {
    match code {
        486 | 600 => Disposition::Busy,
        603 => Disposition::Rejected,
        408 | 480 => Disposition::NoAnswer,
        487 => Disposition::Cancelled,
        403 | 503 => Disposition::Refused,
        _ => Disposition::Failed,
    }
}
