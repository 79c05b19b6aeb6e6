//! Responses built by the endpoint itself, and where responses go (RFC 3261 §18.2.2, RFC 3581).

use std::net::{IpAddr, SocketAddr};

use crate::uri::Host;
use crate::{HeaderName, Message, ResponseBuilder};

/// The top Via of `request` with `received` (when the sent-by host differs from the source
/// address) and a filled-in `rport` (when the client asked for it), as RFC 3261 §18.2.1 and
/// RFC 3581 §4 require of a server.
pub(crate) fn stamped_top_via(request: &Message, source: SocketAddr) -> Option<String> {
    let raw = unfold(request.values(HeaderName::Via).next()?);
    let via = request.via().ok()?;
    let mut out = String::with_capacity(raw.len() + 32);
    // Only the first value of a comma-separated line is the top Via.
    let first_len = first_value_len(&raw);
    let (top, rest) = raw.split_at(first_len);
    let same_host = match via.host() {
        Host::Ipv4(a) => IpAddr::V4(a) == source.ip(),
        Host::Ipv6(a) => IpAddr::V6(a) == source.ip(),
        Host::Name(_) => false,
    };
    let wants_rport = via.rport() == Some(None);
    let mut rport_done = false;
    for (i, part) in top.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        if i > 0 && wants_rport && part.trim().eq_ignore_ascii_case("rport") {
            out.push_str(&format!("rport={}", source.port()));
            rport_done = true;
        } else {
            out.push_str(part);
        }
    }
    if wants_rport && !rport_done {
        out.push_str(&format!(";rport={}", source.port()));
    }
    if (!same_host || wants_rport) && via.received().is_none() {
        out.push_str(&format!(";received={}", source.ip()));
    }
    out.push_str(rest);
    Some(out)
}

/// A header value with line folding (CRLF + whitespace, RFC 3261 §7.3.1) turned into spaces,
/// as a builder takes single-line values.
pub(crate) fn unfold(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains(['\r', '\n']) {
        v.replace(['\r', '\n'], " ").into()
    } else {
        v.into()
    }
}

fn first_value_len(raw: &str) -> usize {
    let mut quoted = false;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return i,
            _ => {}
        }
    }
    raw.len()
}

/// Where a response to `request` received from `source` goes (§18.2.2 for unreliable
/// transports; RFC 3581 §4 with `rport`). Reliable transports answer on the connection, which
/// the driver finds by `source`.
pub(crate) fn response_destination(
    request: &Message,
    source: SocketAddr,
    reliable: bool,
) -> SocketAddr {
    if reliable {
        return source;
    }
    match request.via() {
        Ok(via) if via.rport().is_none() => {
            SocketAddr::new(source.ip(), via.port().unwrap_or(5060))
        }
        _ => source,
    }
}

/// A response to `request`: every Via (the top one stamped), From, To (with `to_tag` added
/// when it has none), Call-ID and CSeq copied, plus `extra` headers. When the request's own
/// headers do not validate (a `400`), they are copied as they are (§8.2.6.2).
pub(crate) fn build(
    request: &Message,
    source: SocketAddr,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(HeaderName, String)],
    body: Option<(&str, &bytes::Bytes)>,
) -> Option<Message> {
    let reason: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let status = (code, reason.as_str());
    assemble(request, source, status, to_tag, extra, body, true)
        .or_else(|| assemble(request, source, status, None, extra, body, false))
}

fn assemble(
    request: &Message,
    source: SocketAddr,
    (code, reason): (u16, &str),
    to_tag: Option<&str>,
    extra: &[(HeaderName, String)],
    body: Option<(&str, &bytes::Bytes)>,
    checked: bool,
) -> Option<Message> {
    let mut b = ResponseBuilder::new(code, reason);
    let top = stamped_top_via(request, source);
    for (i, v) in request.values(HeaderName::Via).enumerate() {
        match (&top, i) {
            (Some(t), 0) => b = b.header(HeaderName::Via, t),
            _ => b = b.header(HeaderName::Via, &unfold(v)),
        }
    }
    for v in request.values(HeaderName::From) {
        b = b.header(HeaderName::From, &unfold(v));
    }
    let has_tag = request.to().is_ok_and(|t| t.tag().is_some());
    for v in request.values(HeaderName::To) {
        match to_tag {
            Some(tag) if !has_tag && code > 100 => {
                b = b.header(HeaderName::To, &format!("{};tag={tag}", unfold(v)));
            }
            _ => b = b.header(HeaderName::To, &unfold(v)),
        }
    }
    for name in [HeaderName::CallId, HeaderName::CSeq] {
        for v in request.values(name) {
            b = b.header(name, &unfold(v));
        }
    }
    for (name, value) in extra {
        b = b.header(*name, value);
    }
    if let Some((content_type, bytes)) = body {
        b = b.body(content_type, bytes.clone());
    }
    if checked {
        b.build()
    } else {
        b.build_unchecked()
    }
    .ok()
}
