//! Message destinations, their table bindings and their configuration (EV-16, EV-18..EV-38).

use core::time::Duration;

use crate::email::{EmailCause, SmtpAction};
use crate::table::{TABLE_COUNT, TableId};

/// A message destination kind (EV-16, §4 of the spec; EV-51 adds [`Integration`](Self::Integration)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Destination {
    /// System-phone destination 1: display phones of message group 16 (EV-18).
    SystemPhones1,
    /// System-phone destination 2: display phones of message group 15 (EV-18).
    SystemPhones2,
    /// External destination, primary and backup over PPP (EV-19..EV-24).
    External,
    /// Local destination: PPP or an Ethernet PC (EV-25); shares its table with SNMP (EV-26).
    Local,
    /// SNMP, up to 5 targets (EV-27).
    Snmp,
    /// The event log ring (EV-28).
    EventLog,
    /// E-mail, up to 5 recipients (EV-30, EV-31).
    Email,
    /// The ATAS alarm server (EV-32).
    Atas,
    /// Secure IP Remote Management (EV-33..EV-36).
    Srm,
    /// Extension (EV-51 proposal): an OIP-like integration stream, unbound by default.
    Integration,
}

impl Destination {
    /// Every destination.
    pub const ALL: [Self; 10] = [
        Self::SystemPhones1,
        Self::SystemPhones2,
        Self::External,
        Self::Local,
        Self::Snmp,
        Self::EventLog,
        Self::Email,
        Self::Atas,
        Self::Srm,
        Self::Integration,
    ];

    /// The binding slot: local and SNMP share one (EV-26).
    const fn slot(self) -> usize {
        match self {
            Self::SystemPhones1 => 0,
            Self::SystemPhones2 => 1,
            Self::External => 2,
            Self::Local | Self::Snmp => 3,
            Self::EventLog => 4,
            Self::Email => 5,
            Self::Atas => 6,
            Self::Srm => 7,
            Self::Integration => 8,
        }
    }

    /// The fixed message group of a system-phone destination (EV-18): 16 for destination 1,
    /// 15 for destination 2.
    pub const fn message_group(self) -> Option<u8> {
        match self {
            Self::SystemPhones1 => Some(16),
            Self::SystemPhones2 => Some(15),
            _ => None,
        }
    }
}

const SLOTS: usize = 9;

/// The many-to-many binding of event tables to destinations (EV-16, EV-26, MV2-6).
///
/// Local and SNMP share one binding slot, so binding one binds the other (EV-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bindings {
    /// Per slot, a bit per table (bit 0 = table 1).
    slots: [u8; SLOTS],
}

impl Default for Bindings {
    fn default() -> Self {
        Self::first_start()
    }
}

impl Bindings {
    /// No table bound anywhere.
    pub const fn empty() -> Self {
        Self { slots: [0; SLOTS] }
    }

    /// The bindings after a first start (EV-16, MV2-6, EV-46 decision): phones 1 → table 1,
    /// phones 2 → table 1 (the printed "table 8" does not exist with 7 tables), external → 2,
    /// local and SNMP → 3 (shared), event log → 4, e-mail → 5, ATAS → 6, SRM → 7; the
    /// integration extension is unbound.
    pub const fn first_start() -> Self {
        let mut slots = [0; SLOTS];
        slots[0] = 1 << 0;
        slots[1] = 1 << 0;
        slots[2] = 1 << 1;
        slots[3] = 1 << 2;
        slots[4] = 1 << 3;
        slots[5] = 1 << 4;
        slots[6] = 1 << 5;
        slots[7] = 1 << 6;
        Self { slots }
    }

    /// Binds `table` to `dest` (to both local and SNMP for either, EV-26).
    pub fn bind(&mut self, dest: Destination, table: TableId) {
        self.slots[dest.slot()] |= 1 << table.slot();
    }

    /// Unbinds `table` from `dest`.
    pub fn unbind(&mut self, dest: Destination, table: TableId) {
        self.slots[dest.slot()] &= !(1 << table.slot());
    }

    /// Whether `table` is bound to `dest`.
    pub fn is_bound(&self, dest: Destination, table: TableId) -> bool {
        self.slots[dest.slot()] & (1 << table.slot()) != 0
    }

    /// The tables bound to `dest`.
    pub fn tables(&self, dest: Destination) -> impl Iterator<Item = TableId> + '_ {
        let mask = self.slots[dest.slot()];
        (0..TABLE_COUNT)
            .filter(move |i| mask & (1 << i) != 0)
            .map(TableId::from_slot)
    }

    /// The destinations bound to `table`.
    pub fn destinations(&self, table: TableId) -> impl Iterator<Item = Destination> + '_ {
        Destination::ALL
            .into_iter()
            .filter(move |d| self.is_bound(*d, table))
    }

    /// Bitmask of the tables bound to `dest` (bit 0 = table 1).
    pub(crate) fn mask(&self, dest: Destination) -> u8 {
        self.slots[dest.slot()]
    }
}

/// Cause codes of the external/internal destination-unreachable events (EV-23, EV-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationCause {
    /// 0: busy.
    Busy,
    /// 1: not available.
    NotAvailable,
    /// 2: blocked.
    Blocked,
    /// 3: not defined.
    NotDefined,
}

impl DestinationCause {
    /// The printed cause code.
    pub const fn code(self) -> u32 {
        match self {
            Self::Busy => 0,
            Self::NotAvailable => 1,
            Self::Blocked => 2,
            Self::NotDefined => 3,
        }
    }
}

/// Why a delivery failed, as the adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// External or local destination (PPP/Ethernet) failure cause (EV-23, EV-25).
    Destination(DestinationCause),
    /// SMTP failure with Tab. 24's cause and action (EV-31).
    Email {
        /// What went wrong (XX).
        cause: EmailCause,
        /// What the client was doing (YY).
        action: SmtpAction,
    },
    /// Any other destination could not be reached.
    Unreachable,
}

/// How the local destination is reached (EV-25). PPP links defer test messages while a
/// connection is up (EV-38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalLink {
    /// A PC over Ethernet, direct or through the LAN.
    #[default]
    Ethernet,
    /// A PPP connection through a terminal adapter or modem.
    Ppp,
}

/// Timers and attempt counts of the external destination (EV-20..EV-22). Defaults are the
/// manual's; tests may shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalTiming {
    /// Batching period: 5 minutes (EV-20).
    pub batch: Duration,
    /// Batching period after `failing_for` of failures: 4 hours (EV-21).
    pub backoff: Duration,
    /// How long failures must last before backing off: 1 hour (EV-21, EV-22).
    pub failing_for: Duration,
    /// Dial attempts per delivery: 5 (EV-22).
    pub dial_attempts: u8,
    /// Dial attempts after `failing_for` of failures: 2 (EV-22).
    pub reduced_dial_attempts: u8,
}

impl Default for ExternalTiming {
    fn default() -> Self {
        Self {
            batch: Duration::from_secs(5 * 60),
            backoff: Duration::from_secs(4 * 3600),
            failing_for: Duration::from_secs(3600),
            dial_attempts: 5,
            reduced_dial_attempts: 2,
        }
    }
}

/// Most SNMP targets (EV-27).
pub const MAX_SNMP_TARGETS: u8 = 5;
/// Most e-mail recipients (EV-30).
pub const MAX_EMAIL_TARGETS: u8 = 5;

/// Destination settings. Plain data with the manual's defaults; ranges are checked by
/// [`DestinationConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationConfig {
    /// Whether a primary external target is defined (EV-19).
    pub external_primary: bool,
    /// Whether a backup external target is defined (EV-19).
    pub external_backup: bool,
    /// External destination timers (EV-20..EV-22).
    pub external: ExternalTiming,
    /// Whether the local destination is configured.
    pub local: bool,
    /// How the local destination is reached (EV-25).
    pub local_link: LocalLink,
    /// SNMP forwarding switch, independent of local and external (EV-27).
    pub snmp_enabled: bool,
    /// Number of SNMP targets, 0..=5 (EV-27).
    pub snmp_targets: u8,
    /// Global e-mail notification switch (EV-30).
    pub email_enabled: bool,
    /// Number of e-mail recipients, 0..=5 (EV-30).
    pub email_targets: u8,
    /// ATAS notification switch (EV-32).
    pub atas_enabled: bool,
    /// Whether an ATAS licence is present (EV-32).
    pub atas_licensed: bool,
    /// SRM forwarding switch (EV-33).
    pub srm_enabled: bool,
    /// Whether the integration stream (EV-51 extension) is on.
    pub integration_enabled: bool,
    /// Retry delay for the local, e-mail, ATAS, SRM and integration destinations after a
    /// failure (proposal; the manual gives one only for the external destination).
    pub retry: Duration,
    /// Per-destination queue bound; overflow drops the oldest and is counted and reported.
    pub queue_capacity: usize,
    /// Also hand event-log entries to the adapter (e.g. a JSON-lines file).
    pub mirror_event_log: bool,
}

impl Default for DestinationConfig {
    fn default() -> Self {
        Self {
            external_primary: false,
            external_backup: false,
            external: ExternalTiming::default(),
            local: false,
            local_link: LocalLink::Ethernet,
            snmp_enabled: false,
            snmp_targets: 0,
            email_enabled: false,
            email_targets: 0,
            atas_enabled: false,
            atas_licensed: false,
            srm_enabled: false,
            integration_enabled: false,
            retry: Duration::from_secs(5 * 60),
            queue_capacity: 1024,
            mirror_event_log: false,
        }
    }
}

/// A destination setting out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    /// More than 5 SNMP targets (EV-27).
    #[error("{0} SNMP targets configured, at most 5")]
    TooManySnmpTargets(u8),
    /// More than 5 e-mail recipients (EV-30).
    #[error("{0} e-mail targets configured, at most 5")]
    TooManyEmailTargets(u8),
    /// Queues need room for at least one message.
    #[error("queue capacity must be at least 1")]
    ZeroQueueCapacity,
    /// Dial attempts must be at least 1.
    #[error("dial attempts must be at least 1")]
    ZeroDialAttempts,
    /// The destination is switched off, unconfigured or unlicensed (test messages, EV-37).
    #[error("destination {0:?} is not in service")]
    NotInService(Destination),
}

impl DestinationConfig {
    /// Checks the ranges of EV-27 and EV-30 and the sanity of the timers.
    pub fn validate(&self) -> Result<(), DestinationError> {
        if self.snmp_targets > MAX_SNMP_TARGETS {
            return Err(DestinationError::TooManySnmpTargets(self.snmp_targets));
        }
        if self.email_targets > MAX_EMAIL_TARGETS {
            return Err(DestinationError::TooManyEmailTargets(self.email_targets));
        }
        if self.queue_capacity == 0 {
            return Err(DestinationError::ZeroQueueCapacity);
        }
        if self.external.dial_attempts == 0 || self.external.reduced_dial_attempts == 0 {
            return Err(DestinationError::ZeroDialAttempts);
        }
        Ok(())
    }

    /// Whether `dest` is configured, switched on and (for ATAS) licensed.
    pub fn in_service(&self, dest: Destination) -> bool {
        match dest {
            Destination::SystemPhones1 | Destination::SystemPhones2 | Destination::EventLog => true,
            Destination::External => self.external_primary || self.external_backup,
            Destination::Local => self.local,
            Destination::Snmp => self.snmp_enabled && self.snmp_targets > 0,
            Destination::Email => self.email_enabled && self.email_targets > 0,
            Destination::Atas => self.atas_enabled && self.atas_licensed,
            Destination::Srm => self.srm_enabled,
            Destination::Integration => self.integration_enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u32) -> TableId {
        TableId::new(n).expect("table exists")
    }

    #[test]
    fn ev16_first_start_bindings() {
        // EV-16 / MV2-6 with the EV-46 decision (7 tables; phones 2 on table 1).
        let b = Bindings::first_start();
        let expect = [
            (Destination::SystemPhones1, 1),
            (Destination::SystemPhones2, 1),
            (Destination::External, 2),
            (Destination::Local, 3),
            (Destination::Snmp, 3),
            (Destination::EventLog, 4),
            (Destination::Email, 5),
            (Destination::Atas, 6),
            (Destination::Srm, 7),
        ];
        for (d, n) in expect {
            let tables: Vec<_> = b.tables(d).map(TableId::number).collect();
            assert_eq!(tables, [n], "{d:?}");
        }
        assert_eq!(b.tables(Destination::Integration).count(), 0);
        // Every table is bound to at least one destination after a first start (EV-16).
        for table in TableId::all() {
            assert!(
                b.destinations(table).count() >= 1,
                "table {}",
                table.number()
            );
        }
    }

    #[test]
    fn ev26_local_and_snmp_share_one_slot() {
        let mut b = Bindings::first_start();
        b.bind(Destination::Snmp, t(5));
        assert!(b.is_bound(Destination::Local, t(5)));
        b.unbind(Destination::Local, t(3));
        assert!(!b.is_bound(Destination::Snmp, t(3)));
        // Many-to-many (EV-16): a table may go to several destinations, or none.
        b.bind(Destination::Email, t(2));
        assert_eq!(b.destinations(t(2)).count(), 2);
        b.unbind(Destination::External, t(2));
        b.unbind(Destination::Email, t(2));
        assert_eq!(b.destinations(t(2)).count(), 0);
    }

    #[test]
    fn ev18_message_groups_fixed() {
        assert_eq!(Destination::SystemPhones1.message_group(), Some(16));
        assert_eq!(Destination::SystemPhones2.message_group(), Some(15));
        assert_eq!(Destination::Email.message_group(), None);
    }

    #[test]
    fn ev27_ev30_target_limits() {
        let mut c = DestinationConfig {
            snmp_targets: 5,
            email_targets: 5,
            ..DestinationConfig::default()
        };
        assert_eq!(c.validate(), Ok(()));
        c.snmp_targets = 6;
        assert_eq!(c.validate(), Err(DestinationError::TooManySnmpTargets(6)));
        c.snmp_targets = 5;
        c.email_targets = 6;
        assert_eq!(c.validate(), Err(DestinationError::TooManyEmailTargets(6)));
        // EV-32: ATAS needs both the switch and a licence.
        c.atas_enabled = true;
        assert!(!c.in_service(Destination::Atas));
        c.atas_licensed = true;
        assert!(c.in_service(Destination::Atas));
    }
}
