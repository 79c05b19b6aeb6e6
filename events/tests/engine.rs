//! Whole-flow tests of the engine with a virtual clock: destinations, timers, SRM status,
//! test messages and raising rules (EV-12..EV-51, MV2-4..MV2-16).

use std::time::Duration;

use pbxkit_events::{
    ActiveChange, Advanced, Delivery, Destination, DestinationCause, DestinationConfig,
    DestinationError, DetailValue, EmailCause, Engine, EngineConfig, EngineError, Event, EventKind,
    Failure, Filter, LocalLink, NodeId, Notice, Outcome, RoutingWarning, ServerRole, SmtpAction,
    SystemStatus, TableId, Target, Timestamp,
};

const T0: Timestamp = Timestamp::from_unix_secs(1_795_904_456);
const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn table(n: u32) -> TableId {
    TableId::new(n).expect("table exists")
}

fn engine(dest: DestinationConfig) -> Engine {
    Engine::new(EngineConfig {
        destinations: dest,
        ..EngineConfig::default()
    })
    .expect("valid config")
}

fn simple(kind: EventKind, at: Timestamp) -> Event {
    Event::simple(kind, NodeId(1), at).expect("kind has only date/time")
}

fn drain(e: &mut Engine) -> Vec<Delivery> {
    std::iter::from_fn(|| e.poll_delivery()).collect()
}

fn kinds_to(ds: &[Delivery], target: Target) -> Vec<EventKind> {
    ds.iter()
        .filter(|d| d.target == target)
        .flat_map(|d| d.events.iter().map(Event::kind))
        .collect()
}

fn logged(e: &Engine, kind: EventKind) -> usize {
    e.event_log().iter().filter(|ev| ev.kind() == kind).count()
}

fn fan_failure(at: Timestamp) -> Event {
    Event::builder(EventKind::FanFailure470, NodeId(1), at)
        .code("parameter_1", 1)
        .unsigned("parameter_2_defective_fan_number", 2)
        .build()
        .expect("valid")
}

fn fan_running(at: Timestamp) -> Event {
    Event::builder(EventKind::FanRunning470, NodeId(1), at)
        .code("parameter", 1)
        .build()
        .expect("valid")
}

fn charge_overflow(at: Timestamp) -> Event {
    Event::builder(EventKind::ChargeCounterOverflow, NodeId(1), at)
        .code("cause", 0)
        .digits("number", "201")
        .build()
        .expect("valid")
}

#[test]
fn ev36_srm_worked_example_with_ev47_correction() {
    // EV-35 / EV-36 / MV2-14: the 4-step conformance test, step 4 corrected per EV-47.
    for step4_by_ack in [false, true] {
        let mut e = engine(DestinationConfig {
            srm_enabled: true,
            ..DestinationConfig::default()
        });
        assert_eq!(e.status(), SystemStatus::Normal);
        // Step 1: charge counter overflow (important, status-less) -> Important / yellow.
        let r = e.raise(T0, charge_overflow(T0)).expect("raise");
        let ActiveChange::Entered(overflow) = r.active else {
            panic!("overflow must be active")
        };
        assert_eq!(e.status(), SystemStatus::Important);
        assert_eq!(
            e.poll_event(),
            Some(Notice::StatusChanged(SystemStatus::Important))
        );
        // Step 2: fan failure (critical, negative) -> Critical / red.
        let r = e.raise(T0 + MIN, fan_failure(T0 + MIN)).expect("raise");
        let ActiveChange::Entered(fan) = r.active else {
            panic!("fan failure must be active")
        };
        assert_eq!(e.status(), SystemStatus::Critical);
        assert_eq!(e.status().colour(), pbxkit_events::Colour::Red);
        // Step 3: acknowledge the overflow -> stays Critical.
        e.acknowledge(overflow).expect("active");
        assert_eq!(e.status(), SystemStatus::Critical);
        // Step 4: the fan's positive counterpart, or an acknowledgement -> Normal / blue.
        if step4_by_ack {
            e.acknowledge(fan).expect("active");
        } else {
            let r = e
                .raise(T0 + 2 * MIN, fan_running(T0 + 2 * MIN))
                .expect("raise");
            assert_eq!(r.active, ActiveChange::Cleared(1));
        }
        assert_eq!(e.status(), SystemStatus::Normal);
        assert_eq!(e.status().colour(), pbxkit_events::Colour::Blue);
        assert!(e.active().is_empty());
        let notices: Vec<_> = std::iter::from_fn(|| e.poll_event()).collect();
        assert_eq!(
            notices.last(),
            Some(&Notice::StatusChanged(SystemStatus::Normal))
        );
        // Acknowledging twice is a typed error (EV-5).
        assert_eq!(
            e.acknowledge(overflow).err(),
            Some(EngineError::NotActive(overflow))
        );
    }
}

#[test]
fn ev34_srm_gets_only_important_and_critical() {
    let mut e = engine(DestinationConfig {
        srm_enabled: true,
        ..DestinationConfig::default()
    });
    // Route a normal type through table 7 too: SRM must still not receive it.
    e.set_filter(table(7), EventKind::SystemOverload, Filter::All);
    let ev = Event::builder(EventKind::SystemOverload, NodeId(1), T0)
        .unsigned("route_number", 1)
        .digits("user_number", "201")
        .build()
        .expect("valid");
    let r = e.raise(T0, ev).expect("raise");
    assert!(!r.routed.contains(Destination::Srm));
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(r.routed.contains(Destination::Srm));
    let ds = drain(&mut e);
    assert_eq!(kinds_to(&ds, Target::Srm), [EventKind::SystemRestarted]);
    // EV-33: SRM switched off -> nothing.
    let mut e = engine(DestinationConfig::default());
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(!r.routed.contains(Destination::Srm));
}

#[test]
fn ev14_worked_example_through_the_engine() {
    // EV-14 / MV2-5: total_sync_loss, 10 occurrences in 1 h, on table 1 (system phones 1).
    let mut e = engine(DestinationConfig::default());
    e.set_filter(
        table(1),
        EventKind::TotalSyncLoss,
        Filter::Advanced(Advanced::new(10, 1).expect("in range")),
    );
    for i in 0..9u32 {
        let at = T0 + 6 * MIN * i;
        e.raise(at, simple(EventKind::TotalSyncLoss, at))
            .expect("raise");
    }
    let phones1 = Target::SystemPhones {
        destination: 1,
        group: 16,
    };
    assert!(
        kinds_to(&drain(&mut e), phones1).is_empty(),
        "9 raises send nothing"
    );
    let at = T0 + 59 * MIN;
    let r = e
        .raise(at, simple(EventKind::TotalSyncLoss, at))
        .expect("raise");
    assert!(r.routed.contains(Destination::SystemPhones1));
    let ds = drain(&mut e);
    assert_eq!(
        kinds_to(&ds, phones1),
        [EventKind::TotalSyncLoss],
        "the 10th sends one"
    );
    // The delivered message carries its occurrence count (10).
    let sent = ds
        .iter()
        .find(|d| d.target == phones1)
        .and_then(|d| d.events.first())
        .map(Event::occurrence);
    assert_eq!(sent, Some(10));
    // EV-12: the tables are independent: table 4 (event log) logged all ten.
    assert_eq!(logged(&e, EventKind::TotalSyncLoss), 10);
}

#[test]
fn ev18_system_phone_groups_and_ev46_defaults() {
    // EV-18 / MV2-7: destination 1 -> group 16, destination 2 -> group 15. EV-46 decision:
    // destination 2 is bound to table 1 by default, so both receive table 1's messages.
    let mut e = engine(DestinationConfig::default());
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    let ds = drain(&mut e);
    let groups: Vec<_> = ds
        .iter()
        .filter_map(|d| match d.target {
            Target::SystemPhones { group, .. } => Some(group),
            _ => None,
        })
        .collect();
    assert_eq!(groups, [16, 15]);
    assert!(ds.iter().all(|d| !d.needs_report));
}

fn external() -> DestinationConfig {
    DestinationConfig {
        external_primary: true,
        ..DestinationConfig::default()
    }
}

#[test]
fn ev20_ev21_ev22_ev23_external_batching_backoff_and_reset() {
    // MV2-8, with a virtual clock.
    let mut e = engine(external());
    for i in 0..3u32 {
        let at = T0 + MIN * i;
        e.raise(at, simple(EventKind::SystemRestarted, at))
            .expect("raise");
    }
    // EV-20: held for 5 minutes from the first message.
    assert!(kinds_to(&drain(&mut e), Target::ExternalPrimary).is_empty());
    assert_eq!(e.poll_timeout(), Some(T0 + 5 * MIN));
    e.handle_timeout(T0 + 5 * MIN - Duration::from_millis(1));
    assert!(
        e.poll_delivery()
            .into_iter()
            .all(|d| d.target != Target::ExternalPrimary)
    );
    e.handle_timeout(T0 + 5 * MIN);
    let d = e.poll_delivery().expect("batch due");
    assert_eq!(d.target, Target::ExternalPrimary);
    assert_eq!(d.events.len(), 3, "sent together");
    assert_eq!(d.dial_attempts, Some(5));
    assert!(d.needs_report);

    // Fail every attempt: EV-23 raises external_destination_unreachable each time (it reaches
    // the event log, another destination); retries every 5 min until failures last 1 h.
    let mut now = T0 + 5 * MIN;
    let first_failure = now;
    let mut id = d.id;
    let mut periods = Vec::new();
    let mut attempts = Vec::new();
    loop {
        e.report(
            now,
            id,
            Outcome::Failed(Failure::Destination(DestinationCause::Busy)),
        )
        .expect("in flight");
        let next = e.poll_timeout().expect("retry scheduled");
        periods.push(next.since(now));
        now = next;
        e.handle_timeout(now);
        let d = drain(&mut e)
            .into_iter()
            .find(|d| d.target == Target::ExternalPrimary)
            .expect("retry");
        assert_eq!(d.events.len(), 3, "nothing lost");
        attempts.push(d.dial_attempts);
        id = d.id;
        if now.since(first_failure) > 2 * HOUR {
            break;
        }
    }
    // 5-minute retries for the first hour (12 failures), then 4 hours (EV-21).
    assert!(periods[..12].iter().all(|p| *p == 5 * MIN), "{periods:?}");
    assert_eq!(periods[12], 4 * HOUR);
    // Dial attempts drop from 5 to 2 after an hour of failures (EV-22).
    assert!(attempts[..11].iter().all(|a| *a == Some(5)), "{attempts:?}");
    assert_eq!(attempts[12], Some(2));
    let unreachable: Vec<_> = e
        .event_log()
        .iter()
        .filter(|ev| ev.kind() == EventKind::ExternalDestinationUnreachable)
        .collect();
    assert_eq!(unreachable.len(), 13);
    assert_eq!(unreachable[0].detail("cause"), Some(&DetailValue::Code(0)));
    // The failure reports were never queued behind the failing destination itself: every
    // retry above carried exactly the 3 original messages.

    // Success resets to 5 min / 5 attempts and raises external_destination_reachable (EV-23).
    e.report(now, id, Outcome::Delivered).expect("in flight");
    assert_eq!(logged(&e, EventKind::ExternalDestinationReachable), 1);
    assert_eq!(e.external_period(now), 5 * MIN);
    assert_eq!(e.external_dial_attempts(now), 5);
    // The reachable event itself goes to the external destination, batched again.
    assert_eq!(e.poll_timeout(), Some(now + 5 * MIN));
    e.handle_timeout(now + 5 * MIN);
    let d = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::ExternalPrimary)
        .expect("batch");
    assert_eq!(d.dial_attempts, Some(5));
    assert!(
        d.events
            .iter()
            .any(|ev| ev.kind() == EventKind::ExternalDestinationReachable)
    );
    // The active negative has been cleared by its counterpart (EV-4).
    assert!(
        e.active()
            .find(EventKind::ExternalDestinationUnreachable, NodeId(1))
            .is_none()
    );
}

#[test]
fn ev19_primary_then_backup() {
    let mut e = engine(DestinationConfig {
        external_backup: true,
        ..external()
    });
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    e.handle_timeout(T0 + 5 * MIN);
    let d = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::ExternalPrimary)
        .expect("primary");
    e.report(
        T0 + 5 * MIN,
        d.id,
        Outcome::Failed(Failure::Destination(DestinationCause::NotAvailable)),
    )
    .expect("in flight");
    // Falls back to the backup at once, with the same batch; no failure event yet.
    let b = e.poll_delivery().expect("backup");
    assert_eq!(b.target, Target::ExternalBackup);
    assert_eq!(b.events.len(), 1);
    assert_eq!(logged(&e, EventKind::ExternalDestinationUnreachable), 0);
    e.report(
        T0 + 5 * MIN,
        b.id,
        Outcome::Failed(Failure::Destination(DestinationCause::Blocked)),
    )
    .expect("in flight");
    let ev = e
        .event_log()
        .iter()
        .find(|ev| ev.kind() == EventKind::ExternalDestinationUnreachable)
        .cloned();
    assert_eq!(
        ev.and_then(|ev| ev.detail("cause").cloned()),
        Some(DetailValue::Code(2))
    );
    // Unknown ids are typed errors.
    assert!(matches!(
        e.report(T0, b.id, Outcome::Delivered),
        Err(EngineError::UnknownDelivery(_))
    ));
}

#[test]
fn ev25_local_failures_raise_internal_events() {
    // EV-25 / MV2-9; EV-26: local shares table 3 with SNMP.
    let mut e = engine(DestinationConfig {
        local: true,
        ..DestinationConfig::default()
    });
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    let d = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::Local)
        .expect("local is immediate");
    e.report(
        T0,
        d.id,
        Outcome::Failed(Failure::Destination(DestinationCause::NotDefined)),
    )
    .expect("in flight");
    let ev = e
        .event_log()
        .iter()
        .find(|ev| ev.kind() == EventKind::InternalDestinationUnreachable)
        .cloned();
    assert_eq!(
        ev.and_then(|ev| ev.detail("cause").cloned()),
        Some(DetailValue::Code(3))
    );
    // Retried after the retry delay, not before.
    assert_eq!(e.poll_timeout(), Some(T0 + 5 * MIN));
    e.handle_timeout(T0 + 5 * MIN);
    let d = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::Local)
        .expect("retry");
    assert_eq!(d.events[0].kind(), EventKind::SystemRestarted);
    e.report(T0 + 5 * MIN, d.id, Outcome::Delivered)
        .expect("in flight");
    assert_eq!(logged(&e, EventKind::InternalDestinationReachable), 1);
}

#[test]
fn ev26_ev27_snmp_shares_the_local_table_and_has_five_targets() {
    let cfg = DestinationConfig {
        local: true,
        snmp_enabled: true,
        snmp_targets: 3,
        ..DestinationConfig::default()
    };
    let mut e = engine(cfg.clone());
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    let ds = drain(&mut e);
    let snmp: Vec<_> = ds
        .iter()
        .filter(|d| matches!(d.target, Target::Snmp(_)))
        .map(|d| d.target)
        .collect();
    assert_eq!(snmp, [Target::Snmp(0), Target::Snmp(1), Target::Snmp(2)]);
    // Changing the filter of the shared table changes both (EV-26).
    e.set_filter(table(3), EventKind::SystemRestarted, Filter::NoEvent);
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(!r.routed.contains(Destination::Local) && !r.routed.contains(Destination::Snmp));
    // Rebinding one rebinds the other.
    e.bindings_mut().bind(Destination::Snmp, table(1));
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(r.routed.contains(Destination::Local) && r.routed.contains(Destination::Snmp));
    // EV-27: SNMP is switched independently of local and external.
    e.set_destinations(DestinationConfig {
        snmp_enabled: false,
        ..cfg
    })
    .expect("valid");
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(r.routed.contains(Destination::Local) && !r.routed.contains(Destination::Snmp));
    // At most 5 targets.
    let bad = DestinationConfig {
        snmp_targets: 6,
        ..cfg
    };
    assert_eq!(
        e.set_destinations(bad),
        Err(EngineError::Destination(
            DestinationError::TooManySnmpTargets(6)
        ))
    );
}

#[test]
fn ev28_event_log_follows_its_binding() {
    // MV2-11: ring of 254, and it follows rebinding / table changes.
    let mut e = engine(DestinationConfig::default());
    for i in 0..300u32 {
        let at = T0 + Duration::from_secs(u64::from(i));
        e.raise(at, simple(EventKind::NoDectDspChannel, at))
            .expect("raise");
    }
    assert_eq!(e.event_log().len(), 254);
    assert_eq!(
        e.event_log().iter().next().map(Event::at),
        Some(T0 + Duration::from_secs(46))
    );
    // Rebind the log from table 4 to table 1, which drops normal types by default.
    e.bindings_mut().unbind(Destination::EventLog, table(4));
    e.bindings_mut().bind(Destination::EventLog, table(1));
    let before = e.event_log().iter().next_back().map(Event::at);
    e.raise(T0, simple(EventKind::NoDectDspChannel, T0))
        .expect("raise");
    assert_eq!(e.event_log().iter().next_back().map(Event::at), before);
}

#[test]
fn ev29_mains_failure_log_ignores_filters() {
    let mut e = engine(DestinationConfig::default());
    e.set_filter(table(4), EventKind::MainsPowerFailure, Filter::NoEvent);
    for i in 0..12u32 {
        let at = T0 + HOUR * i;
        e.raise(at, simple(EventKind::MainsPowerFailure, at))
            .expect("raise");
    }
    assert_eq!(e.mains_log().len(), 10);
    assert_eq!(
        e.mains_log().iter().next().map(Event::at),
        Some(T0 + 2 * HOUR)
    );
    assert_eq!(logged(&e, EventKind::MainsPowerFailure), 0);
}

#[test]
fn ev30_ev31_email_failures_carry_tab24_codes() {
    // MV2-12.
    let cfg = DestinationConfig {
        email_enabled: true,
        email_targets: 2,
        ..DestinationConfig::default()
    };
    let mut e = engine(cfg.clone());
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    let d = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::Email)
        .expect("e-mail is immediate");
    let failure = Failure::Email {
        cause: EmailCause::AuthenticationFailed,
        action: SmtpAction::Plain,
    };
    e.report(T0, d.id, Outcome::Failed(failure))
        .expect("in flight");
    let ev = e
        .event_log()
        .iter()
        .find(|ev| ev.kind() == EventKind::EmailSendFailed)
        .cloned()
        .expect("raised");
    assert_eq!(ev.detail("cause_xx"), Some(&DetailValue::Code(4)));
    assert_eq!(ev.detail("action_yy"), Some(&DetailValue::Code(12)));
    assert_eq!(
        ev.detail("email_client"),
        Some(&DetailValue::Code(4)),
        "client 04 = event message"
    );
    e.handle_timeout(T0 + 5 * MIN);
    let d = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::Email)
        .expect("retry");
    e.report(T0 + 5 * MIN, d.id, Outcome::Delivered)
        .expect("in flight");
    let ok = e
        .event_log()
        .iter()
        .find(|ev| ev.kind() == EventKind::EmailSent)
        .cloned()
        .expect("raised");
    assert_eq!(
        ok.detail("cause_action"),
        Some(&DetailValue::Code(0)),
        "parameter 1 = 000"
    );
    // Global switch off: nothing routed to e-mail.
    e.set_destinations(DestinationConfig {
        email_enabled: false,
        ..cfg
    })
    .expect("valid");
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(!r.routed.contains(Destination::Email));
}

#[test]
fn ev32_atas_needs_switch_and_licence() {
    // EV-32 / MV2-13: licence-gated, with a global on/off switch.
    let mut e = engine(DestinationConfig {
        atas_enabled: true,
        ..DestinationConfig::default()
    });
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(!r.routed.contains(Destination::Atas));
    let mut e = engine(DestinationConfig {
        atas_enabled: true,
        atas_licensed: true,
        ..DestinationConfig::default()
    });
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(r.routed.contains(Destination::Atas));
}

#[test]
fn ev37_ev38_test_messages() {
    // MV2-15: a test message bypasses filters and batching, goes to one destination only,
    // and on a modem link waits for the current connection to be released.
    let mut e = engine(DestinationConfig {
        local: true,
        local_link: LocalLink::Ppp,
        ..external()
    });
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    drain(&mut e);
    e.send_test(T0 + MIN, Destination::External)
        .expect("in service");
    let ds = drain(&mut e);
    assert_eq!(ds.len(), 1, "only the chosen destination");
    assert_eq!(ds[0].target, Target::ExternalPrimary);
    assert!(ds[0].test);
    assert_eq!(
        kinds_to(&ds, Target::ExternalPrimary),
        [EventKind::TestEventMessage]
    );
    // While that connection is up, a second test waits (EV-38).
    e.send_test(T0 + MIN, Destination::External)
        .expect("in service");
    assert!(e.poll_delivery().is_none());
    e.report(T0 + 2 * MIN, ds[0].id, Outcome::Delivered)
        .expect("in flight");
    let d = e.poll_delivery().expect("deferred test now goes");
    assert!(d.test);
    // The regular batch is still held for its 5 minutes.
    e.report(T0 + 2 * MIN, d.id, Outcome::Delivered)
        .expect("in flight");
    assert_eq!(e.poll_timeout(), Some(T0 + 5 * MIN));
    // Test messages bypass the filters (EV-37 proposal): table 1 drops them, yet the test goes.
    e.set_filter(table(1), EventKind::TestEventMessage, Filter::NoEvent);
    e.send_test(T0, Destination::SystemPhones2)
        .expect("always in service");
    let d = e.poll_delivery().expect("test");
    assert_eq!(
        d.target,
        Target::SystemPhones {
            destination: 2,
            group: 15
        }
    );
    // A destination out of service is a typed error.
    assert_eq!(
        e.send_test(T0, Destination::Email),
        Err(EngineError::Destination(DestinationError::NotInService(
            Destination::Email
        )))
    );
}

#[test]
fn ev39_remote_maintenance_reaches_local_unfiltered() {
    // MV2-16: normal severity, so table 3 drops it by default; the local destination gets it.
    let mut e = engine(DestinationConfig {
        local: true,
        snmp_enabled: true,
        snmp_targets: 1,
        ..DestinationConfig::default()
    });
    assert_eq!(
        e.config().tables[2].filter(EventKind::RemoteMaintenanceEnabled),
        Filter::NoEvent
    );
    let r = e
        .raise(T0, simple(EventKind::RemoteMaintenanceEnabled, T0))
        .expect("raise");
    assert!(r.routed.contains(Destination::Local));
    assert!(!r.routed.contains(Destination::Snmp));
    assert!(matches!(r.active, ActiveChange::Entered(_)), "negative");
    let r = e
        .raise(T0, simple(EventKind::RemoteMaintenanceDisabled, T0))
        .expect("raise");
    assert_eq!(r.active, ActiveChange::Cleared(1));
}

#[test]
fn ev41_error_flood_raises_too_many_errors() {
    let mut e = engine(DestinationConfig::default());
    let err = |at| {
        Event::builder(EventKind::OperationalError, NodeId(1), at)
            .unsigned("error_id", 77)
            .build()
            .expect("valid")
    };
    for i in 0..50u32 {
        let at = T0 + MIN * i;
        e.raise(at, err(at)).expect("raise");
    }
    assert_eq!(
        logged(&e, EventKind::TooManyErrorsSameId),
        0,
        "50 is not more than 50"
    );
    e.raise(T0 + 50 * MIN, err(T0 + 50 * MIN)).expect("raise");
    let flood = e
        .event_log()
        .iter()
        .find(|ev| ev.kind() == EventKind::TooManyErrorsSameId)
        .cloned();
    assert_eq!(
        flood.and_then(|ev| ev.detail("error_id").cloned()),
        Some(DetailValue::Unsigned(77))
    );
    // Spread over more than an hour: no flood.
    let mut e = engine(DestinationConfig::default());
    for i in 0..60u32 {
        let at = T0 + 2 * MIN * i;
        e.raise(at, err(at)).expect("raise");
    }
    assert_eq!(logged(&e, EventKind::TooManyErrorsSameId), 0);
}

#[test]
fn ev41_trunk_flood_raises_too_many_messages() {
    // EV-41 proposal: "the limit set in the table" is the advanced filter of the type.
    let mut e = engine(DestinationConfig::default());
    e.set_filter(
        table(1),
        EventKind::NoNetworkResponse,
        Filter::Advanced(Advanced::new(3, 1).expect("in range")),
    );
    let ev = |at| {
        Event::builder(EventKind::NoNetworkResponse, NodeId(1), at)
            .unsigned("network_port_number", 4)
            .build()
            .expect("valid")
    };
    e.raise(T0, ev(T0)).expect("raise");
    e.raise(T0 + MIN, ev(T0 + MIN)).expect("raise");
    assert_eq!(logged(&e, EventKind::TooManyMessages), 0);
    e.raise(T0 + 2 * MIN, ev(T0 + 2 * MIN)).expect("raise");
    assert_eq!(logged(&e, EventKind::TooManyMessages), 1);
    // Other types passing an advanced threshold do not raise it.
    e.set_filter(
        table(1),
        EventKind::SystemRestarted,
        Filter::Advanced(Advanced::new(2, 1).expect("in range")),
    );
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert_eq!(logged(&e, EventKind::TooManyMessages), 1);
}

#[test]
fn ev42_user_licence_missing_once_only() {
    let mut e = engine(DestinationConfig::default());
    assert!(
        !e.raise(T0, simple(EventKind::UserLicenceMissing, T0))
            .expect("raise")
            .suppressed
    );
    assert!(
        e.raise(T0, simple(EventKind::UserLicenceMissing, T0))
            .expect("raise")
            .suppressed
    );
    assert_eq!(logged(&e, EventKind::UserLicenceMissing), 1);
    e.raise(T0, simple(EventKind::UserLicenceAvailable, T0))
        .expect("raise");
    assert!(
        !e.raise(T0, simple(EventKind::UserLicenceMissing, T0))
            .expect("raise")
            .suppressed
    );
}

#[test]
fn ev43_role_specific_events() {
    let mut primary = engine(DestinationConfig::default());
    let ev = simple(EventKind::DualHomingLicenceLimitReached, T0);
    assert_eq!(
        primary.raise(T0, ev.clone()).err(),
        Some(EngineError::WrongRole {
            kind: EventKind::DualHomingLicenceLimitReached,
            required: ServerRole::Backup
        })
    );
    let mut backup = Engine::new(EngineConfig {
        role: ServerRole::Backup,
        ..EngineConfig::default()
    })
    .expect("valid");
    assert!(backup.raise(T0, ev).is_ok());
    let sync = Event::builder(EventKind::BackupCsSyncFailed, NodeId(1), T0)
        .unsigned("backup_server_id", 2)
        .build()
        .expect("valid");
    assert!(backup.raise(T0, sync.clone()).is_err());
    assert!(primary.raise(T0, sync).is_ok());
}

#[test]
fn ev24_ev50_routing_warnings() {
    // Default tables: the unreachable events are important, so tables 1 (phones) and 4 (log)
    // also send them: no warning.
    let mut e = engine(DestinationConfig {
        local: true,
        ..external()
    });
    assert!(e.routing_warnings().is_empty());
    // Drop them everywhere but the failing destinations' own tables.
    for t in TableId::all() {
        if t.number() != 2 {
            e.set_filter(
                t,
                EventKind::ExternalDestinationUnreachable,
                Filter::NoEvent,
            );
        }
        if t.number() != 3 {
            e.set_filter(
                t,
                EventKind::InternalDestinationUnreachable,
                Filter::NoEvent,
            );
        }
    }
    let w = e.routing_warnings();
    // External's table 2 goes only to the external destination -> stranded. Local's table 3
    // also goes to SNMP, but SNMP is off -> stranded too (EV-50: the rule covers both).
    assert!(w.contains(&RoutingWarning::UnreachableEventStranded {
        kind: EventKind::ExternalDestinationUnreachable,
        failing: Destination::External
    }));
    assert!(w.contains(&RoutingWarning::UnreachableEventStranded {
        kind: EventKind::InternalDestinationUnreachable,
        failing: Destination::Local
    }));
}

#[test]
fn ev16_many_to_many_and_ev51_integration_stream() {
    let mut e = engine(DestinationConfig {
        integration_enabled: true,
        ..DestinationConfig::default()
    });
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(
        !r.routed.contains(Destination::Integration),
        "EV-51 extension is unbound by default"
    );
    e.bindings_mut().bind(Destination::Integration, table(1));
    e.bindings_mut().bind(Destination::Integration, table(4));
    let r = e
        .raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    assert!(r.routed.contains(Destination::Integration));
    // Bound to two tables, it still receives one copy.
    assert_eq!(
        kinds_to(&drain(&mut e), Target::Integration),
        [EventKind::SystemRestarted]
    );
}

#[test]
fn overflow_is_counted_and_reported_never_silent() {
    let cfg = DestinationConfig {
        snmp_enabled: true,
        snmp_targets: 1,
        queue_capacity: 2,
        ..DestinationConfig::default()
    };
    let mut e = engine(cfg);
    for i in 0..5u32 {
        let at = T0 + Duration::from_secs(u64::from(i));
        e.raise(at, simple(EventKind::SystemRestarted, at))
            .expect("raise");
    }
    let notices: Vec<_> = std::iter::from_fn(|| e.poll_event()).collect();
    assert!(
        notices.contains(&Notice::Overflow {
            target: Target::Snmp(0),
            dropped: 3
        }),
        "{notices:?}"
    );
    // The newest two survive.
    let ds = drain(&mut e);
    let kept: Vec<_> = ds
        .iter()
        .filter(|d| d.target == Target::Snmp(0))
        .map(|d| d.events[0].at())
        .collect();
    assert_eq!(
        kept,
        [T0 + Duration::from_secs(3), T0 + Duration::from_secs(4)]
    );
}

#[test]
fn failing_destination_does_not_block_others() {
    let mut e = engine(DestinationConfig {
        email_enabled: true,
        email_targets: 1,
        ..external()
    });
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    let mail = drain(&mut e)
        .into_iter()
        .find(|d| d.target == Target::Email)
        .expect("mail");
    // E-mail stays unreported (hung); other destinations still deliver.
    e.raise(T0, simple(EventKind::SystemRestarted, T0))
        .expect("raise");
    let ds = drain(&mut e);
    assert!(
        ds.iter()
            .any(|d| matches!(d.target, Target::SystemPhones { .. }))
    );
    assert!(
        ds.iter().all(|d| d.target != Target::Email),
        "one e-mail in flight at a time"
    );
    e.handle_timeout(T0 + 5 * MIN);
    assert!(
        drain(&mut e)
            .iter()
            .any(|d| d.target == Target::ExternalPrimary)
    );
    e.report(T0 + 5 * MIN, mail.id, Outcome::Delivered)
        .expect("in flight");
    assert!(
        drain(&mut e).iter().any(|d| d.target == Target::Email),
        "the queued one follows"
    );
}

#[test]
fn ev1_ev7_occurrence_count_per_kind_and_node() {
    let mut e = engine(DestinationConfig::default());
    for node in [1u16, 1, 2, 1] {
        e.raise(
            T0,
            Event::simple(EventKind::SystemRestarted, NodeId(node), T0).expect("valid"),
        )
        .expect("raise");
    }
    let counts: Vec<_> = e
        .event_log()
        .iter()
        .map(|ev| (ev.node().0, ev.occurrence()))
        .collect();
    assert_eq!(counts, [(1, 1), (1, 2), (2, 1), (1, 3)]);
}

/// A tiny deterministic PRNG (xorshift64*) so the simulation is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn simulation_no_message_lost_or_duplicated_under_outages() {
    // Issue: "a failing destination never blocks others, never loses an event silently, and
    // retries per the rules". Random raises, clock jumps and destination outages; at the end
    // every destination has delivered every message routed to it exactly once, in order.
    let dest = DestinationConfig {
        external_primary: true,
        external_backup: true,
        local: true,
        snmp_enabled: true,
        snmp_targets: 2,
        email_enabled: true,
        email_targets: 1,
        srm_enabled: true,
        ..DestinationConfig::default()
    };
    let mut e = engine(dest);
    let kinds = [
        EventKind::SystemRestarted,
        EventKind::TooMuchUserData,
        EventKind::MainsPowerFailure,
        EventKind::InvalidLicenceRestrictedIn4h,
    ];
    let watched = [
        Destination::External,
        Destination::Local,
        Destination::Email,
        Destination::Srm,
        Destination::Snmp,
    ];
    let slot = |t: Target| watched.iter().position(|d| *d == t.destination());
    let mut routed = [0usize; 5];
    let mut delivered: Vec<Vec<(EventKind, u16, u32)>> = vec![Vec::new(); 5];
    // Per destination: is it currently down? Outages start and end at random.
    let mut down = [false; 5];
    let mut outages = 0;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut now = T0;
    let mut seen_by_snmp = std::collections::HashSet::new();
    let mut handle = |e: &mut Engine,
                      now: Timestamp,
                      down: &[bool; 5],
                      delivered: &mut Vec<Vec<(EventKind, u16, u32)>>| {
        while let Some(d) = e.poll_delivery() {
            if let Some(a) = d.dial_attempts {
                assert!(a == 5 || a == 2, "EV-22 attempts {a}");
            }
            let s = slot(d.target);
            let ok = s.is_none_or(|s| !down[s]);
            if d.target == Target::Snmp(0) {
                seen_by_snmp.extend(d.events.iter().map(Event::kind));
            }
            // SNMP: count target 0 only (each target gets its own copy).
            if let Some(s) = s.filter(|_| ok && d.target != Target::Snmp(1)) {
                let ids = d.events.iter().filter(|ev| kinds.contains(&ev.kind()));
                delivered[s].extend(ids.map(|ev| (ev.kind(), ev.node().0, ev.occurrence())));
            }
            if d.needs_report {
                let outcome = if ok {
                    Outcome::Delivered
                } else {
                    Outcome::Failed(Failure::Destination(DestinationCause::Busy))
                };
                e.report(now, d.id, outcome).expect("in flight");
            }
        }
    };
    for _ in 0..3000 {
        for flag in down.iter_mut().take(4) {
            // SNMP traps are fire-and-forget: a lost trap is not observable; keep it up.
            if rng.below(40) == 0 {
                *flag = !*flag;
                outages += usize::from(*flag);
            }
        }
        match rng.below(4) {
            0 | 1 => {
                let kind = kinds[rng.below(kinds.len() as u64) as usize];
                let node = NodeId(rng.below(3) as u16 + 1);
                let r = e
                    .raise(now, Event::simple(kind, node, now).expect("valid"))
                    .expect("raise");
                for (i, d) in watched.iter().enumerate() {
                    if r.routed.contains(*d) {
                        routed[i] += 1;
                    }
                }
            }
            2 => {
                now = now + Duration::from_secs(rng.below(600));
                e.handle_timeout(now);
            }
            _ => {
                if let Some(t) = e.poll_timeout() {
                    now = now.max(t);
                    e.handle_timeout(now);
                }
            }
        }
        handle(&mut e, now, &down, &mut delivered);
    }
    assert!(outages > 20, "the run exercised outages ({outages})");
    // End every outage and drain: advance through every pending timer.
    let up = [false; 5];
    for _ in 0..1000 {
        handle(&mut e, now, &up, &mut delivered);
        match e.poll_timeout() {
            Some(t) => {
                now = now.max(t);
                e.handle_timeout(now);
            }
            None => break,
        }
    }
    handle(&mut e, now, &up, &mut delivered);
    let overflows: Vec<_> = std::iter::from_fn(|| e.poll_event())
        .filter(|n| matches!(n, Notice::Overflow { .. }))
        .collect();
    assert!(overflows.is_empty(), "no overflow expected: {overflows:?}");
    for (i, d) in watched.iter().enumerate() {
        assert!(routed[i] > 0, "{d:?} received traffic");
        assert_eq!(delivered[i].len(), routed[i], "{d:?}: delivered once each");
        // In order per (kind, node): occurrences strictly increase.
        let mut last = std::collections::HashMap::new();
        for (k, n, occ) in &delivered[i] {
            let prev = last.insert((*k, *n), *occ);
            assert!(
                prev.is_none_or(|p| p < *occ),
                "{d:?}: {k} node {n} out of order"
            );
        }
    }
    // The outages were reported by their events (EV-23, EV-25, EV-31) along the way; SNMP
    // (always up, table 3) saw each of them.
    for kind in [
        EventKind::ExternalDestinationUnreachable,
        EventKind::ExternalDestinationReachable,
        EventKind::InternalDestinationUnreachable,
        EventKind::EmailSendFailed,
        EventKind::EmailSent,
    ] {
        assert!(
            logged(&e, kind) > 0 || e.event_log().len() == 254,
            "{kind} raised"
        );
    }
}

/// MV-47: event messages are routed to the destinations the manual lists (system phones, the
/// event log, e-mail, SRM, the ATAS alarm server, SNMP, and OIP, here the integration
/// stream), each once it is switched on and its table lets the type through. One switched
/// off, or whose table filters the type out, gets nothing.
#[test]
fn mv47_event_messages_reach_every_destination_kind() {
    let all_on = DestinationConfig {
        local: true,
        snmp_enabled: true,
        snmp_targets: 1,
        email_enabled: true,
        email_targets: 1,
        atas_enabled: true,
        atas_licensed: true,
        srm_enabled: true,
        integration_enabled: true,
        ..DestinationConfig::default()
    };
    let mut e = engine(all_on.clone());
    // Every destination on table 1 only.
    for d in Destination::ALL {
        for t in TableId::all() {
            e.bindings_mut().unbind(d, t);
        }
        e.bindings_mut().bind(d, table(1));
    }
    e.set_filter(table(1), EventKind::FanFailure470, Filter::All);
    let r = e.raise(T0, fan_failure(T0)).expect("raise");
    let wanted = [
        Destination::SystemPhones1,
        Destination::SystemPhones2,
        Destination::EventLog,
        Destination::Email,
        Destination::Srm,
        Destination::Atas,
        Destination::Snmp,
        Destination::Local,
        Destination::Integration,
    ];
    for d in wanted {
        assert!(r.routed.contains(d), "{d:?} routed");
    }
    let ds = drain(&mut e);
    for target in [
        Target::SystemPhones {
            destination: 1,
            group: 16,
        },
        Target::Email,
        Target::Srm,
        Target::Atas,
        Target::Snmp(0),
        Target::Integration,
    ] {
        assert_eq!(
            kinds_to(&ds, target),
            [EventKind::FanFailure470],
            "{target:?}: {ds:?}"
        );
    }
    assert_eq!(logged(&e, EventKind::FanFailure470), 1, "event log");
    // E-mail switched off: it alone gets nothing. Then the type filtered out of the
    // table: nobody gets it.
    e.set_destinations(DestinationConfig {
        email_enabled: false,
        ..all_on
    })
    .expect("valid");
    let at = T0 + MIN;
    let r = e.raise(at, fan_failure(at)).expect("raise");
    assert!(!r.routed.contains(Destination::Email));
    assert!(r.routed.contains(Destination::Srm));
    e.set_filter(table(1), EventKind::FanFailure470, Filter::NoEvent);
    let at = T0 + 2 * MIN;
    let r = e.raise(at, fan_failure(at)).expect("raise");
    for d in wanted {
        assert!(!r.routed.contains(d), "{d:?} filtered out");
    }
}
