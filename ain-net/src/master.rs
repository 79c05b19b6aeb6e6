//! The master: admits up to 49 satellites (50 nodes, MV-22), authors the configuration
//! (MV-23), supervises liveness (MV2-29).
//!
//! Per connection: `AwaitHello` → `AwaitAuth` (challenge sent) → `Joined`. A `Joined` node
//! that is silent for `heartbeat_timeout` is lost (`NodeLost`) and its connection closed.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use ring::hmac;

use crate::common::{ConnId, MAX_NODES, Timing, Transmit, frame_bytes};
use crate::{FrameDecoder, Message, RefuseReason, auth};

/// Master configuration.
#[derive(Debug, Clone)]
pub struct MasterConfig {
    /// Shared secret for the challenge-response.
    pub secret: Vec<u8>,
    /// Software version; satellites must match (MV2-28).
    pub sw_version: String,
    /// Satellites added on the master: node id → EID (MV2-29 step 1).
    pub nodes: BTreeMap<u16, String>,
    /// Timers.
    pub timing: Timing,
}

/// A software activation the master refused to request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("activate {wanted} on the satellites only once the master runs it (it runs {master})")]
pub struct ActivationRefused {
    /// The version asked for.
    pub wanted: String,
    /// The version the master runs.
    pub master: String,
}

/// One node in the network inventory (UCM-NET-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInventory {
    /// Node id (0: the master).
    pub node: u16,
    /// Its EID (the master's is the licence's, not known here).
    pub eid: Option<String>,
    /// The software it ran when it last joined (the master's own for node 0); `None` for a
    /// node that never joined.
    pub sw_version: Option<String>,
    /// Whether it is joined now.
    pub online: bool,
}

/// What the master reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MasterEvent {
    /// A satellite authenticated and joined.
    NodeJoined {
        /// Node id.
        node: u16,
    },
    /// A connection was refused.
    NodeRefused {
        /// Connection.
        conn: ConnId,
        /// Why.
        reason: RefuseReason,
    },
    /// A joined satellite was lost (`node_connection_lost`, MV2-29).
    NodeLost {
        /// Node id.
        node: u16,
    },
    /// The gateway satellite, which holds the licence EID, became unreachable (MV-27):
    /// feed `licensing::Licensing::handle_gateway_lost` (the 72 h rule runs from now).
    GatewayLost {
        /// Node id.
        node: u16,
    },
    /// The gateway satellite is back (MV-27): feed `handle_gateway_restored`.
    GatewayRestored {
        /// Node id.
        node: u16,
    },
    /// A rejoined satellite reported the pooled channels it still holds; the pool now
    /// counts exactly those (calls that outlived the outage, none twice).
    PoolReconciled {
        /// Node id.
        node: u16,
        /// Requests it holds.
        requests: usize,
        /// Units the pool now counts in use, all nodes together.
        in_use: u32,
    },
    /// A satellite acknowledged a configuration version (MV-23).
    ConfigApplied {
        /// Node id.
        node: u16,
        /// Version.
        version: u64,
    },
    /// An event forwarded by a satellite (node-qualified, MV2-33).
    Forwarded {
        /// Node id.
        node: u16,
        /// Event code.
        code: u16,
        /// Body.
        data: Vec<u8>,
    },
}

#[derive(Debug)]
enum Peer {
    AwaitHello,
    AwaitAuth {
        node: u16,
        eid: String,
        sw_version: String,
        nonce: [u8; 32],
    },
    Joined {
        node: u16,
        last_heard: Instant,
        next_beat: Instant,
        acked: u64,
    },
}

#[derive(Debug)]
struct Conn {
    dec: FrameDecoder,
    peer: Peer,
}

/// The sans-IO master.
#[derive(Debug)]
pub struct Master {
    cfg: MasterConfig,
    nonce_key: hmac::Key,
    nonces: u64,
    seq: u32,
    conns: BTreeMap<ConnId, Conn>,
    config: (u64, Vec<u8>),
    tx: VecDeque<Transmit>,
    events: VecDeque<MasterEvent>,
    pool_units: u32,
    held: BTreeMap<(u16, u64), u16>,
    /// Holdings of lost nodes, kept to count them right if the node reports them on rejoin.
    released_on_loss: BTreeMap<(u16, u64), u16>,
    directory: BTreeMap<String, u16>,
    licences: BTreeMap<String, u32>,
    /// The satellite holding the licence EID (gateway-EID mode, MV-27) and whether it is
    /// currently lost.
    gateway: Option<(u16, bool)>,
    /// The AIN-wide remote-maintenance state (MV2-31).
    maintenance: bool,
    /// Each node's own per-node licences as it reported them (MV-18).
    node_licences: BTreeMap<u16, BTreeMap<String, u32>>,
    /// The software each node ran when it last joined (UCM-NET-5).
    versions: BTreeMap<u16, String>,
}

/// Units counted for a reported request the master has no record of (an inter-node call,
/// MV-26).
const RECONCILED_UNITS: u16 = 2;

impl Master {
    /// A master; `seed` keys the nonce generator (the driver passes random bytes).
    pub fn new(cfg: MasterConfig, seed: [u8; 32]) -> Self {
        Self {
            cfg,
            nonce_key: hmac::Key::new(hmac::HMAC_SHA256, &seed),
            nonces: 0,
            seq: 0,
            conns: BTreeMap::new(),
            config: (0, Vec::new()),
            tx: VecDeque::new(),
            events: VecDeque::new(),
            pool_units: 0,
            directory: BTreeMap::new(),
            licences: BTreeMap::new(),
            gateway: None,
            maintenance: false,
            node_licences: BTreeMap::new(),
            versions: BTreeMap::new(),
            held: BTreeMap::new(),
            released_on_loss: BTreeMap::new(),
        }
    }

    /// Restores the configuration persisted by the driver (after a master restart), so the
    /// version sequence continues and satellites keep their newer-only rule.
    pub fn restore_config(&mut self, version: u64, data: Vec<u8>) {
        self.config = (version, data);
    }

    /// Asks every joined satellite to activate `sw_version` (MV2-30: software activation on
    /// satellites happens only at the master's request); returns how many were asked. The
    /// master must run that version first (UCM-NET-4: the primary is upgraded first).
    pub fn request_activation(&mut self, sw_version: &str) -> Result<usize, ActivationRefused> {
        if sw_version != self.cfg.sw_version {
            return Err(ActivationRefused {
                wanted: sw_version.to_owned(),
                master: self.cfg.sw_version.clone(),
            });
        }
        let ids = self.joined_conns();
        for &id in &ids {
            let msg = Message::Activate {
                sw_version: sw_version.to_owned(),
            };
            self.send(id, msg, false);
        }
        Ok(ids.len())
    }

    /// The master now runs `sw_version` (it was upgraded first, UCM-NET-4); satellites must
    /// match it to join (MV2-28) and are asked to activate it with
    /// [`Master::request_activation`].
    pub fn set_sw_version(&mut self, sw_version: &str) {
        self.cfg.sw_version = sw_version.to_owned();
    }

    /// Every node of the network with its software and state (UCM-NET-5): the master as
    /// node 0, then each configured satellite.
    pub fn inventory(&self) -> Vec<NodeInventory> {
        let joined = self.joined();
        let master = NodeInventory {
            node: 0,
            eid: None,
            sw_version: Some(self.cfg.sw_version.clone()),
            online: true,
        };
        let sats = self.cfg.nodes.iter().map(|(&node, eid)| NodeInventory {
            node,
            eid: Some(eid.clone()),
            sw_version: self.versions.get(&node).cloned(),
            online: joined.contains(&node),
        });
        std::iter::once(master).chain(sats).collect()
    }

    /// The per-node licence `name` of satellite `node` as it last reported (MV-18: Secure
    /// VoIP and QSIG are licensed per node, not pooled); 0 when it has none.
    pub fn node_licence(&self, node: u16, name: &str) -> u32 {
        self.node_licences
            .get(&node)
            .and_then(|l| l.get(name))
            .copied()
            .unwrap_or(0)
    }

    /// Whether every joined satellite reports per-node licence `name` (MV-18: Secure VoIP
    /// must be licensed on every node that uses it).
    pub fn licensed_on_every_node(&self, name: &str) -> bool {
        self.joined()
            .into_iter()
            .all(|n| self.node_licence(n, name) > 0)
    }

    /// Locks or unlocks remote maintenance AIN-wide (MV2-31): every satellite follows, and
    /// joining ones learn the state when they join.
    pub fn set_remote_maintenance(&mut self, unlocked: bool) {
        self.maintenance = unlocked;
        for id in self.joined_conns() {
            self.send(id, Message::Maintenance { unlocked }, false);
        }
    }

    /// Names the gateway satellite that holds the licence EID (MV-27); its loss and return
    /// are reported as [`MasterEvent::GatewayLost`] and [`MasterEvent::GatewayRestored`]. Until
    /// it has joined once it counts as lost.
    pub fn set_gateway(&mut self, node: u16) {
        let joined = self.joined().contains(&node);
        self.gateway = Some((node, !joined));
    }

    /// Sets the pooled channel units the master hands out to satellites (MV-17).
    pub fn set_channel_pool(&mut self, units: u32) {
        self.pool_units = units;
    }

    /// Pooled channel units currently granted.
    pub fn channels_in_use(&self) -> u32 {
        self.held.values().map(|u| u32::from(*u)).sum()
    }

    /// Current configuration version.
    pub fn config_version(&self) -> u64 {
        self.config.0
    }

    /// Joined node ids.
    pub fn joined(&self) -> Vec<u16> {
        self.conns
            .values()
            .filter_map(|c| joined_node(&c.peer))
            .collect()
    }

    /// Authors a new configuration and sends it to every joined satellite (MV-23).
    pub fn set_config(&mut self, data: Vec<u8>) -> u64 {
        self.config = (self.config.0 + 1, data);
        for id in self.joined_conns() {
            self.send_snapshot(id);
        }
        self.config.0
    }

    /// Replaces the extension directory (which node each extension lives on, MV-28) and
    /// sends it to every joined satellite; satellites joining later get it after the
    /// configuration.
    pub fn set_directory(&mut self, entries: impl IntoIterator<Item = (String, u16)>) {
        self.directory = entries.into_iter().collect();
        for id in self.joined_conns() {
            self.send_directory(id);
        }
    }

    /// Replaces the licence view (licence type → count) satellites see while online
    /// (MV-25) and sends it to every joined satellite; joining ones get it too.
    pub fn set_licence_view(&mut self, entries: impl IntoIterator<Item = (String, u32)>) {
        self.licences = entries.into_iter().collect();
        for id in self.joined_conns() {
            self.send_licences(id);
        }
    }

    fn send_licences(&mut self, conn: ConnId) {
        let entries = self.licences.iter().map(|(n, c)| (n.clone(), *c)).collect();
        self.send(conn, Message::LicenceView { entries }, false);
    }

    fn joined_conns(&self) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(_, c)| joined_node(&c.peer).is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// The node extension `ext` lives on (MV-28).
    pub fn locate(&self, ext: &str) -> Option<u16> {
        self.directory.get(ext).copied()
    }

    /// A node's status after (re)joining: the pool counts exactly the requests it still
    /// holds. Units are those granted before the outage (2, an inter-node call, when the
    /// master no longer knows them, e.g. after its own restart). Calls already running are
    /// counted even beyond the pool: they cannot be taken back.
    fn reconcile(&mut self, node: u16, status: &crate::NodeStatus) {
        let still: std::collections::BTreeSet<u64> = status.held_requests.iter().copied().collect();
        self.held
            .retain(|(n, r), _| *n != node || still.contains(r));
        for &r in &still {
            let units = self
                .released_on_loss
                .remove(&(node, r))
                .unwrap_or(RECONCILED_UNITS);
            self.held.entry((node, r)).or_insert(units);
        }
        self.released_on_loss.retain(|(n, _), _| *n != node);
        self.events.push_back(MasterEvent::PoolReconciled {
            node,
            requests: still.len(),
            in_use: self.channels_in_use(),
        });
    }

    fn send_directory(&mut self, conn: ConnId) {
        let entries = self
            .directory
            .iter()
            .map(|(e, n)| (e.clone(), *n))
            .collect();
        self.send(conn, Message::Directory { entries }, false);
    }

    /// A connection was accepted.
    pub fn handle_connected(&mut self, conn: ConnId) {
        self.conns.insert(
            conn,
            Conn {
                dec: FrameDecoder::new(),
                peer: Peer::AwaitHello,
            },
        );
    }

    /// The driver saw the connection close.
    pub fn handle_closed(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn)
            && let Some(node) = joined_node(&c.peer)
        {
            // A lost node's pooled units return to the pool (MV-17); what it held is
            // remembered for the reconciliation when it rejoins.
            let (gone, kept) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|((n, _), _)| *n == node);
            self.held = kept;
            self.released_on_loss.extend(gone);
            self.events.push_back(MasterEvent::NodeLost { node });
            if let Some((g, lost)) = &mut self.gateway
                && *g == node
                && !*lost
            {
                *lost = true;
                self.events.push_back(MasterEvent::GatewayLost { node });
            }
        }
    }

    /// Bytes received on a connection.
    pub fn handle_stream_bytes(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.dec.push(bytes);
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            match c.dec.next_frame() {
                Ok(Some(f)) => self.on_message(now, conn, f.msg),
                Ok(None) => return,
                Err(_) => return self.drop_conn(conn, None),
            }
        }
    }

    fn on_message(&mut self, now: Instant, conn: ConnId, msg: Message) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match (&mut c.peer, msg) {
            (
                Peer::AwaitHello,
                Message::Hello {
                    node,
                    eid,
                    sw_version,
                },
            ) => {
                let nonce = self.next_nonce();
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.peer = Peer::AwaitAuth {
                        node,
                        eid,
                        sw_version,
                        nonce,
                    };
                }
                self.send(conn, Message::Challenge { nonce }, false);
            }
            (
                Peer::AwaitAuth {
                    node,
                    eid,
                    sw_version,
                    nonce,
                },
                Message::AuthResponse { mac },
            ) => {
                let (node, eid) = (*node, eid.clone());
                let same_version = *sw_version == self.cfg.sw_version;
                if !auth::verify(&self.cfg.secret, nonce, node, &eid, &mac) {
                    return self.drop_conn(conn, Some(RefuseReason::BadAuth));
                }
                // Checked only after authentication: an outsider learns nothing.
                if !same_version {
                    return self.drop_conn(conn, Some(RefuseReason::VersionMismatch));
                }
                if self.cfg.nodes.get(&node) != Some(&eid) || node == 0 {
                    return self.drop_conn(conn, Some(RefuseReason::UnknownNode));
                }
                let joined = self.joined();
                if joined.contains(&node) || joined.len() + 1 >= MAX_NODES {
                    return self.drop_conn(conn, Some(RefuseReason::Full));
                }
                let next_beat = now + self.cfg.timing.heartbeat_interval;
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.peer = Peer::Joined {
                        node,
                        last_heard: now,
                        next_beat,
                        acked: 0,
                    };
                }
                let config_version = self.config.0;
                self.send(conn, Message::Welcome { config_version }, false);
                self.send_snapshot(conn);
                if !self.directory.is_empty() {
                    self.send_directory(conn);
                }
                if !self.licences.is_empty() {
                    self.send_licences(conn);
                }
                let unlocked = self.maintenance;
                self.send(conn, Message::Maintenance { unlocked }, false);
                self.versions.insert(node, self.cfg.sw_version.clone());
                self.events.push_back(MasterEvent::NodeJoined { node });
                if let Some((g, lost)) = &mut self.gateway
                    && *g == node
                    && std::mem::take(lost)
                {
                    self.events.push_back(MasterEvent::GatewayRestored { node });
                }
            }
            (
                Peer::Joined {
                    node,
                    last_heard,
                    acked,
                    ..
                },
                msg,
            ) => {
                *last_heard = now;
                let node = *node;
                match msg {
                    Message::ConfigAck { version } => {
                        let newer = version > *acked;
                        *acked = (*acked).max(version);
                        if newer {
                            self.events
                                .push_back(MasterEvent::ConfigApplied { node, version });
                        }
                        if version < self.config.0 {
                            self.send_snapshot(conn);
                        }
                    }
                    Message::ChannelAcquire { request, units } => {
                        let dup = self.held.contains_key(&(node, request));
                        let fits = self.channels_in_use() + u32::from(units) <= self.pool_units;
                        if !dup && fits {
                            self.held.insert((node, request), units);
                        }
                        // A repeated request is granted again without counting twice.
                        let msg = if dup || fits {
                            Message::ChannelGrant { request }
                        } else {
                            Message::ChannelDeny { request }
                        };
                        self.send(conn, msg, false);
                    }
                    Message::ChannelRelease { request } => {
                        self.held.remove(&(node, request));
                    }
                    Message::Status(status) => self.reconcile(node, &status),
                    Message::NodeLicences { entries } => {
                        self.node_licences
                            .insert(node, entries.into_iter().collect());
                    }
                    Message::Event { code, data } => {
                        self.events
                            .push_back(MasterEvent::Forwarded { node, code, data });
                    }
                    _ => {}
                }
            }
            _ => self.drop_conn(conn, None),
        }
    }

    /// Timers: heartbeats to joined satellites, loss of silent ones.
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = self.cfg.timing;
        let mut lost = Vec::new();
        let mut beat = Vec::new();
        for (id, c) in &mut self.conns {
            if let Peer::Joined {
                last_heard,
                next_beat,
                ..
            } = &mut c.peer
            {
                if now >= *last_heard + t.heartbeat_timeout {
                    lost.push(*id);
                } else if now >= *next_beat {
                    *next_beat = now + t.heartbeat_interval;
                    beat.push(*id);
                }
            }
        }
        let config_version = self.config.0;
        for id in beat {
            self.send(id, Message::Heartbeat { config_version }, false);
        }
        for id in lost {
            self.drop_conn(id, None);
        }
    }

    /// Next timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = self.cfg.timing;
        self.conns
            .values()
            .filter_map(|c| match c.peer {
                Peer::Joined {
                    last_heard,
                    next_beat,
                    ..
                } => Some(next_beat.min(last_heard + t.heartbeat_timeout)),
                _ => None,
            })
            .min()
    }

    /// Next bytes to write.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.tx.pop_front()
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<MasterEvent> {
        self.events.pop_front()
    }

    fn send_snapshot(&mut self, conn: ConnId) {
        let (version, data) = self.config.clone();
        self.send(conn, Message::ConfigSnapshot { version, data }, false);
    }

    fn send(&mut self, conn: ConnId, msg: Message, close: bool) {
        let bytes = frame_bytes(&mut self.seq, msg);
        self.tx.push_back(Transmit { conn, bytes, close });
    }

    fn drop_conn(&mut self, conn: ConnId, reason: Option<RefuseReason>) {
        match reason {
            Some(reason) => {
                self.send(conn, Message::Refused { reason }, true);
                self.events
                    .push_back(MasterEvent::NodeRefused { conn, reason });
            }
            None => self.tx.push_back(Transmit {
                conn,
                bytes: Vec::new(),
                close: true,
            }),
        }
        self.handle_closed(conn);
    }

    fn next_nonce(&mut self) -> [u8; 32] {
        self.nonces += 1;
        let tag = hmac::sign(&self.nonce_key, &self.nonces.to_be_bytes());
        let mut n = [0; 32];
        n.copy_from_slice(tag.as_ref());
        n
    }
}

fn joined_node(p: &Peer) -> Option<u16> {
    match p {
        Peer::Joined { node, .. } => Some(*node),
        _ => None,
    }
}
