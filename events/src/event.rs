//! One raised event message: kind, node, timestamp, severity, typed details, occurrence count.

use core::fmt;
use std::net::IpAddr;

use crate::kind::{EventKind, FieldSpec, FieldType, Severity};
use crate::time::Timestamp;

/// The AIN node that raised a message (EV-7). Node 1 is the master by convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u16);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Longest text accepted in a text detail field, in bytes.
pub const MAX_TEXT_LEN: usize = 255;

/// A typed detail value (EV-7, EV-10). Which variant a field takes is its [`FieldType`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DetailValue {
    /// A printed code ([`FieldType::Code`]).
    Code(u32),
    /// A `{1=...}` flag ([`FieldType::Flag`]).
    Flag(bool),
    /// An unsigned number ([`FieldType::Unsigned`]).
    Unsigned(u64),
    /// A signed number ([`FieldType::Signed`]).
    Signed(i64),
    /// A digit string ([`FieldType::Digits`]).
    Digits(Box<str>),
    /// An IP address ([`FieldType::Ip`]).
    Ip(IpAddr),
    /// Free text ([`FieldType::Text`]).
    Text(Box<str>),
}

impl fmt::Display for DetailValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(c) => write!(f, "{c}"),
            Self::Flag(b) => f.write_str(if *b { "1" } else { "0" }),
            Self::Unsigned(n) => write!(f, "{n}"),
            Self::Signed(n) => write!(f, "{n}"),
            Self::Digits(s) | Self::Text(s) => f.write_str(s),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Why an event message could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The kind has no detail field of the given name.
    #[error("{kind} has no such detail field")]
    UnknownField {
        /// The event kind.
        kind: EventKind,
    },
    /// `date` and `time` come from the timestamp and cannot be set.
    #[error("{kind}: field {field} is filled from the timestamp")]
    TimestampField {
        /// The event kind.
        kind: EventKind,
        /// The field.
        field: &'static str,
    },
    /// The value's variant does not match the field's type.
    #[error("{kind}: field {field} expects {expected:?}")]
    WrongType {
        /// The event kind.
        kind: EventKind,
        /// The field.
        field: &'static str,
        /// The type the field accepts.
        expected: FieldType,
    },
    /// The code is not among the printed codes of the field (gaps are kept, EV-10).
    #[error("{kind}: code {code} is not defined for field {field}")]
    UnknownCode {
        /// The event kind.
        kind: EventKind,
        /// The field.
        field: &'static str,
        /// The rejected code.
        code: u32,
    },
    /// A digit field holds a non-digit or has the wrong length.
    #[error("{kind}: field {field} must be {min}..={max} digits")]
    BadDigits {
        /// The event kind.
        kind: EventKind,
        /// The field.
        field: &'static str,
        /// Fewest digits.
        min: u8,
        /// Most digits.
        max: u8,
    },
    /// A text field is longer than [`MAX_TEXT_LEN`] bytes or contains a control character.
    #[error("{kind}: field {field} text is too long or holds control characters")]
    BadText {
        /// The event kind.
        kind: EventKind,
        /// The field.
        field: &'static str,
    },
    /// A required field was not given.
    #[error("{kind}: required field {field} is missing")]
    MissingField {
        /// The event kind.
        kind: EventKind,
        /// The field.
        field: &'static str,
    },
    /// The severity may only be raised above the catalogue level for the five dual types (EV-2).
    #[error("{kind}: severity {severity} is not allowed")]
    SeverityNotAllowed {
        /// The event kind.
        kind: EventKind,
        /// The requested severity.
        severity: Severity,
    },
}

/// One raised event message (EV-1, EV-7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    kind: EventKind,
    node: NodeId,
    at: Timestamp,
    severity: Severity,
    /// Values by field position in the kind's spec (`None` for date/time and absent optionals).
    details: Box<[Option<DetailValue>]>,
    occurrence: u32,
}

impl Event {
    /// Starts building a message of `kind`, raised by `node` at wall-clock `at`.
    pub fn builder(kind: EventKind, node: NodeId, at: Timestamp) -> EventBuilder {
        EventBuilder {
            event: Self {
                kind,
                node,
                at,
                severity: kind.severity(),
                details: vec![None; kind.spec().fields.len()].into_boxed_slice(),
                occurrence: 1,
            },
            error: None,
        }
    }

    /// A message of a kind whose only fields are `date` and `time` (or none).
    pub fn simple(kind: EventKind, node: NodeId, at: Timestamp) -> Result<Self, EventError> {
        Self::builder(kind, node, at).build()
    }

    /// The event kind.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The node that raised it (EV-7).
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// When it was raised; also the `date` and `time` fields.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The effective severity (the catalogue's, or the escalated one for dual types, EV-2).
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// How many times this kind has been raised by this node, this one included (set by the
    /// [`Engine`](crate::Engine) on raise; 1 for a message never raised through it).
    pub fn occurrence(&self) -> u32 {
        self.occurrence
    }

    pub(crate) fn set_occurrence(&mut self, n: u32) {
        self.occurrence = n;
    }

    /// The value of detail field `name`, if given.
    pub fn detail(&self, name: &str) -> Option<&DetailValue> {
        let (i, _) = self.kind.spec().field(name)?;
        self.details.get(i)?.as_ref()
    }

    /// Every field of the kind with its value, in printed order; `date`/`time` and absent
    /// optional fields yield `None`.
    pub fn details(&self) -> impl Iterator<Item = (&'static FieldSpec, Option<&DetailValue>)> + '_ {
        self.kind
            .spec()
            .fields
            .iter()
            .zip(self.details.iter().map(Option::as_ref))
    }
}

/// Builds an [`Event`], checking each detail against the kind's field spec.
///
/// The first error is kept and returned by [`build`](Self::build), so calls chain.
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder {
    event: Event,
    error: Option<EventError>,
}

impl EventBuilder {
    /// Sets detail `name` to `value`.
    pub fn set(mut self, name: &str, value: DetailValue) -> Self {
        if self.error.is_none()
            && let Err(e) = self.try_set(name, value)
        {
            self.error = Some(e);
        }
        self
    }

    fn try_set(&mut self, name: &str, value: DetailValue) -> Result<(), EventError> {
        let kind = self.event.kind;
        let (i, spec) = kind
            .spec()
            .field(name)
            .ok_or(EventError::UnknownField { kind })?;
        check(kind, spec, &value)?;
        if let Some(slot) = self.event.details.get_mut(i) {
            *slot = Some(value);
        }
        Ok(())
    }

    /// Sets a code field.
    pub fn code(self, name: &str, code: u32) -> Self {
        self.set(name, DetailValue::Code(code))
    }

    /// Sets a flag field.
    pub fn flag(self, name: &str, on: bool) -> Self {
        self.set(name, DetailValue::Flag(on))
    }

    /// Sets an unsigned field.
    pub fn unsigned(self, name: &str, n: u64) -> Self {
        self.set(name, DetailValue::Unsigned(n))
    }

    /// Sets a signed field.
    pub fn signed(self, name: &str, n: i64) -> Self {
        self.set(name, DetailValue::Signed(n))
    }

    /// Sets a digit-string field.
    pub fn digits(self, name: &str, digits: &str) -> Self {
        self.set(name, DetailValue::Digits(digits.into()))
    }

    /// Sets an IP address field.
    pub fn ip(self, name: &str, ip: IpAddr) -> Self {
        self.set(name, DetailValue::Ip(ip))
    }

    /// Sets a text field.
    pub fn text(self, name: &str, text: &str) -> Self {
        self.set(name, DetailValue::Text(text.into()))
    }

    /// Raises the severity of one of the five dual types to critical (EV-2). Setting the
    /// catalogue severity itself is always allowed.
    pub fn severity(mut self, severity: Severity) -> Self {
        let kind = self.event.kind;
        let spec = kind.spec();
        let ok =
            severity == spec.severity || (spec.dual_severity && severity == Severity::Critical);
        if ok {
            self.event.severity = severity;
        } else if self.error.is_none() {
            self.error = Some(EventError::SeverityNotAllowed { kind, severity });
        }
        self
    }

    /// Finishes the message; fails on the first bad detail or a missing required field.
    pub fn build(self) -> Result<Event, EventError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let kind = self.event.kind;
        for (spec, value) in kind.spec().fields.iter().zip(self.event.details.iter()) {
            if spec.required && !spec.is_timestamp() && value.is_none() {
                return Err(EventError::MissingField {
                    kind,
                    field: spec.name,
                });
            }
        }
        Ok(self.event)
    }
}

fn check(kind: EventKind, spec: &'static FieldSpec, value: &DetailValue) -> Result<(), EventError> {
    let field = spec.name;
    let wrong = || EventError::WrongType {
        kind,
        field,
        expected: spec.ty,
    };
    match (spec.ty, value) {
        (FieldType::Date | FieldType::Time, _) => Err(EventError::TimestampField { kind, field }),
        (FieldType::Code, DetailValue::Code(c)) => {
            if spec.accepts_code(*c) {
                Ok(())
            } else {
                Err(EventError::UnknownCode {
                    kind,
                    field,
                    code: *c,
                })
            }
        }
        (FieldType::Flag, DetailValue::Flag(_))
        | (FieldType::Unsigned, DetailValue::Unsigned(_))
        | (FieldType::Signed, DetailValue::Signed(_))
        | (FieldType::Ip, DetailValue::Ip(_)) => Ok(()),
        (FieldType::Digits { min, max }, DetailValue::Digits(s)) => {
            let len = s.len();
            if s.bytes().all(|b| b.is_ascii_digit())
                && len >= usize::from(min)
                && len <= usize::from(max)
            {
                Ok(())
            } else {
                Err(EventError::BadDigits {
                    kind,
                    field,
                    min,
                    max,
                })
            }
        }
        (FieldType::Text, DetailValue::Text(s)) => {
            if s.len() <= MAX_TEXT_LEN && !s.chars().any(char::is_control) {
                Ok(())
            } else {
                Err(EventError::BadText { kind, field })
            }
        }
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const T: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

    #[test]
    fn ev7_typed_details_and_node() {
        let ev = Event::builder(EventKind::DosIpBlacklisted, NodeId(3), T)
            .ip("ip_address", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))
            .code("cause", 1)
            .build()
            .expect("valid");
        assert_eq!(ev.node(), NodeId(3));
        assert_eq!(ev.at(), T);
        assert_eq!(ev.detail("cause"), Some(&DetailValue::Code(1)));
        assert_eq!(ev.occurrence(), 1);
        let names: Vec<_> = ev.details().map(|(f, _)| f.name).collect();
        assert_eq!(names, ["ip_address", "cause", "date", "time"]);
    }

    #[test]
    fn ev10_codes_are_checked_gaps_kept() {
        // EV-10 / EV-48: software_download has no code 2.
        let k = EventKind::SoftwareDownload;
        for (code, ok) in [(0, true), (1, true), (2, false), (3, true), (4, false)] {
            let r = Event::builder(k, NodeId(1), T)
                .code("parameter_1", code)
                .build();
            assert_eq!(r.is_ok(), ok, "code {code}");
        }
        let err = Event::builder(k, NodeId(1), T)
            .code("parameter_1", 2)
            .build();
        assert_eq!(
            err,
            Err(EventError::UnknownCode {
                kind: k,
                field: "parameter_1",
                code: 2
            })
        );
    }

    #[test]
    fn missing_wrong_and_unknown_fields_are_typed_errors() {
        let k = EventKind::NodeConnectionLost;
        assert_eq!(
            Event::simple(k, NodeId(1), T),
            Err(EventError::MissingField {
                kind: k,
                field: "node_number"
            })
        );
        assert!(matches!(
            Event::builder(k, NodeId(1), T)
                .text("node_number", "x")
                .build(),
            Err(EventError::WrongType { .. })
        ));
        assert_eq!(
            Event::builder(k, NodeId(1), T).unsigned("nope", 1).build(),
            Err(EventError::UnknownField { kind: k })
        );
        assert!(matches!(
            Event::builder(k, NodeId(1), T).text("date", "x").build(),
            Err(EventError::TimestampField { .. })
        ));
    }

    #[test]
    fn ev48_user_code_range_and_digit_checks() {
        // EV-48: user_event_message code printed as nnnn but ranged 0000..99999.
        let k = EventKind::UserEventMessage;
        let mk = |code: &str| {
            Event::builder(k, NodeId(1), T)
                .digits("user_code", code)
                .digits("user_number", "201")
                .build()
        };
        assert!(mk("0000").is_ok());
        assert!(mk("99999").is_ok());
        assert!(mk("999").is_err());
        assert!(mk("123456").is_err());
        assert!(mk("12a4").is_err());
        // EV-48: insufficient_foip_channels carries no date/time.
        let fields: Vec<_> = EventKind::InsufficientFoipChannels
            .spec()
            .fields
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(fields, ["available_foip_channels_on_nodes"]);
        // EV-48: email_sent parameter 1 is the three-digit "000".
        let f = EventKind::EmailSent
            .spec()
            .field("cause_action")
            .map(|(_, f)| f.codes);
        assert_eq!(f, Some(&[("000", "success")][..]));
    }

    #[test]
    fn ev2_dual_severity_escalation() {
        let k = EventKind::TlsCertExpiring;
        let ev = Event::builder(k, NodeId(1), T)
            .code("endpoint_type", 0)
            .severity(Severity::Critical)
            .build()
            .expect("dual type may be critical");
        assert_eq!(ev.severity(), Severity::Critical);
        let bad = Event::builder(EventKind::CardReset, NodeId(1), T)
            .unsigned("expansion_slot_number", 2)
            .severity(Severity::Critical)
            .build();
        assert_eq!(
            bad,
            Err(EventError::SeverityNotAllowed {
                kind: EventKind::CardReset,
                severity: Severity::Critical
            })
        );
    }

    #[test]
    fn text_rejects_control_characters() {
        let r = Event::builder(EventKind::OperationalError, NodeId(1), T)
            .unsigned("error_id", 1)
            .build();
        assert!(r.is_ok());
        let r = Event::builder(EventKind::SupervisionEvent, NodeId(1), T)
            .text("supervision_type", "a\nb")
            .build();
        assert!(matches!(r, Err(EventError::BadText { .. })));
    }
}
