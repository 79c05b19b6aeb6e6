//! The configuration schema: plain data with defaults. Every table rejects unknown keys.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::value::{self, HostPort, Listen, PortRange};

fn addr(s: &str) -> SocketAddr {
    // Literal loopback addresses: provably valid.
    s.parse().expect("literal socket address")
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// SIP transports and registrar settings.
    pub sip: SipConfig,
    /// RTP ports, relay or direct media, codecs, media budget.
    pub media: MediaConfig,
    /// Local users (extensions).
    pub users: Vec<UserConfig>,
    /// Strict licensing; absent means demo mode.
    pub licence: Option<LicenceConfig>,
    /// Event destinations.
    pub events: EventsConfig,
    /// Call detail records.
    pub cdr: CdrConfig,
    /// DoS blacklisting (MV2-34).
    pub dos: DosConfig,
    /// SIP trunks to providers.
    pub trunks: Vec<TrunkConfig>,
    /// Hunt groups: a number that rings every member's devices at once.
    pub hunt_groups: Vec<HuntGroupConfig>,
    /// Text messaging between users: predefined texts (MV-49).
    pub messaging: MessagingConfig,
    /// Message groups: a number whose text messages reach every member (MV-49).
    pub message_groups: Vec<MessageGroupConfig>,
    /// Call timers and service numbers.
    pub calls: CallsConfig,
    /// Shutdown behaviour.
    pub shutdown: ShutdownConfig,
}

/// `[sip]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// UDP listen address or `"off"`.
    pub udp: Listen,
    /// TCP listen address or `"off"`.
    pub tcp: Listen,
    /// TLS listen address or `"off"` (certificate from `tls_cert`/`tls_key` or generated).
    pub tls: Listen,
    /// PEM certificate chain for TLS (default: a self-signed one in the data directory).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Days before the certificate's expiry from which `tls_cert_expiring` is raised as
    /// important (critical once expired, MV2-36).
    pub tls_expiry_warning_days: u32,
    /// The SIP domain users register in (default: the UDP, TCP or TLS listen IP).
    pub domain: Option<String>,
    /// `User-Agent` / `Server` header value.
    pub user_agent: String,
    /// Shortest registration accepted, seconds (`423 Interval Too Brief` below it).
    pub min_expires: u32,
    /// Longest registration granted, seconds.
    pub max_expires: u32,
    /// Most devices registered at once, all users together (MV-50, Tab. 13: 2400). A new
    /// device beyond it is refused with 503.
    pub max_terminals: u32,
    /// Seconds between the keep-alives (a double CRLF) sent to each UDP device registered
    /// from behind a NAT; 0 sends none. At most 3600.
    pub nat_keepalive_secs: u32,
    /// Digest algorithms challenged with, in order (`MD5`, `SHA-256`, `MD5-sess`,
    /// `SHA-256-sess`). Default `["MD5"]`: several phones (baresip/libre among them) fail on a
    /// challenge list with an algorithm they lack instead of skipping it (RFC 8760 §2.4).
    pub digest_algorithms: Vec<String>,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            udp: Listen::on(addr("127.0.0.1:5060")),
            tcp: Listen::on(addr("127.0.0.1:5060")),
            tls: Listen::on(addr("127.0.0.1:5061")),
            tls_cert: None,
            tls_key: None,
            tls_expiry_warning_days: 30,
            domain: None,
            user_agent: format!("PBXKit/{}", env!("CARGO_PKG_VERSION")),
            min_expires: 60,
            max_expires: 3600,
            max_terminals: super::validate::MAX_TERMINALS,
            nat_keepalive_secs: 30,
            digest_algorithms: vec!["MD5".to_owned()],
        }
    }
}

/// How media flows between two phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaMode {
    /// Through the PBX's RTP relay (each relayed leg costs 2 connections, MV-36).
    Relay,
    /// Phone to phone; the PBX relays only when it must transcode.
    Direct,
}

/// `[media]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// The RTP/RTCP port range.
    pub rtp_ports: PortRange,
    /// Relay (default) or direct media.
    pub mode: MediaMode,
    /// Codecs the PBX adds, in this order, to the offer a callee gets when the caller did
    /// not offer them; the relay transcodes between them and the caller's (SDP encoding
    /// names: opus, G722, PCMU, PCMA, G729).
    pub codecs: Vec<Spanned<String>>,
    /// Packetisation time in milliseconds: the `a=ptime` of the PBX's own answers (the
    /// echo test). Relayed calls keep each phone's own packetisation.
    pub ptime_ms: u32,
    /// Simultaneous media connections (MV-36: 250; a relayed leg costs 2).
    pub connections: u32,
    /// Relay SRTP calls (RTP/SAVP with SDES keys, each leg keyed apart) when the Secure VoIP
    /// licence allows it (MV-40); otherwise such offers are refused with 488.
    pub srtp: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            rtp_ports: PortRange {
                first: 20000,
                last: 20999,
            },
            mode: MediaMode::Relay,
            codecs: ["opus", "G722", "PCMU", "PCMA"]
                .into_iter()
                .map(|c| Spanned::new(0..0, c.to_owned()))
                .collect(),
            ptime_ms: 20,
            connections: 250,
            srtp: true,
        }
    }
}

/// The kind of terminal a user registers, for terminal licences (MV-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TerminalKind {
    /// A standard (third-party) SIP phone.
    #[default]
    StandardSip,
    /// A standard SIP phone with video.
    StandardSipVideo,
    /// A Mitel SIP phone.
    MitelSip,
    /// A MiVoice 5300 IP phone.
    Ip5300,
    /// A 2380 softphone.
    Softphone2380,
    /// A BluStar softphone.
    Blustar,
    /// A mobile with Mitel Mobile Client.
    Mmc,
    /// A virtual terminal (consumes no licence, MV-14).
    Virtual,
}

impl TerminalKind {
    /// Devices of this kind one user may have (MV-50's per-type sub-limits: one 2380
    /// softphone, one BluStar PC client); `None` when only `max_devices` applies.
    pub const fn max_per_user(self) -> Option<u32> {
        match self {
            Self::Softphone2380 | Self::Blustar => Some(1),
            _ => None,
        }
    }

    /// The licensing crate's terminal kind.
    pub const fn licensing(self) -> licensing::TerminalKind {
        use licensing::TerminalKind as L;
        match self {
            Self::StandardSip => L::StandardSip,
            Self::StandardSipVideo => L::StandardSipVideo,
            Self::MitelSip => L::MitelSip,
            Self::Ip5300 => L::Ip5300,
            Self::Softphone2380 => L::Softphone2380,
            Self::Blustar => L::BluStar,
            Self::Mmc => L::Mmc,
            Self::Virtual => L::Virtual,
        }
    }
}

/// `[[users]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The extension number (digits), also the SIP user name.
    pub extension: Spanned<String>,
    /// SIP digest password; absent: generated on first start and kept in the data directory.
    #[serde(default)]
    pub password: Option<Spanned<String>>,
    /// Display name for caller ID.
    #[serde(default)]
    pub name: Option<String>,
    /// Terminal kind for licensing (MV-13).
    #[serde(default)]
    pub terminal: TerminalKind,
    /// Most devices registered at once (parallel ringing; MV-50: 16 terminals per user).
    #[serde(default = "default_devices")]
    pub max_devices: u32,
    /// Forward every call to this number.
    #[serde(default)]
    pub forward_always: Option<Spanned<String>>,
    /// Forward when busy.
    #[serde(default)]
    pub forward_busy: Option<Spanned<String>>,
    /// Forward when not answered within the no-answer time.
    #[serde(default)]
    pub forward_no_answer: Option<Spanned<String>>,
}

const fn default_devices() -> u32 {
    4
}

/// `[[hunt_groups]]`: a number that rings its members (MV-50: at most 99 groups of at most
/// 16 members; MV-52: linear, cyclic, longest-idle, last-agent and CLIP routing).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntGroupConfig {
    /// The group's number.
    pub number: Spanned<String>,
    /// Member extensions, in order.
    pub members: Vec<Spanned<String>>,
    /// `"all"` (every member at once, the default), or one at a time: `"linear"` (from the
    /// first), `"cyclic"` (each call starting one member further on), `"longest_idle"` (the
    /// member whose last call ended longest ago first), `"last_agent"` (the member who
    /// last answered this caller first) or `"clip"` (the member the `clip` table gives for
    /// the caller's number first).
    #[serde(default)]
    pub strategy: HuntStrategyConfig,
    /// Seconds each member rings when they ring one at a time (1 to 120).
    #[serde(default = "default_hunt_ring_secs")]
    pub ring_secs: u32,
    /// For `strategy = "clip"`: caller-number prefix → the member who rings first for
    /// callers whose number starts with it (the longest prefix wins).
    #[serde(default)]
    pub clip: BTreeMap<String, Spanned<String>>,
}

/// How a hunt group rings its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HuntStrategyConfig {
    /// Every member at once.
    #[default]
    All,
    /// One at a time, from the first.
    Linear,
    /// One at a time, each call starting one member further on.
    Cyclic,
    /// One at a time, the member idle longest first (MV-52).
    LongestIdle,
    /// One at a time, the member who last answered the caller first (MV-52).
    LastAgent,
    /// One at a time, the member the `clip` table gives for the caller's number first
    /// (MV-52).
    Clip,
}

fn default_hunt_ring_secs() -> u32 {
    10
}

/// `[licence]`: strict licensing with a signed licence file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceConfig {
    /// The licence file (relative paths: to the configuration file's folder).
    pub file: PathBuf,
    /// The vendor's public key file (`ed25519-public:<hex>`), the trust anchor.
    pub trust_anchor: PathBuf,
    /// This system's EID, which the file must name.
    pub eid: Spanned<String>,
    /// The sales channel the file must name.
    #[serde(default = "default_channel")]
    pub sales_channel: String,
}

fn default_channel() -> String {
    "generic".to_owned()
}

/// `[events]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// This node's number in event messages.
    pub node: u16,
    /// Host name in syslog and e-mail.
    pub hostname: String,
    /// The event-log mirror as JSON lines (relative: to the data directory; `""` disables).
    pub jsonl: PathBuf,
    /// Retry delay after a failed delivery, seconds.
    pub retry_secs: u64,
    /// Syslog over UDP (the local destination).
    pub syslog: Option<SyslogConfig>,
    /// SNMPv2c trap targets (at most 5, EV-27).
    pub snmp: Vec<SnmpConfig>,
    /// E-mail notification (at most 5 recipients, EV-30).
    pub email: Option<EmailConfig>,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            node: 1,
            hostname: "pbx".to_owned(),
            jsonl: PathBuf::from("events.jsonl"),
            retry_secs: 300,
            syslog: None,
            snmp: Vec::new(),
            email: None,
        }
    }
}

/// `[events.syslog]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// Collector address.
    #[serde(deserialize_with = "value::syslog_target")]
    pub target: HostPort,
    /// Facility 0..=23 (default 16, local0).
    #[serde(default = "default_facility")]
    pub facility: u8,
    /// APP-NAME.
    #[serde(default = "default_app")]
    pub app_name: String,
}

const fn default_facility() -> u8 {
    16
}

fn default_app() -> String {
    "pbxkit".to_owned()
}

/// `[[events.snmp]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpConfig {
    /// Trap receiver address.
    #[serde(deserialize_with = "value::snmp_target")]
    pub target: HostPort,
    /// SNMPv2c community.
    #[serde(default = "default_community")]
    pub community: String,
}

fn default_community() -> String {
    "public".to_owned()
}

/// `[events.email]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// SMTP server.
    #[serde(deserialize_with = "value::smtp_target")]
    pub server: HostPort,
    /// Sender address.
    pub from: Spanned<String>,
    /// Recipients (1..=5).
    pub to: Spanned<Vec<String>>,
    /// SMTP AUTH user name.
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP AUTH password.
    #[serde(default)]
    pub password: Option<String>,
    /// Seconds to wait for each server reply.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

const fn default_smtp_timeout() -> u64 {
    30
}

/// `[cdr]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CdrConfig {
    /// JSON-lines file (relative: to the data directory; `""` disables).
    pub path: PathBuf,
}

impl Default for CdrConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("cdr.jsonl"),
        }
    }
}

/// `[dos]`: blacklist a source IP after too many registrations or transactions (MV2-34).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DosConfig {
    /// Whether the guard is on.
    pub enabled: bool,
    /// Failed registrations from one IP within `interval_secs` before blacklisting.
    pub max_registrations: u32,
    /// Transactions from one IP within `interval_secs` before blacklisting.
    pub max_transactions: u32,
    /// Requests for dialogs that do not exist (481) within `interval_secs` before blacklisting.
    pub max_no_session: u32,
    /// Modified messages (unparseable, forged or replayed nonces) within `interval_secs`.
    pub max_modified: u32,
    /// The counting window, seconds.
    pub interval_secs: u64,
    /// How long an IP stays blacklisted, seconds.
    pub blacklist_secs: u64,
    /// Addresses never blacklisted.
    pub exempt: Vec<std::net::IpAddr>,
}

impl Default for DosConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_registrations: 20,
            max_transactions: 2000,
            max_no_session: 50,
            max_modified: 20,
            interval_secs: 10,
            blacklist_secs: 300,
            exempt: Vec::new(),
        }
    }
}

impl DosConfig {
    /// The guard's configuration in sip-core's terms.
    pub fn guard(&self) -> sip_core::dos::DosConfig {
        let mut c = sip_core::dos::DosConfig::default();
        c.enabled = self.enabled;
        c.max_registrations = self.max_registrations;
        c.max_transactions = self.max_transactions;
        c.max_no_session = self.max_no_session;
        c.max_modified = self.max_modified;
        c.window = std::time::Duration::from_secs(self.interval_secs);
        c.blacklist = std::time::Duration::from_secs(self.blacklist_secs);
        c.exempt.clone_from(&self.exempt);
        c
    }
}

/// SIP transport towards a trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP.
    #[default]
    Udp,
    /// TCP.
    Tcp,
    /// TLS.
    Tls,
}

/// `[[trunks]]`: a SIP provider account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// A unique name for logs and events.
    pub name: Spanned<String>,
    /// The provider's registrar/proxy.
    #[serde(deserialize_with = "value::sip_target")]
    pub registrar: HostPort,
    /// Transport to the provider.
    #[serde(default)]
    pub transport: Transport,
    /// Account user name.
    pub username: String,
    /// Account password.
    pub password: String,
    /// Digest user name when it differs from `username`.
    #[serde(default)]
    pub auth_username: Option<String>,
    /// The provider's domain (default: the registrar host).
    #[serde(default)]
    pub domain: Option<String>,
    /// Register to the provider (and raise its supervision events, MV2-35).
    #[serde(default = "yes")]
    pub register: bool,
    /// Registration interval asked for, seconds.
    #[serde(default = "default_trunk_expires")]
    pub expires: u32,
    /// SIP access channels of this trunk (licensed, MV-30).
    #[serde(default = "default_channels")]
    pub channels: u32,
    /// Inbound routing: called number (DDI) → extension.
    #[serde(default)]
    pub ddi: BTreeMap<String, Spanned<String>>,
    /// Where calls to an unlisted DDI go (an extension), if anywhere.
    #[serde(default)]
    pub ddi_default: Option<Spanned<String>>,
    /// Outbound routing: dialled numbers starting with one of these go out on this trunk.
    #[serde(default)]
    pub outbound_prefixes: Vec<Spanned<String>>,
    /// Remove the matched prefix before sending the number to the provider.
    #[serde(default = "yes")]
    pub strip_prefix: bool,
}

const fn yes() -> bool {
    true
}

const fn default_trunk_expires() -> u32 {
    3600
}

const fn default_channels() -> u32 {
    2
}

/// Final response sent to the caller when nobody answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(try_from = "u16")]
pub struct NoAnswerStatus(pub u16);

impl TryFrom<u16> for NoAnswerStatus {
    type Error = String;

    fn try_from(code: u16) -> Result<Self, String> {
        match code {
            408 | 480 => Ok(Self(code)),
            _ => Err(format!(
                "no_answer_status must be 480 (Temporarily Unavailable) or 408 (Request Timeout), not {code}"
            )),
        }
    }
}

/// `[messaging]`: the internal text messaging between users (MV-49).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagingConfig {
    /// Predefined texts (at most 16): a text message whose whole body is `#n` is delivered
    /// as text `n` (1-based).
    pub texts: Vec<Spanned<String>>,
}

/// `[[message_groups]]`: a number whose text messages go to every member (MV-49: at most 50
/// groups of 1 to 16 users).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageGroupConfig {
    /// The group's number.
    pub number: Spanned<String>,
    /// Member extensions.
    pub members: Vec<Spanned<String>>,
}

/// `[calls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallsConfig {
    /// Ringing time before the no-answer treatment, seconds.
    pub no_answer_secs: u64,
    /// 480 or 408 when nobody answers and no forward applies.
    pub no_answer_status: NoAnswerStatus,
    /// The echo-test service number (`""` disables).
    pub echo_test: Spanned<String>,
    /// Longest call, seconds (0: unlimited).
    pub max_call_secs: u64,
    /// Barred numbers: a dialled number that starts with one of these is refused with 403
    /// (MV-50: at most 3000 entries).
    pub blocked_numbers: Vec<Spanned<String>>,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            no_answer_secs: 30,
            no_answer_status: NoAnswerStatus(480),
            echo_test: Spanned::new(0..0, "*43".to_owned()),
            max_call_secs: 0,
            blocked_numbers: Vec::new(),
        }
    }
}

/// What happens to active calls on SIGINT/SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ShutdownMode {
    /// Send BYE on every active call at once.
    #[default]
    Bye,
    /// Refuse new calls, let active ones end by themselves within `drain_secs`, then BYE.
    Drain,
}

/// `[shutdown]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// BYE at once or drain.
    pub mode: ShutdownMode,
    /// Longest drain, seconds (at most 180, the UC module's close-files bound, UCM-OPS-20).
    pub drain_secs: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            mode: ShutdownMode::Bye,
            drain_secs: 10,
        }
    }
}
