//! Results of the strict validation pass, kept as byte ranges so typed access rebuilds the
//! topmost Via, From, To and first Contact without decoding them a second time.
//!
//! Every range is relative to the raw value of the header line it came from; rebuilding
//! takes slices with `str::get`, and any mismatch falls back to a full decode.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::message::Span;
use crate::name::HeaderName;
use crate::uri::Host;

/// The range of `sub` within `base` (`sub` must be a sub-slice of `base`).
pub(crate) fn span_in(base: &str, sub: &str) -> Option<Span> {
    if sub.is_empty() {
        // An empty slice may be a literal `""`; its position does not matter.
        return Some(Span::default());
    }
    let start = (sub.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    let end = start.checked_add(sub.len())?;
    (end <= base.len()).then(|| Span::new(start, end))
}

pub(crate) fn opt_span(base: &str, sub: Option<&str>) -> Option<Option<Span>> {
    match sub {
        None => Some(None),
        Some(s) => span_in(base, s).map(Some),
    }
}

pub(crate) fn get(base: &str, s: Span) -> Option<&str> {
    base.get(s.range())
}

pub(crate) fn get_opt(base: &str, s: Option<Span>) -> Option<Option<&str>> {
    match s {
        None => Some(None),
        Some(s) => get(base, s).map(Some),
    }
}

/// A [`Host`] as ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostSpan {
    Name(Span),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl HostSpan {
    pub(crate) fn capture(base: &str, h: Host<'_>) -> Option<Self> {
        Some(match h {
            Host::Name(n) => Self::Name(span_in(base, n)?),
            Host::Ipv4(a) => Self::V4(a),
            Host::Ipv6(a) => Self::V6(a),
        })
    }

    pub(crate) fn rebuild(self, base: &str) -> Option<Host<'_>> {
        Some(match self {
            Self::Name(s) => Host::Name(get(base, s)?),
            Self::V4(a) => Host::Ipv4(a),
            Self::V6(a) => Host::Ipv6(a),
        })
    }
}

/// What the validation pass found, per header (line index and ranges in that line's value).
#[derive(Debug, Clone, Default)]
pub(crate) struct Cache {
    pub(crate) via: Option<(u32, crate::header::ViaSpans)>,
    pub(crate) from: Option<(u32, crate::header::NameAddrSpans)>,
    pub(crate) to: Option<(u32, crate::header::NameAddrSpans)>,
    pub(crate) contact: Option<(u32, Option<crate::header::NameAddrSpans>)>,
    /// The line of a valid Call-ID.
    pub(crate) call_id: Option<u32>,
    /// The single-line headers ([`Cache::bit`]) validated on more than one line.
    pub(crate) multiple: u8,
    /// CSeq number and method (extension methods are not kept).
    pub(crate) cseq: Option<(u32, crate::Method<'static>)>,
}

impl Cache {
    /// The bit of a single-line header the cache keeps (0 for the others).
    pub(crate) const fn bit(name: HeaderName) -> u8 {
        match name {
            HeaderName::From => 1,
            HeaderName::To => 2,
            HeaderName::CallId => 4,
            HeaderName::CSeq => 8,
            _ => 0,
        }
    }

    /// Whether a kept value of `name` is its only line (a cached value is returned only then).
    pub(crate) const fn single(&self, name: HeaderName) -> bool {
        let bit = Self::bit(name);
        bit != 0 && self.multiple & bit == 0
    }
}

#[cfg(test)]
mod tests {
    use crate::Message;
    use crate::header::{Contact, From, Header, To, Via};

    /// The kept ranges rebuild exactly what a fresh decode gives.
    #[test]
    fn cached_equals_decoded() {
        for raw in [
            "INVITE sip:bob@b.example.com SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP h2;branch=z9hG4bK2\r\nv: SIP/2.0/FOO 192.0.2.1\r\nMax-Forwards: 70\r\nTo: \"B \\\"o\\\" b\" <sips:bob:pw@b.example.com:5061;transport=tls?h=v>\r\nFrom: sip:alice@192.0.2.9 ;tag=1\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContact: Alice <sip:alice@a.example.com;ob>;q=0.5;expires=60, <sip:x@y>\r\nContent-Length: 0\r\n\r\n",
            "REGISTER sip:r.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@r.example.com>\r\nFrom: <sip:b@r.example.com>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
            "OPTIONS sip:r.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <tel:+1234>\r\nFrom: <urn:x:y>;tag=2\r\nCall-ID: c\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        ] {
            let m = Message::parse(raw.as_bytes().to_vec()).unwrap();
            let first = |n| {
                let v = m.values(n).next().unwrap();
                crate::header::split_list(v).next().unwrap()
            };
            assert_eq!(
                m.header::<Via<'_>>().unwrap(),
                Via::decode(first(crate::HeaderName::Via)).unwrap()
            );
            assert_eq!(
                m.header::<From<'_>>().unwrap(),
                From::decode(m.values(crate::HeaderName::From).next().unwrap()).unwrap()
            );
            assert_eq!(
                m.header::<To<'_>>().unwrap(),
                To::decode(m.values(crate::HeaderName::To).next().unwrap()).unwrap()
            );
            if m.contains(crate::HeaderName::Contact) {
                assert_eq!(
                    m.header::<Contact<'_>>().unwrap(),
                    Contact::decode(first(crate::HeaderName::Contact)).unwrap()
                );
            }
            assert_eq!(
                m.header::<crate::header::CSeq<'_>>().unwrap(),
                crate::header::CSeq::decode(m.values(crate::HeaderName::CSeq).next().unwrap())
                    .unwrap()
            );
            assert_eq!(
                m.header::<crate::header::CallId<'_>>().unwrap(),
                crate::header::CallId::decode(m.values(crate::HeaderName::CallId).next().unwrap())
                    .unwrap()
            );
            let all: Vec<_> = m.header_all::<Via<'_>>().map(Result::unwrap).collect();
            assert_eq!(all.first(), Some(&m.header::<Via<'_>>().unwrap()));
        }
        // The sip/sips cases above really went through the cache.
        let m = Message::parse(
            "OPTIONS sip:r.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@r>\r\nFrom: <sip:b@r>;tag=2\r\nCall-ID: c\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                .as_bytes()
                .to_vec(),
        )
        .unwrap();
        // A second line of a single-line header is never hidden by the kept first one.
        for (line, name) in [
            ("To: <sip:c@r>\r\n", crate::HeaderName::To),
            ("From: <sip:c@r>;tag=3\r\n", crate::HeaderName::From),
            ("Call-ID: d\r\n", crate::HeaderName::CallId),
            ("CSeq: 3 OPTIONS\r\n", crate::HeaderName::CSeq),
        ] {
            let raw = String::from_utf8(m.to_bytes().to_vec())
                .unwrap()
                .replace("Content-Length", &format!("{line}Content-Length"));
            let two = Message::parse(raw.into_bytes()).unwrap();
            let kind = |r: Result<(), crate::HeaderError>| r.unwrap_err().kind;
            let multiple = crate::HeaderErrorKind::Multiple;
            match name {
                crate::HeaderName::To => {
                    assert_eq!(kind(two.header::<To<'_>>().map(drop)), multiple)
                }
                crate::HeaderName::From => {
                    assert_eq!(kind(two.header::<From<'_>>().map(drop)), multiple)
                }
                crate::HeaderName::CallId => {
                    assert_eq!(
                        kind(two.header::<crate::header::CallId<'_>>().map(drop)),
                        multiple
                    )
                }
                _ => assert_eq!(
                    kind(two.header::<crate::header::CSeq<'_>>().map(drop)),
                    multiple
                ),
            }
        }
        let c = &m.meta.cache;
        assert!(c.via.is_some() && c.from.is_some() && c.to.is_some() && c.call_id.is_some());
    }
}
