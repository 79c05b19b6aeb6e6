//! REFER (RFC 3515) and Replaces (RFC 3891): the Refer-To target and its embedded Replaces,
//! the message/sipfrag bodies of the NOTIFYs that report progress, and matching a Replaces
//! against our dialogs.

use super::{DialogError, DialogId, DialogState};
use crate::{HeaderName, Message};

/// A Replaces value (RFC 3891 §6.1): `call-id;to-tag=…;from-tag=…[;early-only]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// Call-ID of the dialog to replace.
    pub call_id: String,
    /// Its tag on the side of the UA receiving the Replaces (that UA's local tag).
    pub to_tag: String,
    /// The other tag (that UA's remote tag).
    pub from_tag: String,
    /// Only an early dialog may be replaced.
    pub early_only: bool,
}

/// Whether a Replaces matches one of our dialogs (RFC 3891 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplacesMatch {
    /// It names this dialog and may replace it.
    Replace,
    /// It names another dialog.
    NoMatch,
    /// `early-only` but the dialog is confirmed: answer 486 Busy Here.
    NotEarly,
}

impl Replaces {
    /// Parses a header value (already percent-decoded when taken from a Refer-To URI).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(';');
        let call_id = parts.next()?.trim();
        if call_id.is_empty() {
            return None;
        }
        let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
        for p in parts {
            let (name, val) = p.split_once('=').unwrap_or((p, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "to-tag" => to_tag = Some(val.trim().to_owned()),
                "from-tag" => from_tag = Some(val.trim().to_owned()),
                "early-only" => early_only = true,
                _ => {}
            }
        }
        Some(Self {
            call_id: call_id.to_owned(),
            to_tag: to_tag.filter(|t| !t.is_empty())?,
            from_tag: from_tag.filter(|t| !t.is_empty())?,
            early_only,
        })
    }

    /// The Replaces of a request. More than one, or one that does not parse, is an `Err`:
    /// RFC 3891 §3 says answer 400.
    pub fn of(msg: &Message) -> Result<Option<Self>, DialogError> {
        let mut values = msg.values(HeaderName::Replaces);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(DialogError::Missing("a single valid Replaces"));
        }
        Self::parse(first)
            .map(Some)
            .ok_or(DialogError::Missing("a valid Replaces"))
    }

    /// The Replaces naming `dialog` as seen by its peer (our remote tag becomes to-tag).
    pub fn for_peer_of(dialog: &DialogId) -> Self {
        Self {
            call_id: dialog.call_id.clone(),
            to_tag: dialog.remote_tag.clone(),
            from_tag: dialog.local_tag.clone(),
            early_only: false,
        }
    }

    /// The header value.
    pub fn value(&self) -> String {
        let early = if self.early_only { ";early-only" } else { "" };
        format!(
            "{};to-tag={};from-tag={}{early}",
            self.call_id, self.to_tag, self.from_tag
        )
    }

    /// Matches against one of our dialogs: to-tag is our local tag, from-tag the remote.
    pub fn matches(&self, id: &DialogId, state: DialogState) -> ReplacesMatch {
        if self.call_id != id.call_id
            || self.to_tag != id.local_tag
            || self.from_tag != id.remote_tag
        {
            ReplacesMatch::NoMatch
        } else if self.early_only && state == DialogState::Confirmed {
            ReplacesMatch::NotEarly
        } else {
            ReplacesMatch::Replace
        }
    }
}

/// A Refer-To target (RFC 3515 §2.1): the URI and the Replaces embedded in its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferTo {
    /// The URI without its `?headers` part.
    pub uri: String,
    /// The Replaces from `?Replaces=…`, decoded.
    pub replaces: Option<Replaces>,
}

impl ReferTo {
    /// Parses a Refer-To value (`<uri>` with parameters, or a bare URI).
    pub fn parse(value: &str) -> Option<Self> {
        let v = value.trim();
        let inner = match (v.find('<'), v.rfind('>')) {
            (Some(a), Some(b)) if a < b => &v[a + 1..b],
            _ => v.split(';').next()?.trim(),
        };
        let (uri, headers) = inner.split_once('?').unwrap_or((inner, ""));
        if uri.is_empty() {
            return None;
        }
        let mut replaces = None;
        for h in headers.split('&').filter(|h| !h.is_empty()) {
            let (name, val) = h.split_once('=').unwrap_or((h, ""));
            if name.eq_ignore_ascii_case("replaces") {
                replaces = Some(Replaces::parse(&percent_decode(val)?)?);
            }
        }
        Some(Self {
            uri: uri.to_owned(),
            replaces,
        })
    }

    /// The Refer-To of a REFER; RFC 3515 §2.4.1 requires exactly one.
    pub fn of(msg: &Message) -> Option<Self> {
        let mut values = msg.values(HeaderName::ReferTo);
        let first = values.next()?;
        values
            .next()
            .is_none()
            .then(|| Self::parse(first))
            .flatten()
    }

    /// The header value, with the Replaces percent-encoded into the URI (RFC 3891 §5).
    pub fn value(&self) -> String {
        match &self.replaces {
            Some(r) => format!("<{}?Replaces={}>", self.uri, percent_encode(&r.value())),
            None => format!("<{}>", self.uri),
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The message/sipfrag body of a NOTIFY reporting `code` (RFC 3515 §2.4.5).
pub fn sipfrag(code: u16, reason: &str) -> String {
    format!("SIP/2.0 {code} {reason}\r\n")
}

/// The status code in a sipfrag body.
pub fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let line = body.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim();
    let mut it = line.split(' ');
    (it.next()? == "SIP/2.0").then_some(())?;
    let code = it.next()?;
    (code.len() == 3).then_some(())?;
    code.parse().ok().filter(|c| (100..700).contains(c))
}

/// The Event value of the implicit subscription a REFER with CSeq `refer_cseq` creates:
/// the first is `refer`, later ones in the same dialog carry `;id=` (RFC 3515 §2.4.6).
pub fn refer_event(refer_cseq: u32, first: bool) -> String {
    if first {
        "refer".to_owned()
    } else {
        format!("refer;id={refer_cseq}")
    }
}
