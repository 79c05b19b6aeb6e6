//! Text messages between users (MV-49): a SIP MESSAGE (RFC 3428) from a registered user to
//! an extension or a message group is relayed to every registered device of the target
//! (every member's, for a group; not back to the sender). The sender gets 200 once one
//! device accepted it, else the first failure when every device has answered. A body that
//! reads only `#n` is delivered as predefined text `n`.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_core::transaction::{Transport, TxId};
use sip_core::{HeaderName, Message, Method, RequestBuilder};
use tracing::{debug, info};

use super::*;

/// A text message on its way to the target's devices.
#[derive(Debug)]
pub(super) struct Relay {
    /// The sender's MESSAGE transaction, until it is answered.
    server: Option<TxId>,
    /// Devices that have not answered yet.
    pending: usize,
    /// The first failure from a device.
    failure: Option<(u16, String)>,
}

/// The text a message body stands for: predefined text `n` for a body of only `#n`
/// (1-based, surrounding whitespace ignored), else the body as sent.
pub(super) fn expand<'a>(body: &'a [u8], texts: &'a [String]) -> &'a [u8] {
    let predefined = std::str::from_utf8(body)
        .ok()
        .and_then(|b| b.trim().strip_prefix('#'))
        .filter(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| texts.get(n.checked_sub(1)?));
    predefined.map_or(body, |t| t.as_bytes())
}

impl Pbx {
    pub(super) fn on_message(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Message,
        from: (Transport, SocketAddr),
    ) {
        if self.stopping {
            drop(self.ep.reply(now, tx, 503, "Shutting down"));
            return;
        }
        let Some(sender) = self.caller(req, from.1) else {
            drop(
                self.ep
                    .reply(now, tx, 403, "Sender not registered from this address"),
            );
            return;
        };
        let Some(number) = Self::dialled(req) else {
            drop(self.ep.reply(now, tx, 404, "Not Found"));
            return;
        };
        let targets: Vec<String> = match self.settings.message_groups.get(&number) {
            Some(members) => members.iter().filter(|m| **m != sender).cloned().collect(),
            None if self.creds.password(&number).is_some() => vec![number.clone()],
            None => {
                drop(self.ep.reply(now, tx, 404, "Not Found"));
                return;
            }
        };
        let content_type = req
            .values(HeaderName::ContentType)
            .next()
            .unwrap_or("text/plain")
            .to_owned();
        let body = if content_type.to_ascii_lowercase().starts_with("text/plain") {
            Bytes::copy_from_slice(expand(req.body(), &self.settings.texts))
        } else {
            req.body().clone()
        };
        let devices = self.devices_of(&targets);
        self.next_call += 1;
        let id = self.next_call;
        let mut pending = 0;
        for (ext, contact, t, dest) in devices {
            let Some(out) = self.outgoing_message(&sender, &ext, &contact, t, &content_type, &body)
            else {
                continue;
            };
            if let Ok(client) = self.ep.send_request(now, out, t, dest) {
                self.by_message.insert(client, id);
                pending += 1;
            }
        }
        if pending == 0 {
            drop(self.ep.reply(now, tx, 480, "Temporarily Unavailable"));
            return;
        }
        info!(%sender, to = %number, devices = pending, "text message relayed");
        let relay = Relay {
            server: Some(tx),
            pending,
            failure: None,
        };
        self.messages.insert(id, relay);
    }

    /// Our MESSAGE from `sender` to one device of `ext`.
    fn outgoing_message(
        &mut self,
        sender: &str,
        ext: &str,
        contact: &str,
        t: Transport,
        content_type: &str,
        body: &Bytes,
    ) -> Option<Message> {
        let domain = self.realm_host();
        let identity = match self.settings.names.get(sender) {
            Some(name) => format!(
                "\"{}\" <sip:{sender}@{domain}>",
                name.replace(['"', '\\'], "")
            ),
            None => format!("<sip:{sender}@{domain}>"),
        };
        RequestBuilder::new(Method::Message, contact)
            .via(
                t.as_str(),
                &self.local(t).to_string(),
                &self.ep.new_branch(),
            )
            .from(&identity, &self.ep.new_tag())
            .to(&format!("<sip:{ext}@{domain}>"))
            .call_id(&format!("{}@pbxkit", self.ep.new_branch()))
            .cseq(1)
            .max_forwards(70)
            .header(HeaderName::UserAgent, &self.settings.user_agent)
            .body(content_type, body.clone())
            .build()
            .ok()
    }

    /// A response to one of our MESSAGEs; `false` when `tx` is not one.
    pub(super) fn on_message_response(&mut self, now: Instant, tx: TxId, resp: &Message) -> bool {
        let code = resp.status().unwrap_or(500);
        if !self.by_message.contains_key(&tx) {
            return false;
        }
        if code >= 200 {
            let reason = resp.reason().unwrap_or("").to_owned();
            self.message_answered(now, tx, code, reason);
        }
        true
    }

    /// One of our MESSAGEs timed out or could not be sent; `false` when `tx` is not one.
    pub(super) fn on_message_failure(&mut self, now: Instant, tx: TxId) -> bool {
        if !self.by_message.contains_key(&tx) {
            return false;
        }
        self.message_answered(now, tx, 408, "Request Timeout".to_owned());
        true
    }

    fn message_answered(&mut self, now: Instant, tx: TxId, code: u16, reason: String) {
        let Some(id) = self.by_message.remove(&tx) else {
            return;
        };
        let Some(relay) = self.messages.get_mut(&id) else {
            return;
        };
        relay.pending = relay.pending.saturating_sub(1);
        let mut answer = None;
        if (200..300).contains(&code) {
            answer = relay.server.take().map(|s| (s, 200, "OK".to_owned()));
        } else if relay.failure.is_none() && !matches!(code, 401 | 407) {
            // A device's own challenge means nothing to the sender.
            relay.failure = Some((code, reason));
        }
        if relay.pending == 0 {
            if answer.is_none()
                && let Some(s) = relay.server.take()
            {
                let (code, reason) = relay
                    .failure
                    .take()
                    .unwrap_or((480, "Temporarily Unavailable".to_owned()));
                answer = Some((s, code, reason));
            }
            self.messages.remove(&id);
        }
        if let Some((server, code, reason)) = answer {
            debug!(message = id, code, "text message answered");
            drop(self.ep.reply(now, server, code, &reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    /// MV-49: `#n` stands for predefined text n; anything else is sent as written.
    #[test]
    fn mv49_predefined_texts_replace_their_number() {
        let texts = ["Please call me back".to_owned(), "In a meeting".to_owned()];
        assert_eq!(expand(b"#1", &texts), b"Please call me back");
        assert_eq!(expand(b" #2\r\n", &texts), b"In a meeting");
        for free in [
            &b"#3"[..],
            b"#0",
            b"#",
            b"#1a",
            b"# 1",
            b"see #1",
            b"#01x",
            b"\xff#1",
        ] {
            assert_eq!(expand(free, &texts), free, "{free:?}");
        }
        assert_eq!(expand(b"#1", &[]), b"#1");
    }
}
