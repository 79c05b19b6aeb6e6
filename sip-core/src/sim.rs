//! A deterministic network for driving [`crate::endpoint::Endpoint`]s in tests and benches:
//! a virtual clock, seeded loss, delay jitter (hence reordering) and duplication. No sockets,
//! no threads: [`Network::step`] delivers the next datagram or fires the next timer.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::endpoint::{Endpoint, Event};

/// Link behaviour.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LinkModel {
    /// Probability (0..=1) that a datagram is lost.
    pub loss: f64,
    /// Probability that a delivered datagram is delivered twice.
    pub duplicate: f64,
    /// Base one-way delay.
    pub delay: Duration,
    /// Extra random delay up to this much (reorders datagrams).
    pub jitter: Duration,
}

impl Default for LinkModel {
    fn default() -> Self {
        Self {
            loss: 0.0,
            duplicate: 0.0,
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
        }
    }
}

/// What happened, for assertions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams handed to the network.
    pub sent: u64,
    /// Datagrams dropped.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
}

/// The simulated network and the endpoints attached to it.
#[derive(Debug)]
pub struct Network {
    now: Instant,
    link: LinkModel,
    rng: u64,
    nodes: HashMap<SocketAddr, Endpoint>,
    /// (delivery time, sequence) → (from, to, bytes).
    in_flight: BTreeMap<(Instant, u64), (SocketAddr, SocketAddr, Bytes)>,
    seq: u64,
    counters: Counters,
}

impl Network {
    /// A network starting at `now` with `link` behaviour and a seed for its randomness.
    pub fn new(now: Instant, link: LinkModel, seed: u64) -> Self {
        Self {
            now,
            link,
            rng: seed | 1,
            nodes: HashMap::new(),
            in_flight: BTreeMap::new(),
            seq: 0,
            counters: Counters::default(),
        }
    }

    /// Attaches `endpoint` at `addr`.
    pub fn attach(&mut self, addr: SocketAddr, endpoint: Endpoint) {
        self.nodes.insert(addr, endpoint);
    }

    /// The endpoint at `addr`.
    pub fn endpoint(&mut self, addr: SocketAddr) -> Option<&mut Endpoint> {
        self.nodes.get_mut(&addr)
    }

    /// The virtual time.
    pub const fn now(&self) -> Instant {
        self.now
    }

    /// What the network did so far.
    pub const fn counters(&self) -> Counters {
        self.counters
    }

    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Moves what every endpoint wants to send into the network.
    pub fn collect(&mut self) {
        let mut out = Vec::new();
        for (addr, ep) in &mut self.nodes {
            while let Some(t) = ep.poll_transmit() {
                out.push((*addr, t.destination, t.payload));
            }
        }
        for (from, to, bytes) in out {
            self.counters.sent += 1;
            if self.random() < self.link.loss {
                self.counters.lost += 1;
                continue;
            }
            let copies = if self.random() < self.link.duplicate {
                2
            } else {
                1
            };
            self.counters.duplicated += copies - 1;
            for _ in 0..copies {
                let jitter = self.link.jitter.mul_f64(self.random());
                self.seq += 1;
                let at = self.now + self.link.delay + jitter;
                self.in_flight
                    .insert((at, self.seq), (from, to, bytes.clone()));
            }
        }
    }

    /// Advances to the next delivery or timer no later than `until`, handles it, and returns
    /// the events endpoints reported, by endpoint. `None` when nothing is due by `until`.
    pub fn step(&mut self, until: Instant) -> Option<Vec<(SocketAddr, Event)>> {
        self.collect();
        let next_delivery = self.in_flight.keys().next().map(|k| k.0);
        let next_timer = self
            .nodes
            .iter()
            .filter_map(|(a, e)| e.poll_timeout().map(|t| (t, *a)))
            .min();
        let next = [next_delivery, next_timer.map(|t| t.0)]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next.filter(|at| *at <= until) else {
            // Nothing due by `until`: time moves on to it.
            self.now = self.now.max(until);
            return None;
        };
        self.now = self.now.max(at);
        if next_delivery == Some(at) {
            let (key, (from, to, bytes)) = self.in_flight.pop_first()?;
            let _ = key;
            if let Some(ep) = self.nodes.get_mut(&to) {
                ep.handle_datagram(self.now, from, bytes);
            }
        } else if let Some((_, addr)) = next_timer
            && let Some(ep) = self.nodes.get_mut(&addr)
        {
            ep.handle_timeout(self.now);
        }
        let mut events = Vec::new();
        for (addr, ep) in &mut self.nodes {
            while let Some(e) = ep.poll_event() {
                events.push((*addr, e));
            }
        }
        self.collect();
        Some(events)
    }
}
