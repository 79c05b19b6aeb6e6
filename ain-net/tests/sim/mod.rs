//! Virtual-clock AIN network: one master, N satellites, seeded link model (latency jitter,
//! fragmentation, order kept per TCP connection), partitions, master restarts, and optional
//! frame duplication and reordering (`Net::set_chaos`).

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use pbxkit_ain_net::{
    ConnId, Master, MasterConfig, MasterEvent, Satellite, SatelliteConfig, SatelliteEvent, Timing,
};

pub const SECRET: &[u8] = b"ain-shared-secret";
pub const VERSION: &str = "9.1";

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum To {
    Master,
    Sat(usize),
}

struct Packet {
    at: Instant,
    to: To,
    conn: ConnId,
    bytes: Vec<u8>,
    close: bool,
}

pub struct Net {
    pub now: Instant,
    pub master: Master,
    pub master_up: bool,
    pub sats: Vec<Satellite>,
    pub partitioned: BTreeSet<usize>,
    pub master_events: Vec<MasterEvent>,
    pub sat_events: Vec<Vec<SatelliteEvent>>,
    conn_of: BTreeMap<ConnId, usize>,
    inflight: Vec<Packet>,
    last_at: BTreeMap<(ConnId, bool), Instant>,
    next_conn: u64,
    rng: Rng,
    seed: u64,
    timing: Timing,
    /// Per mille of frames duplicated, and of frames held back behind the next one.
    chaos: (u64, u64),
    held: BTreeMap<(ConnId, bool), Vec<u8>>,
    /// Frames duplicated and frames reordered so far.
    pub chaos_done: (u64, u64),
}

pub fn eid(i: usize) -> String {
    format!("EID-{i:04}")
}

pub fn master_config(n: usize, timing: Timing) -> MasterConfig {
    MasterConfig {
        secret: SECRET.to_vec(),
        sw_version: VERSION.into(),
        nodes: (1..=n as u16).map(|i| (i, eid(i as usize))).collect(),
        timing,
    }
}

pub fn sat_config(i: usize, timing: Timing) -> SatelliteConfig {
    SatelliteConfig {
        node: i as u16,
        eid: eid(i),
        sw_version: VERSION.into(),
        secret: SECRET.to_vec(),
        timing,
    }
}

impl Net {
    /// `n` satellites (node ids 1..=n), all known to the master.
    pub fn new(n: usize, seed: u64) -> Self {
        let timing = Timing::default();
        #[allow(clippy::disallowed_methods)] // the virtual clock's origin is read once
        let now = Instant::now();
        let sats = (1..=n)
            .map(|i| Satellite::new(sat_config(i, timing), now))
            .collect();
        Self {
            now,
            master: Master::new(master_config(n, timing), [seed as u8; 32]),
            master_up: true,
            sats,
            partitioned: BTreeSet::new(),
            master_events: Vec::new(),
            sat_events: vec![Vec::new(); n],
            conn_of: BTreeMap::new(),
            inflight: Vec::new(),
            last_at: BTreeMap::new(),
            next_conn: 1,
            rng: Rng(seed | 1),
            seed,
            timing,
            chaos: (0, 0),
            held: BTreeMap::new(),
            chaos_done: (0, 0),
        }
    }

    /// Replaces the master with a fresh one that restored the persisted configuration.
    pub fn restart_master(&mut self) {
        let (v, data) = (self.master.config_version(), b"persisted".to_vec());
        self.master = Master::new(master_config(self.sats.len(), self.timing), [7; 32]);
        self.master.restore_config(v, data);
        for (conn, i) in std::mem::take(&mut self.conn_of) {
            self.sats[i].handle_closed(conn);
        }
        self.inflight.clear();
    }

    /// From now on, `dup` per mille of frames arrive twice and `swap` per mille arrive after
    /// the frame sent next on the same connection and direction (a faulty middlebox: the
    /// byte stream stays well framed, the messages do not).
    pub fn set_chaos(&mut self, dup: u64, swap: u64) {
        self.chaos = (dup, swap);
        if (dup, swap) == (0, 0) {
            // Nothing stays held back once the chaos stops.
            for ((conn, to_master), bytes) in std::mem::take(&mut self.held) {
                let to = match (to_master, self.conn_of.get(&conn)) {
                    (true, _) => To::Master,
                    (false, Some(&i)) => To::Sat(i),
                    (false, None) => continue,
                };
                self.deliver_later(to, conn, bytes, false);
            }
        }
    }

    fn schedule(&mut self, to: To, conn: ConnId, bytes: Vec<u8>, close: bool) {
        let (dup, swap) = self.chaos;
        let key = (conn, to == To::Master);
        if bytes.is_empty() || close {
            return self.deliver_later(to, conn, bytes, close);
        }
        if self.rng.next() % 1000 < dup {
            self.chaos_done.0 += 1;
            self.deliver_later(to, conn, bytes.clone(), false);
        }
        if self.rng.next() % 1000 < swap && !self.held.contains_key(&key) {
            self.chaos_done.1 += 1;
            self.held.insert(key, bytes);
            return;
        }
        self.deliver_later(to, conn, bytes, false);
        if let Some(h) = self.held.remove(&key) {
            self.deliver_later(to, conn, h, false);
        }
    }

    fn deliver_later(&mut self, to: To, conn: ConnId, bytes: Vec<u8>, close: bool) {
        let jitter = Duration::from_millis(1 + self.rng.next() % 40);
        let key = (conn, to == To::Master);
        let at = (self.now + jitter).max(*self.last_at.get(&key).unwrap_or(&self.now));
        self.last_at.insert(key, at);
        // Fragment into random pieces, same delivery instant keeps order.
        let mut rest = &bytes[..];
        while rest.len() > 1 && self.rng.next().is_multiple_of(3) {
            let cut = 1 + (self.rng.next() as usize % (rest.len() - 1));
            let piece = rest[..cut].to_vec();
            self.inflight.push(Packet {
                at,
                to,
                conn,
                bytes: piece,
                close: false,
            });
            rest = &rest[cut..];
        }
        let bytes = rest.to_vec();
        self.inflight.push(Packet {
            at,
            to,
            conn,
            bytes,
            close,
        });
    }

    fn drain(&mut self) {
        while let Some(t) = self.master.poll_transmit() {
            if let Some(&i) = self.conn_of.get(&t.conn) {
                self.schedule(To::Sat(i), t.conn, t.bytes, t.close);
            }
        }
        while let Some(e) = self.master.poll_event() {
            self.master_events.push(e);
        }
        for i in 0..self.sats.len() {
            while let Some(t) = self.sats[i].poll_transmit() {
                self.schedule(To::Master, t.conn, t.bytes, t.close);
            }
            while let Some(e) = self.sats[i].poll_event() {
                self.sat_events[i].push(e);
            }
        }
    }

    fn connect_idle(&mut self) {
        for i in 0..self.sats.len() {
            if !self.sats[i].wants_connection(self.now) {
                continue;
            }
            if !self.master_up || self.partitioned.contains(&i) {
                self.sats[i].handle_connect_failed(self.now);
            } else {
                let conn = ConnId(self.next_conn);
                self.next_conn += 1;
                self.conn_of.insert(conn, i);
                self.master.handle_connected(conn);
                self.sats[i].handle_connected(self.now, conn);
            }
        }
    }

    /// Cuts satellite `i` off: in-flight bytes are lost, both ends see nothing until timeouts.
    pub fn partition(&mut self, i: usize) {
        self.partitioned.insert(i);
    }

    /// Runs the network for `d` of virtual time (bounded number of steps).
    pub fn run(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..1_000_000 {
            self.connect_idle();
            self.drain();
            let due = self.inflight.iter().map(|p| p.at).min();
            let mut next = [due, self.master.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            for s in &self.sats {
                next = [next, s.poll_timeout()].into_iter().flatten().min();
            }
            let next = next.unwrap_or(end).max(self.now);
            if next > end {
                self.now = end;
                return;
            }
            self.now = next;
            self.deliver();
            self.master.handle_timeout(self.now);
            for s in &mut self.sats {
                s.handle_timeout(self.now);
            }
        }
        panic!("simulation did not settle");
    }

    fn deliver(&mut self) {
        let now = self.now;
        let (due, later): (Vec<Packet>, Vec<Packet>) = std::mem::take(&mut self.inflight)
            .into_iter()
            .partition(|p| p.at <= now);
        self.inflight = later;
        for p in due {
            let Some(&i) = self.conn_of.get(&p.conn) else {
                continue;
            };
            if self.partitioned.contains(&i) || !self.master_up {
                continue;
            }
            match p.to {
                To::Master => {
                    self.master.handle_stream_bytes(now, p.conn, &p.bytes);
                    if p.close {
                        self.master.handle_closed(p.conn);
                    }
                }
                To::Sat(i) => {
                    self.sats[i].handle_stream_bytes(now, p.conn, &p.bytes);
                    if p.close {
                        self.sats[i].handle_closed(p.conn);
                    }
                }
            }
        }
    }
}
