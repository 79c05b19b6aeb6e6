//! The sans-IO engine: filters raised messages through the event tables, keeps the active set
//! and the logs, and schedules deliveries per destination (EV-12..EV-45).

use core::time::Duration;
use std::collections::{HashMap, HashSet, VecDeque};

use crate::active::{ActiveChange, ActiveEntry, ActiveId, ActiveSet, SystemStatus};
use crate::destination::{
    Bindings, Destination, DestinationConfig, DestinationError, Failure, MAX_SNMP_TARGETS,
};
use crate::email::EmailClient;
use crate::event::{Event, EventError, NodeId};
use crate::kind::{EventKind, Severity};
use crate::log::{EVENT_LOG_CAPACITY, MAINS_LOG_CAPACITY, Ring};
use crate::table::{AdvancedState, EventTable, Filter, TABLE_COUNT, TableId};
use crate::time::Timestamp;

/// Errors flooding threshold: more than 50 errors with one id within an hour (EV-41).
pub const ERROR_FLOOD_LIMIT: usize = 50;
/// The error-flood window (EV-41).
pub const ERROR_FLOOD_WINDOW: Duration = Duration::from_secs(3600);
/// The trunk-fault types whose flood raises `too_many_messages` (EV-41, B15): loss of
/// synchronisation on the network, outgoing call rejected, no response from the network.
pub const TRUNK_FLOOD_KINDS: [EventKind; 3] = [
    EventKind::NetworkSyncLost,
    EventKind::OutgoingCallRejected,
    EventKind::NoNetworkResponse,
];
/// Most distinct error ids tracked by the flood detector at once.
const MAX_ERROR_IDS: usize = 1024;

/// The server role, for events only one role raises (EV-43).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerRole {
    /// A stand-alone system or the Dual Homing primary.
    #[default]
    Primary,
    /// The Dual Homing backup server.
    Backup,
}

/// The role that alone may raise `kind`, if any (EV-43): Dual Homing licence and instance
/// events come from the backup, backup-synchronisation events from the primary.
pub fn required_role(kind: EventKind) -> Option<ServerRole> {
    use EventKind as K;
    match kind {
        K::DualHomingLicenceLimitReached
        | K::DualHomingWithinLicenceLimit
        | K::BackupCsInstanceCreationFailed
        | K::BackupCsInstanceCreationSucceeded => Some(ServerRole::Backup),
        K::BackupCsSyncFailed | K::BackupCsSyncRestored => Some(ServerRole::Primary),
        _ => None,
    }
}

/// Engine configuration: tables, bindings, destinations. Plain data with first-start defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The 7 event tables (EV-12).
    pub tables: [EventTable; TABLE_COUNT],
    /// Table-to-destination bindings (EV-16).
    pub bindings: Bindings,
    /// Destination settings.
    pub destinations: DestinationConfig,
    /// This server's role (EV-43).
    pub role: ServerRole,
    /// The node the engine runs on; it raises the destination events (EV-23) itself.
    pub node: NodeId,
}

impl Default for EngineConfig {
    /// The state after a first start (EV-16, EV-17).
    fn default() -> Self {
        Self {
            tables: core::array::from_fn(|i| EventTable::first_start(TableId::from_slot(i))),
            bindings: Bindings::first_start(),
            destinations: DestinationConfig::default(),
            role: ServerRole::Primary,
            node: NodeId(1),
        }
    }
}

/// Where a [`Delivery`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Display system phones of a message group (EV-18).
    SystemPhones {
        /// 1 or 2.
        destination: u8,
        /// The fixed message group: 16 or 15.
        group: u8,
    },
    /// The external primary target (EV-19).
    ExternalPrimary,
    /// The external backup target (EV-19).
    ExternalBackup,
    /// The local destination (EV-25).
    Local,
    /// SNMP target 0..=4 (EV-27).
    Snmp(u8),
    /// A mirror of the event log, for a file adapter (EV-28).
    EventLog,
    /// Every configured e-mail recipient (EV-30).
    Email,
    /// The ATAS alarm server (EV-32).
    Atas,
    /// SRM (EV-33).
    Srm,
    /// The integration stream (EV-51 extension).
    Integration,
}

impl Target {
    /// The destination kind this target belongs to.
    pub const fn destination(self) -> Destination {
        match self {
            Self::SystemPhones { destination: 1, .. } => Destination::SystemPhones1,
            Self::SystemPhones { .. } => Destination::SystemPhones2,
            Self::ExternalPrimary | Self::ExternalBackup => Destination::External,
            Self::Local => Destination::Local,
            Self::Snmp(_) => Destination::Snmp,
            Self::EventLog => Destination::EventLog,
            Self::Email => Destination::Email,
            Self::Atas => Destination::Atas,
            Self::Srm => Destination::Srm,
            Self::Integration => Destination::Integration,
        }
    }
}

/// Identifies a delivery the adapter must [`report`](Engine::report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(pub u64);

/// Work for an adapter: send these messages to this target now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Handle for [`Engine::report`].
    pub id: DeliveryId,
    /// Where to send.
    pub target: Target,
    /// The messages, oldest first (a batch for the external destination, EV-20).
    pub events: Vec<Event>,
    /// Dial attempts allowed for a PPP delivery (EV-22), `None` for other targets.
    pub dial_attempts: Option<u8>,
    /// Whether this is a test message (EV-37).
    pub test: bool,
    /// Whether the engine waits for [`Engine::report`]. Fire-and-forget targets (system
    /// phones, SNMP traps, the log mirror) need no report.
    pub needs_report: bool,
}

/// What the adapter reports for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (and acknowledged, for PPP links, EV-19).
    Delivered,
    /// Not delivered; the engine retries per the destination's rules.
    Failed(Failure),
}

/// Something the engine tells its driver, from [`Engine::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The SRM system status changed (EV-35).
    StatusChanged(SystemStatus),
    /// A destination queue overflowed: `dropped` messages lost so far (oldest first).
    Overflow {
        /// The target whose queue overflowed.
        target: Target,
        /// Total messages dropped by this target since start.
        dropped: u64,
    },
}

/// Engine errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// This server's role never raises `kind` (EV-43).
    #[error("{kind} is raised only by the {required:?} server")]
    WrongRole {
        /// The kind.
        kind: EventKind,
        /// The role that raises it.
        required: ServerRole,
    },
    /// A destination setting is out of range, or the destination is not in service.
    #[error(transparent)]
    Destination(#[from] DestinationError),
    /// A derived event could not be built (an internal invariant; never expected).
    #[error(transparent)]
    Event(#[from] EventError),
    /// No delivery with this id awaits a report.
    #[error("no delivery {0:?} awaits a report")]
    UnknownDelivery(DeliveryId),
    /// No active message has this id.
    #[error("active message {0:?} is not active")]
    NotActive(ActiveId),
}

/// A set of destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestinationSet(u16);

impl DestinationSet {
    fn insert(&mut self, d: Destination) {
        self.0 |= 1 << d as u16;
    }

    /// Whether `d` is in the set.
    pub fn contains(self, d: Destination) -> bool {
        self.0 & (1 << d as u16) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What [`Engine::raise`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaiseOutcome {
    /// The effect on the active set.
    pub active: ActiveChange,
    /// The destinations the message was routed to.
    pub routed: DestinationSet,
    /// The message was dropped by a raising rule (EV-42 once-only).
    pub suppressed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Each message is handed out at once, nothing awaits a report.
    FireAndForget,
    /// One message in flight; retry after `retry` on failure.
    Acked,
    /// The external destination: batches, backoff, reduced dial attempts.
    Batched,
}

#[derive(Debug, Clone)]
struct InFlight {
    id: DeliveryId,
    target: Target,
    events: Vec<Event>,
    test: bool,
}

#[derive(Debug, Clone)]
struct Lane {
    target: Target,
    mode: Mode,
    queue: VecDeque<Event>,
    tests: VecDeque<Event>,
    in_flight: Option<InFlight>,
    next_send: Option<Timestamp>,
    failing_since: Option<Timestamp>,
    dropped: u64,
    reported: u64,
}

impl Lane {
    fn new(target: Target, mode: Mode) -> Self {
        Self {
            target,
            mode,
            queue: VecDeque::new(),
            tests: VecDeque::new(),
            in_flight: None,
            next_send: None,
            failing_since: None,
            dropped: 0,
            reported: 0,
        }
    }

    fn push(&mut self, event: Event, cap: usize) {
        if self.queue.len() >= cap {
            self.queue.pop_front();
            self.dropped += 1;
        }
        self.queue.push_back(event);
    }
}

const L_PHONES1: usize = 0;
const L_PHONES2: usize = 1;
const L_EXTERNAL: usize = 2;
const L_LOCAL: usize = 3;
const L_SNMP: usize = 4;
const L_LOG: usize = L_SNMP + MAX_SNMP_TARGETS as usize;
const L_EMAIL: usize = L_LOG + 1;
const L_ATAS: usize = L_EMAIL + 1;
const L_SRM: usize = L_ATAS + 1;
const L_INTEGRATION: usize = L_SRM + 1;
const LANES: usize = L_INTEGRATION + 1;

/// The event engine (sans-IO). See the crate docs for the drive loop.
#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
    advanced: AdvancedState,
    active: ActiveSet,
    log: Ring,
    mains: Ring,
    lanes: Vec<Lane>,
    cursor: usize,
    next_delivery: u64,
    outbox: VecDeque<Delivery>,
    occurrences: HashMap<(EventKind, NodeId), u32>,
    status: SystemStatus,
    status_pending: Option<SystemStatus>,
    licence_missing_raised: HashSet<NodeId>,
    error_windows: HashMap<u64, VecDeque<Timestamp>>,
}

impl Engine {
    /// An engine with `config` (checked, see [`DestinationConfig::validate`]).
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        config.destinations.validate()?;
        let mut lanes = Vec::with_capacity(LANES);
        lanes.push(Lane::new(
            Target::SystemPhones {
                destination: 1,
                group: 16,
            },
            Mode::FireAndForget,
        ));
        lanes.push(Lane::new(
            Target::SystemPhones {
                destination: 2,
                group: 15,
            },
            Mode::FireAndForget,
        ));
        lanes.push(Lane::new(Target::ExternalPrimary, Mode::Batched));
        lanes.push(Lane::new(Target::Local, Mode::Acked));
        for i in 0..MAX_SNMP_TARGETS {
            lanes.push(Lane::new(Target::Snmp(i), Mode::FireAndForget));
        }
        lanes.push(Lane::new(Target::EventLog, Mode::FireAndForget));
        lanes.push(Lane::new(Target::Email, Mode::Acked));
        lanes.push(Lane::new(Target::Atas, Mode::Acked));
        lanes.push(Lane::new(Target::Srm, Mode::Acked));
        lanes.push(Lane::new(Target::Integration, Mode::FireAndForget));
        Ok(Self {
            config,
            advanced: AdvancedState::default(),
            active: ActiveSet::new(),
            log: Ring::new(EVENT_LOG_CAPACITY),
            mains: Ring::new(MAINS_LOG_CAPACITY),
            lanes,
            cursor: 0,
            next_delivery: 0,
            outbox: VecDeque::new(),
            occurrences: HashMap::new(),
            status: SystemStatus::Normal,
            status_pending: None,
            licence_missing_raised: HashSet::new(),
            error_windows: HashMap::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Sets the filter of `kind` in `table`, restarting its advanced counters (EV-13).
    pub fn set_filter(&mut self, table: TableId, kind: EventKind, filter: Filter) {
        self.config.tables[table.slot()].set(kind, filter);
        self.advanced.reset(table, kind);
    }

    /// The bindings, for editing (EV-16).
    pub fn bindings_mut(&mut self) -> &mut Bindings {
        &mut self.config.bindings
    }

    /// Replaces the destination settings (checked).
    pub fn set_destinations(&mut self, destinations: DestinationConfig) -> Result<(), EngineError> {
        destinations.validate()?;
        self.config.destinations = destinations;
        Ok(())
    }

    /// The active messages (=mr, EV-6).
    pub fn active(&self) -> &ActiveSet {
        &self.active
    }

    /// The event log (=r5, EV-28).
    pub fn event_log(&self) -> &Ring {
        &self.log
    }

    /// The last 10 mains power failures (=bn, EV-29).
    pub fn mains_log(&self) -> &Ring {
        &self.mains
    }

    /// The SRM system status (EV-35).
    pub fn status(&self) -> SystemStatus {
        self.status
    }

    /// Raises a message at `now` (EV-1): updates the active set, the logs and the advanced
    /// counters, and queues it for every destination whose bound tables let it through.
    pub fn raise(&mut self, now: Timestamp, mut event: Event) -> Result<RaiseOutcome, EngineError> {
        let kind = event.kind();
        if let Some(required) = required_role(kind)
            && required != self.config.role
        {
            return Err(EngineError::WrongRole { kind, required });
        }
        // EV-42: user_licence_missing once only (until a licence is available again).
        match kind {
            EventKind::UserLicenceMissing if !self.licence_missing_raised.insert(event.node()) => {
                return Ok(RaiseOutcome {
                    active: ActiveChange::Unchanged,
                    routed: DestinationSet::default(),
                    suppressed: true,
                });
            }
            EventKind::UserLicenceAvailable => {
                self.licence_missing_raised.remove(&event.node());
            }
            _ => {}
        }
        let count = self.occurrences.entry((kind, event.node())).or_insert(0);
        *count = count.saturating_add(1);
        event.set_occurrence(*count);

        let active = self.active.apply(&event);
        self.refresh_status();
        if kind == EventKind::MainsPowerFailure {
            // EV-29 proposal: every mains failure, whatever the filters say.
            self.mains.push(event.clone());
        }
        let flood = if kind == EventKind::OperationalError {
            self.error_flood(now, &event)
        } else {
            None
        };

        let (routed, threshold_reached) = self.route(now, &event);
        self.pump(now);
        // EV-41 proposal: `too_many_messages` when a trunk-fault type passes the limit of an
        // advanced filter ("the limit set in the table").
        if threshold_reached && TRUNK_FLOOD_KINDS.contains(&kind) {
            self.raise(
                now,
                Event::simple(EventKind::TooManyMessages, event.node(), now)?,
            )?;
        }
        if let Some(error_id) = flood {
            let derived = Event::builder(EventKind::TooManyErrorsSameId, event.node(), now)
                .unsigned("error_id", error_id)
                .build()?;
            self.raise(now, derived)?;
        }
        Ok(RaiseOutcome {
            active,
            routed,
            suppressed: false,
        })
    }

    /// EV-41: more than 50 `operational_error` with the same id within an hour.
    fn error_flood(&mut self, now: Timestamp, event: &Event) -> Option<u64> {
        let Some(crate::DetailValue::Unsigned(id)) = event.detail("error_id").cloned() else {
            return None;
        };
        if self.error_windows.len() >= MAX_ERROR_IDS && !self.error_windows.contains_key(&id) {
            self.error_windows
                .retain(|_, w| w.back().is_some_and(|t| now.since(*t) < ERROR_FLOOD_WINDOW));
            if self.error_windows.len() >= MAX_ERROR_IDS {
                return None;
            }
        }
        let w = self.error_windows.entry(id).or_default();
        while w
            .front()
            .is_some_and(|t| now.since(*t) >= ERROR_FLOOD_WINDOW)
        {
            w.pop_front();
        }
        w.push_back(now);
        if w.len() > ERROR_FLOOD_LIMIT {
            w.clear();
            Some(id)
        } else {
            None
        }
    }

    fn refresh_status(&mut self) {
        let s = self.active.status();
        if s != self.status {
            self.status = s;
            self.status_pending = Some(s);
        }
    }

    /// Filters `event` through every table and queues it; also says whether an advanced
    /// filter reached its threshold.
    fn route(&mut self, now: Timestamp, event: &Event) -> (DestinationSet, bool) {
        let kind = event.kind();
        let mut pass: u8 = 0;
        let mut threshold_reached = false;
        for slot in 0..TABLE_COUNT {
            let table = TableId::from_slot(slot);
            let ok = match self.config.tables[slot].filter(kind) {
                Filter::NoEvent => false,
                Filter::All => true,
                Filter::Advanced(adv) => {
                    let hit = self.advanced.admit(table, kind, event.node(), adv, now);
                    threshold_reached |= hit;
                    hit
                }
            };
            if ok {
                pass |= 1 << slot;
            }
        }
        let mut routed = DestinationSet::default();
        let dcfg = &self.config.destinations;
        for dest in Destination::ALL {
            let mut to = self.config.bindings.mask(dest) & pass != 0;
            // EV-39: remote maintenance enabled goes to the local destination unfiltered.
            if dest == Destination::Local && kind == EventKind::RemoteMaintenanceEnabled {
                to = true;
            }
            // EV-34: SRM receives only important and critical messages.
            if dest == Destination::Srm && event.severity() < Severity::Important {
                to = false;
            }
            // A destination's own failure report is not queued behind the failure.
            if own_failure(dest) == Some(kind) {
                to = false;
            }
            if to && dcfg.in_service(dest) {
                routed.insert(dest);
            }
        }
        let cap = self.config.destinations.queue_capacity;
        for dest in Destination::ALL {
            if !routed.contains(dest) {
                continue;
            }
            match dest {
                Destination::SystemPhones1 => self.lanes[L_PHONES1].push(event.clone(), cap),
                Destination::SystemPhones2 => self.lanes[L_PHONES2].push(event.clone(), cap),
                Destination::External => self.lanes[L_EXTERNAL].push(event.clone(), cap),
                Destination::Local => self.lanes[L_LOCAL].push(event.clone(), cap),
                Destination::Snmp => {
                    for i in 0..usize::from(self.config.destinations.snmp_targets) {
                        self.lanes[L_SNMP + i].push(event.clone(), cap);
                    }
                }
                Destination::EventLog => {
                    self.log.push(event.clone());
                    if self.config.destinations.mirror_event_log {
                        self.lanes[L_LOG].push(event.clone(), cap);
                    }
                }
                Destination::Email => self.lanes[L_EMAIL].push(event.clone(), cap),
                Destination::Atas => self.lanes[L_ATAS].push(event.clone(), cap),
                Destination::Srm => self.lanes[L_SRM].push(event.clone(), cap),
                Destination::Integration => self.lanes[L_INTEGRATION].push(event.clone(), cap),
            }
        }
        (routed, threshold_reached)
    }

    /// Acknowledges an active message by hand (EV-5); the status is recomputed (EV-35).
    pub fn acknowledge(&mut self, id: ActiveId) -> Result<ActiveEntry, EngineError> {
        let entry = self
            .active
            .acknowledge(id)
            .ok_or(EngineError::NotActive(id))?;
        self.refresh_status();
        Ok(entry)
    }

    /// Sends a `test_event_message` to `dest` only, bypassing the tables and any batching
    /// delay (EV-37). On PPP links it waits for the current connection to end (EV-38).
    pub fn send_test(&mut self, now: Timestamp, dest: Destination) -> Result<(), EngineError> {
        if !self.config.destinations.in_service(dest) {
            return Err(DestinationError::NotInService(dest).into());
        }
        let event = Event::simple(EventKind::TestEventMessage, self.config.node, now)?;
        let lanes: Vec<usize> = match dest {
            Destination::SystemPhones1 => vec![L_PHONES1],
            Destination::SystemPhones2 => vec![L_PHONES2],
            Destination::External => vec![L_EXTERNAL],
            Destination::Local => vec![L_LOCAL],
            Destination::Snmp => (0..usize::from(self.config.destinations.snmp_targets))
                .map(|i| L_SNMP + i)
                .collect(),
            Destination::EventLog => {
                self.log.push(event.clone());
                if self.config.destinations.mirror_event_log {
                    vec![L_LOG]
                } else {
                    vec![]
                }
            }
            Destination::Email => vec![L_EMAIL],
            Destination::Atas => vec![L_ATAS],
            Destination::Srm => vec![L_SRM],
            Destination::Integration => vec![L_INTEGRATION],
        };
        for l in lanes {
            self.lanes[l].tests.push_back(event.clone());
        }
        self.pump(now);
        Ok(())
    }

    fn new_id(&mut self) -> DeliveryId {
        self.next_delivery += 1;
        DeliveryId(self.next_delivery)
    }

    fn external_degraded(&self, now: Timestamp) -> bool {
        let t = &self.config.destinations.external;
        self.lanes[L_EXTERNAL]
            .failing_since
            .is_some_and(|f| now.since(f) >= t.failing_for)
    }

    /// The current batching period of the external destination (EV-20, EV-21).
    pub fn external_period(&self, now: Timestamp) -> Duration {
        let t = &self.config.destinations.external;
        if self.external_degraded(now) {
            t.backoff
        } else {
            t.batch
        }
    }

    /// The current dial attempts per external delivery (EV-22).
    pub fn external_dial_attempts(&self, now: Timestamp) -> u8 {
        let t = &self.config.destinations.external;
        if self.external_degraded(now) {
            t.reduced_dial_attempts
        } else {
            t.dial_attempts
        }
    }

    fn first_external_target(&self) -> Target {
        if self.config.destinations.external_primary {
            Target::ExternalPrimary
        } else {
            Target::ExternalBackup
        }
    }

    /// Starts the deliveries that are due at `now` on acknowledged and batched lanes.
    fn pump(&mut self, now: Timestamp) {
        for l in 0..LANES {
            let mode = self.lanes[l].mode;
            if mode == Mode::FireAndForget || self.lanes[l].in_flight.is_some() {
                continue;
            }
            let (target, dial) = if mode == Mode::Batched {
                (
                    self.first_external_target(),
                    Some(self.external_dial_attempts(now)),
                )
            } else {
                (self.lanes[l].target, None)
            };
            if let Some(test) = self.lanes[l].tests.pop_front() {
                self.start(l, target, vec![test], dial, true);
                continue;
            }
            if self.lanes[l].queue.is_empty() {
                continue;
            }
            if mode == Mode::Batched && self.lanes[l].next_send.is_none() {
                // EV-20: hold messages for the batching period, then send them together.
                let period = self.external_period(now);
                self.lanes[l].next_send = Some(now.plus(period));
            }
            if self.lanes[l].next_send.is_some_and(|t| t > now) {
                continue;
            }
            // The batch deadline or retry timer is consumed by this delivery.
            self.lanes[l].next_send = None;
            let events: Vec<Event> = if mode == Mode::Batched {
                self.lanes[l].queue.drain(..).collect()
            } else {
                self.lanes[l].queue.pop_front().into_iter().collect()
            };
            self.start(l, target, events, dial, false);
        }
    }

    fn start(
        &mut self,
        lane: usize,
        target: Target,
        events: Vec<Event>,
        dial: Option<u8>,
        test: bool,
    ) {
        let id = self.new_id();
        self.lanes[lane].in_flight = Some(InFlight {
            id,
            target,
            events: events.clone(),
            test,
        });
        self.outbox.push_back(Delivery {
            id,
            target,
            events,
            dial_attempts: dial,
            test,
            needs_report: true,
        });
    }

    /// Wakes the engine at `now`: starts the deliveries that became due.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.pump(now);
    }

    /// When the engine next needs [`handle_timeout`](Self::handle_timeout), if ever.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.lanes
            .iter()
            .filter(|l| {
                l.mode != Mode::FireAndForget && l.in_flight.is_none() && !l.queue.is_empty()
            })
            .filter_map(|l| l.next_send)
            .min()
    }

    /// The next delivery to perform, if any.
    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        if let Some(d) = self.outbox.pop_front() {
            return Some(d);
        }
        for step in 0..LANES {
            let l = (self.cursor + step) % LANES;
            let lane = &mut self.lanes[l];
            if lane.mode != Mode::FireAndForget {
                continue;
            }
            let (event, test) = match lane.tests.pop_front() {
                Some(e) => (e, true),
                None => match lane.queue.pop_front() {
                    Some(e) => (e, false),
                    None => continue,
                },
            };
            let target = lane.target;
            self.cursor = (l + 1) % LANES;
            let id = self.new_id();
            return Some(Delivery {
                id,
                target,
                events: vec![event],
                dial_attempts: None,
                test,
                needs_report: false,
            });
        }
        None
    }

    /// The next notice for the driver: status changes (EV-35) and queue overflows.
    pub fn poll_event(&mut self) -> Option<Notice> {
        if let Some(s) = self.status_pending.take() {
            return Some(Notice::StatusChanged(s));
        }
        for lane in &mut self.lanes {
            if lane.dropped > lane.reported {
                lane.reported = lane.dropped;
                return Some(Notice::Overflow {
                    target: lane.target,
                    dropped: lane.dropped,
                });
            }
        }
        None
    }

    /// Reports the outcome of a delivery that [`needs_report`](Delivery::needs_report).
    ///
    /// Failures keep the messages and retry them (EV-20..EV-22 for the external destination,
    /// the configured retry delay elsewhere), and raise the destination's failure event
    /// (EV-23, EV-25, EV-31); the first success after failures raises its counterpart.
    pub fn report(
        &mut self,
        now: Timestamp,
        id: DeliveryId,
        outcome: Outcome,
    ) -> Result<(), EngineError> {
        let lane = self
            .lanes
            .iter()
            .position(|l| l.in_flight.as_ref().is_some_and(|f| f.id == id))
            .ok_or(EngineError::UnknownDelivery(id))?;
        let Some(flight) = self.lanes[lane].in_flight.take() else {
            return Err(EngineError::UnknownDelivery(id));
        };
        match outcome {
            Outcome::Delivered => {
                let was_failing = self.lanes[lane].failing_since.take().is_some();
                if was_failing {
                    // Recovered: the retry timer goes; a batch restarts its 5 minutes.
                    self.lanes[lane].next_send = None;
                }
                if was_failing && let Some(ev) = self.recovery_event(lane, now)? {
                    self.raise(now, ev)?;
                }
            }
            Outcome::Failed(failure) => {
                // EV-19 proposal: fall back from the primary to the backup at once.
                if flight.target == Target::ExternalPrimary
                    && self.config.destinations.external_backup
                {
                    let dial = Some(self.external_dial_attempts(now));
                    self.start(
                        lane,
                        Target::ExternalBackup,
                        flight.events,
                        dial,
                        flight.test,
                    );
                    return Ok(());
                }
                let cap = self.config.destinations.queue_capacity;
                let l = &mut self.lanes[lane];
                l.failing_since.get_or_insert(now);
                if !flight.test {
                    for ev in flight.events.into_iter().rev() {
                        if l.queue.len() >= cap {
                            l.dropped += 1;
                        } else {
                            l.queue.push_front(ev);
                        }
                    }
                }
                let delay = if l.mode == Mode::Batched {
                    self.external_period(now)
                } else {
                    self.config.destinations.retry
                };
                self.lanes[lane].next_send = Some(now.plus(delay));
                if let Some(ev) = self.failure_event(lane, now, failure)? {
                    self.raise(now, ev)?;
                }
            }
        }
        self.pump(now);
        Ok(())
    }

    fn failure_event(
        &self,
        lane: usize,
        now: Timestamp,
        failure: Failure,
    ) -> Result<Option<Event>, EngineError> {
        let node = self.config.node;
        let dest_cause = match failure {
            Failure::Destination(c) => c.code(),
            _ => crate::DestinationCause::NotDefined.code(),
        };
        let ev = match lane {
            L_EXTERNAL => Event::builder(EventKind::ExternalDestinationUnreachable, node, now)
                .code("cause", dest_cause)
                .build()?,
            L_LOCAL => Event::builder(EventKind::InternalDestinationUnreachable, node, now)
                .code("cause", dest_cause)
                .build()?,
            L_EMAIL => {
                let (cause, action) = match failure {
                    Failure::Email { cause, action } => (cause, action),
                    _ => (
                        crate::EmailCause::CannotConnect,
                        crate::SmtpAction::Connecting,
                    ),
                };
                Event::builder(EventKind::EmailSendFailed, node, now)
                    .code("cause_xx", u32::from(cause.code()))
                    .code("action_yy", u32::from(action.code()))
                    .code("email_client", u32::from(EmailClient::EventMessage.code()))
                    .build()?
            }
            L_SRM => Event::builder(EventKind::SrmConnectionFailed, node, now)
                .code("cause", 1)
                .build()?,
            _ => return Ok(None),
        };
        Ok(Some(ev))
    }

    fn recovery_event(&self, lane: usize, now: Timestamp) -> Result<Option<Event>, EngineError> {
        let node = self.config.node;
        let ev = match lane {
            L_EXTERNAL => Event::simple(EventKind::ExternalDestinationReachable, node, now)?,
            L_LOCAL => Event::simple(EventKind::InternalDestinationReachable, node, now)?,
            L_EMAIL => Event::builder(EventKind::EmailSent, node, now)
                .code("cause_action", 0)
                .code("email_client", u32::from(EmailClient::EventMessage.code()))
                .build()?,
            L_SRM => Event::simple(EventKind::SrmConnectionEstablished, node, now)?,
            _ => return Ok(None),
        };
        Ok(Some(ev))
    }

    /// Routing problems the manual asks the installer to avoid (EV-24, EV-50): the
    /// external/internal "destination unreachable" events must reach, unfiltered, at least
    /// one in-service destination other than the failing one.
    pub fn routing_warnings(&self) -> Vec<RoutingWarning> {
        let mut out = Vec::new();
        for (kind, failing) in [
            (
                EventKind::ExternalDestinationUnreachable,
                Destination::External,
            ),
            (
                EventKind::InternalDestinationUnreachable,
                Destination::Local,
            ),
        ] {
            if !self.config.destinations.in_service(failing) {
                continue;
            }
            let reachable_elsewhere = TableId::all().any(|t| {
                self.config.tables[t.slot()].filter(kind) == Filter::All
                    && self.config.bindings.destinations(t).any(|d| {
                        d != failing
                            && self.config.destinations.in_service(d)
                            && (d != Destination::Srm || kind.severity() >= Severity::Important)
                    })
            });
            if !reachable_elsewhere {
                out.push(RoutingWarning::UnreachableEventStranded { kind, failing });
            }
        }
        out
    }
}

/// A configuration the manual warns against (EV-24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoutingWarning {
    /// `kind` reports the failure of `failing`, but no other in-service destination
    /// receives it at once (filter "All").
    UnreachableEventStranded {
        /// The unreachable event kind.
        kind: EventKind,
        /// The destination it reports on.
        failing: Destination,
    },
}

/// The failure event a destination raises about itself, never queued to that destination.
fn own_failure(dest: Destination) -> Option<EventKind> {
    match dest {
        Destination::External => Some(EventKind::ExternalDestinationUnreachable),
        Destination::Local => Some(EventKind::InternalDestinationUnreachable),
        Destination::Email => Some(EventKind::EmailSendFailed),
        Destination::Srm => Some(EventKind::SrmConnectionFailed),
        _ => None,
    }
}
