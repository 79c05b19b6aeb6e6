//! Request methods (RFC 3261 §7.1 and extensions). Methods are case-sensitive.

use std::fmt;

use crate::error::{Expected, ValueError};
use crate::text::is_token;

/// A request method. Unknown methods are kept as written ([`Method::Other`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method<'a> {
    /// `INVITE`.
    Invite,
    /// `ACK`.
    Ack,
    /// `BYE`.
    Bye,
    /// `CANCEL`.
    Cancel,
    /// `REGISTER`.
    Register,
    /// `OPTIONS`.
    Options,
    /// `INFO` (RFC 6086).
    Info,
    /// `UPDATE` (RFC 3311).
    Update,
    /// `PRACK` (RFC 3262).
    Prack,
    /// `SUBSCRIBE` (RFC 6665).
    Subscribe,
    /// `NOTIFY` (RFC 6665).
    Notify,
    /// `REFER` (RFC 3515).
    Refer,
    /// `MESSAGE` (RFC 3428).
    Message,
    /// `PUBLISH` (RFC 3903).
    Publish,
    /// Any other token (`extension-method`).
    Other(&'a str),
}

impl<'a> Method<'a> {
    /// Parses a method token (case-sensitive: `invite` is an extension method).
    pub fn parse(s: &'a str) -> Result<Self, ValueError> {
        Ok(match s {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "REGISTER" => Self::Register,
            "OPTIONS" => Self::Options,
            "INFO" => Self::Info,
            "UPDATE" => Self::Update,
            "PRACK" => Self::Prack,
            "SUBSCRIBE" => Self::Subscribe,
            "NOTIFY" => Self::Notify,
            "REFER" => Self::Refer,
            "MESSAGE" => Self::Message,
            "PUBLISH" => Self::Publish,
            other if other.is_empty() || !other.bytes().all(is_token) => {
                return Err(ValueError::Expected(Expected::Method));
            }
            other => Self::Other(other),
        })
    }

    /// The method as written on the wire.
    pub const fn as_str(&self) -> &'a str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Register => "REGISTER",
            Self::Options => "OPTIONS",
            Self::Info => "INFO",
            Self::Update => "UPDATE",
            Self::Prack => "PRACK",
            Self::Subscribe => "SUBSCRIBE",
            Self::Notify => "NOTIFY",
            Self::Refer => "REFER",
            Self::Message => "MESSAGE",
            Self::Publish => "PUBLISH",
            Self::Other(s) => s,
        }
    }

    /// The method without its borrow, unless it is an extension method.
    pub(crate) const fn known(self) -> Option<Method<'static>> {
        Some(match self {
            Self::Invite => Method::Invite,
            Self::Ack => Method::Ack,
            Self::Bye => Method::Bye,
            Self::Cancel => Method::Cancel,
            Self::Register => Method::Register,
            Self::Options => Method::Options,
            Self::Info => Method::Info,
            Self::Update => Method::Update,
            Self::Prack => Method::Prack,
            Self::Subscribe => Method::Subscribe,
            Self::Notify => Method::Notify,
            Self::Refer => Method::Refer,
            Self::Message => Method::Message,
            Self::Publish => Method::Publish,
            Self::Other(_) => return None,
        })
    }

    /// Whether this is one of the methods the crate names (not an extension).
    pub const fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_tokens() {
        assert_eq!(Method::parse("INVITE"), Ok(Method::Invite));
        assert_eq!(Method::parse("invite"), Ok(Method::Other("invite")));
        // RFC 4475 §3.1.1.5: RE%47IST%45R is not REGISTER.
        assert_eq!(
            Method::parse("RE%47IST%45R"),
            Ok(Method::Other("RE%47IST%45R"))
        );
        assert!(Method::parse("IN VITE").is_err());
        assert!(Method::parse("").is_err());
        for m in [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "REGISTER",
            "OPTIONS",
            "INFO",
            "UPDATE",
            "PRACK",
            "SUBSCRIBE",
            "NOTIFY",
            "REFER",
            "MESSAGE",
            "PUBLISH",
        ] {
            let parsed = Method::parse(m).unwrap();
            assert!(parsed.is_known());
            assert_eq!(parsed.as_str(), m);
        }
    }
}
