//! Attended transfer (REFER with Replaces, RFC 3891 through RFC 3515): the transferor X has
//! call 1 with Y and call 2 with Z, both through the PBX, and refers Y to Z naming its own
//! leg of call 2 in `Replaces`. The PBX re-INVITEs Z towards call 1's relay leg where X was;
//! when Z answers, Z takes X's place in call 1 (the relay leg is retargeted), X gets NOTIFY
//! 200 and a BYE on both calls, and call 2 ends. A refusal from Z is reported by NOTIFY and
//! both calls go on.

use std::time::Instant;

use sip_core::dialog::{DialogId, Replaces};
use sip_core::transaction::TxId;
use sip_core::{Message, Method};
use tracing::info;

use super::transfer::leg_mut;
use super::*;

/// An attended transfer waiting for Z's answer to its re-INVITE.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attended {
    /// Call 1 and the transferor's leg in it.
    call1: u64,
    x1: usize,
    /// Call 2 and Z's leg in it.
    call2: u64,
    z: usize,
}

fn leg(call: &Call, i: usize) -> &Leg {
    if i == 0 { &call.a } else { &call.b }
}

fn party(call: &Call, i: usize) -> String {
    if i == 0 {
        call.record.caller.clone()
    } else {
        call.record.callee.clone()
    }
}

impl Pbx {
    /// A REFER from leg `x1` of `call1` whose Refer-To carries `replaces`.
    pub(super) fn on_attended_refer(
        &mut self,
        now: Instant,
        tx: TxId,
        replaces: &Replaces,
        call1: u64,
        x1: usize,
    ) {
        // The Replaces names the transferor's dialog with us: our tag is its to-tag.
        let named = DialogId {
            call_id: replaces.call_id.clone(),
            local_tag: replaces.to_tag.clone(),
            remote_tag: replaces.from_tag.clone(),
        };
        let Some(&call2) = self.by_dialog.get(&named) else {
            drop(self.ep.reply(now, tx, 481, "Replaced dialog not found"));
            return;
        };
        let busy = |id: &u64| {
            self.transfers.contains_key(id)
                || self
                    .attended
                    .values()
                    .any(|a| a.call1 == *id || a.call2 == *id)
        };
        if call2 == call1 || busy(&call1) || busy(&call2) {
            drop(self.ep.reply(now, tx, 491, "Request Pending"));
            return;
        }
        let (Some(c1), Some(c2)) = (self.calls.get(&call1), self.calls.get(&call2)) else {
            return;
        };
        let x2 = usize::from(c2.a.dialog.as_ref().is_none_or(|d| d.id() != &named));
        let z = 1 - x2;
        let offer = c1
            .relay
            .clone()
            .zip(c1.sdp[1 - x1].clone())
            .filter(|_| c2.answered && leg(c2, z).dialog.is_some())
            .and_then(|(relay, (_, y_sdp))| sdp::widen(&y_sdp, &relay[x1], &self.settings.codecs));
        let Some(offer) = offer else {
            drop(
                self.ep
                    .reply(now, tx, 488, "Transfer needs two answered, relayed calls"),
            );
            return;
        };
        let (zt, zdest) = leg(c2, z).peer;
        let local = self.local(zt).to_string();
        let branch = self.ep.new_branch();
        let contact = format!("<sip:pbx@{local}>");
        let Some(c2) = self.calls.get_mut(&call2) else {
            return;
        };
        let Some(Ok(Ok(reinvite))) = leg_mut(c2, z).dialog.as_mut().map(|d| {
            d.request(Method::Invite, (zt.as_str(), &local, &branch))
                .map(|b| b.contact(&contact).body("application/sdp", offer).build())
        }) else {
            drop(self.ep.reply(now, tx, 500, "Cannot re-INVITE the target"));
            return;
        };
        let Ok(ztx) = self.ep.send_request(now, reinvite, zt, zdest) else {
            drop(self.ep.reply(now, tx, 500, "Cannot re-INVITE the target"));
            return;
        };
        drop(self.ep.reply(now, tx, 202, "Accepted"));
        self.notify(now, call1, x1, 100, "Trying", false);
        info!(call1, call2, "attended transfer started");
        self.attended.insert(
            ztx,
            Attended {
                call1,
                x1,
                call2,
                z,
            },
        );
    }

    /// Z's final answer to the re-INVITE (`None`: it never came).
    pub(super) fn on_attended_response(&mut self, now: Instant, tx: TxId, resp: Option<&Message>) {
        let code = resp.and_then(Message::status).unwrap_or(408);
        if code < 200 {
            return;
        }
        let Some(t) = self.attended.remove(&tx) else {
            return;
        };
        let Some(resp) = resp.filter(|_| code < 300) else {
            info!(call = t.call1, code, "attended transfer failed");
            let reason = resp.and_then(Message::reason).unwrap_or("Request Timeout");
            let reason = reason.to_owned();
            self.notify(now, t.call1, t.x1, code, &reason, true);
            return;
        };
        // ACK Z's answer and take Z's leg out of call 2.
        let Some(c2) = self.calls.get_mut(&t.call2) else {
            return;
        };
        let z_party = party(c2, t.z);
        let peer = leg(c2, t.z).peer;
        let Some(zd) = leg_mut(c2, t.z).dialog.take() else {
            return;
        };
        self.ack_on(&zd, resp.cseq().map_or(1, |c| c.seq), peer);
        self.notify(now, t.call1, t.x1, 200, "OK", true);
        let z_id = zd.id().clone();
        let Some(c1) = self.calls.get_mut(&t.call1) else {
            return;
        };
        let old = std::mem::replace(
            leg_mut(c1, t.x1),
            Leg {
                dialog: Some(zd),
                peer,
            },
        );
        if let Some(audio) = sdp::audio(resp.body()) {
            c1.sdp[t.x1] = Some((audio, resp.body().clone()));
            c1.record.codecs[t.x1] = Some(audio.codec.to_string());
            let srtp = super::srtp::retarget_keys(c1.relay.as_mut(), t.x1, resp.body());
            self.media.push_back(MediaAction::Retarget {
                call: t.call1,
                leg: t.x1 as u8,
                audio,
                srtp,
            });
        }
        if t.x1 == 0 {
            c1.record.caller = z_party;
        } else {
            c1.record.callee = z_party;
        }
        self.by_dialog.insert(z_id, t.call1);
        info!(call = t.call1, "attended transfer completed");
        // The transferor leaves both calls; call 2 ends without Z.
        if let Some(mut d) = old.dialog {
            self.by_dialog.remove(d.id());
            if let Some(tx) = self.bye_on(now, &mut d, old.peer) {
                self.closing.insert(tx);
            }
        }
        self.hang_up_call(now, t.call2);
    }
}
