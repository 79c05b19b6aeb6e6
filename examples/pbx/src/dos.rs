//! DoS guard (MV2-34): blacklist a source IP once it exceeds the configured number of failed
//! registrations or of transactions within a window; unblock it after the configured time.
//! Pure bookkeeping with time as an argument; the SIP driver asks it about every request.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::DosConfig;

/// Why an IP was blacklisted: the cause codes of `dos_ip_blacklisted` (MV2-34).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// 0: too many (failed) registrations.
    Registration = 0,
    /// 1: too many transactions.
    TooManyTransactions = 1,
}

impl Cause {
    /// The event's cause code.
    pub const fn code(self) -> u32 {
        self as u32
    }
}

/// A change of the blacklist, to raise as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `dos_ip_blacklisted`.
    Blacklisted(IpAddr, Cause),
    /// `dos_ip_unblacklisted`.
    Unblacklisted(IpAddr),
}

#[derive(Debug, Default)]
struct Counters {
    registrations: VecDeque<Instant>,
    transactions: VecDeque<Instant>,
}

/// Most source addresses tracked at once (bounded memory under a spoofed flood).
const MAX_TRACKED: usize = 65_536;

/// The guard.
#[derive(Debug)]
pub struct DosGuard {
    config: DosConfig,
    counters: HashMap<IpAddr, Counters>,
    blocked: HashMap<IpAddr, Instant>,
}

impl DosGuard {
    /// A guard with `config`.
    pub fn new(config: DosConfig) -> Self {
        Self {
            config,
            counters: HashMap::new(),
            blocked: HashMap::new(),
        }
    }

    /// Whether datagrams and connections from `ip` are dropped now.
    pub fn is_blocked(&self, ip: IpAddr) -> bool {
        self.blocked.contains_key(&ip)
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.config.interval_secs)
    }

    fn count(&mut self, now: Instant, ip: IpAddr, cause: Cause) -> Option<Change> {
        if !self.config.enabled || self.config.exempt.contains(&ip) || self.is_blocked(ip) {
            return None;
        }
        if self.counters.len() >= MAX_TRACKED && !self.counters.contains_key(&ip) {
            let window = self.window();
            self.counters.retain(|_, c| {
                c.transactions
                    .back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < window)
            });
        }
        let window = self.window();
        let (limit, q) = {
            let c = self.counters.entry(ip).or_default();
            match cause {
                Cause::Registration => (self.config.max_registrations, &mut c.registrations),
                Cause::TooManyTransactions => (self.config.max_transactions, &mut c.transactions),
            }
        };
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
        q.push_back(now);
        if q.len() > limit as usize {
            self.counters.remove(&ip);
            let until = now + Duration::from_secs(self.config.blacklist_secs);
            self.blocked.insert(ip, until);
            return Some(Change::Blacklisted(ip, cause));
        }
        None
    }

    /// Records a transaction (any request but ACK) from `ip`.
    pub fn transaction(&mut self, now: Instant, ip: IpAddr) -> Option<Change> {
        self.count(now, ip, Cause::TooManyTransactions)
    }

    /// Records a failed registration from `ip` (the registrar calls this).
    pub fn failed_registration(&mut self, now: Instant, ip: IpAddr) -> Option<Change> {
        self.count(now, ip, Cause::Registration)
    }

    /// When the next IP is due to be unblocked.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.blocked.values().min().copied()
    }

    /// Unblocks the IPs whose time is up.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Change> {
        let due: Vec<IpAddr> = self
            .blocked
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(ip, _)| *ip)
            .collect();
        for ip in &due {
            self.blocked.remove(ip);
        }
        due.into_iter().map(Change::Unblacklisted).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DosConfig {
        DosConfig {
            max_registrations: 3,
            max_transactions: 5,
            interval_secs: 10,
            blacklist_secs: 60,
            ..DosConfig::default()
        }
    }

    #[allow(clippy::disallowed_methods)] // virtual-clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn mv2_34_transactions_blacklist_then_unblock() {
        let (t, ip) = (t0(), IpAddr::from([192, 0, 2, 9]));
        let mut g = DosGuard::new(cfg());
        for i in 0..5 {
            assert_eq!(g.transaction(t + Duration::from_millis(i), ip), None);
        }
        assert_eq!(
            g.transaction(t, ip),
            Some(Change::Blacklisted(ip, Cause::TooManyTransactions))
        );
        assert!(g.is_blocked(ip));
        assert_eq!(g.poll_timeout(), Some(t + Duration::from_secs(60)));
        assert!(g.handle_timeout(t + Duration::from_secs(59)).is_empty());
        assert_eq!(
            g.handle_timeout(t + Duration::from_secs(60)),
            vec![Change::Unblacklisted(ip)]
        );
        assert!(!g.is_blocked(ip));
    }

    #[test]
    fn mv2_34_window_slides_and_registration_cause() {
        let (t, ip) = (t0(), IpAddr::from([192, 0, 2, 10]));
        let mut g = DosGuard::new(cfg());
        // Spread over more than the window: never blacklisted.
        for i in 0..20u64 {
            assert_eq!(g.transaction(t + Duration::from_secs(3 * i), ip), None);
        }
        for _ in 0..3 {
            assert_eq!(g.failed_registration(t, ip), None);
        }
        assert_eq!(
            g.failed_registration(t, ip),
            Some(Change::Blacklisted(ip, Cause::Registration))
        );
        assert_eq!(Cause::Registration.code(), 0);
        assert_eq!(Cause::TooManyTransactions.code(), 1);
    }

    #[test]
    fn exempt_and_disabled() {
        let (t, ip) = (t0(), IpAddr::from([127, 0, 0, 1]));
        let mut g = DosGuard::new(DosConfig {
            exempt: vec![ip],
            ..cfg()
        });
        let mut off = DosGuard::new(DosConfig {
            enabled: false,
            ..cfg()
        });
        for _ in 0..100 {
            assert_eq!(g.transaction(t, ip), None);
            assert_eq!(off.transaction(t, ip), None);
        }
    }
}
