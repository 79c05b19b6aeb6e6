//! Consumption at admission time (MV-13..20, MV-48, MV2-26).

mod common;

use common::*;
use pbxkit_licensing::{
    ChannelKind, Event, Grant, LicenceType, Licensing, LimitClass, MediaSwitch, NodeId,
    OaiConsumer, Package, PoolKey, Refusal, Session, TerminalKind, UccBonus, UserId, UserTerminals,
    Value, ucc_bonus,
};

fn licensed(extra: &[(LicenceType, Value)]) -> Licensing {
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&file(extra))).unwrap();
    drain(&mut l);
    l
}

fn limit(class: LimitClass, licensed: u32) -> Event {
    Event::LimitReached { class, licensed }
}

#[test]
fn mv13_terminal_licences_with_one_way_fallbacks() {
    use LicenceType as L;
    let mut l = licensed(&[
        (L::MitelSipTerminals, Value::Count(1)),
        (L::SipTerminals, Value::Count(1)),
        (L::Ip5300Phones, Value::Count(1)),
    ]);
    let now = t0();
    // Mitel SIP → Mitel SIP Terminals, then SIP Terminals, then 5300 IP.
    let a = l.may_register(now, TerminalKind::MitelSip).unwrap();
    let b = l.may_register(now, TerminalKind::MitelSip).unwrap();
    let c = l.may_register(now, TerminalKind::MitelSip).unwrap();
    assert_eq!(a.licences(), vec![L::MitelSipTerminals]);
    assert_eq!(b.licences(), vec![L::SipTerminals]);
    assert_eq!(c.licences(), vec![L::Ip5300Phones]);
    assert_eq!(a.grant(), Grant::Licensed);
    // All taken: refused, with the limit event (once).
    assert_eq!(
        l.may_register(now, TerminalKind::MitelSip).err(),
        Some(Refusal::LimitReached(LimitClass::MitelSip))
    );
    assert_eq!(drain(&mut l), vec![limit(LimitClass::MitelSip, 3)]);
    assert!(l.may_register(now, TerminalKind::MitelSip).is_err());
    assert!(drain(&mut l).is_empty(), "raised once per shortage");
    // Deregistering frees the licence: back within limit.
    drop(b);
    assert_eq!(
        drain(&mut l),
        vec![Event::WithinLimit {
            class: LimitClass::MitelSip
        }]
    );
    // 5300 IP → itself only; standard SIP → SIP Terminals only (never Mitel SIP's).
    let d = l.may_register(now, TerminalKind::StandardSip).unwrap();
    assert_eq!(d.licences(), vec![L::SipTerminals]);
    drop(a);
    assert_eq!(
        l.may_register(now, TerminalKind::StandardSip).err(),
        Some(Refusal::LimitReached(LimitClass::StandardSip)),
        "a free Mitel SIP Terminals licence cannot carry a standard SIP terminal"
    );
    assert_eq!(
        l.may_register(now, TerminalKind::Ip5300).err(),
        Some(Refusal::LimitReached(LimitClass::ProprietaryIp)),
        "5300 IP cannot use Mitel SIP Terminals"
    );
    let ev = drain(&mut l);
    assert!(ev.contains(&limit(LimitClass::StandardSip, 1)), "{ev:?}");
    assert!(ev.contains(&limit(LimitClass::ProprietaryIp, 1)), "{ev:?}");
    drop(c);
}

#[test]
fn mv13_video_needs_both_licences() {
    use LicenceType as L;
    let mut l = licensed(&[
        (L::SipTerminals, Value::Count(2)),
        (L::VideoTerminals, Value::Count(1)),
    ]);
    let v = l
        .may_register(t0(), TerminalKind::StandardSipVideo)
        .unwrap();
    assert_eq!(v.licences(), vec![L::SipTerminals, L::VideoTerminals]);
    assert!(
        l.may_register(t0(), TerminalKind::StandardSipVideo)
            .is_err()
    );
    // The failed video registration did not keep a SIP Terminals unit.
    let _plain = l.may_register(t0(), TerminalKind::StandardSip).unwrap();
    assert!(l.may_register(t0(), TerminalKind::StandardSip).is_err());
}

#[test]
fn mv13_mv7_first_terminal_without_licence_starts_a_test_licence() {
    let mut l = licensed(&[]);
    let r = l.may_register(t0(), TerminalKind::StandardSip).unwrap();
    assert_eq!(
        r.grant(),
        Grant::Test {
            expires: t0() + 60 * DAY
        }
    );
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::TestLicenceActivated {
        licence: LicenceType::SipTerminals,
        expires: t0() + 60 * DAY
    }));
    // After the test period: refused with an event.
    drop(r);
    run_quiet(&mut l, t0() + 60 * DAY);
    assert!(
        l.may_register(t0() + 60 * DAY, TerminalKind::StandardSip)
            .is_err()
    );
    assert!(drain(&mut l).contains(&limit(LimitClass::StandardSip, 0)));
    // Virtual terminals never need a licence.
    let v = l
        .may_register(t0() + 60 * DAY, TerminalKind::Virtual)
        .unwrap();
    assert_eq!(v.grant(), Grant::Free);
}

#[test]
fn mv14_mv2_16_user_licence_exemption_and_once_only_event() {
    let mut l = licensed(&[(LicenceType::User, Value::Count(1))]);
    let users = [
        UserTerminals::Real,
        UserTerminals::None,
        UserTerminals::VirtualOnly,
    ];
    assert!(l.check_users(&users), "only one user needs a licence");
    let two_real = [UserTerminals::Real, UserTerminals::Real];
    assert!(!l.check_users(&two_real));
    assert_eq!(
        drain(&mut l),
        vec![limit(LimitClass::Users, 1), Event::PersistentStateChanged]
    );
    assert!(!l.check_users(&two_real));
    assert!(drain(&mut l).is_empty(), "raised only once");
    assert_eq!(
        limit(LimitClass::Users, 1).catalogue_id(),
        Some("user_licence_missing")
    );
    l.load_file(
        t0(),
        &signed(&file(&[(LicenceType::User, Value::Count(2))])),
    )
    .unwrap();
    drain(&mut l);
    assert!(l.check_users(&two_real));
    assert!(drain(&mut l).contains(&Event::WithinLimit {
        class: LimitClass::Users
    }));
}

#[test]
fn mv15_ucc_bonus_worked_example() {
    // 2527–2538: Entry 12, Standard 22, Premium 14 → 14 AWV users and 3 VM channels.
    assert_eq!(
        ucc_bonus(12, 22, 14),
        UccBonus {
            awv_users: 14,
            vm_channels: 3
        }
    );
    assert_eq!(ucc_bonus(0, 0, 0).vm_channels, 0, "below 10 packages");
    assert_eq!(ucc_bonus(0, 0, 0).awv_users, 10);
    assert_eq!(ucc_bonus(10, 9, 4).awv_users, 10);
    assert_eq!(ucc_bonus(20, 0, 0).vm_channels, 1);
    assert_eq!(ucc_bonus(19, 0, 0).vm_channels, 0);
}

#[test]
fn mv15_packages_bind_terminals_to_one_user() {
    use LicenceType as L;
    let mut l = licensed(&[
        (L::BasicUser, Value::Count(1)),
        (L::EntryUccUser, Value::Count(12)),
        (L::StandardUccUser, Value::Count(22)),
        (L::PremiumUccUser, Value::Count(14)),
        (L::EnterpriseVoiceMail, Value::Switch),
        (L::AudioRecordPlayChannels, Value::Count(3)),
    ]);
    assert_eq!(l.user_capacity(), 1 + 12 + 22 + 14);
    assert_eq!(l.ucc_bonus(), ucc_bonus(12, 22, 14));
    // Audio channels: Enterprise VM's 2 + 3 Audio R&P + 3 UCC bonus.
    assert_eq!(l.audio_channels(t0()), 8);
    // Basic User: one terminal of any type, no per-type licence drawn.
    let basic = l.assign_package(t0(), UserId(1), Package::Basic).unwrap();
    let t1 = l
        .register_with_package(&basic, TerminalKind::Ip5300)
        .unwrap();
    assert!(t1.licences().is_empty());
    assert_eq!(
        l.register_with_package(&basic, TerminalKind::MitelSip)
            .err(),
        Some(Refusal::PackageFull)
    );
    // Only one Basic User package was bought.
    assert_eq!(
        l.assign_package(t0(), UserId(2), Package::Basic).err(),
        Some(Refusal::Unlicensed)
    );
    // UCC: 8 terminals of any type, video included.
    let ucc = l
        .assign_package(t0(), UserId(3), Package::PremiumUcc)
        .unwrap();
    let mut regs = Vec::new();
    for k in [
        TerminalKind::MitelSip,
        TerminalKind::StandardSipVideo,
        TerminalKind::BluStarVideo,
        TerminalKind::Ip5300,
        TerminalKind::Softphone2380,
        TerminalKind::MitelSip,
        TerminalKind::MitelSip,
        TerminalKind::StandardSip,
    ] {
        regs.push(l.register_with_package(&ucc, k).unwrap());
    }
    assert_eq!(
        l.register_with_package(&ucc, TerminalKind::MitelSip).err(),
        Some(Refusal::PackageFull)
    );
    regs.pop();
    assert!(
        l.register_with_package(&ucc, TerminalKind::MitelSip)
            .is_ok()
    );
}

#[test]
fn mv16_dependent_licence_inert_without_its_prerequisite() {
    // On a satellite the master's view is taken as is; a Video Terminals count without SIP
    // Terminals gives no video (MV-16), as Audio R&P without Enterprise VM gives no channel.
    let mut l = boot(
        identity(
            pbxkit_licensing::Platform::Hardware,
            pbxkit_licensing::Role::Satellite(Default::default()),
            pbxkit_licensing::Binding::OwnEid,
        ),
        t0(),
    );
    l.handle_master_licences(
        [
            (LicenceType::VideoTerminals, 5),
            (LicenceType::AudioRecordPlayChannels, 4),
            (LicenceType::BluStarVideoOptions, 3),
        ]
        .into_iter()
        .collect(),
    );
    assert_eq!(l.units(t0(), LicenceType::VideoTerminals), 0);
    assert_eq!(l.units(t0(), LicenceType::AudioRecordPlayChannels), 0);
    assert_eq!(l.units(t0(), LicenceType::BluStarVideoOptions), 0);
    assert_eq!(l.audio_channels(t0()), 0);
}

#[test]
fn mv17_channel_licences_are_one_ain_wide_pool() {
    let mut l = licensed(&[(LicenceType::SipAccessChannels, Value::Count(4))]);
    let now = t0();
    let mut held = Vec::new();
    for node in [1, 1, 2, 3] {
        held.push(
            l.acquire_channel(now, NodeId(node), ChannelKind::SipAccess)
                .unwrap(),
        );
    }
    // Not a per-node split: node 4 has used nothing, yet the 5th channel is refused.
    assert!(
        l.acquire_channel(now, NodeId(4), ChannelKind::SipAccess)
            .is_err()
    );
    assert_eq!(
        l.pools()
            .in_use(PoolKey::Licence(LicenceType::SipAccessChannels)),
        4
    );
    drop(held.remove(0));
    assert!(
        l.acquire_channel(now, NodeId(4), ChannelKind::SipAccess)
            .is_ok()
    );
}

#[test]
fn mv17_audio_channels_pooled_across_nodes() {
    let mut l = licensed(&[(LicenceType::EnterpriseVoiceMail, Value::Switch)]);
    let a = l
        .acquire_channel(t0(), NodeId(1), ChannelKind::Audio)
        .unwrap();
    let _b = l
        .acquire_channel(t0(), NodeId(2), ChannelKind::Audio)
        .unwrap();
    assert!(
        l.acquire_channel(t0(), NodeId(3), ChannelKind::Audio)
            .is_err()
    );
    drop(a);
    assert!(
        l.acquire_channel(t0(), NodeId(3), ChannelKind::Audio)
            .is_ok()
    );
}

#[test]
fn mv18_secure_voip_and_qsig_per_node() {
    let mut l = licensed(&[
        (LicenceType::SecureVoip, Value::Switch),
        (LicenceType::QsigChannels, Value::Count(4)),
    ]);
    let now = t0();
    assert!(l.feature_enabled_on(now, NodeId::LOCAL, LicenceType::SecureVoip));
    assert!(
        !l.feature_enabled_on(now, NodeId(1), LicenceType::SecureVoip),
        "the master's licence does not cover a satellite"
    );
    l.set_node_licences(NodeId(1), &[(LicenceType::SecureVoip, 1)]);
    assert!(l.feature_enabled_on(now, NodeId(1), LicenceType::SecureVoip));
    // Master-placed licences, by contrast, cover every node.
    assert_eq!(
        l.feature_enabled_on(now, NodeId(7), LicenceType::BaseVirtualAppliance),
        l.feature_enabled(now, LicenceType::BaseVirtualAppliance)
    );
    // QSIG: the master's 4 channels are the master's; node 2 has none.
    let _q: Vec<_> = (0..4)
        .map(|_| {
            l.acquire_channel(now, NodeId::LOCAL, ChannelKind::Qsig)
                .unwrap()
        })
        .collect();
    assert!(
        l.acquire_channel(now, NodeId::LOCAL, ChannelKind::Qsig)
            .is_err()
    );
    assert!(
        l.acquire_channel(now, NodeId(2), ChannelKind::Qsig)
            .is_err()
    );
    // MV2-26: QSIG limit events have no counterpart and repeat.
    let ev = drain(&mut l);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(
                e,
                Event::LimitReached {
                    class: LimitClass::Qsig,
                    ..
                }
            ))
            .count(),
        2
    );
    assert_eq!(
        limit(LimitClass::Qsig, 0).catalogue_id(),
        Some("qsig_licence_limit_reached")
    );
}

#[test]
fn mv19_ten_free_b_channels_per_pri_not_transferable() {
    let mut l = licensed(&[(LicenceType::PriBChannels, Value::Count(2))]);
    let now = t0();
    let node = NodeId(1);
    let mut held = Vec::new();
    for _ in 0..10 {
        let g = l
            .acquire_channel(now, node, ChannelKind::PriB { interface: 0 })
            .unwrap();
        assert_eq!(g.pool(), Some(PoolKey::FreePri { node, interface: 0 }));
        held.push(g);
    }
    for _ in 0..2 {
        let g = l
            .acquire_channel(now, node, ChannelKind::PriB { interface: 0 })
            .unwrap();
        assert_eq!(g.pool(), Some(PoolKey::Licence(LicenceType::PriBChannels)));
        held.push(g);
    }
    assert!(
        l.acquire_channel(now, node, ChannelKind::PriB { interface: 0 })
            .is_err(),
        "interface 1's free channels are not transferable"
    );
    let g = l
        .acquire_channel(now, node, ChannelKind::PriB { interface: 1 })
        .unwrap();
    assert_eq!(g.pool(), Some(PoolKey::FreePri { node, interface: 1 }));
}

#[test]
fn mv19_free_g711_channels_and_unlicensed_va_mms() {
    let mut l = licensed(&[(LicenceType::VoipChannels, Value::Count(1))]);
    let now = t0();
    // The VA's MMS channels need no licence, however many.
    let mms: Vec<_> = (0..300)
        .map(|_| {
            l.acquire_channel(
                now,
                NodeId::LOCAL,
                ChannelKind::Voip(MediaSwitch::VirtualAppliance),
            )
            .unwrap()
        })
        .collect();
    assert!(mms.iter().all(|g| g.pool().is_none()));
    // A hardware node in G.711 mode: 2 free, then the licensed pool.
    let g711 = ChannelKind::Voip(MediaSwitch::Hardware { g711: true });
    let a = l.acquire_channel(now, NodeId(1), g711).unwrap();
    let b = l.acquire_channel(now, NodeId(1), g711).unwrap();
    let c = l.acquire_channel(now, NodeId(1), g711).unwrap();
    assert_eq!(a.pool(), Some(PoolKey::FreeG711(NodeId(1))));
    assert_eq!(b.pool(), Some(PoolKey::FreeG711(NodeId(1))));
    assert_eq!(c.pool(), Some(PoolKey::Licence(LicenceType::VoipChannels)));
    // Non-G.711 mode has no free channels; the pool is used up.
    let other = ChannelKind::Voip(MediaSwitch::Hardware { g711: false });
    assert!(l.acquire_channel(now, NodeId(2), other).is_err());
    let ev = drain(&mut l);
    assert_eq!(ev, vec![limit(LimitClass::VoipChannels, 1)]);
    assert_eq!(
        ev[0].catalogue_id(),
        Some("voip_channel_licences_insufficient")
    );
}

#[test]
fn mv20_oai_is_opencount_or_one_third_party_app() {
    let mut l = licensed(&[
        (LicenceType::OpenCountBasic, Value::Switch),
        (LicenceType::OaiInterface, Value::Switch),
    ]);
    l.bind_oai(t0(), OaiConsumer::OpenCount).unwrap();
    assert_eq!(
        l.bind_oai(t0(), OaiConsumer::ThirdParty(1)),
        Err(Refusal::OaiBusy(OaiConsumer::OpenCount))
    );
    l.unbind_oai();
    l.bind_oai(t0(), OaiConsumer::ThirdParty(1)).unwrap();
    assert_eq!(
        l.bind_oai(t0(), OaiConsumer::ThirdParty(2)),
        Err(Refusal::OaiBusy(OaiConsumer::ThirdParty(1)))
    );
    assert_eq!(
        l.bind_oai(t0(), OaiConsumer::OpenCount),
        Err(Refusal::OaiBusy(OaiConsumer::ThirdParty(1)))
    );
}

#[test]
fn mv48_opencount_users_warning() {
    let mut l = licensed(&[
        (LicenceType::OpenCountBasic, Value::Switch),
        (LicenceType::OpenCountUsers, Value::Count(20)),
    ]);
    assert!(l.check_opencount_users(t0(), 20));
    assert!(!l.check_opencount_users(t0(), 21));
    assert_eq!(
        drain(&mut l),
        vec![Event::OpenCountUsersUnlicensed {
            monitored: 21,
            licensed: 20
        }]
    );
}

#[test]
fn mv2_26_mobile_external_all_blocked_while_short() {
    let mut l = licensed(&[(LicenceType::MobileExternalPhones, Value::Count(2))]);
    assert!(l.check_mobile_external(t0(), 2));
    assert!(!l.check_mobile_external(t0(), 3));
    assert_eq!(drain(&mut l), vec![limit(LimitClass::MobileExternal, 2)]);
    assert!(l.check_mobile_external(t0(), 2));
    assert_eq!(
        drain(&mut l),
        vec![Event::WithinLimit {
            class: LimitClass::MobileExternal
        }]
    );
}

#[test]
fn mv2_26_pms_rooms_licensed_vs_configured() {
    let mut l = licensed(&[
        (LicenceType::PmsInterface, Value::Switch),
        (LicenceType::PmsRooms, Value::Count(20)),
    ]);
    assert!(l.check_pms(t0(), 20));
    assert!(!l.check_pms(t0(), 21));
    assert_eq!(drain(&mut l), vec![limit(LimitClass::Pms, 20)]);
    assert!(l.check_pms(t0(), 15));
    assert!(drain(&mut l).contains(&Event::WithinLimit {
        class: LimitClass::Pms
    }));
}

#[test]
fn mv2_26_sessions_dialers_blustar_dual_homing_limit_pairs() {
    use LicenceType as L;
    let mut l = licensed(&[
        (L::CstaSessions, Value::Count(1)),
        (L::PresenceSync, Value::Count(1)),
        (L::Dialers, Value::Count(1)),
        (L::BluStarSoftphones, Value::Count(1)),
        (L::DualHoming, Value::Count(1)),
    ]);
    let now = t0();
    for (kind, class) in [
        (Session::Csta, LimitClass::CstaSessions),
        (Session::SimpleMsrp, LimitClass::SimpleMsrp),
        (Session::Dialer, LimitClass::Dialer),
    ] {
        let s = l.open_session(now, kind).unwrap();
        assert_eq!(
            l.open_session(now, kind).err(),
            Some(Refusal::LimitReached(class))
        );
        assert_eq!(drain(&mut l), vec![limit(class, 1)]);
        drop(s);
        assert_eq!(drain(&mut l), vec![Event::WithinLimit { class }]);
    }
    for (kind, class) in [
        (TerminalKind::BluStar, LimitClass::BluStar),
        (TerminalKind::DualHoming, LimitClass::DualHoming),
    ] {
        let r = l.may_register(now, kind).unwrap();
        assert!(l.may_register(now, kind).is_err());
        assert_eq!(drain(&mut l), vec![limit(class, 1)]);
        drop(r);
        assert_eq!(drain(&mut l), vec![Event::WithinLimit { class }]);
    }
}

#[test]
fn mv2_26_micollab_terminal_limits_with_reason() {
    use pbxkit_licensing::MiCollabLimit;
    let mut l = licensed(&[]);
    let class = LimitClass::MiCollab(MiCollabLimit::TerminalsPerUser);
    assert!(l.check_micollab(MiCollabLimit::TerminalsPerUser, 16, 16));
    assert!(!l.check_micollab(MiCollabLimit::TerminalsPerUser, 17, 16));
    assert_eq!(drain(&mut l), vec![limit(class, 16)]);
    assert_eq!(MiCollabLimit::TerminalsPerUser.code(), 1);
    assert!(l.check_micollab(MiCollabLimit::TerminalsPerUser, 16, 16));
    assert_eq!(drain(&mut l), vec![Event::WithinLimit { class }]);
    assert_eq!(
        Event::WithinLimit { class }.catalogue_id(),
        Some("micollab_within_terminal_limit")
    );
}

#[test]
fn mv13_refusals_without_a_catalogue_entry_still_raise_an_event() {
    let mut l = licensed(&[(LicenceType::MmcExtensions, Value::Count(1))]);
    let _m = l.may_register(t0(), TerminalKind::Mmc).unwrap();
    assert_eq!(
        l.may_register(t0(), TerminalKind::Mmc).err(),
        Some(Refusal::Unlicensed)
    );
    assert_eq!(
        drain(&mut l),
        vec![Event::LicenceMissing {
            licence: LicenceType::MmcExtensions
        }]
    );
    let _s: Vec<_> = (0..10)
        .map(|_| {
            l.acquire_channel(t0(), NodeId(1), ChannelKind::PriB { interface: 0 })
                .unwrap()
        })
        .collect();
    assert!(
        l.acquire_channel(t0(), NodeId(1), ChannelKind::PriB { interface: 0 })
            .is_err()
    );
    assert_eq!(
        drain(&mut l),
        vec![Event::LicenceMissing {
            licence: LicenceType::PriBChannels
        }]
    );
}
