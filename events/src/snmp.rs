//! SNMPv2c trap encoding (RFC 3416 / RFC 1905 PDU, BER per X.690) and the project's MIB
//! tree for the event catalogue (EV-27, MV2-10: one notification per catalogue id).
//!
//! ## OID tree
//!
//! Rooted at `1.3.6.1.4.1.<enterprise>` (default [`ENTERPRISE_NUMBER`] = 32473, the IANA
//! documentation number of RFC 5612; deployments substitute their own):
//!
//! ```text
//! <enterprise>.1              pbxkit
//! <enterprise>.1.1            pbxkitEvents
//! <enterprise>.1.1.0.<n>      pbxkitEventNotifications: one NOTIFICATION-TYPE per kind,
//!                             n = catalogue position + 1 (EventKind::index() + 1)
//! <enterprise>.1.1.1.<k>      pbxkitEventObjects (scalars, sent with instance .0):
//!                             1 pbxEventId          OCTET STRING  stable id
//!                             2 pbxEventSeverity    INTEGER       1 normal, 2 important, 3 critical
//!                             3 pbxEventPolarity    INTEGER       1 negative, 2 positive, 3 none
//!                             4 pbxEventNode        Unsigned32    raising node
//!                             5 pbxEventTime        OCTET STRING  RFC 3339 UTC
//!                             6 pbxEventOccurrence  Unsigned32    occurrence count
//!                             7 pbxEventName        OCTET STRING  English name
//!                             8 pbxEventDetails     OCTET STRING  "field=value; ..." (UTF-8)
//! ```
//!
//! [`mib_module`] prints the SMIv2 module text for this tree.

use core::fmt::Write as _;

use crate::event::Event;
use crate::format::ENTERPRISE_NUMBER;
use crate::kind::{EventKind, FieldType, Polarity, Severity};

/// `sysUpTime.0` (RFC 3418).
pub const SYS_UP_TIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
/// `snmpTrapOID.0` (RFC 3418).
pub const SNMP_TRAP_OID: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// The notification OID of `kind` under `enterprise`.
pub fn notification_oid(enterprise: u32, kind: EventKind) -> Vec<u32> {
    vec![
        1,
        3,
        6,
        1,
        4,
        1,
        enterprise,
        1,
        1,
        0,
        kind.index() as u32 + 1,
    ]
}

/// The OID of event object `k` (1..=8), instance `.0`.
pub fn object_oid(enterprise: u32, k: u32) -> Vec<u32> {
    vec![1, 3, 6, 1, 4, 1, enterprise, 1, 1, 1, k, 0]
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// BER INTEGER content (two's complement, minimal).
fn int_content(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut i = 0;
    while i < 7
        && ((bytes[i] == 0 && bytes[i + 1] & 0x80 == 0)
            || (bytes[i] == 0xff && bytes[i + 1] & 0x80 != 0))
    {
        i += 1;
    }
    bytes[i..].to_vec()
}

/// Unsigned content for the APPLICATION types (Counter32, Gauge32, TimeTicks).
fn uint_content(v: u32) -> Vec<u8> {
    int_content(i64::from(v))
}

fn oid_content(oid: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(oid.len() + 4);
    let (a, b) = (
        oid.first().copied().unwrap_or(0),
        oid.get(1).copied().unwrap_or(0),
    );
    let mut arcs = vec![a.saturating_mul(40).saturating_add(b)];
    arcs.extend(oid.iter().skip(2));
    for arc in arcs {
        let mut tmp = [0u8; 5];
        let mut n = 0;
        let mut v = arc;
        loop {
            tmp[n] = (v & 0x7f) as u8;
            n += 1;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for i in (0..n).rev() {
            out.push(tmp[i] | if i > 0 { 0x80 } else { 0 });
        }
    }
    out
}

/// A varbind value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// INTEGER.
    Integer(i64),
    /// OCTET STRING.
    Octets(Vec<u8>),
    /// OBJECT IDENTIFIER.
    Oid(Vec<u32>),
    /// Unsigned32 / Gauge32 (APPLICATION 2).
    Unsigned(u32),
    /// TimeTicks, hundredths of a second (APPLICATION 3).
    TimeTicks(u32),
}

fn encode_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Integer(i) => tlv(out, 0x02, &int_content(*i)),
        Value::Octets(b) => tlv(out, 0x04, b),
        Value::Oid(o) => tlv(out, 0x06, &oid_content(o)),
        Value::Unsigned(u) => tlv(out, 0x42, &uint_content(*u)),
        Value::TimeTicks(t) => tlv(out, 0x43, &uint_content(*t)),
    }
}

/// Encodes an SNMPv2c message carrying an SNMPv2-Trap-PDU with these varbinds.
pub fn encode_v2c_trap(
    community: &[u8],
    request_id: i32,
    varbinds: &[(Vec<u32>, Value)],
) -> Vec<u8> {
    let mut vbs = Vec::with_capacity(64 * varbinds.len());
    for (oid, value) in varbinds {
        let mut vb = Vec::with_capacity(64);
        tlv(&mut vb, 0x06, &oid_content(oid));
        encode_value(&mut vb, value);
        tlv(&mut vbs, 0x30, &vb);
    }
    let mut pdu = Vec::with_capacity(vbs.len() + 16);
    tlv(&mut pdu, 0x02, &int_content(i64::from(request_id)));
    tlv(&mut pdu, 0x02, &[0]);
    tlv(&mut pdu, 0x02, &[0]);
    tlv(&mut pdu, 0x30, &vbs);
    let mut msg = Vec::with_capacity(pdu.len() + community.len() + 16);
    tlv(&mut msg, 0x02, &[1]); // version: v2c = 1
    tlv(&mut msg, 0x04, community);
    tlv(&mut msg, 0xa7, &pdu);
    let mut out = Vec::with_capacity(msg.len() + 4);
    tlv(&mut out, 0x30, &msg);
    out
}

/// The details of `event` as `field=value; ...` (date and time are in `pbxEventTime`).
pub fn details_text(event: &Event) -> String {
    let mut s = String::new();
    for (field, value) in event.details() {
        if matches!(field.ty, FieldType::Date | FieldType::Time) {
            continue;
        }
        if let Some(v) = value {
            if !s.is_empty() {
                s.push_str("; ");
            }
            let _ = write!(s, "{}={v}", field.name);
        }
    }
    s
}

/// The varbinds of the notification for `event`: `sysUpTime.0`, `snmpTrapOID.0`, then the
/// eight event objects.
pub fn event_varbinds(
    event: &Event,
    enterprise: u32,
    uptime_centis: u32,
) -> Vec<(Vec<u32>, Value)> {
    let spec = event.kind().spec();
    let sev = match event.severity() {
        Severity::Normal => 1,
        Severity::Important => 2,
        Severity::Critical => 3,
    };
    let pol = match spec.polarity {
        Polarity::Negative => 1,
        Polarity::Positive => 2,
        Polarity::None => 3,
    };
    vec![
        (SYS_UP_TIME.to_vec(), Value::TimeTicks(uptime_centis)),
        (
            SNMP_TRAP_OID.to_vec(),
            Value::Oid(notification_oid(enterprise, event.kind())),
        ),
        (
            object_oid(enterprise, 1),
            Value::Octets(spec.id.as_bytes().to_vec()),
        ),
        (object_oid(enterprise, 2), Value::Integer(sev)),
        (object_oid(enterprise, 3), Value::Integer(pol)),
        (
            object_oid(enterprise, 4),
            Value::Unsigned(u32::from(event.node().0)),
        ),
        (
            object_oid(enterprise, 5),
            Value::Octets(event.at().to_string().into_bytes()),
        ),
        (
            object_oid(enterprise, 6),
            Value::Unsigned(event.occurrence()),
        ),
        (
            object_oid(enterprise, 7),
            Value::Octets(spec.name_en.as_bytes().to_vec()),
        ),
        (
            object_oid(enterprise, 8),
            Value::Octets(details_text(event).into_bytes()),
        ),
    ]
}

/// The complete SNMPv2c trap datagram for `event` (send it to UDP port 162).
pub fn event_trap(event: &Event, community: &[u8], request_id: i32, uptime_centis: u32) -> Vec<u8> {
    encode_v2c_trap(
        community,
        request_id,
        &event_varbinds(event, ENTERPRISE_NUMBER, uptime_centis),
    )
}

/// The SMIv2 module (`PBXKIT-EVENTS-MIB`) describing the tree above, one NOTIFICATION-TYPE
/// per catalogue kind.
pub fn mib_module() -> String {
    let e = ENTERPRISE_NUMBER;
    let mut m = String::with_capacity(64 * 1024);
    let _ = write!(
        m,
        "PBXKIT-EVENTS-MIB DEFINITIONS ::= BEGIN\n\nIMPORTS\n    MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, Integer32, Unsigned32, enterprises\n        FROM SNMPv2-SMI;\n\n\
pbxkit MODULE-IDENTITY\n    LAST-UPDATED \"202611220000Z\"\n    ORGANIZATION \"PBXKit\"\n    CONTACT-INFO \"PBXKit developers\"\n    DESCRIPTION \"Event notifications of PBXKit (catalogue of Tab. 23).\"\n    ::= {{ enterprises {e} 1 }}\n\n\
pbxkitEvents OBJECT IDENTIFIER ::= {{ pbxkit 1 }}\npbxkitEventNotifications OBJECT IDENTIFIER ::= {{ pbxkitEvents 0 }}\npbxkitEventObjects OBJECT IDENTIFIER ::= {{ pbxkitEvents 1 }}\n\n"
    );
    let objects = [
        (
            "pbxEventId",
            "OCTET STRING (SIZE (0..64))",
            "The stable event id.",
        ),
        (
            "pbxEventSeverity",
            "INTEGER { normal(1), important(2), critical(3) }",
            "The severity.",
        ),
        (
            "pbxEventPolarity",
            "INTEGER { negative(1), positive(2), none(3) }",
            "The polarity.",
        ),
        ("pbxEventNode", "Unsigned32", "The raising node."),
        (
            "pbxEventTime",
            "OCTET STRING (SIZE (0..32))",
            "RFC 3339 UTC time of the event.",
        ),
        (
            "pbxEventOccurrence",
            "Unsigned32",
            "Occurrence count of this kind on this node.",
        ),
        (
            "pbxEventName",
            "OCTET STRING (SIZE (0..255))",
            "English name of the event type.",
        ),
        (
            "pbxEventDetails",
            "OCTET STRING (SIZE (0..1024))",
            "Detail fields as field=value; ...",
        ),
    ];
    for (i, (name, syntax, descr)) in objects.iter().enumerate() {
        let _ = write!(
            m,
            "{name} OBJECT-TYPE\n    SYNTAX {syntax}\n    MAX-ACCESS accessible-for-notify\n    STATUS current\n    DESCRIPTION \"{descr}\"\n    ::= {{ pbxkitEventObjects {} }}\n\n",
            i + 1
        );
    }
    let names: Vec<&str> = objects.iter().map(|o| o.0).collect();
    for kind in EventKind::ALL {
        let spec = kind.spec();
        let name = mib_name(spec.id);
        let _ = write!(
            m,
            "{name} NOTIFICATION-TYPE\n    OBJECTS {{ {} }}\n    STATUS current\n    DESCRIPTION \"{}\"\n    ::= {{ pbxkitEventNotifications {} }}\n\n",
            names.join(", "),
            spec.name_en.replace('"', "'"),
            kind.index() + 1
        );
    }
    m.push_str("END\n");
    m
}

/// `pbx` + the id in lowerCamelCase, e.g. `pbxFanFailure470`.
pub fn mib_name(id: &str) -> String {
    let mut s = String::from("pbx");
    for part in id.split('_') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            s.push(f.to_ascii_uppercase());
            s.extend(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ber_primitives() {
        assert_eq!(int_content(0), [0]);
        assert_eq!(int_content(127), [0x7f]);
        assert_eq!(int_content(128), [0x00, 0x80]);
        assert_eq!(int_content(-1), [0xff]);
        assert_eq!(int_content(-129), [0xff, 0x7f]);
        assert_eq!(uint_content(u32::MAX), [0x00, 0xff, 0xff, 0xff, 0xff]);
        // X.690 example: 1.3.6.1.4.1.32473 -> 2B 06 01 04 01 81 FD 59
        assert_eq!(
            oid_content(&[1, 3, 6, 1, 4, 1, 32473]),
            [0x2b, 6, 1, 4, 1, 0x81, 0xfd, 0x59]
        );
        let mut v = Vec::new();
        push_len(&mut v, 300);
        assert_eq!(v, [0x82, 0x01, 0x2c]);
    }

    #[test]
    fn ev27_one_notification_per_kind() {
        // EV-27 / MV2-10: every catalogue id maps to a distinct notification.
        let mut oids: Vec<_> = EventKind::ALL
            .iter()
            .map(|k| notification_oid(ENTERPRISE_NUMBER, *k))
            .collect();
        oids.sort();
        oids.dedup();
        assert_eq!(oids.len(), 170);
        let mib = mib_module();
        assert_eq!(mib.matches("NOTIFICATION-TYPE\n").count(), 170);
        assert!(mib.contains("pbxFanFailure470 NOTIFICATION-TYPE"));
    }
}
