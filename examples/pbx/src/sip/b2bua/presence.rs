//! Presence (MV-34): a registered user subscribes to `Event: presence` of an extension
//! (RFC 6665, RFC 3856) and gets a NOTIFY with a PIDF document (RFC 3863) now and at every
//! change: `open` while the extension has a registered device, `closed` otherwise, and the
//! RPID activity `on-the-phone` (RFC 4480) while it is in an answered call. With a licence
//! file each subscribing user holds one "Presence Sync via SIMPLE and MSRP" licence, however
//! many subscriptions and devices it has (per user, not per device).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip_core::dialog::{Dialog, DialogId};
use sip_core::transaction::{Transport, TxId};
use sip_core::{HeaderName, Message, Method};
use tracing::{debug, info};

use super::*;

/// Shortest and longest subscription granted, seconds; the default when none is asked.
const MIN_EXPIRES: u32 = 60;
const MAX_EXPIRES: u32 = 3600;
/// Most subscriptions at once (as many as terminals, MV-50).
pub(super) const MAX_SUBSCRIPTIONS: usize = 2400;

/// What a subscriber sees of an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// No registered device.
    Closed,
    /// Registered, not in a call.
    Open,
    /// Registered and in an answered call.
    OnThePhone,
}

/// One presence subscription (the PBX is the notifier).
#[derive(Debug)]
pub(super) struct Sub {
    dialog: Dialog,
    /// The extension watched, and the subscribing user.
    target: String,
    subscriber: String,
    peer: (Transport, SocketAddr),
    expires: Instant,
    /// What the last NOTIFY said.
    sent: Option<Status>,
}

/// The PIDF document for `entity` in `status`.
pub(super) fn pidf(entity: &str, status: Status) -> String {
    let basic = if status == Status::Closed {
        "closed"
    } else {
        "open"
    };
    let person = if status == Status::OnThePhone {
        "<dm:person id=\"p1\"><rpid:activities><rpid:on-the-phone/></rpid:activities></dm:person>\r\n"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
         xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" \
         xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"{entity}\">\r\n\
         <tuple id=\"t1\"><status><basic>{basic}</basic></status></tuple>\r\n\
         {person}</presence>\r\n"
    )
}

/// The subscription length granted for a requested `Expires` (none: the longest), or
/// `Err(())` for a non-zero request below the shortest (423).
pub(super) fn granted(asked: Option<u32>) -> Result<u32, ()> {
    match asked {
        None => Ok(MAX_EXPIRES),
        Some(0) => Ok(0),
        Some(s) if s < MIN_EXPIRES => Err(()),
        Some(s) => Ok(s.min(MAX_EXPIRES)),
    }
}

impl Pbx {
    /// A SUBSCRIBE outside a dialog.
    pub(super) fn on_subscribe(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Message,
        from: (Transport, SocketAddr),
    ) {
        let package = req
            .values(HeaderName::Event)
            .next()
            .and_then(|e| e.split(';').next())
            .map(str::trim);
        if !package.is_some_and(|p| p.eq_ignore_ascii_case("presence")) {
            let extra = [(HeaderName::AllowEvents, "presence".to_owned())];
            drop(self.ep.reply_with(now, tx, 489, "Bad Event", &extra, None));
            return;
        }
        if self.stopping {
            drop(self.ep.reply(now, tx, 503, "Shutting down"));
            return;
        }
        let Some(subscriber) = self.caller(req, from.1) else {
            let reason = "Subscriber not registered from this address";
            drop(self.ep.reply(now, tx, 403, reason));
            return;
        };
        let Some(target) = Self::dialled(req).filter(|t| self.creds.password(t).is_some()) else {
            drop(self.ep.reply(now, tx, 404, "Not Found"));
            return;
        };
        let Some(expires) = self.expires_granted(now, tx, req) else {
            return;
        };
        if self.presence.len() >= MAX_SUBSCRIPTIONS {
            let extra = [(HeaderName::RetryAfter, "60".to_owned())];
            drop(
                self.ep
                    .reply_with(now, tx, 503, "Too many subscriptions", &extra, None),
            );
            return;
        }
        // MV-34: one licence per subscribing user, held while it has a subscription.
        if expires > 0 && !self.presence_leases.contains_key(&subscriber) {
            match self.settings.licence.presence_lease() {
                Some(lease) => {
                    self.presence_leases.insert(subscriber.clone(), lease);
                }
                None => {
                    info!(%subscriber, "presence refused: no SIMPLE/MSRP licence left");
                    drop(self.ep.reply(now, tx, 403, "Presence not licensed"));
                    return;
                }
            }
        }
        let tag = self.ep.to_tag(tx).unwrap_or_default().to_owned();
        let Ok(mut dialog) = Dialog::uas(req, &tag) else {
            drop(self.ep.reply(now, tx, 400, "Bad Request"));
            return;
        };
        dialog.confirm();
        let extra = [
            (HeaderName::Expires, expires.to_string()),
            (HeaderName::Contact, self.contact(from.0)),
        ];
        drop(self.ep.reply_with(now, tx, 200, "OK", &extra, None));
        let id = dialog.id().clone();
        let sub = Sub {
            dialog,
            target,
            subscriber,
            peer: from,
            expires: now + Duration::from_secs(u64::from(expires)),
            sent: None,
        };
        debug!(subscriber = %sub.subscriber, target = %sub.target, expires, "presence subscription");
        self.presence.insert(id.clone(), sub);
        if expires == 0 {
            // A fetch: one NOTIFY, then nothing (RFC 6665 §4.4.3).
            self.notify_presence(now, &id, Some("timeout"));
        } else {
            self.notify_presence(now, &id, None);
        }
    }

    /// An in-dialog request in a presence subscription (a refresh or an unsubscribe);
    /// `false` when `id` is not one.
    pub(super) fn presence_request(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Message,
        id: &DialogId,
    ) -> bool {
        let Some(sub) = self.presence.get_mut(id) else {
            return false;
        };
        if req.method() != Some(Method::Subscribe) {
            drop(self.ep.reply(now, tx, 405, "Method Not Allowed"));
            return true;
        }
        if sub.dialog.on_request(req).is_err() {
            drop(self.ep.reply(now, tx, 500, "Out of order"));
            return true;
        }
        let Some(expires) = self.expires_granted(now, tx, req) else {
            return true;
        };
        if let Some(sub) = self.presence.get_mut(id) {
            sub.expires = now + Duration::from_secs(u64::from(expires));
        }
        let extra = [(HeaderName::Expires, expires.to_string())];
        drop(self.ep.reply_with(now, tx, 200, "OK", &extra, None));
        let reason = (expires == 0).then_some("timeout");
        self.notify_presence(now, id, reason);
        true
    }

    /// The length granted to SUBSCRIBE `req`; `None` after answering 423 to one too short.
    fn expires_granted(&mut self, now: Instant, tx: TxId, req: &Message) -> Option<u32> {
        let asked = req
            .values(HeaderName::Expires)
            .next()
            .and_then(|v| v.trim().parse().ok());
        let granted = granted(asked).ok();
        if granted.is_none() {
            let extra = [(HeaderName::MinExpires, MIN_EXPIRES.to_string())];
            drop(
                self.ep
                    .reply_with(now, tx, 423, "Interval Too Brief", &extra, None),
            );
        }
        granted
    }

    /// Sends subscription `id` a NOTIFY with the target's status; with `terminated`, the
    /// last one (that reason), and the subscription is gone.
    fn notify_presence(&mut self, now: Instant, id: &DialogId, terminated: Option<&str>) {
        let busy = self.in_calls();
        let Some(sub) = self.presence.get(id) else {
            return;
        };
        let status = self.status_of(&sub.target, &busy);
        let t = sub.peer.0;
        let (local, branch) = (self.local(t).to_string(), self.ep.new_branch());
        let contact = self.contact(t);
        let entity = format!("sip:{}@{}", sub.target, self.realm_host());
        let Some(sub) = self.presence.get_mut(id) else {
            return;
        };
        let state = match terminated {
            Some(reason) => format!("terminated;reason={reason}"),
            None => {
                let left = sub.expires.saturating_duration_since(now).as_secs();
                format!("active;expires={left}")
            }
        };
        let notify = sub
            .dialog
            .request(Method::Notify, (t.as_str(), &local, &branch))
            .ok()
            .and_then(|b| {
                b.header(HeaderName::Event, "presence")
                    .header(HeaderName::SubscriptionState, &state)
                    .contact(&contact)
                    .body("application/pidf+xml", pidf(&entity, status).into_bytes())
                    .build()
                    .ok()
            });
        sub.sent = Some(status);
        let peer = sub.peer;
        if let Some(n) = notify
            && let Ok(ntx) = self.ep.send_request(now, n, peer.0, peer.1)
        {
            self.notify_tx.insert(ntx, id.clone());
        }
        if terminated.is_some() {
            self.drop_subscription(id);
        }
    }

    /// Forgets subscription `id`; its user's licence goes back when it was the last.
    fn drop_subscription(&mut self, id: &DialogId) {
        let Some(sub) = self.presence.remove(id) else {
            return;
        };
        if !self
            .presence
            .values()
            .any(|s| s.subscriber == sub.subscriber)
        {
            self.presence_leases.remove(&sub.subscriber);
        }
    }

    /// A response to one of our NOTIFYs; `false` when `tx` is not one. A 481 (or another
    /// failure) ends the subscription (RFC 6665 §4.2.2).
    pub(super) fn on_notify_response(&mut self, tx: TxId, resp: &Message) -> bool {
        let code = resp.status().unwrap_or(500);
        if code < 200 {
            return self.notify_tx.contains_key(&tx);
        }
        let Some(id) = self.notify_tx.remove(&tx) else {
            return false;
        };
        if code >= 300 && !matches!(code, 401 | 407) {
            self.drop_subscription(&id);
        }
        true
    }

    /// One of our NOTIFYs timed out; `false` when `tx` is not one.
    pub(super) fn on_notify_failure(&mut self, tx: TxId) -> bool {
        let Some(id) = self.notify_tx.remove(&tx) else {
            return false;
        };
        self.drop_subscription(&id);
        true
    }

    /// Extensions in an answered call.
    fn in_calls(&self) -> HashSet<String> {
        self.calls
            .values()
            .filter(|c| c.answered)
            .flat_map(|c| {
                let answerer = c.hunt.as_ref().and_then(|h| h.member());
                [
                    c.record.caller.clone(),
                    answerer.unwrap_or(&c.callee).to_owned(),
                ]
            })
            .collect()
    }

    fn status_of(&self, ext: &str, busy: &HashSet<String>) -> Status {
        let aor = format!("sip:{ext}@{}", self.realm_host());
        if self.registrar.lookup(&aor).is_empty() {
            Status::Closed
        } else if busy.contains(ext) {
            Status::OnThePhone
        } else {
            Status::Open
        }
    }

    /// Sends a NOTIFY on every subscription whose target changed, and ends the expired ones.
    /// Only looks when a registration or an answered call changed, or one is due to expire.
    pub(super) fn presence_changes(&mut self, now: Instant) {
        let due = self.presence_deadline().is_some_and(|d| d <= now);
        if self.presence.is_empty() || !(self.presence_dirty || due) {
            self.presence_dirty = false;
            return;
        }
        self.presence_dirty = false;
        let busy = self.in_calls();
        let mut changed = Vec::new();
        let mut expired = Vec::new();
        for (id, sub) in &self.presence {
            if sub.expires <= now {
                expired.push(id.clone());
            } else if sub.sent != Some(self.status_of(&sub.target, &busy)) {
                changed.push(id.clone());
            }
        }
        for id in changed {
            self.notify_presence(now, &id, None);
        }
        for id in expired {
            self.notify_presence(now, &id, Some("timeout"));
        }
    }

    /// When the next subscription expires.
    pub(super) fn presence_deadline(&self) -> Option<Instant> {
        self.presence.values().map(|s| s.expires).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MV-34: the PIDF says open or closed, and on-the-phone during a call.
    #[test]
    fn mv34_pidf_documents() {
        let open = pidf("sip:202@pbx", Status::Open);
        assert!(open.contains("entity=\"sip:202@pbx\"") && open.contains("<basic>open</basic>"));
        assert!(!open.contains("on-the-phone"));
        let busy = pidf("sip:202@pbx", Status::OnThePhone);
        assert!(busy.contains("<basic>open</basic>") && busy.contains("<rpid:on-the-phone/>"));
        assert!(pidf("sip:202@pbx", Status::Closed).contains("<basic>closed</basic>"));
    }

    #[test]
    fn subscription_lengths() {
        assert_eq!(granted(None), Ok(3600));
        assert_eq!(granted(Some(0)), Ok(0));
        assert_eq!(granted(Some(59)), Err(()));
        assert_eq!(granted(Some(60)), Ok(60));
        assert_eq!(granted(Some(86_400)), Ok(3600));
    }
}
