//! URIs: `sip`, `sips`, `tel` and any other absolute URI carried opaquely.
//!
//! Parsing borrows from the input; nothing is unescaped until asked. Equality of SIP URIs
//! follows RFC 3261 §19.1.4 ([`Uri::equivalent`]), of `tel` URIs RFC 3966 §4.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::cache::{get, span_in};
use crate::error::UriError;
use crate::message::Span;
pub(crate) mod scan;

use crate::text::{
    check_escaped, class_table, find_byte, hex_value, is_reserved, is_unreserved, split_byte,
    unescape,
};

/// A parsed URI borrowing from the message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Uri<'a> {
    /// `sip:` or `sips:` (RFC 3261 §19.1).
    Sip(SipUri<'a>),
    /// `tel:` (RFC 3966).
    Tel(TelUri<'a>),
    /// Any other `scheme:...` (RFC 3986 absolute URI), carried opaquely.
    Absolute(AbsoluteUri<'a>),
}

/// The host of a SIP URI or Via.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name, as written.
    Name(&'a str),
    /// A dotted IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in `[]` in URIs and Via sent-by).
    Ipv6(Ipv6Addr),
}

impl Host<'_> {
    /// Parses a host: `hostname`, `IPv4address` or `[IPv6address]`; with `bare_v6`, an
    /// unbracketed IPv6 address is accepted too (Via `received`, RFC 5118 §4.5).
    pub fn parse(s: &str, bare_v6: bool) -> Result<Host<'_>, UriError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(UriError::Ipv6)?;
            return parse_ipv6(inner).map(Host::Ipv6);
        }
        if bare_v6 && s.contains(':') {
            return parse_ipv6(s).map(Host::Ipv6);
        }
        if let Some(v4) = parse_ipv4(s) {
            return Ok(Host::Ipv4(v4));
        }
        if is_hostname(s) {
            Ok(Host::Name(s))
        } else {
            Err(UriError::Host)
        }
    }

    /// Host equality: names case-insensitively, addresses by value.
    pub fn equivalent(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Name(a), Host::Name(b)) => a
                .trim_end_matches('.')
                .eq_ignore_ascii_case(b.trim_end_matches('.')),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// Dotted-quad IPv4 (`1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`), each part ≤ 255.
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    if !s.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let mut parts = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        parts[n] = part.parse().ok()?;
        n += 1;
    }
    (n == 4).then(|| Ipv4Addr::from(parts))
}

/// IPv6, also accepting the RFC 3261 ABNF bug `hexpart "::" ":" IPv4address`
/// (three colons before an embedded IPv4 address, RFC 5118 §4.10).
fn parse_ipv6(s: &str) -> Result<Ipv6Addr, UriError> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return Err(UriError::Ipv6);
    }
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Ok(a);
    }
    if let Some(i) = s.find(":::") {
        let tail = s.get(i + 3..).unwrap_or("");
        if parse_ipv4(tail).is_some() {
            let fixed = format!("{}::{}", s.get(..i).unwrap_or(""), tail);
            return fixed.parse().map_err(|_| UriError::Ipv6);
        }
    }
    Err(UriError::Ipv6)
}

/// Byte classes of a host name: 0 not allowed, then ALPHA, DIGIT, `-`, `.`.
const HOST_ALPHA: u8 = 1;
const HOST_DASH: u8 = 3;
const HOST_DOT: u8 = 4;

const fn host_class(b: u8) -> u8 {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => HOST_ALPHA,
        b'0'..=b'9' => 2,
        b'-' => HOST_DASH,
        b'.' => HOST_DOT,
        _ => 0,
    }
}

const HOST_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = host_class(i as u8);
        i += 1;
    }
    t
};

/// RFC 3261 `hostname = *( domainlabel "." ) toplabel [ "." ]`, at most 255 octets
/// (RFC 1035 §2.3.4); one pass over the bytes with a class table.
fn is_hostname(s: &str) -> bool {
    let b = s.as_bytes();
    let b = b.strip_suffix(b".").unwrap_or(b);
    if b.is_empty() || b.len() > 255 {
        return false;
    }
    let mut prev = HOST_DOT;
    let mut label_start = 0;
    for (i, &c) in b.iter().enumerate() {
        let k = HOST_CLASS[c as usize];
        if k == 0 {
            return false;
        }
        if k >= HOST_DASH {
            // No label starts with `-` or is empty; none ends in `-`.
            if prev == HOST_DOT || (k == HOST_DOT && prev == HOST_DASH) {
                return false;
            }
            if k == HOST_DOT {
                label_start = i + 1;
            }
        }
        prev = k;
    }
    // toplabel ends alphanumeric and starts with ALPHA.
    prev != HOST_DASH
        && b.get(label_start)
            .is_some_and(|&c| HOST_CLASS[c as usize] == HOST_ALPHA)
}

/// Parses `"[" host "]" / host` followed by an optional `":" port`.
/// Returns the host, the port and the host as written.
fn parse_hostport(s: &str) -> Result<(Host<'_>, Option<u16>, &str), UriError> {
    let (host, port) = if s.starts_with('[') {
        let end = find_byte(s, b']').ok_or(UriError::Ipv6)?;
        let (h, rest) = s.split_at(end + 1);
        match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return Err(UriError::Host),
        }
    } else {
        match split_byte(s, b':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = port.map(parse_port).transpose()?;
    Ok((Host::parse(host, false)?, port, host))
}

pub(crate) fn parse_port(p: &str) -> Result<u16, UriError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UriError::Port);
    }
    p.parse().map_err(|_| UriError::Port)
}

const USER_CHAR: [bool; 256] = class_table!(user_char_class);

const fn is_user_char(b: u8) -> bool {
    USER_CHAR[b as usize]
}

const fn user_char_class(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}

const PASSWORD_CHAR: [bool; 256] = class_table!(password_char_class);

const fn is_password_char(b: u8) -> bool {
    PASSWORD_CHAR[b as usize]
}

const fn password_char_class(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',')
}

const PARAM_CHAR: [bool; 256] = class_table!(param_char_class);

const fn is_param_char(b: u8) -> bool {
    PARAM_CHAR[b as usize]
}

const fn param_char_class(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

const HEADER_CHAR: [bool; 256] = class_table!(header_char_class);

const fn is_header_char(b: u8) -> bool {
    HEADER_CHAR[b as usize]
}

const fn header_char_class(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$')
}

const URIC: [bool; 256] = class_table!(uric_class);

const fn is_uric(b: u8) -> bool {
    URIC[b as usize]
}

const fn uric_class(b: u8) -> bool {
    is_unreserved(b) || is_reserved(b) || matches!(b, b'[' | b']' | b'#')
}

/// A `sip:` or `sips:` URI (at most 65535 bytes).
///
/// It keeps its text and where each part lies in it, so it is small and cheap to move.
#[derive(Clone, PartialEq, Eq)]
pub struct SipUri<'a> {
    raw: &'a str,
    parts: SipParts,
}

/// Where the parts of a [`SipUri`] lie in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SipParts {
    secure: bool,
    user: Option<Part>,
    password: Option<Part>,
    host: HostKind,
    host_raw: Part,
    port: Option<u16>,
    params: Part,
    headers: Option<Part>,
}

/// A range of a URI's text, as offsets from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Part {
    start: u16,
    end: u16,
}

impl Part {
    /// `start..end`, when both fit the 16-bit offsets. Every empty range is `0..0`, so
    /// equal URIs have equal parts.
    fn new(start: usize, end: usize) -> Option<Self> {
        if start >= end {
            return Some(Self::default());
        }
        Some(Self {
            start: u16::try_from(start).ok()?,
            end: u16::try_from(end).ok()?,
        })
    }

    /// The range of `sub` within `raw` (`sub` must be a sub-slice of `raw`).
    fn within(raw: &str, sub: &str) -> Option<Self> {
        if sub.is_empty() {
            // An empty slice may be a literal `""`.
            return Some(Self::default());
        }
        let start = (sub.as_ptr() as usize).checked_sub(raw.as_ptr() as usize)?;
        let end = start.checked_add(sub.len())?;
        if end > raw.len() {
            return None;
        }
        Self::new(start, end)
    }

    fn of(self, raw: &str) -> &str {
        raw.get(usize::from(self.start)..usize::from(self.end))
            .unwrap_or("")
    }
}

/// What kind of host a [`SipUri`] has; a name is its `host_raw` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    Name,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl From<Host<'_>> for HostKind {
    fn from(h: Host<'_>) -> Self {
        match h {
            Host::Name(_) => Self::Name,
            Host::Ipv4(a) => Self::V4(a),
            Host::Ipv6(a) => Self::V6(a),
        }
    }
}

impl fmt::Debug for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipUri")
            .field("raw", &self.raw)
            .field("secure", &self.parts.secure)
            .field("user", &self.user())
            .field("password", &self.password())
            .field("host", &self.host())
            .field("host_raw", &self.host_str())
            .field("port", &self.parts.port)
            .field("params", &self.params())
            .field("headers", &self.headers())
            .finish()
    }
}

impl<'a> SipUri<'a> {
    /// Parses the part after `sip:`/`sips:`: the common shape in one pass, the rest by
    /// [`SipUri::parse_body_full`].
    pub(crate) fn parse_body(raw: &'a str, body: &'a str, secure: bool) -> Result<Self, UriError> {
        if raw.len() > usize::from(u16::MAX) {
            return Err(UriError::TooLong);
        }
        match scan::sip_body(raw, body, secure) {
            Some(u) => Ok(u),
            None => Self::parse_body_full(raw, body, secure),
        }
    }

    pub(crate) const fn from_parts(raw: &'a str, parts: SipParts) -> Self {
        Self { raw, parts }
    }

    /// Parses the part after `sip:`/`sips:`, piece by piece.
    fn parse_body_full(raw: &'a str, body: &'a str, secure: bool) -> Result<Self, UriError> {
        if body.is_empty() {
            return Err(UriError::Empty);
        }
        let (userinfo, rest) = match find_byte(body, b'@') {
            Some(i) => (body.get(..i), body.get(i + 1..).unwrap_or("")),
            None => (None, body),
        };
        let (user, password) = match userinfo {
            Some(ui) => {
                let (u, p) = match split_byte(ui, b':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                if u.is_empty() {
                    return Err(UriError::User);
                }
                check_escaped(u, is_user_char).map_err(|_| UriError::User)?;
                if let Some(p) = p {
                    check_escaped(p, is_password_char).map_err(|_| UriError::Password)?;
                }
                (Some(u), p)
            }
            None => (None, None),
        };
        // One pass for the first `?` and, before it, the first `;`.
        let (mut semi, mut question) = (None, None);
        for (i, &c) in rest.as_bytes().iter().enumerate() {
            if c == b';' && semi.is_none() {
                semi = Some(i);
            } else if c == b'?' {
                question = Some(i);
                break;
            }
        }
        let (before_headers, headers) = match question {
            Some(q) => (rest.get(..q).unwrap_or(""), rest.get(q + 1..)),
            None => (rest, None),
        };
        let (hostport, params) = match semi {
            Some(i) => (
                before_headers.get(..i).unwrap_or(""),
                before_headers.get(i..).unwrap_or(""),
            ),
            None => (before_headers, ""),
        };
        let (host, port, host_raw) = parse_hostport(hostport)?;
        let params = Params::parse_uri(params)?;
        if let Some(h) = headers {
            if h.is_empty() {
                return Err(UriError::Headers);
            }
            for pair in h.split('&') {
                let (n, v) = pair.split_once('=').ok_or(UriError::Headers)?;
                if n.is_empty() {
                    return Err(UriError::Headers);
                }
                check_escaped(n, is_header_char).map_err(|_| UriError::Headers)?;
                check_escaped(v, is_header_char).map_err(|_| UriError::Headers)?;
            }
        }
        let at = |sub: &str| Part::within(raw, sub).ok_or(UriError::TooLong);
        let opt = |sub: Option<&str>| sub.map(at).transpose();
        let parts = SipParts {
            secure,
            user: opt(user)?,
            password: opt(password)?,
            host: host.into(),
            host_raw: at(host_raw)?,
            port,
            params: at(params.raw)?,
            headers: opt(headers)?,
        };
        Ok(Self { raw, parts })
    }

    /// Whether the scheme is `sips`.
    pub const fn is_secure(&self) -> bool {
        self.parts.secure
    }

    /// The user part, still escaped (e.g. `null-%00-null`).
    pub fn user(&self) -> Option<&'a str> {
        self.parts.user.map(|p| p.of(self.raw))
    }

    /// The user part with `%HH` escapes decoded (bytes: `%00` is a legal user octet).
    pub fn user_unescaped(&self) -> Option<Cow<'a, [u8]>> {
        self.user().map(unescape)
    }

    /// The password, still escaped.
    pub fn password(&self) -> Option<&'a str> {
        self.parts.password.map(|p| p.of(self.raw))
    }

    /// The host.
    pub fn host(&self) -> Host<'a> {
        match self.parts.host {
            HostKind::Name => Host::Name(self.host_str()),
            HostKind::V4(a) => Host::Ipv4(a),
            HostKind::V6(a) => Host::Ipv6(a),
        }
    }

    /// The host exactly as written (brackets included for IPv6).
    pub fn host_str(&self) -> &'a str {
        self.parts.host_raw.of(self.raw)
    }

    /// The explicit port, if any.
    pub const fn port(&self) -> Option<u16> {
        self.parts.port
    }

    /// The URI parameters (`;transport=tcp;lr`).
    pub fn params(&self) -> Params<'a> {
        Params {
            raw: self.parts.params.of(self.raw),
        }
    }

    /// The raw `?headers` part (without `?`), if any.
    pub fn headers(&self) -> Option<&'a str> {
        self.parts.headers.map(|p| p.of(self.raw))
    }

    /// Iterates over `?headers` as (name, value), both still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.headers()
            .into_iter()
            .flat_map(|h| h.split('&'))
            .filter_map(|p| p.split_once('='))
    }

    /// The URI as written.
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }

    /// RFC 3261 §19.1.4 equality.
    pub fn equivalent(&self, other: &SipUri<'_>) -> bool {
        if self.parts.secure != other.parts.secure
            || self.parts.port != other.parts.port
            || !self.host().equivalent(&other.host())
            || self.user().map(unescape) != other.user().map(unescape)
            || self.password().map(unescape) != other.password().map(unescape)
        {
            return false;
        }
        // transport, user, ttl, method, maddr: present in one means present and equal in both.
        for name in ["transport", "user", "ttl", "method", "maddr"] {
            let a = self.params().find_unescaped(name);
            let b = other.params().find_unescaped(name);
            match (a, b) {
                (None, None) => {}
                (Some(a), Some(b)) if eq_ci_bytes(&a, &b) => {}
                _ => return false,
            }
        }
        // Any other parameter appearing in both must match.
        // (First occurrence of a repeated name, so equality stays reflexive.)
        let (params, other_params) = (self.params(), other.params());
        for (name, _) in params.iter() {
            let n = unescape(name);
            if let (Some(mine), Some(theirs)) = (
                params.find_unescaped_bytes(&n),
                other_params.find_unescaped_bytes(&n),
            ) && !eq_ci_bytes(&mine, &theirs)
            {
                return false;
            }
        }
        // Headers are never ignored: same set on both sides.
        let mine: Vec<_> = self.header_pairs().collect();
        let theirs: Vec<_> = other.header_pairs().collect();
        mine.len() == theirs.len()
            && mine.iter().all(|(n, v)| {
                theirs.iter().any(|(n2, v2)| {
                    eq_ci_bytes(&unescape(n), &unescape(n2))
                        && eq_ci_bytes(&unescape(v), &unescape(v2))
                })
            })
    }
}

/// A parsed [`SipUri`] as a range of the text it was parsed from (see `crate::cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SipSpans {
    raw: Span,
    parts: SipParts,
}

impl SipSpans {
    pub(crate) fn capture(base: &str, u: &SipUri<'_>) -> Option<Self> {
        Some(Self {
            raw: span_in(base, u.raw)?,
            parts: u.parts,
        })
    }

    pub(crate) fn rebuild(self, base: &str) -> Option<SipUri<'_>> {
        Some(SipUri {
            raw: get(base, self.raw)?,
            parts: self.parts,
        })
    }
}

fn eq_ci_bytes(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `;name[=value]` parameters of a URI, borrowed and still escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    fn parse_uri(raw: &'a str) -> Result<Self, UriError> {
        if raw.is_empty() {
            return Ok(Self { raw });
        }
        let mut rest = raw.strip_prefix(';').ok_or(UriError::Param)?;
        loop {
            let end = find_byte(rest, b';');
            let p = rest.get(..end.unwrap_or(rest.len())).unwrap_or("");
            let (n, v) = match split_byte(p, b'=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            };
            if n.is_empty() || v.is_some_and(str::is_empty) {
                return Err(UriError::Param);
            }
            check_escaped(n, is_param_char).map_err(|_| UriError::Param)?;
            if let Some(v) = v {
                check_escaped(v, is_param_char).map_err(|_| UriError::Param)?;
            }
            match end {
                Some(e) => rest = rest.get(e + 1..).unwrap_or(""),
                None => break,
            }
        }
        Ok(Self { raw })
    }

    /// The raw text, starting with `;` (empty when there are none).
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Whether there are no parameters.
    pub const fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Iterates over (name, value), still escaped.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.raw
            .split(';')
            .skip(1)
            .map(|p| match split_byte(p, b'=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            })
    }

    /// Looks a parameter up by name (ASCII case-insensitive, as written):
    /// `None` if absent, `Some(None)` for a flag such as `lr`.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a parameter is present (escaped names such as `%6C%72` for `lr` match too).
    pub fn contains(&self, name: &str) -> bool {
        self.find_unescaped(name).is_some()
    }

    fn find_unescaped(&self, name: &str) -> Option<Vec<u8>> {
        self.find_unescaped_bytes(name.as_bytes())
    }

    fn find_unescaped_bytes(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.iter()
            .find(|(n, _)| unescape(n).eq_ignore_ascii_case(name))
            .map(|(_, v)| v.map(|v| unescape(v).into_owned()).unwrap_or_default())
    }
}

/// A `tel:` URI (RFC 3966).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri<'a> {
    raw: &'a str,
    number: &'a str,
    params: Params<'a>,
}

impl<'a> TelUri<'a> {
    fn parse_body(raw: &'a str, body: &'a str) -> Result<Self, UriError> {
        let (number, params) = match find_byte(body, b';') {
            Some(i) => (body.get(..i).unwrap_or(""), body.get(i..).unwrap_or("")),
            None => (body, ""),
        };
        let digits = number.strip_prefix('+').unwrap_or(number);
        let valid =
            |b: u8| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#' | b'-' | b'.' | b'(' | b')');
        if digits.is_empty()
            || !digits.bytes().all(valid)
            || !digits
                .bytes()
                .any(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#')
            || (number.starts_with('+') && !digits.bytes().any(|b| b.is_ascii_digit()))
        {
            return Err(UriError::TelNumber);
        }
        let params = Params::parse_uri(params)?;
        if !number.starts_with('+') && params.get("phone-context").is_none() {
            return Err(UriError::TelNumber); // local-number needs a phone-context
        }
        Ok(Self {
            raw,
            number,
            params,
        })
    }

    /// The number as written, with visual separators.
    pub const fn number(&self) -> &'a str {
        self.number
    }

    /// Whether the number is global (`+…`).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The digits only (visual separators `-.()` removed).
    pub fn digits(&self) -> String {
        self.number
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
            .collect()
    }

    /// The parameters.
    pub const fn params(&self) -> &Params<'a> {
        &self.params
    }

    /// The URI as written.
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }

    /// RFC 3966 §4 equality: same number ignoring visual separators, same parameter set.
    pub fn equivalent(&self, other: &TelUri<'_>) -> bool {
        if !self.digits().eq_ignore_ascii_case(&other.digits()) {
            return false;
        }
        let a: Vec<_> = self.params.iter().collect();
        let b: Vec<_> = other.params.iter().collect();
        a.len() == b.len()
            && a.iter().all(|(n, v)| {
                b.iter().any(|(n2, v2)| {
                    n.eq_ignore_ascii_case(n2)
                        && eq_ci_bytes(
                            &v.map(unescape).unwrap_or_default(),
                            &v2.map(unescape).unwrap_or_default(),
                        )
                })
            })
    }
}

/// Any other absolute URI (`http:`, `urn:`, `isbn:` …), kept opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsoluteUri<'a> {
    raw: &'a str,
    scheme: &'a str,
}

impl<'a> AbsoluteUri<'a> {
    /// The scheme as written.
    pub const fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// What follows `scheme:`.
    pub fn body(&self) -> &'a str {
        self.raw.get(self.scheme.len() + 1..).unwrap_or("")
    }

    /// The URI as written.
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }
}

impl<'a> Uri<'a> {
    /// Parses a URI (no surrounding whitespace or brackets).
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        // The common schemes as written in lower case skip the generic scheme scan.
        if let Some(body) = s.strip_prefix("sip:") {
            return SipUri::parse_body(s, body, false).map(Uri::Sip);
        }
        if let Some(body) = s.strip_prefix("sips:") {
            return SipUri::parse_body(s, body, true).map(Uri::Sip);
        }
        let colon = find_byte(s, b':').ok_or(UriError::Scheme)?;
        let scheme = s.get(..colon).ok_or(UriError::Scheme)?;
        let body = s.get(colon + 1..).unwrap_or("");
        let sb = scheme.as_bytes();
        if !sb.first().is_some_and(u8::is_ascii_alphabetic)
            || !sb
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(UriError::Scheme);
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_body(s, body, false).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_body(s, body, true).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_body(s, body).map(Uri::Tel)
        } else {
            if body.is_empty() {
                return Err(UriError::Empty);
            }
            check_escaped(body, is_uric).map_err(|_| UriError::Character)?;
            Ok(Uri::Absolute(AbsoluteUri { raw: s, scheme }))
        }
    }

    /// The scheme as written (`sip`, `SIPS`, `tel`, `http` …).
    pub fn scheme(&self) -> &'a str {
        let raw = self.as_str();
        raw.split_once(':').map_or(raw, |(s, _)| s)
    }

    /// The URI as written.
    pub const fn as_str(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.raw,
            Uri::Tel(u) => u.raw,
            Uri::Absolute(u) => u.raw,
        }
    }

    /// The SIP/SIPS URI, if that is the scheme.
    pub const fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// Whether the scheme is `sip` or `sips` (a UAS answers `416` otherwise, RFC 3261 §8.2.2.1).
    pub const fn is_sip(&self) -> bool {
        matches!(self, Uri::Sip(_))
    }

    /// URI equivalence: RFC 3261 §19.1.4 for SIP, RFC 3966 §4 for tel, otherwise scheme
    /// case-insensitively and the rest after decoding unreserved escapes.
    pub fn equivalent(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => a.equivalent(b),
            (Uri::Absolute(a), Uri::Absolute(b)) => {
                a.scheme.eq_ignore_ascii_case(b.scheme)
                    && normalize_opaque(a.body()) == normalize_opaque(b.body())
            }
            _ => false,
        }
    }
}

/// Decodes escapes of unreserved characters only (RFC 3986 §6.2.2.2).
fn normalize_opaque(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_value),
                b.get(i + 2).copied().and_then(hex_value),
            )
        {
            let c = h << 4 | l;
            if is_unreserved(c) {
                out.push(c);
            } else {
                out.extend_from_slice(&[
                    b'%',
                    b[i + 1].to_ascii_uppercase(),
                    b[i + 2].to_ascii_uppercase(),
                ]);
            }
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri<'_> {
        match Uri::parse(s) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn sip_uri_length_limit() {
        // Parts are 16-bit offsets: 65535 bytes parse, longer is a typed error, never a panic.
        let head = "sip:u@h.example.com;x=";
        let at_limit = format!("{head}{}", "a".repeat(65535 - head.len()));
        let u = sip(&at_limit);
        assert_eq!(
            u.params().get("x").flatten().map(str::len),
            Some(65535 - head.len())
        );
        assert_eq!(u.host_str(), "h.example.com");
        let over = format!("{at_limit}a");
        assert_eq!(Uri::parse(&over), Err(UriError::TooLong));
        let escaped = format!("sip:%61@h;x={}", "a".repeat(70000));
        assert_eq!(Uri::parse(&escaped), Err(UriError::TooLong));
    }

    fn eq(a: &str, b: &str) -> bool {
        Uri::parse(a).unwrap().equivalent(&Uri::parse(b).unwrap())
    }

    #[test]
    fn rfc3261_19_1_4_equivalent_pairs() {
        // The examples of RFC 3261 §19.1.4 that are equivalent.
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eq(
            "sip:carol@chicago.com;newparam=5",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
    }

    #[test]
    fn rfc3261_19_1_4_not_equivalent_pairs() {
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com:6000;transport=tcp"
        ));
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        assert!(!eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
        assert!(!eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
        // A repeated parameter compares by its first occurrence: still reflexive.
        assert!(eq("sip:a@b;x=1;x=2", "sip:a@b;x=1;x=2"));
    }

    #[test]
    fn parts_and_escapes() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user(), Some("user;par=u%40example.net"));
        assert_eq!(u.host(), Host::Name("example.com"));
        let u = sip("sips:alice:secret@[2001:db8::10]:5070;transport=tls;lr?h=v");
        assert!(u.is_secure());
        assert_eq!(u.password(), Some("secret"));
        assert_eq!(u.host(), Host::Ipv6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.host_str(), "[2001:db8::10]");
        assert_eq!(u.port(), Some(5070));
        assert_eq!(u.params().get("transport"), Some(Some("tls")));
        assert_eq!(u.params().get("lr"), Some(None));
        assert_eq!(u.headers(), Some("h=v"));
        // esc01: escaped `lr` parameter name and a value that must not be unescaped twice.
        let u = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
        assert!(u.params().contains("lr"));
        assert_eq!(u.user_unescaped().unwrap().as_ref(), b"caller");
        assert!(!eq("sip:x@h;name=value%25%34%31", "sip:x@h;name=valueA"));
        assert!(eq(
            "sip:x@h;name=value%25%34%31",
            "sip:x@h;n%61me=v%61lue%2541"
        ));
        // escnull: %00 is a user octet, not a terminator.
        assert!(!eq("sip:%00@h", "sip:%00%00@h"));
    }

    #[test]
    fn ipv6_and_host_rules() {
        // RFC 5118 §4.10: three colons before an embedded IPv4 address.
        let u = sip("sip:[2001:db8:::192.0.2.1]");
        assert_eq!(u.host(), Host::Ipv6("2001:db8::192.0.2.1".parse().unwrap()));
        // RFC 5118 §4.3: the port belongs after `]`.
        let u = sip("sip:[2001:db8::10:5070]");
        assert_eq!(u.port(), None);
        // RFC 5118 §4.2: unbracketed IPv6 is invalid.
        assert!(Uri::parse("sip:2001:db8::10").is_err());
        assert!(Uri::parse("sip:user@-bad-.com").is_err());
        assert!(Uri::parse("sip:user@host:99999").is_err());
        assert!(Uri::parse("sip:user@host:").is_err());
        assert!(Uri::parse("sip:").is_err());
        assert!(Uri::parse("sip:user@1.2.3.4.5").is_err());
        assert!(Uri::parse("sip:user@ex ample.com").is_err());
        assert_eq!(
            sip("sip:h.example.com.").host(),
            Host::Name("h.example.com.")
        );
    }

    #[test]
    fn tel_and_absolute() {
        let Uri::Tel(t) = Uri::parse("tel:+1-201-555-0123;ext=12").unwrap() else {
            panic!()
        };
        assert!(t.is_global());
        assert_eq!(t.digits(), "+12015550123");
        assert!(eq("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
        assert!(!eq("tel:+12015550123", "tel:+12015550124"));
        assert!(Uri::parse("tel:7042;phone-context=example.com").is_ok());
        assert!(Uri::parse("tel:7042").is_err());
        let u = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!(u.scheme(), "nobodyKnowsThisScheme");
        assert!(!u.is_sip());
        assert!(Uri::parse("http://www.example.com").is_ok());
        assert!(Uri::parse("isbn:2983792873").is_ok());
        assert!(Uri::parse("1abc:x").is_err());
        assert!(Uri::parse("abc:x y").is_err());
        assert!(eq("HTTP://a/%7Euser", "http://a/~user"));
    }
}
