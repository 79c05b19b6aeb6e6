//! Typed licensing events, mapped to the event catalogue (`event-types.tsv`) where an
//! entry exists (MV-48, MV2-18..26).

use std::time::SystemTime;

use crate::catalogue::LicenceType;
use crate::date::Date;

/// Why the system is in restricted mode: the cause codes 0–5 of the VA event (MV2-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RestrictedCause {
    /// 0: no valid licence (no SR / Base VA after 4 h, or an expired temporary activation).
    NoValidLicence = 0,
    /// 1: the gateway satellite was lost for longer than 72 h.
    GatewaySatelliteLost = 1,
    /// 2: maximum time without the licence server reached (72 h).
    LicenceServerUnreachable = 2,
    /// 3: the licence server confirmed a clone.
    CloneConfirmed = 3,
    /// 4: licence-check mode differs between the licence server and the system.
    VerificationModeMismatch = 4,
    /// 5: support mode activated.
    SupportMode = 5,
}

impl RestrictedCause {
    /// The numeric cause code carried by the event.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

/// The licence classes that have admission limits and limit events (MV2-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LimitClass {
    /// User licences (raised once only, MV2-16).
    Users,
    /// Integrated mobile/external phones.
    MobileExternal,
    /// Proprietary IP phones (MiVoice 5300 IP, 2380).
    ProprietaryIp,
    /// Mitel SIP terminals (and video).
    MitelSip,
    /// Standard SIP terminals (and video).
    StandardSip,
    /// Dual Homing, evaluated on the backup server.
    DualHoming,
    /// Mitel Dialer.
    Dialer,
    /// BluStar clients (softphone, video option).
    BluStar,
    /// CSTA sessions.
    CstaSessions,
    /// SIMPLE/MSRP presence sync.
    SimpleMsrp,
    /// PMS interface and rooms.
    Pms,
    /// VoIP channels (no back-within-limit counterpart).
    VoipChannels,
    /// QSIG channels (no counterpart).
    Qsig,
    /// A MiCollab terminal limit, with its reason.
    MiCollab(MiCollabLimit),
}

/// The reason carried by the MiCollab terminal-limit events (codes 0–2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MiCollabLimit {
    /// 0: terminals per system.
    TerminalsPerSystem = 0,
    /// 1: terminals per user.
    TerminalsPerUser = 1,
    /// 2: MiCollab clients per user.
    ClientsPerUser = 2,
}

impl MiCollabLimit {
    /// The reason code carried by the event.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl LimitClass {
    /// Catalogue ids of the limit-reached event and of its counterpart, if any.
    pub const fn catalogue_ids(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Users => ("user_licence_missing", Some("user_licence_available")),
            Self::MobileExternal => (
                "mobile_ext_licence_insufficient",
                Some("mobile_ext_licence_available"),
            ),
            Self::ProprietaryIp => (
                "ip_phone_licence_insufficient",
                Some("ip_phone_licence_available"),
            ),
            Self::MitelSip => (
                "mitel_sip_terminal_licence_limit_reached",
                Some("mitel_sip_terminals_within_licence_limit"),
            ),
            Self::StandardSip => (
                "standard_sip_terminal_licence_limit_reached",
                Some("standard_sip_terminals_within_licence_limit"),
            ),
            Self::DualHoming => (
                "dual_homing_licence_limit_reached",
                Some("dual_homing_within_licence_limit"),
            ),
            Self::Dialer => (
                "mitel_dialer_licence_limit_reached",
                Some("mitel_dialer_within_licence_limit"),
            ),
            Self::BluStar => (
                "blustar_client_licence_limit_reached",
                Some("blustar_client_within_licence_limit"),
            ),
            Self::CstaSessions => (
                "csta_session_licence_limit_reached",
                Some("csta_sessions_within_licence_limit"),
            ),
            Self::SimpleMsrp => (
                "simple_msrp_licence_limit_reached",
                Some("simple_msrp_within_licence_limit"),
            ),
            Self::Pms => (
                "pms_interface_licence_insufficient",
                Some("pms_interface_licence_available"),
            ),
            Self::VoipChannels => ("voip_channel_licences_insufficient", None),
            Self::Qsig => ("qsig_licence_limit_reached", None),
            Self::MiCollab(_) => (
                "micollab_terminal_limit_reached",
                Some("micollab_within_terminal_limit"),
            ),
        }
    }
}

/// A licensing state change, for the embedder to map into its event system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A licence file was verified and replaced the licence set (MV-2).
    LicenceFileLoaded,
    /// Software needing an SR licence runs without one: restricted mode in 4 h (MV2-19).
    InvalidLicenceRestrictedIn4h,
    /// Restricted mode entered, or a further cause added (MV-3, MV2-21).
    RestrictedModeActivated {
        /// The cause.
        cause: RestrictedCause,
        /// Whether the system is a Virtual Appliance (selects the catalogue entry).
        virtual_appliance: bool,
    },
    /// Restricted mode left (every cause cleared).
    RestrictedModeDeactivated,
    /// A licence with an end date in the file has ended.
    LicenceExpired {
        /// The licence type.
        licence: LicenceType,
    },
    /// A test licence was auto-activated on first use (MV-7).
    TestLicenceActivated {
        /// The licence type.
        licence: LicenceType,
        /// When it ends.
        expires: SystemTime,
    },
    /// A test licence ran out with no real licence behind it (MV2-18).
    TestLicenceExpired {
        /// The licence type.
        licence: LicenceType,
    },
    /// Satellite: offline temporary licences unlocked (MV-8).
    OfflineLicencesGranted {
        /// When they end at the latest.
        until: SystemTime,
    },
    /// Satellite: the 36 h offline licences ran out (MV2-24).
    OfflineLicencesExpired,
    /// Satellite: the master is back, the offline licences are revoked (MV-8).
    OfflineLicencesRevoked,
    /// Satellite online with no upgrade licence: restart now (every 4 h, MV-9).
    SatelliteRestartRequired,
    /// VA-EID mode: time to contact the licence server (MV-10).
    LicenceServerContactDue,
    /// The licence server could not be reached: restricted in at most 72 h (MV2-22).
    LicenceServerUnreachable {
        /// Hours left before restricted mode.
        hours_until_restricted: u32,
    },
    /// The licence server is reachable again.
    LicenceServerRestored,
    /// The licence server reports a possible clone (MV-10).
    PotentialCloneDetected,
    /// No clone reported for 24 h after a suspicion (MV2-22).
    NoOtherCloneDetected,
    /// Gateway-EID mode: the gateway satellite was lost (MV-11, MV2-23).
    GatewaySatelliteLost {
        /// Hours left before restricted mode.
        hours_until_restricted: u32,
    },
    /// Gateway-EID mode: the gateway satellite is back.
    GatewaySatelliteRestored,
    /// A temporary activation is running; the permanent one is missing (MV2-25).
    PermanentActivationMissing,
    /// Reminder of the temporary activation's end (MV2-25).
    TemporaryActivationExpires {
        /// Last day of the temporary activation.
        expires: Date,
    },
    /// A permanent activation was loaded (MV2-25).
    PermanentActivationAvailable,
    /// An admission was refused for lack of licences (MV-13, MV2-26).
    LimitReached {
        /// The class.
        class: LimitClass,
        /// Units licensed at that moment.
        licensed: u32,
    },
    /// An admission was refused for lack of a licence that has no limit event in the
    /// catalogue (Dialog 4200, MMC, SIP access, PRI, audio channels) (MV-13).
    LicenceMissing {
        /// The licence type that was missing or exhausted.
        licence: LicenceType,
    },
    /// Enough licences again after a [`Event::LimitReached`] (MV2-26).
    WithinLimit {
        /// The class.
        class: LimitClass,
    },
    /// More users are monitored by OpenCount than licensed: warning (MV-48).
    OpenCountUsersUnlicensed {
        /// Users monitored.
        monitored: u32,
        /// OpenCount Users licensed.
        licensed: u32,
    },
    /// The persistent state changed: write [`crate::Licensing::persistent_state`] atomically.
    PersistentStateChanged,
}

impl Event {
    /// The id of the matching entry in `event-types.tsv`, if the catalogue has one.
    pub const fn catalogue_id(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidLicenceRestrictedIn4h => "invalid_licence_restricted_in_4h",
            Self::RestrictedModeActivated {
                virtual_appliance: true,
                ..
            } => "restricted_mode_activated_va",
            Self::RestrictedModeActivated {
                virtual_appliance: false,
                ..
            } => "restricted_mode_activated_non_va",
            Self::RestrictedModeDeactivated => "restricted_mode_deactivated",
            Self::TestLicenceExpired { .. } => "test_licence_expired",
            Self::OfflineLicencesExpired => "offline_licences_expired",
            Self::LicenceServerUnreachable { .. } => "sls_connection_failed",
            Self::LicenceServerRestored => "sls_connection_restored",
            Self::PotentialCloneDetected => "potential_clone_detected",
            Self::NoOtherCloneDetected => "no_other_clone_detected",
            Self::GatewaySatelliteLost { .. } => "gateway_satellite_connection_lost",
            Self::GatewaySatelliteRestored => "gateway_satellite_connection_restored",
            Self::PermanentActivationMissing => "permanent_licence_activation_missing",
            Self::TemporaryActivationExpires { .. } => "temporary_activation_expires",
            Self::PermanentActivationAvailable => "permanent_licence_activation_available",
            Self::LimitReached { class, .. } => class.catalogue_ids().0,
            Self::WithinLimit { class } => match class.catalogue_ids().1 {
                Some(id) => id,
                None => return None,
            },
            Self::LicenceFileLoaded
            | Self::LicenceMissing { .. }
            | Self::LicenceExpired { .. }
            | Self::TestLicenceActivated { .. }
            | Self::OfflineLicencesGranted { .. }
            | Self::OfflineLicencesRevoked
            | Self::SatelliteRestartRequired
            | Self::LicenceServerContactDue
            | Self::OpenCountUsersUnlicensed { .. }
            | Self::PersistentStateChanged => return None,
        })
    }
}
