//! Text encodings of a message for the file/stream adapters: JSON lines (local destination,
//! event log) and RFC 5424 syslog.

use core::fmt::Write as _;

use crate::event::{DetailValue, Event};
use crate::kind::{FieldType, Severity};

/// Appends `s` to `out` as a JSON string literal (RFC 8259 §7).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One JSON object on one line (no trailing newline), e.g.
/// `{"at":"2026-11-22T22:20:56.000Z","id":"card_reset","severity":"important",...}`.
///
/// Keys: `at` (RFC 3339), `id`, `name`, `severity`, `polarity`, `node`, `occurrence` and
/// `details` (an object of the given fields; codes are numbers, digit strings, text and
/// addresses are strings, and each code has a `<field>_meaning` companion).
pub fn json_line(event: &Event) -> String {
    let spec = event.kind().spec();
    let mut out = String::with_capacity(256);
    out.push_str("{\"at\":");
    json_str(&mut out, &event.at().to_string());
    out.push_str(",\"id\":");
    json_str(&mut out, spec.id);
    out.push_str(",\"name\":");
    json_str(&mut out, spec.name_en);
    let _ = write!(
        out,
        ",\"severity\":\"{}\",\"polarity\":\"{}\",\"node\":{},\"occurrence\":{},\"details\":{{",
        event.severity(),
        spec.polarity.as_str(),
        event.node().0,
        event.occurrence()
    );
    let mut first = true;
    for (field, value) in event.details() {
        let Some(value) = value else { continue };
        if !first {
            out.push(',');
        }
        first = false;
        json_str(&mut out, field.name);
        out.push(':');
        match value {
            DetailValue::Code(c) => {
                let _ = write!(out, "{c}");
                if let Some(m) = field.meaning(*c) {
                    out.push(',');
                    json_str(&mut out, &format!("{}_meaning", field.name));
                    out.push(':');
                    json_str(&mut out, m);
                }
            }
            DetailValue::Flag(b) => out.push_str(if *b { "true" } else { "false" }),
            DetailValue::Unsigned(n) => {
                let _ = write!(out, "{n}");
            }
            DetailValue::Signed(n) => {
                let _ = write!(out, "{n}");
            }
            DetailValue::Digits(_) | DetailValue::Text(_) | DetailValue::Ip(_) => {
                json_str(&mut out, &value.to_string())
            }
        }
    }
    out.push_str("}}");
    out
}

/// Syslog facility `local0` (RFC 5424 §6.2.1), the default for [`syslog_line`].
pub const FACILITY_LOCAL0: u8 = 16;

/// The RFC 5424 severity for an event severity: critical → 2 (critical), important → 4
/// (warning), normal → 6 (informational).
pub const fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::Important => 4,
        Severity::Normal => 6,
    }
}

/// Keeps `s` within RFC 5424's PRINTUSASCII header alphabet, `-` if empty.
fn header_field(s: &str, max: usize) -> String {
    let v: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if v.is_empty() { "-".into() } else { v }
}

/// Escapes an SD-PARAM value (RFC 5424 §6.3.3: `"`, `\` and `]`).
fn sd_value(out: &mut String, s: &str) {
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Private-enterprise number used in the syslog SD-ID and in the SNMP MIB: 32473, the IANA
/// number reserved for documentation (RFC 5612). Deployments substitute their own.
pub const ENTERPRISE_NUMBER: u32 = 32473;

/// One RFC 5424 syslog message (without transport framing), e.g.
/// `<130>1 2026-11-22T22:20:56.000Z pbx pbxkit - card_reset [event@32473 node="1" ...] Card reset`.
///
/// `facility` is 0..=23 (clamped); `hostname` and `app_name` are sanitised to the header
/// alphabet. The MSGID is the event id (cut to RFC 5424's 32 characters); the structured
/// data carries the full id, node, severity,
/// occurrence and every detail; the MSG is the English name, UTF-8 with a BOM as §6.4 asks.
pub fn syslog_line(event: &Event, facility: u8, hostname: &str, app_name: &str) -> String {
    let spec = event.kind().spec();
    let pri = u16::from(facility.min(23)) * 8 + u16::from(syslog_severity(event.severity()));
    let mut out = String::with_capacity(256);
    let _ = write!(
        out,
        "<{pri}>1 {} {} {} - {} [event@{ENTERPRISE_NUMBER} id=\"{}\" node=\"{}\" severity=\"{}\" occurrence=\"{}\"",
        event.at(),
        header_field(hostname, 255),
        header_field(app_name, 48),
        header_field(spec.id, 32),
        spec.id,
        event.node().0,
        event.severity(),
        event.occurrence()
    );
    for (field, value) in event.details() {
        if matches!(field.ty, FieldType::Date | FieldType::Time) {
            continue;
        }
        let Some(value) = value else { continue };
        let _ = write!(out, " {}=\"", header_field(field.name, 32));
        sd_value(&mut out, &value.to_string());
        out.push('"');
    }
    out.push_str("] \u{feff}");
    out.push_str(spec.name_en);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventKind, NodeId, Timestamp};

    fn ev() -> Event {
        Event::builder(
            EventKind::SipAccountUnavailable,
            NodeId(1),
            Timestamp::from_unix_secs(1_795_904_456),
        )
        .text("provider", "Acme \"SIP\"")
        .text("account", "a]b")
        .code("reason", 1)
        .build()
        .expect("valid")
    }

    #[test]
    fn json_line_is_one_escaped_object() {
        let line = json_line(&ev());
        assert!(!line.contains('\n'));
        assert!(
            line.starts_with(
                "{\"at\":\"2026-11-28T22:20:56.000Z\",\"id\":\"sip_account_unavailable\""
            ),
            "{line}"
        );
        assert!(line.contains("\"provider\":\"Acme \\\"SIP\\\"\""), "{line}");
        assert!(
            line.contains("\"reason\":1,\"reason_meaning\":\"not_authorised\""),
            "{line}"
        );
        assert!(line.ends_with("}}"));
    }

    #[test]
    fn syslog_msgid_is_cut_but_sd_keeps_full_id() {
        let ev = Event::builder(
            EventKind::StandardSipTerminalsWithinLicenceLimit,
            NodeId(3),
            Timestamp::EPOCH,
        )
        .flag("sip_terminals_licence", true)
        .flag("video_terminals_licence", false)
        .build()
        .expect("valid");
        let line = syslog_line(&ev, 23, "h", "a");
        // local7 (23) * 8 + warning (4) = 188.
        let fields: Vec<&str> = line.splitn(8, ' ').collect();
        assert_eq!(fields[0], "<188>1");
        assert_eq!(fields[5], "standard_sip_terminals_within_li");
        assert_eq!(fields[5].len(), 32);
        assert!(
            line.contains("id=\"standard_sip_terminals_within_licence_limit\""),
            "{line}"
        );
        assert!(line.contains("video_terminals_licence=\"0\""), "{line}");
    }

    #[test]
    fn syslog_rfc5424_shape() {
        let line = syslog_line(&ev(), FACILITY_LOCAL0, "pbx one", "pbxkit");
        // local0 (16) * 8 + critical (2) = 130.
        assert!(line.starts_with("<130>1 2026-11-28T22:20:56.000Z pbxone pbxkit - sip_account_unavailable [event@32473 id=\"sip_account_unavailable\" node=\"1\""), "{line}");
        assert!(line.contains("account=\"a\\]b\""), "{line}");
        assert!(
            line.ends_with("] \u{feff}SIP account not available"),
            "{line}"
        );
    }
}
