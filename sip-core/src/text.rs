//! Character classes and a small bounds-checked scanner shared by the decoders.
//!
//! Every slice is taken with `str::get`, so a decoder can never panic on input.

use crate::error::{Expected, ValueError};

/// A 256-entry lookup table of a byte class (one load instead of a chain of range tests).
macro_rules! class_table {
    ($class:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $class(i as u8);
            i += 1;
        }
        t
    }};
}
pub(crate) use class_table;

const TOKEN: [bool; 256] = class_table!(token_class);
const WORD: [bool; 256] = class_table!(word_class);
const UNRESERVED: [bool; 256] = class_table!(unreserved_class);

/// RFC 3261 §25.1 `token` characters.
pub(crate) const fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// RFC 3261 §25.1 `word` characters (Call-ID).
pub(crate) const fn is_word(b: u8) -> bool {
    WORD[b as usize]
}

/// RFC 3986 / RFC 3261 `unreserved`.
pub(crate) const fn is_unreserved(b: u8) -> bool {
    UNRESERVED[b as usize]
}

const fn token_class(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~')
}

const fn word_class(b: u8) -> bool {
    token_class(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// Whitespace inside a header value: SP, HTAB, and the CR LF of a folded line
/// (the head parser guarantees that a CR LF inside a value is followed by SP/HTAB).
pub(crate) const fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

const fn unreserved_class(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')')
}

/// RFC 3261 `reserved`.
pub(crate) const fn is_reserved(b: u8) -> bool {
    matches!(
        b,
        b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b','
    )
}

/// Value of an ASCII hex digit.
pub(crate) const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Checks that every byte is allowed by `allowed` or is a valid `%HEX HEX` escape.
/// Returns the offset of the first offending byte.
pub(crate) fn check_escaped(s: &str, allowed: impl Fn(u8) -> bool) -> Result<(), usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            match (b.get(i + 1).copied(), b.get(i + 2).copied()) {
                (Some(h), Some(l)) if hex_value(h).is_some() && hex_value(l).is_some() => i += 3,
                _ => return Err(i),
            }
        } else if allowed(c) {
            i += 1;
        } else {
            return Err(i);
        }
    }
    Ok(())
}

/// Percent-decodes `s` into bytes (invalid escapes are kept literally).
pub(crate) fn unescape(s: &str) -> std::borrow::Cow<'_, [u8]> {
    let b = s.as_bytes();
    if !b.contains(&b'%') {
        return std::borrow::Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_value),
                b.get(i + 2).copied().and_then(hex_value),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

/// Removes the quotes and `\` escapes of a quoted string (given with its quotes).
pub(crate) fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s);
    if !inner.contains('\\') {
        return std::borrow::Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Position of the first `b` in `s` (a plain loop: faster than `str::find` on short text).
pub(crate) fn find_byte(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|c| c == b)
}

/// Splits `s` around the first `b`.
pub(crate) fn split_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = find_byte(s, b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Trims LWS (including folding) at both ends.
pub(crate) fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_lws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_lws(c)).map_or(start, |i| i + 1);
    // Both ends sit next to ASCII bytes (or the string ends), so they are char boundaries.
    s.get(start..end).unwrap_or("")
}

/// Parses a decimal number made only of digits (leading zeros allowed), refusing overflow.
pub(crate) fn parse_u32(s: &str) -> Result<u32, ValueError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::Expected(Expected::Number));
    }
    let mut v: u32 = 0;
    for b in s.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .ok_or(ValueError::Overflow)?;
    }
    Ok(v)
}

/// A forward-only scanner over one header value.
#[derive(Debug, Clone)]
pub(crate) struct Scanner<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) const fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn slice(&self, from: usize, to: usize) -> Result<&'a str, ValueError> {
        self.s.get(from..to).ok_or(ValueError::Syntax(from))
    }

    /// Skips SP, HTAB and folding; returns whether anything was skipped.
    pub(crate) fn skip_lws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_lws) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `b` surrounded by optional LWS (RFC 3261 `SWS b SWS`).
    pub(crate) fn eat_sep(&mut self, b: u8) -> bool {
        let save = self.pos;
        self.skip_lws();
        if self.eat(b) {
            self.skip_lws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    pub(crate) fn expect(&mut self, b: u8, what: Expected) -> Result<(), ValueError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    pub(crate) const fn error(&self, what: Expected) -> ValueError {
        ValueError::Expected(what)
    }

    /// Advances one byte (no-op at the end).
    pub(crate) fn bump(&mut self) {
        if !self.at_end() {
            self.pos += 1;
        }
    }

    /// Consumes bytes while `f` holds; returns the consumed slice (maybe empty).
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// A non-empty token.
    pub(crate) fn token(&mut self) -> Result<&'a str, ValueError> {
        let t = self.take_while(is_token);
        if t.is_empty() {
            Err(ValueError::Expected(Expected::Token))
        } else {
            Ok(t)
        }
    }

    /// A quoted string, returned with its quotes; escapes (`\` + any octet but CR/LF) kept.
    pub(crate) fn quoted(&mut self) -> Result<&'a str, ValueError> {
        let start = self.pos;
        if !self.eat(b'"') {
            return Err(ValueError::Expected(Expected::QuotedString));
        }
        let b = self.s.as_bytes();
        loop {
            match b.get(self.pos).copied() {
                None => return Err(ValueError::UnterminatedQuote),
                Some(b'"') => {
                    self.pos += 1;
                    return self.slice(start, self.pos);
                }
                Some(b'\\') => match b.get(self.pos + 1).copied() {
                    Some(c) if c != b'\r' && c != b'\n' && c < 0x80 => self.pos += 2,
                    _ => return Err(ValueError::Syntax(self.pos)),
                },
                // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
                Some(c) if c == b' ' || c == b'\t' || c >= 0x21 => self.pos += 1,
                Some(b'\r') if b.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
                Some(_) => return Err(ValueError::Syntax(self.pos)),
            }
        }
    }
}
