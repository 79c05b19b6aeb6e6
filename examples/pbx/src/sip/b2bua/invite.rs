//! New calls: the caller's INVITE, the callee's INVITE and its responses.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use licensing::Behaviour;
use sip_core::dialog::Dialog;
use sip_core::transaction::{Transport, TxId};
use sip_core::{HeaderName, Message, Method, RequestBuilder};
use tracing::info;

use super::*;

impl Pbx {
    pub(super) fn on_invite(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Message,
        from: (Transport, SocketAddr),
    ) {
        if !req.body().is_empty()
            && !req
                .content_type()
                .is_ok_and(|ct| ct.is_some_and(|ct| ct.0.is("application/sdp")))
        {
            let extra = [(HeaderName::Accept, "application/sdp".to_owned())];
            let reason = "Unsupported Media Type";
            drop(self.ep.reply_with(now, tx, 415, reason, &extra, None));
            return;
        }
        if self.stopping {
            let extra = [(HeaderName::RetryAfter, "30".to_owned())];
            drop(
                self.ep
                    .reply_with(now, tx, 503, "Shutting down", &extra, None),
            );
            return;
        }
        let Some(number) = Self::dialled(&req) else {
            drop(self.ep.reply(now, tx, 404, "Not Found"));
            return;
        };
        let (callee, trunk) = if let Some(k) = self.trunk_of(from.1) {
            // From a provider: the called number (DDI) names the extension.
            let Some(ext) = self.ddi_target(k, &number) else {
                drop(self.ep.reply(now, tx, 404, "Number not assigned"));
                return;
            };
            (ext, Some((k, TrunkDir::In)))
        } else if self.caller(&req, from.1).is_none() {
            drop(
                self.ep
                    .reply(now, tx, 403, "Caller not registered from this address"),
            );
            return;
        } else if self
            .settings
            .blocked_numbers
            .iter()
            .any(|b| number.starts_with(b.as_str()))
        {
            info!(%number, "call to a blocked number refused");
            drop(self.ep.reply(now, tx, 403, "Number blocked"));
            return;
        } else if self.is_echo(&number) {
            if !self.allows(Behaviour::FeatureCodes) {
                drop(self.ep.reply(now, tx, 403, RESTRICTED));
                return;
            }
            self.start_echo(now, tx, req, from);
            return;
        } else if self.creds.password(&number).is_none()
            && !self.settings.hunt_groups.contains_key(&number)
            && let Some((k, out)) = self.outbound_route(&number)
        {
            (out, Some((k, TrunkDir::Out)))
        } else {
            (number, None)
        };
        if let Some((k, _)) = trunk
            && !self.trunk_has_room(k)
        {
            let extra = [(HeaderName::RetryAfter, "10".to_owned())];
            let reason = "All trunk channels busy";
            drop(self.ep.reply_with(now, tx, 503, reason, &extra, None));
            return;
        }
        let callee = if matches!(trunk, Some((_, TrunkDir::Out))) {
            callee
        } else {
            let Some(callee) = self.forwarded_target(callee) else {
                drop(
                    self.ep
                        .reply(now, tx, 482, "Loop Detected in call forwarding"),
                );
                return;
            };
            let group = self.settings.hunt_groups.contains_key(&callee);
            if self.creds.password(&callee).is_none() && !group {
                drop(self.ep.reply(now, tx, 404, "Not Found"));
                return;
            }
            let reachable = self.ring_targets(&callee).iter().any(|ext| {
                let aor = format!("sip:{ext}@{}", self.realm_host());
                !self.registrar.lookup(&aor).is_empty()
            });
            if !reachable {
                drop(self.ep.reply(now, tx, 480, "Temporarily Unavailable"));
                return;
            }
            callee
        };
        self.next_call += 1;
        let id = self.next_call;
        self.by_a_invite.insert(tx, id);
        let relayed = self.settings.relay_ip.is_some();
        let keys = if relayed {
            match self.caller_keys(req.body()) {
                Ok(k) => k,
                Err(()) => {
                    self.by_a_invite.remove(&tx);
                    drop(self.ep.reply(now, tx, 488, "SRTP not available"));
                    return;
                }
            }
        } else {
            None // direct media: the phones agree on SRTP between themselves
        };
        let p = Pending {
            a_tx: tx,
            a_req: req,
            from,
            callee,
            trunk,
            keys: keys.as_ref().map(|(_, ours)| ours.clone()),
        };
        match (self.settings.relay_ip, sdp::audio(p.a_req.body())) {
            (Some(_), Some(a)) => {
                self.pending.insert(id, p);
                let srtp = keys.map(|(phone, [a_ours, b_ours])| {
                    let a_keys = LegKeys {
                        phone,
                        ours: a_ours,
                    };
                    (a_keys, b_ours)
                });
                self.media
                    .push_back(MediaAction::Start { call: id, a, srtp });
            }
            _ => {
                let body = (!p.a_req.body().is_empty()).then(|| p.a_req.body().clone());
                self.dial(now, id, p, body, None);
            }
        }
    }

    /// Creates call `id` and rings the callee's devices with `body` as the SDP offer.
    pub(super) fn dial(
        &mut self,
        now: Instant,
        id: u64,
        p: Pending,
        body: Option<Bytes>,
        relay: Option<[sdp::Local; 2]>,
    ) {
        let a_audio = sdp::audio(p.a_req.body());
        let record = Record {
            call_id: p
                .a_req
                .call_id()
                .map(|c| c.0.to_owned())
                .unwrap_or_default(),
            caller: p
                .a_req
                .from()
                .ok()
                .and_then(|f| f.uri().as_sip().and_then(|u| u.user().map(str::to_owned)))
                .unwrap_or_default(),
            callee: p.callee.clone(),
            start: wall_now(),
            answer: None,
            codecs: [a_audio.map(|a| a.codec.to_string()), None],
        };
        self.calls.insert(
            id,
            Call {
                a_invite: Some(p.a_tx),
                a: Leg {
                    dialog: None,
                    peer: p.from,
                },
                sdp: [a_audio.map(|a| (a, p.a_req.body().clone())), None],
                a_req: p.a_req,
                branches: Vec::new(),
                b: Leg {
                    dialog: None,
                    peer: p.from,
                },
                b_offer: body,
                hops: vec![p.callee.clone()],
                callee: p.callee,
                best: None,
                trunk: p.trunk,
                auth_tried: false,
                ring_deadline: None,
                end_deadline: None,
                answered: false,
                hunt: None,
                relay,
                record,
            },
        );
        if !self.ring(now, id) {
            self.fail_call(now, id, 480, "Temporarily Unavailable");
        }
    }

    pub(super) fn outgoing_invite(
        &mut self,
        o: &Outgoing<'_>,
        t: Transport,
        body: Option<(String, Bytes)>,
    ) -> Option<Message> {
        let (caller, callee) = (o.caller, o.callee);
        let domain = self.realm_host();
        // Caller ID: the caller's extension with its configured name (MiVoice shows the
        // internal number); P-Asserted-Identity says the same to phones that prefer it.
        let identity = match self.settings.names.get(caller) {
            // Restricted mode withholds call information (MV-4): anonymous (RFC 3323 §4.1.1.3).
            _ if !self.allows(Behaviour::CallInformation) => {
                "\"Anonymous\" <sip:anonymous@anonymous.invalid>".to_owned()
            }
            Some(name) => format!(
                "\"{}\" <sip:{caller}@{domain}>",
                name.replace(['"', '\\'], "")
            ),
            None => format!("<sip:{caller}@{domain}>"),
        };
        let mut b = RequestBuilder::new(Method::Invite, o.contact)
            .via(
                t.as_str(),
                &self.local(t).to_string(),
                &self.ep.new_branch(),
            )
            .from(&identity, &self.ep.new_tag())
            .to(&format!("<sip:{callee}@{}>", self.realm_host()))
            .call_id(&format!("{}@pbxkit", self.ep.new_branch()))
            .cseq(1)
            .max_forwards(o.max_forwards)
            .contact(&self.contact(t))
            .header(HeaderName::UserAgent, &self.settings.user_agent);
        if self.allows(Behaviour::CallInformation) {
            b = b.header(HeaderName::PAssertedIdentity, &identity);
        }
        if let Some((ct, body)) = body {
            b = b.body(&ct, body);
        }
        b.build().ok()
    }

    /// Forgets call `id`, stopping its relay and writing its record.
    pub(super) fn drop_call(&mut self, id: u64, how: Disposition) -> Option<Call> {
        let call = self.calls.remove(&id)?;
        if call.answered {
            // Hunt group members are idle from now (MV-52 longest idle).
            let answerer = call.hunt.as_ref().and_then(|h| h.member());
            let parties = [
                call.record.caller.as_str(),
                answerer.unwrap_or(&call.callee),
            ];
            self.hunt_memory.call_ended(parties);
            self.presence_dirty = true;
        }
        if call.relay.is_some() {
            self.media.push_back(MediaAction::Stop { call: id });
        }
        let r = &call.record;
        let mut rec = CdrRecord::new(
            r.call_id.clone(),
            r.caller.clone(),
            r.callee.clone(),
            r.start,
            r.answer,
            wall_now(),
            how,
        );
        rec.codecs.clone_from(&r.codecs);
        if let Some((k, dir)) = call.trunk {
            rec.traffic = match dir {
                TrunkDir::In => Traffic::Incoming,
                TrunkDir::Out => Traffic::Outgoing,
            };
            rec.trunk = self.settings.trunks.get(k).map(|t| t.name.clone());
        }
        self.cdrs.push_back((id, rec));
        Some(call)
    }

    pub(super) fn on_response(&mut self, now: Instant, tx: TxId, resp: &Message) {
        if self.on_register_response(now, tx, resp)
            || self.on_message_response(now, tx, resp)
            || self.on_notify_response(tx, resp)
        {
            return;
        }
        if self.closing.contains(&tx) {
            if resp.status().unwrap_or(500) >= 200 {
                self.closing.remove(&tx);
            }
        } else if self.by_transfer_invite.contains_key(&tx) {
            self.on_transfer_response(now, tx, resp);
        } else if self.attended.contains_key(&tx) {
            self.on_attended_response(now, tx, Some(resp));
        } else if self.cancelled.contains_key(&tx) {
            self.on_cancelled_branch(now, tx, resp);
        } else if let Some(&id) = self.by_b_invite.get(&tx) {
            self.on_b_invite_response(now, id, tx, resp);
        } else if let Some(fw) = self.forwarded.get(&tx).copied() {
            let code = resp.status().unwrap_or(500);
            if code >= 200 {
                self.forwarded.remove(&tx);
                if (200..300).contains(&code) {
                    self.ack_forwarded(fw, resp);
                }
                let body = self.body_for_call(fw.call, resp, fw.from_a);
                let b = body.as_ref().map(|(ct, b)| (ct.as_str(), b));
                drop(
                    self.ep
                        .reply_with(now, fw.server, code, resp.reason().unwrap_or(""), &[], b),
                );
                if fw.bye {
                    self.end_call(fw.call);
                }
            }
        }
    }

    /// The caller's INVITE transaction of call `id` while it is pending, and its transport.
    fn a_invite(&self, id: u64) -> Option<(TxId, Transport)> {
        self.calls
            .get(&id)
            .and_then(|c| c.a_invite.map(|t| (t, c.a.peer.0)))
    }

    pub(super) fn on_b_invite_response(&mut self, now: Instant, id: u64, tx: TxId, resp: &Message) {
        let code = resp.status().unwrap_or(500);
        let Some((a_tx, a_t)) = self.a_invite(id) else {
            return;
        };
        if code == 100 {
            return;
        }
        if code < 200 {
            // Early media: leg B may already send its codec.
            self.callee_media(id, resp);
            let body = self.body_for_call(id, resp, true);
            let b = body.as_ref().map(|(ct, b)| (ct.as_str(), b));
            let extra = [(HeaderName::Contact, self.contact(a_t))];
            let reason = resp.reason().unwrap_or("");
            drop(self.ep.reply_with(now, a_tx, code, reason, &extra, b));
            return;
        }
        if code >= 300 {
            if matches!(code, 401 | 407) && self.trunk_challenge(now, id, tx, resp) {
                return;
            }
            let reason = resp.reason().unwrap_or("").to_owned();
            self.branch_failed(now, id, tx, code, reason);
            return;
        }
        if let Some((answered, _)) = self.answering.get(&id) {
            if *answered != tx {
                // Another device answered too while the first answer is being set up.
                self.by_b_invite.remove(&tx);
                if let Some(b) = self.take_branch(id, tx) {
                    self.ack_and_bye(now, &b, resp);
                }
            }
            return; // else a retransmitted 2xx while the relay takes the callee's codec
        }
        self.cancel_branches(now, id, Some(tx));
        if self.callee_media(id, resp) {
            self.answering.insert(id, (tx, resp.clone()));
            return;
        }
        self.complete_answer(now, id, tx, resp, true);
    }

    /// The callee's 2xx: form both dialogs, ACK the callee, answer the caller; or, when the
    /// relay could not take the callee's codec (`media_ok` false), hang up the callee and
    /// answer the caller 503 with Retry-After (MV-36).
    pub(super) fn complete_answer(
        &mut self,
        now: Instant,
        id: u64,
        tx: TxId,
        resp: &Message,
        media_ok: bool,
    ) {
        let Some((a_tx, a_t)) = self.a_invite(id) else {
            return;
        };
        self.by_b_invite.remove(&tx);
        self.by_a_invite.remove(&a_tx);
        let branch = self.take_branch(id, tx);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(b) = &branch {
            call.b.peer = b.peer;
        }
        let b_dialog = branch.and_then(|b| Dialog::uac(&b.req, resp).ok());
        let a_req = self.ep.server(a_tx).map(|s| s.request().clone());
        let a_tag = self.ep.to_tag(a_tx).map(str::to_owned);
        let a_dialog = a_req
            .as_ref()
            .zip(a_tag.as_deref())
            .and_then(|(r, tag)| Dialog::uas(r, tag).ok());
        let (Some(mut b_dialog), Some(mut a_dialog)) = (b_dialog, a_dialog) else {
            self.drop_call(id, Disposition::Failed);
            drop(self.ep.reply(now, a_tx, 502, "Bad Gateway"));
            return;
        };
        a_dialog.confirm();
        let b_peer = call.b.peer;
        self.ack_on(&b_dialog, 1, b_peer);
        if !media_ok {
            self.bye_on(now, &mut b_dialog, b_peer);
            self.drop_call(id, Disposition::Refused);
            let extra = [(HeaderName::RetryAfter, "5".to_owned())];
            let reason = "Media resources exhausted";
            drop(self.ep.reply_with(now, a_tx, 503, reason, &extra, None));
            return;
        }
        self.by_dialog.insert(a_dialog.id().clone(), id);
        self.by_dialog.insert(b_dialog.id().clone(), id);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.a_invite = None;
        call.ring_deadline = None;
        call.end_deadline = self.settings.max_call.map(|d| now + d);
        call.answered = true;
        call.record.answer = Some(wall_now());
        call.a.dialog = Some(a_dialog);
        call.b.dialog = Some(b_dialog);
        self.hunt_answered(id);
        self.presence_dirty = true;
        let body = self.body_for_call(id, resp, true);
        let b = body.as_ref().map(|(ct, b)| (ct.as_str(), b));
        let extra = [(HeaderName::Contact, self.contact(a_t))];
        drop(self.ep.reply_with(now, a_tx, 200, "OK", &extra, b));
        info!(call = id, "call answered");
    }
}
