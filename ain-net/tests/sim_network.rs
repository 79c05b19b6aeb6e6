//! AIN master + satellites on a virtual clock with a seeded link model.

mod sim;

use std::time::Duration;

use pbxkit_ain_net::{LinkState, MasterEvent, RefuseReason, SatelliteEvent};
use sim::Net;

const S: Duration = Duration::from_secs(1);

fn all_online(net: &Net) -> bool {
    net.sats.iter().all(|s| s.state() == LinkState::Online)
}

/// MV-22: a master and 49 satellites (50 nodes) join; the 51st node is refused with a reason.
#[test]
fn mv22_fifty_nodes_join_and_the_51st_is_refused() {
    for seed in [1, 2, 3] {
        let mut net = Net::new(50, seed);
        net.run(10 * S);
        let online = net
            .sats
            .iter()
            .filter(|s| s.state() == LinkState::Online)
            .count();
        assert_eq!(online, 49, "seed {seed}");
        assert_eq!(net.master.joined().len(), 49);
        let refused: Vec<_> = net
            .sat_events
            .iter()
            .flatten()
            .filter(|e| **e == SatelliteEvent::Refused(RefuseReason::Full))
            .collect();
        assert_eq!(
            refused.len(),
            1,
            "exactly one refusal per attempt window, seed {seed}"
        );
    }
}

/// MV-23: a configuration authored on the master reaches every satellite, applied and acked.
#[test]
fn mv23_config_change_reaches_all_satellites() {
    let mut net = Net::new(49, 11);
    net.run(5 * S);
    assert!(all_online(&net));
    let v = net.master.set_config(b"dialplan=v2".to_vec());
    net.run(2 * S);
    for (i, s) in net.sats.iter().enumerate() {
        assert_eq!(s.config_version(), v, "satellite {i}");
        assert!(net.sat_events[i].contains(&SatelliteEvent::ConfigApplied {
            version: v,
            data: b"dialplan=v2".to_vec()
        }));
    }
    let acks = net
        .master_events
        .iter()
        .filter(|e| matches!(e, MasterEvent::ConfigApplied { version, .. } if *version == v))
        .count();
    assert_eq!(acks, 49);
}

/// MV-24, MV-25, MV-8, MV2-29: partition → offline after the timeout with the backup config,
/// temporary licences expire after 36 h, healing brings a clean rejoin with config resync.
#[test]
fn mv24_partition_offline_36h_expiry_and_rejoin() {
    let mut net = Net::new(3, 5);
    net.run(5 * S);
    let v1 = net.master.set_config(b"one".to_vec());
    net.run(2 * S);
    net.partition(0);
    net.run(20 * S);
    assert_eq!(
        net.sats[0].state(),
        LinkState::Online,
        "not offline before the 30 s timeout"
    );
    net.run(15 * S);
    assert_eq!(net.sats[0].state(), LinkState::Offline);
    assert!(net.sat_events[0].contains(&SatelliteEvent::Offline { backup_version: v1 }));
    assert!(
        net.master_events
            .contains(&MasterEvent::NodeLost { node: 1 })
    );
    assert!(net.sats[0].offline_licences_valid(net.now));
    // Config authored during the outage.
    let v2 = net.master.set_config(b"two".to_vec());
    net.run(Duration::from_secs(36 * 3600 - 60));
    assert!(net.sats[0].offline_licences_valid(net.now));
    net.run(Duration::from_secs(120));
    assert!(!net.sats[0].offline_licences_valid(net.now));
    assert!(net.sat_events[0].contains(&SatelliteEvent::OfflineLicencesExpired));
    // The others stayed online and got v2 meanwhile.
    assert_eq!(net.sats[1].config_version(), v2);
    net.partitioned.clear();
    // Reconnect attempts run every heartbeat interval (5 s).
    net.run(7 * S);
    assert_eq!(net.sats[0].state(), LinkState::Online);
    assert_eq!(net.sats[0].config_version(), v2, "config resync on rejoin");
    assert_eq!(
        net.sat_events[0].last(),
        Some(&SatelliteEvent::ConfigApplied {
            version: v2,
            data: b"two".to_vec()
        })
    );
}

/// MV-24 / MV2-29: the master goes away; satellites go offline, and come back when a
/// restarted master (with its persisted configuration) is up again.
#[test]
fn mv24_master_restart_brings_satellites_back() {
    let mut net = Net::new(5, 9);
    net.run(5 * S);
    let v = net.master.set_config(b"cfg".to_vec());
    net.run(2 * S);
    net.master_up = false;
    net.run(40 * S);
    assert!(net.sats.iter().all(|s| s.state() == LinkState::Offline));
    net.restart_master();
    net.master_up = true;
    net.run(5 * S);
    assert!(all_online(&net));
    assert!(net.sats.iter().all(|s| s.config_version() == v));
    // A new change after the restart still propagates.
    let v2 = net.master.set_config(b"after".to_vec());
    net.run(2 * S);
    assert!(net.sats.iter().all(|s| s.config_version() == v2));
}

/// Liveness over a long quiet period with jittered, fragmented delivery: nobody drops out.
#[test]
fn heartbeats_keep_everyone_online_for_an_hour() {
    let mut net = Net::new(10, 77);
    net.run(Duration::from_secs(3600));
    assert!(all_online(&net));
    assert!(
        !net.master_events
            .iter()
            .any(|e| matches!(e, MasterEvent::NodeLost { .. }))
    );
}

/// Duplicated and reordered frames on the links (a faulty middlebox) neither panic nor
/// wedge anything: a satellite never goes back to an older configuration, and once the
/// links are sound again every satellite is online with the latest one.
#[test]
fn duplicated_and_reordered_frames_converge_without_rollback() {
    for seed in [21, 24, 26] {
        let mut net = Net::new(10, seed);
        net.set_chaos(200, 200);
        net.run(10 * S);
        let mut latest = 0;
        for k in 0..20 {
            latest = net.master.set_config(format!("dialplan=v{k}").into_bytes());
            net.run(S);
        }
        let (dups, swaps) = net.chaos_done;
        eprintln!("seed {seed}: {dups} frames duplicated, {swaps} reordered");
        assert!(
            dups > 20 && swaps > 20,
            "the links misbehaved: {:?}",
            net.chaos_done
        );
        net.set_chaos(0, 0);
        net.run(120 * S);
        assert!(all_online(&net), "seed {seed}");
        for (i, s) in net.sats.iter().enumerate() {
            assert_eq!(s.config_version(), latest, "seed {seed}, satellite {i}");
            let applied: Vec<u64> = net.sat_events[i]
                .iter()
                .filter_map(|e| match e {
                    SatelliteEvent::ConfigApplied { version, .. } => Some(*version),
                    _ => None,
                })
                .collect();
            assert!(
                applied.windows(2).all(|w| w[0] <= w[1]),
                "seed {seed}, satellite {i} rolled back: {applied:?}"
            );
        }
    }
}

/// MV-28: one numbering plan across the AIN. The master's directory reaches every
/// satellite, including one that joins later, and stays in use while a satellite is offline.
#[test]
fn mv28_directory_tells_every_node_where_an_extension_lives() {
    let mut net = Net::new(4, 31);
    net.partition(3); // satellite 4 joins late
    net.run(5 * S);
    let plan = [("201", 1), ("202", 2), ("301", 3), ("401", 4), ("100", 0)];
    net.master
        .set_directory(plan.iter().map(|(e, n)| ((*e).to_owned(), *n)));
    net.run(2 * S);
    for i in 0..3 {
        assert_eq!(net.sats[i].locate("301"), Some(3), "satellite {i}");
        assert_eq!(net.sats[i].locate("100"), Some(0), "the master's own");
        assert_eq!(net.sats[i].locate("999"), None);
        assert!(
            net.sat_events[i].contains(&SatelliteEvent::DirectoryUpdated { entries: 5 }),
            "satellite {i}"
        );
    }
    assert_eq!(net.sats[3].locate("201"), None, "not joined yet");
    net.partitioned.clear();
    net.run(60 * S);
    assert_eq!(net.sats[3].locate("201"), Some(1), "sent on join");
    assert_eq!(net.master.locate("401"), Some(4));
    // Offline, a satellite still routes with the last directory it had.
    net.partition(0);
    net.run(60 * S);
    assert_eq!(net.sats[0].state(), LinkState::Offline);
    assert_eq!(net.sats[0].locate("202"), Some(2));
}

/// MV-17, MV-24: a satellite holding pooled channels is cut off; the master returns its
/// units to the pool, the satellite ends one of its two calls while offline, and on rejoin
/// the pool counts the one call that outlived the outage: once, not twice, not zero.
#[test]
fn mv17_rejoin_reconciles_pooled_channels_without_double_counting() {
    let mut net = Net::new(2, 41);
    net.master.set_channel_pool(8);
    net.run(5 * S);
    assert!(all_online(&net));
    let calls: Vec<u64> = (0..2)
        .map(|_| net.sats[0].acquire_channels(2).expect("online"))
        .collect();
    net.run(S);
    for r in &calls {
        assert!(
            net.sat_events[0].contains(&SatelliteEvent::ChannelsGranted { request: *r }),
            "{r}"
        );
    }
    assert_eq!(net.master.channels_in_use(), 4);
    net.partition(0);
    net.run(40 * S);
    assert_eq!(net.sats[0].state(), LinkState::Offline);
    assert_eq!(
        net.master.channels_in_use(),
        0,
        "a lost node's units return"
    );
    assert_eq!(
        net.sats[0].acquire_channels(2),
        None,
        "no pool while offline"
    );
    net.sats[0].release_channels(calls[0]);
    // Meanwhile satellite 2 takes what the pool has room for: 4 calls of 2 units.
    let other: Vec<u64> = (0..5)
        .map(|_| net.sats[1].acquire_channels(2).expect("online"))
        .collect();
    net.run(S);
    assert!(net.sat_events[1].contains(&SatelliteEvent::ChannelsDenied { request: other[4] }));
    assert_eq!(net.master.channels_in_use(), 8);
    net.partitioned.clear();
    net.run(60 * S);
    assert!(all_online(&net));
    // The surviving call is counted again (beyond the pool: it cannot be cut off).
    assert_eq!(net.master.channels_in_use(), 10);
    assert!(net.master_events.contains(&MasterEvent::PoolReconciled {
        node: 1,
        requests: 1,
        in_use: 10
    }));
    // Ending it later frees its units exactly once.
    net.sats[0].release_channels(calls[1]);
    net.run(S);
    assert_eq!(net.master.channels_in_use(), 8);
}

/// MV-25, MV-8: online, satellites see the master's licences; offline, only the temporary
/// set for 36 h, then none; back online, the master's again.
#[test]
fn mv25_licence_view_follows_the_link() {
    let mut net = Net::new(2, 51);
    for s in &mut net.sats {
        s.set_offline_licences([("voip_channels".to_owned(), 8)]);
    }
    net.run(5 * S);
    let view = [
        ("voip_channels".to_owned(), 40),
        ("sip_terminals".to_owned(), 100),
    ];
    net.master.set_licence_view(view);
    net.run(S);
    let now = net.now;
    assert_eq!(net.sats[0].licences(now).len(), 2);
    assert_eq!(net.sats[0].licences(now).get("sip_terminals"), Some(&100));
    assert!(net.sat_events[1].contains(&SatelliteEvent::LicenceViewUpdated { entries: 2 }));
    net.partition(0);
    net.run(40 * S);
    let now = net.now;
    assert_eq!(net.sats[0].state(), LinkState::Offline);
    assert_eq!(net.sats[0].licences(now).get("voip_channels"), Some(&8));
    assert_eq!(net.sats[0].licences(now).get("sip_terminals"), None);
    net.run(36 * 3600 * S);
    assert!(
        net.sats[0].licences(net.now).is_empty(),
        "nothing after 36 h"
    );
    net.partitioned.clear();
    net.run(60 * S);
    assert_eq!(
        net.sats[0].licences(net.now).get("voip_channels"),
        Some(&40)
    );
}

/// MV-27: the master reports when the gateway satellite (the licence-EID holder) is lost and
/// when it is back, once each, for the licensing engine's 72 h rule; other nodes do not count.
#[test]
fn mv27_gateway_satellite_loss_and_return_are_reported() {
    let mut net = Net::new(3, 61);
    net.master.set_gateway(2);
    net.run(5 * S);
    let gateway = |net: &Net| -> Vec<MasterEvent> {
        net.master_events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    MasterEvent::GatewayLost { .. } | MasterEvent::GatewayRestored { .. }
                )
            })
            .cloned()
            .collect()
    };
    assert_eq!(gateway(&net), [MasterEvent::GatewayRestored { node: 2 }]);
    net.partition(0);
    net.run(40 * S);
    assert_eq!(
        gateway(&net).len(),
        1,
        "another node's loss is not the gateway's"
    );
    net.partition(1);
    net.run(40 * S);
    net.partitioned.clear();
    net.run(60 * S);
    assert!(all_online(&net));
    assert_eq!(
        gateway(&net),
        [
            MasterEvent::GatewayRestored { node: 2 },
            MasterEvent::GatewayLost { node: 2 },
            MasterEvent::GatewayRestored { node: 2 },
        ]
    );
}

/// MV2-30: satellites are asked to activate software by the master only. MV2-31: remote
/// maintenance follows the master AIN-wide (late joiners and offline nodes included), and
/// dial-up access also needs the node's own unlock.
#[test]
fn mv2_30_31_activation_and_remote_maintenance_follow_the_master() {
    let mut net = Net::new(3, 71);
    net.partition(2);
    net.run(5 * S);
    assert_eq!(
        net.master.request_activation(sim::VERSION),
        Ok(2),
        "the joined ones"
    );
    net.master.set_remote_maintenance(true);
    net.run(S);
    for i in 0..2 {
        assert!(
            net.sat_events[i].contains(&SatelliteEvent::ActivateSoftware {
                sw_version: sim::VERSION.into()
            })
        );
        assert!(net.sats[i].remote_maintenance_unlocked(), "satellite {i}");
        assert!(!net.sats[i].dial_up_allowed(), "no local unlock yet");
    }
    net.sats[0].set_local_unlock(true);
    assert!(net.sats[0].dial_up_allowed());
    net.partitioned.clear();
    net.run(60 * S);
    assert!(net.sats[2].remote_maintenance_unlocked(), "learnt on join");
    assert!(
        !net.sat_events[2]
            .iter()
            .any(|e| matches!(e, SatelliteEvent::ActivateSoftware { .. })),
        "never activates on its own"
    );
    // Offline, a node keeps the AIN-wide state; locking it again reaches the others.
    net.partition(1);
    net.run(40 * S);
    net.master.set_remote_maintenance(false);
    net.run(S);
    assert!(!net.sats[0].remote_maintenance_unlocked());
    assert!(!net.sats[0].dial_up_allowed());
    assert!(
        net.sats[1].remote_maintenance_unlocked(),
        "offline: last state kept"
    );
}

/// MV-18: per-node licences are not pooled. Each satellite reports its own (on join and
/// on change); the master knows which nodes have Secure VoIP, so not every node does here.
#[test]
fn mv18_per_node_licences_are_known_node_by_node() {
    let mut net = Net::new(2, 81);
    net.sats[0].set_node_licences([("secure_voip".to_owned(), 1), ("qsig".to_owned(), 4)]);
    net.run(5 * S);
    assert_eq!(
        net.master.node_licence(1, "secure_voip"),
        1,
        "reported on join"
    );
    assert_eq!(net.master.node_licence(1, "qsig"), 4);
    assert_eq!(net.master.node_licence(2, "secure_voip"), 0);
    assert!(!net.master.licensed_on_every_node("secure_voip"));
    net.sats[1].set_node_licences([("secure_voip".to_owned(), 1)]);
    net.run(S);
    assert!(
        net.master.licensed_on_every_node("secure_voip"),
        "reported when set online"
    );
    assert!(!net.master.licensed_on_every_node("qsig"));
}

/// UCM-NET-4: the master (primary) is upgraded first; it will not ask satellites to
/// activate a version it does not run, and a satellite still on the old one cannot join
/// (MV2-28). UCM-NET-5: the inventory lists every node with its software and state.
#[test]
fn ucm_net_4_5_primary_upgrades_first_and_the_inventory_shows_every_node() {
    let mut net = Net::new(3, 91);
    net.partition(2);
    net.run(5 * S);
    assert!(
        net.master.request_activation("9.2").is_err(),
        "not on the master yet"
    );
    net.master.set_sw_version("9.2");
    assert_eq!(net.master.request_activation("9.2"), Ok(2));
    let inv = net.master.inventory();
    assert_eq!(inv.len(), 4);
    assert_eq!(
        (inv[0].node, inv[0].sw_version.as_deref()),
        (0, Some("9.2"))
    );
    assert!(inv[1].online && inv[1].sw_version.as_deref() == Some(sim::VERSION));
    assert!(
        !inv[3].online && inv[3].sw_version.is_none(),
        "never joined"
    );
    // The one still on the old software is refused when it comes.
    net.partitioned.clear();
    net.run(10 * S);
    assert!(net.sat_events[2].contains(&SatelliteEvent::Refused(RefuseReason::VersionMismatch)));
}
