//! The B2BUA's side of media: the relay's start, the callee's codec at answer (transcoding
//! when the legs share no codec), and each SDP body pointed at the relay for its leg.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_core::{HeaderName, Message};

use super::*;

impl Pbx {
    /// The relay for `call` runs: `local` is its address towards leg A and towards leg B.
    pub fn media_ready(&mut self, now: Instant, call: u64, local: [SocketAddr; 2]) {
        if self.echo_ready(now, call, local[0]) {
            self.process(now);
            return;
        }
        let Some(p) = self.pending.remove(&call) else {
            self.media.push_back(MediaAction::Stop { call });
            return;
        };
        let [a_key, b_key] = match &p.keys {
            Some([a, b]) => [Some(a.clone()), Some(b.clone())],
            None => [None, None],
        };
        let locals = [
            sdp::Local {
                addr: local[0],
                crypto: a_key,
            },
            sdp::Local {
                addr: local[1],
                crypto: b_key,
            },
        ];
        let body = sdp::widen(p.a_req.body(), &locals[1], &self.settings.codecs);
        self.dial(now, call, p, body, Some(locals));
        self.process(now);
    }

    /// No relay could be had for `call` (budget or ports): 503 to the caller (MV-36).
    pub fn media_failed(&mut self, now: Instant, call: u64) {
        if self.echo_failed(now, call) {
            return;
        }
        if let Some(p) = self.pending.remove(&call) {
            self.by_a_invite.remove(&p.a_tx);
            let extra = [(HeaderName::RetryAfter, "5".to_owned())];
            drop(
                self.ep
                    .reply_with(now, p.a_tx, 503, "Media resources exhausted", &extra, None),
            );
        }
    }

    /// The relay took (`ok`) or could not take the callee's codec for `call`: the answer
    /// goes on to the caller, or the call ends with 503 (MV-36).
    pub fn media_answered(&mut self, now: Instant, call: u64, ok: bool) {
        if let Some((tx, resp)) = self.answering.remove(&call) {
            self.complete_answer(now, call, tx, &resp, ok);
            self.process(now);
        }
    }

    pub(super) fn body_of(m: &Message) -> Option<(String, Bytes)> {
        (!m.body().is_empty()).then(|| {
            let ct = m
                .values(HeaderName::ContentType)
                .next()
                .unwrap_or("application/sdp");
            (ct.to_owned(), m.body().clone())
        })
    }

    /// The body of `m` for the leg it goes to: pointed at the relay's address for that leg
    /// and, when the call is transcoded, narrowed to that leg's own codec.
    pub(super) fn body_for(call: &Call, m: &Message, towards_a: bool) -> Option<(String, Bytes)> {
        let (ct, body) = Self::body_of(m)?;
        let Some(relay) = &call.relay else {
            return Some((ct, body));
        };
        let i = usize::from(!towards_a);
        let transcoded = match &call.sdp {
            [Some((a, _)), Some((b, _))] => {
                (a.codec, a.payload_type, a.telephone_event)
                    != (b.codec, b.payload_type, b.telephone_event)
            }
            _ => false,
        };
        let out = match &call.sdp[i] {
            Some((audio, defining)) if transcoded => sdp::narrow(&body, defining, audio, &relay[i]),
            _ => sdp::rewrite(&body, &relay[i]),
        };
        Some((ct, out.unwrap_or(body)))
    }

    /// The body of `m` for call `id`'s leg A (`towards_a`) or B.
    pub(super) fn body_for_call(
        &self,
        id: u64,
        m: &Message,
        towards_a: bool,
    ) -> Option<(String, Bytes)> {
        match self.calls.get(&id) {
            Some(call) => Self::body_for(call, m, towards_a),
            None => Self::body_of(m),
        }
    }

    /// The callee's SDP in `resp` for a relayed call: leg B's audio is recorded and the relay
    /// asked to take it. `true` when the relay was asked.
    pub(super) fn callee_media(&mut self, id: u64, resp: &Message) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let Some(relay) = call.relay.as_mut() else {
            return false;
        };
        let Some(b) = sdp::audio(resp.body()) else {
            return false;
        };
        if call.sdp[1].as_ref().is_some_and(|(old, _)| *old == b) {
            return false;
        }
        // Leg B is secure when the callee answered our SRTP offer with its key; a plain
        // answer makes it a plain leg (we send it no key from then on).
        let srtp = srtp::leg_keys(resp.body(), relay[1].crypto.as_ref());
        if srtp.is_none() {
            relay[1].crypto = None;
        }
        call.sdp[1] = Some((b, resp.body().clone()));
        call.record.codecs[1] = Some(b.codec.to_string());
        self.media
            .push_back(MediaAction::Answer { call: id, b, srtp });
        true
    }
}
