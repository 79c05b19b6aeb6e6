//! E-mail delivery, pure parts: Tab. 24 codes (EV-31), the RFC 5322 message text, and a
//! sans-IO SMTP client (RFC 5321) that reports failures as Tab. 24 cause/action pairs.
//!
//! The adapter owns the TCP connection: it feeds the server's bytes to
//! [`SmtpClient::handle_bytes`], writes whatever [`SmtpClient::poll_transmit`] returns, calls
//! [`SmtpClient::handle_timeout`] when the server stays silent too long and
//! [`SmtpClient::connect_failed`] when the connection cannot be made, and reads
//! [`SmtpClient::status`] to learn the outcome.

use core::fmt::Write as _;
use std::collections::VecDeque;

use crate::event::{DetailValue, Event};
use crate::time::Timestamp;

macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:expr),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The two-digit code of Tab. 24.
            pub const fn code(self) -> u8 {
                match self { $(Self::$variant => $code,)+ }
            }

            /// The value with code `code`.
            pub fn from_code(code: u32) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| u32::from(v.code()) == code)
            }
        }
    };
}

coded_enum! {
    /// Cause of an e-mail failure, parameter 1 `XX` (Tab. 24, EV-31).
    EmailCause {
        /// 00 not defined.
        NotDefined = 0,
        /// 01 e-mail memory full.
        MemoryFull = 1,
        /// 02 SMTP access data invalid.
        AccessDataInvalid = 2,
        /// 03 the SMTP client cannot reach the server.
        CannotConnect = 3,
        /// 04 authentication failed.
        AuthenticationFailed = 4,
        /// 05 permanent negative reply from the server.
        PermanentNegativeReply = 5,
        /// 06 temporary negative reply from the server.
        TemporaryNegativeReply = 6,
        /// 07 SMTP server not responding.
        ServerNotResponding = 7,
        /// 08 attachment not found.
        AttachmentNotFound = 8,
        /// 09 invalid host, domain name or IP of the communication server.
        InvalidHost = 9,
        /// 10 body too long.
        BodyTooLong = 10,
        /// 11 attachment too large.
        AttachmentTooLarge = 11,
        /// 12 attachment format not supported.
        AttachmentFormatUnsupported = 12,
        /// 13 no recipient address.
        NoRecipient = 13,
        /// 14 recipient address invalid.
        RecipientInvalid = 14,
        /// 15 sender address invalid.
        SenderInvalid = 15,
    }
}

coded_enum! {
    /// What the SMTP client was doing, parameter 1 `YY` (Tab. 24, EV-31).
    SmtpAction {
        /// 00 not defined.
        NotDefined = 0,
        /// 01 connecting to the SMTP server.
        Connecting = 1,
        /// 02 extended logon (EHLO).
        Ehlo = 2,
        /// 03 logon (HELO).
        Helo = 3,
        /// 04 sending the sender address (MAIL FROM).
        MailFrom = 4,
        /// 05 sending the recipient address (RCPT TO).
        RcptTo = 5,
        /// 06 preparing data transfer (DATA).
        PreparingData = 6,
        /// 07 data transfer in progress.
        DataTransfer = 7,
        /// 08 ending data transfer (the final dot).
        EndingData = 8,
        /// 09 preparing LOGIN authentication.
        PreparingLogin = 9,
        /// 10 LOGIN: user name.
        LoginUser = 10,
        /// 11 LOGIN: password.
        LoginPassword = 11,
        /// 12 PLAIN authentication.
        Plain = 12,
        /// 13 preparing CRAM-MD5 authentication.
        PreparingCramMd5 = 13,
        /// 14 CRAM-MD5 authentication.
        CramMd5 = 14,
        /// 15 preparing to send the next e-mail.
        PreparingNext = 15,
    }
}

coded_enum! {
    /// The e-mail client that was sending, parameter 2 (Tab. 24, EV-31).
    EmailClient {
        /// 00 not defined.
        NotDefined = 0,
        /// 01 voicemail.
        Voicemail = 1,
        /// 02 automatic backup.
        AutomaticBackup = 2,
        /// 03 call recording.
        CallRecording = 3,
        /// 04 event message.
        EventMessage = 4,
        /// 05 hospitality traffic observation.
        HospitalityTrafficObservation = 5,
        /// 06 configuration files.
        ConfigurationFiles = 6,
    }
}

/// Parameter 1 of `email_send_failed`: `XXYY` (EV-31).
pub fn parameter_1(cause: EmailCause, action: SmtpAction) -> String {
    format!("{:02}{:02}", cause.code(), action.code())
}

/// The Tab. 24 cause for an SMTP reply `code` received while doing `action` (RFC 5321 §4.2).
pub fn cause_for_reply(code: u16, action: SmtpAction) -> EmailCause {
    match (code, action) {
        (530 | 534 | 535 | 538, _) => EmailCause::AuthenticationFailed,
        (
            _,
            SmtpAction::LoginUser
            | SmtpAction::LoginPassword
            | SmtpAction::Plain
            | SmtpAction::PreparingLogin,
        ) if code >= 500 => EmailCause::AuthenticationFailed,
        (550 | 551 | 553 | 501, SmtpAction::MailFrom) => EmailCause::SenderInvalid,
        (550 | 551 | 553 | 501, SmtpAction::RcptTo) => EmailCause::RecipientInvalid,
        (552, SmtpAction::DataTransfer | SmtpAction::EndingData) => EmailCause::BodyTooLong,
        (452, SmtpAction::DataTransfer | SmtpAction::EndingData) => EmailCause::MemoryFull,
        (400..=499, _) => EmailCause::TemporaryNegativeReply,
        (500..=599, _) => EmailCause::PermanentNegativeReply,
        _ => EmailCause::NotDefined,
    }
}

/// An e-mail address as `local@domain`: ASCII, no spaces, angle brackets or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox(Box<str>);

/// A malformed e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid e-mail address")]
#[non_exhaustive]
pub struct BadMailbox;

impl Mailbox {
    /// Checks and wraps an address.
    pub fn new(addr: &str) -> Result<Self, BadMailbox> {
        let (local, domain) = addr.rsplit_once('@').ok_or(BadMailbox)?;
        let ok_char = |c: char| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
                )
        };
        if local.is_empty()
            || domain.is_empty()
            || addr.len() > 254
            || !addr.chars().filter(|c| *c != '@').all(ok_char)
        {
            return Err(BadMailbox);
        }
        if local.contains('@') {
            return Err(BadMailbox);
        }
        Ok(Self(addr.into()))
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything needed to send one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Envelope and header sender.
    pub from: Mailbox,
    /// Recipients (1..=5 for the event destination, EV-30).
    pub to: Vec<Mailbox>,
    /// The RFC 5322 message text, CRLF line endings, without dot-stuffing.
    pub message: String,
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The RFC 5322 `date-time` of `at` in UTC, e.g. `Sun, 22 Nov 2026 22:20:56 +0000`.
pub fn rfc5322_date(at: Timestamp) -> String {
    let c = at.civil();
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[usize::from(c.weekday % 7)],
        c.day,
        MONTHS[usize::from(c.month.clamp(1, 12) - 1)],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// The subject line of an event e-mail: `[PBXKit] <severity>: <English name> (node <n>)`.
pub fn subject(event: &Event) -> String {
    let spec = event.kind().spec();
    let sev = match event.severity() {
        crate::Severity::Normal => "Normal",
        crate::Severity::Important => "Important",
        crate::Severity::Critical => "Critical",
    };
    let test = if event.kind() == crate::EventKind::TestEventMessage {
        "Test: "
    } else {
        ""
    };
    format!(
        "[PBXKit] {test}{sev}: {} (node {})",
        spec.name_en,
        event.node()
    )
}

/// The plain-text body of an event e-mail: names, severity, node, date/time and every detail
/// with the printed meaning of its code.
pub fn body(event: &Event) -> String {
    let spec = event.kind().spec();
    let c = event.at().civil();
    let mut b = String::new();
    let _ = writeln!(b, "{}", spec.name_en);
    let _ = writeln!(b, "{}", spec.name_fr);
    let _ = writeln!(b);
    let _ = writeln!(b, "id: {}", spec.id);
    let _ = writeln!(b, "severity: {}", event.severity());
    let _ = writeln!(b, "polarity: {}", spec.polarity.as_str());
    let _ = writeln!(b, "node: {}", event.node());
    let _ = writeln!(b, "occurrence: {}", event.occurrence());
    for (field, value) in event.details() {
        match (field.ty, value) {
            (crate::FieldType::Date, _) => {
                let _ = writeln!(b, "date: {}", c.date_string());
            }
            (crate::FieldType::Time, _) => {
                let _ = writeln!(b, "time: {}", c.time_string());
            }
            (_, Some(v @ DetailValue::Code(code))) => {
                let meaning = field.meaning(*code).unwrap_or("");
                let _ = writeln!(b, "{}: {v} ({meaning})", field.name);
            }
            (_, Some(v)) => {
                let _ = writeln!(b, "{}: {v}", field.name);
            }
            (_, None) => {}
        }
    }
    let _ = writeln!(b);
    let _ = writeln!(b, "{}", spec.condition_en);
    b
}

/// Builds the RFC 5322 message for `event` (headers + quoted-printable UTF-8 body, CRLF).
/// `host` names the sending system in the `Message-ID`.
pub fn message(event: &Event, from: &Mailbox, to: &[Mailbox], host: &str) -> String {
    let mut m = String::new();
    let tos: Vec<&str> = to.iter().map(Mailbox::as_str).collect();
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let host = if host.is_empty() {
        "pbxkit.invalid".to_owned()
    } else {
        host
    };
    let _ = write!(m, "Date: {}\r\n", rfc5322_date(event.at()));
    let _ = write!(m, "From: {}\r\n", from.as_str());
    let _ = write!(m, "To: {}\r\n", tos.join(", "));
    let _ = write!(m, "Subject: {}\r\n", encode_header(&subject(event)));
    let _ = write!(
        m,
        "Message-ID: <{}.{}.{}.{}@{host}>\r\n",
        event.at().unix_millis(),
        event.kind().index(),
        event.node(),
        event.occurrence()
    );
    m.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    m.push_str(&quoted_printable(&body(event)));
    m
}

/// An RFC 2047 encoded-word (base64) if `s` is not plain printable ASCII, else `s`.
fn encode_header(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        s.to_owned()
    } else {
        format!("=?utf-8?B?{}?=", base64(s.as_bytes()))
    }
}

/// RFC 2045 quoted-printable with CRLF line breaks and soft breaks under 76 columns.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut col = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal =
                (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let piece_len = if literal { 1 } else { 3 };
            if col + piece_len > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            if literal {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "={b:02X}");
            }
            col += piece_len;
        }
        out.push_str("\r\n");
    }
    // `split` yields a trailing empty line for text ending in '\n'; drop its CRLF.
    if text.ends_with('\n') {
        out.truncate(out.len() - 2);
    }
    out
}

/// RFC 4648 base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SMTP login credentials (AUTH PLAIN or LOGIN, RFC 4954).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Where an [`SmtpClient`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpStatus {
    /// The dialogue is in progress.
    InProgress,
    /// The server accepted the message (QUIT has been queued).
    Sent,
    /// The dialogue failed: report `email_send_failed` with these codes (EV-31).
    Failed {
        /// Parameter 1, XX.
        cause: EmailCause,
        /// Parameter 1, YY.
        action: SmtpAction,
        /// The last reply code, if a reply caused the failure.
        reply: Option<u16>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Greeting,
    Ehlo,
    Helo,
    AuthPlain,
    AuthLogin,
    LoginUser,
    LoginPassword,
    MailFrom,
    RcptTo(usize),
    Data,
    Body,
    Quit,
    Finished,
}

/// Longest reply line accepted before failing (RFC 5321 §4.5.3.1.5 allows 512).
const MAX_LINE: usize = 4096;

/// A sans-IO SMTP client for one message (RFC 5321, RFC 4954 AUTH PLAIN/LOGIN).
#[derive(Debug, Clone)]
pub struct SmtpClient {
    helo_name: String,
    credentials: Option<Credentials>,
    mail: OutgoingMail,
    step: Step,
    status: SmtpStatus,
    rx: Vec<u8>,
    tx: VecDeque<Vec<u8>>,
    /// Lines of the reply being assembled (multi-line replies, RFC 5321 §4.2.1).
    reply_lines: Vec<String>,
    accepted_rcpt: usize,
}

impl SmtpClient {
    /// A client that will greet as `helo_name` and send `mail`, logging in with
    /// `credentials` if given. Fails at once with cause 13 if `mail.to` is empty.
    pub fn new(helo_name: &str, credentials: Option<Credentials>, mail: OutgoingMail) -> Self {
        let status = if mail.to.is_empty() {
            SmtpStatus::Failed {
                cause: EmailCause::NoRecipient,
                action: SmtpAction::NotDefined,
                reply: None,
            }
        } else {
            SmtpStatus::InProgress
        };
        let helo_name: String = helo_name.chars().filter(|c| c.is_ascii_graphic()).collect();
        Self {
            helo_name: if helo_name.is_empty() {
                "localhost".into()
            } else {
                helo_name
            },
            credentials,
            mail,
            step: Step::Greeting,
            status,
            rx: Vec::new(),
            tx: VecDeque::new(),
            reply_lines: Vec::new(),
            accepted_rcpt: 0,
        }
    }

    /// The outcome so far.
    pub fn status(&self) -> SmtpStatus {
        self.status
    }

    /// The next bytes to write to the server.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.tx.pop_front()
    }

    /// The TCP connection could not be made (cause 03 while connecting), or the host name
    /// could not be resolved (`dns = true`: cause 09).
    pub fn connect_failed(&mut self, dns: bool) {
        let cause = if dns {
            EmailCause::InvalidHost
        } else {
            EmailCause::CannotConnect
        };
        self.fail(cause, SmtpAction::Connecting, None);
    }

    /// The server stayed silent past the adapter's timeout (cause 07).
    pub fn handle_timeout(&mut self) {
        if self.status == SmtpStatus::InProgress {
            let action = self.action();
            self.fail(EmailCause::ServerNotResponding, action, None);
        }
    }

    /// The Tab. 24 action of the current step.
    fn action(&self) -> SmtpAction {
        match self.step {
            Step::Greeting => SmtpAction::Connecting,
            Step::Ehlo => SmtpAction::Ehlo,
            Step::Helo => SmtpAction::Helo,
            Step::AuthPlain => SmtpAction::Plain,
            Step::AuthLogin => SmtpAction::PreparingLogin,
            Step::LoginUser => SmtpAction::LoginUser,
            Step::LoginPassword => SmtpAction::LoginPassword,
            Step::MailFrom => SmtpAction::MailFrom,
            Step::RcptTo(_) => SmtpAction::RcptTo,
            Step::Data => SmtpAction::PreparingData,
            Step::Body => SmtpAction::EndingData,
            Step::Quit | Step::Finished => SmtpAction::PreparingNext,
        }
    }

    fn fail(&mut self, cause: EmailCause, action: SmtpAction, reply: Option<u16>) {
        if self.status == SmtpStatus::InProgress {
            self.status = SmtpStatus::Failed {
                cause,
                action,
                reply,
            };
            self.tx.push_back(b"QUIT\r\n".to_vec());
            self.step = Step::Finished;
        }
    }

    fn send(&mut self, line: String) {
        self.tx.push_back(line.into_bytes());
    }

    /// Feeds bytes received from the server (any split). Replies drive the dialogue.
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        self.rx.extend_from_slice(bytes);
        while let Some(pos) = self.rx.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.rx.drain(..pos + 2).take(pos).collect();
            let line = String::from_utf8_lossy(&line).into_owned();
            self.handle_line(&line);
        }
        if self.rx.len() > MAX_LINE {
            self.rx.clear();
            let action = self.action();
            self.fail(EmailCause::NotDefined, action, None);
        }
    }

    fn handle_line(&mut self, line: &str) {
        if self.step == Step::Finished {
            return;
        }
        let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else {
            let action = self.action();
            self.fail(EmailCause::NotDefined, action, None);
            return;
        };
        let more = line.as_bytes().get(3) == Some(&b'-');
        self.reply_lines
            .push(line.get(4..).unwrap_or("").to_owned());
        if more {
            return;
        }
        let lines = core::mem::take(&mut self.reply_lines);
        self.handle_reply(code, &lines);
    }

    fn handle_reply(&mut self, code: u16, lines: &[String]) {
        let ok = (200..400).contains(&code);
        match self.step {
            Step::Greeting if code == 220 => {
                self.send(format!("EHLO {}\r\n", self.helo_name));
                self.step = Step::Ehlo;
            }
            Step::Ehlo if code == 250 => {
                let auth: Vec<String> = lines
                    .iter()
                    .filter_map(|l| {
                        let up = l.to_ascii_uppercase();
                        up.strip_prefix("AUTH")
                            .map(|rest| rest.trim_start_matches(['=', ' ']).to_owned())
                    })
                    .collect();
                let mechs: Vec<&str> = auth.iter().flat_map(|a| a.split_whitespace()).collect();
                self.after_logon(&mechs);
            }
            Step::Ehlo if code >= 500 => {
                self.send(format!("HELO {}\r\n", self.helo_name));
                self.step = Step::Helo;
            }
            Step::Helo if code == 250 => self.after_logon(&[]),
            Step::AuthPlain | Step::LoginPassword if code == 235 => self.mail_from(),
            Step::AuthLogin if code == 334 => {
                let user = self
                    .credentials
                    .as_ref()
                    .map(|c| base64(c.user.as_bytes()))
                    .unwrap_or_default();
                self.send(format!("{user}\r\n"));
                self.step = Step::LoginUser;
            }
            Step::LoginUser if code == 334 => {
                let pw = self
                    .credentials
                    .as_ref()
                    .map(|c| base64(c.password.as_bytes()))
                    .unwrap_or_default();
                self.send(format!("{pw}\r\n"));
                self.step = Step::LoginPassword;
            }
            Step::MailFrom if code == 250 => self.rcpt(0),
            Step::RcptTo(i) if ok || code >= 500 => {
                if ok {
                    self.accepted_rcpt += 1;
                }
                if i + 1 < self.mail.to.len() {
                    self.rcpt(i + 1);
                } else if self.accepted_rcpt == 0 {
                    self.fail(
                        cause_for_reply(code, SmtpAction::RcptTo),
                        SmtpAction::RcptTo,
                        Some(code),
                    );
                } else {
                    self.send("DATA\r\n".into());
                    self.step = Step::Data;
                }
            }
            Step::Data if code == 354 => {
                let mut data = dot_stuff(&self.mail.message);
                data.extend_from_slice(b".\r\n");
                self.tx.push_back(data);
                self.step = Step::Body;
            }
            Step::Body if code == 250 => {
                self.status = SmtpStatus::Sent;
                self.send("QUIT\r\n".into());
                self.step = Step::Quit;
            }
            Step::Quit => self.step = Step::Finished,
            _ => {
                let action = self.action();
                let cause = match (self.step, code) {
                    (Step::Greeting, 554) => EmailCause::CannotConnect,
                    (Step::Greeting, 421) => EmailCause::ServerNotResponding,
                    _ => cause_for_reply(code, action),
                };
                self.fail(cause, action, Some(code));
            }
        }
    }

    fn after_logon(&mut self, mechs: &[&str]) {
        let Some(cred) = self.credentials.clone() else {
            self.mail_from();
            return;
        };
        if mechs.contains(&"PLAIN") || !mechs.contains(&"LOGIN") {
            let mut raw = Vec::with_capacity(cred.user.len() + cred.password.len() + 2);
            raw.push(0);
            raw.extend_from_slice(cred.user.as_bytes());
            raw.push(0);
            raw.extend_from_slice(cred.password.as_bytes());
            self.send(format!("AUTH PLAIN {}\r\n", base64(&raw)));
            self.step = Step::AuthPlain;
        } else {
            self.send("AUTH LOGIN\r\n".into());
            self.step = Step::AuthLogin;
        }
    }

    fn mail_from(&mut self) {
        self.send(format!("MAIL FROM:<{}>\r\n", self.mail.from.as_str()));
        self.step = Step::MailFrom;
    }

    fn rcpt(&mut self, i: usize) {
        let addr = self
            .mail
            .to
            .get(i)
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        self.send(format!("RCPT TO:<{addr}>\r\n"));
        self.step = Step::RcptTo(i);
    }
}

/// CRLF-normalises `text` and doubles a leading dot on every line (RFC 5321 §4.5.2).
fn dot_stuff(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('.') {
            out.push(b'.');
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if text.ends_with('\n') {
        out.truncate(out.len() - 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventKind, NodeId};

    #[test]
    fn ev31_tab24_codes() {
        // EV-31: cause and action 00..15, client 00..06, packed as XXYY.
        assert_eq!(EmailCause::ALL.len(), 16);
        assert_eq!(SmtpAction::ALL.len(), 16);
        assert_eq!(EmailClient::ALL.len(), 7);
        assert_eq!(
            parameter_1(EmailCause::AuthenticationFailed, SmtpAction::Plain),
            "0412"
        );
        assert_eq!(
            parameter_1(EmailCause::SenderInvalid, SmtpAction::MailFrom),
            "1504"
        );
        for (i, c) in EmailCause::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.code()), i);
            assert_eq!(EmailCause::from_code(u32::from(c.code())), Some(*c));
        }
        assert_eq!(EmailCause::from_code(16), None);
        assert_eq!(
            cause_for_reply(535, SmtpAction::Plain),
            EmailCause::AuthenticationFailed
        );
        assert_eq!(
            cause_for_reply(550, SmtpAction::RcptTo),
            EmailCause::RecipientInvalid
        );
        assert_eq!(
            cause_for_reply(553, SmtpAction::MailFrom),
            EmailCause::SenderInvalid
        );
        assert_eq!(
            cause_for_reply(451, SmtpAction::RcptTo),
            EmailCause::TemporaryNegativeReply
        );
        assert_eq!(
            cause_for_reply(554, SmtpAction::EndingData),
            EmailCause::PermanentNegativeReply
        );
    }

    #[test]
    fn ev31_codes_match_catalogue_fields() {
        // The enums agree with the code lists printed in the catalogue row.
        let spec = EventKind::EmailSendFailed.spec();
        let check = |field: &str, codes: Vec<u8>| {
            let printed = spec.field(field).map(|(_, f)| f.codes.len());
            assert_eq!(printed, Some(codes.len()), "{field}");
            for c in codes {
                assert!(
                    spec.field(field)
                        .is_some_and(|(_, f)| f.accepts_code(u32::from(c))),
                    "{field} {c}"
                );
            }
        };
        check(
            "cause_xx",
            EmailCause::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "action_yy",
            SmtpAction::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "email_client",
            EmailClient::ALL.iter().map(|c| c.code()).collect(),
        );
    }

    #[test]
    fn base64_and_quoted_printable_vectors() {
        // RFC 4648 §10 test vectors.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(quoted_printable("a=b é\n"), "a=3Db =C3=A9\r\n");
        assert_eq!(quoted_printable("trailing \n"), "trailing=20\r\n");
        let long = "x".repeat(100);
        let qp = quoted_printable(&long);
        assert!(qp.lines().all(|l| l.len() <= 76));
        assert_eq!(dot_stuff(".a\n..b\nc"), b"..a\r\n...b\r\nc\r\n");
    }

    #[test]
    fn mailbox_checks() {
        assert!(Mailbox::new("ops@example.org").is_ok());
        for bad in ["", "a", "@x", "a@", "a b@c", "a<b@c", "a@b\r\n"] {
            assert_eq!(Mailbox::new(bad), Err(BadMailbox), "{bad:?}");
        }
    }

    fn mail() -> OutgoingMail {
        let ev = Event::builder(
            EventKind::FanFailure470,
            NodeId(2),
            Timestamp::from_unix_secs(1_795_904_456),
        )
        .code("parameter_1", 1)
        .unsigned("parameter_2_defective_fan_number", 2)
        .build()
        .expect("valid");
        let from = Mailbox::new("pbx@example.org").expect("valid");
        let to = vec![Mailbox::new("ops@example.org").expect("valid")];
        let message = message(&ev, &from, &to, "pbx.example.org");
        OutgoingMail { from, to, message }
    }

    #[test]
    fn message_headers_and_body() {
        let m = mail().message;
        assert!(
            m.contains("Date: Sat, 28 Nov 2026 22:20:56 +0000\r\n"),
            "{m}"
        );
        assert!(
            m.contains("Subject: [PBXKit] Critical: Fan failure (Mitel 470) (node 2)\r\n"),
            "{m}"
        );
        assert!(m.contains("parameter_1: 1 (only_one_fan_running)"));
        assert!(m.contains("date: 28.11.2026"));
        // Every line of the message ends in CRLF and fits 78 columns.
        assert!(
            m.split("\r\n").all(|l| !l.contains('\n') && l.len() <= 78),
            "{m}"
        );
    }

    fn drive(client: &mut SmtpClient, script: &[(&str, &str)]) {
        for (reply, expect) in script {
            client.handle_bytes(reply.as_bytes());
            let sent = client
                .poll_transmit()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            assert!(
                sent.starts_with(expect),
                "after {reply:?} sent {sent:?}, wanted {expect:?}"
            );
        }
    }

    #[test]
    fn smtp_dialogue_with_auth_plain() {
        let cred = Credentials {
            user: "u".into(),
            password: "p".into(),
        };
        let mut c = SmtpClient::new("pbx.example.org", Some(cred), mail());
        drive(
            &mut c,
            &[
                ("220 mx ESMTP\r\n", "EHLO pbx.example.org"),
                (
                    "250-mx\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n",
                    "AUTH PLAIN AHUAcA==",
                ),
                ("235 ok\r\n", "MAIL FROM:<pbx@example.org>"),
                ("250 ok\r\n", "RCPT TO:<ops@example.org>"),
                ("250 ok\r\n", "DATA"),
                ("354 go\r\n", "Date: "),
                ("250 queued\r\n", "QUIT"),
            ],
        );
        assert_eq!(c.status(), SmtpStatus::Sent);
    }

    #[test]
    fn smtp_failures_map_to_tab24() {
        let cred = Credentials {
            user: "u".into(),
            password: "bad".into(),
        };
        let mut c = SmtpClient::new("h", Some(cred), mail());
        drive(
            &mut c,
            &[
                ("220 x\r\n", "EHLO"),
                ("250-x\r\n250 AUTH LOGIN\r\n", "AUTH LOGIN"),
                ("334 VXNlcm5hbWU6\r\n", "dQ=="),
                ("334 UGFzc3dvcmQ6\r\n", "YmFk"),
                ("535 no\r\n", "QUIT"),
            ],
        );
        assert_eq!(
            c.status(),
            SmtpStatus::Failed {
                cause: EmailCause::AuthenticationFailed,
                action: SmtpAction::LoginPassword,
                reply: Some(535)
            }
        );

        let mut c = SmtpClient::new("h", None, mail());
        drive(
            &mut c,
            &[
                ("220 x\r\n", "EHLO"),
                ("502 no\r\n", "HELO h"),
                ("250 x\r\n", "MAIL FROM"),
                ("250 ok\r\n", "RCPT TO"),
                ("550 no such user\r\n", "QUIT"),
            ],
        );
        assert_eq!(
            c.status(),
            SmtpStatus::Failed {
                cause: EmailCause::RecipientInvalid,
                action: SmtpAction::RcptTo,
                reply: Some(550)
            }
        );

        let mut c = SmtpClient::new("h", None, mail());
        c.handle_timeout();
        assert!(matches!(
            c.status(),
            SmtpStatus::Failed {
                cause: EmailCause::ServerNotResponding,
                action: SmtpAction::Connecting,
                ..
            }
        ));
        let mut c = SmtpClient::new("h", None, mail());
        c.connect_failed(false);
        assert!(matches!(
            c.status(),
            SmtpStatus::Failed {
                cause: EmailCause::CannotConnect,
                ..
            }
        ));
        let mut m = mail();
        m.to.clear();
        assert!(matches!(
            SmtpClient::new("h", None, m).status(),
            SmtpStatus::Failed {
                cause: EmailCause::NoRecipient,
                ..
            }
        ));
        // Garbage never panics.
        let mut c = SmtpClient::new("h", None, mail());
        c.handle_bytes(b"\xff\xfe garbage\r\n");
        assert!(matches!(c.status(), SmtpStatus::Failed { .. }));
        let mut c = SmtpClient::new("h", None, mail());
        c.handle_bytes(&[b'2'; 5000]);
        assert!(matches!(c.status(), SmtpStatus::Failed { .. }));
    }
}
