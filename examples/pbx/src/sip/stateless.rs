//! What the PBX answers while sip-core's transaction layer is not wired in (TEMPORARY):
//! stateless responses that the message layer alone can give correctly.
//!
//! | request | answer |
//! |---|---|
//! | malformed | the parser's suggested `400`/`505`/`513` (responses are never answered) |
//! | `ACK` | nothing |
//! | unsupported URI scheme | `416` (RFC 3261 §8.2.2.1) |
//! | `Require` with an unknown option tag | `420` with `Unsupported` (§8.2.2.3) |
//! | `OPTIONS` | `200` with `Allow` and `Accept` (§11.2) |
//! | `CANCEL` | `481`: no transaction exists to cancel (§9.2) |
//! | a method the PBX will handle (REGISTER, INVITE, …) | `503` with `Retry-After` |
//! | any other method | `501` with `Allow` (§8.2.1) |
//!
//! Responses carry `received`/`rport` on the top Via (RFC 3261 §18.2.1, RFC 3581) and go
//! back to the source address (UDP) or on the same connection (TCP/TLS).

use std::net::SocketAddr;

use sip_core::{HeaderName, Message, Method, ParseError, ResponseBuilder};

/// Methods the PBX answers today.
pub const ALLOW: &str = "OPTIONS, ACK, CANCEL";

/// Methods the call handling will serve: answered `503` until then.
const PLANNED: [Method<'static>; 11] = [
    Method::Register,
    Method::Invite,
    Method::Bye,
    Method::Update,
    Method::Refer,
    Method::Info,
    Method::Prack,
    Method::Subscribe,
    Method::Notify,
    Method::Message,
    Method::Publish,
];

/// Seconds a `503` asks the client to wait.
pub const RETRY_AFTER_SECS: u32 = 60;

/// Static facts the answers carry.
#[derive(Debug, Clone)]
pub struct Answerer {
    /// `Server` header value.
    pub server: String,
}

/// Adds `received` (and `rport`, when asked for) to one Via value (its first element).
pub fn stamp_via(value: &str, from: SocketAddr) -> String {
    let (first, rest) = match value.find(',') {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    let mut params: Vec<&str> = first.split(';').collect();
    let head = params.remove(0);
    let asked_rport = params
        .iter()
        .any(|p| p.trim().eq_ignore_ascii_case("rport"));
    params.retain(|p| {
        let name = p.split('=').next().unwrap_or("").trim();
        !name.eq_ignore_ascii_case("received") && !name.eq_ignore_ascii_case("rport")
    });
    let mut out = head.to_owned();
    for p in params {
        out.push(';');
        out.push_str(p);
    }
    out.push_str(&format!(";received={}", from.ip()));
    if asked_rport {
        out.push_str(&format!(";rport={}", from.port()));
    }
    out.push_str(rest);
    out
}

/// A response to `req` (RFC 3261 §8.2.6.2) with the top Via stamped.
fn reply(req: &Message, from: SocketAddr, code: u16, reason: &str) -> ResponseBuilder {
    let mut b = ResponseBuilder::new(code, reason);
    for (i, v) in req.values(HeaderName::Via).enumerate() {
        let v = if i == 0 {
            stamp_via(v, from)
        } else {
            v.to_owned()
        };
        b = b.header(HeaderName::Via, &v);
    }
    for v in req.values(HeaderName::From) {
        b = b.header(HeaderName::From, v);
    }
    let tag = to_tag(req);
    for v in req.values(HeaderName::To) {
        let v = match req.to() {
            Ok(t) if t.tag().is_none() && code > 100 => format!("{v};tag={tag}"),
            _ => v.to_owned(),
        };
        b = b.header(HeaderName::To, &v);
    }
    for name in [HeaderName::CallId, HeaderName::CSeq] {
        for v in req.values(name) {
            b = b.header(name, v);
        }
    }
    b
}

/// A To tag derived from the request, so a retransmission gets the same response.
fn to_tag(req: &Message) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    req.values(HeaderName::CallId).for_each(|v| v.hash(&mut h));
    req.values(HeaderName::From).for_each(|v| v.hash(&mut h));
    req.via().ok().and_then(|v| v.branch()).hash(&mut h);
    format!("{:016x}", h.finish())
}

impl Answerer {
    fn finish(&self, b: ResponseBuilder) -> Option<Message> {
        b.header(HeaderName::Server, &self.server).build().ok()
    }

    /// The answer to a request that parsed, if any.
    pub fn answer(&self, req: &Message, from: SocketAddr) -> Option<Message> {
        let method = req.method()?;
        if method == Method::Ack {
            return None;
        }
        if req.check_mandatory().is_err() {
            let b = reply(req, from, 400, "Missing Mandatory Header");
            return b.build_unchecked().ok();
        }
        if !req.request_uri().is_some_and(|u| {
            matches!(
                u.scheme().to_ascii_lowercase().as_str(),
                "sip" | "sips" | "tel"
            )
        }) {
            return self.finish(reply(req, from, 416, "Unsupported URI Scheme"));
        }
        if method != Method::Cancel {
            let unsupported = req.unsupported_requirements(&[]);
            if !unsupported.is_empty() {
                let b = reply(req, from, 420, "Bad Extension")
                    .header(HeaderName::Unsupported, &unsupported.join(", "));
                return self.finish(b);
            }
        }
        let b = match method {
            Method::Options => reply(req, from, 200, "OK")
                .header(HeaderName::Allow, ALLOW)
                .header(HeaderName::Accept, "application/sdp"),
            Method::Cancel => reply(req, from, 481, "Call/Transaction Does Not Exist"),
            m if PLANNED.contains(&m) => reply(req, from, 503, "Service Unavailable")
                .header(HeaderName::RetryAfter, &RETRY_AFTER_SECS.to_string()),
            _ => reply(req, from, 501, "Not Implemented").header(HeaderName::Allow, ALLOW),
        };
        self.finish(b)
    }

    /// The answer to a request that failed to parse, when it could be framed.
    pub fn answer_error(&self, err: &ParseError, from: SocketAddr) -> Option<Message> {
        let req = err.message()?;
        req.method()?;
        if req.method() == Some(Method::Ack) {
            return None;
        }
        let reason = err.to_string().replace(['\r', '\n'], " ");
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        reply(req, from, err.status_code(), &reason)
            .build_unchecked()
            .ok()
    }
}
