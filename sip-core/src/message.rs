//! The parsed message: start line, raw header index and body over one shared buffer.

use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;

use crate::error::{HeaderError, HeaderErrorKind};
use crate::header::{
    CSeq, CallId, Contact, ContentLength, ContentType, From, Header, ListItems, MaxForwards, To,
    Via, split_list,
};
use crate::method::Method;
use crate::name::HeaderName;
use crate::text::trim_lws;
use crate::uri::Uri;

/// A byte range of the message buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Heads are bounded by `ParseOptions::max_head_len`, far below 4 GiB; saturate anyway.
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    pub(crate) const fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One header line in the raw store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) name: Span,
    pub(crate) value: Span,
    pub(crate) known: Option<HeaderName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    Request {
        method: Span,
        uri: Span,
        version: Span,
    },
    Response {
        version: Span,
        code: u16,
        reason: Span,
    },
}

/// A SIP request or response, borrowing nothing: it owns a cheap clone of the receive buffer
/// (`bytes::Bytes`) and an index of byte ranges into it. Typed headers are decoded on access
/// and borrow from the message.
#[derive(Clone)]
pub struct Message {
    pub(crate) buf: Bytes,
    /// The head (start line to the empty line), validated as UTF-8 once when parsed.
    pub(crate) head: ByteString,
    pub(crate) headers: Vec<Entry>,
    pub(crate) body: Bytes,
    /// The start line and the validation cache, boxed so a message stays small enough to
    /// move without a call to `memcpy`.
    pub(crate) meta: Box<Meta>,
}

/// The parts of a [`Message`] kept behind its box.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub(crate) start: Start,
    /// What the strict validation decoded, so typed access need not decode it again.
    pub(crate) cache: crate::cache::Cache,
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        // The cache is derived from the rest and not part of the message.
        self.buf == other.buf
            && self.meta.start == other.meta.start
            && self.headers == other.headers
            && self.body == other.body
    }
}

impl Eq for Message {}

/// One raw header field as it appears in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// The name as written (`v`, `VIA`, `NewFangledHeader` …).
    pub name: &'a str,
    /// The recognised name, if known (compact forms resolved).
    pub known: Option<HeaderName>,
    /// The value as written, LWS trimmed at both ends, folding kept.
    pub value: &'a str,
}

impl Message {
    /// Parses one datagram with the default (strict) options; see [`crate::ParseOptions`].
    pub fn parse(buf: impl Into<Bytes>) -> Result<Self, crate::ParseError> {
        crate::ParseOptions::default().parse_datagram(buf.into())
    }

    fn text(&self, span: Span) -> &str {
        // Spans index the head and end at ASCII delimiters.
        self.head.get(span.range()).unwrap_or("")
    }

    /// The trimmed value of header line `i`.
    pub(crate) fn line_value(&self, i: usize) -> Option<&str> {
        self.headers.get(i).map(|e| self.text(e.value))
    }

    /// Whether this is a request.
    pub const fn is_request(&self) -> bool {
        matches!(self.meta.start, Start::Request { .. })
    }

    /// Whether this is a response.
    pub const fn is_response(&self) -> bool {
        matches!(self.meta.start, Start::Response { .. })
    }

    /// The request method (`None` for a response).
    pub fn method(&self) -> Option<Method<'_>> {
        match self.meta.start {
            Start::Request { method, .. } => Method::parse(self.text(method)).ok(),
            Start::Response { .. } => None,
        }
    }

    /// The Request-URI as written.
    pub fn request_uri_str(&self) -> Option<&str> {
        match self.meta.start {
            Start::Request { uri, .. } => Some(self.text(uri)),
            Start::Response { .. } => None,
        }
    }

    /// The Request-URI, parsed (`None` for a response).
    pub fn request_uri(&self) -> Option<Uri<'_>> {
        self.request_uri_str().and_then(|u| Uri::parse(u).ok())
    }

    /// The SIP-Version as written (`SIP/2.0`).
    pub fn version(&self) -> &str {
        match self.meta.start {
            Start::Request { version, .. } | Start::Response { version, .. } => self.text(version),
        }
    }

    /// The status code (`None` for a request).
    pub const fn status(&self) -> Option<u16> {
        match self.meta.start {
            Start::Response { code, .. } => Some(code),
            Start::Request { .. } => None,
        }
    }

    /// The Reason-Phrase (`None` for a request; may be empty).
    pub fn reason(&self) -> Option<&str> {
        match self.meta.start {
            Start::Response { reason, .. } => Some(self.text(reason)),
            Start::Request { .. } => None,
        }
    }

    /// Every header line, in order.
    pub fn headers(&self) -> impl Iterator<Item = HeaderField<'_>> + '_ {
        self.headers.iter().map(|e| HeaderField {
            name: self.text(e.name),
            known: e.known,
            value: self.text(e.value),
        })
    }

    /// The number of header lines.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// The raw values of every line of a known header (compact forms included).
    pub fn values(&self, name: HeaderName) -> impl Iterator<Item = &str> + '_ {
        self.headers
            .iter()
            .filter(move |e| e.known == Some(name))
            .map(|e| self.text(e.value))
    }

    /// The raw values of every line whose name matches `name` exactly, ignoring ASCII case
    /// (for extension headers; compact forms are not resolved).
    pub fn values_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |e| self.text(e.name).eq_ignore_ascii_case(name))
            .map(|e| self.text(e.value))
    }

    /// Whether a known header is present.
    pub fn contains(&self, name: HeaderName) -> bool {
        self.headers.iter().any(|e| e.known == Some(name))
    }

    /// Decodes a header. For a list header ([`Header::LIST`]), the first element of the
    /// first line (the topmost Via); otherwise the single line, and
    /// [`HeaderErrorKind::Multiple`] if there are several (RFC 4475 §3.3.8).
    pub fn header<'a, H: Header<'a>>(&'a self) -> Result<H, HeaderError> {
        let err = |kind| HeaderError::new(H::NAME, kind);
        if H::LIST {
            if let Some(h) = H::cached(self) {
                return Ok(h);
            }
            return self
                .header_all::<H>()
                .next()
                .unwrap_or(Err(err(HeaderErrorKind::Missing)));
        }
        // A value the strict pass kept from the only line needs no search.
        if self.meta.cache.single(H::NAME)
            && let Some(h) = H::cached(self)
        {
            return Ok(h);
        }
        // Otherwise count the lines by name.
        let mut lines = self.headers.iter().filter(|e| e.known == Some(H::NAME));
        let first = lines.next().ok_or(err(HeaderErrorKind::Missing))?;
        if lines.next().is_some() {
            return Err(err(HeaderErrorKind::Multiple));
        }
        H::decode(self.text(first.value)).map_err(|e| err(HeaderErrorKind::Invalid(e)))
    }

    /// Like [`Message::header`], but `Ok(None)` when the header is absent.
    pub fn header_opt<'a, H: Header<'a>>(&'a self) -> Result<Option<H>, HeaderError> {
        match self.header::<H>() {
            Ok(h) => Ok(Some(h)),
            Err(e) if e.is_missing() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Decodes every element of every line of a header, in order (all Vias, all Contacts …).
    pub fn header_all<'a, H: Header<'a>>(&'a self) -> HeaderIter<'a, H> {
        HeaderIter {
            msg: self,
            next_line: 0,
            items: None,
            _h: std::marker::PhantomData,
        }
    }

    /// The topmost Via.
    pub fn via(&self) -> Result<Via<'_>, HeaderError> {
        self.header()
    }

    /// From.
    pub fn from(&self) -> Result<From<'_>, HeaderError> {
        self.header()
    }

    /// To.
    pub fn to(&self) -> Result<To<'_>, HeaderError> {
        self.header()
    }

    /// Call-ID.
    pub fn call_id(&self) -> Result<CallId<'_>, HeaderError> {
        self.header()
    }

    /// CSeq.
    pub fn cseq(&self) -> Result<CSeq<'_>, HeaderError> {
        self.header()
    }

    /// Max-Forwards, `None` when absent (RFC 2543 peers, RFC 4475 §3.4.1).
    pub fn max_forwards(&self) -> Result<Option<u32>, HeaderError> {
        self.header_opt::<MaxForwards>().map(|m| m.map(|m| m.0))
    }

    /// Content-Type, `None` when absent.
    pub fn content_type(&self) -> Result<Option<ContentType<'_>>, HeaderError> {
        self.header_opt()
    }

    /// Content-Length as declared, `None` when absent.
    pub fn content_length(&self) -> Result<Option<u32>, HeaderError> {
        self.header_opt::<ContentLength>().map(|c| c.map(|c| c.0))
    }

    /// All Contact elements.
    pub fn contacts(&self) -> HeaderIter<'_, Contact<'_>> {
        self.header_all()
    }

    /// The body (exactly Content-Length octets, or the rest of a datagram without one).
    pub const fn body(&self) -> &Bytes {
        &self.body
    }

    /// The message bytes as received (start line to end of body; trailing datagram octets
    /// beyond Content-Length excluded).
    pub const fn as_bytes(&self) -> &Bytes {
        &self.buf
    }

    /// Checks the headers RFC 3261 §8.1.1 makes mandatory in a request (To, From, CSeq,
    /// Call-ID, Via; Max-Forwards is tolerated absent for RFC 2543 peers) and that the
    /// single-valued ones appear once and decode (RFC 4475 §3.3.1, §3.3.8). A UAS answers
    /// `400` with the error as reason phrase. For a response, Via, From, To, Call-ID, CSeq.
    pub fn check_mandatory(&self) -> Result<(), HeaderError> {
        self.via()?;
        self.header::<From<'_>>()?;
        self.header::<To<'_>>()?;
        self.call_id()?;
        self.cseq()?;
        self.max_forwards()?;
        Ok(())
    }

    /// The option tags of `Require` not in `supported`: a UAS answers `420 Bad Extension`
    /// listing them in `Unsupported` (RFC 3261 §8.2.2.3, RFC 4475 §3.3.5). Tags that do not
    /// decode are returned too.
    pub fn unsupported_requirements<'a>(&'a self, supported: &[&str]) -> Vec<&'a str> {
        self.unsupported_in(HeaderName::Require, supported)
    }

    /// Like [`Message::unsupported_requirements`] for `Proxy-Require` (a proxy's `420`).
    pub fn unsupported_proxy_requirements<'a>(&'a self, supported: &[&str]) -> Vec<&'a str> {
        self.unsupported_in(HeaderName::ProxyRequire, supported)
    }

    fn unsupported_in<'a>(&'a self, name: HeaderName, supported: &[&str]) -> Vec<&'a str> {
        self.values(name)
            .flat_map(split_list)
            .filter(|t| !t.is_empty() && !supported.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .collect()
    }

    /// Writes the message: start line, each header as `Name: value` (names and values as
    /// written), an empty line, the body. Parsing the output gives the same message.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self.meta.start {
            Start::Request {
                method,
                uri,
                version,
            } => {
                out.extend_from_slice(self.text(method).as_bytes());
                out.push(b' ');
                out.extend_from_slice(self.text(uri).as_bytes());
                out.push(b' ');
                out.extend_from_slice(self.text(version).as_bytes());
            }
            Start::Response {
                version,
                code,
                reason,
            } => {
                out.extend_from_slice(self.text(version).as_bytes());
                out.push(b' ');
                let mut digits = [b'0'; 3];
                let mut c = code;
                for d in digits.iter_mut().rev() {
                    *d = b'0' + u8::try_from(c % 10).unwrap_or(0);
                    c /= 10;
                }
                out.extend_from_slice(&digits);
                out.push(b' ');
                out.extend_from_slice(self.text(reason).as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
        for e in &self.headers {
            out.extend_from_slice(self.text(e.name).as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(self.text(e.value).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }

    /// The message printed by [`Message::write_to`].
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.buf.len() + 16);
        self.write_to(&mut out);
        Bytes::from(out)
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Message");
        match self.meta.start {
            Start::Request { .. } => {
                d.field("method", &self.method());
                d.field("uri", &self.request_uri_str());
            }
            Start::Response { code, .. } => {
                d.field("status", &code);
            }
        }
        d.field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Iterator over every element of a typed header (see [`Message::header_all`]).
#[derive(Debug)]
pub struct HeaderIter<'a, H> {
    msg: &'a Message,
    next_line: usize,
    items: Option<ListItems<'a>>,
    _h: std::marker::PhantomData<H>,
}

impl<'a, H: Header<'a>> Iterator for HeaderIter<'a, H> {
    type Item = Result<H, HeaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        let invalid = |e| HeaderError::new(H::NAME, HeaderErrorKind::Invalid(e));
        loop {
            if let Some(items) = &mut self.items {
                if let Some(item) = items.next() {
                    return Some(H::decode(item).map_err(invalid));
                }
                self.items = None;
            }
            let entry = self
                .msg
                .headers
                .get(self.next_line..)?
                .iter()
                .position(|e| e.known == Some(H::NAME))?;
            let idx = self.next_line + entry;
            self.next_line = idx + 1;
            let e = self.msg.headers.get(idx)?;
            let value = self.msg.text(e.value);
            if H::LIST {
                if H::EMPTY_LIST_OK && trim_lws(value).is_empty() {
                    continue;
                }
                self.items = Some(split_list(value));
            } else {
                return Some(H::decode(value).map_err(invalid));
            }
        }
    }
}
