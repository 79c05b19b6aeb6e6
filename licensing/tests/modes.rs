//! Modes and timers on a virtual wall clock, with the seed's exact durations
//! (MV-2..4, MV-7..12, MV2-18..25, MV2-27, MV-21).

mod common;

use common::*;
use pbxkit_licensing::{
    Activation, Behaviour, Binding, Date, Event, Grant, LicenceType, LoadError, Mode,
    PersistentState, Platform, Refusal, Release, RestrictedCause, Role, SalesChannel,
    SatelliteRoles, ServerVerdict, Swa, SwaSource, SwaValidity, Value, VerifyError, ViewValue,
};

fn restricted(cause: RestrictedCause) -> Event {
    Event::RestrictedModeActivated {
        cause,
        virtual_appliance: true,
    }
}

#[test]
fn mv3_mv2_19_restricted_exactly_4h_after_boot_without_sr() {
    let mut l = boot(va(), t0());
    // MV2-19: the warning at boot.
    assert_eq!(drain(&mut l), vec![Event::InvalidLicenceRestrictedIn4h]);
    assert_eq!(
        Event::InvalidLicenceRestrictedIn4h.catalogue_id(),
        Some("invalid_licence_restricted_in_4h")
    );
    let ev = run_quiet(&mut l, t0() + 4 * HOUR - SEC);
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(l.mode(), Mode::Normal);
    let ev = run_quiet(&mut l, t0() + 4 * HOUR);
    assert_eq!(ev, vec![restricted(RestrictedCause::NoValidLicence)]);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
}

#[test]
fn mv3_va_needs_base_va_as_well_as_sr() {
    let mut f = file(&[]);
    f.licences.remove(&LicenceType::BaseVirtualAppliance);
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&f)).unwrap();
    run_quiet(&mut l, t0() + 4 * HOUR);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
    // A hardware master needs only SR.
    let mut hw = boot(
        identity(Platform::Hardware, Role::Master, Binding::OwnEid),
        t0(),
    );
    hw.load_file(t0(), &signed(&f)).unwrap();
    run_quiet(&mut hw, t0() + 5 * HOUR);
    assert_eq!(hw.mode(), Mode::Normal);
}

#[test]
fn mv3_fully_licensed_never_restricted() {
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&file(&[]))).unwrap();
    run_quiet(&mut l, t0() + 30 * DAY);
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv2_valid_sr_file_ends_restricted_mode_at_once_without_restart() {
    let mut l = boot(va(), t0());
    run_quiet(&mut l, t0() + 5 * HOUR);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
    l.load_file(t0() + 5 * HOUR, &signed(&file(&[]))).unwrap();
    assert_eq!(l.mode(), Mode::Normal);
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::RestrictedModeDeactivated), "{ev:?}");
    assert_eq!(
        Event::RestrictedModeDeactivated.catalogue_id(),
        Some("restricted_mode_deactivated")
    );
}

#[test]
fn mv2_new_file_replaces_the_set() {
    let mut l = boot(va(), t0());
    l.load_file(
        t0(),
        &signed(&file(&[(LicenceType::SipTerminals, Value::Count(20))])),
    )
    .unwrap();
    assert_eq!(l.units(t0(), LicenceType::SipTerminals), 20);
    l.load_file(
        t0(),
        &signed(&file(&[(LicenceType::User, Value::Count(5))])),
    )
    .unwrap();
    assert_eq!(l.units(t0(), LicenceType::SipTerminals), 0);
    assert_eq!(l.units(t0(), LicenceType::User), 5);
    // A rejected file leaves the previous set in force.
    let mut bad = file(&[]);
    bad.eid = pbxkit_licensing::Eid::parse("VA-9999").unwrap();
    assert!(matches!(
        l.load_file(t0(), &signed(&bad)),
        Err(LoadError::Verify(VerifyError::WrongEid { .. }))
    ));
    assert_eq!(l.units(t0(), LicenceType::User), 5);
}

#[test]
fn mv3_mv2_19_software_load_restarts_the_4h_check() {
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&file(&[]))).unwrap();
    drain(&mut l);
    let load = t0() + DAY;
    l.handle_software_load(load, Release::new(7, 0));
    assert_eq!(drain(&mut l), vec![Event::InvalidLicenceRestrictedIn4h]);
    run_quiet(&mut l, load + 4 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    run_quiet(&mut l, load + 4 * HOUR);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
    // A 6.1 SR licence would not cover 7.0; a 7.0 one does.
    let mut f = file(&[]);
    f.licences.insert(
        LicenceType::SoftwareRelease,
        Value::Release(Release::new(7, 0)),
    );
    l.load_file(load + 5 * HOUR, &signed(&f)).unwrap();
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv4_restricted_mode_gates_exactly_ten_behaviours() {
    let mut l = boot(va(), t0());
    for b in Behaviour::GATED {
        assert!(l.behaviour_allowed(b), "{b:?} before restriction");
    }
    run_quiet(&mut l, t0() + 4 * HOUR);
    assert_eq!(Behaviour::GATED.len(), 10);
    for b in Behaviour::GATED {
        assert!(!l.behaviour_allowed(b), "{b:?} gated");
    }
    assert!(l.behaviour_allowed(Behaviour::RemoteMaintenanceFeatureCode));
    assert!(l.behaviour_allowed(Behaviour::BasicCall));
}

#[test]
fn mv7_mv2_18_test_licence_60_days_once_per_feature_surviving_restart() {
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&file(&[]))).unwrap();
    drain(&mut l);
    let first = t0() + HOUR;
    assert!(!l.feature_enabled(first, LicenceType::AutoAttendant));
    let expires = first + 60 * DAY;
    assert_eq!(
        l.use_feature(first, LicenceType::AutoAttendant),
        Ok(Grant::Test { expires })
    );
    assert_eq!(
        drain(&mut l),
        vec![
            Event::TestLicenceActivated {
                licence: LicenceType::AutoAttendant,
                expires
            },
            Event::PersistentStateChanged
        ]
    );
    // MV2-18: listed in the licence view with its expiry.
    let view = l.licence_view(first);
    let entry = view
        .iter()
        .find(|e| e.licence == LicenceType::AutoAttendant)
        .unwrap();
    assert_eq!(entry.test_expires, Some(expires));
    assert_eq!(entry.value, ViewValue::Test { running: true });
    assert!(l.feature_enabled(expires - SEC, LicenceType::AutoAttendant));

    // Restart half-way through: the activation survives through the persisted state.
    let saved = l.persistent_state().to_toml();
    let state = PersistentState::from_toml(&saved).unwrap();
    let mut l = boot_with(va(), state, first + 30 * DAY);
    l.load_file(first + 30 * DAY, &signed(&file(&[]))).unwrap();
    drain(&mut l);
    assert!(l.feature_enabled(first + 30 * DAY, LicenceType::AutoAttendant));
    let ev = run_quiet(&mut l, expires - SEC);
    assert!(!ev.contains(&Event::TestLicenceExpired {
        licence: LicenceType::AutoAttendant
    }));
    let ev = run_quiet(&mut l, expires);
    assert_eq!(
        ev,
        vec![Event::TestLicenceExpired {
            licence: LicenceType::AutoAttendant
        }]
    );
    assert_eq!(
        Event::TestLicenceExpired {
            licence: LicenceType::AutoAttendant
        }
        .catalogue_id(),
        Some("test_licence_expired")
    );
    assert!(!l.feature_enabled(expires, LicenceType::AutoAttendant));
    // Never again for the same feature, even after another restart.
    assert_eq!(
        l.use_feature(expires, LicenceType::AutoAttendant),
        Err(Refusal::TestLicenceUsed)
    );
    let state = PersistentState::from_toml(&l.persistent_state().to_toml()).unwrap();
    let mut l = boot_with(va(), state, expires + DAY);
    assert_eq!(
        l.use_feature(expires + DAY, LicenceType::AutoAttendant),
        Err(Refusal::TestLicenceUsed)
    );
    // Another eligible feature still has its own test licence.
    assert!(matches!(
        l.use_feature(expires + DAY, LicenceType::ConferenceBridge),
        Ok(Grant::Test { .. })
    ));
}

#[test]
fn mv7_no_test_licence_for_ineligible_types_or_when_licensed() {
    let mut l = boot(va(), t0());
    l.load_file(
        t0(),
        &signed(&file(&[(LicenceType::ConferenceBridge, Value::Switch)])),
    )
    .unwrap();
    // Silent Intrusion has no test licence (Tab. 15).
    assert_eq!(
        l.use_feature(t0(), LicenceType::SilentIntrusion),
        Err(Refusal::Unlicensed)
    );
    assert_eq!(
        l.use_feature(t0(), LicenceType::ConferenceBridge),
        Ok(Grant::Licensed)
    );
    assert!(l.persistent_state().test_activations.is_empty());
    // MV-16: Number in Queue needs Auto Attendant, even for a test licence.
    assert_eq!(
        l.use_feature(t0(), LicenceType::NumberInQueue),
        Err(Refusal::MissingDependency(LicenceType::AutoAttendant))
    );
}

fn satellite(roles: SatelliteRoles) -> pbxkit_licensing::Identity {
    identity(Platform::Hardware, Role::Satellite(roles), Binding::OwnEid)
}

fn master_counts() -> std::collections::BTreeMap<LicenceType, u32> {
    [
        (LicenceType::User, 50),
        (LicenceType::SipTerminals, 10),
        (LicenceType::Dialers, 5),
        (LicenceType::SipAccessChannels, 8),
    ]
    .into_iter()
    .collect()
}

fn satellite_with_upgrade(release: Option<Release>) -> pbxkit_licensing::Licensing {
    let mut l = boot(satellite(SatelliteRoles::default()), t0());
    if let Some(r) = release {
        let mut f = file(&[]);
        f.licences.remove(&LicenceType::BaseVirtualAppliance);
        f.licences
            .insert(LicenceType::SoftwareRelease, Value::Release(r));
        l.load_file(t0(), &signed(&f)).unwrap();
    }
    l.handle_master_licences(master_counts());
    drain(&mut l);
    l
}

#[test]
fn mv8_mv2_24_offline_licences_for_at_most_36h_hidden_from_view() {
    let mut l = satellite_with_upgrade(Some(Release::new(6, 0)));
    assert_eq!(l.units(t0(), LicenceType::SipTerminals), 10);
    let lost = t0() + HOUR;
    l.handle_master_lost(lost);
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::OfflineLicencesGranted {
        until: lost + 36 * HOUR
    }));
    // Offline-✓ types stay available, others do not.
    assert_eq!(l.units(lost, LicenceType::SipTerminals), 10);
    assert_eq!(l.units(lost, LicenceType::User), 50);
    assert_eq!(l.units(lost, LicenceType::Dialers), 0);
    // Not listed in the licence view.
    assert!(
        l.licence_view(lost)
            .iter()
            .all(|e| e.licence != LicenceType::SipTerminals)
    );
    let ev = run_quiet(&mut l, lost + 36 * HOUR - SEC);
    assert!(!ev.contains(&Event::OfflineLicencesExpired), "{ev:?}");
    let ev = run_quiet(&mut l, lost + 36 * HOUR);
    assert_eq!(ev, vec![Event::OfflineLicencesExpired]);
    assert_eq!(
        Event::OfflineLicencesExpired.catalogue_id(),
        Some("offline_licences_expired")
    );
    assert_eq!(l.units(lost + 36 * HOUR, LicenceType::SipTerminals), 0);
}

#[test]
fn mv8_offline_licences_revoked_when_master_returns() {
    let mut l = satellite_with_upgrade(Some(Release::new(6, 0)));
    l.handle_master_lost(t0());
    drain(&mut l);
    l.handle_master_restored(t0() + 10 * HOUR);
    assert!(drain(&mut l).contains(&Event::OfflineLicencesRevoked));
    assert!(!l.offline_licences_active());
    // Online again: the master's licences apply (and are listed).
    assert_eq!(l.units(t0() + 10 * HOUR, LicenceType::Dialers), 5);
    let ev = run_quiet(&mut l, t0() + 40 * HOUR);
    assert!(!ev.contains(&Event::OfflineLicencesExpired));
}

#[test]
fn mv8_offline_clock_survives_a_restart() {
    let mut l = satellite_with_upgrade(Some(Release::new(6, 0)));
    l.handle_master_lost(t0());
    let state = PersistentState::from_toml(&l.persistent_state().to_toml()).unwrap();
    let mut l = boot_with(
        satellite(SatelliteRoles::default()),
        state,
        t0() + 20 * HOUR,
    );
    l.handle_master_licences(master_counts());
    assert!(l.offline_licences_active());
    let ev = run_quiet(&mut l, t0() + 36 * HOUR);
    assert!(ev.contains(&Event::OfflineLicencesExpired), "{ev:?}");
}

#[test]
fn mv9_satellite_online_without_upgrade_licence_restarts_every_4h() {
    let mut l = satellite_with_upgrade(None);
    let ev = run_quiet(&mut l, t0() + 4 * HOUR - SEC);
    assert!(!ev.contains(&Event::SatelliteRestartRequired));
    let ev = run_quiet(&mut l, t0() + 12 * HOUR);
    let restarts = ev
        .iter()
        .filter(|e| **e == Event::SatelliteRestartRequired)
        .count();
    assert_eq!(restarts, 3, "at 4 h, 8 h and 12 h");
    assert_eq!(l.mode(), Mode::Normal);
    // With any upgrade licence (even an old one): no restarts.
    let mut l = satellite_with_upgrade(Some(Release::new(5, 0)));
    let ev = run_quiet(&mut l, t0() + 12 * HOUR);
    assert!(!ev.contains(&Event::SatelliteRestartRequired));
}

#[test]
fn mv9_a5_satellite_offline_restricted_after_4h_without_upgrade_licence() {
    let mut l = satellite_with_upgrade(None);
    l.handle_master_lost(t0());
    run_until(&mut l, t0() + 4 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    run_until(&mut l, t0() + 4 * HOUR);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
    // Hardware satellites raise the non-VA event.
    l.handle_master_restored(t0() + 5 * HOUR);
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv9_satellite_offline_with_non_matching_upgrade_licence_36h() {
    let mut l = satellite_with_upgrade(Some(Release::new(5, 0)));
    l.handle_master_lost(t0());
    let ev = run_until(&mut l, t0() + 36 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal, "{ev:?}");
    let ev = run_until(&mut l, t0() + 36 * HOUR);
    assert!(ev.contains(&Event::RestrictedModeActivated {
        cause: RestrictedCause::NoValidLicence,
        virtual_appliance: false
    }));
    assert_eq!(
        Event::RestrictedModeActivated {
            cause: RestrictedCause::NoValidLicence,
            virtual_appliance: false
        }
        .catalogue_id(),
        Some("restricted_mode_activated_non_va")
    );
    // Matching upgrade licence: never restricted offline.
    let mut l = satellite_with_upgrade(Some(Release::new(6, 0)));
    l.handle_master_lost(t0());
    run_until(&mut l, t0() + 10 * DAY);
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv9_roles_needing_own_sr_follow_the_4h_rule() {
    for roles in [
        SatelliteRoles {
            permanent_offline: true,
            ..SatelliteRoles::default()
        },
        SatelliteRoles {
            secure_voip: true,
            ..SatelliteRoles::default()
        },
        SatelliteRoles {
            backup_server: true,
            ..SatelliteRoles::default()
        },
    ] {
        assert!(roles.requires_own_release());
        let mut l = boot(satellite(roles), t0());
        assert_eq!(drain(&mut l), vec![Event::InvalidLicenceRestrictedIn4h]);
        run_until(&mut l, t0() + 4 * HOUR);
        assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
    }
    assert!(!SatelliteRoles::default().requires_own_release());
}

fn licensed_va() -> pbxkit_licensing::Licensing {
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&file(&[]))).unwrap();
    drain(&mut l);
    l
}

#[test]
fn mv10_mv2_20_va_eid_mode_contacts_server_and_shows_online_verification() {
    let mut l = licensed_va();
    assert!(l.online_verification());
    assert_eq!(l.poll_timeout(), Some(t0()));
    l.handle_timeout(t0());
    assert_eq!(drain(&mut l), vec![Event::LicenceServerContactDue]);
    l.handle_server_response(t0(), ServerVerdict::Valid);
    assert_eq!(l.poll_timeout(), Some(t0() + HOUR));
}

#[test]
fn mv10_mv2_22_restricted_72h_after_losing_the_server() {
    let mut l = licensed_va();
    let lost = t0() + HOUR;
    l.handle_server_unreachable(lost);
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::LicenceServerUnreachable {
        hours_until_restricted: 72
    }));
    assert_eq!(
        Event::LicenceServerUnreachable {
            hours_until_restricted: 72
        }
        .catalogue_id(),
        Some("sls_connection_failed")
    );
    run_quiet(&mut l, lost + 72 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    let ev = run_quiet(&mut l, lost + 72 * HOUR);
    assert_eq!(
        ev,
        vec![restricted(RestrictedCause::LicenceServerUnreachable)]
    );
    // Contact returns: restricted mode for this cause ends.
    l.handle_server_response(lost + 80 * HOUR, ServerVerdict::Valid);
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::LicenceServerRestored));
    assert!(ev.contains(&Event::RestrictedModeDeactivated));
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv10_a4_reconnection_does_not_reset_the_countdown() {
    let mut l = licensed_va();
    l.handle_server_unreachable(t0());
    l.handle_server_response(t0() + 10 * HOUR, ServerVerdict::Valid);
    // A second loss at 20 h does not get a fresh 72 h: the first countdown still runs.
    l.handle_server_unreachable(t0() + 20 * HOUR);
    let ev = drain(&mut l);
    assert!(
        ev.contains(&Event::LicenceServerUnreachable {
            hours_until_restricted: 52
        }),
        "{ev:?}"
    );
    run_quiet(&mut l, t0() + 72 * HOUR);
    assert_eq!(
        l.mode(),
        Mode::Restricted(RestrictedCause::LicenceServerUnreachable)
    );
}

#[test]
fn mv10_a4_countdown_reevaluated_at_expiry() {
    let mut l = licensed_va();
    l.handle_server_unreachable(t0());
    l.handle_server_response(t0() + 10 * HOUR, ServerVerdict::Valid);
    // Connected when the 72 h run out: no restriction, the countdown ends.
    run_quiet(&mut l, t0() + 72 * HOUR);
    assert_eq!(l.mode(), Mode::Normal);
    assert_eq!(l.persistent_state().server_countdown_start, None);
    // A later loss starts a new 72 h countdown.
    l.handle_server_unreachable(t0() + 80 * HOUR);
    run_quiet(&mut l, t0() + 152 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    run_quiet(&mut l, t0() + 152 * HOUR);
    assert_eq!(
        l.mode(),
        Mode::Restricted(RestrictedCause::LicenceServerUnreachable)
    );
}

#[test]
fn mv10_countdown_start_survives_restart() {
    let mut l = licensed_va();
    l.handle_server_unreachable(t0());
    assert!(drain(&mut l).contains(&Event::PersistentStateChanged));
    let state = PersistentState::from_toml(&l.persistent_state().to_toml()).unwrap();
    let later = t0() + 50 * HOUR;
    let mut l = boot_with(va(), state, later)
        .with_file(later, &signed(&file(&[])))
        .unwrap();
    l.handle_server_unreachable(later);
    assert!(drain(&mut l).contains(&Event::LicenceServerUnreachable {
        hours_until_restricted: 22
    }));
    run_quiet(&mut l, t0() + 72 * HOUR);
    assert_eq!(
        l.mode(),
        Mode::Restricted(RestrictedCause::LicenceServerUnreachable)
    );
}

#[test]
fn mv10_mv2_22_clone_suspicion_confirmation_and_quiet_period() {
    let mut l = licensed_va();
    l.handle_server_response(t0(), ServerVerdict::CloneSuspected);
    assert!(drain(&mut l).contains(&Event::PotentialCloneDetected));
    assert_eq!(
        Event::PotentialCloneDetected.catalogue_id(),
        Some("potential_clone_detected")
    );
    // Suspicion repeated at 10 h: the 24 h quiet period restarts from there.
    l.handle_server_response(t0() + 10 * HOUR, ServerVerdict::CloneSuspected);
    assert!(!drain(&mut l).contains(&Event::PotentialCloneDetected));
    let ev = run_quiet(&mut l, t0() + 34 * HOUR - SEC);
    assert!(!ev.contains(&Event::NoOtherCloneDetected));
    let ev = run_quiet(&mut l, t0() + 34 * HOUR);
    assert_eq!(ev, vec![Event::NoOtherCloneDetected]);
    assert_eq!(l.mode(), Mode::Normal);
    // A confirmed clone means restricted mode (cause 3), lifted by a clean verdict.
    l.handle_server_response(t0() + 40 * HOUR, ServerVerdict::CloneConfirmed);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::CloneConfirmed));
    assert!(drain(&mut l).contains(&restricted(RestrictedCause::CloneConfirmed)));
    l.handle_server_response(t0() + 41 * HOUR, ServerVerdict::Valid);
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv2_20_mv2_21_cause_codes_mode_mismatch_and_support_mode() {
    let codes: Vec<u8> = [
        RestrictedCause::NoValidLicence,
        RestrictedCause::GatewaySatelliteLost,
        RestrictedCause::LicenceServerUnreachable,
        RestrictedCause::CloneConfirmed,
        RestrictedCause::VerificationModeMismatch,
        RestrictedCause::SupportMode,
    ]
    .iter()
    .map(|c| c.code())
    .collect();
    assert_eq!(codes, vec![0, 1, 2, 3, 4, 5]);
    let mut l = licensed_va();
    l.handle_server_response(t0(), ServerVerdict::ModeMismatch);
    assert_eq!(
        l.mode(),
        Mode::Restricted(RestrictedCause::VerificationModeMismatch)
    );
    l.set_support_mode(true);
    let causes: Vec<_> = l.restricted_causes().collect();
    assert_eq!(
        causes,
        vec![
            RestrictedCause::VerificationModeMismatch,
            RestrictedCause::SupportMode
        ]
    );
    l.handle_server_response(t0() + HOUR, ServerVerdict::Valid);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::SupportMode));
    drain(&mut l);
    l.set_support_mode(false);
    assert_eq!(drain(&mut l), vec![Event::RestrictedModeDeactivated]);
}

fn gateway_master() -> pbxkit_licensing::Licensing {
    let id = identity(
        Platform::VirtualAppliance,
        Role::Master,
        Binding::Gateway(gateway()),
    );
    let mut f = file(&[]);
    f.gateway_eid = Some(gateway());
    let mut l = boot(id, t0());
    l.load_file(t0(), &signed(&f)).unwrap();
    drain(&mut l);
    l
}

#[test]
fn mv11_mv2_23_gateway_loss_72h_countdown_not_reset_by_reconnection() {
    let mut l = gateway_master();
    assert!(!l.online_verification(), "MV2-20: unticked in gateway mode");
    assert_eq!(l.poll_timeout(), None, "no licence-server contact");
    l.handle_gateway_lost(t0());
    assert!(drain(&mut l).contains(&Event::GatewaySatelliteLost {
        hours_until_restricted: 72
    }));
    assert!(!l.gateway_functions_available());
    assert_eq!(l.mode(), Mode::Normal, "the master runs normally meanwhile");
    l.handle_gateway_restored(t0() + 30 * HOUR);
    assert_eq!(drain(&mut l), vec![Event::GatewaySatelliteRestored]);
    assert_eq!(
        Event::GatewaySatelliteRestored.catalogue_id(),
        Some("gateway_satellite_connection_restored")
    );
    l.handle_gateway_lost(t0() + 40 * HOUR);
    assert!(drain(&mut l).contains(&Event::GatewaySatelliteLost {
        hours_until_restricted: 32
    }));
    run_quiet(&mut l, t0() + 72 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    let ev = run_quiet(&mut l, t0() + 72 * HOUR);
    assert_eq!(ev, vec![restricted(RestrictedCause::GatewaySatelliteLost)]);
    l.handle_gateway_restored(t0() + 73 * HOUR);
    assert_eq!(l.mode(), Mode::Normal);
}

#[test]
fn mv12_swa_validity_and_cached_state() {
    let mut l = licensed_va();
    let s = l.swa_status(t0(), 100);
    assert_eq!(
        (s.validity, s.source),
        (SwaValidity::Valid, SwaSource::File)
    );
    assert_eq!(
        l.swa_status(t0(), 121).validity,
        SwaValidity::TooManyUsers {
            configured: 121,
            covered: 120
        }
    );
    let end = Date::parse("2027-04-01").unwrap().start();
    assert_eq!(l.swa_status(end - SEC, 10).validity, SwaValidity::Valid);
    assert_eq!(l.swa_status(end, 10).validity, SwaValidity::Expired);
    // The server reports newer data; when it becomes unreachable the last state is cached.
    let report = Swa {
        covered_users: 200,
        expires: Date::parse("2028-03-31").unwrap(),
    };
    l.handle_server_response(t0() + HOUR, ServerVerdict::Valid);
    l.handle_swa_report(t0() + HOUR, report);
    let s = l.swa_status(t0() + HOUR, 150);
    assert_eq!(s.validity, SwaValidity::Valid);
    assert_eq!(s.source, SwaSource::Server { as_of: t0() + HOUR });
    l.handle_server_unreachable(t0() + 2 * HOUR);
    let s = l.swa_status(t0() + 3 * HOUR, 150);
    assert_eq!(s.source, SwaSource::Cached { as_of: t0() + HOUR });
    assert_eq!(s.swa, Some(report));
}

#[test]
fn mv12_sr_licence_only_issued_under_valid_swa() {
    let mut f = file(&[]);
    f.swa = None;
    assert_eq!(f.sign(&vendor()), Err(VerifyError::ReleaseWithoutSwa));
    let mut f = file(&[]);
    f.swa = Some(Swa {
        covered_users: 10,
        expires: Date::parse("2026-03-31").unwrap(), // before the issue date
    });
    assert_eq!(f.sign(&vendor()), Err(VerifyError::ReleaseWithoutSwa));
}

#[test]
fn mv2_25_permanent_activation_lifecycle() {
    let mut l = boot(va(), t0());
    drain(&mut l);
    let mut temp = file(&[]);
    let last_day = Date::parse("2026-07-29").unwrap();
    temp.activation = Activation::Temporary { expires: last_day };
    l.load_file(t0(), &signed(&temp)).unwrap();
    assert!(drain(&mut l).contains(&Event::PermanentActivationMissing));
    // Reminder once the server connection is set up, with the DD.MM.YYYY date.
    l.handle_server_response(t0(), ServerVerdict::Valid);
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::TemporaryActivationExpires { expires: last_day }));
    assert_eq!(last_day.dotted(), "29.07.2026");
    // The permanent file arrives.
    l.load_file(t0() + DAY, &signed(&file(&[]))).unwrap();
    let ev = drain(&mut l);
    assert!(ev.contains(&Event::PermanentActivationAvailable));
    assert_eq!(
        Event::PermanentActivationAvailable.catalogue_id(),
        Some("permanent_licence_activation_available")
    );
}

#[test]
fn mv2_25_expired_temporary_activation_restricts() {
    let mut l = boot(va(), t0());
    let mut temp = file(&[]);
    temp.activation = Activation::Temporary {
        expires: Date::parse("2026-05-10").unwrap(),
    };
    l.load_file(t0(), &signed(&temp)).unwrap();
    let end = Date::parse("2026-05-11").unwrap().start();
    run_quiet(&mut l, end - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    run_quiet(&mut l, end);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
}

#[test]
fn mv2_27_first_start_and_sales_channel_reset() {
    let mut l = licensed_va();
    l.first_start(t0() + HOUR, false);
    assert!(l.file().is_some(), "a plain first start keeps the file");
    l.first_start(t0() + 2 * HOUR, true);
    assert!(l.file().is_none());
    assert_eq!(
        l.load_file(t0() + 2 * HOUR, &signed(&file(&[]))),
        Err(LoadError::NoSalesChannel)
    );
    l.set_sales_channel(SalesChannel::parse("other-channel").unwrap());
    assert!(matches!(
        l.load_file(t0() + 2 * HOUR, &signed(&file(&[]))),
        Err(LoadError::Verify(VerifyError::WrongSalesChannel { .. }))
    ));
    l.set_sales_channel(channel());
    assert!(l.load_file(t0() + 2 * HOUR, &signed(&file(&[]))).is_ok());
}

#[test]
fn mv21_ships_unlicensed_and_factory_reset_returns_to_delivery_state() {
    let mut l = boot(va(), t0());
    for &t in LicenceType::ALL {
        assert!(!l.feature_enabled(t0(), t), "{t} on a new system");
    }
    l.load_file(
        t0(),
        &signed(&file(&[(LicenceType::User, Value::Count(10))])),
    )
    .unwrap();
    let _ = l.use_feature(t0(), LicenceType::AutoAttendant);
    l.factory_reset(t0() + HOUR);
    assert!(l.file().is_none());
    assert_eq!(l.units(t0() + HOUR, LicenceType::User), 0);
    // Test licences are once per feature for the life of the system, reset or not.
    assert!(
        l.persistent_state()
            .test_activations
            .contains_key(&LicenceType::AutoAttendant)
    );
}

#[test]
fn mv10_mv11_restart_does_not_lift_a_countdown_restriction() {
    // Licence server.
    let mut l = licensed_va();
    l.handle_server_unreachable(t0());
    run_quiet(&mut l, t0() + 73 * HOUR);
    assert_eq!(
        l.mode(),
        Mode::Restricted(RestrictedCause::LicenceServerUnreachable)
    );
    let state = PersistentState::from_toml(&l.persistent_state().to_toml()).unwrap();
    let at = t0() + 74 * HOUR;
    let mut l = boot_with(va(), state, at)
        .with_file(at, &signed(&file(&[])))
        .unwrap();
    run_quiet(&mut l, at);
    assert_eq!(
        l.mode(),
        Mode::Restricted(RestrictedCause::LicenceServerUnreachable),
        "still restricted after the restart"
    );
    l.handle_server_response(at + HOUR, ServerVerdict::Valid);
    assert_eq!(l.mode(), Mode::Normal);
    assert_eq!(l.persistent_state().server_countdown_start, None);

    // Gateway satellite.
    let mut g = gateway_master();
    g.handle_gateway_lost(t0());
    run_quiet(&mut g, t0() + 72 * HOUR);
    let state = PersistentState::from_toml(&g.persistent_state().to_toml()).unwrap();
    let id = identity(
        Platform::VirtualAppliance,
        Role::Master,
        Binding::Gateway(gateway()),
    );
    let mut f = file(&[]);
    f.gateway_eid = Some(gateway());
    let mut g = boot_with(id, state, at).with_file(at, &signed(&f)).unwrap();
    run_quiet(&mut g, at);
    assert_eq!(
        g.mode(),
        Mode::Restricted(RestrictedCause::GatewaySatelliteLost)
    );
    g.handle_gateway_restored(at + HOUR);
    assert_eq!(g.mode(), Mode::Normal);
    assert_eq!(g.persistent_state().gateway_countdown_start, None);
}

#[test]
fn mv5_licence_view_hides_base_va_and_lists_values() {
    let mut l = boot(va(), t0());
    l.load_file(
        t0(),
        &signed(&file(&[
            (LicenceType::User, Value::Count(50)),
            (LicenceType::SecureVoip, Value::Switch),
        ])),
    )
    .unwrap();
    let view = l.licence_view(t0());
    let listed: Vec<_> = view.iter().map(|e| (e.licence, e.value)).collect();
    assert_eq!(
        listed,
        vec![
            (
                LicenceType::SoftwareRelease,
                ViewValue::Release(Some(Release::new(6, 0)))
            ),
            (LicenceType::User, ViewValue::Units(50)),
            (LicenceType::SecureVoip, ViewValue::Unlocked),
        ],
        "fn 4: the Base VA licence is in force but not listed"
    );
    assert!(l.feature_enabled(t0(), LicenceType::BaseVirtualAppliance));
}

#[test]
fn licences_with_an_end_date_lapse_on_time() {
    let mut f = file(&[(LicenceType::User, Value::Count(10))]);
    let user_end = Date::parse("2026-05-10").unwrap();
    let sr_end = Date::parse("2026-06-30").unwrap();
    f.expires.insert(LicenceType::User, user_end);
    f.expires.insert(LicenceType::SoftwareRelease, sr_end);
    let mut l = boot(va(), t0());
    l.load_file(t0(), &signed(&f)).unwrap();
    drain(&mut l);
    let user_gone = user_end.start() + DAY;
    run_quiet(&mut l, user_gone - SEC);
    assert_eq!(l.units(user_gone - SEC, LicenceType::User), 10);
    let ev = run_quiet(&mut l, user_gone);
    assert_eq!(
        ev,
        vec![Event::LicenceExpired {
            licence: LicenceType::User
        }]
    );
    assert_eq!(l.units(user_gone, LicenceType::User), 0);
    // The SR licence ends: the 4 h rule starts then.
    let sr_gone = sr_end.start() + DAY;
    let ev = run_quiet(&mut l, sr_gone);
    assert_eq!(
        ev,
        vec![
            Event::LicenceExpired {
                licence: LicenceType::SoftwareRelease
            },
            Event::InvalidLicenceRestrictedIn4h
        ]
    );
    run_quiet(&mut l, sr_gone + 4 * HOUR - SEC);
    assert_eq!(l.mode(), Mode::Normal);
    run_quiet(&mut l, sr_gone + 4 * HOUR);
    assert_eq!(l.mode(), Mode::Restricted(RestrictedCause::NoValidLicence));
    // Loading an already-ended file: the ended licence is inert at once, no event.
    let mut l = boot(va(), t0());
    l.load_file(user_gone, &signed(&f)).unwrap();
    assert_eq!(l.units(user_gone, LicenceType::User), 0);
}
