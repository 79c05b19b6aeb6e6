//! Header names known to the crate, with their compact forms (RFC 3261 §7.3.3 and extensions).

use std::fmt;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident => $canon:literal $(, $compact:literal)? ; )*) => {
        /// A header field name this crate recognises (case-insensitively, compact forms included).
        ///
        /// Headers with any other name are kept byte-exact and reached by their textual name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* $variant, )*
        }

        impl HeaderName {
            /// Every known name, in declaration order.
            pub const ALL: &'static [Self] = &[ $( Self::$variant, )* ];

            /// The canonical (long) spelling, as printed by builders.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $canon, )* }
            }

            /// The compact form (one letter), if the name has one.
            pub const fn compact(self) -> Option<char> {
                match self {
                    $( Self::$variant => header_names!(@compact $($compact)?), )*
                }
            }

            /// Recognises a name (long or compact form), ignoring ASCII case.
            pub fn from_bytes(name: &[u8]) -> Option<Self> {
                if name.len() == 1 {
                    let c = name[0].to_ascii_lowercase() as char;
                    $( $( if c == $compact { return Some(Self::$variant); } )? )*
                    return None;
                }
                if let Some(n) = lookup_canonical(name) {
                    return Some(n);
                }
                let mut lower = [0u8; 24];
                let dst = lower.get_mut(..name.len())?;
                for (d, s) in dst.iter_mut().zip(name) {
                    *d = s.to_ascii_lowercase();
                }
                lookup_lower(dst)
            }
        }
    };
    (@compact $c:literal) => { Some($c) };
    (@compact) => { None };
}

header_names! {
    /// `Accept` (RFC 3261 §20.1).
    Accept => "Accept";
    /// `Accept-Encoding`.
    AcceptEncoding => "Accept-Encoding";
    /// `Accept-Language`.
    AcceptLanguage => "Accept-Language";
    /// `Alert-Info`.
    AlertInfo => "Alert-Info";
    /// `Allow`.
    Allow => "Allow";
    /// `Allow-Events` (RFC 6665), compact `u`.
    AllowEvents => "Allow-Events", 'u';
    /// `Authentication-Info`.
    AuthenticationInfo => "Authentication-Info";
    /// `Authorization`.
    Authorization => "Authorization";
    /// `Call-ID`, compact `i`.
    CallId => "Call-ID", 'i';
    /// `Call-Info`.
    CallInfo => "Call-Info";
    /// `Contact`, compact `m`.
    Contact => "Contact", 'm';
    /// `Content-Disposition`.
    ContentDisposition => "Content-Disposition";
    /// `Content-Encoding`, compact `e`.
    ContentEncoding => "Content-Encoding", 'e';
    /// `Content-Language`.
    ContentLanguage => "Content-Language";
    /// `Content-Length`, compact `l`.
    ContentLength => "Content-Length", 'l';
    /// `Content-Type`, compact `c`.
    ContentType => "Content-Type", 'c';
    /// `CSeq`.
    CSeq => "CSeq";
    /// `Date`.
    Date => "Date";
    /// `Diversion` (RFC 5806).
    Diversion => "Diversion";
    /// `Error-Info`.
    ErrorInfo => "Error-Info";
    /// `Event` (RFC 6665), compact `o`.
    Event => "Event", 'o';
    /// `Expires`.
    Expires => "Expires";
    /// `From`, compact `f`.
    From => "From", 'f';
    /// `In-Reply-To`.
    InReplyTo => "In-Reply-To";
    /// `Max-Forwards`.
    MaxForwards => "Max-Forwards";
    /// `MIME-Version`.
    MimeVersion => "MIME-Version";
    /// `Min-Expires`.
    MinExpires => "Min-Expires";
    /// `Min-SE` (RFC 4028).
    MinSe => "Min-SE";
    /// `Organization`.
    Organization => "Organization";
    /// `P-Asserted-Identity` (RFC 3325).
    PAssertedIdentity => "P-Asserted-Identity";
    /// `P-Preferred-Identity` (RFC 3325).
    PPreferredIdentity => "P-Preferred-Identity";
    /// `Priority`.
    Priority => "Priority";
    /// `Privacy` (RFC 3323).
    Privacy => "Privacy";
    /// `Proxy-Authenticate`.
    ProxyAuthenticate => "Proxy-Authenticate";
    /// `Proxy-Authorization`.
    ProxyAuthorization => "Proxy-Authorization";
    /// `Proxy-Require`.
    ProxyRequire => "Proxy-Require";
    /// `RAck` (RFC 3262).
    RAck => "RAck";
    /// `Reason` (RFC 3326).
    Reason => "Reason";
    /// `Record-Route`.
    RecordRoute => "Record-Route";
    /// `Refer-To` (RFC 3515), compact `r`.
    ReferTo => "Refer-To", 'r';
    /// `Referred-By` (RFC 3892), compact `b`.
    ReferredBy => "Referred-By", 'b';
    /// `Replaces` (RFC 3891).
    Replaces => "Replaces";
    /// `Reply-To`.
    ReplyTo => "Reply-To";
    /// `Require`.
    Require => "Require";
    /// `Retry-After`.
    RetryAfter => "Retry-After";
    /// `Route`.
    Route => "Route";
    /// `RSeq` (RFC 3262).
    RSeq => "RSeq";
    /// `Server`.
    Server => "Server";
    /// `Session-Expires` (RFC 4028), compact `x`.
    SessionExpires => "Session-Expires", 'x';
    /// `Subject`, compact `s`.
    Subject => "Subject", 's';
    /// `Subscription-State` (RFC 6665).
    SubscriptionState => "Subscription-State";
    /// `Supported`, compact `k`.
    Supported => "Supported", 'k';
    /// `Timestamp`.
    Timestamp => "Timestamp";
    /// `To`, compact `t`.
    To => "To", 't';
    /// `Unsupported`.
    Unsupported => "Unsupported";
    /// `User-Agent`.
    UserAgent => "User-Agent";
    /// `Via`, compact `v`.
    Via => "Via", 'v';
    /// `Warning`.
    Warning => "Warning";
    /// `WWW-Authenticate`.
    WwwAuthenticate => "WWW-Authenticate";
}

/// The names as they are usually written (the canonical case), matched without lowering.
fn lookup_canonical(name: &[u8]) -> Option<HeaderName> {
    use HeaderName as H;
    Some(match name {
        b"Accept" => H::Accept,
        b"Accept-Encoding" => H::AcceptEncoding,
        b"Accept-Language" => H::AcceptLanguage,
        b"Alert-Info" => H::AlertInfo,
        b"Allow" => H::Allow,
        b"Allow-Events" => H::AllowEvents,
        b"Authentication-Info" => H::AuthenticationInfo,
        b"Authorization" => H::Authorization,
        b"Call-ID" => H::CallId,
        b"Call-Info" => H::CallInfo,
        b"Contact" => H::Contact,
        b"Content-Disposition" => H::ContentDisposition,
        b"Content-Encoding" => H::ContentEncoding,
        b"Content-Language" => H::ContentLanguage,
        b"Content-Length" => H::ContentLength,
        b"Content-Type" => H::ContentType,
        b"CSeq" => H::CSeq,
        b"Date" => H::Date,
        b"Diversion" => H::Diversion,
        b"Error-Info" => H::ErrorInfo,
        b"Event" => H::Event,
        b"Expires" => H::Expires,
        b"From" => H::From,
        b"In-Reply-To" => H::InReplyTo,
        b"Max-Forwards" => H::MaxForwards,
        b"MIME-Version" => H::MimeVersion,
        b"Min-Expires" => H::MinExpires,
        b"Min-SE" => H::MinSe,
        b"Organization" => H::Organization,
        b"P-Asserted-Identity" => H::PAssertedIdentity,
        b"P-Preferred-Identity" => H::PPreferredIdentity,
        b"Priority" => H::Priority,
        b"Privacy" => H::Privacy,
        b"Proxy-Authenticate" => H::ProxyAuthenticate,
        b"Proxy-Authorization" => H::ProxyAuthorization,
        b"Proxy-Require" => H::ProxyRequire,
        b"RAck" => H::RAck,
        b"Reason" => H::Reason,
        b"Record-Route" => H::RecordRoute,
        b"Refer-To" => H::ReferTo,
        b"Referred-By" => H::ReferredBy,
        b"Replaces" => H::Replaces,
        b"Reply-To" => H::ReplyTo,
        b"Require" => H::Require,
        b"Retry-After" => H::RetryAfter,
        b"Route" => H::Route,
        b"RSeq" => H::RSeq,
        b"Server" => H::Server,
        b"Session-Expires" => H::SessionExpires,
        b"Subject" => H::Subject,
        b"Subscription-State" => H::SubscriptionState,
        b"Supported" => H::Supported,
        b"Timestamp" => H::Timestamp,
        b"To" => H::To,
        b"Unsupported" => H::Unsupported,
        b"User-Agent" => H::UserAgent,
        b"Via" => H::Via,
        b"Warning" => H::Warning,
        b"WWW-Authenticate" => H::WwwAuthenticate,
        _ => return None,
    })
}

fn lookup_lower(name: &[u8]) -> Option<HeaderName> {
    use HeaderName as H;
    Some(match name {
        b"via" => H::Via,
        b"from" => H::From,
        b"to" => H::To,
        b"call-id" => H::CallId,
        b"cseq" => H::CSeq,
        b"contact" => H::Contact,
        b"max-forwards" => H::MaxForwards,
        b"content-length" => H::ContentLength,
        b"content-type" => H::ContentType,
        b"route" => H::Route,
        b"record-route" => H::RecordRoute,
        b"accept" => H::Accept,
        b"accept-encoding" => H::AcceptEncoding,
        b"accept-language" => H::AcceptLanguage,
        b"alert-info" => H::AlertInfo,
        b"allow" => H::Allow,
        b"allow-events" => H::AllowEvents,
        b"authentication-info" => H::AuthenticationInfo,
        b"authorization" => H::Authorization,
        b"call-info" => H::CallInfo,
        b"content-disposition" => H::ContentDisposition,
        b"content-encoding" => H::ContentEncoding,
        b"content-language" => H::ContentLanguage,
        b"date" => H::Date,
        b"diversion" => H::Diversion,
        b"error-info" => H::ErrorInfo,
        b"event" => H::Event,
        b"expires" => H::Expires,
        b"in-reply-to" => H::InReplyTo,
        b"mime-version" => H::MimeVersion,
        b"min-expires" => H::MinExpires,
        b"min-se" => H::MinSe,
        b"organization" => H::Organization,
        b"p-asserted-identity" => H::PAssertedIdentity,
        b"p-preferred-identity" => H::PPreferredIdentity,
        b"priority" => H::Priority,
        b"privacy" => H::Privacy,
        b"proxy-authenticate" => H::ProxyAuthenticate,
        b"proxy-authorization" => H::ProxyAuthorization,
        b"proxy-require" => H::ProxyRequire,
        b"rack" => H::RAck,
        b"reason" => H::Reason,
        b"refer-to" => H::ReferTo,
        b"referred-by" => H::ReferredBy,
        b"replaces" => H::Replaces,
        b"reply-to" => H::ReplyTo,
        b"require" => H::Require,
        b"retry-after" => H::RetryAfter,
        b"rseq" => H::RSeq,
        b"server" => H::Server,
        b"session-expires" => H::SessionExpires,
        b"subject" => H::Subject,
        b"subscription-state" => H::SubscriptionState,
        b"supported" => H::Supported,
        b"timestamp" => H::Timestamp,
        b"unsupported" => H::Unsupported,
        b"user-agent" => H::UserAgent,
        b"warning" => H::Warning,
        b"www-authenticate" => H::WwwAuthenticate,
        _ => return None,
    })
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_and_compact_name_round_trips() {
        for &h in HeaderName::ALL {
            assert_eq!(HeaderName::from_bytes(h.as_str().as_bytes()), Some(h));
            assert_eq!(super::lookup_canonical(h.as_str().as_bytes()), Some(h));
            assert_eq!(
                HeaderName::from_bytes(h.as_str().to_ascii_lowercase().as_bytes()),
                Some(h)
            );
            assert_eq!(
                HeaderName::from_bytes(h.as_str().to_ascii_uppercase().as_bytes()),
                Some(h)
            );
            if let Some(c) = h.compact() {
                assert_eq!(HeaderName::from_bytes(&[c as u8]), Some(h));
                assert_eq!(
                    HeaderName::from_bytes(&[c.to_ascii_uppercase() as u8]),
                    Some(h)
                );
            }
        }
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), None);
        assert_eq!(
            HeaderName::from_bytes(b"x-a-very-long-unknown-header-name"),
            None
        );
        assert_eq!(HeaderName::from_bytes(b""), None);
    }

    #[test]
    fn rfc3261_compact_forms() {
        // RFC 3261 §7.3.3 plus RFC 3515/3892/4028/6665.
        for (c, h) in [
            ('i', HeaderName::CallId),
            ('m', HeaderName::Contact),
            ('f', HeaderName::From),
            ('t', HeaderName::To),
            ('v', HeaderName::Via),
            ('l', HeaderName::ContentLength),
            ('c', HeaderName::ContentType),
            ('k', HeaderName::Supported),
            ('s', HeaderName::Subject),
            ('e', HeaderName::ContentEncoding),
            ('o', HeaderName::Event),
            ('u', HeaderName::AllowEvents),
            ('r', HeaderName::ReferTo),
            ('b', HeaderName::ReferredBy),
        ] {
            assert_eq!(HeaderName::from_bytes(&[c as u8]), Some(h), "{c}");
        }
    }
}
