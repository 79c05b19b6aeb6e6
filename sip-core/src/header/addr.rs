//! Address headers: `From`, `To`, `Contact`, `Route`, `Record-Route`, `Refer-To`,
//! `Referred-By`, `P-Asserted-Identity`, `Diversion` (RFC 3261 §20, RFC 3515, RFC 3892,
//! RFC 3325, RFC 5806).

use std::borrow::Cow;
use std::ops::Deref;

use super::{Header, HeaderParams};
use crate::cache::{get, get_opt, opt_span, span_in};
use crate::error::{Expected, ValueError};
use crate::message::{Message, Span};
use crate::name::HeaderName;
use crate::text::{Scanner, find_byte, is_lws, is_token, parse_u32, trim_lws, unquote};
use crate::uri::SipSpans;
use crate::uri::Uri;

mod scan;

/// `[display-name] <URI> *(;param)` or `addr-spec *(;param)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr<'a> {
    display: Option<&'a str>,
    uri: Uri<'a>,
    bracketed: bool,
    params: HeaderParams<'a>,
    /// The first `tag` parameter's value, found by the decoder's parameter walk.
    tag: Option<&'a str>,
}

/// A deviation from the strict name-addr grammar that RFC 4475 lets a liberal element
/// repair. Decoders accept it; the parser rejects it unless a toggle allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    /// An unquoted display name that is not `*(token LWS)` (RFC 4475 §3.1.2.15).
    UnquotedDisplayName,
    /// LWS between `<` or `>` and the URI (RFC 4475 §3.1.2.14).
    LwsInBrackets,
    /// An addr-spec holding `?` or `,` without `<>` (RFC 4475 §3.1.2.13).
    UnbracketedReserved,
}

impl Violation {
    /// The error the strict parser reports.
    pub(crate) const fn error(self) -> ValueError {
        match self {
            Self::UnquotedDisplayName => ValueError::Expected(Expected::Token),
            Self::LwsInBrackets => ValueError::Uri(crate::error::UriError::Character),
            Self::UnbracketedReserved => ValueError::UnbracketedUri,
        }
    }
}

impl<'a> NameAddr<'a> {
    /// Decodes a name-addr or addr-spec followed by header parameters.
    ///
    /// The decoder is liberal where RFC 4475 allows repair (an unquoted display name with
    /// non-token characters, LWS just inside `<>`, an unbracketed URI with `?`); the message
    /// parser rejects those in strict mode ([`crate::ParseOptions`]).
    pub fn parse(value: &'a str) -> Result<Self, ValueError> {
        Self::parse_checked(value, &mut None)
    }

    /// Like [`NameAddr::parse`], reporting the first repaired deviation in `violation`.
    pub(crate) fn parse_checked(
        value: &'a str,
        violation: &mut Option<Violation>,
    ) -> Result<Self, ValueError> {
        match scan::name_addr(value) {
            Some(a) => Ok(a),
            None => Self::parse_full(value, violation),
        }
    }

    /// [`NameAddr::parse_checked`] without the fast path.
    fn parse_full(value: &'a str, violation: &mut Option<Violation>) -> Result<Self, ValueError> {
        let mut note = |v: Violation| {
            if violation.is_none() {
                *violation = Some(v);
            }
        };
        let value = trim_lws(value);
        let mut sc = Scanner::new(value);
        let (display, bracketed_start) = if sc.peek() == Some(b'"') {
            let q = sc.quoted()?;
            sc.skip_lws();
            if sc.peek() != Some(b'<') {
                return Err(ValueError::Expected(Expected::LeftAngle));
            }
            (Some(q), Some(sc.pos()))
        } else if let Some(lt) = find_byte(value, b'<') {
            // display-name = *(token LWS): every word before `<` must be a token.
            let words = trim_lws(value.get(..lt).unwrap_or(""));
            // Fast path: only token and LWS bytes means every word is a token.
            if !words.bytes().all(|b| is_token(b) || is_lws(b))
                && words
                    .split(|c: char| c.is_ascii() && is_lws(c as u8))
                    .any(|w| !w.is_empty() && !w.bytes().all(is_token))
            {
                if words.bytes().any(|b| b == b'"' || (b < 0x20 && b != b'\t')) {
                    return Err(ValueError::Expected(Expected::Token));
                }
                note(Violation::UnquotedDisplayName);
            }
            ((!words.is_empty()).then_some(words), Some(lt))
        } else {
            (None, None)
        };
        match bracketed_start {
            Some(lt) => {
                let after = value.get(lt + 1..).unwrap_or("");
                let gt = after
                    .bytes()
                    .position(|b| b == b'>')
                    .ok_or(ValueError::Expected(Expected::RightAngle))?;
                let raw_inner = after.get(..gt).unwrap_or("");
                // LAQUOT addr-spec RAQUOT: no LWS inside the brackets (RFC 4475 §3.1.2.14).
                let inner = trim_lws(raw_inner);
                if inner.len() != raw_inner.len() {
                    note(Violation::LwsInBrackets);
                }
                // LWS inside the URI is a character error, whatever else is wrong with it;
                // it is looked for only when the URI does not parse.
                let uri = Uri::parse(inner).map_err(|e| {
                    if inner.bytes().any(is_lws) {
                        ValueError::Uri(crate::error::UriError::Character)
                    } else {
                        ValueError::from(e)
                    }
                })?;
                let (params, tag) = HeaderParams::parse_tag(after.get(gt + 1..).unwrap_or(""))?;
                Ok(Self {
                    display,
                    uri,
                    bracketed: true,
                    params,
                    tag,
                })
            }
            None => {
                // addr-spec: the URI ends at the first `;` or LWS; its parameters are header
                // parameters (RFC 3261 §20.10). `?` or `,` would need `<>`.
                let end = value
                    .bytes()
                    .position(|b| b == b';' || is_lws(b))
                    .unwrap_or(value.len());
                let spec = value.get(..end).unwrap_or("");
                if spec.bytes().any(|b| b == b'?' || b == b',') {
                    note(Violation::UnbracketedReserved);
                }
                let uri = Uri::parse(spec)?;
                let (params, tag) = HeaderParams::parse_tag(value.get(end..).unwrap_or(""))?;
                Ok(Self {
                    display: None,
                    uri,
                    bracketed: false,
                    params,
                    tag,
                })
            }
        }
    }

    /// The display name as written (quoted string with its quotes, or tokens).
    pub const fn display_raw(&self) -> Option<&'a str> {
        self.display
    }

    /// The display name with quotes and escapes removed.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        self.display.map(|d| {
            if d.starts_with('"') {
                unquote(d)
            } else {
                Cow::Borrowed(d)
            }
        })
    }

    /// The URI.
    pub const fn uri(&self) -> &Uri<'a> {
        &self.uri
    }

    /// Whether the URI was written in `<>`.
    pub const fn is_bracketed(&self) -> bool {
        self.bracketed
    }

    /// The header parameters (after the URI).
    pub const fn params(&self) -> &HeaderParams<'a> {
        &self.params
    }

    /// The `tag` parameter (From/To).
    pub const fn tag(&self) -> Option<&'a str> {
        self.tag
    }
}

/// A decoded [`NameAddr`] (SIP URI only) as ranges of its value (see `crate::cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameAddrSpans {
    display: Option<Span>,
    uri: SipSpans,
    bracketed: bool,
    params: Span,
    tag: Option<Span>,
}

impl NameAddrSpans {
    pub(crate) fn capture(base: &str, a: &NameAddr<'_>) -> Option<Self> {
        let Uri::Sip(uri) = &a.uri else { return None };
        Some(Self {
            display: opt_span(base, a.display)?,
            uri: SipSpans::capture(base, uri)?,
            bracketed: a.bracketed,
            params: span_in(base, a.params.raw)?,
            tag: opt_span(base, a.tag)?,
        })
    }

    /// The fast path of the decode (see `scan`) straight to ranges of `base`, for an `item`
    /// of `base` of the common shape; no [`NameAddr`] is moved around.
    pub(crate) fn scan(base: &str, item: &str) -> Option<Self> {
        let a = scan::name_addr(item)?;
        Self::capture(base, &a)
    }

    /// The header parameters as text of `base`.
    pub(crate) fn params<'b>(&self, base: &'b str) -> Option<&'b str> {
        get(base, self.params)
    }

    pub(crate) fn rebuild(self, base: &str) -> Option<NameAddr<'_>> {
        Some(NameAddr {
            display: get_opt(base, self.display)?,
            uri: Uri::Sip(self.uri.rebuild(base)?),
            bracketed: self.bracketed,
            params: HeaderParams {
                raw: get(base, self.params)?,
            },
            tag: get_opt(base, self.tag)?,
        })
    }
}

macro_rules! addr_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident, $list:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty<'a>(pub NameAddr<'a>);

        impl<'a> Deref for $ty<'a> {
            type Target = NameAddr<'a>;
            fn deref(&self) -> &NameAddr<'a> {
                &self.0
            }
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$name;
            const LIST: bool = $list;
            fn decode(value: &'a str) -> Result<Self, ValueError> {
                NameAddr::parse(value).map($ty)
            }
            fn cached(msg: &'a Message) -> Option<Self> {
                addr_header!(@cached msg, $name).map($ty)
            }
        }
    };
    (@cached $msg:ident, From) => {{
        let (line, spans) = $msg.meta.cache.from.as_ref()?;
        spans.rebuild($msg.line_value(*line as usize)?)
    }};
    (@cached $msg:ident, To) => {{
        let (line, spans) = $msg.meta.cache.to.as_ref()?;
        spans.rebuild($msg.line_value(*line as usize)?)
    }};
    (@cached $msg:ident, $other:ident) => {{
        let _ = $msg;
        None
    }};
}

addr_header!(
    /// `From` (RFC 3261 §20.20).
    From, From, false);
addr_header!(
    /// `To` (RFC 3261 §20.39).
    To, To, false);
addr_header!(
    /// One `Route` element (RFC 3261 §20.34).
    Route, Route, true);
addr_header!(
    /// One `Record-Route` element (RFC 3261 §20.30).
    RecordRoute, RecordRoute, true);
addr_header!(
    /// `Refer-To` (RFC 3515 §2.1).
    ReferTo, ReferTo, false);
addr_header!(
    /// `Referred-By` (RFC 3892).
    ReferredBy, ReferredBy, false);
addr_header!(
    /// One `P-Asserted-Identity` element (RFC 3325).
    PAssertedIdentity, PAssertedIdentity, true);
addr_header!(
    /// One `Diversion` element (RFC 5806), with `reason`, `counter`, `privacy` parameters.
    Diversion, Diversion, true);

impl<'a> Diversion<'a> {
    /// The `reason` parameter (unquoted if quoted).
    pub fn reason(&self) -> Option<Cow<'a, str>> {
        self.params().get("reason").flatten().map(unquote)
    }

    /// The `counter` parameter.
    pub fn counter(&self) -> Option<u32> {
        self.params()
            .get("counter")
            .flatten()
            .and_then(|c| parse_u32(c).ok())
    }
}

impl<'a> ReferTo<'a> {
    /// The `Replaces` carried as an escaped URI header (`?Replaces=…`), still escaped.
    pub fn replaces_escaped(&self) -> Option<&'a str> {
        let sip = self.uri().as_sip()?;
        sip.header_pairs()
            .find(|(n, _)| n.eq_ignore_ascii_case("Replaces"))
            .map(|(_, v)| v)
    }
}

/// The value of one `Contact` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactValue<'a> {
    /// `*` (REGISTER removing all bindings, RFC 3261 §10.2.2).
    Star,
    /// An address.
    Addr(NameAddr<'a>),
}

/// One `Contact` element (RFC 3261 §20.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact<'a>(pub ContactValue<'a>);

impl<'a> Contact<'a> {
    /// Whether this is `*`.
    pub const fn is_star(&self) -> bool {
        matches!(self.0, ContactValue::Star)
    }

    /// The address, unless `*`.
    pub const fn addr(&self) -> Option<&NameAddr<'a>> {
        match &self.0 {
            ContactValue::Star => None,
            ContactValue::Addr(a) => Some(a),
        }
    }

    /// The `expires` contact parameter (delta-seconds; values above 2^32-1 are an error).
    pub fn expires(&self) -> Option<Result<u32, ValueError>> {
        self.addr()?
            .params()
            .get("expires")
            .map(|v| parse_u32(v.unwrap_or("")))
    }

    /// The `q` parameter in thousandths (`q=0.33` is 330), per RFC 3261 `qvalue`.
    pub fn q(&self) -> Option<Result<u16, ValueError>> {
        self.addr()?
            .params()
            .get("q")
            .map(|v| parse_qvalue(v.unwrap_or("")))
    }
}

/// RFC 3261 `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
pub(crate) fn parse_qvalue(v: &str) -> Result<u16, ValueError> {
    let err = ValueError::Expected(Expected::Number);
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err);
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Ok(thousandths),
        "1" if thousandths == 0 => Ok(1000),
        _ => Err(err),
    }
}

impl<'a> Header<'a> for Contact<'a> {
    const NAME: HeaderName = HeaderName::Contact;
    const LIST: bool = true;

    fn decode(value: &'a str) -> Result<Self, ValueError> {
        Self::decode_checked(value, &mut None)
    }

    fn cached(msg: &'a Message) -> Option<Self> {
        let (line, spans) = msg.meta.cache.contact.as_ref()?;
        let value = msg.line_value(*line as usize)?;
        Some(Self(match spans {
            None => ContactValue::Star,
            Some(s) => ContactValue::Addr(s.rebuild(value)?),
        }))
    }
}

impl<'a> Contact<'a> {
    /// [`Header::decode`], reporting a repaired deviation (see [`NameAddr::parse`]).
    pub(crate) fn decode_checked(
        value: &'a str,
        violation: &mut Option<Violation>,
    ) -> Result<Self, ValueError> {
        if value == "*" {
            return Ok(Self(ContactValue::Star));
        }
        let addr = NameAddr::parse_checked(value, violation)?;
        check_contact_params(addr.params())?;
        Ok(Self(ContactValue::Addr(addr)))
    }
}

/// The Contact parameters a decode checks: `q` must be a qvalue, and `expires` a number (an
/// overlarge one is tolerated, RFC 4475 §3.1.2.4).
pub(crate) fn check_contact_params(params: &HeaderParams<'_>) -> Result<(), ValueError> {
    if let Some(Err(e)) = params.get("q").map(|v| parse_qvalue(v.unwrap_or(""))) {
        return Err(e);
    }
    if let Some(Err(ValueError::Expected(e))) =
        params.get("expires").map(|v| parse_u32(v.unwrap_or("")))
    {
        return Err(ValueError::Expected(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::Host;

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(
            "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .unwrap();
        assert_eq!(a.display_name().unwrap(), "J Rosenberg \\\"");
        assert_eq!(a.tag(), Some("98asjd8"));
        let a =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert!(!a.is_bracketed());
        assert_eq!(a.tag(), Some("1918181833n"));
        // lwsdisp: no LWS between display name and `<`.
        let a = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name().unwrap(), "caller");
        let a =
            NameAddr::parse("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").unwrap();
        assert_eq!(a.display_raw(), Some("token1~` token2'+_ token3*%!.-"));
        // cparam01 vs cparam02: who owns `;unknownparam`.
        let c = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert!(c.params().contains("unknownparam"));
        assert!(c.uri().as_sip().unwrap().params().is_empty());
        let c = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(!c.params().contains("unknownparam"));
        assert!(c.uri().as_sip().unwrap().params().contains("unknownparam"));
        let a = NameAddr::parse("<sip:[2001:db8::10]:5070>").unwrap();
        assert_eq!(
            a.uri().as_sip().unwrap().host(),
            Host::Ipv6("2001:db8::10".parse().unwrap())
        );
    }

    fn violation(v: &str) -> Option<Violation> {
        let mut out = None;
        NameAddr::parse_checked(v, &mut out).unwrap();
        out
    }

    #[test]
    fn name_addr_rejects_and_repairs() {
        // RFC 4475 §3.1.2.6: never repaired here.
        assert_eq!(
            NameAddr::parse("\"Mr. J. User <sip:j.user@example.com>"),
            Err(ValueError::UnterminatedQuote)
        );
        // §3.1.2.13, .14, .15: the decoder repairs and reports; the parser decides.
        let a = NameAddr::parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E").unwrap();
        assert_eq!(
            a.uri().as_sip().unwrap().headers(),
            Some("Route=%3Csip:sip.example.com%3E")
        );
        assert_eq!(
            violation("sip:user@example.com?Route=%3Csip:sip.example.com%3E"),
            Some(Violation::UnbracketedReserved)
        );
        let a = NameAddr::parse("\"Watson, Thomas\" < sip:t.watson@example.org >").unwrap();
        assert_eq!(a.uri().as_str(), "sip:t.watson@example.org");
        assert_eq!(
            violation("\"Watson, Thomas\" < sip:t.watson@example.org >"),
            Some(Violation::LwsInBrackets)
        );
        let a = NameAddr::parse("Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43").unwrap();
        assert_eq!(a.display_name().unwrap(), "Bell, Alexander");
        assert_eq!(
            violation("Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43"),
            Some(Violation::UnquotedDisplayName)
        );
        assert_eq!(violation("\"A\" <sip:a@b>;tag=1"), None);
        assert!(NameAddr::parse("< sip:a b@c >").is_err());
        assert!(NameAddr::parse("\"Joe\" <sip:joe@example.org>;;;;").is_err());
        assert!(NameAddr::parse("<sip:joe@example.org").is_err());
        assert!(NameAddr::parse("").is_err());
    }

    #[test]
    fn contact_params() {
        let c = Contact::decode("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33").unwrap();
        assert_eq!(c.q(), Some(Ok(330)));
        assert!(Contact::decode("*").unwrap().is_star());
        let c = Contact::decode("<sip:a@b>;expires=4294967296").unwrap();
        assert_eq!(c.expires(), Some(Err(ValueError::Overflow)));
        assert!(Contact::decode("<sip:a@b>;q=2").is_err());
        assert_eq!(parse_qvalue("1.000"), Ok(1000));
        assert_eq!(parse_qvalue("0.5"), Ok(500));
        assert!(parse_qvalue("1.5").is_err());
    }
}
