//! TLS certificate expiry supervision (MV2-36): `tls_cert_expiring` raised as important
//! within the warning window before notAfter, and as critical once it has passed. Checked at
//! start and then once a day.

use std::time::Duration;

use events::{Event, EventKind, NodeId, Severity, Timestamp};
use tokio::sync::{mpsc, watch};

use crate::delivery::{Input, wall_now};

/// How often a running PBX looks at its certificate again.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The severity to raise for a certificate valid until `not_after` (Unix seconds) at `now`,
/// warning `warn` ahead; `None` while it is further than that from expiry.
pub fn severity(not_after: i64, now: Timestamp, warn: Duration) -> Option<Severity> {
    let now = i64::try_from(now.unix_millis() / 1000).unwrap_or(i64::MAX);
    let warn = i64::try_from(warn.as_secs()).unwrap_or(i64::MAX);
    if now >= not_after {
        Some(Severity::Critical)
    } else if not_after - now <= warn {
        Some(Severity::Important)
    } else {
        None
    }
}

/// The event for our own certificate (endpoint type 0, this node), if one is due.
pub fn event(not_after: i64, now: Timestamp, warn: Duration, node: NodeId) -> Option<Event> {
    let sev = severity(not_after, now, warn)?;
    Event::builder(EventKind::TlsCertExpiring, node, now)
        .code("endpoint_type", 0)
        .text("node_id_or_cert_name", &node.0.to_string())
        .severity(sev)
        .build()
        .ok()
}

/// Checks now and then every [`CHECK_EVERY`] until `stop`.
pub async fn supervise(
    not_after: i64,
    warn: Duration,
    node: NodeId,
    events: mpsc::UnboundedSender<Input>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Some(e) = event(not_after, wall_now(), warn, node) {
            tracing::warn!(not_after, severity = ?e.severity(), "TLS certificate expiring");
            let _ = events.send(Input::Raise(e));
        }
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn mv2_36_expiry_is_important_in_the_window_and_critical_after() {
        let warn = Duration::from_secs(30 * DAY);
        let not_after = 2_000_000_000_i64;
        let at = |secs: i64| Timestamp::from_unix_secs(u64::try_from(secs).expect("positive"));
        assert_eq!(severity(not_after, at(not_after - 31 * 86_400), warn), None);
        assert_eq!(
            severity(not_after, at(not_after - 30 * 86_400), warn),
            Some(Severity::Important)
        );
        assert_eq!(
            severity(not_after, at(not_after - 1), warn),
            Some(Severity::Important)
        );
        assert_eq!(
            severity(not_after, at(not_after), warn),
            Some(Severity::Critical)
        );
        let e = event(not_after, at(not_after + 5), warn, NodeId(3)).expect("due");
        assert_eq!(e.kind(), EventKind::TlsCertExpiring);
        assert_eq!(e.severity(), Severity::Critical);
        assert!(event(not_after, at(0), warn, NodeId(3)).is_none());
    }
}
