//! Stream framing for TCP, TLS and WebSocket-less byte streams (RFC 3261 §18.3, RFC 5626 §4.4.1).

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{ParseError, ParseErrorKind};
use crate::message::Message;
use crate::parse::{ContentLengthInfo, Head, ParseOptions, build};

/// What [`StreamFramer::next_frame`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// Not enough bytes for a whole message: feed more.
    Partial,
    /// A complete, valid message.
    Message(Message),
    /// A complete message that failed validation. The stream is still in sync (its length
    /// was known), so the caller may answer `400` and carry on.
    Invalid(ParseError),
    /// A double-CRLF keep-alive ping (RFC 5626 §4.4.1): answer with a single CRLF pong.
    Ping,
    /// A single CRLF (RFC 5626 pong), reported only with [`KeepAliveRole::Client`].
    Pong,
}

/// Which side of RFC 5626 keep-alives this framer is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeepAliveRole {
    /// Receives pings (`CRLFCRLF` → [`Frame::Ping`]); a lone CRLF before a message is
    /// skipped silently (RFC 3261 §7.5).
    #[default]
    Server,
    /// Receives pongs: every lone CRLF is a [`Frame::Pong`].
    Client,
}

/// Frames messages out of a byte stream fed in arbitrary chunks.
///
/// ```
/// use pbxkit_sip_core::{Frame, StreamFramer};
/// let mut framer = StreamFramer::default();
/// framer.push(b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n");
/// assert!(matches!(framer.next_frame(), Ok(Frame::Partial)));
/// framer.push(b"Content-Length: 0\r\n\r\n");
/// assert!(matches!(framer.next_frame(), Ok(Frame::Message(_))));
/// ```
///
/// Content-Length is mandatory on streams. A missing, invalid or conflicting Content-Length,
/// or a head beyond the limits, is fatal: [`StreamFramer::next_frame`] returns `Err` and the
/// connection must be closed; every later call returns the same error.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: BytesMut,
    options: ParseOptions,
    role: KeepAliveRole,
    /// Bytes already scanned for the end of the head, so a trickle is not rescanned.
    scanned: usize,
    /// Once the head is framed: the head and the whole message length.
    pending: Option<(Head, usize)>,
    failed: Option<ParseError>,
}

impl StreamFramer {
    /// A framer with the given options and role.
    pub fn new(options: ParseOptions, role: KeepAliveRole) -> Self {
        Self {
            options,
            role,
            ..Self::default()
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next frame out of the buffer.
    pub fn next_frame(&mut self) -> Result<Frame, ParseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.frame() {
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
            ok => ok,
        }
    }

    fn frame(&mut self) -> Result<Frame, ParseError> {
        if self.pending.is_none() {
            // Keep-alives and CRLFs between messages.
            match (
                self.buf.first(),
                self.buf.get(1),
                self.buf.get(2),
                self.buf.get(3),
            ) {
                (Some(b'\r'), Some(b'\n'), Some(b'\r'), Some(b'\n'))
                    if self.role == KeepAliveRole::Server =>
                {
                    self.buf.advance(4);
                    return Ok(Frame::Ping);
                }
                (Some(b'\r'), None, _, _)
                | (Some(b'\r'), Some(b'\n'), None, _)
                | (Some(b'\r'), Some(b'\n'), Some(b'\r'), None)
                    if self.role == KeepAliveRole::Server =>
                {
                    return Ok(Frame::Partial);
                }
                (Some(b'\r'), Some(b'\n'), _, _) => {
                    self.buf.advance(2);
                    return match self.role {
                        KeepAliveRole::Client => Ok(Frame::Pong),
                        KeepAliveRole::Server => self.frame(),
                    };
                }
                (Some(b'\r'), None, _, _) => return Ok(Frame::Partial),
                (Some(b'\n'), _, _, _) if self.options.allow_bare_lf => {
                    self.buf.advance(1);
                    return self.frame();
                }
                (None, _, _, _) => return Ok(Frame::Partial),
                _ => {}
            }
            // Look for the empty line ending the head.
            let from = self.scanned.saturating_sub(3);
            let hay = self.buf.get(from..).unwrap_or(&[]);
            let found = memchr::memmem::find(hay, b"\r\n\r\n").is_some()
                || (self.options.allow_bare_lf && memchr::memmem::find(hay, b"\n\n").is_some())
                || (self.options.allow_bare_lf && memchr::memmem::find(hay, b"\n\r\n").is_some());
            if !found {
                self.scanned = self.buf.len();
                if self.buf.len() > self.options.max_head_len {
                    return Err(ParseErrorKind::HeadTooLarge.into());
                }
                return Ok(Frame::Partial);
            }
            let head = self.options.parse_head(&self.buf)?;
            let len = match head.content_length {
                ContentLengthInfo::Value(n) => n,
                ContentLengthInfo::Absent => {
                    return Err(ParseErrorKind::MissingContentLength.into());
                }
                ContentLengthInfo::Conflicting => {
                    return Err(ParseErrorKind::ConflictingContentLength.into());
                }
                ContentLengthInfo::Invalid(e) => {
                    return Err(ParseErrorKind::Header(crate::error::HeaderError::new(
                        crate::name::HeaderName::ContentLength,
                        crate::error::HeaderErrorKind::Invalid(e),
                    ))
                    .into());
                }
            };
            if len > self.options.max_body_len {
                return Err(ParseErrorKind::BodyTooLarge.into());
            }
            let need = head.body_start + len;
            self.pending = Some((head, need));
        }
        match &self.pending {
            Some((_, need)) if self.buf.len() >= *need => {}
            _ => return Ok(Frame::Partial),
        }
        let Some((head, need)) = self.pending.take() else {
            return Ok(Frame::Partial);
        };
        // Spans of `head` index from the start of the buffer, which `split_to` keeps.
        let bytes: Bytes = self.buf.split_to(need).freeze();
        self.scanned = 0;
        let body_len = need - head.body_start;
        // `parse_head` checked these bytes are UTF-8; the message keeps them as text.
        let Ok(text) = bytestring::ByteString::try_from(bytes.slice(..head.body_start)) else {
            return Err(ParseErrorKind::NonUtf8.into());
        };
        let msg = build(bytes, head, body_len, text);
        Ok(match self.options.validate(msg) {
            Ok(m) => Frame::Message(m),
            Err(e) => Frame::Invalid(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nTo: <sip:a@example.com>\r\nFrom: <sip:b@example.com>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 5\r\n\r\nhello";

    #[test]
    fn keepalive_ping_and_messages() {
        let mut f = StreamFramer::default();
        f.push(b"\r\n\r\n");
        assert_eq!(f.next_frame(), Ok(Frame::Ping));
        assert_eq!(f.next_frame(), Ok(Frame::Partial));
        f.push(b"\r\n");
        f.push(MSG);
        f.push(MSG);
        let Ok(Frame::Message(m)) = f.next_frame() else {
            panic!()
        };
        assert_eq!(m.body().as_ref(), b"hello");
        assert!(matches!(f.next_frame(), Ok(Frame::Message(_))));
        assert_eq!(f.next_frame(), Ok(Frame::Partial));
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn client_role_sees_pongs() {
        let mut f = StreamFramer::new(ParseOptions::default(), KeepAliveRole::Client);
        f.push(b"\r\n");
        assert_eq!(f.next_frame(), Ok(Frame::Pong));
        assert_eq!(f.next_frame(), Ok(Frame::Partial));
    }

    #[test]
    fn missing_content_length_is_fatal() {
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n");
        let e = f.next_frame().unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::MissingContentLength);
        f.push(MSG);
        assert_eq!(f.next_frame().unwrap_err(), e);
    }

    #[test]
    fn head_limit_on_a_trickle() {
        let o = ParseOptions {
            max_head_len: 100,
            ..ParseOptions::default()
        };
        let mut f = StreamFramer::new(o, KeepAliveRole::Server);
        for _ in 0..200 {
            f.push(b"x");
        }
        assert_eq!(
            f.next_frame().unwrap_err().kind(),
            ParseErrorKind::HeadTooLarge
        );
    }
}
