//! The pooled-licence API the AIN layer uses on the master (MV-17, MV-18, MV-25, MV-26).

mod common;

use common::*;
use pbxkit_licensing::ain::{Held, RemoteLeases};
use pbxkit_licensing::{
    ChannelKind, LicenceType, Licensing, MediaSwitch, NodeId, PoolKey, TerminalKind, Value,
};

fn master(extra: &[(LicenceType, Value)]) -> Licensing {
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&file(extra))).unwrap();
    drain(&mut l);
    l
}

#[test]
fn mv17_master_holds_satellite_grants_and_frees_them_when_the_node_is_lost() {
    let mut l = master(&[
        (LicenceType::MitelSipTerminals, Value::Count(3)),
        (LicenceType::SipAccessChannels, Value::Count(2)),
    ]);
    let mut remote = RemoteLeases::new();
    let (s1, s2) = (NodeId(1), NodeId(2));
    for id in 0..2 {
        let r = l.register_on(t0(), s1, TerminalKind::MitelSip).unwrap();
        remote.insert(s1, id, Held::Registration(r)).unwrap();
    }
    let c = l.acquire_channel(t0(), s1, ChannelKind::SipAccess).unwrap();
    remote.insert(s1, 10, Held::Channel(c)).unwrap();
    let c = l.acquire_channel(t0(), s2, ChannelKind::SipAccess).unwrap();
    remote.insert(s2, 10, Held::Channel(c)).unwrap();
    // The pool is AIN-wide: node 3 gets nothing more.
    assert!(
        l.acquire_channel(t0(), NodeId(3), ChannelKind::SipAccess)
            .is_err()
    );
    // A duplicate request id is refused and its grant handed back.
    let r = l.register_on(t0(), s1, TerminalKind::MitelSip).unwrap();
    let back = remote.insert(s1, 0, Held::Registration(r)).unwrap_err();
    drop(back);
    assert_eq!(remote.held_by(s1), 3);
    // Satellite 1 is lost: everything it held returns at once.
    assert_eq!(remote.release_node(s1), 3);
    let pools = l.pools();
    assert_eq!(
        pools.in_use(PoolKey::Licence(LicenceType::MitelSipTerminals)),
        0
    );
    assert_eq!(
        pools.in_use(PoolKey::Licence(LicenceType::SipAccessChannels)),
        1
    );
    assert!(remote.release(s2, 10));
    assert!(!remote.release(s2, 10));
    assert_eq!(
        pools.in_use(PoolKey::Licence(LicenceType::SipAccessChannels)),
        0
    );
}

#[test]
fn mv26_inter_node_connection_costs_two_voip_units_va_master_end_free() {
    let mut l = master(&[(LicenceType::VoipChannels, Value::Count(3))]);
    let hw = MediaSwitch::Hardware { g711: false };
    let key = PoolKey::Licence(LicenceType::VoipChannels);
    // Satellite ↔ satellite: 2 units.
    let a = l
        .acquire_inter_node(t0(), (NodeId(1), hw), (NodeId(2), hw))
        .unwrap();
    assert_eq!(l.pools().in_use(key), 2);
    // VA master ↔ satellite: the master's end is free, 1 unit.
    let b = l
        .acquire_inter_node(
            t0(),
            (NodeId::LOCAL, MediaSwitch::VirtualAppliance),
            (NodeId(1), hw),
        )
        .unwrap();
    assert_eq!(l.pools().in_use(key), 3);
    // No unit left: refused, and the first end's unit is not kept.
    assert!(
        l.acquire_inter_node(t0(), (NodeId(1), hw), (NodeId(2), hw))
            .is_err()
    );
    assert_eq!(l.pools().in_use(key), 3);
    drop(a);
    assert_eq!(l.pools().in_use(key), 1);
    drop(b);
}

#[test]
fn mv25_satellite_sees_master_licences_only_while_online() {
    let mut sat = boot(
        identity(
            pbxkit_licensing::Platform::Hardware,
            pbxkit_licensing::Role::Satellite(Default::default()),
            pbxkit_licensing::Binding::OwnEid,
        ),
        t0(),
    );
    sat.handle_master_licences(
        [(LicenceType::User, 20), (LicenceType::Dialers, 3)]
            .into_iter()
            .collect(),
    );
    assert!(
        sat.licence_view(t0())
            .iter()
            .any(|e| e.licence == LicenceType::Dialers)
    );
    sat.handle_master_lost(t0());
    assert!(sat.licence_view(t0()).is_empty(), "offline: none listed");
    assert_eq!(
        sat.units(t0(), LicenceType::User),
        20,
        "offline set still works"
    );
    assert_eq!(sat.units(t0(), LicenceType::Dialers), 0);
}
