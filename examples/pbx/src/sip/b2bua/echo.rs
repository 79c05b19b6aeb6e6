//! The echo-test number: the PBX answers the call itself and the media side sends every
//! packet back (`media::Echo`). BYE ends it; other in-dialog requests get 200.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_core::dialog::{Dialog, DialogId};
use sip_core::transaction::{Transport, TxId};
use sip_core::{HeaderName, Message, Method};
use tracing::info;

use super::*;

/// An answered echo-test call.
#[derive(Debug)]
pub(super) struct EchoCall {
    id: u64,
    dialog: Dialog,
    peer: (Transport, SocketAddr),
    answer: Bytes,
    record: Record,
}

impl Pbx {
    /// Whether `callee` is the echo-test number.
    pub(super) fn is_echo(&self, callee: &str) -> bool {
        !self.settings.echo_test.is_empty() && self.settings.echo_test == callee
    }

    /// An INVITE to the echo-test number: media first, then the answer.
    pub(super) fn start_echo(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Message,
        from: (Transport, SocketAddr),
    ) {
        if sdp::audio(req.body()).is_none() {
            drop(self.ep.reply(now, tx, 488, "Not Acceptable Here"));
            return;
        }
        if sdp::srtp(req.body()) != Some(sdp::Srtp::Plain) {
            // The echo service speaks plain RTP only.
            drop(self.ep.reply(now, tx, 488, "SRTP not available"));
            return;
        }
        self.next_call += 1;
        let id = self.next_call;
        self.by_a_invite.insert(tx, id);
        self.echo_pending.insert(id, (tx, req, from));
        self.media.push_back(MediaAction::Echo { call: id });
    }

    /// The echo for `id` runs at `addr`: answer the caller. `false` when `id` is no echo.
    pub(super) fn echo_ready(&mut self, now: Instant, id: u64, addr: SocketAddr) -> bool {
        let Some((tx, req, peer)) = self.echo_pending.remove(&id) else {
            return false;
        };
        self.by_a_invite.remove(&tx);
        let answer = sdp::audio(req.body())
            .and_then(|a| sdp::answer_own(req.body(), &a, addr, self.settings.ptime_ms));
        let tag = self.ep.to_tag(tx).map(str::to_owned);
        let dialog = tag.and_then(|t| Dialog::uas(&req, &t).ok());
        let (Some(answer), Some(mut dialog)) = (answer, dialog) else {
            self.media.push_back(MediaAction::Stop { call: id });
            drop(self.ep.reply(now, tx, 500, "Echo test unavailable"));
            return true;
        };
        dialog.confirm();
        let caller = req
            .from()
            .ok()
            .and_then(|f| f.uri().as_sip().and_then(|u| u.user().map(str::to_owned)))
            .unwrap_or_default();
        let codec = sdp::audio(&answer).map(|a| a.codec.to_string());
        let record = Record {
            call_id: req.call_id().map(|c| c.0.to_owned()).unwrap_or_default(),
            caller,
            callee: self.settings.echo_test.clone(),
            start: wall_now(),
            answer: Some(wall_now()),
            codecs: [codec.clone(), codec],
        };
        let extra = [(HeaderName::Contact, self.contact(peer.0))];
        drop(self.ep.reply_with(
            now,
            tx,
            200,
            "OK",
            &extra,
            Some(("application/sdp", &answer)),
        ));
        info!(call = id, "echo test answered");
        self.echoes.insert(
            dialog.id().clone(),
            EchoCall {
                id,
                dialog,
                peer,
                answer,
                record,
            },
        );
        true
    }

    /// The echo for `id` could not start: 503. `false` when `id` is no echo.
    pub(super) fn echo_failed(&mut self, now: Instant, id: u64) -> bool {
        let Some((tx, ..)) = self.echo_pending.remove(&id) else {
            return false;
        };
        self.by_a_invite.remove(&tx);
        let extra = [(HeaderName::RetryAfter, "5".to_owned())];
        let reason = "Media resources exhausted";
        drop(self.ep.reply_with(now, tx, 503, reason, &extra, None));
        true
    }

    /// An in-dialog request of an echo call; `false` when `id` is no echo dialog.
    pub(super) fn echo_request(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Message,
        id: &DialogId,
    ) -> bool {
        let Some(echo) = self.echoes.get(id) else {
            return false;
        };
        match req.method() {
            Some(Method::Bye) => {
                drop(self.ep.reply(now, tx, 200, "OK"));
                self.end_echo(id);
            }
            Some(Method::Invite) => {
                let body = echo.answer.clone();
                let b = Some(("application/sdp", &body));
                drop(self.ep.reply_with(now, tx, 200, "OK", &[], b));
            }
            _ => drop(self.ep.reply(now, tx, 200, "OK")),
        }
        true
    }

    /// Ends the echo call of dialog `id`: media stopped, record written.
    pub(super) fn end_echo(&mut self, id: &DialogId) {
        if let Some(echo) = self.echoes.remove(id) {
            self.media.push_back(MediaAction::Stop { call: echo.id });
            let r = echo.record;
            let mut rec = CdrRecord::new(
                r.call_id,
                r.caller,
                r.callee,
                r.start,
                r.answer,
                wall_now(),
                Disposition::Answered,
            );
            rec.codecs = r.codecs;
            self.cdrs.push_back((echo.id, rec));
        }
    }

    /// Shutdown: BYE every echo call; the BYE client transactions to wait for.
    pub(super) fn hang_up_echoes(&mut self, now: Instant) -> Vec<TxId> {
        let ids: Vec<DialogId> = self.echoes.keys().cloned().collect();
        let mut sent = Vec::new();
        for id in ids {
            let Some(peer) = self.echoes.get(&id).map(|e| e.peer) else {
                continue;
            };
            let dialog = self.echoes.get(&id).map(|e| e.dialog.clone());
            if let Some(mut d) = dialog
                && let Some(tx) = self.bye_on(now, &mut d, peer)
            {
                sent.push(tx);
            }
            self.end_echo(&id);
        }
        sent
    }

    /// A caller cancelled before the echo answered.
    pub(super) fn echo_cancelled(&mut self, id: u64) -> bool {
        if self.echo_pending.remove(&id).is_some() {
            self.media.push_back(MediaAction::Stop { call: id });
            return true;
        }
        false
    }
}
