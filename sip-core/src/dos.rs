//! DoS guard (MV2-34): blacklists a source IP once it exceeds, within a sliding window, the
//! configured number of failed registrations, transactions, requests for sessions that do not
//! exist, or modified (tampered or malformed) messages; unblocks it after the configured time.
//! Pure bookkeeping with time as an argument: the driver drops what [`DosGuard::is_blocked`]
//! names, reports each request with [`DosGuard::transaction`] and each offence with
//! [`DosGuard::record`], and raises the [`Change`]s as events.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Thresholds of the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DosConfig {
    /// Off: nothing is ever blacklisted.
    pub enabled: bool,
    /// Failed registrations tolerated per window (cause 0).
    pub max_registrations: u32,
    /// Transactions tolerated per window (cause 1).
    pub max_transactions: u32,
    /// Requests for unknown dialogs or transactions tolerated per window (cause 2).
    pub max_no_session: u32,
    /// Modified messages tolerated per window (cause 3).
    pub max_modified: u32,
    /// The sliding window.
    pub window: Duration,
    /// How long a source stays blacklisted.
    pub blacklist: Duration,
    /// Sources never blacklisted.
    pub exempt: Vec<IpAddr>,
}

impl Default for DosConfig {
    /// 20 failed registrations, 2000 transactions, 50 requests without a session or 20
    /// modified messages per 10 s; 300 s on the blacklist.
    fn default() -> Self {
        Self {
            enabled: true,
            max_registrations: 20,
            max_transactions: 2000,
            max_no_session: 50,
            max_modified: 20,
            window: Duration::from_secs(10),
            blacklist: Duration::from_secs(300),
            exempt: Vec::new(),
        }
    }
}

/// Why an IP was blacklisted: the cause codes of `dos_ip_blacklisted` (MV2-34).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// 0: too many (failed) registrations.
    Registration = 0,
    /// 1: too many transactions.
    TooManyTransactions = 1,
    /// 2: requests for dialogs or transactions that do not exist (answered 481).
    NoSession = 2,
    /// 3: modified messages: unparseable, or credentials with a forged or replayed nonce.
    ModifiedMessage = 3,
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

/// Recent offences of one source, per cause.
#[derive(Debug, Default)]
struct Counters([VecDeque<Instant>; 4]);

impl Counters {
    fn latest(&self) -> Option<Instant> {
        self.0.iter().filter_map(|q| q.back().copied()).max()
    }
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

    const fn limit(&self, cause: Cause) -> u32 {
        match cause {
            Cause::Registration => self.config.max_registrations,
            Cause::TooManyTransactions => self.config.max_transactions,
            Cause::NoSession => self.config.max_no_session,
            Cause::ModifiedMessage => self.config.max_modified,
        }
    }

    /// Records one offence of `cause` by `ip` at `now`; the blacklisting it causes, if any.
    pub fn record(&mut self, now: Instant, ip: IpAddr, cause: Cause) -> Option<Change> {
        if !self.config.enabled || self.config.exempt.contains(&ip) || self.is_blocked(ip) {
            return None;
        }
        let window = self.config.window;
        if self.counters.len() >= MAX_TRACKED && !self.counters.contains_key(&ip) {
            self.counters.retain(|_, c| {
                c.latest()
                    .is_some_and(|t| now.saturating_duration_since(t) < window)
            });
            if self.counters.len() >= MAX_TRACKED {
                return None; // every tracked source is active: do not grow further
            }
        }
        let limit = self.limit(cause);
        let q = &mut self.counters.entry(ip).or_default().0[cause as usize];
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
        q.push_back(now);
        if q.len() > limit as usize {
            self.counters.remove(&ip);
            let until = now + self.config.blacklist;
            self.blocked.insert(ip, until);
            return Some(Change::Blacklisted(ip, cause));
        }
        None
    }

    /// Records a transaction (any request but ACK) from `ip`.
    pub fn transaction(&mut self, now: Instant, ip: IpAddr) -> Option<Change> {
        self.record(now, ip, Cause::TooManyTransactions)
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
            max_no_session: 2,
            max_modified: 1,
            window: Duration::from_secs(10),
            blacklist: Duration::from_secs(60),
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
            assert_eq!(g.record(t, ip, Cause::Registration), None);
        }
        assert_eq!(
            g.record(t, ip, Cause::Registration),
            Some(Change::Blacklisted(ip, Cause::Registration))
        );
        assert_eq!(Cause::Registration.code(), 0);
        assert_eq!(Cause::TooManyTransactions.code(), 1);
    }

    #[test]
    fn mv2_34_no_session_and_modified_message_causes() {
        let t = t0();
        let (a, b) = (IpAddr::from([192, 0, 2, 11]), IpAddr::from([192, 0, 2, 12]));
        let mut g = DosGuard::new(cfg());
        assert_eq!(g.record(t, a, Cause::NoSession), None);
        assert_eq!(g.record(t, a, Cause::NoSession), None);
        assert_eq!(
            g.record(t, a, Cause::NoSession),
            Some(Change::Blacklisted(a, Cause::NoSession))
        );
        assert_eq!(g.record(t, b, Cause::ModifiedMessage), None);
        assert_eq!(
            g.record(t, b, Cause::ModifiedMessage),
            Some(Change::Blacklisted(b, Cause::ModifiedMessage))
        );
        assert_eq!(
            (Cause::NoSession.code(), Cause::ModifiedMessage.code()),
            (2, 3)
        );
        // Causes count separately: one of each stays under every limit.
        let c = IpAddr::from([192, 0, 2, 13]);
        assert_eq!(g.record(t, c, Cause::NoSession), None);
        assert_eq!(g.record(t, c, Cause::Registration), None);
        assert!(!g.is_blocked(c));
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
