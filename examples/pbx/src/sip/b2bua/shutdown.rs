//! Graceful shutdown (issue 10): new calls are refused with 503, and either every call is
//! hung up at once with BYE on both legs, or calls drain by themselves until a deadline.

use std::time::Instant;

use sip_core::HeaderName;
use tracing::info;

use super::*;

impl Pbx {
    /// Stops taking calls: new INVITEs get 503 with Retry-After from now on.
    pub fn stop_accepting(&mut self) {
        self.stopping = true;
    }

    /// Ends every call: answered ones get BYE on both legs, ringing ones 503 to the caller
    /// and CANCEL to the devices. The records are written with the usual dispositions.
    pub fn hang_up_all(&mut self, now: Instant) {
        self.stopping = true;
        for p in std::mem::take(&mut self.pending).into_values() {
            self.by_a_invite.remove(&p.a_tx);
            let extra = [(HeaderName::RetryAfter, "30".to_owned())];
            drop(
                self.ep
                    .reply_with(now, p.a_tx, 503, "Shutting down", &extra, None),
            );
        }
        self.answering.clear();
        for (tx, ..) in std::mem::take(&mut self.echo_pending).into_values() {
            drop(self.ep.reply(now, tx, 503, "Shutting down"));
        }
        let echoes = self.hang_up_echoes(now);
        self.closing.extend(echoes);
        self.unregister_trunks(now);
        let ids: Vec<u64> = self.calls.keys().copied().collect();
        let hung_up = ids.len();
        for id in ids {
            let answered = self.calls.get(&id).is_some_and(|c| c.answered);
            if !answered {
                self.fail_call(now, id, 503, "Shutting down");
                continue;
            }
            self.hang_up_call(now, id);
        }
        info!(calls = hung_up, "calls ended for shutdown");
        self.process(now);
    }

    /// BYE on every leg of answered call `id`, which ends (its record is written); the BYEs
    /// are awaited by [`Pbx::is_idle`].
    pub(super) fn hang_up_call(&mut self, now: Instant, id: u64) {
        self.abandon_transfer(now, id);
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        for leg in [&mut call.a, &mut call.b] {
            let Some(d) = leg.dialog.as_mut() else {
                continue;
            };
            self.by_dialog.remove(d.id());
            if let Some(tx) = self.bye_on(now, d, leg.peer) {
                self.closing.insert(tx);
            }
        }
        self.calls.insert(id, call);
        self.drop_call(id, Disposition::Answered);
    }

    /// Whether nothing is left to wait for: no call, and every shutdown BYE answered.
    pub fn is_idle(&self) -> bool {
        self.calls.is_empty()
            && self.pending.is_empty()
            && self.closing.is_empty()
            && self.echoes.is_empty()
            && self.echo_pending.is_empty()
    }
}
