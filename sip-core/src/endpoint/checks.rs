//! The UAS request checks of RFC 3261 §8.2 that need no state: each failing check names the
//! response the endpoint sends on its own.

use crate::header::Accept;
use crate::{HeaderName, Message, Method};

use super::Config;

/// A request the endpoint answers itself.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) code: u16,
    pub(crate) reason: String,
    pub(crate) extra: Vec<(HeaderName, String)>,
}

impl Rejection {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            extra: Vec::new(),
        }
    }

    fn with(mut self, name: HeaderName, value: String) -> Self {
        self.extra.push((name, value));
        self
    }
}

/// Runs the stateless checks in the order of §8.2: mandatory headers, method, URI scheme,
/// Max-Forwards, extensions, content.
pub(crate) fn check(config: &Config, request: &Message) -> Option<Rejection> {
    let method = request.method()?;
    if let Err(e) = request.check_mandatory() {
        return Some(Rejection::new(400, e.to_string()));
    }
    // RFC 4475 §3.3.9: conflicting Content-Length values leave the body undefined.
    if request.values(HeaderName::ContentLength).nth(1).is_some() {
        return Some(Rejection::new(400, "Multiple Content-Length values"));
    }
    if !config.allows(method) {
        // §8.2.1: 405 with Allow.
        return Some(
            Rejection::new(405, "Method Not Allowed")
                .with(HeaderName::Allow, config.allow_header()),
        );
    }
    // §8.2.2.1: a scheme we do not understand is 416 (RFC 4475 §3.3.2, §3.3.3).
    let scheme_ok = match request.request_uri() {
        Some(crate::uri::Uri::Sip(_)) => true,
        Some(crate::uri::Uri::Tel(_)) => config.accept_tel,
        _ => false,
    };
    if !scheme_ok {
        return Some(Rejection::new(416, "Unsupported URI Scheme"));
    }
    // RFC 3261 §16.3 step 3 for an element that forwards (a B2BUA does): 483 on zero, except
    // OPTIONS, which the element answers itself (RFC 4475 §3.3.11).
    if method != Method::Options && request.max_forwards().ok().flatten() == Some(0) {
        return Some(Rejection::new(483, "Too Many Hops"));
    }
    // §8.2.2.3: unknown Require option tags → 420 listing them (RFC 4475 §3.3.5).
    let supported: Vec<&str> = config.supported.iter().map(String::as_str).collect();
    if method != Method::Cancel {
        let unsupported = request.unsupported_requirements(&supported);
        if !unsupported.is_empty() {
            return Some(
                Rejection::new(420, "Bad Extension")
                    .with(HeaderName::Unsupported, unsupported.join(", ")),
            );
        }
    }
    check_content(config, request, method)
}

/// §8.2.3: a body of a type we do not accept is 415 with Accept (RFC 4475 §3.3.6); an INVITE
/// whose Accept excludes what we would answer with is 406 (RFC 4475 §3.3.15).
fn check_content(config: &Config, request: &Message, method: Method<'_>) -> Option<Rejection> {
    if !request.body().is_empty() {
        let accepted = match request.content_type() {
            Ok(Some(ct)) => config.accept.iter().any(|a| ct.0.is(a)),
            _ => false,
        };
        if !accepted {
            return Some(
                Rejection::new(415, "Unsupported Media Type")
                    .with(HeaderName::Accept, config.accept.join(", ")),
            );
        }
    }
    if method == Method::Invite && request.contains(HeaderName::Accept) {
        let mut any = false;
        let ok = request.header_all::<Accept<'_>>().any(|a| {
            any = true;
            a.is_ok_and(|a| a.matches("application/sdp"))
        });
        if any && !ok {
            return Some(Rejection::new(406, "Not Acceptable").with(
                HeaderName::Warning,
                "399 - \"only application/sdp\"".to_owned(),
            ));
        }
    }
    None
}
