//! Typed headers, decoded on access from the raw header store.
//!
//! Every typed header implements [`Header`]: a name and a decoder from one raw value
//! (one element, for comma-separated list headers). Decoders borrow from the message, so a
//! decoded header costs no allocation. Use them through
//! [`Message::header`](crate::Message::header) and
//! [`Message::header_all`](crate::Message::header_all).

mod addr;
mod auth;
mod basic;
mod via;

pub use addr::{
    Contact, ContactValue, Diversion, From, NameAddr, PAssertedIdentity, RecordRoute, ReferTo,
    ReferredBy, Route, To,
};
pub(crate) use addr::{NameAddrSpans, Violation, check_contact_params};
pub use auth::{
    AuthParams, Authorization, Challenge, Credentials, ProxyAuthenticate, ProxyAuthorization,
    WwwAuthenticate,
};
pub use basic::{
    Accept, Allow, AllowEvents, CSeq, CallId, ContentLength, ContentType, Date, Event, Expires,
    MaxForwards, MediaType, MinExpires, MinSe, OptionTag, ProxyRequire, RAck, RSeq, Replaces,
    Require, RetryAfter, Server, SessionExpires, SubscriptionState, Supported, Unsupported,
    UserAgent,
};
pub(crate) use via::ViaSpans;
pub use via::{BRANCH_COOKIE, Transport, Via};

use crate::error::{Expected, ValueError};
use crate::name::HeaderName;
use crate::text::{Scanner, is_token, trim_lws};

/// A header with a typed form.
pub trait Header<'a>: Sized {
    /// The header's name.
    const NAME: HeaderName;
    /// Whether the header is a comma-separated list (`#element`), whose lines
    /// [`Message::header_all`](crate::Message::header_all) splits into elements.
    const LIST: bool = false;
    /// Whether an empty value is a valid empty list (`Supported:` with no tag).
    const EMPTY_LIST_OK: bool = false;

    /// Decodes one value (one element of a list header), LWS already trimmed.
    fn decode(value: &'a str) -> Result<Self, ValueError>;

    /// The value the strict parser already decoded, if it kept it: the single line, or the
    /// first element of the first line of a list header. Only an accelerator; `None` makes
    /// [`Message::header`](crate::Message::header) decode.
    #[doc(hidden)]
    fn cached(_msg: &'a crate::Message) -> Option<Self> {
        None
    }
}

/// Splits a list header value on top-level commas (outside quotes and `<>`), trimming LWS.
/// Yields an error for an empty element (`a,,b`, RFC 4475 §3.1.2.1).
pub(crate) fn split_list(value: &str) -> ListItems<'_> {
    ListItems { rest: Some(value) }
}

const fn list_special_class(b: u8) -> bool {
    matches!(b, b'\\' | b'"' | b'<' | b'>' | b',')
}

/// The bytes [`ListItems`] acts on.
const LIST_SPECIAL: [bool; 256] = crate::text::class_table!(list_special_class);

/// Iterator of [`split_list`].
#[derive(Debug, Clone)]
pub(crate) struct ListItems<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for ListItems<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let b = s.as_bytes();
        // Only a comma splits: without one, the rest is the last element.
        if memchr::memchr(b',', b).is_none() {
            self.rest = None;
            return Some(trim_lws(s));
        }
        let mut i = 0;
        let mut in_quote = false;
        let mut in_angle = false;
        while i < b.len() {
            // Skip the bytes no state cares about in a tight loop.
            match b
                .get(i..)
                .and_then(|r| r.iter().position(|&c| LIST_SPECIAL[c as usize]))
            {
                Some(skip) => i += skip,
                None => break,
            }
            let Some(&c) = b.get(i) else { break };
            match c {
                b'\\' if in_quote => i += 1,
                b'"' => in_quote = !in_quote,
                b'<' if !in_quote => in_angle = true,
                b'>' if !in_quote => in_angle = false,
                b',' if !in_quote && !in_angle => {
                    self.rest = s.get(i + 1..);
                    return Some(trim_lws(s.get(..i).unwrap_or("")));
                }
                _ => {}
            }
            i += 1;
        }
        self.rest = None;
        Some(trim_lws(s))
    }
}

/// Generic header parameters (`*( SEMI generic-param )`), borrowed, validated at decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderParams<'a> {
    raw: &'a str,
}

impl<'a> HeaderParams<'a> {
    /// Parameters known to be valid (a decoder checked them).
    pub(crate) const fn new(raw: &'a str) -> Self {
        Self { raw }
    }

    /// Validates `raw`, which must be empty or start with `;` (after optional LWS).
    pub(crate) fn parse(raw: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(raw);
        while !sc.at_end() {
            next_param(&mut sc)?;
        }
        Ok(Self { raw })
    }

    /// [`HeaderParams::parse`], also returning the first `tag` parameter's value.
    pub(crate) fn parse_tag(raw: &'a str) -> Result<(Self, Option<&'a str>), ValueError> {
        let mut sc = Scanner::new(raw);
        let mut tag = None;
        while !sc.at_end() {
            let (n, v) = next_param(&mut sc)?;
            if tag.is_none() && n.eq_ignore_ascii_case("tag") {
                tag = Some(v);
            }
        }
        Ok((Self { raw }, tag.flatten()))
    }

    /// The raw text, as written (may start with LWS).
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        trim_lws(self.raw).is_empty()
    }

    /// Iterates (name, value) pairs; a quoted value keeps its quotes.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        let mut sc = Scanner::new(self.raw);
        std::iter::from_fn(move || {
            if sc.at_end() {
                None
            } else {
                next_param(&mut sc).ok()
            }
        })
    }

    /// Looks a parameter up, ignoring ASCII case of the name: `None` if absent,
    /// `Some(None)` for a flag (`;lr`, `;rport`).
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether the parameter is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

pub(crate) const fn is_gen_value(b: u8) -> bool {
    is_token(b) || matches!(b, b':' | b'[' | b']')
}

/// Parses `SWS ";" SWS token [ SWS "=" SWS gen-value ]`.
/// One `;name[=value]` parameter at `i` of `value`, written without LWS, the value a run of
/// `gen-value` characters: the name, the value and where the parameter ends. `None` for any
/// other shape (the full decoders decide those).
pub(crate) fn scan_param(value: &str, i: usize) -> Option<(&str, Option<&str>, usize)> {
    let b = value.as_bytes();
    if b.get(i) != Some(&b';') {
        return None;
    }
    let run = |from: usize, class: fn(u8) -> bool| {
        from + b
            .get(from..)
            .map_or(0, |r| r.iter().take_while(|&&c| class(c)).count())
    };
    let n = run(i + 1, is_token);
    if n == i + 1 {
        return None;
    }
    let name = value.get(i + 1..n)?;
    if b.get(n) != Some(&b'=') {
        return Some((name, None, n));
    }
    let end = run(n + 1, is_gen_value);
    if end == n + 1 {
        return None;
    }
    Some((name, Some(value.get(n + 1..end)?), end))
}

fn next_param<'a>(sc: &mut Scanner<'a>) -> Result<(&'a str, Option<&'a str>), ValueError> {
    sc.skip_lws();
    if !sc.eat(b';') {
        return Err(ValueError::Expected(Expected::Param));
    }
    sc.skip_lws();
    let name = sc.take_while(is_token);
    if name.is_empty() {
        return Err(ValueError::EmptyElement);
    }
    let value = if sc.eat_sep(b'=') {
        let v = if sc.peek() == Some(b'"') {
            sc.quoted()?
        } else {
            sc.take_while(is_gen_value)
        };
        if v.is_empty() {
            return Err(ValueError::Expected(Expected::Token));
        }
        Some(v)
    } else {
        None
    };
    let save = sc.pos();
    sc.skip_lws();
    if !sc.at_end() && sc.peek() != Some(b';') {
        return Err(ValueError::Syntax(save));
    }
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_split_respects_quotes_and_brackets() {
        let items: Vec<_> =
            split_list("\"a, b\" <sip:x@y;p=1,2>, <sip:z@w> ,\r\n sip:q@r").collect();
        assert_eq!(items, ["\"a, b\" <sip:x@y;p=1,2>", "<sip:z@w>", "sip:q@r"]);
        let items: Vec<_> = split_list("a,,b").collect();
        assert_eq!(items, ["a", "", "b"]);
    }

    #[test]
    fn generic_params() {
        let p = HeaderParams::parse(" ;   tag    = 1918181833n").unwrap();
        assert_eq!(p.get("TAG"), Some(Some("1918181833n")));
        let p = HeaderParams::parse(";received=[2001:db8::9:255];rport;x=\"q;v\"").unwrap();
        assert_eq!(p.get("received"), Some(Some("[2001:db8::9:255]")));
        assert_eq!(p.get("rport"), Some(None));
        assert_eq!(p.get("x"), Some(Some("\"q;v\"")));
        assert_eq!(p.iter().count(), 3);
        assert!(HeaderParams::parse(";;").is_err());
        assert!(HeaderParams::parse(";a=").is_err());
        assert!(HeaderParams::parse(";a b").is_err());
        assert!(HeaderParams::parse("x").is_err());
    }
}
