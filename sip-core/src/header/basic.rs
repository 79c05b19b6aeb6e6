//! Scalar, token-list and media-type headers.

use std::borrow::Cow;
use std::ops::Deref;

use super::{Header, HeaderParams};
use crate::error::{Expected, ValueError};
use crate::method::Method;
use crate::name::HeaderName;
use crate::text::{Scanner, is_token, is_word, parse_u32, unquote};

/// `Call-ID` (RFC 3261 §20.8): `word [ "@" word ]`, compared byte-exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId<'a>(pub &'a str);

impl<'a> CallId<'a> {
    /// The identifier.
    pub const fn as_str(&self) -> &'a str {
        self.0
    }
}

impl<'a> Header<'a> for CallId<'a> {
    const NAME: HeaderName = HeaderName::CallId;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        // `word [ "@" word ]`, in one pass.
        let b = value.as_bytes();
        let mut at = None;
        for (i, &c) in b.iter().enumerate() {
            if !is_word(c) {
                if c != b'@' || at.is_some() {
                    return Err(ValueError::Expected(Expected::Token));
                }
                at = Some(i);
            }
        }
        let words_ok = match at {
            Some(i) => i > 0 && i + 1 < b.len(),
            None => !b.is_empty(),
        };
        if !words_ok {
            return Err(ValueError::Expected(Expected::Token));
        }
        Ok(Self(value))
    }

    fn cached(msg: &'a crate::Message) -> Option<Self> {
        msg.line_value(msg.meta.cache.call_id? as usize).map(Self)
    }
}

impl<'a> CSeq<'a> {
    /// The common shape, `1*9DIGIT SP Method`, without a scanner; `None` for any other.
    fn scan(value: &'a str) -> Option<Self> {
        let b = value.as_bytes();
        let d = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&d) || b.get(d) != Some(&b' ') {
            return None;
        }
        let method = Method::parse(value.get(d + 1..)?).ok()?;
        let seq = b
            .iter()
            .take(d)
            .fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
        Some(Self { seq, method })
    }

    fn decode_full(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let digits = sc.take_while(|b| b.is_ascii_digit());
        let seq = parse_u32(digits)?;
        if !sc.skip_lws() {
            return Err(ValueError::Syntax(sc.pos()));
        }
        let method = Method::parse(sc.rest())?;
        Ok(Self { seq, method })
    }
}

/// `CSeq` (RFC 3261 §20.16): sequence number (< 2^32) and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number.
    pub seq: u32,
    /// The method.
    pub method: Method<'a>,
}

impl<'a> Header<'a> for CSeq<'a> {
    const NAME: HeaderName = HeaderName::CSeq;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        match Self::scan(value) {
            Some(c) => Ok(c),
            None => Self::decode_full(value),
        }
    }

    fn cached(msg: &'a crate::Message) -> Option<Self> {
        let (seq, method) = msg.meta.cache.cseq?;
        Some(Self { seq, method })
    }
}

macro_rules! number_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub u32);

        impl<'a> Header<'a> for $ty {
            const NAME: HeaderName = HeaderName::$name;
            fn decode(value: &'a str) -> Result<Self, ValueError> {
                parse_u32(value).map($ty)
            }
        }
    };
}

number_header!(
    /// `Max-Forwards` (RFC 3261 §20.22). A proxy answers `483` when it is 0.
    MaxForwards, MaxForwards);
number_header!(
    /// `Content-Length` (RFC 3261 §20.14), in octets.
    ContentLength, ContentLength);
number_header!(
    /// `Expires` (RFC 3261 §20.19), delta-seconds. Overlarge values are
    /// [`ValueError::Overflow`]; RFC 3261 §20.19 lets the caller treat them as 3600.
    Expires, Expires);
number_header!(
    /// `Min-Expires` (RFC 3261 §20.23).
    MinExpires, MinExpires);
number_header!(
    /// `RSeq` (RFC 3262 §7.1).
    RSeq, RSeq);

/// `RAck` (RFC 3262 §7.2): `response-num LWS CSeq-num LWS Method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RAck<'a> {
    /// The RSeq being acknowledged.
    pub rseq: u32,
    /// The CSeq number of the request.
    pub cseq: u32,
    /// The CSeq method.
    pub method: Method<'a>,
}

impl<'a> Header<'a> for RAck<'a> {
    const NAME: HeaderName = HeaderName::RAck;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let rseq = parse_u32(sc.take_while(|b| b.is_ascii_digit()))?;
        if !sc.skip_lws() {
            return Err(ValueError::Syntax(sc.pos()));
        }
        let cseq = parse_u32(sc.take_while(|b| b.is_ascii_digit()))?;
        if !sc.skip_lws() {
            return Err(ValueError::Syntax(sc.pos()));
        }
        let method = Method::parse(sc.rest())?;
        Ok(Self { rseq, cseq, method })
    }
}

/// A delta-seconds value with parameters (`Session-Expires`, `Min-SE`, `Retry-After`).
fn delta_with_params(value: &str) -> Result<(u32, HeaderParams<'_>, &str), ValueError> {
    let mut sc = Scanner::new(value);
    let delta = parse_u32(sc.take_while(|b| b.is_ascii_digit()))?;
    sc.skip_lws();
    let start = sc.pos();
    if sc.peek() == Some(b'(') {
        // Retry-After comment: balanced parentheses, quoted-pairs allowed.
        let mut depth = 0usize;
        loop {
            match sc.peek() {
                None => return Err(ValueError::Expected(Expected::End)),
                Some(b'\\') => {
                    sc.bump();
                    if sc.at_end() {
                        return Err(ValueError::Syntax(sc.pos()));
                    }
                }
                Some(b'(') => depth += 1,
                Some(b')') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        sc.bump();
                        break;
                    }
                }
                Some(_) => {}
            }
            sc.bump();
        }
    }
    let comment = sc.slice(start, sc.pos())?;
    let params = HeaderParams::parse(sc.rest())?;
    Ok((delta, params, comment))
}

/// `Session-Expires` (RFC 4028 §4): delta-seconds and `refresher`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    /// The interval in seconds.
    pub delta: u32,
    /// The parameters.
    pub params: HeaderParams<'a>,
}

impl<'a> SessionExpires<'a> {
    /// The `refresher` parameter (`uac` or `uas`).
    pub fn refresher(&self) -> Option<&'a str> {
        self.params.get("refresher").flatten()
    }
}

impl<'a> Header<'a> for SessionExpires<'a> {
    const NAME: HeaderName = HeaderName::SessionExpires;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let (delta, params, comment) = delta_with_params(value)?;
        if !comment.is_empty() {
            return Err(ValueError::Trailing);
        }
        Ok(Self { delta, params })
    }
}

/// `Min-SE` (RFC 4028 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinSe<'a> {
    /// The minimum interval in seconds.
    pub delta: u32,
    /// The parameters.
    pub params: HeaderParams<'a>,
}

impl<'a> Header<'a> for MinSe<'a> {
    const NAME: HeaderName = HeaderName::MinSe;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let (delta, params, comment) = delta_with_params(value)?;
        if !comment.is_empty() {
            return Err(ValueError::Trailing);
        }
        Ok(Self { delta, params })
    }
}

/// `Retry-After` (RFC 3261 §20.33): delta-seconds, optional comment, parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter<'a> {
    /// Seconds to wait.
    pub delta: u32,
    /// The comment with its parentheses, if any.
    pub comment: Option<&'a str>,
    /// The parameters (`duration`).
    pub params: HeaderParams<'a>,
}

impl<'a> Header<'a> for RetryAfter<'a> {
    const NAME: HeaderName = HeaderName::RetryAfter;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let (delta, params, comment) = delta_with_params(value)?;
        Ok(Self {
            delta,
            comment: (!comment.is_empty()).then_some(comment),
            params,
        })
    }
}

/// `Date` (RFC 3261 §20.17): an RFC 1123 date, which must be in GMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–60 (leap second).
    pub second: u8,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Date {
    /// Seconds since the Unix epoch (the date is UTC).
    pub fn unix_seconds(&self) -> i64 {
        // Days from civil (Howard Hinnant's algorithm).
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

impl<'a> Header<'a> for Date {
    const NAME: HeaderName = HeaderName::Date;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let err = ValueError::Expected(Expected::Date);
        // wkday "," SP date1 SP time SP "GMT"; date1 = 2DIGIT SP month SP 4DIGIT
        let (wk, rest) = value.split_once(", ").ok_or(err)?;
        if !WEEKDAYS.contains(&wk) {
            return Err(err);
        }
        let mut parts = rest.split(' ');
        let (Some(day), Some(mon), Some(year), Some(time), Some("GMT"), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(err);
        };
        let two = |s: &str| -> Result<u8, ValueError> {
            if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().map_err(|_| err)
            } else {
                Err(err)
            }
        };
        let month = MONTHS.iter().position(|m| *m == mon).ok_or(err)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err);
        }
        let mut t = time.split(':');
        let (Some(h), Some(m), Some(s), None) = (t.next(), t.next(), t.next(), t.next()) else {
            return Err(err);
        };
        let d = Self {
            year: year.parse().map_err(|_| err)?,
            month: u8::try_from(month + 1).map_err(|_| err)?,
            day: two(day)?,
            hour: two(h)?,
            minute: two(m)?,
            second: two(s)?,
        };
        if d.day == 0 || d.day > 31 || d.hour > 23 || d.minute > 59 || d.second > 60 {
            return Err(err);
        }
        Ok(d)
    }
}

macro_rules! text_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $ty<'a>(pub &'a str);

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$name;
            fn decode(value: &'a str) -> Result<Self, ValueError> {
                if value.is_empty() {
                    return Err(ValueError::Empty);
                }
                Ok($ty(value))
            }
        }
    };
}

text_header!(
    /// `User-Agent` (RFC 3261 §20.41): product tokens and comments, kept as written.
    UserAgent, UserAgent);
text_header!(
    /// `Server` (RFC 3261 §20.35): product tokens and comments, kept as written.
    Server, Server);

/// An option tag (`100rel`, `timer`, `replaces` …) or event package in a token list.
pub type OptionTag<'a> = &'a str;

macro_rules! token_list {
    ($(#[$doc:meta])* $ty:ident, $name:ident, $empty_ok:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $ty<'a>(pub OptionTag<'a>);

        impl<'a> Deref for $ty<'a> {
            type Target = str;
            fn deref(&self) -> &str {
                self.0
            }
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$name;
            const LIST: bool = true;
            const EMPTY_LIST_OK: bool = $empty_ok;
            fn decode(value: &'a str) -> Result<Self, ValueError> {
                if value.is_empty() {
                    return Err(ValueError::EmptyElement);
                }
                if !value.bytes().all(is_token) {
                    return Err(ValueError::Expected(Expected::Token));
                }
                Ok($ty(value))
            }
        }
    };
}

token_list!(
    /// One `Supported` option tag (RFC 3261 §20.37); the list may be empty.
    Supported, Supported, true);
token_list!(
    /// One `Require` option tag (RFC 3261 §20.32); a UAS answers `420` for unknown ones.
    Require, Require, false);
token_list!(
    /// One `Proxy-Require` option tag (RFC 3261 §20.29).
    ProxyRequire, ProxyRequire, false);
token_list!(
    /// One `Unsupported` option tag (RFC 3261 §20.40).
    Unsupported, Unsupported, false);
token_list!(
    /// One `Allow-Events` package (RFC 6665 §8.2.2).
    AllowEvents, AllowEvents, false);

/// One `Allow` method (RFC 3261 §20.5); the list may be empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allow<'a>(pub Method<'a>);

impl<'a> Header<'a> for Allow<'a> {
    const NAME: HeaderName = HeaderName::Allow;
    const LIST: bool = true;
    const EMPTY_LIST_OK: bool = true;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        Method::parse(value).map(Allow)
    }
}

/// `Event` (RFC 6665 §8.2.1): package and parameters (`id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event package (`presence`, `dialog`, `refer`, `message-summary` …).
    pub package: &'a str,
    /// The parameters.
    pub params: HeaderParams<'a>,
}

impl<'a> Event<'a> {
    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.get("id").flatten()
    }
}

impl<'a> Header<'a> for Event<'a> {
    const NAME: HeaderName = HeaderName::Event;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let package = sc.token()?;
        let params = HeaderParams::parse(sc.rest())?;
        Ok(Self { package, params })
    }
}

/// `Subscription-State` (RFC 6665 §8.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    /// `active`, `pending`, `terminated` or an extension.
    pub state: &'a str,
    /// The parameters.
    pub params: HeaderParams<'a>,
}

impl<'a> SubscriptionState<'a> {
    /// The `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params
            .get("expires")
            .flatten()
            .and_then(|v| parse_u32(v).ok())
    }

    /// The `reason` parameter.
    pub fn reason(&self) -> Option<&'a str> {
        self.params.get("reason").flatten()
    }

    /// The `retry-after` parameter.
    pub fn retry_after(&self) -> Option<u32> {
        self.params
            .get("retry-after")
            .flatten()
            .and_then(|v| parse_u32(v).ok())
    }
}

impl<'a> Header<'a> for SubscriptionState<'a> {
    const NAME: HeaderName = HeaderName::SubscriptionState;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let state = sc.token()?;
        let params = HeaderParams::parse(sc.rest())?;
        Ok(Self { state, params })
    }
}

/// `Replaces` (RFC 3891 §6.1): Call-ID with `to-tag`, `from-tag`, `early-only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaces<'a> {
    /// The Call-ID of the dialog to replace.
    pub call_id: &'a str,
    /// The parameters.
    pub params: HeaderParams<'a>,
}

impl<'a> Replaces<'a> {
    /// `to-tag`.
    pub fn to_tag(&self) -> Option<&'a str> {
        self.params.get("to-tag").flatten()
    }

    /// `from-tag`.
    pub fn from_tag(&self) -> Option<&'a str> {
        self.params.get("from-tag").flatten()
    }

    /// Whether `early-only` is present.
    pub fn early_only(&self) -> bool {
        self.params.contains("early-only")
    }
}

impl<'a> Header<'a> for Replaces<'a> {
    const NAME: HeaderName = HeaderName::Replaces;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        let end = value.find(';').unwrap_or(value.len());
        let call_id = crate::text::trim_lws(value.get(..end).unwrap_or(""));
        CallId::decode(call_id)?;
        let params = HeaderParams::parse(value.get(end..).unwrap_or(""))?;
        if params.get("to-tag").flatten().is_none() || params.get("from-tag").flatten().is_none() {
            return Err(ValueError::Expected(Expected::Param));
        }
        Ok(Self { call_id, params })
    }
}

/// A media type `type/subtype;param=value` (RFC 3261 §20.15, §20.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// The type (`application`, `*` in Accept ranges).
    pub kind: &'a str,
    /// The subtype (`sdp`, `*`).
    pub subtype: &'a str,
    /// The parameters (`boundary`, `charset`, `q`).
    pub params: HeaderParams<'a>,
}

impl<'a> MediaType<'a> {
    /// Decodes `type SWS "/" SWS subtype *(;param)`.
    pub fn parse(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let kind = sc.token()?;
        if !sc.eat_sep(b'/') {
            return Err(ValueError::Expected(Expected::Slash));
        }
        let subtype = sc.token()?;
        let params = HeaderParams::parse(sc.rest())?;
        Ok(Self {
            kind,
            subtype,
            params,
        })
    }

    /// Case-insensitive comparison with `type/subtype` (`"application/sdp"`).
    pub fn is(&self, essence: &str) -> bool {
        essence.split_once('/').is_some_and(|(t, s)| {
            t.eq_ignore_ascii_case(self.kind) && s.eq_ignore_ascii_case(self.subtype)
        })
    }

    /// A parameter value, unquoted.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.get(name).flatten().map(unquote)
    }
}

/// `Content-Type` (RFC 3261 §20.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType<'a>(pub MediaType<'a>);

impl<'a> Deref for ContentType<'a> {
    type Target = MediaType<'a>;
    fn deref(&self) -> &MediaType<'a> {
        &self.0
    }
}

impl<'a> Header<'a> for ContentType<'a> {
    const NAME: HeaderName = HeaderName::ContentType;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        MediaType::parse(value).map(ContentType)
    }
}

/// One `Accept` media range (RFC 3261 §20.1); an empty Accept is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accept<'a>(pub MediaType<'a>);

impl<'a> Deref for Accept<'a> {
    type Target = MediaType<'a>;
    fn deref(&self) -> &MediaType<'a> {
        &self.0
    }
}

impl<'a> Accept<'a> {
    /// Whether this range admits `type/subtype` (wildcards honoured).
    pub fn matches(&self, essence: &str) -> bool {
        essence.split_once('/').is_some_and(|(t, s)| {
            (self.0.kind == "*" || t.eq_ignore_ascii_case(self.0.kind))
                && (self.0.subtype == "*" || s.eq_ignore_ascii_case(self.0.subtype))
        })
    }
}

impl<'a> Header<'a> for Accept<'a> {
    const NAME: HeaderName = HeaderName::Accept;
    const LIST: bool = true;
    const EMPTY_LIST_OK: bool = true;
    fn decode(value: &'a str) -> Result<Self, ValueError> {
        MediaType::parse(value).map(Accept)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cseq_fast_path_agrees() {
        let seeds = [
            "314159 INVITE",
            "1 ACK",
            "0001 FOO",
            "123456789 BYE",
            "4294967295 X",
        ];
        crate::mutate::check_fast_path(&seeds, b"09 \t\rA-", |s| {
            crate::mutate::debug_pair(super::CSeq::scan(s), || super::CSeq::decode_full(s))
        });
    }

    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(
            CSeq::decode("0009\r\n  INVITE"),
            Ok(CSeq {
                seq: 9,
                method: Method::Invite
            })
        );
        // RFC 4475 §3.1.2.4: CSeq above 2^32-1.
        assert_eq!(
            CSeq::decode("36893488147419103232 REGISTER"),
            Err(ValueError::Overflow)
        );
        assert_eq!(CSeq::decode("4294967295 INVITE").unwrap().seq, u32::MAX);
        assert!(CSeq::decode("-1 INVITE").is_err());
        assert!(CSeq::decode("1INVITE").is_err());
        assert_eq!(MaxForwards::decode("0068"), Ok(MaxForwards(68)));
        assert!(ContentLength::decode("-999").is_err());
        assert_eq!(
            Expires::decode("10000000000000000000"),
            Err(ValueError::Overflow)
        );
        assert!(CallId::decode("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{").is_ok());
        assert!(CallId::decode("a b").is_err());
        assert!(CallId::decode("a@").is_err());
        assert_eq!(
            RAck::decode("776656 1 INVITE"),
            Ok(RAck {
                rseq: 776656,
                cseq: 1,
                method: Method::Invite
            })
        );
    }

    #[test]
    fn dates_must_be_gmt() {
        let d = Date::decode("Sat, 13 Nov 2010 23:29:00 GMT").unwrap();
        assert_eq!(d.unix_seconds(), 1_289_690_940);
        assert!(Date::decode("Fri, 01 Jan 2010 16:00:00 EST").is_err());
        assert!(Date::decode("Fri, 01 Jan 2010 16:00:00 UTC").is_err());
        assert!(Date::decode("Fri, 1 Jan 2010 16:00:00 GMT").is_err());
    }

    #[test]
    fn retry_after_session_expires() {
        let r = RetryAfter::decode("18000;duration=3600").unwrap();
        assert_eq!(r.delta, 18000);
        assert_eq!(r.params.get("duration"), Some(Some("3600")));
        let r = RetryAfter::decode("120 (I'm in a meeting)").unwrap();
        assert_eq!(r.comment, Some("(I'm in a meeting)"));
        assert!(RetryAfter::decode("949302838503028349304023988").is_err());
        let s = SessionExpires::decode("1800;refresher=uas").unwrap();
        assert_eq!((s.delta, s.refresher()), (1800, Some("uas")));
        assert_eq!(MinSe::decode("90").unwrap().delta, 90);
    }

    #[test]
    fn media_types_and_tokens() {
        let c = ContentType::decode("multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert!(c.is("Multipart/Mixed"));
        assert_eq!(c.param("boundary").unwrap(), "7a9cbec02ceef655");
        assert!(ContentType::decode("application").is_err());
        let a = Accept::decode("text/*").unwrap();
        assert!(a.matches("text/plain"));
        assert!(!a.matches("application/sdp"));
        assert!(Require::decode("100rel").is_ok());
        assert!(Require::decode("100 rel").is_err());
        let e = Event::decode("presence;id=5").unwrap();
        assert_eq!((e.package, e.id()), ("presence", Some("5")));
        let s = SubscriptionState::decode("terminated;reason=timeout").unwrap();
        assert_eq!(s.reason(), Some("timeout"));
        let r = Replaces::decode("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
            .unwrap();
        assert_eq!(
            (r.to_tag(), r.from_tag(), r.early_only()),
            (Some("7743"), Some("6472"), true)
        );
        assert!(Replaces::decode("425928@bobster.example.org;to-tag=7743").is_err());
    }
}
