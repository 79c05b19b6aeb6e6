//! Authentication headers (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7616 parameters).
//!
//! Both challenges and credentials are `auth-scheme LWS auth-param *(COMMA auth-param)`; an
//! unknown scheme is kept as written (RFC 4475 §3.3.7). Digest computation belongs to the
//! layer above; these types only expose the parameters.

use std::borrow::Cow;
use std::ops::Deref;

use super::Header;
use crate::error::{Expected, ValueError};
use crate::name::HeaderName;
use crate::text::{Scanner, is_token, unquote};

/// The comma-separated `name=value` parameters of a challenge or credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthParams<'a> {
    raw: &'a str,
}

impl<'a> AuthParams<'a> {
    fn parse(raw: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(raw);
        loop {
            next_auth_param(&mut sc)?;
            sc.skip_lws();
            if sc.at_end() {
                return Ok(Self { raw });
            }
            if !sc.eat(b',') {
                return Err(ValueError::Expected(Expected::End));
            }
            sc.skip_lws();
        }
    }

    /// Iterates (name, value); quoted values keep their quotes.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut sc = Scanner::new(self.raw);
        std::iter::from_fn(move || {
            sc.skip_lws();
            sc.eat(b',');
            sc.skip_lws();
            if sc.at_end() {
                return None;
            }
            next_auth_param(&mut sc).ok()
        })
    }

    /// The value of a parameter (name case-insensitive), unquoted.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unquote(v))
    }

    /// The raw text.
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }
}

fn next_auth_param<'a>(sc: &mut Scanner<'a>) -> Result<(&'a str, &'a str), ValueError> {
    let name = sc.token()?;
    if !sc.eat_sep(b'=') {
        return Err(ValueError::Expected(Expected::Equals));
    }
    let value = if sc.peek() == Some(b'"') {
        sc.quoted()?
    } else {
        // token, or a token68-like value (`/` `=` allowed: base64 in some schemes)
        let v = sc.take_while(|b| is_token(b) || b == b'/' || b == b'=');
        if v.is_empty() {
            return Err(ValueError::Expected(Expected::Token));
        }
        v
    };
    Ok((name, value))
}

/// A scheme and its parameters: the body of every authentication header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    scheme: &'a str,
    params: AuthParams<'a>,
}

/// Credentials have the same shape as challenges.
pub type Credentials<'a> = Challenge<'a>;

impl<'a> Challenge<'a> {
    /// Decodes `scheme LWS param, param…`.
    pub fn parse(value: &'a str) -> Result<Self, ValueError> {
        let mut sc = Scanner::new(value);
        let scheme = sc.token()?;
        if !sc.skip_lws() {
            return Err(ValueError::Syntax(sc.pos()));
        }
        let params = AuthParams::parse(sc.rest())?;
        Ok(Self { scheme, params })
    }

    /// The scheme as written (`Digest`, `NoOneKnowsThisScheme` …).
    pub const fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// Whether the scheme is Digest (case-insensitive).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// The parameters.
    pub const fn params(&self) -> &AuthParams<'a> {
        &self.params
    }

    /// `realm`.
    pub fn realm(&self) -> Option<Cow<'a, str>> {
        self.params.get("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<Cow<'a, str>> {
        self.params.get("nonce")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<Cow<'a, str>> {
        self.params.get("opaque")
    }

    /// `algorithm`.
    pub fn algorithm(&self) -> Option<Cow<'a, str>> {
        self.params.get("algorithm")
    }

    /// `qop` (a list in challenges, one value in credentials).
    pub fn qop(&self) -> Option<Cow<'a, str>> {
        self.params.get("qop")
    }

    /// `stale` (challenges).
    pub fn stale(&self) -> bool {
        self.params
            .get("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    }

    /// `username` (credentials).
    pub fn username(&self) -> Option<Cow<'a, str>> {
        self.params.get("username")
    }

    /// `uri` (credentials).
    pub fn uri(&self) -> Option<Cow<'a, str>> {
        self.params.get("uri")
    }

    /// `response` (credentials).
    pub fn response(&self) -> Option<Cow<'a, str>> {
        self.params.get("response")
    }

    /// `cnonce` (credentials).
    pub fn cnonce(&self) -> Option<Cow<'a, str>> {
        self.params.get("cnonce")
    }

    /// `nc` (credentials), the hexadecimal nonce count.
    pub fn nc(&self) -> Option<u32> {
        self.params
            .get("nc")
            .and_then(|n| u32::from_str_radix(&n, 16).ok())
    }
}

macro_rules! auth_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $ty<'a>(pub Challenge<'a>);

        impl<'a> Deref for $ty<'a> {
            type Target = Challenge<'a>;
            fn deref(&self) -> &Challenge<'a> {
                &self.0
            }
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$name;
            fn decode(value: &'a str) -> Result<Self, ValueError> {
                Challenge::parse(value).map($ty)
            }
        }
    };
}

auth_header!(
    /// `Authorization` (RFC 3261 §20.7).
    Authorization, Authorization);
auth_header!(
    /// `Proxy-Authorization` (RFC 3261 §20.28).
    ProxyAuthorization, ProxyAuthorization);
auth_header!(
    /// `WWW-Authenticate` (RFC 3261 §20.44).
    WwwAuthenticate, WwwAuthenticate);
auth_header!(
    /// `Proxy-Authenticate` (RFC 3261 §20.27).
    ProxyAuthenticate, ProxyAuthenticate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_challenge_and_credentials() {
        // RFC 3261 §25 / §22.4 examples.
        let c = WwwAuthenticate::decode(
            "Digest realm=\"atlanta.com\",\r\n domain=\"sip:boxesbybob.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n opaque=\"\", stale=FALSE, algorithm=MD5",
        )
        .unwrap();
        assert!(c.is_digest());
        assert_eq!(c.realm().unwrap(), "atlanta.com");
        assert_eq!(c.nonce().unwrap(), "f84f1cec41e6cbe5aea9c8e88d359");
        assert_eq!(c.opaque().unwrap(), "");
        assert!(!c.stale());
        assert_eq!(c.algorithm().unwrap(), "MD5");
        let a = Authorization::decode(
            "Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\"",
        )
        .unwrap();
        assert_eq!(a.username().unwrap(), "bob");
        assert_eq!(a.nc(), Some(1));
        assert_eq!(a.response().unwrap(), "6629fae49393a05397450978507c4ef1");
        let u = Authorization::decode("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(u.scheme(), "NoOneKnowsThisScheme");
        assert_eq!(u.params().get("opaque-data").unwrap(), "here");
        assert!(Authorization::decode("Digest").is_err());
        assert!(Authorization::decode("Digest realm=\"x").is_err());
        assert!(Authorization::decode("Digest a=b,,c=d").is_err());
    }
}
