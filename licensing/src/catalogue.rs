//! The 49 licence types of Tab. 15 (seed lines 2995–4123) as a typed catalogue.
//!
//! Each [`LicenceType`] carries its attributes through [`LicenceType::info`]: whether it
//! counts units or switches a feature, its state without a licence, its pack sizes, where
//! it lives in an AIN, whether it is part of the 36 h offline set, whether a 60-day test
//! licence exists, and which other licence it depends on (MV-5, MV-6, MV-16).

use std::fmt;

/// Whether a licence adds units or switches a feature on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Each licence adds units (users, terminals, channels…).
    Count,
    /// The licence unlocks a feature (blocked → unlocked).
    Switch,
}

/// The state of a licensed attribute when the file holds no licence of that type
/// (the "Without" column of Tab. 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unlicensed {
    /// No units.
    Zero,
    /// Two units: the 2 free G.711 VoIP channels of a hardware system whose VoIP mode is
    /// G.711 (fn 6); 0 otherwise.
    Two,
    /// Ten units: the 10 free B-channels of every PRI interface.
    Ten,
    /// The feature is blocked.
    Blocked,
    /// The system is limited: restricted mode 4 h after a restart or software load.
    Limited,
    /// Voice is sent unencrypted.
    Unencrypted,
    /// The function is unavailable.
    Unavailable,
}

/// Where a licence lives in an AIN (the "Networking" column of Tab. 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// "In an AIN only on the master, otherwise per node": pooled on the master.
    Master,
    /// Needed on every node that uses it (Secure VoIP, QSIG).
    PerNode,
    /// Permanently on the backup server (Dual Homing).
    BackupServer,
}

/// The attributes of one licence type (one row of Tab. 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenceInfo {
    /// Row number in Tab. 15 (1–49).
    pub row: u8,
    /// The key used in licence files and on the command line (`snake_case`).
    pub key: &'static str,
    /// English name, as in the spec digest.
    pub name: &'static str,
    /// Count or switch.
    pub kind: Kind,
    /// Value without a licence.
    pub unlicensed: Unlicensed,
    /// Pack sizes in which the licence is sold (empty for switches). QSIG also has an
    /// open level "n" bounded by system capacity, see [`LicenceInfo::open_pack`].
    pub packs: &'static [u32],
    /// Whether a pack of any size "n" exists (QSIG's second level).
    pub open_pack: bool,
    /// Placement in an AIN.
    pub placement: Placement,
    /// Granted as a 36 h offline temporary licence on a satellite.
    pub offline: bool,
    /// A 60-day test licence exists.
    pub test: bool,
    /// Licences this one needs to have any effect.
    pub requires: &'static [LicenceType],
    /// Shown in the licence view (only the Base VA licence is hidden, fn 4).
    pub listed: bool,
    /// Seed lines of the row, for reference.
    pub lines: (u16, u16),
}

macro_rules! catalogue {
    ($( $row:literal $var:ident $key:literal $name:literal $kind:ident $un:ident [$($p:literal),*] $open:literal
        $pl:ident off=$off:literal test=$test:literal req=[$($req:ident),*] listed=$listed:literal ($l0:literal, $l1:literal); )*) => {
        /// One of the 49 licence types of Tab. 15.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum LicenceType {
            $(
                #[doc = concat!("Tab. 15 row ", stringify!($row), ": ", $name, " (`", $key, "`).")]
                $var,
            )*
        }

        impl LicenceType {
            /// Every licence type, in Tab. 15 order.
            pub const ALL: &'static [Self] = &[$(Self::$var),*];

            /// The attributes of this licence type.
            pub const fn info(self) -> &'static LicenceInfo {
                match self {
                    $(Self::$var => &LicenceInfo {
                        row: $row,
                        key: $key,
                        name: $name,
                        kind: Kind::$kind,
                        unlicensed: Unlicensed::$un,
                        packs: &[$($p),*],
                        open_pack: $open,
                        placement: Placement::$pl,
                        offline: $off,
                        test: $test,
                        requires: &[$(LicenceType::$req),*],
                        listed: $listed,
                        lines: ($l0, $l1),
                    },)*
                }
            }
        }
    };
}

catalogue! {
    1 SoftwareRelease "software_release" "Software Release" Switch Limited [] false Master off=false test=false req=[] listed=true (3023, 3033);
    2 User "user" "User" Count Blocked [1, 20, 50, 100, 200] false Master off=true test=false req=[] listed=true (3037, 3053);
    3 BasicUser "basic_user" "Basic User" Count Zero [1] false Master off=true test=false req=[] listed=true (3055, 3073);
    4 EntryUccUser "entry_ucc_user" "Entry UCC User" Count Zero [1] false Master off=true test=false req=[] listed=true (3074, 3102);
    5 StandardUccUser "standard_ucc_user" "Standard UCC User" Count Zero [1] false Master off=true test=false req=[] listed=true (3104, 3132);
    6 PremiumUccUser "premium_ucc_user" "Premium UCC User" Count Zero [1] false Master off=true test=false req=[] listed=true (3134, 3162);
    7 Softphone2380 "mivoice_2380_ip_softphones" "MiVoice 2380 IP Softphones" Count Zero [1] false Master off=true test=true req=[] listed=true (3166, 3184);
    8 Ip5300Phones "mivoice_5300_ip_phones" "MiVoice 5300 IP Phones" Count Zero [1, 20, 50] false Master off=true test=true req=[] listed=true (3207, 3229);
    9 MitelSipTerminals "mitel_sip_terminals" "Mitel SIP Terminals" Count Zero [1, 20, 50] false Master off=true test=true req=[] listed=true (3231, 3246);
    10 Dialog4200Phones "mitel_dialog_4200_phones" "Mitel Dialog 4200 Phones" Count Zero [1] false Master off=true test=true req=[] listed=true (3248, 3266);
    11 MmcExtensions "mmc_extensions" "MMC Extensions" Count Zero [1] false Master off=false test=false req=[] listed=true (3268, 3287);
    12 DualHoming "dual_homing" "Dual Homing" Count Zero [1, 20, 50] false BackupServer off=false test=true req=[] listed=true (3289, 3306);
    13 MobileExternalPhones "mobile_external_phone_extensions" "Mobile or External Phone Extensions" Count Zero [1] false Master off=true test=true req=[] listed=true (3308, 3329);
    14 SipTerminals "sip_terminals" "SIP Terminals" Count Zero [1] false Master off=true test=true req=[] listed=true (3331, 3345);
    15 VideoTerminals "video_terminals" "Video Terminals" Count Zero [1] false Master off=true test=true req=[SipTerminals] listed=true (3368, 3387);
    16 BluStarSoftphones "blustar_softphones" "BluStar Softphones" Count Zero [1, 20, 50] false Master off=true test=true req=[] listed=true (3391, 3404);
    17 BluStarVideoOptions "blustar_softphone_video_options" "BluStar Softphone Video Options" Count Zero [1, 20, 50] false Master off=true test=true req=[BluStarSoftphones] listed=true (3406, 3428);
    18 ConferenceBridge "conference_bridge" "Conference Bridge" Switch Blocked [] false Master off=false test=true req=[] listed=true (3432, 3446);
    19 NumberInQueue "number_in_queue" "Number in Queue" Switch Blocked [] false Master off=true test=true req=[AutoAttendant] listed=true (3448, 3459);
    20 AutoAttendant "auto_attendant" "Auto Attendant" Switch Blocked [] false Master off=true test=true req=[] listed=true (3461, 3471);
    21 EnterpriseVoiceMail "enterprise_voice_mail" "Enterprise Voice Mail" Switch Blocked [] false Master off=true test=true req=[] listed=true (3494, 3522);
    22 AudioRecordPlayChannels "audio_record_play_channels" "Audio Record & Play Channels" Count Blocked [1] false Master off=false test=false req=[EnterpriseVoiceMail] listed=true (3524, 3546);
    23 AnalogueModem "analogue_modem" "Analogue Modem" Switch Blocked [] false Master off=true test=true req=[] listed=true (3550, 3561);
    24 SecureVoip "secure_voip" "Secure VoIP" Switch Unencrypted [] false PerNode off=false test=false req=[] listed=true (3563, 3572);
    25 SilentIntrusion "silent_intrusion" "Silent Intrusion" Switch Blocked [] false Master off=false test=false req=[] listed=true (3574, 3585);
    26 BaseVirtualAppliance "base_virtual_appliance" "Base licence Virtual Appliance" Switch Limited [] false Master off=true test=false req=[] listed=false (3589, 3607);
    27 VoipChannels "voip_channels" "VoIP Channels for Standard Media Switch" Count Two [1] false Master off=true test=true req=[] listed=true (3630, 3644);
    28 PriBChannels "pri_b_channels" "B-Channels on PRI Cards" Count Ten [1] false Master off=false test=false req=[] listed=true (3648, 3665);
    29 SipAccessChannels "sip_access_channels" "SIP Access Channels" Count Zero [1] false Master off=true test=true req=[] listed=true (3667, 3685);
    30 QsigChannels "qsig_networking_channels" "QSIG Networking Channels" Count Zero [4] true PerNode off=true test=true req=[] listed=true (3689, 3697);
    31 AdvancedMessaging "advanced_messaging" "Advanced Messaging" Switch Blocked [] false Master off=false test=false req=[] listed=true (3701, 3719);
    32 CtiFirstPartyLan "cti_first_party_via_lan" "CTI First Party via LAN" Switch Zero [] false Master off=false test=true req=[] listed=true (3721, 3741);
    33 Dialers "dialers" "Dialers" Count Zero [1, 20, 50] false Master off=false test=true req=[] listed=true (3743, 3759);
    34 HospitalityManager "hospitality_manager" "Hospitality Manager" Switch Blocked [] false Master off=false test=true req=[] listed=true (3782, 3792);
    35 PmsInterface "hospitality_pms_interface" "Hospitality PMS Interface" Switch Blocked [] false Master off=false test=true req=[] listed=true (3794, 3808);
    36 PmsRooms "hospitality_pms_rooms" "Hospitality PMS Rooms" Count Zero [1, 20, 50, 100] false Master off=false test=true req=[] listed=true (3810, 3827);
    37 OpenCountBasic "opencount_basic" "Mitel OpenCount Basic Package" Switch Blocked [] false Master off=true test=true req=[] listed=true (3829, 3847);
    38 OpenCountHealthcare "opencount_healthcare" "Mitel OpenCount Healthcare Branch Package" Switch Blocked [] false Master off=true test=true req=[OpenCountBasic] listed=true (3849, 3866);
    39 OpenCountPublicAuthorities "opencount_public_authorities" "Mitel OpenCount Public Authorities Branch Package" Switch Blocked [] false Master off=true test=true req=[OpenCountBasic] listed=true (3868, 3885);
    40 OpenCountComfort "opencount_comfort" "Mitel OpenCount Functional Upgrade to Comfort" Switch Blocked [] false Master off=true test=true req=[OpenCountBasic] listed=true (3887, 3903);
    41 OpenCountPremium "opencount_premium" "Mitel OpenCount Functional Upgrade to Premium" Switch Blocked [] false Master off=true test=true req=[OpenCountBasic] listed=true (3927, 3944);
    42 OpenCountUsers "opencount_users" "Mitel OpenCount Users" Count Zero [1, 20, 50] false Master off=true test=true req=[OpenCountBasic] listed=true (3946, 3965);
    43 AtasInterface "atas_interface" "ATAS Interface" Switch Blocked [] false Master off=false test=true req=[] listed=true (3969, 3979);
    44 AtasProInterface "ataspro_interface" "ATASpro Interface" Switch Blocked [] false Master off=false test=true req=[] listed=true (3981, 3991);
    45 Bss "bss" "BSS Licence" Switch Unavailable [] false Master off=false test=false req=[] listed=true (3993, 4006);
    46 BssLync "bss_lync_interface" "BSS-Lync Interface" Switch Unavailable [] false Master off=false test=false req=[] listed=true (4008, 4021);
    47 CstaSessions "csta_sessions" "CSTA Sessions" Count Zero [1, 20, 50, 100] false Master off=true test=true req=[] listed=true (4055, 4070);
    48 PresenceSync "presence_sync_simple_msrp" "Presence Sync. via SIMPLE and MSRP" Count Zero [1, 20, 50] false Master off=true test=true req=[] listed=true (4072, 4093);
    49 OaiInterface "oai_interface" "OAI Interface" Switch Blocked [] false Master off=false test=true req=[] listed=true (4095, 4105);
}

impl LicenceType {
    /// Looks a licence type up by its file key (`"sip_terminals"`).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.info().key == key)
    }

    /// The file key.
    pub const fn key(self) -> &'static str {
        self.info().key
    }

    /// Whether a 60-day test licence exists for this type.
    pub const fn test_eligible(self) -> bool {
        self.info().test
    }

    /// Whether this type belongs to the 36 h offline set.
    pub const fn offline_eligible(self) -> bool {
        self.info().offline
    }

    /// Whether every feature of this type stays configurable without a licence (MV2-17).
    ///
    /// Always `true`: the crate gates only *use*, never configuration. The method exists
    /// so that a configuration layer can state the rule instead of assuming it.
    pub const fn configurable_without_licence(self) -> bool {
        true
    }
}

impl fmt::Display for LicenceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().name)
    }
}

/// Who holds the Open Application Interface: OpenCount or one third-party application,
/// never both (MV-20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OaiConsumer {
    /// Mitel OpenCount (needs the OpenCount Basic package).
    OpenCount,
    /// A third-party application (needs the OAI Interface licence), with an
    /// embedder-chosen identifier.
    ThirdParty(u32),
}

impl OaiConsumer {
    /// The licence the consumer needs.
    pub const fn required_licence(self) -> LicenceType {
        match self {
            Self::OpenCount => LicenceType::OpenCountBasic,
            Self::ThirdParty(_) => LicenceType::OaiInterface,
        }
    }
}

/// Licence types that cannot be in use at the same time, as consumer pairs.
///
/// The seed names one exclusion: OpenCount *or* one third-party application uses the OAI
/// (2834–2836, 2880–2884). It is an exclusion between *consumers* of one interface, not
/// between two licences in a file: both licences may be present, only one consumer may
/// be bound (see [`crate::Licensing::bind_oai`]).
pub const EXCLUSIONS: &[(LicenceType, LicenceType)] =
    &[(LicenceType::OpenCountBasic, LicenceType::OaiInterface)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_unique_and_rows_in_order() {
        assert_eq!(LicenceType::ALL.len(), 49);
        for (i, t) in LicenceType::ALL.iter().enumerate() {
            assert_eq!(usize::from(t.info().row), i + 1);
            assert_eq!(LicenceType::from_key(t.key()), Some(*t));
        }
        assert_eq!(LicenceType::from_key("no_such_licence"), None);
    }

    #[test]
    fn mv2_17_everything_configurable() {
        assert!(
            LicenceType::ALL
                .iter()
                .all(|t| t.configurable_without_licence())
        );
    }

    #[test]
    fn switches_have_no_packs_counts_have_packs() {
        for t in LicenceType::ALL {
            let i = t.info();
            match i.kind {
                Kind::Switch => assert!(i.packs.is_empty(), "{t}"),
                Kind::Count => assert!(!i.packs.is_empty(), "{t}"),
            }
        }
    }
}
