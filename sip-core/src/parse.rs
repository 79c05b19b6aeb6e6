//! The head parser, datagram framing and the strict validation pass.

use bytes::Bytes;
use bytestring::ByteString;
use memchr::{memchr, memchr2, memrchr};

use crate::error::{HeaderError, HeaderErrorKind, ParseError, ParseErrorKind, ValueError};
use crate::header::{
    Accept, Allow, CSeq, CallId, Contact, ContentLength, ContentType, Date, Header, HeaderParams,
    MaxForwards, NameAddr, NameAddrSpans, ProxyRequire, Require, Supported, Via, ViaSpans,
    Violation, check_contact_params, split_list,
};
use crate::message::{Entry, Message, Meta, Span, Start};
use crate::method::Method;
use crate::name::HeaderName;
use crate::text::{is_lws, is_token, trim_lws};
use crate::uri::Uri;

/// Parser configuration: limits and leniency toggles. Plain data; [`Default`] is strict.
///
/// Each `allow_*` toggle relaxes one rule and names it; all are off by default, so the
/// RFC 4475 §3.1.2 messages are rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Maximum number of header lines (default 256). Guards memory on hostile input.
    pub max_headers: usize,
    /// Maximum size of start line plus headers, in bytes (default 64 KiB).
    pub max_head_len: usize,
    /// Maximum body size on streams, in bytes (default 1 MiB).
    pub max_body_len: usize,
    /// Accept lines ending in a bare LF. Bends RFC 3261 §7: "the start-line, each
    /// message-header line, and the empty line MUST be terminated by a carriage-return
    /// line-feed sequence (CRLF)".
    pub allow_bare_lf: bool,
    /// Accept several SP between Request-Line elements and trailing SP (RFC 4475 §3.1.2.9 and
    /// §3.1.2.10). Bends RFC 3261 §7.1: "The elements are separated by single SP characters."
    /// The extra spaces are dropped, never forwarded.
    pub allow_extra_request_line_spaces: bool,
    /// Accept a Request-URI enclosed in `<>` and drop the brackets (RFC 4475 §3.1.2.7).
    /// Bends RFC 3261 §25.1 `Request-Line = Method SP Request-URI SP SIP-Version CRLF`.
    pub allow_bracketed_request_uri: bool,
    /// Accept `?headers` in a Request-URI (RFC 4475 §3.1.2.11). Bends RFC 3261 §19.1.1
    /// Table 1: headers are not allowed in the Request-URI.
    pub allow_request_uri_headers: bool,
    /// Accept an unquoted display name holding non-token characters, such as
    /// `Bell, Alexander <sip:…>` (RFC 4475 §3.1.2.15). Bends RFC 3261 §25.1
    /// `display-name = *(token LWS) / quoted-string`. The name is kept as written.
    pub allow_unquoted_display_name: bool,
    /// Accept LWS just inside `<` and `>` and drop it (RFC 4475 §3.1.2.14). Bends RFC 3261
    /// §25.1 `LAQUOT = SWS "<"` and `RAQUOT = ">" SWS` (no LWS inside the brackets).
    pub allow_lws_in_angle_brackets: bool,
    /// Accept an addr-spec without `<>` whose URI holds `?` and read it as if bracketed
    /// (RFC 4475 §3.1.2.13). Bends RFC 3261 §20: "If the URI contains a comma, question mark
    /// or semicolon, the URI MUST be enclosed in angle brackets".
    pub allow_unbracketed_reserved_uri: bool,
    /// Validate the `Date` header (default on). RFC 4475 §3.1.2.12: rejecting a non-GMT date
    /// is acceptable only if the element cares about Date; turning this off ignores it.
    pub check_date: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_headers: 256,
            max_head_len: 64 * 1024,
            max_body_len: 1024 * 1024,
            allow_bare_lf: false,
            allow_extra_request_line_spaces: false,
            allow_bracketed_request_uri: false,
            allow_request_uri_headers: false,
            allow_unquoted_display_name: false,
            allow_lws_in_angle_brackets: false,
            allow_unbracketed_reserved_uri: false,
            check_date: true,
        }
    }
}

/// The result of feeding one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Datagram {
    /// A message.
    Message(Message),
    /// Only CRLFs: a keep-alive (RFC 5626 §3.5.1 uses STUN on UDP; many peers send CRLF).
    KeepAlive,
}

/// A head split into lines, before its text is known to be UTF-8.
#[derive(Debug)]
struct RawHead {
    /// End of the start line.
    line_end: usize,
    headers: Vec<Entry>,
    body_start: usize,
    /// Whether any header line is folded (its value is trimmed later, as text).
    folded: bool,
}

/// A framed head: everything but the body.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) start: Start,
    pub(crate) headers: Vec<Entry>,
    /// Offset of the first body byte.
    pub(crate) body_start: usize,
    pub(crate) content_length: ContentLengthInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentLengthInfo {
    Absent,
    Value(usize),
    Invalid(ValueError),
    Conflicting,
}

impl ParseOptions {
    /// Parses a datagram (UDP framing, RFC 3261 §18.3): the body is Content-Length octets,
    /// trailing octets are ignored, a Content-Length beyond the datagram is an error, and
    /// without Content-Length the body runs to the end of the datagram.
    pub fn parse_datagram(&self, buf: Bytes) -> Result<Message, ParseError> {
        match self.datagram(buf)? {
            Datagram::Message(m) => Ok(m),
            Datagram::KeepAlive => Err(ParseError::new(ParseErrorKind::Empty)),
        }
    }

    /// Like [`ParseOptions::parse_datagram`], but reports a datagram of only CRLFs as a
    /// keep-alive instead of an error.
    pub fn datagram(&self, buf: Bytes) -> Result<Datagram, ParseError> {
        if !buf.is_empty() && buf.iter().all(|&b| b == b'\r' || b == b'\n') {
            return Ok(Datagram::KeepAlive);
        }
        let (head, text) = self.parse_head_shared(&buf)?;
        let available = buf.len().saturating_sub(head.body_start);
        let body_len = match head.content_length {
            ContentLengthInfo::Absent | ContentLengthInfo::Conflicting => available,
            ContentLengthInfo::Value(n) if n <= available => n,
            ContentLengthInfo::Value(declared) => {
                let msg = build(buf, head, available, text);
                return Err(ParseError::with_message(
                    ParseErrorKind::ContentLengthExceedsDatagram {
                        declared,
                        available,
                    },
                    msg,
                ));
            }
            ContentLengthInfo::Invalid(e) => {
                let msg = build(buf, head, available, text);
                return Err(ParseError::with_message(
                    ParseErrorKind::Header(HeaderError::new(
                        HeaderName::ContentLength,
                        HeaderErrorKind::Invalid(e),
                    )),
                    msg,
                ));
            }
        };
        let msg = build(buf, head, body_len, text);
        self.validate(msg).map(Datagram::Message)
    }

    /// Frames the head of `buf` (start line, header index). `Truncated` when no empty line.
    pub(crate) fn parse_head(&self, buf: &[u8]) -> Result<Head, ParseError> {
        let raw = self.scan_head(buf)?;
        let text = std::str::from_utf8(buf.get(..raw.body_start).unwrap_or(&[]))
            .map_err(|_| ParseError::new(ParseErrorKind::NonUtf8))?;
        self.finish_head(raw, text)
    }

    /// [`ParseOptions::parse_head`] over a shared buffer, also returning the head as
    /// shared text (validated once; the message keeps it).
    pub(crate) fn parse_head_shared(&self, buf: &Bytes) -> Result<(Head, ByteString), ParseError> {
        let raw = self.scan_head(buf)?;
        let text = ByteString::try_from(buf.slice(..raw.body_start.min(buf.len())))
            .map_err(|_| ParseError::new(ParseErrorKind::NonUtf8))?;
        let head = self.finish_head(raw, &text)?;
        Ok((head, text))
    }

    /// Splits the head into lines and header entries (values trimmed of SP/HT).
    fn scan_head(&self, buf: &[u8]) -> Result<RawHead, ParseError> {
        // First assume every line ends in CR LF and finds its end with one `memchr`; that
        // holds when the head has no other CR, counted once. Anything else, errors
        // included, is decided line by line.
        if let Ok((raw, lines)) = self.scan_lines(buf, true)
            && memchr::memchr_iter(b'\r', buf.get(..raw.body_start).unwrap_or(&[])).count() == lines
        {
            return Ok(raw);
        }
        self.scan_lines(buf, false).map(|(raw, _)| raw)
    }

    /// [`ParseOptions::scan_head`] in one of its modes; also returns the number of lines.
    fn scan_lines(&self, buf: &[u8], crlf: bool) -> Result<(RawHead, usize), ParseError> {
        let line = |pos: usize| {
            if crlf {
                crlf_line(buf, pos).ok_or(ParseError::new(ParseErrorKind::Truncated))
            } else {
                self.line(buf, pos)
            }
        };
        let (line_end, mut pos) = line(0)?;
        let mut lines = 1;
        if line_end == 0 {
            return Err(ParseErrorKind::Empty.into());
        }
        let mut headers: Vec<Entry> = Vec::with_capacity(16);
        let mut folded = false;
        let body_start;
        loop {
            if pos > self.max_head_len {
                return Err(ParseErrorKind::HeadTooLarge.into());
            }
            let (end, next) = line(pos)?;
            lines += 1;
            if end == pos {
                body_start = next;
                break;
            }
            let line = buf.get(pos..end).unwrap_or(&[]);
            if matches!(line.first(), Some(b' ' | b'\t')) {
                let last = headers
                    .last_mut()
                    .ok_or(ParseError::new(ParseErrorKind::OrphanContinuation))?;
                last.value.end = Span::new(0, end).end;
                folded = true;
            } else {
                if headers.len() >= self.max_headers {
                    return Err(ParseErrorKind::TooManyHeaders.into());
                }
                let name_len = line
                    .iter()
                    .position(|&b| !is_token(b))
                    .unwrap_or(line.len());
                if name_len == 0 {
                    return Err(ParseErrorKind::HeaderName.into());
                }
                let mut i = name_len;
                while matches!(line.get(i), Some(b' ' | b'\t')) {
                    i += 1;
                }
                if line.get(i) != Some(&b':') {
                    return Err(ParseErrorKind::MissingColon.into());
                }
                // The value without SP/HT at either end (a folded one is trimmed again).
                let mut start = i + 1;
                while matches!(line.get(start), Some(b' ' | b'\t')) {
                    start += 1;
                }
                let mut stop = line.len();
                while stop > start && matches!(line.get(stop - 1), Some(b' ' | b'\t')) {
                    stop -= 1;
                }
                let name = line.get(..name_len).unwrap_or(&[]);
                headers.push(Entry {
                    name: Span::new(pos, pos + name_len),
                    value: Span::new(pos + start, pos + stop),
                    known: HeaderName::from_bytes(name),
                });
            }
            pos = next;
        }
        if body_start > self.max_head_len {
            return Err(ParseErrorKind::HeadTooLarge.into());
        }
        Ok((
            RawHead {
                line_end,
                headers,
                body_start,
                folded,
            },
            lines,
        ))
    }

    /// Trims folded values, reads Content-Length and the start line, with the head as text.
    fn finish_head(&self, raw: RawHead, head_text: &str) -> Result<Head, ParseError> {
        let RawHead {
            line_end,
            mut headers,
            body_start,
            folded,
        } = raw;
        if folded {
            // Leading LWS including folding, trailing LWS, now the text is known UTF-8.
            for e in &mut headers {
                let raw = head_text.get(e.value.range()).unwrap_or("");
                let trimmed = trim_lws(raw);
                let lead = raw.bytes().position(|c| !is_lws(c)).unwrap_or(raw.len());
                let start = e.value.start as usize + lead;
                e.value = Span::new(start, start + trimmed.len());
            }
        }
        let mut cl = ContentLengthInfo::Absent;
        for e in headers
            .iter()
            .filter(|e| e.known == Some(HeaderName::ContentLength))
        {
            let v = head_text.get(e.value.range()).unwrap_or("");
            cl = match (cl, ContentLength::decode(v)) {
                (ContentLengthInfo::Absent, Ok(n)) => ContentLengthInfo::Value(n.0 as usize),
                (ContentLengthInfo::Absent, Err(e)) => ContentLengthInfo::Invalid(e),
                (ContentLengthInfo::Invalid(e), _) => ContentLengthInfo::Invalid(e),
                (_, Err(e)) => ContentLengthInfo::Invalid(e),
                (ContentLengthInfo::Value(_) | ContentLengthInfo::Conflicting, Ok(_)) => {
                    ContentLengthInfo::Conflicting
                }
            };
        }
        let first = head_text.as_bytes().get(..line_end).unwrap_or(&[]);
        let start = self.start_line(first)?;
        Ok(Head {
            start,
            headers,
            body_start,
            content_length: cl,
        })
    }

    /// Finds the line starting at `pos`: (end of content, start of next line).
    fn line(&self, buf: &[u8], pos: usize) -> Result<(usize, usize), ParseError> {
        let rest = buf.get(pos..).unwrap_or(&[]);
        // Fast path: the first CR or LF is a CR LF pair (the slow path gives the same answer
        // then, and decides every other case).
        if let Some(i) = memchr2(b'\r', b'\n', rest)
            && rest.get(i) == Some(&b'\r')
            && rest.get(i + 1) == Some(&b'\n')
        {
            return Ok((pos + i, pos + i + 2));
        }
        let Some(nl) = memchr(b'\n', rest) else {
            return Err(ParseErrorKind::Truncated.into());
        };
        let content = if nl > 0 && rest.get(nl - 1) == Some(&b'\r') {
            nl - 1
        } else if self.allow_bare_lf {
            nl
        } else {
            return Err(ParseErrorKind::BareLineFeed.into());
        };
        if memchr(b'\r', rest.get(..content).unwrap_or(&[])).is_some() {
            return Err(ParseErrorKind::BareCarriageReturn.into());
        }
        Ok((pos + content, pos + nl + 1))
    }

    fn start_line(&self, line: &[u8]) -> Result<Start, ParseError> {
        let bad = || ParseError::new(ParseErrorKind::StartLine);
        if line.len() > 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            let sp = memchr(b' ', line).ok_or_else(bad)?;
            let code_bytes = line.get(sp + 1..sp + 4).ok_or_else(bad)?;
            if !code_bytes.iter().all(u8::is_ascii_digit)
                || !matches!(line.get(sp + 4), Some(b' ') | None)
            {
                return Err(ParseErrorKind::StatusCode.into());
            }
            if line.get(sp + 4).is_none() {
                return Err(bad());
            }
            let code = code_bytes
                .iter()
                .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
            if !(100..=699).contains(&code) {
                return Err(ParseErrorKind::StatusCode.into());
            }
            return Ok(Start::Response {
                version: Span::new(0, sp),
                code,
                reason: Span::new(sp + 5, line.len()),
            });
        }
        // Request-Line = Method SP Request-URI SP SIP-Version; elements are separated by
        // runs of SP here, the strict check of single SP is in `validate`.
        let first_sp = memchr(b' ', line).ok_or_else(bad)?;
        let version_end = line.len() - line.iter().rev().take_while(|&&b| b == b' ').count();
        let last_sp = memrchr(b' ', line.get(..version_end).unwrap_or(&[])).ok_or_else(bad)?;
        if last_sp <= first_sp {
            return Err(bad());
        }
        let mut uri_start = first_sp + 1;
        while line.get(uri_start) == Some(&b' ') {
            uri_start += 1;
        }
        let before = line.get(..last_sp).unwrap_or(&[]);
        let uri_end = before.len() - before.iter().rev().take_while(|&&b| b == b' ').count();
        if uri_end <= uri_start {
            return Err(bad());
        }
        Ok(Start::Request {
            method: Span::new(0, first_sp),
            uri: Span::new(uri_start, uri_end),
            version: Span::new(last_sp + 1, version_end),
        })
    }

    /// The strict checks on a framed message. On failure the message rides in the error.
    pub(crate) fn validate(&self, mut msg: Message) -> Result<Message, ParseError> {
        let Message {
            buf,
            head,
            headers,
            meta,
            ..
        } = &mut msg;
        match self.check(meta, buf, headers, head) {
            Ok(()) => Ok(msg),
            Err(kind) => {
                msg.meta.cache = crate::cache::Cache::default();
                Err(ParseError::with_message(kind, msg))
            }
        }
    }

    fn check(
        &self,
        meta: &mut Meta,
        buf: &[u8],
        headers: &[Entry],
        head: &str,
    ) -> Result<(), ParseErrorKind> {
        let text = |span: Span| head.get(span.range()).unwrap_or("");
        let (version, req_method) = match meta.start {
            Start::Request {
                version, method, ..
            } => (version, Method::parse(text(method)).ok()),
            Start::Response { version, .. } => (version, None),
        };
        let (major, minor) = parse_version(text(version)).ok_or(ParseErrorKind::Version)?;
        match meta.start {
            Start::Request {
                method,
                uri,
                version,
            } => {
                // Single SP separators, nothing after the version.
                let regular = method.end + 1 == uri.start && uri.end + 1 == version.start;
                let line_len = line_length(head.as_bytes());
                if (!regular || version.end as usize != line_len)
                    && !self.allow_extra_request_line_spaces
                {
                    return Err(ParseErrorKind::StartLine);
                }
                if req_method.is_none() {
                    return Err(ParseErrorKind::Method);
                }
                let mut uri_text = text(uri);
                if uri_text.starts_with('<') && uri_text.ends_with('>') && uri_text.len() >= 2 {
                    if !self.allow_bracketed_request_uri {
                        return Err(ParseErrorKind::RequestUriBracketed);
                    }
                    let inner = Span {
                        start: uri.start + 1,
                        end: uri.end - 1,
                    };
                    if let Start::Request { uri, .. } = &mut meta.start {
                        *uri = inner;
                    }
                    uri_text = text(inner);
                }
                let parsed = Uri::parse(uri_text).map_err(|e| {
                    // No URI holds SP or HT: name that rather than the part it broke.
                    if uri_text.bytes().any(|b| b == b' ' || b == b'\t') {
                        ParseErrorKind::RequestUri(crate::error::UriError::Character)
                    } else {
                        ParseErrorKind::RequestUri(e)
                    }
                })?;
                if let Uri::Sip(s) = &parsed
                    && s.headers().is_some()
                    && !self.allow_request_uri_headers
                {
                    return Err(ParseErrorKind::RequestUriHeaders);
                }
            }
            Start::Response { reason, .. } => {
                let r = buf.get(reason.range()).unwrap_or(&[]);
                if r.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
                    return Err(ParseErrorKind::ReasonPhrase);
                }
            }
        }
        if (major, minor) != (2, 0) {
            return Err(ParseErrorKind::UnsupportedVersion { major, minor });
        }
        // Filled in place: the cache is large.
        let cache = &mut meta.cache;
        let mut cseq_lines = 0usize;
        let mut first_cseq: Option<CSeq<'_>> = None;
        let (mut seen, mut multiple) = (0u8, 0u8);
        for (i, e) in headers.iter().enumerate() {
            let Some(name) = e.known else { continue };
            let bit = crate::cache::Cache::bit(name);
            multiple |= seen & bit;
            seen |= bit;
            let value = head.get(e.value.range()).ok_or(ParseErrorKind::NonUtf8)?;
            let line = u32::try_from(i).unwrap_or(u32::MAX);
            let result = match name {
                HeaderName::Via => check_via(value).map(|first| {
                    if cache.via.is_none() {
                        cache.via = first.map(|v| (line, v));
                    }
                }),
                HeaderName::From | HeaderName::To => {
                    let slot = if name == HeaderName::From {
                        &mut cache.from
                    } else {
                        &mut cache.to
                    };
                    self.check_addr(value, false, false, |first| {
                        if slot.is_none() {
                            *slot = first.flatten().map(|a| (line, a));
                        }
                    })
                }
                HeaderName::CallId => check_all::<CallId<'_>>(value).map(|()| {
                    cache.call_id.get_or_insert(line);
                }),
                HeaderName::CSeq => CSeq::decode(value).map(|c| {
                    cseq_lines += 1;
                    if first_cseq.is_none() {
                        first_cseq = Some(c);
                        cache.cseq = c.method.known().map(|m| (c.seq, m));
                    }
                }),
                HeaderName::Contact => self.check_addr(value, true, true, |first| {
                    if cache.contact.is_none() {
                        cache.contact = first.map(|c| (line, c));
                    }
                }),
                HeaderName::MaxForwards => check_all::<MaxForwards>(value),
                HeaderName::ContentType => check_all::<ContentType<'_>>(value),
                HeaderName::Route | HeaderName::RecordRoute => {
                    self.check_addr(value, true, false, |_| {})
                }
                HeaderName::Require => check_tokens::<Require<'_>>(value),
                HeaderName::ProxyRequire => check_tokens::<ProxyRequire<'_>>(value),
                HeaderName::Supported => check_tokens::<Supported<'_>>(value),
                HeaderName::Allow => check_tokens::<Allow<'_>>(value),
                HeaderName::Accept => check_all::<Accept<'_>>(value),
                HeaderName::Date if self.check_date => check_all::<Date>(value),
                _ => Ok(()),
            };
            result.map_err(|e| {
                ParseErrorKind::Header(HeaderError::new(name, HeaderErrorKind::Invalid(e)))
            })?;
        }
        cache.multiple = multiple;
        if let Some(method) = req_method
            && cseq_lines == 1
            && let Some(c) = first_cseq
            && c.method != method
            && !matches!(method, Method::Other(m) if m == c.method.as_str())
        {
            return Err(ParseErrorKind::CSeqMethodMismatch);
        }
        Ok(())
    }
}

impl ParseOptions {
    /// Validates name-addr headers, refusing repaired deviations unless a toggle allows them.
    /// Hands what the first element decoded to, as ranges of `value`, to `keep` (`Some(None)`
    /// for a Contact `*`; `None` when it cannot be kept).
    fn check_addr(
        &self,
        value: &str,
        list: bool,
        contact: bool,
        keep: impl FnOnce(Option<Option<NameAddrSpans>>),
    ) -> Result<(), ValueError> {
        let mut keep = Some(keep);
        // `scanned`: what the fast path already gave for `item`, if it ran.
        let mut one = |item: &str, scanned: Option<Option<NameAddrSpans>>| {
            if item.is_empty() {
                return Err(ValueError::EmptyElement);
            }
            // The common shape straight to ranges (it has no violation to report).
            if let Some(spans) = scanned.unwrap_or_else(|| NameAddrSpans::scan(value, item)) {
                if contact {
                    let params = spans.params(value).unwrap_or("");
                    check_contact_params(&HeaderParams::new(params))?;
                }
                if let Some(k) = keep.take() {
                    k(Some(Some(spans)));
                }
                return Ok(());
            }
            let mut violation = None;
            if contact {
                let c = Contact::decode_checked(item, &mut violation)?;
                if let Some(k) = keep.take() {
                    k(match c.addr() {
                        None => Some(None),
                        Some(a) => NameAddrSpans::capture(value, a).map(Some),
                    });
                }
            } else {
                let a = NameAddr::parse_checked(item, &mut violation)?;
                if let Some(k) = keep.take() {
                    k(NameAddrSpans::capture(value, &a).map(Some));
                }
            }
            match violation {
                Some(Violation::UnquotedDisplayName) if self.allow_unquoted_display_name => Ok(()),
                Some(Violation::LwsInBrackets) if self.allow_lws_in_angle_brackets => Ok(()),
                Some(Violation::UnbracketedReserved) if self.allow_unbracketed_reserved_uri => {
                    Ok(())
                }
                Some(v) => Err(v.error()),
                None => Ok(()),
            }
        };
        // The common shape holds no list comma: a whole value of that shape is one element.
        let whole = NameAddrSpans::scan(value, value);
        if !list || whole.is_some() {
            return one(value, Some(whole));
        }
        if trim_lws(value).is_empty() {
            return Err(ValueError::Empty);
        }
        split_list(value).try_for_each(|item| one(item, None))
    }
}

/// [`check_all`] for Via, returning the first element as ranges of `value`.
fn check_via(value: &str) -> Result<Option<ViaSpans>, ValueError> {
    // One element of the common shape holds no comma: no need to split the list.
    if let Some(spans) = ViaSpans::scan(value) {
        return Ok(Some(spans));
    }
    if trim_lws(value).is_empty() {
        return Err(ValueError::Empty);
    }
    let mut first = None;
    for (i, item) in split_list(value).enumerate() {
        if item.is_empty() {
            return Err(ValueError::EmptyElement);
        }
        let v = Via::decode(item)?;
        if i == 0 {
            first = ViaSpans::capture(value, &v);
        }
    }
    Ok(first)
}

/// The line starting at `pos` when it ends in CR LF (see [`ParseOptions::scan_head`]):
/// (end of content, start of next line).
fn crlf_line(buf: &[u8], pos: usize) -> Option<(usize, usize)> {
    let nl = memchr(b'\n', buf.get(pos..)?)?;
    (nl > 0 && buf.get(pos + nl - 1) == Some(&b'\r')).then(|| (pos + nl - 1, pos + nl + 1))
}

/// Length of the first line, without its line ending.
fn line_length(buf: &[u8]) -> usize {
    let nl = memchr(b'\n', buf).unwrap_or(buf.len());
    if nl > 0 && buf.get(nl - 1) == Some(&b'\r') {
        nl - 1
    } else {
        nl
    }
}

/// `"SIP" "/" 1*DIGIT "." 1*DIGIT` (SIP case-insensitive).
fn parse_version(v: &str) -> Option<(u32, u32)> {
    if v == "SIP/2.0" {
        return Some((2, 0));
    }
    let rest = v
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .and(v.get(4..))?;
    let (a, b) = rest.split_once('.')?;
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    Some((num(a)?, num(b)?))
}

fn check_all<'a, H: Header<'a>>(value: &'a str) -> Result<(), ValueError> {
    if !H::LIST {
        return H::decode(value).map(|_| ());
    }
    if trim_lws(value).is_empty() {
        return if H::EMPTY_LIST_OK {
            Ok(())
        } else {
            Err(ValueError::Empty)
        };
    }
    for item in split_list(value) {
        if item.is_empty() {
            return Err(ValueError::EmptyElement);
        }
        H::decode(item)?;
    }
    Ok(())
}

/// [`check_all`] for the token-list headers (Allow, Supported, Require, Proxy-Require, whose
/// elements are tokens): a one-pass accept of `token *(LWS "," LWS token)`; anything else
/// goes element by element, which also names the error.
fn check_tokens<'a, H: Header<'a>>(value: &'a str) -> Result<(), ValueError> {
    if is_token_list(value) {
        Ok(())
    } else {
        check_all::<H>(value)
    }
}

fn is_token_list(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while b.get(i).is_some_and(|&c| is_token(c)) {
            i += 1;
        }
        if i == start {
            return false;
        }
        while b.get(i).is_some_and(|&c| is_lws(c)) {
            i += 1;
        }
        match b.get(i) {
            None => return true,
            Some(b',') => i += 1,
            Some(_) => return false,
        }
        while b.get(i).is_some_and(|&c| is_lws(c)) {
            i += 1;
        }
    }
}

/// Builds the message from a framed head and the body length.
/// `text` is the head as text (`buf` up to the body).
pub(crate) fn build(buf: Bytes, head: Head, body_len: usize, text: ByteString) -> Message {
    let end = head.body_start.saturating_add(body_len).min(buf.len());
    let buf = buf.slice(..end);
    let body = buf.slice(head.body_start.min(end)..end);
    Message {
        buf,
        head: text,
        headers: head.headers,
        body,
        meta: Box::new(crate::message::Meta {
            start: head.start,
            cache: crate::cache::Cache::default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Message, ParseError> {
        Message::parse(Bytes::copy_from_slice(s.as_bytes()))
    }

    const OPTIONS: &str = "OPTIONS sip:user@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nTo: <sip:user@example.com>\r\nFrom: <sip:caller@example.com>;tag=1\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn minimal_request() {
        let m = parse(OPTIONS).unwrap();
        assert_eq!(m.method(), Some(Method::Options));
        assert_eq!(m.header_count(), 7);
        assert!(m.check_mandatory().is_ok());
        assert_eq!(m.to_bytes().as_ref(), OPTIONS.as_bytes());
    }

    #[test]
    fn start_line_errors() {
        let e = parse(&OPTIONS.replace("OPTIONS sip", "OPTIONS  sip")).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::StartLine);
        assert!(e.message().is_some());
        let e = parse(&OPTIONS.replace("SIP/2.0\r\nVia", "SIP/2.0 \r\nVia")).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::StartLine);
        let o = ParseOptions {
            allow_extra_request_line_spaces: true,
            ..ParseOptions::default()
        };
        let m = o
            .parse_datagram(Bytes::from(OPTIONS.replace("OPTIONS sip", "OPTIONS   sip")))
            .unwrap();
        assert_eq!(m.request_uri_str(), Some("sip:user@example.com"));
        let e = parse(&OPTIONS.replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia")).unwrap_err();
        assert_eq!(
            e.kind(),
            ParseErrorKind::UnsupportedVersion { major: 3, minor: 0 }
        );
        assert_eq!(e.status_code(), 505);
        let e = parse(&OPTIONS.replace("\r\nVia", "\nVia")).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::BareLineFeed);
        let e = parse(&OPTIONS.replace("Call-ID: abc", "Call-ID abc")).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::MissingColon);
        assert_eq!(parse("").unwrap_err().kind(), ParseErrorKind::Truncated);
        assert_eq!(parse("\r\n").unwrap_err().kind(), ParseErrorKind::Empty);
    }

    #[test]
    fn limits() {
        let o = ParseOptions {
            max_headers: 3,
            ..ParseOptions::default()
        };
        let e = o.parse_datagram(Bytes::from(OPTIONS)).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::TooManyHeaders);
        assert_eq!(e.status_code(), 513);
        let o = ParseOptions {
            max_head_len: 40,
            ..ParseOptions::default()
        };
        let e = o.parse_datagram(Bytes::from(OPTIONS)).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::HeadTooLarge);
    }

    #[test]
    fn head_scan_modes_agree() {
        // Whenever the one-`memchr`-per-line mode is taken, it gives what the line-by-line
        // mode gives; bare CR and bare LF anywhere are still named.
        let o = ParseOptions::default();
        let seeds = [OPTIONS, "A sip:a SIP/2.0\r\nX: a\r\n b\r\n\r\n"];
        crate::mutate::check_fast_path(&seeds, b"\r\n :a\t", |s| {
            let b = s.as_bytes();
            let (fast, lines) = o.scan_lines(b, true).ok()?;
            let cr = memchr::memchr_iter(b'\r', b.get(..fast.body_start)?).count();
            (cr == lines).then(|| {
                let slow = o.scan_lines(b, false).map(|(r, _)| r);
                (
                    format!("{:?}", Ok::<_, ParseError>(fast)),
                    format!("{slow:?}"),
                )
            })
        });
        for (from, to, kind) in [
            (
                "Call-ID: abc",
                "Call-ID: a\rbc",
                ParseErrorKind::BareCarriageReturn,
            ),
            (
                "OPTIONS sip",
                "OPT\rIONS sip",
                ParseErrorKind::BareCarriageReturn,
            ),
            (
                "Call-ID: abc\r\n",
                "Call-ID: abc\n",
                ParseErrorKind::BareLineFeed,
            ),
        ] {
            let e = parse(&OPTIONS.replace(from, to)).unwrap_err();
            assert_eq!(e.kind(), kind, "{to:?}");
        }
    }

    #[test]
    fn token_list_fast_path_agrees() {
        for (v, ok) in [
            ("INVITE, ACK ,BYE", true),
            ("timer", true),
            ("a,\r\n b", true),
            ("", false),
            ("a,,b", false),
            ("a,", false),
            ("a b", false),
            ("a;b", false),
        ] {
            assert_eq!(is_token_list(v), ok, "{v:?}");
            if ok {
                assert!(check_all::<Require<'_>>(v).is_ok(), "{v:?}");
                assert!(check_all::<Allow<'_>>(v).is_ok(), "{v:?}");
            }
            assert_eq!(
                check_tokens::<Require<'_>>(v),
                check_all::<Require<'_>>(v),
                "{v:?}"
            );
        }
    }

    #[test]
    fn response_line() {
        let m = parse("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(m.status(), Some(180));
        assert_eq!(m.reason(), Some("Ringing"));
        assert!(parse("SIP/2.0 99 Odd\r\n\r\n").is_err());
        assert!(parse("SIP/2.0 700 Odd\r\n\r\n").is_err());
        assert!(parse("SIP/2.0 2000 Odd\r\n\r\n").is_err());
        assert!(parse("SIP/2.0 200\r\n\r\n").is_err());
    }
}
