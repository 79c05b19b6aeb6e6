//! Blind transfer (REFER, RFC 3515; attended transfer is in `attended.rs`): the party of one leg (the transferor) refers the call
//! to an extension. The PBX accepts (202), rings the target's devices with the other party's
//! SDP pointed at the transferor's relay leg, and when the target answers, the target takes
//! the transferor's place: the relay leg is retargeted, the transferor gets NOTIFY 200 and
//! BYE. A failure is reported by NOTIFY and the call goes on (or ends if the transferor has
//! already hung up).

use std::time::Instant;

use sip_core::dialog::{Dialog, DialogId, ReferTo, sipfrag};
use sip_core::transaction::TxId;
use sip_core::{HeaderName, Message, Method};
use tracing::info;

use super::*;

/// A transfer in progress in one call.
#[derive(Debug)]
pub(super) struct Transfer {
    /// The transferor's leg (0: A, 1: B).
    x: usize,
    target: String,
    branches: Vec<Branch>,
    deadline: Instant,
    /// The transferor hung up before the target answered.
    x_gone: bool,
}

/// The user part of a `sip:`/`sips:` URI.
fn user_of(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (user, _) = rest.split_once('@')?;
    (!user.is_empty()).then_some(user)
}

pub(super) fn leg_mut(call: &mut Call, i: usize) -> &mut Leg {
    if i == 0 { &mut call.a } else { &mut call.b }
}

impl Pbx {
    /// A REFER from leg `x` of call `id`.
    pub(super) fn on_refer(&mut self, now: Instant, tx: TxId, req: &Message, id: u64, x: usize) {
        // Transfer and enquiry call are function-key features: gated by restricted mode (MV-4).
        if !self.allows(licensing::Behaviour::MenuAndFunctionKeys) {
            drop(self.ep.reply(now, tx, 403, super::RESTRICTED));
            return;
        }
        let Some(refer_to) = ReferTo::of(req) else {
            drop(self.ep.reply(now, tx, 400, "Missing or bad Refer-To"));
            return;
        };
        if let Some(replaces) = &refer_to.replaces {
            self.on_attended_refer(now, tx, replaces, id, x);
            return;
        }
        if self.transfers.contains_key(&id) {
            drop(self.ep.reply(now, tx, 491, "Request Pending"));
            return;
        }
        let Some(target) = user_of(&refer_to.uri)
            .map(str::to_owned)
            .and_then(|u| self.forwarded_target(u))
            .filter(|u| self.creds.password(u).is_some())
        else {
            drop(self.ep.reply(now, tx, 404, "Transfer target not found"));
            return;
        };
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let (Some(relay), Some((_, y_sdp))) = (call.relay.clone(), call.sdp[1 - x].clone()) else {
            drop(
                self.ep
                    .reply(now, tx, 488, "Transfer needs the media relay"),
            );
            return;
        };
        // The target is called by the party that stays.
        let caller = if x == 0 {
            call.record.callee.clone()
        } else {
            call.record.caller.clone()
        };
        drop(self.ep.reply(now, tx, 202, "Accepted"));
        self.notify(now, id, x, 100, "Trying", false);
        let body = sdp::widen(&y_sdp, &relay[x], &self.settings.codecs)
            .map(|b| ("application/sdp".to_owned(), b));
        let branches = self.invite_devices(now, &target, &caller, 70, body);
        if branches.is_empty() {
            self.notify(now, id, x, 480, "Temporarily Unavailable", true);
            return;
        }
        for b in &branches {
            self.by_transfer_invite.insert(b.tx, id);
        }
        info!(call = id, %target, "transfer started");
        self.transfers.insert(
            id,
            Transfer {
                x,
                target,
                branches,
                deadline: now + self.settings.no_answer,
                x_gone: false,
            },
        );
    }

    /// A NOTIFY of the REFER's implicit subscription to leg `x` of call `id`.
    pub(super) fn notify(
        &mut self,
        now: Instant,
        id: u64,
        x: usize,
        code: u16,
        reason: &str,
        last: bool,
    ) {
        let Some(peer) = self.calls.get(&id).map(|c| [c.a.peer, c.b.peer][x]) else {
            return;
        };
        let (t, dest) = peer;
        let local = self.local(t).to_string();
        let branch = self.ep.new_branch();
        let state = if last {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let Some(d) = self
            .calls
            .get_mut(&id)
            .and_then(|c| leg_mut(c, x).dialog.as_mut())
        else {
            return;
        };
        let body = bytes::Bytes::from(sipfrag(code, reason));
        if let Ok(Ok(n)) = d
            .request(Method::Notify, (t.as_str(), &local, &branch))
            .map(|b| {
                b.header(HeaderName::Event, "refer")
                    .header(HeaderName::SubscriptionState, state)
                    .body("message/sipfrag;version=2.0", body)
                    .build()
            })
        {
            drop(self.ep.send_request(now, n, t, dest));
        }
    }

    /// A BYE from the transferor while its transfer runs: answered, not passed on.
    pub(super) fn transferor_left(&mut self, id: u64, dialog: &DialogId) -> bool {
        let Some(t) = self.transfers.get_mut(&id) else {
            return false;
        };
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        let x_dialog = [&call.a, &call.b][t.x].dialog.as_ref();
        if x_dialog.is_none_or(|d| d.id() != dialog) {
            return false;
        }
        t.x_gone = true;
        self.by_dialog.remove(dialog);
        true
    }

    /// A response to an INVITE sent to a transfer target.
    pub(super) fn on_transfer_response(&mut self, now: Instant, tx: TxId, resp: &Message) {
        let code = resp.status().unwrap_or(500);
        let Some(&id) = self.by_transfer_invite.get(&tx) else {
            return;
        };
        if code < 200 {
            return;
        }
        self.by_transfer_invite.remove(&tx);
        let Some(t) = self.transfers.get_mut(&id) else {
            return;
        };
        let Some(at) = t.branches.iter().position(|b| b.tx == tx) else {
            return;
        };
        let branch = t.branches.remove(at);
        if code >= 300 {
            if t.branches.is_empty() {
                let reason = resp.reason().unwrap_or("").to_owned();
                self.transfer_failed(now, id, code, &reason);
            }
            return;
        }
        let Some(t) = self.transfers.remove(&id) else {
            return;
        };
        for b in t.branches {
            self.by_transfer_invite.remove(&b.tx);
            drop(self.ep.cancel(now, b.tx));
            self.cancelled.insert(b.tx, b);
        }
        let Ok(mut c) = Dialog::uac(&branch.req, resp) else {
            self.transfer_failed(now, id, 502, "Bad Gateway");
            return;
        };
        self.ack_on(&c, 1, branch.peer);
        c.confirm();
        if !t.x_gone {
            self.notify(now, id, t.x, 200, "OK", true);
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let c_id = c.id().clone();
        let old = std::mem::replace(
            leg_mut(call, t.x),
            Leg {
                dialog: Some(c),
                peer: branch.peer,
            },
        );
        if let Some(audio) = sdp::audio(resp.body()) {
            call.sdp[t.x] = Some((audio, resp.body().clone()));
            call.record.codecs[t.x] = Some(audio.codec.to_string());
            let srtp = super::srtp::retarget_keys(call.relay.as_mut(), t.x, resp.body());
            self.media.push_back(MediaAction::Retarget {
                call: id,
                leg: t.x as u8,
                audio,
                srtp,
            });
        }
        if t.x == 0 {
            call.record.caller.clone_from(&t.target);
        } else {
            call.record.callee.clone_from(&t.target);
        }
        self.by_dialog.insert(c_id, id);
        info!(call = id, target = %t.target, "transfer completed");
        // The transferor leaves: BYE, unless it has already hung up.
        if let Some(mut d) = old.dialog.filter(|_| !t.x_gone) {
            self.by_dialog.remove(d.id());
            self.bye_on(now, &mut d, old.peer);
        }
    }

    /// Nobody at the target took the call: NOTIFY the failure; a call whose transferor has
    /// left ends.
    fn transfer_failed(&mut self, now: Instant, id: u64, code: u16, reason: &str) {
        let Some(t) = self.transfers.remove(&id) else {
            return;
        };
        for b in &t.branches {
            self.by_transfer_invite.remove(&b.tx);
        }
        info!(call = id, code, "transfer failed");
        if !t.x_gone {
            self.notify(now, id, t.x, code, reason, true);
            return;
        }
        self.hang_up_call(now, id);
    }

    /// Transfers whose target did not answer in time.
    pub(super) fn transfer_timeouts(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .transfers
            .iter()
            .filter(|(_, t)| t.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(t) = self.transfers.get_mut(&id) {
                for b in std::mem::take(&mut t.branches) {
                    self.by_transfer_invite.remove(&b.tx);
                    drop(self.ep.cancel(now, b.tx));
                    self.cancelled.insert(b.tx, b);
                }
            }
            self.transfer_failed(now, id, 408, "Request Timeout");
        }
    }

    /// The earliest transfer deadline.
    pub(super) fn transfer_deadline(&self) -> Option<Instant> {
        self.transfers.values().map(|t| t.deadline).min()
    }

    /// A call ends while its transfer runs: the target's devices are cancelled.
    pub(super) fn abandon_transfer(&mut self, now: Instant, id: u64) {
        if let Some(t) = self.transfers.remove(&id) {
            for b in t.branches {
                self.by_transfer_invite.remove(&b.tx);
                drop(self.ep.cancel(now, b.tx));
                self.cancelled.insert(b.tx, b);
            }
        }
    }
}
