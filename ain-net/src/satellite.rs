//! A satellite: joins the master, applies its configuration atomically (MV-23), goes
//! offline with its backup configuration after `heartbeat_timeout` of silence (MV-24) with
//! 36 h temporary licences (MV-8, MV-25), and rejoins when the driver reconnects.
//!
//! States: `Connecting` (Hello sent) → `Authenticating` → `Online`; from any state, silence
//! for `heartbeat_timeout` since the last frame (or since the start) → `Offline`.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::common::{ConnId, Timing, Transmit, frame_bytes};
use crate::{FrameDecoder, Message, NodeStatus, RefuseReason, auth};

/// Satellite configuration.
#[derive(Debug, Clone)]
pub struct SatelliteConfig {
    /// Node id (1..=49).
    pub node: u16,
    /// Equipment id, as added on the master.
    pub eid: String,
    /// Software version.
    pub sw_version: String,
    /// Shared secret.
    pub secret: Vec<u8>,
    /// Timers.
    pub timing: Timing,
}

/// Link state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkState {
    /// Hello sent, waiting for the challenge.
    Connecting,
    /// Response sent, waiting for Welcome.
    Authenticating,
    /// Joined.
    Online,
    /// Running on the backup configuration (MV-24).
    Offline,
}

/// What a satellite reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SatelliteEvent {
    /// Joined the master (`node_connection_restored` after an outage, MV2-29).
    Online,
    /// The master refused the join.
    Refused(RefuseReason),
    /// A configuration was applied atomically (MV-23).
    ConfigApplied {
        /// Version now in force.
        version: u64,
        /// The configuration document.
        data: Vec<u8>,
    },
    /// Master lost: offline mode on the backup configuration, local breakout (MV-24).
    Offline {
        /// Version of the backup configuration in force.
        backup_version: u64,
    },
    /// The 36 h offline temporary licences expired (MV-8, MV-25).
    OfflineLicencesExpired,
    /// The master asks this node to activate a software version (MV2-30: only the master
    /// starts an activation).
    ActivateSoftware {
        /// The version.
        sw_version: String,
    },
    /// The AIN-wide remote-maintenance state changed (MV2-31).
    MaintenanceChanged {
        /// Whether remote maintenance is unlocked.
        unlocked: bool,
    },
    /// The master sent its licence view (MV-25).
    LicenceViewUpdated {
        /// Licence types it lists.
        entries: usize,
    },
    /// The master granted pooled channel units (MV-17).
    ChannelsGranted {
        /// The request.
        request: u64,
    },
    /// The master refused them, or the link went down before it answered.
    ChannelsDenied {
        /// The request.
        request: u64,
    },
    /// The master sent the extension directory (MV-28); [`Satellite::locate`] answers from it.
    DirectoryUpdated {
        /// Extensions it lists.
        entries: usize,
    },
}

/// The sans-IO satellite (one connection to the master at a time).
#[derive(Debug)]
pub struct Satellite {
    cfg: SatelliteConfig,
    state: LinkState,
    conn: Option<ConnId>,
    dec: FrameDecoder,
    seq: u32,
    last_heard: Instant,
    next_beat: Instant,
    config: (u64, Vec<u8>),
    directory: BTreeMap<String, u16>,
    /// Pooled-channel requests granted and not released (request → units), and those asked.
    held: BTreeMap<u64, u16>,
    asked: BTreeMap<u64, u16>,
    next_request: u64,
    /// Went offline since the last status report.
    was_offline: bool,
    /// The master's licences (name → count) and the offline temporary set.
    licences: BTreeMap<String, u32>,
    offline_set: BTreeMap<String, u32>,
    /// This node's own per-node licences, reported to the master (MV-18).
    own: BTreeMap<String, u32>,
    /// Remote maintenance: the master's (AIN-wide) state, and this node's own unlock.
    maintenance: bool,
    local_unlock: bool,
    offline_licences_until: Option<Instant>,
    retry_at: Instant,
    tx: VecDeque<Transmit>,
    events: VecDeque<SatelliteEvent>,
}

impl Satellite {
    /// A satellite that has not connected yet; it goes offline if it cannot join in time.
    pub fn new(cfg: SatelliteConfig, now: Instant) -> Self {
        Self {
            state: LinkState::Connecting,
            conn: None,
            dec: FrameDecoder::new(),
            seq: 0,
            last_heard: now,
            next_beat: now + cfg.timing.heartbeat_interval,
            config: (0, Vec::new()),
            directory: BTreeMap::new(),
            held: BTreeMap::new(),
            asked: BTreeMap::new(),
            next_request: 0,
            was_offline: false,
            licences: BTreeMap::new(),
            offline_set: BTreeMap::new(),
            own: BTreeMap::new(),
            maintenance: false,
            local_unlock: false,
            offline_licences_until: None,
            retry_at: now,
            tx: VecDeque::new(),
            events: VecDeque::new(),
            cfg,
        }
    }

    /// Current link state.
    pub fn state(&self) -> LinkState {
        self.state
    }

    /// Configuration version in force.
    pub fn config_version(&self) -> u64 {
        self.config.0
    }

    /// The node that extension `ext` lives on, from the master's directory (MV-28: one
    /// numbering plan across the AIN). The last directory is kept while offline.
    pub fn locate(&self, ext: &str) -> Option<u16> {
        self.directory.get(ext).copied()
    }

    /// Asks the master for `units` pooled channel units (an inter-node call takes 2, MV-26);
    /// the answer comes as [`SatelliteEvent::ChannelsGranted`] or `ChannelsDenied`. `None`
    /// while not online: the pool is the master's, so offline calls use local breakout.
    pub fn acquire_channels(&mut self, units: u16) -> Option<u64> {
        if self.state != LinkState::Online {
            return None;
        }
        self.next_request += 1;
        let request = self.next_request;
        self.asked.insert(request, units);
        self.send(Message::ChannelAcquire { request, units }, false);
        Some(request)
    }

    /// The call of `request` ended: its units go back to the pool (at once when online, at
    /// the rejoin's reconciliation otherwise).
    pub fn release_channels(&mut self, request: u64) {
        if self.held.remove(&request).is_some() && self.state == LinkState::Online {
            self.send(Message::ChannelRelease { request }, false);
        }
    }

    /// Pooled-channel requests held now.
    pub fn held_channels(&self) -> impl Iterator<Item = u64> + '_ {
        self.held.keys().copied()
    }

    /// This node's own per-node licences (Secure VoIP, QSIG: MV-18, they are not pooled);
    /// the master learns them now when online, and on every join.
    pub fn set_node_licences(&mut self, entries: impl IntoIterator<Item = (String, u32)>) {
        self.own = entries.into_iter().collect();
        if self.state == LinkState::Online {
            self.send_own_licences();
        }
    }

    fn send_own_licences(&mut self) {
        let entries = self.own.iter().map(|(n, c)| (n.clone(), *c)).collect();
        self.send(Message::NodeLicences { entries }, false);
    }

    /// The temporary licences this node gets while offline (the licence catalogue's
    /// offline-✓ set, MV-8), for [`Satellite::licences`].
    pub fn set_offline_licences(&mut self, entries: impl IntoIterator<Item = (String, u32)>) {
        self.offline_set = entries.into_iter().collect();
    }

    /// The licences this node sees now (MV-25): the master's while online; offline, only the
    /// temporary set while it is valid (36 h), else none.
    pub fn licences(&self, now: Instant) -> &BTreeMap<String, u32> {
        static NONE: BTreeMap<String, u32> = BTreeMap::new();
        match self.state {
            LinkState::Online => &self.licences,
            LinkState::Offline if self.offline_licences_valid(now) => &self.offline_set,
            _ => &NONE,
        }
    }

    /// Whether remote maintenance is unlocked: the AIN-wide state the master set (MV2-31),
    /// kept while offline (it unlocks the offline configuration too).
    pub fn remote_maintenance_unlocked(&self) -> bool {
        self.maintenance
    }

    /// Unlocks (or locks) remote maintenance on this node itself.
    pub fn set_local_unlock(&mut self, unlocked: bool) {
        self.local_unlock = unlocked;
    }

    /// Whether dial-up access into this node is allowed: the AIN-wide unlock and this node's
    /// own (MV2-31).
    pub fn dial_up_allowed(&self) -> bool {
        self.maintenance && self.local_unlock
    }

    /// Whether offline temporary licences are valid now.
    pub fn offline_licences_valid(&self, now: Instant) -> bool {
        self.offline_licences_until.is_some_and(|t| now < t)
    }

    /// The driver opened a connection to the master: send Hello (join step 4, MV2-29).
    pub fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        self.conn = Some(conn);
        self.dec = FrameDecoder::new();
        if self.state != LinkState::Offline {
            self.state = LinkState::Connecting;
        }
        let _ = now;
        let hello = Message::Hello {
            node: self.cfg.node,
            eid: self.cfg.eid.clone(),
            sw_version: self.cfg.sw_version.clone(),
        };
        self.send(hello, false);
    }

    /// The connection closed; the satellite stays as it is until the timeout.
    pub fn handle_closed(&mut self, conn: ConnId) {
        if self.conn == Some(conn) {
            self.conn = None;
        }
    }

    /// Whether the driver should (re)connect now (not before the retry delay after a
    /// refusal or a failed attempt).
    pub fn wants_connection(&self, now: Instant) -> bool {
        self.conn.is_none() && now >= self.retry_at
    }

    /// The driver could not connect: retry after one heartbeat interval.
    pub fn handle_connect_failed(&mut self, now: Instant) {
        self.retry_at = now + self.cfg.timing.heartbeat_interval;
    }

    /// Bytes from the master.
    pub fn handle_stream_bytes(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        if self.conn != Some(conn) {
            return;
        }
        self.dec.push(bytes);
        loop {
            match self.dec.next_frame() {
                Ok(Some(f)) => self.on_message(now, f.msg),
                Ok(None) => return,
                Err(_) => return self.close(),
            }
        }
    }

    fn on_message(&mut self, now: Instant, msg: Message) {
        match msg {
            Message::Challenge { nonce } => {
                let (node, eid) = (self.cfg.node, &self.cfg.eid);
                let mac = auth::response(&self.cfg.secret, &nonce, node, eid);
                if self.state != LinkState::Offline {
                    self.state = LinkState::Authenticating;
                }
                self.send(Message::AuthResponse { mac }, false);
            }
            Message::Refused { reason } => {
                self.events.push_back(SatelliteEvent::Refused(reason));
                // A refused node retries only after the heartbeat timeout.
                self.retry_at = now + self.cfg.timing.heartbeat_timeout;
                self.close();
            }
            Message::Welcome { .. } => {
                self.last_heard = now;
                self.state = LinkState::Online;
                self.offline_licences_until = None;
                self.events.push_back(SatelliteEvent::Online);
                // Rejoin reconciliation: the master counts what is still held, once.
                let status = NodeStatus {
                    active_calls: u32::try_from(self.held.len()).unwrap_or(u32::MAX),
                    was_offline: std::mem::take(&mut self.was_offline),
                    held_requests: self.held.keys().copied().collect(),
                };
                self.send(Message::Status(status), false);
                self.send_own_licences();
            }
            Message::ChannelGrant { request } => {
                self.last_heard = now;
                if let Some(units) = self.asked.remove(&request) {
                    self.held.insert(request, units);
                    self.events
                        .push_back(SatelliteEvent::ChannelsGranted { request });
                }
            }
            Message::ChannelDeny { request } => {
                self.last_heard = now;
                if self.asked.remove(&request).is_some() {
                    self.events
                        .push_back(SatelliteEvent::ChannelsDenied { request });
                }
            }
            _ if self.state != LinkState::Online => {}
            Message::Heartbeat { .. } => {
                self.last_heard = now;
                let config_version = self.config.0;
                self.send(Message::Heartbeat { config_version }, false);
            }
            Message::Activate { sw_version } => {
                self.last_heard = now;
                self.events
                    .push_back(SatelliteEvent::ActivateSoftware { sw_version });
            }
            Message::Maintenance { unlocked } => {
                self.last_heard = now;
                if self.maintenance != unlocked {
                    self.maintenance = unlocked;
                    self.events
                        .push_back(SatelliteEvent::MaintenanceChanged { unlocked });
                }
            }
            Message::LicenceView { entries } => {
                self.last_heard = now;
                self.licences = entries.into_iter().collect();
                let entries = self.licences.len();
                self.events
                    .push_back(SatelliteEvent::LicenceViewUpdated { entries });
            }
            Message::Directory { entries } => {
                self.last_heard = now;
                self.directory = entries.into_iter().collect();
                let entries = self.directory.len();
                self.events
                    .push_back(SatelliteEvent::DirectoryUpdated { entries });
            }
            Message::ConfigSnapshot { version, data } => {
                self.last_heard = now;
                // Idempotent: an old or repeated snapshot is only acknowledged.
                if version > self.config.0 {
                    self.config = (version, data.clone());
                    self.events
                        .push_back(SatelliteEvent::ConfigApplied { version, data });
                }
                let version = self.config.0;
                self.send(Message::ConfigAck { version }, false);
            }
            _ => self.last_heard = now,
        }
    }

    /// Timers: heartbeat, offline after silence, licence expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = self.cfg.timing;
        if self.state != LinkState::Offline && now >= self.last_heard + t.heartbeat_timeout {
            self.state = LinkState::Offline;
            self.was_offline = true;
            // Requests the master never answered are lost with the link.
            for request in std::mem::take(&mut self.asked).into_keys() {
                self.events
                    .push_back(SatelliteEvent::ChannelsDenied { request });
            }
            self.offline_licences_until = Some(now + t.offline_licence_lifetime);
            let backup_version = self.config.0;
            self.events
                .push_back(SatelliteEvent::Offline { backup_version });
            self.close();
        }
        if let Some(until) = self.offline_licences_until
            && now >= until
            && self.state == LinkState::Offline
        {
            self.offline_licences_until = None;
            self.events
                .push_back(SatelliteEvent::OfflineLicencesExpired);
        }
        if self.state == LinkState::Online && now >= self.next_beat {
            self.next_beat = now + t.heartbeat_interval;
            let config_version = self.config.0;
            self.send(Message::Heartbeat { config_version }, false);
        }
    }

    /// Next timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = self.cfg.timing;
        let retry = self.conn.is_none().then_some(self.retry_at);
        let own = match self.state {
            LinkState::Offline => self.offline_licences_until,
            LinkState::Online => Some(self.next_beat.min(self.last_heard + t.heartbeat_timeout)),
            _ => Some(self.last_heard + t.heartbeat_timeout),
        };
        [retry, own].into_iter().flatten().min()
    }

    /// Next bytes to write to the master.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.tx.pop_front()
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<SatelliteEvent> {
        self.events.pop_front()
    }

    /// Forwards an event to the master (MV2-33); dropped while not online.
    pub fn forward_event(&mut self, code: u16, data: Vec<u8>) {
        if self.state == LinkState::Online {
            self.send(Message::Event { code, data }, false);
        }
    }

    fn send(&mut self, msg: Message, close: bool) {
        if let Some(conn) = self.conn {
            let bytes = frame_bytes(&mut self.seq, msg);
            self.tx.push_back(Transmit { conn, bytes, close });
        }
    }

    fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.tx.push_back(Transmit {
                conn,
                bytes: Vec::new(),
                close: true,
            });
        }
    }
}
