//! Events per second through filtering and scheduling (issue target: ≥ 1M events/s filtered
//! on one core). Each iteration raises a batch of pre-built messages through the engine and
//! drains the resulting deliveries, with a virtual clock.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pbxkit_events::{
    Advanced, DestinationConfig, Engine, EngineConfig, Event, EventKind, Filter, NodeId, Outcome,
    TableId, Timestamp,
};

const BATCH: usize = 1000;

/// Status-less kinds whose only fields are date/time or easy to fill, a realistic mix of
/// normal (dropped by tables 1–3, 5–7) and important/critical (routed) messages.
fn messages() -> Vec<Event> {
    let t = Timestamp::from_unix_secs(1_795_904_456);
    let kinds = [
        EventKind::NoDectDspChannel,
        EventKind::SystemRestarted,
        EventKind::TooMuchUserData,
        EventKind::MainsPowerFailure,
        EventKind::TooManyMessages,
        EventKind::InvalidLicenceRestrictedIn4h,
    ];
    (0..BATCH)
        .map(|i| {
            let kind = kinds[i % kinds.len()];
            Event::simple(kind, NodeId((i % 4) as u16 + 1), t).expect("date/time only")
        })
        .collect()
}

fn drive(engine: &mut Engine, msgs: &[Event], now: &mut Timestamp) {
    for m in msgs {
        *now = *now + Duration::from_millis(1);
        black_box(engine.raise(*now, m.clone()).ok());
    }
    while let Some(d) = engine.poll_delivery() {
        if d.needs_report {
            let _ = engine.report(*now, d.id, Outcome::Delivered);
        }
        black_box(d);
    }
    while engine.poll_event().is_some() {}
    // Keep the active set small: acknowledge what accumulated.
    let ids: Vec<_> = engine.active().iter().map(|e| e.id).collect();
    for id in ids {
        let _ = engine.acknowledge(id);
    }
}

fn bench(c: &mut Criterion) {
    let msgs = messages();
    let mut g = c.benchmark_group("events");
    g.throughput(Throughput::Elements(BATCH as u64));

    // First-start tables and bindings: system phones and the event log in service.
    let mut engine = Engine::new(EngineConfig::default()).expect("valid");
    let mut now = Timestamp::from_unix_secs(1_795_904_456);
    g.bench_function("raise_default_tables", |b| {
        b.iter(|| drive(&mut engine, &msgs, &mut now))
    });

    // Every destination in service (external batched, e-mail/SRM acknowledged, 5 SNMP targets).
    let dest = DestinationConfig {
        external_primary: true,
        local: true,
        snmp_enabled: true,
        snmp_targets: 5,
        email_enabled: true,
        email_targets: 5,
        srm_enabled: true,
        ..DestinationConfig::default()
    };
    let mut engine = Engine::new(EngineConfig {
        destinations: dest,
        ..EngineConfig::default()
    })
    .expect("valid");
    g.bench_function("raise_all_destinations", |b| {
        b.iter(|| drive(&mut engine, &msgs, &mut now))
    });

    // Filtering-dominated: every table advanced (20 in 672 h) so almost nothing is routed.
    let mut engine = Engine::new(EngineConfig::default()).expect("valid");
    let adv = Filter::Advanced(Advanced::new(20, 672).expect("in range"));
    for t in TableId::all() {
        for k in EventKind::ALL {
            engine.set_filter(t, k, adv);
        }
    }
    g.bench_function("raise_advanced_filters", |b| {
        b.iter(|| drive(&mut engine, &msgs, &mut now))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
