//! UC-module and service status as events (UCM §5, UCM-EV-1..UCM-EV-8).
//!
//! Small sans-IO state machines, each returning the [`UcmEvent`]s it raises:
//! [`ModuleMonitor`] (lifecycle states S1–S13, E1–E6, U1–U8, X1–X4), [`Heartbeat`] (5 s),
//! [`ServiceMonitor`] (running/stopped/degraded/starting/stopping), [`LockoutCounter`],
//! [`UpgradeProgress`], [`Session`] (inactivity) and [`LogArchives`].

use core::time::Duration;
use std::collections::BTreeMap;

use crate::kind::Severity;
use crate::time::Timestamp;

macro_rules! module_states {
    ($($(#[$m:meta])* $v:ident = ($code:literal, $ssa:expr, $err:literal)),+ $(,)?) => {
        /// A UC-module lifecycle state (UCM §5.2).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ModuleState {
            $($(#[$m])* $v,)+
        }

        impl ModuleState {
            /// Every state, in table order.
            pub const ALL: &'static [Self] = &[$(Self::$v),+];

            /// The state's code in the table (`S1`, `E6`, `U5`, `X4`…).
            pub const fn code(self) -> &'static str {
                match self { $(Self::$v => $code,)+ }
            }

            /// The SSA status string (`None` where the manual gives none).
            pub const fn ssa_status(self) -> Option<&'static str> {
                match self { $(Self::$v => $ssa,)+ }
            }

            /// Whether the state is an error state (E1–E6, X1–X4, S7), for which SSA raises
            /// an alert (UCM-EV-1).
            pub const fn is_error(self) -> bool {
                match self { $(Self::$v => $err,)+ }
            }
        }
    };
}

module_states! {
    /// S1 shutting down.
    ShuttingDown = ("S1", Some("Shutting down"), false),
    /// S2 stopped.
    Stopped = ("S2", Some("Shutdown"), false),
    /// S3 BIOS upgrade.
    BiosUpgrade = ("S3", None, false),
    /// S4 IPO shutting down.
    IpoShuttingDown = ("S4", None, false),
    /// S5 IPO stopped.
    IpoStopped = ("S5", None, false),
    /// S6 IPO starting.
    IpoStarting = ("S6", None, false),
    /// S7 module not supported.
    NotSupported = ("S7", Some("Error"), true),
    /// S8 module starting.
    Starting = ("S8", Some("Starting"), false),
    /// S9 module initialising.
    Initialising = ("S9", Some("Initialisation"), false),
    /// S10 OS booting.
    OsBooting = ("S10", Some("OS booting"), false),
    /// S11 initialisation required.
    InitialisationRequired = ("S11", Some("Idle, card not powered up"), false),
    /// S12 applications starting.
    ApplicationsStarting = ("S12", Some("Applications starting"), false),
    /// S13 operational.
    Operational = ("S13", Some("Operational"), false),
    /// E1 initialisation error.
    InitialisationError = ("E1", Some("Initialisation"), true),
    /// E2 no boot device.
    NoBootDevice = ("E2", Some("No bootable device found"), true),
    /// E3 boot failure.
    BootFailure = ("E3", Some("OS boot failure"), true),
    /// E4 application start error.
    ApplicationStartError = ("E4", Some("Application start error"), true),
    /// E5 application crashed.
    ApplicationCrashed = ("E5", Some("Software error"), true),
    /// E6 IPO communication error.
    IpoCommunicationError = ("E6", Some("Hardware error"), true),
    /// U1 USB: module starting.
    UsbStarting = ("U1", Some("Starting"), false),
    /// U2 USB: initialising.
    UsbInitialising = ("U2", Some("Initialisation"), false),
    /// U3 USB: module started (v1 only).
    UsbStarted = ("U3", Some("Started"), false),
    /// U4 booting from USB.
    UsbBooting = ("U4", Some("USB boot"), false),
    /// U5 upgrading.
    Upgrading = ("U5", Some("Install/upgrade from USB"), false),
    /// U6 finishing installation.
    FinishingInstallation = ("U6", Some("Finishing installation"), false),
    /// U7 applications starting.
    UsbApplicationsStarting = ("U7", Some("Applications starting"), false),
    /// U8 initialisation required.
    UsbInitialisationRequired = ("U8", Some("Idle, card not powered up"), false),
    /// X1 no USB upgrade found.
    NoUsbUpgrade = ("X1", Some("No bootable USB device found"), true),
    /// X2 USB boot failure.
    UsbBootFailure = ("X2", Some("USB boot failure"), true),
    /// X3 USB upgrade failure.
    UsbUpgradeFailure = ("X3", None, true),
    /// X4 boot failure from USB.
    UsbOsBootFailure = ("X4", Some("OS boot failure"), true),
}

/// An application service state (UCM §5.1, UCM-EV-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceState {
    /// Running: green.
    Running,
    /// Stopped: red.
    Stopped,
    /// Started but not working properly: yellow.
    Degraded,
    /// Starting.
    Starting,
    /// Stopping (Force Stop offered if it lasts too long).
    Stopping,
}

/// A health colour of the WM platform view (UCM-EV-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Running.
    Green,
    /// Degraded.
    Yellow,
    /// Stopped.
    Red,
    /// Transitional (starting, stopping): no colour given.
    Transitional,
}

impl ServiceState {
    /// The tri-colour health (UCM-EV-3).
    pub const fn health(self) -> Health {
        match self {
            Self::Running => Health::Green,
            Self::Degraded => Health::Yellow,
            Self::Stopped => Health::Red,
            Self::Starting | Self::Stopping => Health::Transitional,
        }
    }
}

/// A UC-module repository (UCM §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repository {
    /// Operating system (YUM).
    OperatingSystem,
    /// Applications (RPMs).
    Applications,
    /// Downloads (Windows clients).
    Downloads,
}

/// Why a web session ended (UCM-EV-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The inactivity timeout elapsed.
    Inactivity,
    /// The documented time-zone mismatch between browser and server.
    TimeZoneMismatch,
}

/// An event about the UC module or its services.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UcmEvent {
    /// The module changed state (UCM-EV-1); `alert` for every error state.
    ModuleState {
        /// Previous state.
        from: Option<ModuleState>,
        /// New state.
        to: ModuleState,
        /// SSA raises an alert (error state).
        alert: bool,
    },
    /// Heartbeats stopped: the module is in E6 and is restarted (UCM-EV-2).
    HeartbeatLost {
        /// The automatic restart requested.
        restart: bool,
    },
    /// A service changed state (UCM-EV-3); `alert` when it stops or degrades unexpectedly.
    ServiceState {
        /// Service index given by the caller.
        service: u16,
        /// New state.
        to: ServiceState,
        /// Whether to alert (stopped or degraded).
        alert: bool,
    },
    /// A service has been stopping too long: Force Stop is offered (UCM-EV-3).
    ForceStopAvailable {
        /// Service index.
        service: u16,
    },
    /// The host locked a service account after repeated authentication failures (UCM-EV-4).
    ServiceAccountLocked {
        /// Account index given by the caller.
        account: u16,
    },
    /// Upgrade progress, in 5 % steps (UCM-EV-5).
    UpgradeProgress {
        /// 0..=100, a multiple of 5.
        percent: u8,
    },
    /// A newer version is available in a transferred ISO or a repository (UCM-EV-5).
    UpgradeAvailable,
    /// A remote repository could not be reached or listed (UCM-EV-6).
    RepositoryError {
        /// Which repository.
        repository: Repository,
    },
    /// A web session expired (UCM-EV-7).
    SessionExpired {
        /// Why.
        reason: SessionEnd,
    },
    /// A log archive build finished (UCM-EV-8).
    ArchivesReady {
        /// How many archives were built.
        count: usize,
    },
}

impl UcmEvent {
    /// The severity the PBX gives this event: alerts are critical, warnings important.
    pub fn severity(&self) -> Severity {
        match self {
            Self::ModuleState { alert: true, .. } | Self::HeartbeatLost { .. } => {
                Severity::Critical
            }
            Self::ServiceState { alert: true, .. }
            | Self::ServiceAccountLocked { .. }
            | Self::RepositoryError { .. }
            | Self::ForceStopAvailable { .. } => Severity::Important,
            _ => Severity::Normal,
        }
    }
}

/// Tracks the module state and raises state-change events (UCM-EV-1).
#[derive(Debug, Clone, Default)]
pub struct ModuleMonitor {
    state: Option<ModuleState>,
}

impl ModuleMonitor {
    /// A monitor with no known state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state.
    pub fn state(&self) -> Option<ModuleState> {
        self.state
    }

    /// Records a new state; returns the event unless the state is unchanged.
    pub fn set(&mut self, to: ModuleState) -> Option<UcmEvent> {
        if self.state == Some(to) {
            return None;
        }
        let from = self.state.replace(to);
        Some(UcmEvent::ModuleState {
            from,
            to,
            alert: to.is_error(),
        })
    }
}

/// Heartbeat period from host to module (UCM-EV-2).
pub const HEARTBEAT_PERIOD: Duration = Duration::from_secs(5);

/// Heartbeat supervision (UCM-EV-2): after `misses` periods without a heartbeat the module is
/// declared in E6 (IPO communication error) and restarted. `misses` is a derived default (3),
/// the seed gives none.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    last: Timestamp,
    misses: u32,
    lost: bool,
}

impl Heartbeat {
    /// Supervision starting at `now`, declaring loss after `misses` missed heartbeats (≥ 1).
    pub fn new(now: Timestamp, misses: u32) -> Self {
        Self {
            last: now,
            misses: misses.max(1),
            lost: false,
        }
    }

    fn deadline(&self) -> Timestamp {
        self.last.plus(HEARTBEAT_PERIOD * self.misses)
    }

    /// A heartbeat arrived.
    pub fn heartbeat(&mut self, now: Timestamp) {
        self.last = now;
        self.lost = false;
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        (!self.lost).then(|| self.deadline())
    }

    /// Declares the loss once the deadline passed: the module goes to E6 and is restarted.
    pub fn handle_timeout(&mut self, now: Timestamp, module: &mut ModuleMonitor) -> Vec<UcmEvent> {
        if self.lost || now < self.deadline() {
            return Vec::new();
        }
        self.lost = true;
        let mut out = vec![UcmEvent::HeartbeatLost { restart: true }];
        out.extend(module.set(ModuleState::IpoCommunicationError));
        out
    }
}

/// Service states with Force Stop supervision (UCM-EV-3).
#[derive(Debug, Clone)]
pub struct ServiceMonitor {
    services: BTreeMap<u16, (ServiceState, Timestamp, bool)>,
    force_stop_after: Duration,
}

impl ServiceMonitor {
    /// Offers Force Stop after a service has been stopping for `force_stop_after` (a derived
    /// default; the seed says only "too long").
    pub fn new(force_stop_after: Duration) -> Self {
        Self {
            services: BTreeMap::new(),
            force_stop_after,
        }
    }

    /// The state of `service`.
    pub fn state(&self, service: u16) -> Option<ServiceState> {
        self.services.get(&service).map(|s| s.0)
    }

    /// Records a state; returns the event unless unchanged. Stopped and degraded alert.
    pub fn set(&mut self, now: Timestamp, service: u16, to: ServiceState) -> Option<UcmEvent> {
        if self.state(service) == Some(to) {
            return None;
        }
        self.services.insert(service, (to, now, false));
        let alert = matches!(to, ServiceState::Stopped | ServiceState::Degraded);
        Some(UcmEvent::ServiceState { service, to, alert })
    }

    /// Next Force Stop deadline.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.services
            .values()
            .filter(|(s, _, offered)| *s == ServiceState::Stopping && !offered)
            .map(|(_, since, _)| since.plus(self.force_stop_after))
            .min()
    }

    /// Offers Force Stop for services stopping too long.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Vec<UcmEvent> {
        let mut out = Vec::new();
        for (id, (s, since, offered)) in &mut self.services {
            if *s == ServiceState::Stopping
                && !*offered
                && now.since(*since) >= self.force_stop_after
            {
                *offered = true;
                out.push(UcmEvent::ForceStopAvailable { service: *id });
            }
        }
        out
    }
}

/// Counts authentication failures per account and raises the lock event once (UCM-EV-4).
#[derive(Debug, Clone)]
pub struct LockoutCounter {
    limit: u32,
    failures: BTreeMap<u16, u32>,
}

impl LockoutCounter {
    /// Locks after `limit` consecutive failures (≥ 1; the seed says "repeated").
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            failures: BTreeMap::new(),
        }
    }

    /// An authentication failure for `account`; the lock event when the limit is reached.
    pub fn failure(&mut self, account: u16) -> Option<UcmEvent> {
        let n = self.failures.entry(account).or_insert(0);
        *n = n.saturating_add(1);
        (*n == self.limit).then_some(UcmEvent::ServiceAccountLocked { account })
    }

    /// A success (or an unlock) resets the count.
    pub fn success(&mut self, account: u16) {
        self.failures.remove(&account);
    }
}

/// Upgrade progress reporting in 5 % steps (UCM-EV-5).
#[derive(Debug, Clone, Default)]
pub struct UpgradeProgress {
    last: Option<u8>,
}

impl UpgradeProgress {
    /// A tracker with nothing reported yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raw progress `percent` (clamped to 100); one event per 5 % step crossed, no repeats.
    pub fn update(&mut self, percent: u8) -> Vec<UcmEvent> {
        let step = percent.min(100) / 5 * 5;
        let mut out = Vec::new();
        let start = self.last.map_or(0, |l| l + 5);
        let mut p = start;
        while p <= step {
            out.push(UcmEvent::UpgradeProgress { percent: p });
            self.last = Some(p);
            p += 5;
        }
        out
    }
}

/// Compares dotted versions numerically (`11.1.2.0` > `11.1.1.9`); non-numeric parts count 0.
pub fn is_newer(available: &str, installed: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let (a, b) = (parse(available), parse(installed));
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x > y;
        }
    }
    false
}

/// UCM-EV-5: `UpgradeAvailable` when a transferred ISO or repository holds a newer version.
pub fn upgrade_available(available: &str, installed: &str) -> Option<UcmEvent> {
    is_newer(available, installed).then_some(UcmEvent::UpgradeAvailable)
}

/// UCM-EV-6: the event for a repository that could not be reached or listed.
pub fn repository_error(repository: Repository) -> UcmEvent {
    UcmEvent::RepositoryError { repository }
}

/// The inactivity timeouts WebControl offers (UCM §2.3): 5, 10, 30 min, 1 h.
pub const SESSION_TIMEOUTS: [Duration; 4] = [
    Duration::from_secs(300),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
];

/// A web session with an inactivity timeout (UCM-EV-7).
#[derive(Debug, Clone)]
pub struct Session {
    last: Timestamp,
    timeout: Duration,
    expired: bool,
}

impl Session {
    /// A session active at `now`. `timeout` should be one of [`SESSION_TIMEOUTS`].
    pub fn new(now: Timestamp, timeout: Duration) -> Self {
        Self {
            last: now,
            timeout,
            expired: false,
        }
    }

    /// Activity at `now`.
    pub fn touch(&mut self, now: Timestamp) {
        if !self.expired {
            self.last = now;
        }
    }

    /// When the session expires without activity.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        (!self.expired).then(|| self.last.plus(self.timeout))
    }

    /// Expires the session if idle long enough.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Option<UcmEvent> {
        if self.expired || now.since(self.last) < self.timeout {
            return None;
        }
        self.expired = true;
        Some(UcmEvent::SessionExpired {
            reason: SessionEnd::Inactivity,
        })
    }

    /// Ends the session because browser and server time zones disagree.
    pub fn time_zone_mismatch(&mut self) -> Option<UcmEvent> {
        if self.expired {
            return None;
        }
        self.expired = true;
        Some(UcmEvent::SessionExpired {
            reason: SessionEnd::TimeZoneMismatch,
        })
    }
}

/// One archive of the Logs → Download list (UCM-EV-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// The debug archive: records from `since` (the previous debug archive) to `until`.
    Debug {
        /// Start of the covered records (exclusive), `None` for "from the beginning".
        since: Option<Timestamp>,
        /// End of the covered records.
        until: Timestamp,
    },
    /// The log archive of one service.
    Service {
        /// Service index.
        service: u16,
        /// Build time.
        at: Timestamp,
    },
}

/// Log archive builds are refused while one runs (UCM-EV-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an archive build is already running")]
#[non_exhaustive]
pub struct ArchiveBusy;

/// The log archives and their one-at-a-time build (UCM-EV-8).
#[derive(Debug, Clone, Default)]
pub struct LogArchives {
    archives: Vec<Archive>,
    building: Option<Vec<Archive>>,
    last_debug: Option<Timestamp>,
}

impl LogArchives {
    /// No archive yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a build at `now` for `services`: one debug archive (since the last one) and one
    /// archive per service. Returns the plan for the adapter to build.
    pub fn start(&mut self, now: Timestamp, services: &[u16]) -> Result<&[Archive], ArchiveBusy> {
        if self.building.is_some() {
            return Err(ArchiveBusy);
        }
        let mut plan = vec![Archive::Debug {
            since: self.last_debug,
            until: now,
        }];
        plan.extend(services.iter().map(|s| Archive::Service {
            service: *s,
            at: now,
        }));
        Ok(self.building.insert(plan))
    }

    /// Whether a build is running (the button is greyed).
    pub fn is_building(&self) -> bool {
        self.building.is_some()
    }

    /// The adapter finished the build: the archives join the list.
    pub fn finish(&mut self) -> Option<UcmEvent> {
        let plan = self.building.take()?;
        for a in &plan {
            if let Archive::Debug { until, .. } = a {
                self.last_debug = Some(*until);
            }
        }
        let count = plan.len();
        self.archives.extend(plan);
        Some(UcmEvent::ArchivesReady { count })
    }

    /// The archives, oldest first.
    pub fn list(&self) -> &[Archive] {
        &self.archives
    }

    /// Deletes the archives at `indices` (Select / Delete Selected); unknown indices are ignored.
    pub fn delete(&mut self, indices: &[usize]) {
        let mut i = 0;
        self.archives.retain(|_| {
            let keep = !indices.contains(&i);
            i += 1;
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp::from_unix_secs(1_000_000);

    #[test]
    fn ucm_ev1_every_state_and_alerts() {
        // UCM-EV-1: 13 + 6 + 8 + 4 states; every E and X state alerts.
        assert_eq!(ModuleState::ALL.len(), 31);
        for s in ModuleState::ALL {
            let prefix = &s.code()[..1];
            assert_eq!(
                s.is_error(),
                prefix == "E" || prefix == "X" || s.code() == "S7",
                "{}",
                s.code()
            );
        }
        let mut m = ModuleMonitor::new();
        assert_eq!(
            m.set(ModuleState::Operational),
            Some(UcmEvent::ModuleState {
                from: None,
                to: ModuleState::Operational,
                alert: false
            })
        );
        assert_eq!(m.set(ModuleState::Operational), None);
        let ev = m.set(ModuleState::ApplicationCrashed);
        assert!(matches!(
            ev,
            Some(UcmEvent::ModuleState { alert: true, .. })
        ));
        assert_eq!(ev.map(|e| e.severity()), Some(Severity::Critical));
        assert_eq!(
            ModuleState::ApplicationCrashed.ssa_status(),
            Some("Software error")
        );
        assert_eq!(
            ModuleState::IpoCommunicationError.ssa_status(),
            Some("Hardware error")
        );
    }

    #[test]
    fn ucm_ev2_heartbeat_loss_restarts() {
        let mut m = ModuleMonitor::new();
        m.set(ModuleState::Operational);
        let mut hb = Heartbeat::new(T, 3);
        hb.heartbeat(T.plus(Duration::from_secs(5)));
        assert_eq!(hb.poll_timeout(), Some(T.plus(Duration::from_secs(20))));
        assert!(
            hb.handle_timeout(T.plus(Duration::from_secs(19)), &mut m)
                .is_empty()
        );
        let evs = hb.handle_timeout(T.plus(Duration::from_secs(20)), &mut m);
        assert_eq!(evs[0], UcmEvent::HeartbeatLost { restart: true });
        assert_eq!(m.state(), Some(ModuleState::IpoCommunicationError));
        assert!(
            hb.handle_timeout(T.plus(Duration::from_secs(30)), &mut m)
                .is_empty()
        );
    }

    #[test]
    fn ucm_ev3_service_health_and_force_stop() {
        assert_eq!(ServiceState::Running.health(), Health::Green);
        assert_eq!(ServiceState::Stopped.health(), Health::Red);
        assert_eq!(ServiceState::Degraded.health(), Health::Yellow);
        let mut s = ServiceMonitor::new(Duration::from_secs(60));
        assert!(matches!(
            s.set(T, 1, ServiceState::Degraded),
            Some(UcmEvent::ServiceState { alert: true, .. })
        ));
        assert!(matches!(
            s.set(T, 1, ServiceState::Stopping),
            Some(UcmEvent::ServiceState { alert: false, .. })
        ));
        assert!(s.handle_timeout(T.plus(Duration::from_secs(59))).is_empty());
        assert_eq!(
            s.handle_timeout(T.plus(Duration::from_secs(60))),
            [UcmEvent::ForceStopAvailable { service: 1 }]
        );
        assert!(s.handle_timeout(T.plus(Duration::from_secs(61))).is_empty());
    }

    #[test]
    fn ucm_ev4_lockout() {
        let mut l = LockoutCounter::new(3);
        assert_eq!(l.failure(7), None);
        l.success(7);
        assert_eq!(l.failure(7), None);
        assert_eq!(l.failure(7), None);
        assert_eq!(
            l.failure(7),
            Some(UcmEvent::ServiceAccountLocked { account: 7 })
        );
        assert_eq!(l.failure(7), None);
    }

    #[test]
    fn ucm_ev5_progress_steps_and_availability() {
        let mut p = UpgradeProgress::new();
        let pct = |v: Vec<UcmEvent>| -> Vec<u8> {
            v.into_iter()
                .filter_map(|e| {
                    if let UcmEvent::UpgradeProgress { percent } = e {
                        Some(percent)
                    } else {
                        None
                    }
                })
                .collect()
        };
        assert_eq!(pct(p.update(3)), [0]);
        assert_eq!(pct(p.update(4)), Vec::<u8>::new());
        assert_eq!(pct(p.update(17)), [5, 10, 15]);
        assert_eq!(pct(p.update(250)).last(), Some(&100));
        assert_eq!(
            upgrade_available("11.1.2.1", "11.1.2.0"),
            Some(UcmEvent::UpgradeAvailable)
        );
        assert_eq!(upgrade_available("11.1.2", "11.1.10"), None);
        assert_eq!(upgrade_available("11.1", "11.1.0"), None);
    }

    #[test]
    fn ucm_ev6_ev7_repository_and_session() {
        // UCM-EV-6: repository error; UCM-EV-7: session expiry (inactivity, time-zone mismatch).
        assert_eq!(
            repository_error(Repository::Applications).severity(),
            Severity::Important
        );
        let mut s = Session::new(T, SESSION_TIMEOUTS[0]);
        s.touch(T.plus(Duration::from_secs(200)));
        assert_eq!(s.handle_timeout(T.plus(Duration::from_secs(499))), None);
        assert_eq!(
            s.handle_timeout(T.plus(Duration::from_secs(500))),
            Some(UcmEvent::SessionExpired {
                reason: SessionEnd::Inactivity
            })
        );
        let mut s = Session::new(T, SESSION_TIMEOUTS[3]);
        assert_eq!(
            s.time_zone_mismatch(),
            Some(UcmEvent::SessionExpired {
                reason: SessionEnd::TimeZoneMismatch
            })
        );
    }

    #[test]
    fn ucm_ev8_archives_one_build_at_a_time() {
        let mut a = LogArchives::new();
        let plan = a.start(T, &[1, 2]).map(<[Archive]>::to_vec);
        assert_eq!(plan.map(|p| p.len()), Ok(3));
        assert_eq!(a.start(T, &[1]).err(), Some(ArchiveBusy));
        assert_eq!(a.finish(), Some(UcmEvent::ArchivesReady { count: 3 }));
        let t2 = T.plus(Duration::from_secs(60));
        let plan = a.start(t2, &[]).map(<[Archive]>::to_vec);
        assert_eq!(
            plan,
            Ok(vec![Archive::Debug {
                since: Some(T),
                until: t2
            }])
        );
        a.finish();
        assert_eq!(a.list().len(), 4);
        a.delete(&[0, 3]);
        assert_eq!(a.list().len(), 2);
    }
}
