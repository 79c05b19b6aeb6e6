//! Transaction keys: how a message finds its transaction (RFC 3261 §17.1.3, §17.2.3).

use crate::{Message, Method};

fn method_token(m: Method<'_>) -> Box<str> {
    m.as_str().into()
}

/// Client-transaction key (§17.1.3): the top Via branch and the CSeq method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    branch: Box<str>,
    method: Box<str>,
}

impl ClientKey {
    /// The key of a request we send (its top Via branch and CSeq method).
    pub fn from_request(request: &Message) -> Option<Self> {
        Self::of(request)
    }

    /// The key a response matches: top Via branch and CSeq method.
    pub fn from_response(response: &Message) -> Option<Self> {
        Self::of(response)
    }

    fn of(msg: &Message) -> Option<Self> {
        let branch = msg.via().ok()?.branch()?;
        let method = msg.cseq().ok()?.method;
        Some(Self {
            branch: branch.into(),
            method: method_token(method),
        })
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }
}

/// Server-transaction key (§17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerKey {
    /// RFC 3261 matching: branch (with the `z9hG4bK` cookie), sent-by and method, where an
    /// ACK matches the INVITE it acknowledges.
    Rfc3261 {
        /// The top Via branch.
        branch: Box<str>,
        /// The top Via sent-by, host lowercased.
        sent_by: Box<str>,
        /// The method (`INVITE` for an ACK).
        method: Box<str>,
    },
    /// RFC 2543 fallback for requests without the cookie: Request-URI, From tag, Call-ID,
    /// CSeq number, top Via and method (ACK mapped to INVITE). The To tag is left out so that
    /// the ACK (which carries the tag our response added) matches its INVITE.
    Rfc2543 {
        /// The concatenated fields.
        fields: Box<str>,
        /// The method (`INVITE` for an ACK).
        method: Box<str>,
    },
}

impl ServerKey {
    /// The key of a received request, or `None` when it lacks a Via or CSeq.
    pub fn from_request(request: &Message) -> Option<Self> {
        let via = request.via().ok()?;
        let method = match request.method()? {
            Method::Ack => Method::Invite,
            m => m,
        };
        let method = method_token(method);
        if via.has_rfc3261_branch() {
            let sent_by = match via.port() {
                Some(p) => format!("{}:{p}", via.host_str().to_ascii_lowercase()),
                None => via.host_str().to_ascii_lowercase(),
            };
            return Some(Self::Rfc3261 {
                branch: via.branch()?.into(),
                sent_by: sent_by.into(),
                method,
            });
        }
        let from_tag = request.from().ok()?.tag().unwrap_or("").to_owned();
        let fields = format!(
            "{}\n{}\n{}\n{}\n{}",
            request.request_uri_str()?,
            from_tag,
            request.call_id().ok()?.0,
            request.cseq().ok()?.seq,
            request.values(crate::HeaderName::Via).next()?,
        );
        Some(Self::Rfc2543 {
            fields: fields.into(),
            method,
        })
    }

    /// The same key with another method: CANCEL finds its INVITE this way (§9.2).
    pub fn with_method(&self, method: Method<'_>) -> Self {
        let m = method_token(method);
        match self {
            Self::Rfc3261 {
                branch, sent_by, ..
            } => Self::Rfc3261 {
                branch: branch.clone(),
                sent_by: sent_by.clone(),
                method: m,
            },
            Self::Rfc2543 { fields, .. } => Self::Rfc2543 {
                fields: fields.clone(),
                method: m,
            },
        }
    }
}
