//! Typed errors of the message layer.
//!
//! Three levels: [`ValueError`] (one header value or URI did not match its grammar),
//! [`HeaderError`] (which header, and whether it was missing, repeated or malformed) and
//! [`ParseError`] (the whole message). A [`ParseError`] raised after the head was framed
//! carries the message as far as it was read ([`ParseError::message`]), so an endpoint can
//! still answer `400` (or `505`) with the right Via/From/To/Call-ID/CSeq, and
//! [`ParseError::status_code`] suggests the response code.

use std::fmt;

use crate::message::Message;
use crate::name::HeaderName;

/// What a decoder expected to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A `token`.
    Token,
    /// A decimal number.
    Number,
    /// A quoted string.
    QuotedString,
    /// A URI.
    Uri,
    /// `<` opening a bracketed URI.
    LeftAngle,
    /// `>` closing a bracketed URI.
    RightAngle,
    /// `/` between parts (Via protocol, media type).
    Slash,
    /// `=` after a parameter name.
    Equals,
    /// A parameter (`;name[=value]`).
    Param,
    /// A host name or IP address.
    Host,
    /// A port number (0–65535).
    Port,
    /// A method name.
    Method,
    /// The `SIP/2.0` protocol name and version.
    Version,
    /// An RFC 1123 date in GMT.
    Date,
    /// `,` or the end of the value.
    End,
}

/// A URI that does not match RFC 3261 §19.1 / RFC 3966 / RFC 3986.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriError {
    /// Missing or malformed scheme.
    Scheme,
    /// Malformed user part (an unescaped character outside its set).
    User,
    /// Malformed password.
    Password,
    /// Malformed or missing host.
    Host,
    /// Malformed IPv6 reference.
    Ipv6,
    /// Port not a number in 0–65535.
    Port,
    /// Malformed URI parameter.
    Param,
    /// Malformed `?headers` part.
    Headers,
    /// Whitespace or a character no URI may hold.
    Character,
    /// Malformed `tel` number (RFC 3966).
    TelNumber,
    /// Empty body after `scheme:`.
    Empty,
    /// A SIP URI longer than 65535 bytes.
    TooLong,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "bad URI scheme",
            Self::User => "bad URI user part",
            Self::Password => "bad URI password",
            Self::Host => "bad URI host",
            Self::Ipv6 => "bad IPv6 reference",
            Self::Port => "bad URI port",
            Self::Param => "bad URI parameter",
            Self::Headers => "bad URI headers",
            Self::Character => "invalid character in URI",
            Self::TelNumber => "bad telephone number",
            Self::Empty => "empty URI",
            Self::TooLong => "URI longer than 65535 bytes",
        })
    }
}

impl std::error::Error for UriError {}

/// A header value (or part of one) that does not match its grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value is empty where the grammar needs something.
    #[error("empty value")]
    Empty,
    /// An empty element in a comma-separated list (`a,,b`) or an empty `;` parameter.
    #[error("empty list element or parameter")]
    EmptyElement,
    /// Something specific was expected.
    #[error("expected {0:?}")]
    Expected(Expected),
    /// A character not allowed at this byte offset of the value.
    #[error("unexpected character at offset {0}")]
    Syntax(usize),
    /// A quoted string without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A number beyond its range (e.g. CSeq above 2^32-1).
    #[error("number out of range")]
    Overflow,
    /// Extra bytes after a complete value.
    #[error("trailing characters")]
    Trailing,
    /// A bad URI.
    #[error("{0}")]
    Uri(UriError),
    /// An addr-spec without `<>` that holds `,`, `?` or `;` inside the URI
    /// (RFC 3261 §20: such a URI MUST be enclosed in angle brackets).
    #[error("URI with reserved characters must be enclosed in <>")]
    UnbracketedUri,
}

impl From<UriError> for ValueError {
    fn from(e: UriError) -> Self {
        Self::Uri(e)
    }
}

/// What is wrong with a header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderErrorKind {
    /// The header is absent.
    Missing,
    /// A header allowed once appears more than once (RFC 4475 §3.3.8).
    Multiple,
    /// The value does not match the header's grammar.
    Invalid(ValueError),
}

/// A problem with one header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_header(*.name, *.kind))]
pub struct HeaderError {
    /// Which header.
    pub name: HeaderName,
    /// What is wrong with it.
    pub kind: HeaderErrorKind,
}

fn describe_header(name: HeaderName, kind: HeaderErrorKind) -> String {
    match kind {
        HeaderErrorKind::Missing => format!("Missing {name} header"),
        HeaderErrorKind::Multiple => format!("Multiple {name} headers"),
        HeaderErrorKind::Invalid(e) => format!("Bad {name} header: {e}"),
    }
}

impl HeaderError {
    /// Builds an error.
    pub const fn new(name: HeaderName, kind: HeaderErrorKind) -> Self {
        Self { name, kind }
    }

    /// Whether the header is simply absent.
    pub const fn is_missing(&self) -> bool {
        matches!(self.kind, HeaderErrorKind::Missing)
    }
}

/// Why a message was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// No bytes (or only line breaks) where a message was expected.
    Empty,
    /// The head (start line and headers) does not end in an empty line within the datagram.
    Truncated,
    /// A line ends in LF without CR (RFC 3261 §7: lines end in CRLF).
    BareLineFeed,
    /// A CR not followed by LF in the head.
    BareCarriageReturn,
    /// A NUL or other control character where the head allows none.
    ControlCharacter,
    /// The head is not valid UTF-8 (RFC 3261 §25 `UTF8-NONASCII`).
    NonUtf8,
    /// More header lines than [`crate::ParseOptions::max_headers`].
    TooManyHeaders,
    /// A head longer than [`crate::ParseOptions::max_head_len`].
    HeadTooLarge,
    /// A body longer than [`crate::ParseOptions::max_body_len`].
    BodyTooLarge,
    /// The start line is neither a Request-Line nor a Status-Line (wrong number of
    /// single spaces, RFC 3261 §7.1, RFC 4475 §3.1.2.8–3.1.2.10).
    StartLine,
    /// The method is not a token.
    Method,
    /// The Request-URI does not parse.
    RequestUri(UriError),
    /// The Request-URI is enclosed in `<>` (RFC 4475 §3.1.2.7).
    RequestUriBracketed,
    /// The Request-URI carries `?headers`, which RFC 3261 §19.1.1 (Table 1) forbids there.
    RequestUriHeaders,
    /// The SIP-Version is malformed.
    Version,
    /// A well-formed SIP-Version other than 2.0: answer `505` (RFC 3261 §21.5.6).
    UnsupportedVersion {
        /// Major version.
        major: u32,
        /// Minor version.
        minor: u32,
    },
    /// The status code is not three digits in 100–699.
    StatusCode,
    /// The Reason-Phrase holds a control character.
    ReasonPhrase,
    /// A header line with an empty or non-token name.
    HeaderName,
    /// A header line without `:`.
    MissingColon,
    /// A continuation line (leading SP/HTAB) before any header.
    OrphanContinuation,
    /// A header that the parser validates did not decode.
    Header(HeaderError),
    /// Content-Length larger than what the datagram holds (RFC 4475 §3.1.2.2).
    ContentLengthExceedsDatagram {
        /// The declared length.
        declared: usize,
        /// The bytes present after the head.
        available: usize,
    },
    /// A stream message without Content-Length (RFC 3261 §18.3: mandatory on streams).
    MissingContentLength,
    /// Several Content-Length values: a stream cannot be framed (RFC 4475 §3.3.9).
    ConflictingContentLength,
    /// CSeq method differs from the request method (RFC 4475 §3.1.2.17–18).
    CSeqMethodMismatch,
}

/// A message that was not accepted, with the part of it that could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    message: Option<Box<Message>>,
}

impl ParseError {
    pub(crate) const fn new(kind: ParseErrorKind) -> Self {
        Self {
            kind,
            message: None,
        }
    }

    pub(crate) fn with_message(kind: ParseErrorKind, message: Message) -> Self {
        Self {
            kind,
            message: Some(Box::new(message)),
        }
    }

    /// What went wrong.
    pub const fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The message as far as it was framed (start line, header index, body), when the head
    /// could be framed: enough to build an error response. Its headers are not validated.
    pub fn message(&self) -> Option<&Message> {
        self.message.as_deref()
    }

    /// Takes the partially read message out of the error.
    pub fn into_message(self) -> Option<Message> {
        self.message.map(|m| *m)
    }

    /// The response a UAS should send for a request that failed this way:
    /// `505` for an unsupported version (RFC 3261 §21.5.6), `513` for an oversized message
    /// (§21.5.7), otherwise `400` (§21.4.1). Responses are never answered (RFC 4475 §3.1.2.5).
    pub const fn status_code(&self) -> u16 {
        match self.kind {
            ParseErrorKind::UnsupportedVersion { .. } => 505,
            ParseErrorKind::HeadTooLarge
            | ParseErrorKind::BodyTooLarge
            | ParseErrorKind::TooManyHeaders => 513,
            _ => 400,
        }
    }

    /// Whether a stream can carry on after this error (the message boundary is known).
    pub const fn is_recoverable_on_stream(&self) -> bool {
        !matches!(
            self.kind,
            ParseErrorKind::MissingContentLength
                | ParseErrorKind::ConflictingContentLength
                | ParseErrorKind::Header(HeaderError {
                    name: HeaderName::ContentLength,
                    ..
                })
                | ParseErrorKind::HeadTooLarge
                | ParseErrorKind::BodyTooLarge
                | ParseErrorKind::TooManyHeaders
                | ParseErrorKind::Truncated
                | ParseErrorKind::Empty
                | ParseErrorKind::BareLineFeed
                | ParseErrorKind::BareCarriageReturn
                | ParseErrorKind::NonUtf8
                | ParseErrorKind::OrphanContinuation
                | ParseErrorKind::HeaderName
                | ParseErrorKind::MissingColon
                | ParseErrorKind::ControlCharacter
        ) && self.message.is_some()
    }
}

impl fmt::Display for ParseError {
    /// A short text fit for a Reason-Phrase (`400 Bad Via header`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::Empty => f.write_str("Empty message"),
            ParseErrorKind::Truncated => f.write_str("Truncated message head"),
            ParseErrorKind::BareLineFeed => f.write_str("Line not terminated by CRLF"),
            ParseErrorKind::BareCarriageReturn => f.write_str("Bare CR in message head"),
            ParseErrorKind::ControlCharacter => f.write_str("Control character in message head"),
            ParseErrorKind::NonUtf8 => f.write_str("Message head is not UTF-8"),
            ParseErrorKind::TooManyHeaders => f.write_str("Too many header fields"),
            ParseErrorKind::HeadTooLarge => f.write_str("Message head too large"),
            ParseErrorKind::BodyTooLarge => f.write_str("Message body too large"),
            ParseErrorKind::StartLine => f.write_str("Malformed start line"),
            ParseErrorKind::Method => f.write_str("Bad method"),
            ParseErrorKind::RequestUri(e) => write!(f, "Bad Request-URI: {e}"),
            ParseErrorKind::RequestUriBracketed => f.write_str("Request-URI enclosed in <>"),
            ParseErrorKind::RequestUriHeaders => f.write_str("Headers in Request-URI"),
            ParseErrorKind::Version => f.write_str("Bad SIP version"),
            ParseErrorKind::UnsupportedVersion { .. } => f.write_str("Version Not Supported"),
            ParseErrorKind::StatusCode => f.write_str("Bad status code"),
            ParseErrorKind::ReasonPhrase => f.write_str("Bad reason phrase"),
            ParseErrorKind::HeaderName => f.write_str("Bad header name"),
            ParseErrorKind::MissingColon => f.write_str("Header line without colon"),
            ParseErrorKind::OrphanContinuation => f.write_str("Continuation line before headers"),
            ParseErrorKind::Header(h) => write!(f, "{h}"),
            ParseErrorKind::ContentLengthExceedsDatagram { .. } => {
                f.write_str("Content-Length larger than message")
            }
            ParseErrorKind::MissingContentLength => f.write_str("Missing Content-Length"),
            ParseErrorKind::ConflictingContentLength => f.write_str("Conflicting Content-Length"),
            ParseErrorKind::CSeqMethodMismatch => f.write_str("CSeq method does not match"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<ParseErrorKind> for ParseError {
    fn from(kind: ParseErrorKind) -> Self {
        Self::new(kind)
    }
}
