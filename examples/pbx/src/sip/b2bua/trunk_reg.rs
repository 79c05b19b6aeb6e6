//! Registration of trunks at their providers (`register = true`), with sip-core's
//! registration client, and its supervision events (MV2-35).

use std::time::Instant;

use sip_core::registration::{Registration, RegistrationConfig, RegistrationEvent};
use sip_core::transaction::TxId;
use tracing::{info, warn};

use super::*;

/// A registration change of one trunk, for the event system.
#[derive(Debug, Clone)]
pub struct TrunkNotice {
    /// The trunk's name (the provider).
    pub provider: String,
    /// The account.
    pub account: String,
    /// What happened.
    pub event: RegistrationEvent,
}

impl Pbx {
    /// Creates the registrations of the trunks that register and starts them at `now`.
    pub fn start_trunks(&mut self, now: Instant) {
        for k in 0..self.settings.trunks.len() {
            let t = &self.settings.trunks[k];
            if !t.register {
                self.trunk_regs.push(None);
                continue;
            }
            let contact = format!("sip:{}@{}", t.username, self.local(t.transport));
            let mut cfg = RegistrationConfig::new(
                &format!("sip:{}", t.domain),
                &format!("sip:{}@{}", t.username, t.domain),
                &contact,
                &t.auth_username,
                &t.password,
            );
            cfg.expires = t.expires;
            let call_id = format!("{}@pbxkit", self.ep.new_branch());
            let tag = self.ep.new_tag();
            let mut reg = Registration::new(cfg, &call_id, &tag, rand::random());
            reg.start(now);
            self.trunk_regs.push(Some(reg));
        }
        self.drive_registrations(now);
    }

    /// Sends the REGISTERs that are due and collects the registrations' events.
    pub(super) fn drive_registrations(&mut self, now: Instant) {
        for k in 0..self.trunk_regs.len() {
            let Some(t) = self.settings.trunks.get(k).cloned() else {
                continue;
            };
            let local = self.local(t.transport).to_string();
            loop {
                let branch = self.ep.new_branch();
                let Some(reg) = self.trunk_regs[k].as_mut() else {
                    break;
                };
                let Some(req) = reg.poll_request(now, (t.transport.as_str(), &local, &branch))
                else {
                    break;
                };
                match self.ep.send_request(now, req, t.transport, t.addr) {
                    Ok(tx) => {
                        self.reg_tx.insert(tx, k);
                    }
                    Err(_) => {
                        if let Some(reg) = self.trunk_regs[k].as_mut() {
                            reg.handle_failure(now);
                        }
                    }
                }
            }
            while let Some(event) = self.trunk_regs[k]
                .as_mut()
                .and_then(Registration::poll_event)
            {
                match event {
                    RegistrationEvent::Failed { reason } => {
                        warn!(trunk = %t.name, ?reason, "trunk registration failed (MV2-35)");
                    }
                    _ => info!(trunk = %t.name, ?event, "trunk registration"),
                }
                self.trunk_notices.push_back(TrunkNotice {
                    provider: t.name.clone(),
                    account: t.username.clone(),
                    event,
                });
            }
        }
    }

    /// A response to a trunk's REGISTER; `false` when `tx` is none.
    pub(super) fn on_register_response(&mut self, now: Instant, tx: TxId, resp: &Message) -> bool {
        let Some(&k) = self.reg_tx.get(&tx) else {
            return false;
        };
        if resp.status().unwrap_or(500) >= 200 {
            self.reg_tx.remove(&tx);
            self.closing.remove(&tx);
        }
        if let Some(reg) = self.trunk_regs.get_mut(k).and_then(Option::as_mut) {
            reg.handle_response(now, resp);
        }
        true
    }

    /// A trunk's REGISTER got no answer; `false` when `tx` is none.
    pub(super) fn on_register_failure(&mut self, now: Instant, tx: TxId) -> bool {
        let Some(k) = self.reg_tx.remove(&tx) else {
            return false;
        };
        self.closing.remove(&tx);
        if let Some(reg) = self.trunk_regs.get_mut(k).and_then(Option::as_mut) {
            reg.handle_failure(now);
        }
        true
    }

    /// The next registration time of the trunks.
    pub(super) fn trunk_reg_deadline(&self) -> Option<Instant> {
        self.trunk_regs
            .iter()
            .flatten()
            .filter_map(Registration::poll_timeout)
            .min()
    }

    /// Shutdown: every trunk unregisters; the REGISTERs are awaited like the BYEs.
    pub(super) fn unregister_trunks(&mut self, now: Instant) {
        for reg in self.trunk_regs.iter_mut().flatten() {
            if matches!(
                reg.state(),
                sip_core::registration::RegistrationState::Registered { .. }
            ) {
                reg.unregister(now);
            }
        }
        let before: Vec<TxId> = self.reg_tx.keys().copied().collect();
        self.drive_registrations(now);
        let sent: Vec<TxId> = self
            .reg_tx
            .keys()
            .filter(|tx| !before.contains(tx))
            .copied()
            .collect();
        self.closing.extend(sent);
    }

    /// The next trunk registration change to report.
    pub fn poll_trunk_notice(&mut self) -> Option<TrunkNotice> {
        self.trunk_notices.pop_front()
    }
}
