//! Fixed attributes of an event type: severity, polarity, counterparts, detail fields.

use core::fmt;
use core::str::FromStr;

pub use crate::catalogue::EventKind;
use crate::catalogue::SPECS;

/// Severity of an event message, with its display colour (EV-2, MV2-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Normal: informational, shown blue.
    Normal,
    /// Important: needs a closer look, shown yellow.
    Important,
    /// Critical: affects operation, shown red.
    Critical,
}

impl Severity {
    /// The display colour the manual gives this level (EV-2).
    pub const fn colour(self) -> Colour {
        match self {
            Self::Normal => Colour::Blue,
            Self::Important => Colour::Yellow,
            Self::Critical => Colour::Red,
        }
    }

    /// The catalogue's spelling: `normal`, `important`, `critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Important => "important",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Display colour of a severity or of the SRM system status (EV-2, EV-35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colour {
    /// Blue (normal).
    Blue,
    /// Yellow (important).
    Yellow,
    /// Red (critical).
    Red,
}

/// Polarity of an event type (EV-3, MV2-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// A fault has appeared (*statut négatif*); cleared by its positive counterpart.
    Negative,
    /// A fault has been cleared (*statut positif*).
    Positive,
    /// No status, hence no counterpart; cleared only by acknowledgement.
    None,
}

impl Polarity {
    /// The catalogue's spelling: `negative`, `positive`, `none`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Positive => "positive",
            Self::None => "none",
        }
    }
}

/// Platform restriction of an event type, as printed (EV-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platforms {
    /// No restriction.
    General,
    /// "Mitel 470 only".
    Mitel470Only,
    /// "Mitel 415/430 and SMBC only".
    Mitel415_430AndSmbcOnly,
    /// "Virtual Appliance only".
    VirtualApplianceOnly,
    /// "Mitel 470 and Virtual Appliance only".
    Mitel470AndVirtualApplianceOnly,
    /// "not valid for Virtual Appliance".
    NotVirtualAppliance,
}

impl Platforms {
    /// The restriction as printed in the catalogue (empty for [`Platforms::General`]).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::General => "",
            Self::Mitel470Only => "Mitel 470 only",
            Self::Mitel415_430AndSmbcOnly => "Mitel 415/430 and SMBC only",
            Self::VirtualApplianceOnly => "Virtual Appliance only",
            Self::Mitel470AndVirtualApplianceOnly => "Mitel 470 and Virtual Appliance only",
            Self::NotVirtualAppliance => "not valid for Virtual Appliance",
        }
    }
}

/// The value type a detail field accepts (EV-7, EV-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// The message date; filled from the event timestamp, never supplied.
    Date,
    /// The message time of day; filled from the event timestamp, never supplied.
    Time,
    /// One of the printed codes ([`FieldSpec::codes`]).
    Code,
    /// A flag printed as `{1=...}`: 1 when the condition holds, 0 otherwise.
    Flag,
    /// An unsigned count, number or identifier.
    Unsigned,
    /// A signed quantity (temperatures).
    Signed,
    /// A digit string whose leading zeros matter (call numbers, room numbers, codes).
    Digits {
        /// Fewest digits accepted.
        min: u8,
        /// Most digits accepted.
        max: u8,
    },
    /// An IPv4 or IPv6 address.
    Ip,
    /// Free text (names, versions, reasons); conditional fields are text as well.
    Text,
}

/// One detail field of an event type, as the `details` column declares it (EV-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The snake_case field name.
    pub name: &'static str,
    /// The value type.
    pub ty: FieldType,
    /// The printed brace list `code=meaning`, codes exactly as printed (gaps kept).
    /// For a conditional field the pairs say when it is present.
    pub codes: &'static [(&'static str, &'static str)],
    /// Whether every message of the type must carry the field.
    pub required: bool,
}

impl FieldSpec {
    /// Whether `code` is one of the printed codes (compared numerically, so `"01"` is 1).
    pub fn accepts_code(&self, code: u32) -> bool {
        self.codes
            .iter()
            .any(|(printed, _)| printed.parse::<u32>().is_ok_and(|c| c == code))
    }

    /// The printed meaning of `code`, if it is in the list.
    pub fn meaning(&self, code: u32) -> Option<&'static str> {
        self.codes
            .iter()
            .find(|(printed, _)| printed.parse::<u32>().is_ok_and(|c| c == code))
            .map(|(_, meaning)| *meaning)
    }

    /// Whether the field comes from the timestamp rather than from the raiser.
    pub const fn is_timestamp(&self) -> bool {
        matches!(self.ty, FieldType::Date | FieldType::Time)
    }
}

/// The fixed attributes of one event type: one row of `event-types.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The kind this row describes.
    pub kind: EventKind,
    /// Stable snake_case id (EV-9).
    pub id: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// French name as printed (defects kept, EV-9).
    pub name_fr: &'static str,
    /// English statement of when the event is raised.
    pub condition_en: &'static str,
    /// The catalogue severity; the lower level for the five dual types (EV-2).
    pub severity: Severity,
    /// Whether the raiser may escalate this type to critical ("Important / Critique", EV-2).
    pub dual_severity: bool,
    /// Polarity (EV-3).
    pub polarity: Polarity,
    /// The counterpart as the TSV names it (EV-4).
    pub counterpart: Option<EventKind>,
    /// For a positive type: every negative type it clears (two for the two EV-4 exceptions).
    pub clears: &'static [EventKind],
    /// Platform restriction (EV-8).
    pub platforms: Platforms,
    /// Line range in the French seed.
    pub seed_lines: &'static str,
    /// Detail fields in printed order, including `date` and `time` (EV-7, EV-10).
    pub fields: &'static [FieldSpec],
}

impl KindSpec {
    /// Whether the type has a counterpart (`polarity != none`, EV-3).
    pub const fn has_counterpart(&self) -> bool {
        self.counterpart.is_some()
    }

    /// The field named `name`, with its position among [`fields`](Self::fields).
    pub fn field(&self, name: &str) -> Option<(usize, &'static FieldSpec)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

impl EventKind {
    /// Number of event kinds in the catalogue (EV-11).
    pub const COUNT: usize = 170;

    /// The kind's position in the catalogue, stable across releases (new kinds are appended).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The kind at catalogue position `index`.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// The kind's catalogue row.
    pub fn spec(self) -> &'static KindSpec {
        &SPECS[self.index()]
    }

    /// The stable snake_case id (EV-9).
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The catalogue severity (the lower level for dual types, EV-2).
    pub fn severity(self) -> Severity {
        self.spec().severity
    }

    /// The polarity (EV-3).
    pub fn polarity(self) -> Polarity {
        self.spec().polarity
    }

    /// The kind with stable id `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        SPECS.iter().find(|s| s.id == id).map(|s| s.kind)
    }

    /// The negative kinds this kind clears when raised (empty unless positive; EV-4).
    pub fn clears(self) -> &'static [Self] {
        self.spec().clears
    }

    /// The positive kind that clears this negative kind (EV-4).
    pub fn cleared_by(self) -> Option<Self> {
        let spec = self.spec();
        match spec.polarity {
            Polarity::Negative => spec.counterpart,
            Polarity::Positive | Polarity::None => None,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The id given to [`EventKind::from_str`] names no kind of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind id")]
#[non_exhaustive]
pub struct UnknownKind;

impl FromStr for EventKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_id(s).ok_or(UnknownKind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ev11_catalogue_tallies() {
        // EV-11: 170 types; severity 76/72/22; polarity 68/66/36; 134 with a counterpart.
        let all = &EventKind::ALL;
        assert_eq!(all.len(), 170);
        let count = |f: &dyn Fn(&KindSpec) -> bool| all.iter().filter(|k| f(k.spec())).count();
        assert_eq!(count(&|s| s.severity == Severity::Critical), 76);
        assert_eq!(count(&|s| s.severity == Severity::Important), 72);
        assert_eq!(count(&|s| s.severity == Severity::Normal), 22);
        assert_eq!(count(&|s| s.polarity == Polarity::Negative), 68);
        assert_eq!(count(&|s| s.polarity == Polarity::Positive), 66);
        assert_eq!(count(&|s| s.polarity == Polarity::None), 36);
        assert_eq!(count(&|s| s.has_counterpart()), 134);
        let cross = [
            (Severity::Critical, [37, 35, 4]),
            (Severity::Important, [27, 27, 18]),
            (Severity::Normal, [4, 4, 14]),
        ];
        for (sev, expected) in cross {
            let pols = [Polarity::Negative, Polarity::Positive, Polarity::None];
            for (pol, n) in pols.iter().zip(expected) {
                assert_eq!(
                    count(&|s| s.severity == sev && s.polarity == *pol),
                    n,
                    "{sev} {pol:?}"
                );
            }
        }
    }

    #[test]
    fn ev3_polarity_none_iff_no_counterpart() {
        for kind in EventKind::ALL {
            let spec = kind.spec();
            assert_eq!(
                spec.polarity == Polarity::None,
                !spec.has_counterpart(),
                "{kind}"
            );
            assert_eq!(spec.kind, kind);
            assert_eq!(
                kind.index(),
                EventKind::from_index(kind.index()).map_or(999, |k| k.index())
            );
        }
    }

    #[test]
    fn ev4_two_positives_clear_two_negatives() {
        // EV-4 / MV2-3: the two exceptions; every other positive clears exactly one negative.
        for kind in EventKind::ALL {
            let spec = kind.spec();
            match spec.polarity {
                Polarity::Positive => {
                    let expected = match kind.id() {
                        "restricted_mode_deactivated" | "temperature_back_to_normal" => 2,
                        _ => 1,
                    };
                    assert_eq!(spec.clears.len(), expected, "{kind}");
                    for neg in spec.clears {
                        assert_eq!(neg.cleared_by(), Some(kind));
                    }
                }
                Polarity::Negative | Polarity::None => assert!(spec.clears.is_empty()),
            }
        }
        let rd = EventKind::RestrictedModeDeactivated;
        assert!(rd.clears().contains(&EventKind::RestrictedModeActivatedVa));
        assert!(
            rd.clears()
                .contains(&EventKind::RestrictedModeActivatedNonVa)
        );
    }

    #[test]
    fn ev2_colours_and_dual_severity() {
        // EV-2 / MV2-2: three levels with their colours; five dual-severity types.
        assert_eq!(Severity::Normal.colour(), Colour::Blue);
        assert_eq!(Severity::Important.colour(), Colour::Yellow);
        assert_eq!(Severity::Critical.colour(), Colour::Red);
        let duals: Vec<_> = EventKind::ALL
            .iter()
            .filter(|k| k.spec().dual_severity)
            .collect();
        assert_eq!(duals.len(), 5);
        assert!(duals.iter().all(|k| k.severity() == Severity::Important));
    }

    #[test]
    fn ids_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(kind.id().parse::<EventKind>(), Ok(kind));
        }
        assert_eq!("no_such_event".parse::<EventKind>(), Err(UnknownKind));
    }
}
