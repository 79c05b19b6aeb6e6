//! Admission at use time: terminal registration, channels, users, packages, the OAI,
//! counted applications and SWA (MV-12..20, MV2-26).

use std::time::SystemTime;

use crate::catalogue::{LicenceType, OaiConsumer};
use crate::engine::{Grant, Licensing, Refusal};
use crate::event::{Event, LimitClass, MiCollabLimit};
use crate::file::Swa;
use crate::pool::{Lease, NodeId, PoolKey, UserId};

/// A terminal asking to register (MV-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TerminalKind {
    /// Mitel 6800/6900 SIP phone (or cordless on Mitel SIP-DECT / SIP WLAN).
    MitelSip,
    /// MiVoice 5300 IP phone.
    Ip5300,
    /// Standard (third-party) SIP terminal.
    StandardSip,
    /// Standard SIP terminal with video (needs SIP Terminals + Video Terminals).
    StandardSipVideo,
    /// MiVoice 2380 IP softphone.
    Softphone2380,
    /// Mitel Dialog 4200 phone (Mitel 470 / SMBC only).
    Dialog4200,
    /// BluStar softphone.
    BluStar,
    /// BluStar softphone with the video option.
    BluStarVideo,
    /// Mobile phone with Mitel Mobile Client (MMC).
    Mmc,
    /// Mitel SIP phone registering on the backup server (Dual Homing).
    DualHoming,
    /// A virtual terminal (consumes no licence).
    Virtual,
}

impl TerminalKind {
    /// The licence types that may carry this terminal, in the order tried (one-way
    /// fallbacks: Mitel SIP → SIP Terminals → 5300 IP; 5300 IP → itself; standard SIP →
    /// SIP Terminals). Empty for a virtual terminal.
    pub const fn candidates(self) -> &'static [LicenceType] {
        use LicenceType as L;
        match self {
            Self::MitelSip => &[L::MitelSipTerminals, L::SipTerminals, L::Ip5300Phones],
            Self::Ip5300 => &[L::Ip5300Phones],
            Self::StandardSip | Self::StandardSipVideo => &[L::SipTerminals],
            Self::Softphone2380 => &[L::Softphone2380],
            Self::Dialog4200 => &[L::Dialog4200Phones],
            Self::BluStar | Self::BluStarVideo => &[L::BluStarSoftphones],
            Self::Mmc => &[L::MmcExtensions],
            Self::DualHoming => &[L::DualHoming],
            Self::Virtual => &[],
        }
    }

    /// The add-on licence needed as well (video), if any.
    pub const fn add_on(self) -> Option<LicenceType> {
        match self {
            Self::StandardSipVideo => Some(LicenceType::VideoTerminals),
            Self::BluStarVideo => Some(LicenceType::BluStarVideoOptions),
            _ => None,
        }
    }

    /// The limit-event class, if the catalogue has one for this terminal.
    pub const fn limit_class(self) -> Option<LimitClass> {
        match self {
            Self::MitelSip => Some(LimitClass::MitelSip),
            Self::Ip5300 | Self::Softphone2380 => Some(LimitClass::ProprietaryIp),
            Self::StandardSip | Self::StandardSipVideo => Some(LimitClass::StandardSip),
            Self::BluStar | Self::BluStarVideo => Some(LimitClass::BluStar),
            Self::DualHoming => Some(LimitClass::DualHoming),
            Self::Dialog4200 | Self::Mmc | Self::Virtual => None,
        }
    }
}

/// A registered terminal's licences; dropping it gives them back (deregistration).
#[derive(Debug)]
#[must_use = "dropping the registration releases its licences"]
pub struct Registration {
    leases: Vec<Lease>,
    grant: Grant,
}

impl Registration {
    /// The licence types drawn (empty for a virtual or package terminal).
    pub fn licences(&self) -> Vec<LicenceType> {
        self.leases
            .iter()
            .filter_map(|l| match l.key() {
                PoolKey::Licence(t) | PoolKey::NodeLicence(t, _) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// How the registration was granted.
    pub const fn grant(&self) -> Grant {
        self.grant
    }
}

/// Which media switch carries a VoIP channel (MV-19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSwitch {
    /// The VA's Mitel Media Server: channels need no licence.
    VirtualAppliance,
    /// A hardware node's standard media switch.
    Hardware {
        /// Whether the node's VoIP mode is G.711 (2 free channels).
        g711: bool,
    },
}

/// A channel asked for at call set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelKind {
    /// Voice-mail / IVR / recording audio channel (AIN-wide pool, MV-17).
    Audio,
    /// VoIP channel of a media switch (AIN-wide pool, MV-17, MV-19).
    Voip(MediaSwitch),
    /// SIP access channel (AIN-wide pool, MV-17).
    SipAccess,
    /// B-channel on a PRI interface: 10 free per interface, extras pooled (MV-19).
    PriB {
        /// The interface on the node.
        interface: u16,
    },
    /// QSIG networking channel (per node, MV-18).
    Qsig,
}

/// A channel in use; dropping it frees the unit.
#[derive(Debug)]
#[must_use = "dropping the guard frees the channel"]
pub struct ChannelGuard {
    lease: Option<Lease>,
}

impl ChannelGuard {
    /// The pool the unit was taken from (`None` for an unlicensed VA MMS channel).
    pub fn pool(&self) -> Option<PoolKey> {
        self.lease.as_ref().map(Lease::key)
    }
}

/// User-bound packages (MV-15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Package {
    /// Basic User: 1 user, 1 terminal of any type.
    Basic,
    /// Entry UCC User: 1 user, 8 terminals of any type, video.
    EntryUcc,
    /// Standard UCC User.
    StandardUcc,
    /// Premium UCC User.
    PremiumUcc,
}

impl Package {
    /// The licence type of the package.
    pub const fn licence(self) -> LicenceType {
        match self {
            Self::Basic => LicenceType::BasicUser,
            Self::EntryUcc => LicenceType::EntryUccUser,
            Self::StandardUcc => LicenceType::StandardUccUser,
            Self::PremiumUcc => LicenceType::PremiumUccUser,
        }
    }

    /// Terminals the package carries (1 or 8).
    pub const fn terminals(self) -> u32 {
        match self {
            Self::Basic => 1,
            _ => 8,
        }
    }
}

/// A package bound to one user; dropping it gives the package licence back.
#[derive(Debug)]
#[must_use = "dropping the seat releases the package licence"]
pub struct PackageSeat {
    user: UserId,
    package: Package,
    _lease: Lease,
}

impl PackageSeat {
    /// The user the package is bound to.
    pub const fn user(&self) -> UserId {
        self.user
    }
    /// The package.
    pub const fn package(&self) -> Package {
        self.package
    }
}

/// The UCC bonus of MV-15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UccBonus {
    /// Users with SIP-terminal licences usable with MiCollab AWV: 10 + ⌊Std/10⌋ + ⌊Prem/5⌋.
    pub awv_users: u32,
    /// Extra voice-mail channels: ⌊(ΣUCC − 10)/10⌋ (0 below 10 packages).
    pub vm_channels: u32,
}

/// Computes the UCC bonus from package counts (2527–2538).
pub const fn ucc_bonus(entry: u32, standard: u32, premium: u32) -> UccBonus {
    let total = entry.saturating_add(standard).saturating_add(premium);
    UccBonus {
        awv_users: 10 + standard / 10 + premium / 5,
        vm_channels: total.saturating_sub(10) / 10,
    }
}

/// What a user has as terminals, for the user-licence exemption (MV-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserTerminals {
    /// No terminal.
    None,
    /// Only virtual terminals.
    VirtualOnly,
    /// At least one real terminal.
    Real,
}

impl UserTerminals {
    /// Whether such a user needs a User licence.
    pub const fn needs_licence(self) -> bool {
        matches!(self, Self::Real)
    }
}

/// Where SWA data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwaSource {
    /// The licence file (no server report yet).
    File,
    /// The licence server, reachable at the last contact.
    Server {
        /// When it reported.
        as_of: SystemTime,
    },
    /// The last known server report, shown while the server is unreachable (MV-12).
    Cached {
        /// When it reported.
        as_of: SystemTime,
    },
}

/// SWA validity (MV-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwaValidity {
    /// Valid.
    Valid,
    /// Past its expiry.
    Expired,
    /// More configured users need SWA than it covers.
    TooManyUsers {
        /// Configured users needing SWA.
        configured: u32,
        /// Users covered.
        covered: u32,
    },
    /// No SWA data known.
    Unknown,
}

/// The SWA status shown in the header and System Information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwaStatus {
    /// The data, if known.
    pub swa: Option<Swa>,
    /// Where it comes from.
    pub source: SwaSource,
    /// Validity at the time asked.
    pub validity: SwaValidity,
}

/// Counted application sessions with limit events (MV2-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Session {
    /// A CSTA monitoring/control relation (one per app per terminal).
    Csta,
    /// A user using SIMPLE/MSRP through a third-party app.
    SimpleMsrp,
    /// An active Mitel Dialer instance.
    Dialer,
}

impl Session {
    const fn licence(self) -> LicenceType {
        match self {
            Self::Csta => LicenceType::CstaSessions,
            Self::SimpleMsrp => LicenceType::PresenceSync,
            Self::Dialer => LicenceType::Dialers,
        }
    }
    const fn class(self) -> LimitClass {
        match self {
            Self::Csta => LimitClass::CstaSessions,
            Self::SimpleMsrp => LimitClass::SimpleMsrp,
            Self::Dialer => LimitClass::Dialer,
        }
    }
}

impl Licensing {
    fn pool_key(&self, t: LicenceType, node: NodeId) -> PoolKey {
        match t.info().placement {
            crate::catalogue::Placement::Master => PoolKey::Licence(t),
            _ => PoolKey::NodeLicence(t, node),
        }
    }

    fn limit_reached(&mut self, class: LimitClass, licensed: u32) {
        let counterpart = class.catalogue_ids().1.is_some();
        if !counterpart || self.limits.insert(class) {
            self.push(Event::LimitReached { class, licensed });
        }
    }

    /// Emits back-within-limit events for classes that have room again.
    pub(crate) fn refresh_limits(&mut self) {
        let now_free: Vec<LimitClass> = self
            .limits
            .iter()
            .copied()
            .filter(|c| self.class_has_room(*c))
            .collect();
        for c in now_free {
            self.limits.remove(&c);
            self.push(Event::WithinLimit { class: c });
        }
    }

    fn class_has_room(&self, class: LimitClass) -> bool {
        // Test licences do not matter here: a class in the limit state had none running.
        let room = |t: LicenceType| {
            self.pools.in_use(self.pool_key(t, NodeId::LOCAL)) < self.file_units_dep(t)
        };
        match class {
            LimitClass::Users => false, // cleared by check_users only
            // Cleared by their configured-vs-licensed checks only.
            LimitClass::MobileExternal | LimitClass::Pms | LimitClass::MiCollab(_) => false,
            LimitClass::ProprietaryIp => {
                room(LicenceType::Ip5300Phones) || room(LicenceType::Softphone2380)
            }
            LimitClass::MitelSip => TerminalKind::MitelSip.candidates().iter().any(|t| room(*t)),
            LimitClass::StandardSip => room(LicenceType::SipTerminals),
            LimitClass::DualHoming => room(LicenceType::DualHoming),
            LimitClass::Dialer => room(LicenceType::Dialers),
            LimitClass::BluStar => room(LicenceType::BluStarSoftphones),
            LimitClass::CstaSessions => room(LicenceType::CstaSessions),
            LimitClass::SimpleMsrp => room(LicenceType::PresenceSync),
            LimitClass::VoipChannels | LimitClass::Qsig => true,
        }
    }

    fn file_units_dep(&self, t: LicenceType) -> u32 {
        if t.info().requires.iter().all(|r| self.file_units(*r) > 0) {
            self.file_units(t)
        } else {
            0
        }
    }

    /// Starts a test licence for `t` if the file holds none and it was never activated.
    fn maybe_test(&mut self, now: SystemTime, t: LicenceType) {
        if t.test_eligible()
            && self.file_units(t) == 0
            && !self.state.test_activations.contains_key(&t)
        {
            let _ = self.use_feature(now, t);
        }
    }

    /// Admits a terminal at registration, drawing its licence with the one-way fallbacks
    /// (MV-13). Refused registrations raise the class's limit event once.
    pub fn may_register(
        &mut self,
        now: SystemTime,
        kind: TerminalKind,
    ) -> Result<Registration, Refusal> {
        self.register_on(now, NodeId::LOCAL, kind)
    }

    /// [`Licensing::may_register`] for a terminal on another AIN node: the licence is drawn
    /// from the master's pool (or the node's, for per-node / backup-server types).
    pub fn register_on(
        &mut self,
        now: SystemTime,
        node: NodeId,
        kind: TerminalKind,
    ) -> Result<Registration, Refusal> {
        if kind == TerminalKind::Virtual {
            return Ok(Registration {
                leases: Vec::new(),
                grant: Grant::Free,
            });
        }
        let cands = kind.candidates();
        if let Some(&first) = cands.first()
            && cands.iter().all(|t| self.file_units(*t) == 0)
        {
            self.maybe_test(now, first);
        }
        if let Some(v) = kind.add_on() {
            self.maybe_test(now, v);
        }
        let base: Vec<(PoolKey, u32)> = cands
            .iter()
            .map(|t| (self.pool_key(*t, node), self.units(now, *t)))
            .collect();
        let primary = self.pools.acquire_first(&base);
        let add_on = kind
            .add_on()
            .map(|v| (self.pool_key(v, node), self.units(now, v)));
        let leases = match (primary, add_on) {
            (Some(l), None) => Some(vec![l]),
            (Some(l), Some(v)) => self.pools.acquire_all(&[v]).map(|mut vs| {
                vs.insert(0, l);
                vs
            }),
            (None, _) => None,
        };
        match leases {
            Some(leases) => {
                let grant = match leases.first().map(Lease::key) {
                    Some(PoolKey::Licence(t) | PoolKey::NodeLicence(t, _))
                        if self.file_units(t) == 0 =>
                    {
                        self.test_licence_expiry(t)
                            .map_or(Grant::Licensed, |expires| Grant::Test { expires })
                    }
                    _ => Grant::Licensed,
                };
                Ok(Registration { leases, grant })
            }
            None => {
                let class = kind.limit_class();
                match class {
                    Some(c) => {
                        let licensed = cands.iter().map(|t| self.file_units(*t)).sum();
                        self.limit_reached(c, licensed);
                    }
                    None => {
                        if let Some(&licence) = cands.first() {
                            self.push(Event::LicenceMissing { licence });
                        }
                    }
                }
                Err(class.map_or(Refusal::Unlicensed, Refusal::LimitReached))
            }
        }
    }

    /// Binds a package licence to a user (MV-15).
    pub fn assign_package(
        &mut self,
        now: SystemTime,
        user: UserId,
        package: Package,
    ) -> Result<PackageSeat, Refusal> {
        let t = package.licence();
        let cap = self.units(now, t);
        match self.pools.acquire_first(&[(PoolKey::Package(t), cap)]) {
            Some(lease) => Ok(PackageSeat {
                user,
                package,
                _lease: lease,
            }),
            None => Err(Refusal::Unlicensed),
        }
    }

    /// Registers a terminal of a packaged user: any terminal type, video included, up to
    /// the package's 1 or 8 terminals; no per-type licence is drawn (MV-15).
    pub fn register_with_package(
        &mut self,
        seat: &PackageSeat,
        kind: TerminalKind,
    ) -> Result<Registration, Refusal> {
        let key = PoolKey::PackageSlots(seat.user);
        match self.pools.acquire_first(&[(key, seat.package.terminals())]) {
            Some(l) if kind != TerminalKind::Virtual => Ok(Registration {
                leases: vec![l],
                grant: Grant::Licensed,
            }),
            Some(_) => Ok(Registration {
                leases: Vec::new(),
                grant: Grant::Free,
            }),
            None => Err(Refusal::PackageFull),
        }
    }

    /// The UCC bonus of the current licence set (MV-15).
    pub fn ucc_bonus(&self) -> UccBonus {
        ucc_bonus(
            self.file_units(LicenceType::EntryUccUser),
            self.file_units(LicenceType::StandardUccUser),
            self.file_units(LicenceType::PremiumUccUser),
        )
    }

    /// Users the licence set allows: User licences plus one per package (MV-15).
    pub fn user_capacity(&self) -> u32 {
        [
            LicenceType::User,
            LicenceType::BasicUser,
            LicenceType::EntryUccUser,
            LicenceType::StandardUccUser,
            LicenceType::PremiumUccUser,
        ]
        .iter()
        .fold(0u32, |a, t| a.saturating_add(self.file_units(*t)))
    }

    /// Checks the configured users against the user licences (MV-14, MV2-16). `users`
    /// lists each configured user's terminals; users with none or only virtual terminals
    /// need no licence. Returns whether every user needing one is covered. The missing
    /// event is raised once per shortage; its counterpart when the shortage ends.
    pub fn check_users(&mut self, users: &[UserTerminals]) -> bool {
        let needing = users.iter().filter(|u| u.needs_licence()).count();
        let needing = u32::try_from(needing).unwrap_or(u32::MAX);
        let cap = self.user_capacity();
        if needing > cap {
            if !self.state.user_missing_raised {
                self.state.user_missing_raised = true;
                self.limits.insert(LimitClass::Users);
                self.push(Event::LimitReached {
                    class: LimitClass::Users,
                    licensed: cap,
                });
                self.persist();
            }
            false
        } else {
            if self.state.user_missing_raised {
                self.state.user_missing_raised = false;
                self.limits.remove(&LimitClass::Users);
                self.push(Event::WithinLimit {
                    class: LimitClass::Users,
                });
                self.persist();
            }
            true
        }
    }

    /// Whether integrated mobile/external phones may be used: while more are configured
    /// than licensed, **all** stay blocked (MV2-26, 7897–7920).
    pub fn check_mobile_external(&mut self, now: SystemTime, configured: u32) -> bool {
        let licensed = self.units(now, LicenceType::MobileExternalPhones);
        self.check_configured(LimitClass::MobileExternal, configured, licensed)
    }

    /// Whether the PMS interface may be used for `rooms` configured rooms (MV2-26).
    pub fn check_pms(&mut self, now: SystemTime, rooms: u32) -> bool {
        let licensed = if self.feature_enabled(now, LicenceType::PmsInterface) {
            self.units(now, LicenceType::PmsRooms)
        } else {
            0
        };
        self.check_configured(LimitClass::Pms, rooms.max(1), licensed)
    }

    fn check_configured(&mut self, class: LimitClass, configured: u32, licensed: u32) -> bool {
        if configured > licensed {
            self.limit_reached(class, licensed);
            false
        } else {
            if self.limits.remove(&class) {
                self.push(Event::WithinLimit { class });
            }
            true
        }
    }

    /// Checks a MiCollab terminal limit (terminals per system, per user, MiCollab clients
    /// per user; the limits are system capacities given by the caller) and raises the
    /// limit / back-within-limit pair with its reason (MV2-26).
    pub fn check_micollab(&mut self, reason: MiCollabLimit, count: u32, limit: u32) -> bool {
        self.check_configured(LimitClass::MiCollab(reason), count, limit)
    }

    /// Warns when OpenCount monitors more users than licensed (MV-48, 2832–2833).
    pub fn check_opencount_users(&mut self, now: SystemTime, monitored: u32) -> bool {
        let licensed = self.units(now, LicenceType::OpenCountUsers);
        if monitored > licensed {
            self.push(Event::OpenCountUsersUnlicensed {
                monitored,
                licensed,
            });
            false
        } else {
            true
        }
    }

    /// Opens a counted session (CSTA, SIMPLE/MSRP, Dialer) (MV2-26).
    pub fn open_session(&mut self, now: SystemTime, kind: Session) -> Result<Lease, Refusal> {
        let t = kind.licence();
        self.maybe_test(now, t);
        let cap = self.units(now, t);
        match self.pools.acquire_first(&[(PoolKey::Licence(t), cap)]) {
            Some(l) => Ok(l),
            None => {
                self.limit_reached(kind.class(), cap);
                Err(Refusal::LimitReached(kind.class()))
            }
        }
    }

    /// Capacity of the AIN-wide audio-channel pool: Enterprise VM's 2, plus Audio Record
    /// & Play channels (only with Enterprise VM), plus the UCC bonus (MV-15, MV-16).
    pub fn audio_channels(&self, now: SystemTime) -> u32 {
        let evm = if self.feature_enabled(now, LicenceType::EnterpriseVoiceMail) {
            self.config
                .enterprise_vm_channels
                .saturating_add(self.units(now, LicenceType::AudioRecordPlayChannels))
        } else {
            0
        };
        evm.saturating_add(self.ucc_bonus().vm_channels)
    }

    /// Takes a channel for a call on `node` (MV-17, MV-18, MV-19). Pooled channels count
    /// simultaneous use across the whole AIN, whatever node uses them.
    pub fn acquire_channel(
        &mut self,
        now: SystemTime,
        node: NodeId,
        kind: ChannelKind,
    ) -> Result<ChannelGuard, Refusal> {
        let cands: Vec<(PoolKey, u32)> = match kind {
            ChannelKind::Audio => vec![(PoolKey::AudioChannels, self.audio_channels(now))],
            ChannelKind::Voip(MediaSwitch::VirtualAppliance) => {
                return Ok(ChannelGuard { lease: None });
            }
            ChannelKind::Voip(MediaSwitch::Hardware { g711 }) => {
                let mut v = Vec::new();
                if g711 {
                    v.push((PoolKey::FreeG711(node), self.config.free_g711_channels));
                }
                self.maybe_test(now, LicenceType::VoipChannels);
                v.push((
                    PoolKey::Licence(LicenceType::VoipChannels),
                    self.units(now, LicenceType::VoipChannels),
                ));
                v
            }
            ChannelKind::SipAccess => {
                self.maybe_test(now, LicenceType::SipAccessChannels);
                vec![(
                    PoolKey::Licence(LicenceType::SipAccessChannels),
                    self.units(now, LicenceType::SipAccessChannels),
                )]
            }
            ChannelKind::PriB { interface } => vec![
                (
                    PoolKey::FreePri { node, interface },
                    self.config.free_b_channels_per_pri,
                ),
                (
                    PoolKey::Licence(LicenceType::PriBChannels),
                    self.units(now, LicenceType::PriBChannels),
                ),
            ],
            ChannelKind::Qsig => {
                self.maybe_test(now, LicenceType::QsigChannels);
                vec![(
                    PoolKey::NodeLicence(LicenceType::QsigChannels, node),
                    self.node_units(now, node, LicenceType::QsigChannels),
                )]
            }
        };
        match self.pools.acquire_first(&cands) {
            Some(lease) => Ok(ChannelGuard { lease: Some(lease) }),
            None => {
                let licensed = cands.last().map_or(0, |c| c.1);
                let class = match kind {
                    ChannelKind::Voip(_) => Some(LimitClass::VoipChannels),
                    ChannelKind::Qsig => Some(LimitClass::Qsig),
                    _ => None,
                };
                match class {
                    Some(c) => self.limit_reached(c, licensed),
                    None => {
                        let licence = match kind {
                            ChannelKind::SipAccess => LicenceType::SipAccessChannels,
                            ChannelKind::PriB { .. } => LicenceType::PriBChannels,
                            _ => LicenceType::AudioRecordPlayChannels,
                        };
                        self.push(Event::LicenceMissing { licence });
                    }
                }
                Err(class.map_or(Refusal::Unlicensed, Refusal::LimitReached))
            }
        }
    }

    /// Takes the two VoIP channels of an inter-node AIN connection, one per end (MV-26):
    /// a VA master's end is free (MMS), a satellite's end draws from the AIN-wide VoIP
    /// pool (after its free G.711 channels). All or nothing.
    pub fn acquire_inter_node(
        &mut self,
        now: SystemTime,
        a: (NodeId, MediaSwitch),
        b: (NodeId, MediaSwitch),
    ) -> Result<[ChannelGuard; 2], Refusal> {
        let first = self.acquire_channel(now, a.0, ChannelKind::Voip(a.1))?;
        let second = self.acquire_channel(now, b.0, ChannelKind::Voip(b.1))?;
        Ok([first, second])
    }

    /// Units of a per-node licence on `node`. This engine knows its own node's file; the
    /// per-node licences of other AIN nodes are registered with
    /// [`Licensing::set_node_licences`].
    pub fn node_units(&self, now: SystemTime, node: NodeId, t: LicenceType) -> u32 {
        if node == NodeId::LOCAL {
            self.units(now, t)
        } else {
            self.node_licences.get(&(node, t)).copied().unwrap_or(0)
        }
    }

    /// Records the per-node licences (Secure VoIP, QSIG, Dual Homing) of another AIN node,
    /// as reported by that node (MV-18).
    pub fn set_node_licences(&mut self, node: NodeId, licences: &[(LicenceType, u32)]) {
        self.node_licences.retain(|(n, _), _| *n != node);
        for &(t, n) in licences {
            self.node_licences.insert((node, t), n);
        }
    }

    /// Whether `t` is enabled on `node`: per-node licences (Secure VoIP) must be on that
    /// node itself; master-placed ones come from the master (MV-17, MV-18).
    pub fn feature_enabled_on(&self, now: SystemTime, node: NodeId, t: LicenceType) -> bool {
        match t.info().placement {
            crate::catalogue::Placement::Master => self.feature_enabled(now, t),
            _ => self.node_units(now, node, t) > 0,
        }
    }

    /// Binds the OAI to a consumer: OpenCount *or* one third-party application (MV-20).
    pub fn bind_oai(&mut self, now: SystemTime, consumer: OaiConsumer) -> Result<(), Refusal> {
        if let Some(current) = self.oai {
            if current != consumer {
                return Err(Refusal::OaiBusy(current));
            }
            return Ok(());
        }
        self.use_feature(now, consumer.required_licence())?;
        self.oai = Some(consumer);
        Ok(())
    }

    /// Releases the OAI.
    pub fn unbind_oai(&mut self) {
        self.oai = None;
    }

    /// The licence server reported SWA data (MV-12).
    pub fn handle_swa_report(&mut self, now: SystemTime, swa: Swa) {
        self.swa_report = Some((swa, now));
    }

    /// The SWA status for `configured` users needing SWA, at `now` (MV-12). While the
    /// licence server is unreachable the last known report is shown as cached.
    pub fn swa_status(&self, now: SystemTime, configured: u32) -> SwaStatus {
        let (swa, source) = match self.swa_report {
            Some((swa, as_of)) if self.server_reachable() => {
                (Some(swa), SwaSource::Server { as_of })
            }
            Some((swa, as_of)) => (Some(swa), SwaSource::Cached { as_of }),
            None => (self.file.as_ref().and_then(|f| f.swa), SwaSource::File),
        };
        let validity = match swa {
            None => SwaValidity::Unknown,
            Some(s) if now >= crate::engine::expires_end(s.expires) => SwaValidity::Expired,
            Some(s) if configured > s.covered_users => SwaValidity::TooManyUsers {
                configured,
                covered: s.covered_users,
            },
            Some(_) => SwaValidity::Valid,
        };
        SwaStatus {
            swa,
            source,
            validity,
        }
    }
}
