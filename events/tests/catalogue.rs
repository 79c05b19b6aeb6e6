//! Cross-checks the crate's catalogue against the spec's `event-types.tsv` (MV2-1, EV-9..EV-11).
//!
//! The TSV lives outside the repository (`../shared/spec`); the test skips when it is absent
//! and fails when `REQUIRE_SHARED_TESTDATA=1`.

use std::collections::HashMap;

use pbxkit_events::{EventKind, FieldSpec, Polarity};

struct Row {
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, col: &str) -> &str {
        self.cells.get(col).map_or("", String::as_str)
    }
}

const COLUMNS: [&str; 11] = [
    "id",
    "name_en",
    "name_fr",
    "condition_en",
    "details",
    "severity",
    "polarity",
    "has_counterpart",
    "counterpart_id",
    "platforms",
    "seed_lines",
];

fn load() -> Option<Vec<Row>> {
    let dir = testkit::shared_testdata("event catalogue", "../spec")?;
    let bytes = testkit::read(&dir.join("event-types.tsv"));
    let text = String::from_utf8(bytes).expect("EV-9: the TSV is UTF-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header line").split('\t').collect();
    assert_eq!(header, COLUMNS, "EV-9: column order");
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            assert_eq!(cells.len(), COLUMNS.len(), "EV-9: one cell per column: {l}");
            Row {
                cells: COLUMNS
                    .iter()
                    .copied()
                    .zip(cells.into_iter().map(str::to_owned))
                    .collect(),
            }
        })
        .collect();
    Some(rows)
}

/// Prints a field back in the TSV's `details` grammar (EV-10).
fn print_field(f: &FieldSpec) -> String {
    if f.codes.is_empty() {
        f.name.to_owned()
    } else {
        let codes: Vec<String> = f.codes.iter().map(|(c, m)| format!("{c}={m}")).collect();
        format!("{}{{{}}}", f.name, codes.join("|"))
    }
}

#[test]
fn mv2_1_catalogue_matches_tsv() {
    let Some(rows) = load() else { return };
    // EV-11: 170 rows, and the crate holds exactly these, in the same order.
    assert_eq!(rows.len(), 170);
    assert_eq!(EventKind::ALL.len(), rows.len());
    for (kind, row) in EventKind::ALL.iter().zip(&rows) {
        let spec = kind.spec();
        let id = row.get("id");
        assert_eq!(spec.id, id, "ids in order");
        assert_eq!(EventKind::from_id(id), Some(*kind));
        assert_eq!(spec.name_en, row.get("name_en"), "{id}");
        assert_eq!(spec.name_fr, row.get("name_fr"), "{id}");
        assert_eq!(spec.condition_en, row.get("condition_en"), "{id}");
        assert_eq!(spec.severity.as_str(), row.get("severity"), "{id} severity");
        assert_eq!(spec.polarity.as_str(), row.get("polarity"), "{id} polarity");
        let has = if spec.has_counterpart() { "yes" } else { "no" };
        assert_eq!(has, row.get("has_counterpart"), "{id} has_counterpart");
        assert_eq!(
            spec.counterpart.map_or("", |k| k.id()),
            row.get("counterpart_id"),
            "{id} counterpart"
        );
        assert_eq!(
            spec.platforms.as_str(),
            row.get("platforms"),
            "{id} platforms"
        );
        assert_eq!(spec.seed_lines, row.get("seed_lines"), "{id} seed_lines");
        // EV-7 / EV-10: the detail fields, their order and their printed code lists.
        let printed: Vec<String> = spec.fields.iter().map(print_field).collect();
        assert_eq!(printed.join(", "), row.get("details"), "{id} details");
    }
}

#[test]
fn ev4_clearing_sets_match_tsv() {
    let Some(rows) = load() else { return };
    // EV-4: a positive clears every negative whose counterpart names it.
    for kind in EventKind::ALL {
        let spec = kind.spec();
        let mut expected: Vec<&str> = if spec.polarity == Polarity::Positive {
            rows.iter()
                .filter(|r| r.get("polarity") == "negative" && r.get("counterpart_id") == spec.id)
                .map(|r| r.get("id"))
                .collect()
        } else {
            Vec::new()
        };
        let mut actual: Vec<&str> = spec.clears.iter().map(|k| k.id()).collect();
        expected.sort_unstable();
        actual.sort_unstable();
        assert_eq!(actual, expected, "{}", spec.id);
    }
    // EV-3: polarity none <=> no counterpart; EV-4: all other pairs are reciprocal.
    for row in &rows {
        assert_eq!(
            row.get("polarity") == "none",
            row.get("has_counterpart") == "no"
        );
        let cp = row.get("counterpart_id");
        if cp.is_empty() {
            continue;
        }
        let back = rows
            .iter()
            .find(|r| r.get("id") == cp)
            .map(|r| r.get("counterpart_id"));
        let exception = matches!(
            cp,
            "restricted_mode_deactivated" | "temperature_back_to_normal"
        );
        assert!(
            exception || back == Some(row.get("id")),
            "{} <-> {cp}",
            row.get("id")
        );
    }
}

#[test]
fn ev8_ev11_tallies_from_tsv() {
    let Some(rows) = load() else { return };
    let count = |col: &str, v: &str| rows.iter().filter(|r| r.get(col) == v).count();
    // EV-11.
    assert_eq!(
        (
            count("severity", "critical"),
            count("severity", "important"),
            count("severity", "normal")
        ),
        (76, 72, 22)
    );
    assert_eq!(
        (
            count("polarity", "negative"),
            count("polarity", "positive"),
            count("polarity", "none")
        ),
        (68, 66, 36)
    );
    assert_eq!(count("has_counterpart", "yes"), 134);
    // EV-8: platform restrictions as printed.
    assert_eq!(count("platforms", "Mitel 470 only"), 12);
    assert_eq!(count("platforms", "Mitel 415/430 and SMBC only"), 4);
    assert_eq!(count("platforms", "Virtual Appliance only"), 7);
    assert_eq!(
        count("platforms", "Mitel 470 and Virtual Appliance only"),
        2
    );
    assert_eq!(count("platforms", "not valid for Virtual Appliance"), 1);
    assert_eq!(count("platforms", ""), 144);
    // The crate agrees with the same tallies.
    let crate_general = EventKind::ALL
        .iter()
        .filter(|k| k.spec().platforms.as_str().is_empty())
        .count();
    assert_eq!(crate_general, 144);
}

#[test]
fn ev9_ids_are_unique_snake_case() {
    let Some(rows) = load() else { return };
    let mut ids: Vec<&str> = rows.iter().map(|r| r.get("id")).collect();
    for id in &ids {
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{id}"
        );
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 170);
}

#[test]
fn ev49_backup_sync_pair_has_one_printed_name() {
    // EV-49: both backup-sync types are printed with the same French name; distinct ids.
    let failed = EventKind::BackupCsSyncFailed.spec();
    let restored = EventKind::BackupCsSyncRestored.spec();
    assert_ne!(failed.id, restored.id);
    assert_eq!(failed.name_fr, restored.name_fr);
    assert_eq!(restored.counterpart, Some(EventKind::BackupCsSyncFailed));
}
