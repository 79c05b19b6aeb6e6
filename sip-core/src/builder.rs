//! Builders that produce valid messages: the output is parsed back with the strict parser
//! before it is returned, so a builder never hands out a message the parser would refuse.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::error::ParseError;
use crate::message::Message;
use crate::method::Method;
use crate::name::HeaderName;
use crate::parse::ParseOptions;
use crate::text::is_token;

/// Why a builder could not produce a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A header value holds CR or LF (header injection); builders never fold lines.
    #[error("line break in a header value")]
    LineBreak,
    /// A header name that is not a token, or a reason phrase with a control character.
    #[error("invalid header name or reason phrase")]
    InvalidText,
    /// The status code is not in 100–699.
    #[error("status code out of range")]
    StatusCode,
    /// The assembled message does not parse.
    #[error("built message is invalid: {0}")]
    Invalid(ParseError),
}

#[derive(Debug, Clone, Default)]
struct Parts {
    head: String,
    body: Bytes,
    content_type: Option<String>,
    error: Option<BuildError>,
}

impl Parts {
    fn header(&mut self, name: &str, value: &str) {
        if self.error.is_some() {
            return;
        }
        if name.is_empty() || !name.bytes().all(is_token) {
            self.error = Some(BuildError::InvalidText);
            return;
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            self.error = Some(BuildError::LineBreak);
            return;
        }
        if HeaderName::from_bytes(name.as_bytes()) == Some(HeaderName::ContentLength) {
            return; // always computed by `finish`
        }
        let _ = write!(self.head, "{name}: {value}\r\n");
    }

    fn finish(mut self, validate: bool) -> Result<Message, BuildError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(ct) = &self.content_type {
            if ct.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(BuildError::LineBreak);
            }
            let _ = write!(self.head, "Content-Type: {ct}\r\n");
        }
        let _ = write!(self.head, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = Vec::with_capacity(self.head.len() + self.body.len());
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(&self.body);
        let opts = ParseOptions::default();
        let buf = Bytes::from(out);
        if validate {
            opts.parse_datagram(buf).map_err(BuildError::Invalid)
        } else {
            let (head, text) = opts.parse_head_shared(&buf).map_err(BuildError::Invalid)?;
            let len = buf.len() - head.body_start;
            Ok(crate::parse::build(buf, head, len, text))
        }
    }
}

/// Builds a request.
///
/// ```
/// use pbxkit_sip_core::{Method, RequestBuilder};
/// let msg = RequestBuilder::new(Method::Options, "sip:bob@example.com")
///     .via("UDP", "192.0.2.1:5060", "z9hG4bK74bf9")
///     .from("<sip:alice@example.com>", "9fxced76sl")
///     .to("<sip:bob@example.com>")
///     .call_id("3848276298220188511@192.0.2.1")
///     .cseq(1)
///     .max_forwards(70)
///     .build()
///     .unwrap();
/// assert_eq!(msg.cseq().unwrap().seq, 1);
/// ```
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    parts: Parts,
    method: String,
}

impl RequestBuilder {
    /// Starts `METHOD uri SIP/2.0`.
    pub fn new(method: Method<'_>, uri: &str) -> Self {
        let mut parts = Parts::default();
        if uri.bytes().any(|b| b <= b' ') {
            parts.error = Some(BuildError::LineBreak);
        }
        parts.head = format!("{method} {uri} SIP/2.0\r\n");
        Self {
            parts,
            method: method.as_str().to_owned(),
        }
    }

    /// Appends a header line (a `Content-Length` is ignored: the builder computes it).
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        self.parts.header(name.as_str(), value);
        self
    }

    /// Appends an extension header by name.
    pub fn header_named(mut self, name: &str, value: &str) -> Self {
        self.parts.header(name, value);
        self
    }

    /// Appends `Via: SIP/2.0/<transport> <sent_by>;branch=<branch>`.
    pub fn via(self, transport: &str, sent_by: &str, branch: &str) -> Self {
        let v = format!("SIP/2.0/{transport} {sent_by};branch={branch}");
        self.header(HeaderName::Via, &v)
    }

    /// `From: <addr>;tag=<tag>` (`addr` is a name-addr such as `"Alice" <sip:a@x>`).
    pub fn from(self, addr: &str, tag: &str) -> Self {
        let v = format!("{addr};tag={tag}");
        self.header(HeaderName::From, &v)
    }

    /// `To: <addr>` (no tag: a new dialog).
    pub fn to(self, addr: &str) -> Self {
        self.header(HeaderName::To, addr)
    }

    /// `Call-ID`.
    pub fn call_id(self, id: &str) -> Self {
        self.header(HeaderName::CallId, id)
    }

    /// `CSeq: <seq> <METHOD>` with the request's method.
    pub fn cseq(self, seq: u32) -> Self {
        let v = format!("{seq} {}", self.method);
        self.header(HeaderName::CSeq, &v)
    }

    /// `Max-Forwards`.
    pub fn max_forwards(self, n: u32) -> Self {
        self.header(HeaderName::MaxForwards, &n.to_string())
    }

    /// `Contact`.
    pub fn contact(self, addr: &str) -> Self {
        self.header(HeaderName::Contact, addr)
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.parts.content_type = Some(content_type.to_owned());
        self.parts.body = body.into();
        self
    }

    /// Assembles, adds Content-Length and parses the result strictly.
    pub fn build(self) -> Result<Message, BuildError> {
        self.parts.finish(true)
    }
}

/// Builds a response, usually to a request with [`ResponseBuilder::reply`].
#[derive(Debug, Clone)]
pub struct ResponseBuilder {
    parts: Parts,
}

impl ResponseBuilder {
    /// Starts `SIP/2.0 <code> <reason>`.
    pub fn new(code: u16, reason: &str) -> Self {
        let mut parts = Parts::default();
        if !(100..=699).contains(&code) {
            parts.error = Some(BuildError::StatusCode);
        }
        if reason.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
            parts.error = Some(BuildError::InvalidText);
        }
        parts.head = format!("SIP/2.0 {code} {reason}\r\n");
        Self { parts }
    }

    /// A response to `request` (RFC 3261 §8.2.6.2): copies every Via, From, To, Call-ID and
    /// CSeq; `to_tag` is added to To when it has none. The `reason` can be a
    /// [`ParseError`]'s text for a `400`.
    pub fn reply(request: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Self {
        let mut b = Self::new(code, reason);
        for v in request.values(HeaderName::Via) {
            b.parts.header("Via", v);
        }
        for v in request.values(HeaderName::From) {
            b.parts.header("From", v);
        }
        for v in request.values(HeaderName::To) {
            match to_tag {
                Some(tag) if request.to().is_ok_and(|t| t.tag().is_none()) => {
                    b.parts.header("To", &format!("{v};tag={tag}"));
                }
                _ => b.parts.header("To", v),
            }
        }
        for v in request.values(HeaderName::CallId) {
            b.parts.header("Call-ID", v);
        }
        for v in request.values(HeaderName::CSeq) {
            b.parts.header("CSeq", v);
        }
        b
    }

    /// Appends a header line (a `Content-Length` is ignored: the builder computes it).
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        self.parts.header(name.as_str(), value);
        self
    }

    /// Appends an extension header by name.
    pub fn header_named(mut self, name: &str, value: &str) -> Self {
        self.parts.header(name, value);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.parts.content_type = Some(content_type.to_owned());
        self.parts.body = body.into();
        self
    }

    /// Assembles, adds Content-Length and parses the result strictly.
    pub fn build(self) -> Result<Message, BuildError> {
        self.parts.finish(true)
    }

    /// Like [`ResponseBuilder::build`], but only frames the result without validating the
    /// headers: for answering a malformed request whose headers are copied as they are
    /// (RFC 3261 §8.2.6.2 copies them; a `400` to a bad From still carries that From).
    pub fn build_unchecked(self) -> Result<Message, BuildError> {
        self.parts.finish(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Via;

    fn invite() -> Message {
        RequestBuilder::new(Method::Invite, "sip:bob@biloxi.example.com")
            .via("UDP", "pc33.atlanta.example.com", "z9hG4bKnashds8")
            .via("TCP", "[2001:db8::1]:5061", "z9hG4bK2")
            .from("Alice <sip:alice@atlanta.example.com>", "1928301774")
            .to("Bob <sip:bob@biloxi.example.com>")
            .call_id("a84b4c76e66710")
            .cseq(314159)
            .max_forwards(70)
            .contact("<sip:alice@pc33.atlanta.example.com>")
            .body("application/sdp", &b"v=0\r\n"[..])
            .build()
            .unwrap()
    }

    #[test]
    fn request_builder_output_parses() {
        let m = invite();
        assert_eq!(m.method(), Some(Method::Invite));
        assert_eq!(m.content_length().unwrap(), Some(5));
        assert_eq!(m.header_all::<Via<'_>>().count(), 2);
        assert!(m.check_mandatory().is_ok());
        assert_eq!(m.body().as_ref(), b"v=0\r\n");
    }

    #[test]
    fn reply_copies_dialog_headers() {
        let req = invite();
        let r = ResponseBuilder::reply(&req, 180, "Ringing", Some("a6c85cf"))
            .build()
            .unwrap();
        assert_eq!(r.status(), Some(180));
        assert_eq!(r.to().unwrap().tag(), Some("a6c85cf"));
        assert_eq!(r.header_all::<Via<'_>>().count(), 2);
        assert_eq!(r.cseq().unwrap(), req.cseq().unwrap());
        assert_eq!(r.call_id().unwrap(), req.call_id().unwrap());
    }

    #[test]
    fn injection_and_bad_input_refused() {
        let e = RequestBuilder::new(Method::Options, "sip:a@b")
            .header_named("X-Evil", "a\r\nVia: x")
            .build()
            .unwrap_err();
        assert_eq!(e, BuildError::LineBreak);
        assert!(
            RequestBuilder::new(Method::Options, "sip:a b")
                .build()
                .is_err()
        );
        assert!(ResponseBuilder::new(99, "x").build().is_err());
        assert!(matches!(
            RequestBuilder::new(Method::Options, "sip:a@b")
                .header(HeaderName::Via, "junk")
                .build(),
            Err(BuildError::Invalid(_))
        ));
    }
}
