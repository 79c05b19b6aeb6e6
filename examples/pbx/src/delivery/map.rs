//! Maps the PBX's notices to catalogue messages (Tab. 23).

use events::{Event, EventKind, NodeId, Timestamp};
use licensing::Event as Lic;

use crate::notice::Notice;
use sip_core::dos::Change;

/// The catalogue message for `notice`, if the catalogue has one.
pub fn to_event(
    notice: &Notice,
    node: NodeId,
    at: Timestamp,
) -> Option<Result<Event, events::EventError>> {
    match notice {
        Notice::Dos(Change::Blacklisted(ip, cause)) => Some(
            Event::builder(EventKind::DosIpBlacklisted, node, at)
                .ip("ip_address", *ip)
                .code("cause", cause.code())
                .build(),
        ),
        Notice::Dos(Change::Unblacklisted(ip)) => Some(
            Event::builder(EventKind::DosIpUnblacklisted, node, at)
                .ip("ip_address", *ip)
                .build(),
        ),
        Notice::Licence(ev) => licence(ev, node, at),
        Notice::Trunk(t) => trunk(t, node, at),
    }
}

/// MV2-35: a trunk registered again, or could not register (cause 0 unreachable, 1 not
/// authorised; a 4xx refusal counts as not authorised, a 5xx/6xx as unreachable).
fn trunk(
    t: &crate::sip::b2bua::TrunkNotice,
    node: NodeId,
    at: Timestamp,
) -> Option<Result<Event, events::EventError>> {
    use sip_core::registration::{FailReason, RegistrationEvent};
    let b = |kind| {
        Event::builder(kind, node, at)
            .text("provider", &t.provider)
            .text("account", &t.account)
    };
    Some(match t.event {
        RegistrationEvent::Registered { .. } => b(EventKind::SipAccountAvailable)
            .text("reason", "registered")
            .build(),
        RegistrationEvent::Failed { reason } => {
            let cause = match reason {
                FailReason::NotAuthorised => 1,
                FailReason::Rejected(code) if (400..500).contains(&code) => 1,
                _ => 0,
            };
            b(EventKind::SipAccountUnavailable)
                .code("reason", cause)
                .build()
        }
        _ => return None,
    })
}

fn licence(ev: &Lic, node: NodeId, at: Timestamp) -> Option<Result<Event, events::EventError>> {
    let kind = EventKind::from_id(ev.catalogue_id()?)?;
    let b = Event::builder(kind, node, at);
    let b = match ev {
        Lic::RestrictedModeActivated { cause, .. } => b.code("cause", u32::from(cause.code())),
        Lic::LimitReached { licensed, .. } if kind.spec().field("max_licences").is_some() => {
            b.unsigned("max_licences", u64::from(*licensed))
        }
        _ => b,
    };
    Some(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn mv2_34_dos_events_carry_ip_and_cause() {
        let ip = IpAddr::from([192, 0, 2, 1]);
        let at = Timestamp::from_unix_secs(1_800_000_000);
        let e = to_event(
            &Notice::Dos(Change::Blacklisted(
                ip,
                sip_core::dos::Cause::TooManyTransactions,
            )),
            NodeId(1),
            at,
        )
        .expect("mapped")
        .expect("valid");
        assert_eq!(e.kind().id(), "dos_ip_blacklisted");
        let line = events::format::json_line(&e);
        assert!(line.contains("\"ip_address\":\"192.0.2.1\""), "{line}");
        assert!(
            line.contains("\"cause\":1,\"cause_meaning\":\"too_many_transactions\""),
            "{line}"
        );
        let e = to_event(&Notice::Dos(Change::Unblacklisted(ip)), NodeId(1), at)
            .expect("mapped")
            .expect("valid");
        assert_eq!(e.kind().id(), "dos_ip_unblacklisted");
    }

    #[test]
    fn mv_3_licence_events_map_to_the_catalogue() {
        let at = Timestamp::from_unix_secs(1_800_000_000);
        let e = to_event(
            &Notice::Licence(Lic::InvalidLicenceRestrictedIn4h),
            NodeId(1),
            at,
        )
        .expect("mapped")
        .expect("valid");
        assert_eq!(e.kind().id(), "invalid_licence_restricted_in_4h");
        let ev = Lic::RestrictedModeActivated {
            cause: licensing::RestrictedCause::NoValidLicence,
            virtual_appliance: false,
        };
        let e = to_event(&Notice::Licence(ev), NodeId(1), at)
            .expect("mapped")
            .expect("valid");
        assert_eq!(e.kind().id(), "restricted_mode_activated_non_va");
        assert!(to_event(&Notice::Licence(Lic::PersistentStateChanged), NodeId(1), at).is_none());
    }
}
