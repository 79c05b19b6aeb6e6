//! SDP (RFC 8866) parse/print and RFC 3264 offer/answer for audio.
//!
//! [`SessionDescription::parse`] keeps every line it does not interpret
//! (bandwidth, unknown attributes) so printing is faithful; typed accessors
//! decode `rtpmap`, `fmtp`, `ptime`, `maxptime`, direction, `rtcp-mux` and
//! `crypto` on demand. [`answer`] negotiates an offer against a
//! [`MediaPolicy`] and either produces the answer plus the negotiated
//! parameters, or a typed [`Rejection`] (the PBX answers 488).

use crate::sdes::{CryptoAttribute, SdesError};
use crate::srtp::SrtpProfile;
use std::fmt;
use thiserror::Error;

/// Why an SDP body does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("SDP line {line}: {kind}")]
pub struct SdpError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: SdpErrorKind,
}

/// The kinds of SDP syntax errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// Not `<letter>=<value>`.
    #[error("not a type=value line")]
    LineSyntax,
    /// The body does not start with `v=0`.
    #[error("missing or unsupported v= line")]
    Version,
    /// A malformed `o=` line.
    #[error("malformed o= line")]
    Origin,
    /// A malformed `c=` line.
    #[error("malformed c= line")]
    Connection,
    /// A malformed `m=` line.
    #[error("malformed m= line")]
    Media,
    /// A malformed `t=` line.
    #[error("malformed t= line")]
    Timing,
    /// A required line (`o=`, `s=`, `t=`) is missing.
    #[error("missing required line")]
    Missing,
}

/// `o=` (RFC 8866 §5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-` when none).
    pub username: String,
    /// Session id.
    pub session_id: u64,
    /// Session version (increment on every new offer).
    pub session_version: u64,
    /// Address type (`IP4`/`IP6`).
    pub address_type: String,
    /// Unicast address.
    pub address: String,
}

/// `c=` (RFC 8866 §5.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Address type (`IP4`/`IP6`).
    pub address_type: String,
    /// Connection address.
    pub address: String,
}

/// An `a=` attribute: name and optional value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Value after `:`.
    pub value: Option<String>,
}

impl Attribute {
    /// A property attribute (`a=name`).
    pub fn flag(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: None,
        }
    }

    /// A value attribute (`a=name:value`).
    pub fn value(name: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            value: Some(value.into()),
        }
    }
}

/// Media direction (RFC 3264 §5.1, §8.4 hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    /// Send and receive.
    #[default]
    SendRecv,
    /// Send only (puts the peer on hold).
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction seen from the other side.
    pub const fn reversed(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            d => d,
        }
    }

    /// Whether this side sends.
    pub const fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether this side receives.
    pub const fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }
}

/// `a=rtpmap` (or the RFC 3551 static default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written.
    pub encoding: String,
    /// Clock rate, Hz.
    pub clock_rate: u32,
    /// Channels (1 when absent).
    pub channels: u8,
}

/// RFC 3551 static audio payload types.
fn static_map(pt: u8) -> Option<(&'static str, u32)> {
    Some(match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        13 => ("CN", 8000),
        18 => ("G729", 8000),
        _ => return None,
    })
}

/// One `m=` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type (`audio`, `video`, …).
    pub kind: String,
    /// Port (0 = rejected/disabled).
    pub port: u16,
    /// Transport protocol (`RTP/AVP`, `RTP/SAVP`, …).
    pub protocol: String,
    /// Format list (payload types for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// Other lines (`b=`, `i=`, `k=`) kept verbatim as (type, value).
    pub other: Vec<(char, String)>,
    /// Attributes in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    fn attr(&self, name: &str) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(move |a| a.name.eq_ignore_ascii_case(name))
            .filter_map(|a| a.value.as_deref())
    }

    fn has_flag(&self, name: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Payload types in offer order (non-numeric formats skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|&p| p < 128)
    }

    /// The rtpmap of `pt`, or its RFC 3551 static default.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        for v in self.attr("rtpmap") {
            let Some((p, rest)) = v.split_once(' ') else {
                continue;
            };
            if p.trim().parse::<u8>().ok() != Some(pt) {
                continue;
            }
            let mut parts = rest.trim().split('/');
            let encoding = parts.next()?.to_owned();
            let clock_rate = parts.next()?.parse().ok()?;
            let channels = parts.next().map_or(Some(1), |c| c.parse().ok())?;
            return Some(RtpMap {
                payload_type: pt,
                encoding,
                clock_rate,
                channels,
            });
        }
        static_map(pt).map(|(e, r)| RtpMap {
            payload_type: pt,
            encoding: e.to_owned(),
            clock_rate: r,
            channels: 1,
        })
    }

    /// The fmtp parameters of `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attr("fmtp").find_map(|v| {
            let (p, rest) = v.split_once(' ')?;
            (p.parse::<u8>().ok() == Some(pt)).then_some(rest.trim())
        })
    }

    /// `a=ptime` in ms.
    pub fn ptime(&self) -> Option<u32> {
        self.attr("ptime").find_map(|v| v.trim().parse().ok())
    }

    /// `a=maxptime` in ms.
    pub fn maxptime(&self) -> Option<u32> {
        self.attr("maxptime").find_map(|v| v.trim().parse().ok())
    }

    /// The direction attribute (sendrecv when absent).
    pub fn direction(&self) -> Direction {
        for d in [
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
            Direction::SendRecv,
        ] {
            if self.has_flag(d.as_str()) {
                return d;
            }
        }
        Direction::SendRecv
    }

    /// Whether `a=rtcp-mux` is present (RFC 5761).
    pub fn rtcp_mux(&self) -> bool {
        self.has_flag("rtcp-mux")
    }

    /// The `a=crypto` lines, each parsed or with its reason.
    pub fn crypto(&self) -> Vec<Result<CryptoAttribute, SdesError>> {
        self.attr("crypto").map(CryptoAttribute::parse).collect()
    }
}

/// A whole session description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=`.
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// `t=` start and stop.
    pub timing: (u64, u64),
    /// Other session lines (`i=`, `u=`, `e=`, `p=`, `b=`, `r=`, `z=`, `k=`) verbatim.
    pub other: Vec<(char, String)>,
    /// Session-level attributes.
    pub attributes: Vec<Attribute>,
    /// Media sections.
    pub media: Vec<MediaDescription>,
}

fn parse_connection(v: &str) -> Option<Connection> {
    let mut f = v.split_ascii_whitespace();
    (f.next()? == "IN").then_some(())?;
    let address_type = f.next()?.to_owned();
    let address = f.next()?.to_owned();
    Some(Connection {
        address_type,
        address,
    })
}

fn parse_attribute(v: &str) -> Attribute {
    match v.split_once(':') {
        Some((n, val)) => Attribute::value(n, val),
        None => Attribute::flag(v),
    }
}

impl SessionDescription {
    /// Parses an SDP body (CRLF or LF line ends).
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        let mut origin = None;
        let mut session_name = None;
        let mut connection = None;
        let mut timing = None;
        let mut other = Vec::new();
        let mut attributes = Vec::new();
        let mut media: Vec<MediaDescription> = Vec::new();
        let mut saw_version = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |kind| SdpError { line, kind };
            let l = raw.trim_end_matches('\r');
            if l.is_empty() {
                continue;
            }
            let b = l.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(err(SdpErrorKind::LineSyntax));
            }
            let (t, v) = (b[0] as char, &l[2..]);
            if !saw_version {
                if t != 'v' || v.trim() != "0" {
                    return Err(err(SdpErrorKind::Version));
                }
                saw_version = true;
                continue;
            }
            if let Some(m) = media.last_mut() {
                match t {
                    'c' => {
                        m.connection =
                            Some(parse_connection(v).ok_or(err(SdpErrorKind::Connection))?);
                        continue;
                    }
                    'a' => {
                        m.attributes.push(parse_attribute(v));
                        continue;
                    }
                    'm' => {}
                    _ => {
                        m.other.push((t, v.to_owned()));
                        continue;
                    }
                }
            }
            match t {
                'o' => {
                    let f: Vec<&str> = v.split_ascii_whitespace().collect();
                    if f.len() != 6 || f[3] != "IN" {
                        return Err(err(SdpErrorKind::Origin));
                    }
                    origin = Some(Origin {
                        username: f[0].to_owned(),
                        session_id: f[1].parse().map_err(|_| err(SdpErrorKind::Origin))?,
                        session_version: f[2].parse().map_err(|_| err(SdpErrorKind::Origin))?,
                        address_type: f[4].to_owned(),
                        address: f[5].to_owned(),
                    });
                }
                's' => session_name = Some(v.to_owned()),
                'c' => connection = Some(parse_connection(v).ok_or(err(SdpErrorKind::Connection))?),
                't' => {
                    let mut f = v.split_ascii_whitespace().map(str::parse::<u64>);
                    match (f.next(), f.next()) {
                        (Some(Ok(a)), Some(Ok(b))) => timing = Some((a, b)),
                        _ => return Err(err(SdpErrorKind::Timing)),
                    }
                }
                'a' => attributes.push(parse_attribute(v)),
                'm' => {
                    let f: Vec<&str> = v.split_ascii_whitespace().collect();
                    if f.len() < 3 {
                        return Err(err(SdpErrorKind::Media));
                    }
                    let port_s = f[1].split('/').next().unwrap_or("");
                    let port = port_s.parse().map_err(|_| err(SdpErrorKind::Media))?;
                    media.push(MediaDescription {
                        kind: f[0].to_owned(),
                        port,
                        protocol: f[2].to_owned(),
                        formats: f[3..].iter().map(|s| (*s).to_owned()).collect(),
                        connection: None,
                        other: Vec::new(),
                        attributes: Vec::new(),
                    });
                }
                _ => other.push((t, v.to_owned())),
            }
        }
        let missing = SdpError {
            line: 0,
            kind: SdpErrorKind::Missing,
        };
        if !saw_version {
            return Err(SdpError {
                line: 1,
                kind: SdpErrorKind::Version,
            });
        }
        Ok(Self {
            origin: origin.ok_or(missing)?,
            session_name: session_name.ok_or(missing)?,
            connection,
            timing: timing.ok_or(missing)?,
            other,
            attributes,
            media,
        })
    }
}

fn write_attr(f: &mut fmt::Formatter<'_>, a: &Attribute) -> fmt::Result {
    match &a.value {
        Some(v) => write!(f, "a={}:{}\r\n", a.name, v),
        None => write!(f, "a={}\r\n", a.name),
    }
}

impl fmt::Display for SessionDescription {
    /// Prints with CRLF line ends in RFC 8866 order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        f.write_str("v=0\r\n")?;
        write!(
            f,
            "o={} {} {} IN {} {}\r\n",
            o.username, o.session_id, o.session_version, o.address_type, o.address
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        for (t, v) in self.other.iter().filter(|(t, _)| "iuepc".contains(*t)) {
            write!(f, "{t}={v}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c=IN {} {}\r\n", c.address_type, c.address)?;
        }
        for (t, v) in self.other.iter().filter(|(t, _)| *t == 'b') {
            write!(f, "{t}={v}\r\n")?;
        }
        write!(f, "t={} {}\r\n", self.timing.0, self.timing.1)?;
        for (t, v) in self.other.iter().filter(|(t, _)| !"iuepcb".contains(*t)) {
            write!(f, "{t}={v}\r\n")?;
        }
        for a in &self.attributes {
            write_attr(f, a)?;
        }
        for m in &self.media {
            write!(f, "m={} {} {}", m.kind, m.port, m.protocol)?;
            for fm in &m.formats {
                write!(f, " {fm}")?;
            }
            f.write_str("\r\n")?;
            for (t, v) in m.other.iter().filter(|(t, _)| *t == 'i') {
                write!(f, "{t}={v}\r\n")?;
            }
            if let Some(c) = &m.connection {
                write!(f, "c=IN {} {}\r\n", c.address_type, c.address)?;
            }
            for (t, v) in m.other.iter().filter(|(t, _)| *t != 'i') {
                write!(f, "{t}={v}\r\n")?;
            }
            for a in &m.attributes {
                write_attr(f, a)?;
            }
        }
        Ok(())
    }
}

/// A codec the PBX can terminate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecSpec {
    /// Encoding name (`PCMU`, `PCMA`, `G722`, `G729`, `opus`, …).
    pub encoding: String,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// Channels.
    pub channels: u8,
    /// Payload type used in our offers (static PT for static codecs).
    pub payload_type: u8,
    /// fmtp parameters we offer (e.g. `annexb=no`).
    pub fmtp: Option<String>,
}

impl CodecSpec {
    /// A static-payload-type codec from RFC 3551.
    pub fn static_pt(pt: u8) -> Option<Self> {
        static_map(pt).map(|(e, r)| Self {
            encoding: e.to_owned(),
            clock_rate: r,
            channels: 1,
            payload_type: pt,
            fmtp: None,
        })
    }

    fn matches(&self, m: &RtpMap) -> bool {
        self.encoding.eq_ignore_ascii_case(&m.encoding)
            && self.clock_rate == m.clock_rate
            && self.channels == m.channels
    }
}

/// Whether SRTP is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SrtpPolicy {
    /// Plain RTP only; `RTP/SAVP` offers are rejected.
    #[default]
    Disabled,
    /// Accept either; offer plain RTP.
    Optional,
    /// SRTP only (Secure VoIP licensed and mandated, MV-40).
    Required,
}

/// What the local side supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaPolicy {
    /// Codecs in our preference order.
    pub codecs: Vec<CodecSpec>,
    /// RFC 4733 telephone-event payload type offered (None = not supported).
    pub telephone_event: Option<u8>,
    /// SRTP policy.
    pub srtp: SrtpPolicy,
    /// SRTP suites in preference order.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// Offer/accept rtcp-mux.
    pub rtcp_mux: bool,
    /// Our packetisation time, ms.
    pub ptime: u32,
    /// Choose by the offerer's order (RFC 3264 §6.1 suggests honouring it) instead of ours.
    pub prefer_offerer_order: bool,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        Self {
            codecs: [8, 0]
                .into_iter()
                .filter_map(CodecSpec::static_pt)
                .collect(),
            telephone_event: Some(101),
            srtp: SrtpPolicy::Disabled,
            srtp_profiles: vec![
                SrtpProfile::AeadAes128Gcm,
                SrtpProfile::AesCm128HmacSha1_80,
                SrtpProfile::AesCm128HmacSha1_32,
            ],
            rtcp_mux: true,
            ptime: 20,
            prefer_offerer_order: true,
        }
    }
}

/// Our side of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalEndpoint {
    /// Our address for `o=`/`c=`.
    pub address: String,
    /// Address type (`IP4`/`IP6`).
    pub address_type: String,
    /// Our RTP port.
    pub port: u16,
    /// Our wanted direction (sendonly to hold the peer).
    pub direction: Direction,
    /// Session id/version for `o=`.
    pub session_id: u64,
    /// Session version for `o=`.
    pub session_version: u64,
}

/// Why an offer or answer cannot be served (the PBX answers 488).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Rejection {
    /// No audio m-line we could accept.
    #[error("no acceptable audio stream")]
    NoAudio,
    /// No codec in common.
    #[error("no common codec")]
    NoCommonCodec,
    /// The offer is plain RTP but policy requires SRTP.
    #[error("SRTP required")]
    SrtpRequired,
    /// The offer is SRTP but policy disables it.
    #[error("SRTP not supported")]
    SrtpUnsupported,
    /// No `a=crypto` line we support.
    #[error("no supported crypto suite")]
    NoSupportedCrypto,
    /// A transport we do not speak.
    #[error("unsupported transport protocol")]
    UnsupportedTransport,
    /// The answer does not match our offer.
    #[error("answer inconsistent with the offer")]
    InvalidAnswer,
}

/// The result of negotiation for the audio stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiatedAudio {
    /// Index of the m-line.
    pub index: usize,
    /// The codec with the payload type to send.
    pub codec: RtpMap,
    /// Its fmtp.
    pub fmtp: Option<String>,
    /// Telephone-event payload type, if both support it.
    pub telephone_event: Option<u8>,
    /// Our direction.
    pub direction: Direction,
    /// Where to send RTP.
    pub remote_address: String,
    /// Remote RTP port.
    pub remote_port: u16,
    /// RTCP multiplexed on the RTP port.
    pub rtcp_mux: bool,
    /// Remote ptime, if stated.
    pub ptime: Option<u32>,
    /// Remote maxptime, if stated.
    pub maxptime: Option<u32>,
    /// (their key for unprotect, our key for protect) when SRTP.
    pub srtp: Option<(CryptoAttribute, CryptoAttribute)>,
}

fn origin(local: &LocalEndpoint) -> Origin {
    Origin {
        username: "-".to_owned(),
        session_id: local.session_id,
        session_version: local.session_version,
        address_type: local.address_type.clone(),
        address: local.address.clone(),
    }
}

/// Builds an offer; `key_salt` supplies fresh key material per suite when SRTP is offered.
pub fn offer(
    policy: &MediaPolicy,
    local: &LocalEndpoint,
    key_salt: &mut dyn FnMut(SrtpProfile) -> Vec<u8>,
) -> SessionDescription {
    let secure = policy.srtp == SrtpPolicy::Required;
    let mut formats: Vec<String> = policy
        .codecs
        .iter()
        .map(|c| c.payload_type.to_string())
        .collect();
    let mut attributes = Vec::new();
    for c in &policy.codecs {
        attributes.push(rtpmap_attr(
            c.payload_type,
            &c.encoding,
            c.clock_rate,
            c.channels,
        ));
        if let Some(f) = &c.fmtp {
            attributes.push(Attribute::value("fmtp", format!("{} {f}", c.payload_type)));
        }
    }
    if let Some(te) = policy.telephone_event {
        formats.push(te.to_string());
        attributes.push(Attribute::value(
            "rtpmap",
            format!("{te} telephone-event/8000"),
        ));
        attributes.push(Attribute::value("fmtp", format!("{te} 0-16")));
    }
    attributes.push(Attribute::value("ptime", policy.ptime.to_string()));
    if policy.rtcp_mux {
        attributes.push(Attribute::flag("rtcp-mux"));
    }
    if secure {
        for (i, p) in policy.srtp_profiles.iter().enumerate() {
            if let Ok(c) = CryptoAttribute::new(i as u32 + 1, *p, &key_salt(*p)) {
                attributes.push(Attribute::value("crypto", c.to_string()));
            }
        }
    }
    attributes.push(Attribute::flag(local.direction.as_str()));
    SessionDescription {
        origin: origin(local),
        session_name: "-".to_owned(),
        connection: Some(Connection {
            address_type: local.address_type.clone(),
            address: local.address.clone(),
        }),
        timing: (0, 0),
        other: Vec::new(),
        attributes: Vec::new(),
        media: vec![MediaDescription {
            kind: "audio".to_owned(),
            port: local.port,
            protocol: if secure { "RTP/SAVP" } else { "RTP/AVP" }.to_owned(),
            formats,
            connection: None,
            other: Vec::new(),
            attributes,
        }],
    }
}

fn rtpmap_attr(pt: u8, enc: &str, rate: u32, ch: u8) -> Attribute {
    if ch == 1 {
        Attribute::value("rtpmap", format!("{pt} {enc}/{rate}"))
    } else {
        Attribute::value("rtpmap", format!("{pt} {enc}/{rate}/{ch}"))
    }
}

fn choose_codec(m: &MediaDescription, policy: &MediaPolicy) -> Option<(RtpMap, Option<String>)> {
    let offered: Vec<RtpMap> = m
        .payload_types()
        .filter_map(|pt| m.rtpmap(pt))
        .filter(|r| !r.encoding.eq_ignore_ascii_case("telephone-event"))
        .collect();
    let pick = if policy.prefer_offerer_order {
        offered
            .iter()
            .find(|r| policy.codecs.iter().any(|c| c.matches(r)))
            .cloned()
    } else {
        policy
            .codecs
            .iter()
            .find_map(|c| offered.iter().find(|r| c.matches(r)).cloned())
    }?;
    let fmtp = m.fmtp(pick.payload_type).map(str::to_owned);
    Some((pick, fmtp))
}

fn telephone_event(m: &MediaDescription, clock: u32) -> Option<u8> {
    m.payload_types().find(|&pt| {
        m.rtpmap(pt).is_some_and(|r| {
            r.encoding.eq_ignore_ascii_case("telephone-event") && r.clock_rate == clock
        })
    })
}

fn remote_addr(sdp: &SessionDescription, m: &MediaDescription) -> String {
    m.connection
        .as_ref()
        .or(sdp.connection.as_ref())
        .map(|c| c.address.clone())
        .unwrap_or_default()
}

/// Answers `offer` (RFC 3264 §6): accepts the first usable audio stream,
/// rejects the other m-lines with port 0, and returns the answer with the
/// negotiated audio parameters.
pub fn answer(
    offer: &SessionDescription,
    policy: &MediaPolicy,
    local: &LocalEndpoint,
    key_salt: &mut dyn FnMut(SrtpProfile) -> Vec<u8>,
) -> Result<(SessionDescription, NegotiatedAudio), Rejection> {
    let mut media = Vec::with_capacity(offer.media.len());
    let mut negotiated = None;
    let mut reason = Rejection::NoAudio;
    for (index, m) in offer.media.iter().enumerate() {
        let rejected = MediaDescription {
            kind: m.kind.clone(),
            port: 0,
            protocol: m.protocol.clone(),
            formats: m.formats.clone(),
            connection: None,
            other: Vec::new(),
            attributes: Vec::new(),
        };
        if negotiated.is_some() || m.kind != "audio" || m.port == 0 {
            media.push(rejected);
            continue;
        }
        match answer_audio(offer, index, m, policy, local, key_salt) {
            Ok((desc, n)) => {
                media.push(desc);
                negotiated = Some(n);
            }
            Err(r) => {
                reason = r;
                media.push(rejected);
            }
        }
    }
    let n = negotiated.ok_or(reason)?;
    let sdp = SessionDescription {
        origin: origin(local),
        session_name: "-".to_owned(),
        connection: Some(Connection {
            address_type: local.address_type.clone(),
            address: local.address.clone(),
        }),
        timing: (0, 0),
        other: Vec::new(),
        attributes: Vec::new(),
        media,
    };
    Ok((sdp, n))
}

fn answer_audio(
    offer: &SessionDescription,
    index: usize,
    m: &MediaDescription,
    policy: &MediaPolicy,
    local: &LocalEndpoint,
    key_salt: &mut dyn FnMut(SrtpProfile) -> Vec<u8>,
) -> Result<(MediaDescription, NegotiatedAudio), Rejection> {
    let secure = match m.protocol.as_str() {
        "RTP/AVP" => false,
        "RTP/SAVP" => true,
        _ => return Err(Rejection::UnsupportedTransport),
    };
    match (secure, policy.srtp) {
        (false, SrtpPolicy::Required) => return Err(Rejection::SrtpRequired),
        (true, SrtpPolicy::Disabled) => return Err(Rejection::SrtpUnsupported),
        _ => {}
    }
    let (codec, fmtp) = choose_codec(m, policy).ok_or(Rejection::NoCommonCodec)?;
    let te = policy
        .telephone_event
        .and_then(|_| telephone_event(m, codec.clock_rate));
    let mut attributes = vec![rtpmap_attr(
        codec.payload_type,
        &codec.encoding,
        codec.clock_rate,
        codec.channels,
    )];
    if let Some(f) = &fmtp {
        attributes.push(Attribute::value(
            "fmtp",
            format!("{} {f}", codec.payload_type),
        ));
    }
    let mut formats = vec![codec.payload_type.to_string()];
    if let Some(te) = te {
        formats.push(te.to_string());
        attributes.push(Attribute::value(
            "rtpmap",
            format!("{te} telephone-event/{}", codec.clock_rate),
        ));
        attributes.push(Attribute::value("fmtp", format!("{te} 0-16")));
    }
    // Never above the offerer's maxptime (RFC 4566 §6).
    let ptime = m
        .maxptime()
        .map_or(policy.ptime, |max| policy.ptime.min(max));
    attributes.push(Attribute::value("ptime", ptime.to_string()));
    let rtcp_mux = policy.rtcp_mux && m.rtcp_mux();
    if rtcp_mux {
        attributes.push(Attribute::flag("rtcp-mux"));
    }
    let mut srtp = None;
    if secure {
        // Our preference among the offered suites we support.
        let offered: Vec<CryptoAttribute> = m.crypto().into_iter().filter_map(Result::ok).collect();
        let theirs = policy
            .srtp_profiles
            .iter()
            .find_map(|p| offered.iter().find(|c| c.profile == *p))
            .ok_or(Rejection::NoSupportedCrypto)?;
        let ours = CryptoAttribute::new(theirs.tag, theirs.profile, &key_salt(theirs.profile))
            .map_err(|_| Rejection::NoSupportedCrypto)?;
        attributes.push(Attribute::value("crypto", ours.to_string()));
        srtp = Some((theirs.clone(), ours));
    }
    // Direction: what they offer, reversed, intersected with what we want.
    let theirs = m.direction().reversed();
    let direction = Direction::from_flags(
        theirs.sends() && local.direction.sends(),
        theirs.receives() && local.direction.receives(),
    );
    attributes.push(Attribute::flag(direction.as_str()));
    let desc = MediaDescription {
        kind: "audio".to_owned(),
        port: local.port,
        protocol: m.protocol.clone(),
        formats,
        connection: None,
        other: Vec::new(),
        attributes,
    };
    let n = NegotiatedAudio {
        index,
        codec,
        fmtp,
        telephone_event: te,
        direction,
        remote_address: remote_addr(offer, m),
        remote_port: m.port,
        rtcp_mux,
        ptime: m.ptime(),
        maxptime: m.maxptime(),
        srtp,
    };
    Ok((desc, n))
}

/// Processes the answer to an offer we made (RFC 3264 §7): the codec the
/// answerer chose, its address, direction and crypto. `our_offer` supplies our keys.
pub fn process_answer(
    our_offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<NegotiatedAudio, Rejection> {
    if answer.media.len() != our_offer.media.len() {
        return Err(Rejection::InvalidAnswer);
    }
    let (index, (ours, m)) = our_offer
        .media
        .iter()
        .zip(&answer.media)
        .enumerate()
        .find(|(_, (o, a))| o.kind == "audio" && a.port != 0)
        .ok_or(Rejection::NoAudio)?;
    if ours.protocol != m.protocol {
        return Err(Rejection::InvalidAnswer);
    }
    let pt = m.payload_types().find(|&pt| {
        m.rtpmap(pt)
            .is_some_and(|r| !r.encoding.eq_ignore_ascii_case("telephone-event"))
    });
    let codec = pt
        .and_then(|pt| m.rtpmap(pt))
        .ok_or(Rejection::NoCommonCodec)?;
    if !ours.payload_types().any(|p| p == codec.payload_type) {
        return Err(Rejection::InvalidAnswer);
    }
    let srtp = if m.protocol == "RTP/SAVP" {
        let theirs = m
            .crypto()
            .into_iter()
            .find_map(Result::ok)
            .ok_or(Rejection::NoSupportedCrypto)?;
        let mine = ours
            .crypto()
            .into_iter()
            .filter_map(Result::ok)
            .find(|c| c.tag == theirs.tag && c.profile == theirs.profile)
            .ok_or(Rejection::InvalidAnswer)?;
        Some((theirs, mine))
    } else {
        None
    };
    Ok(NegotiatedAudio {
        index,
        fmtp: m.fmtp(codec.payload_type).map(str::to_owned),
        telephone_event: telephone_event(m, codec.clock_rate),
        codec,
        direction: m.direction().reversed(),
        remote_address: remote_addr(answer, m),
        remote_port: m.port,
        rtcp_mux: m.rtcp_mux() && ours.rtcp_mux(),
        ptime: m.ptime(),
        maxptime: m.maxptime(),
        srtp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4317 §2.1-style offer (Alice, audio + video) with our additions.
    const OFFER: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n\
s=\r\n\
c=IN IP4 host.atlanta.example.com\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 97 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:97 iLBC/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:30\r\n\
a=maxptime:10\r\n\
a=sendonly\r\n\
m=video 51372 RTP/AVP 31 32\r\n\
a=rtpmap:31 H261/90000\r\n\
a=rtpmap:32 MPV/90000\r\n";

    fn local() -> LocalEndpoint {
        LocalEndpoint {
            address: "192.0.2.10".to_owned(),
            address_type: "IP4".to_owned(),
            port: 20000,
            direction: Direction::SendRecv,
            session_id: 1,
            session_version: 1,
        }
    }

    fn keys(p: SrtpProfile) -> Vec<u8> {
        vec![7; p.master_key_len() + p.master_salt_len()]
    }

    #[test]
    fn parse_print_round_trip() {
        let s = SessionDescription::parse(OFFER).expect("valid");
        assert_eq!(s.media.len(), 2);
        let a = &s.media[0];
        assert_eq!(a.rtpmap(97).map(|r| r.encoding), Some("iLBC".to_owned()));
        assert_eq!(a.fmtp(101), Some("0-15"));
        assert_eq!(a.ptime(), Some(30));
        assert_eq!(a.direction(), Direction::SendOnly);
        let printed = s.to_string();
        assert_eq!(SessionDescription::parse(&printed).expect("reparse"), s);
        assert_eq!(printed, OFFER);
    }

    #[test]
    fn answers_hold_offer_with_recvonly_and_rejects_video() {
        let offer = SessionDescription::parse(OFFER).expect("valid");
        let (ans, n) = answer(&offer, &MediaPolicy::default(), &local(), &mut keys).expect("ok");
        // Offerer's order: PCMU first (we support PCMA and PCMU).
        assert_eq!(n.codec.encoding, "PCMU");
        assert_eq!(n.telephone_event, Some(101));
        assert_eq!(n.direction, Direction::RecvOnly);
        assert_eq!(n.ptime, Some(30));
        assert_eq!(n.maxptime, Some(10));
        assert_eq!(ans.media[0].ptime(), Some(10)); // capped by the offer's maxptime
        assert_eq!(ans.media[1].port, 0);
        assert_eq!(ans.media[0].direction(), Direction::RecvOnly);
        // The answer parses back and the offerer can process it.
        let back = SessionDescription::parse(&ans.to_string()).expect("valid");
        let theirs = process_answer(&offer, &back).expect("consistent");
        assert_eq!(theirs.codec.payload_type, 0);
        assert_eq!(theirs.remote_port, 20000);
        assert_eq!(theirs.direction, Direction::SendOnly);
    }

    #[test]
    fn typed_rejections() {
        let mut policy = MediaPolicy {
            codecs: vec![CodecSpec::static_pt(18).expect("G729")],
            ..MediaPolicy::default()
        };
        let offer = SessionDescription::parse(OFFER).expect("valid");
        assert_eq!(
            answer(&offer, &policy, &local(), &mut keys).err(),
            Some(Rejection::NoCommonCodec)
        );
        policy = MediaPolicy {
            srtp: SrtpPolicy::Required,
            ..MediaPolicy::default()
        };
        assert_eq!(
            answer(&offer, &policy, &local(), &mut keys).err(),
            Some(Rejection::SrtpRequired)
        );
        assert!(matches!(
            SessionDescription::parse("v=1\r\n"),
            Err(SdpError {
                kind: SdpErrorKind::Version,
                ..
            })
        ));
        assert!(matches!(
            SessionDescription::parse("v=0\r\no=x\r\n"),
            Err(SdpError {
                line: 2,
                kind: SdpErrorKind::Origin
            })
        ));
        assert!(SessionDescription::parse("v=0\r\nxx\r\n").is_err());
        assert!(SessionDescription::parse("").is_err());
    }

    #[test]
    fn srtp_offer_answer_with_sdes() {
        let policy = MediaPolicy {
            srtp: SrtpPolicy::Required,
            ..MediaPolicy::default()
        };
        let o = offer(&policy, &local(), &mut keys);
        let text = o.to_string();
        assert!(text.contains("m=audio 20000 RTP/SAVP 8 0 101"));
        assert!(text.contains("a=crypto:1 AEAD_AES_128_GCM inline:"));
        let parsed = SessionDescription::parse(&text).expect("valid");
        // The answerer supports only AES_CM_128_HMAC_SHA1_80.
        let answerer = MediaPolicy {
            srtp: SrtpPolicy::Optional,
            srtp_profiles: vec![SrtpProfile::AesCm128HmacSha1_80],
            prefer_offerer_order: false,
            codecs: vec![CodecSpec::static_pt(0).expect("PCMU")],
            ..MediaPolicy::default()
        };
        let (ans, n) = answer(&parsed, &answerer, &local(), &mut keys).expect("ok");
        let (theirs, ours) = n.srtp.expect("srtp");
        assert_eq!(theirs.profile, SrtpProfile::AesCm128HmacSha1_80);
        assert_eq!(ours.tag, theirs.tag);
        assert_eq!(n.codec.encoding, "PCMU");
        assert!(n.rtcp_mux);
        let back = process_answer(&parsed, &ans).expect("consistent");
        assert_eq!(
            back.srtp.map(|(t, _)| t.profile),
            Some(SrtpProfile::AesCm128HmacSha1_80)
        );
        // A plain-RTP-only answerer refuses the SAVP offer.
        assert_eq!(
            answer(&parsed, &MediaPolicy::default(), &local(), &mut keys).err(),
            Some(Rejection::SrtpUnsupported)
        );
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "v=0\r\nm=audio\r\n",
            "v=0\r\no=a b c IN IP4 x\r\n",
            "v=0\nm=audio x RTP/AVP 0\n",
            "\u{0}=\u{0}",
        ] {
            let _ = SessionDescription::parse(s);
        }
        let m = MediaDescription {
            kind: "audio".into(),
            port: 1,
            protocol: "RTP/AVP".into(),
            formats: vec!["96".into(), "x".into()],
            connection: None,
            other: vec![],
            attributes: vec![
                Attribute::value("rtpmap", "96"),
                Attribute::value("rtpmap", "96 opus"),
                Attribute::value("rtpmap", "96 opus/x/2"),
                Attribute::value("fmtp", "zz"),
            ],
        };
        assert_eq!(m.rtpmap(96), None);
        assert_eq!(m.fmtp(96), None);
    }
}
