//! The licensing state machine: licence set, modes, timers and events.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

use crate::catalogue::{Kind, LicenceType, OaiConsumer, Placement};
use crate::date::Date;
use crate::event::{Event, LimitClass, RestrictedCause};
use crate::file::{
    Activation, Binding, Eid, Expectations, LicenceFile, Release, SalesChannel, Swa, VerifyError,
};
use crate::key::TrustAnchors;
use crate::pool::{NodeId, Pools};
use crate::state::PersistentState;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// Timers and free allowances. Defaults are the seed's numbers; tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Restricted mode after boot/software load without SR or Base VA (4 h, MV-3).
    pub restricted_delay: Duration,
    /// Life of a test licence (60 days, MV-7).
    pub test_licence_period: Duration,
    /// Maximum life of offline temporary licences (36 h, MV-8).
    pub offline_licence_max: Duration,
    /// Satellite online without an upgrade licence restarts this often (4 h, MV-9).
    pub satellite_restart_interval: Duration,
    /// Satellite offline with a non-matching upgrade licence: restricted after (36 h, MV-9).
    pub satellite_offline_mismatch_delay: Duration,
    /// Satellite offline with no upgrade licence: restricted after (4 h, MV-9, A5).
    pub satellite_offline_unlicensed_delay: Duration,
    /// VA-EID mode: maximum time without licence-server contact (72 h, MV-10).
    pub server_contact_max: Duration,
    /// Gateway-EID mode: countdown after losing the gateway satellite (72 h, MV-11).
    pub gateway_loss_max: Duration,
    /// Quiet period after a clone suspicion before "no other clone" (24 h, MV2-22).
    pub clone_quiet_period: Duration,
    /// VA-EID mode: how often to contact the licence server (not in the seed: 1 h).
    pub server_contact_interval: Duration,
    /// Free B-channels per PRI interface (10, MV-19).
    pub free_b_channels_per_pri: u32,
    /// Free G.711 channels per hardware node in G.711 VoIP mode (2, MV-19).
    pub free_g711_channels: u32,
    /// Audio channels included in Enterprise Voice Mail (2).
    pub enterprise_vm_channels: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            restricted_delay: 4 * HOUR,
            test_licence_period: 60 * DAY,
            offline_licence_max: 36 * HOUR,
            satellite_restart_interval: 4 * HOUR,
            satellite_offline_mismatch_delay: 36 * HOUR,
            satellite_offline_unlicensed_delay: 4 * HOUR,
            server_contact_max: 72 * HOUR,
            gateway_loss_max: 72 * HOUR,
            clone_quiet_period: 24 * HOUR,
            server_contact_interval: HOUR,
            free_b_channels_per_pri: 10,
            free_g711_channels: 2,
            enterprise_vm_channels: 2,
        }
    }
}

/// The kind of server running the licensing engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// The Virtual Appliance: needs the Base VA licence as well as SR.
    VirtualAppliance,
    /// A hardware server (satellites are hardware).
    Hardware,
}

/// The satellite roles that need the satellite's own SR licence (MV-9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SatelliteRoles {
    /// Long-lasting offline operation.
    pub permanent_offline: bool,
    /// Secure VoIP on this satellite.
    pub secure_voip: bool,
    /// Backup server (Dual Homing).
    pub backup_server: bool,
}

impl SatelliteRoles {
    /// Whether any role requires the satellite's own valid SR licence.
    pub const fn requires_own_release(self) -> bool {
        self.permanent_offline || self.secure_voip || self.backup_server
    }
}

/// The node's place in an AIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A single system, or an AIN master (the licence holder of the AIN).
    Master,
    /// An AIN satellite.
    Satellite(SatelliteRoles),
}

/// Who this system is, for verification and for the mode rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Platform.
    pub platform: Platform,
    /// AIN role.
    pub role: Role,
    /// This system's EID.
    pub eid: Eid,
    /// Own-EID (online verification) or gateway-EID binding.
    pub binding: Binding,
    /// The sales channel chosen at commissioning (`None` after a sales-channel reset).
    pub sales_channel: Option<SalesChannel>,
    /// The running software release.
    pub release: Release,
}

/// Operating mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Normal operation.
    Normal,
    /// Restricted mode, with the lowest active cause code.
    Restricted(RestrictedCause),
}

/// Behaviours that restricted mode gates (MV-4), plus two it never gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Behaviour {
    /// Call information for incoming calls and during a call.
    CallInformation,
    /// Dial by name.
    DialByName,
    /// Functions by menu or function key, including enquiry call.
    MenuAndFunctionKeys,
    /// Team keys.
    TeamKeys,
    /// Feature codes (except remote maintenance on/off).
    FeatureCodes,
    /// CTI functions and dialling from a PC.
    CtiDialling,
    /// Routing to integrated mobile/external phones.
    MobileExternalRouting,
    /// Call-centre functions (routing to the ACD).
    CallCentre,
    /// Voicemail (routing to voicemail).
    VoiceMail,
    /// Announcement service.
    AnnouncementService,
    /// The remote-maintenance on/off feature code (never gated).
    RemoteMaintenanceFeatureCode,
    /// A basic call between terminals (never gated; implied by the seed).
    BasicCall,
}

impl Behaviour {
    /// Exactly the 10 behaviours restricted mode gates (2892–2920).
    pub const GATED: [Self; 10] = [
        Self::CallInformation,
        Self::DialByName,
        Self::MenuAndFunctionKeys,
        Self::TeamKeys,
        Self::FeatureCodes,
        Self::CtiDialling,
        Self::MobileExternalRouting,
        Self::CallCentre,
        Self::VoiceMail,
        Self::AnnouncementService,
    ];
}

/// What the licence server answered to a periodic contact (VA-EID mode, MV-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerVerdict {
    /// Licence valid, no clone seen.
    Valid,
    /// Another system with the same EID may exist.
    CloneSuspected,
    /// A clone is confirmed.
    CloneConfirmed,
    /// The server records gateway-EID mode while the system uses online verification
    /// (or the reverse).
    ModeMismatch,
    /// The server knows no valid licence for this EID.
    InvalidLicence,
}

/// Why a loaded licence file does not take effect.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file failed verification.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// After a sales-channel reset, a channel must be chosen before a file is loaded.
    #[error("no sales channel is set: choose one before loading a licence file")]
    NoSalesChannel,
}

/// The engine. See the crate documentation for the drive loop.
#[derive(Debug)]
pub struct Licensing {
    pub(crate) config: Config,
    pub(crate) identity: Identity,
    anchors: TrustAnchors,
    pub(crate) file: Option<LicenceFile>,
    expired: BTreeSet<LicenceType>,
    pub(crate) state: PersistentState,
    causes: BTreeSet<RestrictedCause>,
    restricted_deadline: Option<SystemTime>,
    server_reachable: bool,
    server_loss_reported: bool,
    gateway_loss_reported: bool,
    next_contact: Option<SystemTime>,
    reminder_sent: bool,
    temporary_expired: bool,
    clone_suspected_at: Option<SystemTime>,
    gateway_connected: bool,
    master_online: bool,
    pub(crate) master_view: BTreeMap<LicenceType, u32>,
    offline_licences: bool,
    next_restart: Option<SystemTime>,
    satellite_restrict_at: Option<SystemTime>,
    pub(crate) swa_report: Option<(Swa, SystemTime)>,
    pub(crate) pools: Pools,
    pub(crate) limits: BTreeSet<LimitClass>,
    pub(crate) oai: Option<OaiConsumer>,
    pub(crate) node_licences: BTreeMap<(NodeId, LicenceType), u32>,
    events: VecDeque<Event>,
}

fn add(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

fn hours_left(deadline: SystemTime, now: SystemTime) -> u32 {
    let left = deadline.duration_since(now).unwrap_or(Duration::ZERO);
    u32::try_from(left.as_secs().div_ceil(3600)).unwrap_or(u32::MAX)
}

impl Licensing {
    /// Boots the engine at `now` (a restart or the first start), with the persisted state
    /// of the previous run (or `PersistentState::default()` for a new system).
    pub fn new(
        config: Config,
        identity: Identity,
        anchors: TrustAnchors,
        state: PersistentState,
        now: SystemTime,
    ) -> Self {
        let mut me = Self {
            config,
            identity,
            anchors,
            file: None,
            expired: BTreeSet::new(),
            state,
            causes: BTreeSet::new(),
            restricted_deadline: None,
            server_reachable: true,
            server_loss_reported: false,
            gateway_loss_reported: false,
            next_contact: None,
            reminder_sent: false,
            temporary_expired: false,
            clone_suspected_at: None,
            gateway_connected: true,
            master_online: true,
            master_view: BTreeMap::new(),
            offline_licences: false,
            next_restart: None,
            satellite_restrict_at: None,
            swa_report: None,
            pools: Pools::new(),
            limits: BTreeSet::new(),
            oai: None,
            node_licences: BTreeMap::new(),
            events: VecDeque::new(),
        };
        if me.online_verification() {
            me.next_contact = Some(now);
        }
        // A countdown persisted by the previous run means the link was down: it counts as
        // down until the first successful contact / the AIN reports the satellite.
        me.server_reachable = me.state.server_countdown_start.is_none();
        me.gateway_connected = me.state.gateway_countdown_start.is_none();
        if let Some(since) = me.state.offline_since {
            // A satellite restarted while offline keeps its offline clock.
            me.master_online = false;
            me.enter_offline(since, now);
        }
        me.start_release_check(now);
        me
    }

    /// Boots with the licence file kept from the previous run (verified again).
    pub fn with_file(mut self, now: SystemTime, text: &str) -> Result<Self, LoadError> {
        self.load_file(now, text)?;
        Ok(self)
    }

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The identity.
    pub const fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The loaded licence file, if any.
    pub const fn file(&self) -> Option<&LicenceFile> {
        self.file.as_ref()
    }

    /// The state to persist (write it atomically on [`Event::PersistentStateChanged`]).
    pub const fn persistent_state(&self) -> &PersistentState {
        &self.state
    }

    /// The shared pool counters (for the AIN layer acting for satellites).
    pub fn pools(&self) -> Pools {
        self.pools.clone()
    }

    /// The "online licence verification" flag of the licence view (MV2-20).
    pub fn online_verification(&self) -> bool {
        self.identity.platform == Platform::VirtualAppliance
            && self.identity.role == Role::Master
            && self.identity.binding == Binding::OwnEid
    }

    /// Current mode.
    pub fn mode(&self) -> Mode {
        match self.causes.first() {
            None => Mode::Normal,
            Some(c) => Mode::Restricted(*c),
        }
    }

    /// All active restricted-mode causes.
    pub fn restricted_causes(&self) -> impl Iterator<Item = RestrictedCause> + '_ {
        self.causes.iter().copied()
    }

    /// Whether a behaviour is allowed in the current mode (MV-4).
    pub fn behaviour_allowed(&self, b: Behaviour) -> bool {
        self.causes.is_empty() || !Behaviour::GATED.contains(&b)
    }

    /// Whether the licence server answered the last contact.
    pub const fn server_reachable(&self) -> bool {
        self.server_reachable
    }

    /// Whether the gateway satellite's functions are usable (MV-11).
    pub const fn gateway_functions_available(&self) -> bool {
        self.gateway_connected
    }

    /// Next event, if any. Drain after every `handle_*` call.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.refresh_limits();
        }
        self.events.pop_front()
    }

    pub(crate) fn push(&mut self, e: Event) {
        tracing_event(&e);
        self.events.push_back(e);
    }

    pub(crate) fn persist(&mut self) {
        if !self.events.contains(&Event::PersistentStateChanged) {
            self.push(Event::PersistentStateChanged);
        }
    }

    fn add_cause(&mut self, cause: RestrictedCause) {
        if self.causes.insert(cause) {
            let va = self.identity.platform == Platform::VirtualAppliance;
            self.push(Event::RestrictedModeActivated {
                cause,
                virtual_appliance: va,
            });
        }
    }

    fn clear_cause(&mut self, cause: RestrictedCause) {
        if self.causes.remove(&cause) && self.causes.is_empty() {
            self.push(Event::RestrictedModeDeactivated);
        }
    }

    /// Whether the local file lets this release run (SR covering it, and Base VA on a VA,
    /// and an unexpired activation).
    pub fn licensed_to_run(&self, now: SystemTime) -> bool {
        let Some(f) = &self.file else { return false };
        let sr = self
            .own_release()
            .is_some_and(|r| r.covers(self.identity.release));
        let base = self.identity.platform != Platform::VirtualAppliance
            || self.own(LicenceType::BaseVirtualAppliance) > 0;
        let active = match f.activation {
            Activation::Permanent => true,
            Activation::Temporary { expires } => now < expires_end(expires),
        };
        sr && base && active
    }

    /// Units of `t` in the node's own file, 0 once the licence's end date has passed.
    fn own(&self, t: LicenceType) -> u32 {
        if self.expired.contains(&t) {
            return 0;
        }
        self.file.as_ref().map_or(0, |f| f.count(t))
    }

    /// The own file's SR release, unless it has ended.
    fn own_release(&self) -> Option<Release> {
        if self.expired.contains(&LicenceType::SoftwareRelease) {
            return None;
        }
        self.file.as_ref().and_then(LicenceFile::software_release)
    }

    fn ended(file: &LicenceFile, now: SystemTime) -> BTreeSet<LicenceType> {
        file.expires
            .iter()
            .filter(|(_, d)| now >= expires_end(**d))
            .map(|(t, _)| *t)
            .collect()
    }

    /// Whether the 4 h rule applies to this node (masters, and satellites whose roles need
    /// their own SR; other satellites follow the satellite rules, MV-9).
    fn release_rule_applies(&self) -> bool {
        match self.identity.role {
            Role::Master => true,
            Role::Satellite(r) => r.requires_own_release(),
        }
    }

    fn start_release_check(&mut self, now: SystemTime) {
        self.restricted_deadline = None;
        if self.release_rule_applies() && !self.licensed_to_run(now) {
            self.restricted_deadline = Some(add(now, self.config.restricted_delay));
            self.push(Event::InvalidLicenceRestrictedIn4h);
        }
        self.schedule_satellite(now);
    }

    /// New software `release` was loaded at `now` (the system restarts into it): the 4 h
    /// check starts again (MV-3, MV2-19).
    pub fn handle_software_load(&mut self, now: SystemTime, release: Release) {
        self.identity.release = release;
        self.start_release_check(now);
    }

    /// Verifies `text` and, if valid, replaces the licence set (MV-1, MV-2). A file with a
    /// valid SR licence lifts restricted mode at once, without restart.
    pub fn load_file(&mut self, now: SystemTime, text: &str) -> Result<(), LoadError> {
        let channel = self
            .identity
            .sales_channel
            .as_ref()
            .ok_or(LoadError::NoSalesChannel)?;
        let expect = Expectations {
            anchors: &self.anchors,
            eid: &self.identity.eid,
            binding: &self.identity.binding,
            sales_channel: Some(channel),
        };
        let file = LicenceFile::verify(text, &expect)?;
        let was_temporary = self
            .file
            .as_ref()
            .is_some_and(|f| matches!(f.activation, Activation::Temporary { .. }));
        let activation = file.activation;
        self.temporary_expired = false;
        self.expired = Self::ended(&file, now);
        self.file = Some(file);
        self.push(Event::LicenceFileLoaded);
        match activation {
            Activation::Temporary { .. } => {
                if !was_temporary {
                    self.push(Event::PermanentActivationMissing);
                }
            }
            Activation::Permanent => {
                if was_temporary {
                    self.push(Event::PermanentActivationAvailable);
                }
            }
        }
        if self.licensed_to_run(now) {
            self.restricted_deadline = None;
            self.clear_cause(RestrictedCause::NoValidLicence);
        } else if self.release_rule_applies() && self.restricted_deadline.is_none() {
            if self.causes.contains(&RestrictedCause::NoValidLicence) {
                // Already restricted: stays so until a valid file arrives.
            } else {
                self.restricted_deadline = Some(add(now, self.config.restricted_delay));
            }
        }
        self.schedule_satellite(now);
        Ok(())
    }

    /// Factory reset to delivery state: the licence set is removed (systems ship
    /// unlicensed; licences are never returned, MV-21). Test-licence activations are kept
    /// (once per feature for the life of the system).
    pub fn factory_reset(&mut self, now: SystemTime) {
        self.file = None;
        self.start_release_check(now);
    }

    /// A first start (MV2-27). A plain first start keeps the licence file; with
    /// `reset_sales_channel` the channel and the file are cleared and must be supplied
    /// again ([`Licensing::set_sales_channel`], then [`Licensing::load_file`]).
    pub fn first_start(&mut self, now: SystemTime, reset_sales_channel: bool) {
        if reset_sales_channel {
            self.identity.sales_channel = None;
            self.file = None;
        }
        self.start_release_check(now);
    }

    /// Chooses the sales channel (commissioning step 1).
    pub fn set_sales_channel(&mut self, channel: SalesChannel) {
        self.identity.sales_channel = Some(channel);
    }

    /// Switches support mode on or off (restricted cause 5, MV2-21).
    pub fn set_support_mode(&mut self, on: bool) {
        if on {
            self.add_cause(RestrictedCause::SupportMode);
        } else {
            self.clear_cause(RestrictedCause::SupportMode);
        }
    }

    // ---- VA-EID mode (MV-10, MV2-22) ----

    /// The licence server answered.
    pub fn handle_server_response(&mut self, now: SystemTime, verdict: ServerVerdict) {
        self.server_loss_reported = false;
        if !self.server_reachable {
            self.server_reachable = true;
            self.push(Event::LicenceServerRestored);
        }
        if self
            .state
            .server_countdown_start
            .is_some_and(|s| now >= add(s, self.config.server_contact_max))
        {
            self.state.server_countdown_start = None;
            self.persist();
        }
        self.clear_cause(RestrictedCause::LicenceServerUnreachable);
        match verdict {
            ServerVerdict::Valid => {
                self.clear_cause(RestrictedCause::CloneConfirmed);
                self.clear_cause(RestrictedCause::VerificationModeMismatch);
                if self.licensed_to_run(now) {
                    self.clear_cause(RestrictedCause::NoValidLicence);
                }
            }
            ServerVerdict::InvalidLicence => self.add_cause(RestrictedCause::NoValidLicence),
            ServerVerdict::CloneSuspected => {
                if self.clone_suspected_at.is_none() {
                    self.push(Event::PotentialCloneDetected);
                }
                self.clone_suspected_at = Some(now);
            }
            ServerVerdict::CloneConfirmed => self.add_cause(RestrictedCause::CloneConfirmed),
            ServerVerdict::ModeMismatch => {
                self.add_cause(RestrictedCause::VerificationModeMismatch);
            }
        }
        if !self.reminder_sent
            && let Some(Activation::Temporary { expires }) =
                self.file.as_ref().map(|f| f.activation)
        {
            self.reminder_sent = true;
            self.push(Event::TemporaryActivationExpires { expires });
        }
        self.next_contact = Some(add(now, self.config.server_contact_interval));
    }

    /// The periodic check to send to the licence server (see [`crate::sls`]); `instance`
    /// is the random id the embedder drew at boot.
    pub fn check_request(&self, instance: u64) -> crate::sls::CheckRequest {
        crate::sls::CheckRequest {
            eid: self.identity.eid.clone(),
            instance,
            verification: match self.identity.binding {
                Binding::OwnEid => crate::sls::Verification::Online,
                Binding::Gateway(_) => crate::sls::Verification::Gateway,
            },
            release: self.identity.release,
        }
    }

    /// Feeds the server's answer: its verdict and, if given, its SWA record (MV-10, MV-12).
    pub fn handle_check_response(&mut self, now: SystemTime, resp: crate::sls::CheckResponse) {
        if let Some(swa) = resp.swa {
            self.swa_report = Some((swa, now));
        }
        self.handle_server_response(now, resp.verdict);
    }

    /// The licence server could not be reached. Starts the 72 h countdown unless one is
    /// already running: a countdown is never restarted by a new loss (A4).
    pub fn handle_server_unreachable(&mut self, now: SystemTime) {
        let start = match self.state.server_countdown_start {
            Some(s) => s,
            None => {
                self.state.server_countdown_start = Some(now);
                self.persist();
                now
            }
        };
        self.server_reachable = false;
        if !self.server_loss_reported {
            self.server_loss_reported = true;
            let deadline = add(start, self.config.server_contact_max);
            self.push(Event::LicenceServerUnreachable {
                hours_until_restricted: hours_left(deadline, now),
            });
        }
        self.next_contact = Some(add(now, self.config.server_contact_interval));
    }

    // ---- Gateway-EID mode (MV-11, MV2-23) ----

    /// The master lost the gateway satellite. Starts the 72 h countdown unless running.
    pub fn handle_gateway_lost(&mut self, now: SystemTime) {
        let start = match self.state.gateway_countdown_start {
            Some(s) => s,
            None => {
                self.state.gateway_countdown_start = Some(now);
                self.persist();
                now
            }
        };
        self.gateway_connected = false;
        if !self.gateway_loss_reported {
            self.gateway_loss_reported = true;
            let deadline = add(start, self.config.gateway_loss_max);
            self.push(Event::GatewaySatelliteLost {
                hours_until_restricted: hours_left(deadline, now),
            });
        }
    }

    /// The gateway satellite is back. The countdown keeps running (A4); restricted mode
    /// caused by the loss ends.
    pub fn handle_gateway_restored(&mut self, now: SystemTime) {
        self.gateway_loss_reported = false;
        if !self.gateway_connected {
            self.gateway_connected = true;
            self.push(Event::GatewaySatelliteRestored);
        }
        if self
            .state
            .gateway_countdown_start
            .is_some_and(|s| now >= add(s, self.config.gateway_loss_max))
        {
            self.state.gateway_countdown_start = None;
            self.persist();
        }
        self.clear_cause(RestrictedCause::GatewaySatelliteLost);
    }

    // ---- Satellite (MV-8, MV-9) ----

    /// The satellite receives the master's licence counts while online (MV-25).
    pub fn handle_master_licences(&mut self, counts: BTreeMap<LicenceType, u32>) {
        self.master_view = counts;
    }

    /// The satellite lost the master and restarts offline: the offline set is unlocked for
    /// at most 36 h.
    pub fn handle_master_lost(&mut self, now: SystemTime) {
        if !self.master_online {
            return;
        }
        self.master_online = false;
        self.state.offline_since = Some(now);
        self.persist();
        self.enter_offline(now, now);
    }

    fn enter_offline(&mut self, since: SystemTime, now: SystemTime) {
        let until = add(since, self.config.offline_licence_max);
        if now < until {
            self.offline_licences = true;
            self.push(Event::OfflineLicencesGranted { until });
        }
        self.schedule_satellite(now);
    }

    /// The master is back: offline licences are revoked.
    pub fn handle_master_restored(&mut self, now: SystemTime) {
        if self.master_online {
            return;
        }
        self.master_online = true;
        self.state.offline_since = None;
        self.persist();
        if self.offline_licences {
            self.offline_licences = false;
            self.push(Event::OfflineLicencesRevoked);
        }
        if !self.release_rule_applies() {
            self.clear_cause(RestrictedCause::NoValidLicence);
        }
        self.schedule_satellite(now);
    }

    /// Whether this node is online (always true for a master).
    pub const fn master_online(&self) -> bool {
        self.master_online
    }

    /// Whether offline temporary licences are in force.
    pub const fn offline_licences_active(&self) -> bool {
        self.offline_licences
    }

    fn schedule_satellite(&mut self, now: SystemTime) {
        self.next_restart = None;
        self.satellite_restrict_at = None;
        let Role::Satellite(roles) = self.identity.role else {
            return;
        };
        if roles.requires_own_release() {
            return;
        }
        let upgrade = self.own_release();
        if self.master_online {
            if upgrade.is_none() {
                self.next_restart = Some(add(now, self.config.satellite_restart_interval));
            }
        } else {
            let since = self.state.offline_since.unwrap_or(now);
            self.satellite_restrict_at = match upgrade {
                None => Some(add(since, self.config.satellite_offline_unlicensed_delay)),
                Some(r) if !r.covers(self.identity.release) => {
                    Some(add(since, self.config.satellite_offline_mismatch_delay))
                }
                Some(_) => None,
            };
        }
    }

    // ---- Time ----

    /// When [`Licensing::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        let c = &self.config;
        let mut all = vec![
            self.restricted_deadline,
            self.next_contact,
            self.clone_suspected_at
                .map(|t| add(t, c.clone_quiet_period)),
            self.state
                .server_countdown_start
                .filter(|_| {
                    !self
                        .causes
                        .contains(&RestrictedCause::LicenceServerUnreachable)
                })
                .map(|t| add(t, c.server_contact_max)),
            self.state
                .gateway_countdown_start
                .filter(|_| !self.causes.contains(&RestrictedCause::GatewaySatelliteLost))
                .map(|t| add(t, c.gateway_loss_max)),
            self.next_restart,
            self.satellite_restrict_at,
            self.file.as_ref().and_then(|f| match f.activation {
                Activation::Temporary { expires } if !self.temporary_expired => {
                    Some(expires_end(expires))
                }
                _ => None,
            }),
        ];
        if let Some(f) = &self.file {
            all.extend(
                f.expires
                    .iter()
                    .filter(|(t, _)| !self.expired.contains(t))
                    .map(|(_, d)| Some(expires_end(*d))),
            );
        }
        if self.offline_licences {
            all.push(
                self.state
                    .offline_since
                    .map(|t| add(t, c.offline_licence_max)),
            );
        }
        for (t, at) in &self.state.test_activations {
            if !self.state.test_expiry_reported.contains(t) {
                all.push(Some(add(*at, c.test_licence_period)));
            }
        }
        all.into_iter().flatten().min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let c = self.config.clone();
        if self.restricted_deadline.is_some_and(|d| now >= d) {
            self.restricted_deadline = None;
            if !self.licensed_to_run(now) {
                self.add_cause(RestrictedCause::NoValidLicence);
            }
        }
        if let Some(Activation::Temporary { expires }) = self.file.as_ref().map(|f| f.activation)
            && !self.temporary_expired
            && now >= expires_end(expires)
        {
            self.temporary_expired = true;
            if self.release_rule_applies() {
                self.add_cause(RestrictedCause::NoValidLicence);
            }
        }
        if let Some(f) = &self.file {
            let ended: Vec<LicenceType> = Self::ended(f, now)
                .into_iter()
                .filter(|t| !self.expired.contains(t))
                .collect();
            for t in ended {
                self.expired.insert(t);
                self.push(Event::LicenceExpired { licence: t });
            }
            if self.release_rule_applies()
                && !self.licensed_to_run(now)
                && self.restricted_deadline.is_none()
                && !self.causes.contains(&RestrictedCause::NoValidLicence)
            {
                self.restricted_deadline = Some(add(now, c.restricted_delay));
                self.push(Event::InvalidLicenceRestrictedIn4h);
            }
        }
        if self.next_contact.is_some_and(|t| now >= t) {
            self.next_contact = None;
            self.push(Event::LicenceServerContactDue);
        }
        if self
            .clone_suspected_at
            .is_some_and(|t| now >= add(t, c.clone_quiet_period))
        {
            self.clone_suspected_at = None;
            self.push(Event::NoOtherCloneDetected);
        }
        // A4: at expiry, re-evaluate. Link up: the countdown ends. Link down: restricted,
        // and the (persisted) start stays until the link returns, so a restart cannot
        // lift the restriction.
        if let Some(start) = self.state.server_countdown_start
            && now >= add(start, c.server_contact_max)
        {
            if self.server_reachable {
                self.state.server_countdown_start = None;
                self.persist();
            } else {
                self.add_cause(RestrictedCause::LicenceServerUnreachable);
            }
        }
        if let Some(start) = self.state.gateway_countdown_start
            && now >= add(start, c.gateway_loss_max)
        {
            if self.gateway_connected {
                self.state.gateway_countdown_start = None;
                self.persist();
            } else {
                self.add_cause(RestrictedCause::GatewaySatelliteLost);
            }
        }
        if self.offline_licences
            && let Some(since) = self.state.offline_since
            && now >= add(since, c.offline_licence_max)
        {
            self.offline_licences = false;
            self.push(Event::OfflineLicencesExpired);
        }
        if let Some(t) = self.next_restart
            && now >= t
        {
            self.next_restart = Some(add(now, c.satellite_restart_interval));
            self.push(Event::SatelliteRestartRequired);
        }
        if self.satellite_restrict_at.is_some_and(|t| now >= t) {
            self.satellite_restrict_at = None;
            self.add_cause(RestrictedCause::NoValidLicence);
        }
        let due: Vec<LicenceType> = self
            .state
            .test_activations
            .iter()
            .filter(|(t, at)| {
                !self.state.test_expiry_reported.contains(t)
                    && now >= add(**at, c.test_licence_period)
            })
            .map(|(t, _)| *t)
            .collect();
        for t in due {
            self.state.test_expiry_reported.insert(t);
            self.persist();
            if self.file_units(t) == 0 {
                self.push(Event::TestLicenceExpired { licence: t });
            }
        }
    }

    // ---- The effective licence set ----

    /// Units of `t` from licence files only (own file, or the master's view on an online
    /// satellite, or the offline temporary set), ignoring test licences and dependencies.
    pub(crate) fn file_units(&self, t: LicenceType) -> u32 {
        let own = self.own(t);
        match (self.identity.role, t.info().placement) {
            (Role::Satellite(_), Placement::Master) => {
                let master = self.master_view.get(&t).copied().unwrap_or(0);
                let from_master =
                    if self.master_online || (self.offline_licences && t.offline_eligible()) {
                        master
                    } else {
                        0
                    };
                own.max(from_master)
            }
            _ => own,
        }
    }

    /// Whether a test licence for `t` is running at `now`.
    pub fn test_licence_active(&self, now: SystemTime, t: LicenceType) -> bool {
        self.state
            .test_activations
            .get(&t)
            .is_some_and(|at| now < add(*at, self.config.test_licence_period))
    }

    /// When the test licence for `t` ends (running or not), if it was ever activated.
    pub fn test_licence_expiry(&self, t: LicenceType) -> Option<SystemTime> {
        self.state
            .test_activations
            .get(&t)
            .map(|at| add(*at, self.config.test_licence_period))
    }

    /// Effective units of `t` at `now`: file (or master / offline set), or unlimited
    /// (`u32::MAX`) under a running test licence; 0 while a dependency is missing (MV-16).
    pub fn units(&self, now: SystemTime, t: LicenceType) -> u32 {
        let deps_ok = t.info().requires.iter().all(|r| self.units(now, *r) > 0);
        if !deps_ok {
            return 0;
        }
        if self.test_licence_active(now, t) {
            return u32::MAX;
        }
        self.file_units(t)
    }

    /// Whether the feature of `t` may be used at `now` (a read-only check; see
    /// [`Licensing::use_feature`] for first use, which may start a test licence).
    pub fn feature_enabled(&self, now: SystemTime, t: LicenceType) -> bool {
        match t {
            LicenceType::SoftwareRelease => self.licensed_to_run(now),
            _ => self.units(now, t) > 0,
        }
    }

    /// Uses the feature of `t`: if it is unlicensed, test-eligible and its test licence
    /// was never activated, a 60-day test licence starts now (MV-7, MV2-18).
    pub fn use_feature(&mut self, now: SystemTime, t: LicenceType) -> Result<Grant, Refusal> {
        if let Some(missing) = t
            .info()
            .requires
            .iter()
            .copied()
            .find(|r| !self.feature_enabled(now, *r))
        {
            return Err(Refusal::MissingDependency(missing));
        }
        if self.file_units(t) > 0 {
            return Ok(Grant::Licensed);
        }
        if let Some(exp) = self.test_licence_expiry(t) {
            return if now < exp {
                Ok(Grant::Test { expires: exp })
            } else {
                Err(Refusal::TestLicenceUsed)
            };
        }
        if !t.test_eligible() {
            return Err(Refusal::Unlicensed);
        }
        self.state.test_activations.insert(t, now);
        let expires = add(now, self.config.test_licence_period);
        self.push(Event::TestLicenceActivated {
            licence: t,
            expires,
        });
        self.persist();
        Ok(Grant::Test { expires })
    }

    /// The licence view (=q9): every listed licence the node holds, with test licences and
    /// their expiry. The Base VA licence (fn 4) and offline temporary licences (MV-8) are
    /// not shown.
    pub fn licence_view(&self, now: SystemTime) -> Vec<ViewEntry> {
        let mut out = Vec::new();
        for &t in LicenceType::ALL {
            if !t.info().listed {
                continue;
            }
            let own = self.own(t);
            let visible = match (self.identity.role, t.info().placement) {
                (Role::Satellite(_), Placement::Master) if self.master_online => {
                    own.max(self.master_view.get(&t).copied().unwrap_or(0))
                }
                _ => own,
            };
            if visible > 0 {
                let value = match (t.info().kind, t) {
                    (_, LicenceType::SoftwareRelease) => ViewValue::Release(self.own_release()),
                    (Kind::Count, _) => ViewValue::Units(visible),
                    (Kind::Switch, _) => ViewValue::Unlocked,
                };
                out.push(ViewEntry {
                    licence: t,
                    value,
                    test_expires: None,
                });
            } else if let Some(exp) = self.test_licence_expiry(t) {
                out.push(ViewEntry {
                    licence: t,
                    value: ViewValue::Test { running: now < exp },
                    test_expires: Some(exp),
                });
            }
        }
        out
    }

    /// Limit classes currently in the limit-reached state.
    pub fn limits_reached(&self) -> impl Iterator<Item = LimitClass> + '_ {
        self.limits.iter().copied()
    }

    /// The NodeId of this engine's own node (the master in an AIN).
    pub const fn local_node(&self) -> NodeId {
        NodeId::LOCAL
    }
}

/// The end (exclusive) of a day given as a last day of validity.
pub(crate) fn expires_end(d: Date) -> SystemTime {
    add(d.start(), DAY)
}

/// How a feature use was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// By a licence.
    Licensed,
    /// By a running test licence.
    Test {
        /// When it ends.
        expires: SystemTime,
    },
    /// Without a licence (free allowance, virtual terminal, unlicensed VA MMS channel).
    Free,
}

/// Why a feature use was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No licence and no test licence available.
    #[error("no licence")]
    Unlicensed,
    /// The feature's one test licence was already used.
    #[error("no licence; the test licence for this feature was already used")]
    TestLicenceUsed,
    /// A prerequisite licence is missing (MV-16).
    #[error("requires licence {0}")]
    MissingDependency(LicenceType),
    /// Every licence unit is in use.
    #[error("all licences of class {0:?} are in use")]
    LimitReached(LimitClass),
    /// The user's package has no free terminal slot (1 for Basic User, 8 for UCC).
    #[error("the user's package has no free terminal slot")]
    PackageFull,
    /// The OAI is held by another consumer (MV-20).
    #[error("the OAI is already used by {0:?}")]
    OaiBusy(OaiConsumer),
}

/// One line of the licence view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewEntry {
    /// The licence type.
    pub licence: LicenceType,
    /// What the node holds.
    pub value: ViewValue,
    /// For a test licence, its expiry date (shown under State, MV2-18).
    pub test_expires: Option<SystemTime>,
}

/// The value shown in the licence view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewValue {
    /// Units of a count licence.
    Units(u32),
    /// An unlocked switch.
    Unlocked,
    /// The SR licence's release.
    Release(Option<Release>),
    /// A test licence (running or ended).
    Test {
        /// Whether it is still running.
        running: bool,
    },
}

fn tracing_event(e: &Event) {
    tracing::debug!(event = ?e, "licensing event");
}
