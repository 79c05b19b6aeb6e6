//! `Via` (RFC 3261 §20.42, RFC 3581 `rport`, RFC 5118 §4.5).

use std::fmt;

mod scan;

use super::{Header, HeaderParams, next_param};
use crate::cache::{HostSpan, get, get_opt, opt_span, span_in};
use crate::error::{Expected, UriError, ValueError};
use crate::message::{Message, Span};
use crate::name::HeaderName;
use crate::text::{Scanner, is_lws, is_token, parse_u32};
use crate::uri::{Host, parse_port};

/// The transport of a Via (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` or any other token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport<'a> {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// SCTP.
    Sctp,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
    /// Any other token, as written (RFC 4475 §3.1.1.10: `UNKNOWN`).
    Other(&'a str),
}

impl<'a> Transport<'a> {
    /// Recognises a transport token, ignoring case.
    pub fn parse(s: &'a str) -> Self {
        for (name, t) in [
            ("UDP", Self::Udp),
            ("TCP", Self::Tcp),
            ("TLS", Self::Tls),
            ("SCTP", Self::Sctp),
            ("WS", Self::Ws),
            ("WSS", Self::Wss),
        ] {
            if s.eq_ignore_ascii_case(name) {
                return t;
            }
        }
        Self::Other(s)
    }

    /// The canonical upper-case name.
    pub const fn as_str(&self) -> &'a str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
            Self::Sctp => "SCTP",
            Self::Ws => "WS",
            Self::Wss => "WSS",
            Self::Other(s) => s,
        }
    }

    /// Whether the transport is reliable (stream-based): Content-Length is then mandatory.
    pub const fn is_reliable(&self) -> bool {
        !matches!(self, Self::Udp | Self::Other(_))
    }
}

impl fmt::Display for Transport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Via element: `SIP/2.0/UDP host:port;branch=…;received=…;rport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    transport: Transport<'a>,
    host: Host<'a>,
    host_raw: &'a str,
    port: Option<u16>,
    params: HeaderParams<'a>,
    /// The first `branch` parameter's value, found by the decoder's parameter walk.
    branch: Option<&'a str>,
}

/// The RFC 3261 §8.1.1.7 branch magic cookie.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

impl<'a> Via<'a> {
    /// The transport.
    pub const fn transport(&self) -> Transport<'a> {
        self.transport
    }

    /// The sent-by host.
    pub const fn host(&self) -> Host<'a> {
        self.host
    }

    /// The sent-by host as written (IPv6 with brackets).
    pub const fn host_str(&self) -> &'a str {
        self.host_raw
    }

    /// The sent-by port, if written.
    pub const fn port(&self) -> Option<u16> {
        self.port
    }

    /// All parameters.
    pub const fn params(&self) -> &HeaderParams<'a> {
        &self.params
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }

    /// Whether the branch starts with the RFC 3261 magic cookie and has something after it
    /// (RFC 4475 §3.2.1: `z9hG4bK` alone is no transaction identifier).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .and_then(|b| b.strip_prefix(BRANCH_COOKIE))
            .is_some_and(|rest| !rest.is_empty())
    }

    /// The `received` address, brackets accepted or not (RFC 5118 §4.5).
    pub fn received(&self) -> Option<Host<'a>> {
        self.params
            .get("received")
            .flatten()
            .and_then(|v| parse_received(v).ok())
    }

    /// `None` without `rport`, `Some(None)` for a bare `rport` (a request), `Some(Some(p))`
    /// when filled in (RFC 3581).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| parse_port(p).ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.params
            .get("maddr")
            .flatten()
            .and_then(|v| Host::parse(v, false).ok())
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .get("ttl")
            .flatten()
            .and_then(|v| v.parse().ok())
    }
}

/// Whether the value of a parameter Via defines is bad (`received`, `rport`, `ttl`,
/// `maddr`, `branch`); keeps the first `branch` value in `branch`.
fn bad_param<'a>(n: &str, v: Option<&'a str>, branch: &mut Option<Option<&'a str>>) -> bool {
    // By length first: most parameters are none of these.
    match n.len() {
        6 if n.eq_ignore_ascii_case("branch") => {
            if branch.is_none() {
                *branch = Some(v);
            }
            v.is_none_or(|v| !v.bytes().all(is_token))
        }
        8 if n.eq_ignore_ascii_case("received") => v.is_none_or(|v| parse_received(v).is_err()),
        5 if n.eq_ignore_ascii_case("rport") => v.is_some_and(|v| parse_port(v).is_err()),
        3 if n.eq_ignore_ascii_case("ttl") => {
            v.is_none_or(|v| parse_u32(v).map_or(true, |t| t > 255))
        }
        5 if n.eq_ignore_ascii_case("maddr") => v.is_none_or(|v| Host::parse(v, false).is_err()),
        _ => false,
    }
}

fn parse_received(v: &str) -> Result<Host<'_>, UriError> {
    match Host::parse(v, true)? {
        Host::Name(_) => Err(UriError::Host),
        ip => Ok(ip),
    }
}

/// A decoded [`Via`] as ranges of its line's value (see `crate::cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ViaSpans {
    transport: Transport<'static>,
    other: Option<Span>,
    host: HostSpan,
    host_raw: Span,
    port: Option<u16>,
    params: Span,
    branch: Option<Span>,
}

impl ViaSpans {
    /// A whole Via value of one element of the common shape (see `scan`), as ranges.
    pub(crate) fn scan(value: &str) -> Option<Self> {
        Self::capture(value, &scan::via(value)?)
    }

    pub(crate) fn capture(base: &str, v: &Via<'_>) -> Option<Self> {
        let (transport, other) = match v.transport {
            Transport::Other(s) => (Transport::Udp, Some(span_in(base, s)?)),
            Transport::Udp => (Transport::Udp, None),
            Transport::Tcp => (Transport::Tcp, None),
            Transport::Tls => (Transport::Tls, None),
            Transport::Sctp => (Transport::Sctp, None),
            Transport::Ws => (Transport::Ws, None),
            Transport::Wss => (Transport::Wss, None),
        };
        Some(Self {
            transport,
            other,
            host: HostSpan::capture(base, v.host)?,
            host_raw: span_in(base, v.host_raw)?,
            port: v.port,
            params: span_in(base, v.params.raw)?,
            branch: opt_span(base, v.branch)?,
        })
    }

    pub(crate) fn rebuild(self, base: &str) -> Option<Via<'_>> {
        Some(Via {
            transport: match self.other {
                Some(s) => Transport::Other(get(base, s)?),
                None => self.transport,
            },
            host: self.host.rebuild(base)?,
            host_raw: get(base, self.host_raw)?,
            port: self.port,
            params: HeaderParams {
                raw: get(base, self.params)?,
            },
            branch: get_opt(base, self.branch)?,
        })
    }
}

impl<'a> Header<'a> for Via<'a> {
    const NAME: HeaderName = HeaderName::Via;
    const LIST: bool = true;

    fn cached(msg: &'a Message) -> Option<Self> {
        let (line, spans) = msg.meta.cache.via.as_ref()?;
        spans.rebuild(msg.line_value(*line as usize)?)
    }

    fn decode(value: &'a str) -> Result<Self, ValueError> {
        match scan::via(value) {
            Some(v) => Ok(v),
            None => Self::decode_full(value),
        }
    }
}

impl<'a> Via<'a> {
    /// [`Header::decode`] piece by piece, for every shape (the fast path takes the common one).
    fn decode_full(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let name = sc.token()?;
        if !sc.eat_sep(b'/') {
            return Err(ValueError::Expected(Expected::Slash));
        }
        let version = sc.token()?;
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(ValueError::Expected(Expected::Version));
        }
        if !sc.eat_sep(b'/') {
            return Err(ValueError::Expected(Expected::Slash));
        }
        let transport = Transport::parse(sc.token()?);
        if !sc.skip_lws() {
            return Err(ValueError::Syntax(sc.pos()));
        }
        // sent-by = host [ COLON port ], COLON = SWS ":" SWS
        let start = sc.pos();
        if sc.peek() == Some(b'[') {
            sc.take_while(|b| b != b']');
            sc.expect(b']', Expected::Host)?;
        } else {
            sc.take_while(|b| is_token(b) && b != b'%');
        }
        let host_raw = sc.slice(start, sc.pos())?;
        let host = Host::parse(host_raw, false)?;
        let port = if sc.eat_sep(b':') {
            let p = sc.take_while(|b| b.is_ascii_digit());
            Some(parse_port(p)?)
        } else {
            None
        };
        let rest = sc.rest();
        // One walk validates the parameter syntax and the meaning of the known ones; a
        // syntax error anywhere wins over a bad value, as with a separate syntax pass.
        let mut params = Scanner::new(rest);
        let mut bad_value = false;
        let mut branch = None;
        while !params.at_end() {
            let (n, v) = next_param(&mut params)?;
            bad_value |= bad_param(n, v, &mut branch);
        }
        let branch = branch.flatten();
        if bad_value {
            return Err(ValueError::Expected(Expected::Param));
        }
        let params = HeaderParams { raw: rest };
        if rest.bytes().next().is_some_and(|b| !is_lws(b) && b != b';') {
            return Err(ValueError::Trailing);
        }
        Ok(Self {
            transport,
            host,
            host_raw,
            port,
            params,
            branch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_via_from_rfc4475_wsinv() {
        let v = Via::decode("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.transport(), Transport::Udp);
        assert_eq!(v.host(), Host::Ipv4("192.0.2.2".parse().unwrap()));
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.has_rfc3261_branch());
        let v = Via::decode(
            "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8",
        )
        .unwrap();
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
        assert!(v.has_rfc3261_branch());
    }

    #[test]
    fn via_params() {
        let v = Via::decode(
            "SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];branch=z9hG4bKas3;rport=5061;maddr=224.2.0.1;ttl=16",
        )
        .unwrap();
        assert_eq!(v.port(), Some(5070));
        assert_eq!(v.host_str(), "[2001:db8::9:1]");
        assert_eq!(
            v.received(),
            Some(Host::Ipv6("2001:db8::9:255".parse().unwrap()))
        );
        assert_eq!(v.rport(), Some(Some(5061)));
        assert_eq!(v.ttl(), Some(16));
        assert!(v.maddr().is_some());
        let v = Via::decode("SIP/2.0/TCP h.example.com;received=2001:db8::9:255;rport").unwrap();
        assert_eq!(
            v.received(),
            Some(Host::Ipv6("2001:db8::9:255".parse().unwrap()))
        );
        assert_eq!(v.rport(), Some(None));
        assert!(Via::decode("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(Via::decode("SIP/7.0/UDP c.example.com").is_err());
        assert!(Via::decode("SIP/2.0/UDP").is_err());
        assert!(Via::decode("SIP/2.0/UDP h;ttl=300").is_err());
        assert!(Via::decode("SIP/2.0/UDP h;received=host.example.com").is_err());
        assert!(Via::decode("SIP/2.0/UDP h:").is_err());
    }

    /// The branch kept by the decoder is the first `branch` parameter, any case.
    #[test]
    fn branch_kept_at_decode() {
        for (raw, branch) in [
            ("SIP/2.0/UDP h;branch=z9hG4bK1", Some("z9hG4bK1")),
            (
                "SIP/2.0/UDP h ; rport ; BRANCH = z9hG4bK2 ;branch=x",
                Some("z9hG4bK2"),
            ),
            ("SIP/2.0/UDP h;x=\"a;branch=q\";Branch=b3", Some("b3")),
            ("SIP/2.0/UDP h;rport", None),
        ] {
            let v = Via::decode(raw).unwrap();
            assert_eq!(v.branch(), branch, "{raw}");
            assert_eq!(v.branch(), v.params().get("branch").flatten(), "{raw}");
        }
    }
}
