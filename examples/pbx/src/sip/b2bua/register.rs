//! Registration with digest authentication and terminal licences (MV-13).

use std::net::SocketAddr;
use std::time::Instant;

use sip_core::Message;
use sip_core::transaction::{Transport, TxId};

use super::*;

impl Pbx {
    pub(super) fn on_register(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Message,
        from: (Transport, SocketAddr),
    ) {
        // One domain: the To user names the account, whatever host the phone wrote.
        let to_user = address_of_record(req).and_then(|a| {
            a.strip_prefix("sip:")
                .and_then(|r| r.split_once('@'))
                .map(|(u, _)| u.to_owned())
        });
        let Some(to_user) = to_user else {
            drop(
                self.ep
                    .reply(now, tx, 400, "To is not a SIP address of record"),
            );
            return;
        };
        let aor = format!("sip:{to_user}@{}", self.realm_host());
        let (creds, realm) = (&self.creds, &self.settings.realm);
        let lookup = |u: &str, alg: Algorithm| creds.password(u).map(|p| ha1(alg, u, realm, p));
        let user = match self.digest.verify(unix_now(), req, lookup) {
            Ok(v) => v.username,
            Err(e) if e.challenge() => {
                if let Some(cause) = offence(&e) {
                    self.offences.push_back((from.1.ip(), cause));
                }
                return self.challenge(now, tx, e == AuthError::Stale);
            }
            Err(e) => {
                if let Some(cause) = offence(&e) {
                    self.offences.push_back((from.1.ip(), cause));
                }
                return drop(self.ep.reply(now, tx, 400, &e.to_string()));
            }
        };
        if user != to_user {
            self.offences
                .push_back((from.1.ip(), sip_core::dos::Cause::Registration));
            drop(
                self.ep
                    .reply(now, tx, 403, "Credentials do not match the AOR"),
            );
            return;
        }
        // MV-13: each new device draws a terminal licence; none free refuses the REGISTER.
        // MV-50: at most `max_terminals` devices registered at once (refreshes always pass).
        let kind = self.settings.terminals.get(&user).copied();
        let licence = &self.settings.licence;
        let mut room = usize::try_from(self.settings.max_terminals)
            .unwrap_or(usize::MAX)
            .saturating_sub(self.registrar.counts().1);
        // MV-50: at most `max_devices` devices per user (16 at most).
        let mut user_room = self
            .settings
            .max_devices
            .get(&user)
            .map_or(usize::MAX, |&n| usize::try_from(n).unwrap_or(usize::MAX))
            .saturating_sub(self.registrar.lookup(&aor).len());
        let mut granted = Vec::new();
        let r = self
            .registrar
            .register(now, &aor, req, from.1, from.0, |_, contact| {
                if user_room == 0 {
                    return Admission::Refuse(403, "Too many devices for this user (MV-50)".into());
                }
                if room == 0 {
                    return Admission::Refuse(503, "Terminal capacity reached (MV-50)".into());
                }
                room -= 1;
                user_room -= 1;
                let LicenceMode::Strict(engine) = licence else {
                    return Admission::Accept;
                };
                let Ok(mut engine) = engine.lock() else {
                    return Admission::Refuse(500, "Licensing unavailable".into());
                };
                let kind = kind.unwrap_or(licensing::TerminalKind::StandardSip);
                match engine.may_register(wall_clock(), kind) {
                    Ok(reg) => {
                        granted.push((contact.to_owned(), reg));
                        Admission::Accept
                    }
                    Err(refusal) => {
                        Admission::Refuse(403, format!("No terminal licence: {refusal}"))
                    }
                }
            });
        if r.code == 200 {
            for (contact, reg) in granted {
                self.held.insert((aor.clone(), contact), reg);
            }
        }
        drop(
            self.ep
                .reply_with(now, tx, r.code, &r.reason, &r.headers, None),
        );
    }

    pub(super) fn challenge(&mut self, now: Instant, tx: TxId, stale: bool) {
        let (code, reason) = self.digest.status();
        let ch = self.digest.challenges(unix_now(), stale);
        drop(self.ep.reply_with(now, tx, code, reason, &ch, None));
    }

    /// Whether `req` comes from where its From user is registered (calls are trusted by
    /// registration source; see docs/decisions.md).
    /// The user part of a request's SIP Request-URI: the dialled number.
    pub(super) fn dialled(req: &Message) -> Option<String> {
        req.request_uri()
            .and_then(|u| u.as_sip().and_then(|s| s.user().map(str::to_owned)))
    }

    pub(super) fn caller(&self, req: &Message, from: SocketAddr) -> Option<String> {
        let uri = req.from().ok()?;
        let user = uri.uri().as_sip()?.user()?.to_owned();
        let aor = format!("sip:{user}@{}", self.realm_host());
        let known = self.registrar.lookup(&aor).iter().any(|b| b.source == from);
        known.then_some(user)
    }

    /// The registered devices of the extensions `exts`: (extension, contact, transport,
    /// source address).
    pub(super) fn devices_of(
        &self,
        exts: &[String],
    ) -> Vec<(String, String, Transport, SocketAddr)> {
        exts.iter()
            .flat_map(|ext| {
                let aor = format!("sip:{ext}@{}", self.realm_host());
                self.registrar
                    .lookup(&aor)
                    .iter()
                    .map(|b| (ext.clone(), b.contact.clone(), b.transport, b.source))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    pub(super) fn realm_host(&self) -> String {
        self.settings.realm.to_ascii_lowercase()
    }

    /// Follows unconditional forwarding from `ext` (at most 8 hops; `None` on a loop).
    pub(super) fn forwarded_target(&self, mut ext: String) -> Option<String> {
        for _ in 0..8 {
            match self.settings.forward_always.get(&ext) {
                Some(next) => ext.clone_from(next),
                None => return Some(ext),
            }
        }
        None
    }
}

/// What a refused credential tells the DoS guard (MV2-34): a wrong password or unknown user
/// is a failed registration; a forged or replayed nonce or malformed credentials a modified
/// message; a missing or stale credential is the normal challenge round.
fn offence(e: &AuthError) -> Option<sip_core::dos::Cause> {
    use sip_core::dos::Cause;
    match e {
        AuthError::WrongResponse | AuthError::UnknownUser => Some(Cause::Registration),
        AuthError::BadNonce
        | AuthError::Replay
        | AuthError::Malformed(_)
        | AuthError::UriMismatch
        | AuthError::UnsupportedAlgorithm => Some(Cause::ModifiedMessage),
        _ => None,
    }
}
