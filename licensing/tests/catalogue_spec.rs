//! MV-5, MV-6, MV-16, MV-20: the catalogue checked row by row against Tab. 15 as written in
//! the spec digest (`../shared/spec/mivoice-part1.md` §5.8), read at test time.

use pbxkit_licensing::catalogue::EXCLUSIONS;
use pbxkit_licensing::{Kind, LicenceType, OaiConsumer, Placement, Unlicensed};

struct Row {
    number: usize,
    name: String,
    without: String,
    with: String,
    kind: String,
    networking: String,
    offline: String,
    test: String,
    lines: String,
}

fn spec_rows() -> Option<Vec<Row>> {
    let path = testkit::workspace_root().join("../shared/spec/mivoice-part1.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        let required = std::env::var(testkit::ENV_REQUIRE).is_ok_and(|v| v == "1");
        assert!(!required, "spec digest missing at {}", path.display());
        eprintln!("SKIP Tab. 15 check: no spec digest at {}", path.display());
        return None;
    };
    let start = text
        .find("### 5.8 Full licence overview table")
        .expect("§5.8");
    let end = start + text[start..].find("Table footnotes").expect("footnotes");
    let rows = text[start..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // "", #, Licence, Unlocks, Without, With, Kind, Networking, Offline, Test, Lines, ""
            let number = cells.get(1)?.parse().ok()?;
            Some(Row {
                number,
                name: cells[2].to_owned(),
                without: cells[4].to_owned(),
                with: cells[5].to_owned(),
                kind: cells[6].to_owned(),
                networking: cells[7].to_owned(),
                offline: cells[8].to_owned(),
                test: cells[9].to_owned(),
                lines: cells[10].to_owned(),
            })
        })
        .collect();
    Some(rows)
}

fn unlicensed(s: &str) -> Unlicensed {
    if s.starts_with("Limited") {
        Unlicensed::Limited
    } else if s.starts_with("Blocked") {
        Unlicensed::Blocked
    } else if s.starts_with("0 / 2") {
        Unlicensed::Two
    } else if s == "10" {
        Unlicensed::Ten
    } else if s == "0" {
        Unlicensed::Zero
    } else if s.starts_with("Unencrypted") {
        Unlicensed::Unencrypted
    } else if s.starts_with("Unavailable") {
        Unlicensed::Unavailable
    } else {
        panic!("unknown Without value {s:?}")
    }
}

fn tick(s: &str) -> bool {
    match s {
        "✓" => true,
        "–" => false,
        _ => panic!("bad tick {s:?}"),
    }
}

fn numbers(s: &str) -> Vec<u32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect()
}

#[test]
fn mv5_mv6_every_row_of_tab15_matches() {
    let Some(rows) = spec_rows() else { return };
    assert_eq!(rows.len(), 49, "Tab. 15 has 49 licence types");
    assert_eq!(LicenceType::ALL.len(), 49);
    for (row, &t) in rows.iter().zip(LicenceType::ALL) {
        let i = t.info();
        let ctx = format!("row {} {}", row.number, row.name);
        assert_eq!(usize::from(i.row), row.number, "{ctx}");
        assert!(row.name.starts_with(i.name), "{ctx}: name {:?}", i.name);
        assert_eq!(i.unlicensed, unlicensed(&row.without), "{ctx}: without");
        let kind = if row.kind.starts_with("Count") {
            Kind::Count
        } else if row.kind.starts_with("Bool") {
            Kind::Switch
        } else {
            panic!("{ctx}: kind {:?}", row.kind)
        };
        assert_eq!(i.kind, kind, "{ctx}: kind");
        let placement = if row.networking.contains("Per node") {
            Placement::PerNode
        } else if row.networking.contains("backup server") {
            Placement::BackupServer
        } else {
            assert_eq!(row.networking, "Master", "{ctx}");
            Placement::Master
        };
        assert_eq!(i.placement, placement, "{ctx}: placement");
        assert_eq!(i.offline, tick(&row.offline), "{ctx}: offline");
        assert_eq!(i.test, tick(&row.test), "{ctx}: test");
        assert_eq!(
            numbers(&row.lines),
            vec![u32::from(i.lines.0), u32::from(i.lines.1)],
            "{ctx}: lines"
        );
        if kind == Kind::Count {
            // MV-6: the "With" column lists the pack sizes ("1, 20, 50, 100 or 200 more").
            assert_eq!(numbers(&row.with), i.packs.to_vec(), "{ctx}: packs");
            assert_eq!(i.open_pack, row.with.contains(" or n "), "{ctx}: open pack");
        }
    }
}

#[test]
fn mv5_offline_and_test_tallies() {
    // §5.8 tallies: 30 offline, 34 test.
    let offline = LicenceType::ALL
        .iter()
        .filter(|t| t.offline_eligible())
        .count();
    let test = LicenceType::ALL
        .iter()
        .filter(|t| t.test_eligible())
        .count();
    assert_eq!((offline, test), (30, 34));
    // Fn 4: only the Base VA licence is hidden from the licence view.
    let hidden: Vec<_> = LicenceType::ALL
        .iter()
        .filter(|t| !t.info().listed)
        .collect();
    assert_eq!(hidden, vec![&LicenceType::BaseVirtualAppliance]);
}

#[test]
fn mv6_pack_sizes_named_in_the_requirement() {
    // MV-6 text: User {1,20,50,100,200}; PMS Rooms and CSTA {1,20,50,100}; QSIG {4, n};
    // 5300 IP, Mitel SIP, Dual Homing, BluStar, BluStar Video, Dialers, OpenCount Users,
    // Presence Sync {1,20,50}.
    use LicenceType as L;
    assert_eq!(L::User.info().packs, &[1, 20, 50, 100, 200]);
    for t in [L::PmsRooms, L::CstaSessions] {
        assert_eq!(t.info().packs, &[1, 20, 50, 100], "{t}");
    }
    assert_eq!(L::QsigChannels.info().packs, &[4]);
    assert!(L::QsigChannels.info().open_pack);
    for t in [
        L::Ip5300Phones,
        L::MitelSipTerminals,
        L::DualHoming,
        L::BluStarSoftphones,
        L::BluStarVideoOptions,
        L::Dialers,
        L::OpenCountUsers,
        L::PresenceSync,
    ] {
        assert_eq!(t.info().packs, &[1, 20, 50], "{t}");
    }
}

#[test]
fn mv16_dependencies_exactly_as_the_seed_lists() {
    use LicenceType as L;
    let mut expected = vec![
        (L::NumberInQueue, L::AutoAttendant),
        (L::AudioRecordPlayChannels, L::EnterpriseVoiceMail),
        (L::VideoTerminals, L::SipTerminals),
        (L::BluStarVideoOptions, L::BluStarSoftphones),
        (L::OpenCountHealthcare, L::OpenCountBasic),
        (L::OpenCountPublicAuthorities, L::OpenCountBasic),
        (L::OpenCountComfort, L::OpenCountBasic),
        (L::OpenCountPremium, L::OpenCountBasic),
        (L::OpenCountUsers, L::OpenCountBasic),
    ];
    let mut actual: Vec<_> = L::ALL
        .iter()
        .flat_map(|t| t.info().requires.iter().map(move |r| (*t, *r)))
        .collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected);
}

#[test]
fn mv20_oai_exclusion_is_declared() {
    assert_eq!(
        EXCLUSIONS,
        &[(LicenceType::OpenCountBasic, LicenceType::OaiInterface)]
    );
    assert_eq!(
        OaiConsumer::OpenCount.required_licence(),
        LicenceType::OpenCountBasic
    );
    assert_eq!(
        OaiConsumer::ThirdParty(7).required_licence(),
        LicenceType::OaiInterface
    );
}

#[test]
fn mv18_per_node_and_backup_server_placements() {
    let per_node: Vec<_> = LicenceType::ALL
        .iter()
        .filter(|t| t.info().placement != Placement::Master)
        .map(|t| (*t, t.info().placement))
        .collect();
    assert_eq!(
        per_node,
        vec![
            (LicenceType::DualHoming, Placement::BackupServer),
            (LicenceType::SecureVoip, Placement::PerNode),
            (LicenceType::QsigChannels, Placement::PerNode),
        ]
    );
}
