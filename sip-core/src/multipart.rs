//! Multipart bodies (RFC 2046 §5.1) exposed as parts, zero-copy over the message body.

use bytes::Bytes;
use memchr::memmem;

use crate::header::{Header, MediaType};
use crate::message::Message;

/// Why a multipart body could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The message has no `multipart/*` Content-Type.
    #[error("not a multipart body")]
    NotMultipart,
    /// No `boundary` parameter.
    #[error("missing boundary parameter")]
    NoBoundary,
    /// The first delimiter line is missing.
    #[error("missing first boundary delimiter")]
    NoDelimiter,
    /// The close delimiter (`--boundary--`) is missing.
    #[error("missing close delimiter")]
    Unterminated,
    /// A part head without the empty line that ends it.
    #[error("malformed part head")]
    PartHead,
}

/// One body part: its header block and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    head: Bytes,
    body: Bytes,
}

impl Part {
    /// The raw part header block (without the empty line).
    pub const fn head(&self) -> &Bytes {
        &self.head
    }

    /// The part content, as bytes (binary parts may hold NUL, bare CR and LF).
    pub const fn body(&self) -> &Bytes {
        &self.body
    }

    /// Part headers as (name, value); lines that are not `name: value` are skipped.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        std::str::from_utf8(&self.head)
            .unwrap_or("")
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim(), v.trim()))
    }

    /// The part's Content-Type, if present and well formed.
    pub fn content_type(&self) -> Option<MediaType<'_>> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type") || n.eq_ignore_ascii_case("c"))
            .and_then(|(_, v)| MediaType::parse(v).ok())
    }
}

/// Splits the body of `msg` by the boundary of its `multipart/*` Content-Type.
pub fn parts(msg: &Message) -> Result<Vec<Part>, MultipartError> {
    let ct = msg
        .content_type()
        .ok()
        .flatten()
        .ok_or(MultipartError::NotMultipart)?;
    if !ct.kind.eq_ignore_ascii_case("multipart") {
        return Err(MultipartError::NotMultipart);
    }
    let boundary = ct.param("boundary").ok_or(MultipartError::NoBoundary)?;
    split(msg.body(), &boundary)
}

/// Splits `body` on `boundary` (RFC 2046 §5.1.1).
pub fn split(body: &Bytes, boundary: &str) -> Result<Vec<Part>, MultipartError> {
    let mut delim = Vec::with_capacity(boundary.len() + 4);
    delim.extend_from_slice(b"\r\n--");
    delim.extend_from_slice(boundary.as_bytes());
    let finder = memmem::Finder::new(&delim);
    // The first delimiter may open the body (no preceding CRLF).
    let mut pos = if body.starts_with(&delim[2..]) {
        delim.len() - 2
    } else {
        finder.find(body).ok_or(MultipartError::NoDelimiter)? + delim.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = body.get(pos..).unwrap_or(&[]);
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Skip transport padding up to the CRLF ending the delimiter line.
        let line_end = memmem::find(rest, b"\r\n").ok_or(MultipartError::Unterminated)?;
        let start = pos + line_end + 2;
        let next = finder
            .find(body.get(start..).unwrap_or(&[]))
            .ok_or(MultipartError::Unterminated)?
            + start;
        let content = body.slice(start..next);
        let (head, part_body) = if content.starts_with(b"\r\n") {
            (Bytes::new(), content.slice(2..))
        } else {
            let sep = memmem::find(&content, b"\r\n\r\n").ok_or(MultipartError::PartHead)?;
            (content.slice(..sep), content.slice(sep + 4..))
        };
        parts.push(Part {
            head,
            body: part_body,
        });
        pos = next + delim.len();
        if parts.len() > 1024 {
            return Err(MultipartError::Unterminated);
        }
    }
}

/// Decodes a header value from a part as a typed header.
pub fn decode_part_header<'a, H: Header<'a>>(part: &'a Part) -> Option<H> {
    part.headers()
        .find(|(n, _)| n.eq_ignore_ascii_case(H::NAME.as_str()))
        .and_then(|(_, v)| H::decode(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rfc2046_style_body() {
        let body = Bytes::from_static(
            b"preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b1  \r\n\r\n\x00\r\r\n\n\r\n--b1--\r\nepilogue",
        );
        let p = split(&body, "b1").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].body().as_ref(), b"Hello");
        assert!(p[0].content_type().unwrap().is("text/plain"));
        assert_eq!(p[1].body().as_ref(), b"\x00\r\r\n\n");
        assert!(split(&body, "zz").is_err());
        assert_eq!(
            split(&Bytes::from_static(b"--b1\r\n\r\nx"), "b1"),
            Err(MultipartError::Unterminated)
        );
    }
}
