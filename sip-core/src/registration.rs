//! Outbound registration (RFC 3261 §10.2): keeps one contact registered at a registrar, as a
//! PBX does at a SIP provider for a trunk. Sans-IO: [`Registration::poll_request`] hands out
//! the REGISTER to send (the caller runs the transaction), responses and transaction
//! failures come back through [`Registration::handle_response`] and
//! [`Registration::handle_failure`], and time is an argument.
//!
//! It answers 401/407 with digest credentials (once per challenge), follows 423 Min-Expires,
//! refreshes before expiry, backs off exponentially after failures (Retry-After honoured),
//! and reports supervision events with the MiVoice causes of MV2-35: the registrar is
//! unreachable, or the account is not authorised. With backup registrars (dual homing,
//! MV-33) an unreachable registrar makes it try the next one at once, and a refresh made on a
//! backup first tries the primary again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::header::{Challenge, Contact, Expires, MinExpires, RetryAfter};
use crate::{HeaderName, Message, Method, RequestBuilder, digest};

/// What to register, where, and how persistently.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationConfig {
    /// The registrar's Request-URI (e.g. `sip:provider.example`).
    pub registrar: String,
    /// The address of record (`sip:user@provider.example`), From and To.
    pub aor: String,
    /// Our contact URI (`sip:user@192.0.2.1:5060`), without angle brackets.
    pub contact: String,
    /// Digest user name.
    pub auth_user: String,
    /// Digest password.
    pub password: String,
    /// Registration interval asked for, seconds.
    pub expires: u32,
    /// First retry delay after a failure; doubled per failure up to `retry_max`.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Backup registrars' Request-URIs, tried in order when the current one is unreachable
    /// (dual homing, MV-33). The driver sends to the address of [`Registration::target`].
    pub backups: Vec<String>,
}

impl RegistrationConfig {
    /// A configuration with RFC 3261's default interval (3600 s) and retries from 30 s to
    /// 30 min (RFC 5626 §4.5's base and ceiling).
    pub fn new(registrar: &str, aor: &str, contact: &str, auth_user: &str, password: &str) -> Self {
        Self {
            registrar: registrar.to_owned(),
            aor: aor.to_owned(),
            contact: contact.to_owned(),
            auth_user: auth_user.to_owned(),
            password: password.to_owned(),
            expires: 3600,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(1800),
            backups: Vec::new(),
        }
    }
}

/// Why a registration failed (MV2-35 supervision causes 0 and 1, and the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// No answer or a transport error (MV2-35 cause 0, provider unreachable).
    Unreachable,
    /// Credentials refused: 401/407 again after answering, or 403 (MV2-35 cause 1).
    NotAuthorised,
    /// Another final status.
    Rejected(u16),
}

/// Where the registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationState {
    /// Not started, or removed.
    Idle,
    /// A REGISTER is due or outstanding.
    Registering,
    /// Registered until `until`.
    Registered {
        /// When the binding lapses.
        until: Instant,
    },
    /// Failed; the next attempt is at `retry_at`.
    Failed {
        /// Why.
        reason: FailReason,
        /// Next attempt.
        retry_at: Instant,
    },
}

/// A change worth reporting (supervision events, MV2-35).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationEvent {
    /// Registered (first time, or again after a failure) for `expires` seconds.
    Registered {
        /// Granted interval.
        expires: u32,
    },
    /// Registration failed (raised when the state turns to failed or the cause changes).
    Failed {
        /// Why.
        reason: FailReason,
    },
    /// The binding was removed (after [`Registration::unregister`]).
    Unregistered,
}

/// One outbound registration.
#[derive(Debug)]
pub struct Registration {
    config: RegistrationConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    state: RegistrationState,
    /// When the next REGISTER is due (`None`: one is outstanding, or idle).
    due: Option<Instant>,
    outstanding: bool,
    expires: u32,
    removing: bool,
    /// The last challenge (status, header value) and whether it was answered already.
    challenge: Option<(u16, String, bool)>,
    nc: u32,
    failures: u32,
    /// The registrar in use: 0 the primary, then the backups.
    target: usize,
    /// Registrars found unreachable since the last success (for failover).
    unreachable_in_row: usize,
    random: u64,
    events: VecDeque<RegistrationEvent>,
}

impl Registration {
    /// A registration with its own Call-ID and From tag (kept for every refresh, RFC 3261
    /// §10.2.4); `seed` feeds the digest client nonces.
    pub fn new(config: RegistrationConfig, call_id: &str, from_tag: &str, seed: u64) -> Self {
        let expires = config.expires;
        Self {
            config,
            call_id: call_id.to_owned(),
            from_tag: from_tag.to_owned(),
            cseq: 0,
            state: RegistrationState::Idle,
            due: None,
            outstanding: false,
            expires,
            removing: false,
            challenge: None,
            nc: 0,
            failures: 0,
            target: 0,
            unreachable_in_row: 0,
            random: seed | 1,
            events: VecDeque::new(),
        }
    }

    /// Starts registering at `now`.
    pub fn start(&mut self, now: Instant) {
        self.removing = false;
        self.state = RegistrationState::Registering;
        self.due = Some(now);
    }

    /// Removes the binding (a REGISTER with `Expires: 0` is due at `now`).
    pub fn unregister(&mut self, now: Instant) {
        self.removing = true;
        self.due = Some(now);
    }

    /// The registrar in use: 0 for the primary, `n` for `backups[n - 1]`.
    pub const fn target(&self) -> usize {
        self.target
    }

    fn registrar_uri(&self) -> &str {
        match self.target {
            0 => &self.config.registrar,
            n => self
                .config
                .backups
                .get(n - 1)
                .map_or(&self.config.registrar, String::as_str),
        }
    }

    /// Where it stands.
    pub const fn state(&self) -> RegistrationState {
        self.state
    }

    /// When [`Registration::poll_request`] has something next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.outstanding { None } else { self.due }
    }

    /// The next supervision event.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// The REGISTER to send now, if one is due; `via` is (transport, sent-by, branch).
    pub fn poll_request(&mut self, now: Instant, via: (&str, &str, &str)) -> Option<Message> {
        if self.outstanding || self.due.is_none_or(|d| d > now) {
            return None;
        }
        self.cseq += 1;
        let expires = if self.removing { 0 } else { self.expires };
        let registrar = self.registrar_uri().to_owned();
        let mut b = RequestBuilder::new(Method::Register, &registrar)
            .via(via.0, via.1, via.2)
            .from(&format!("<{}>", self.config.aor), &self.from_tag)
            .to(&format!("<{}>", self.config.aor))
            .call_id(&self.call_id)
            .cseq(self.cseq)
            .max_forwards(70)
            .contact(&format!("<{}>", self.config.contact))
            .header(HeaderName::Expires, &expires.to_string());
        if let Some((name, value)) = self.credentials() {
            b = b.header(name, &value);
        }
        let req = b.build().ok()?;
        self.outstanding = true;
        self.due = None;
        Some(req)
    }

    fn credentials(&mut self) -> Option<(HeaderName, String)> {
        let uri = self.registrar_uri().to_owned();
        let (code, value, answered) = self.challenge.as_mut()?;
        *answered = true;
        self.nc += 1;
        self.random = self
            .random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let cnonce = format!("{:016x}", self.random);
        let (user, pw, uri) = (
            self.config.auth_user.as_str(),
            self.config.password.as_str(),
            uri.as_str(),
        );
        let ch = Challenge::parse(value).ok()?;
        let v = digest::authorization(&ch, user, pw, "REGISTER", uri, &cnonce, self.nc).ok()?;
        let name = if *code == 407 {
            HeaderName::ProxyAuthorization
        } else {
            HeaderName::Authorization
        };
        Some((name, v))
    }

    /// A response to the outstanding REGISTER.
    pub fn handle_response(&mut self, now: Instant, resp: &Message) {
        let Some(code) = resp.status() else {
            return;
        };
        if code < 200 || !self.outstanding {
            return;
        }
        self.outstanding = false;
        match code {
            200..=299 => self.registered(now, resp),
            401 | 407 => {
                let name = if code == 407 {
                    HeaderName::ProxyAuthenticate
                } else {
                    HeaderName::WwwAuthenticate
                };
                let value = resp.values(name).next().map(str::to_owned);
                let stale = value
                    .as_deref()
                    .is_some_and(|v| v.to_ascii_lowercase().contains("stale=true"));
                let fresh = match (&self.challenge, &value) {
                    (Some((_, old, answered)), Some(new)) => !answered || old != new || stale,
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                if fresh && let Some(v) = value {
                    self.challenge = Some((code, v, false));
                    self.nc = 0;
                    self.due = Some(now);
                } else {
                    self.fail(now, FailReason::NotAuthorised, None);
                }
            }
            423 => match resp.header_opt::<MinExpires>() {
                Ok(Some(m)) if m.0 > self.expires => {
                    self.expires = m.0;
                    self.due = Some(now);
                }
                _ => self.fail(now, FailReason::Rejected(423), None),
            },
            403 => self.fail(now, FailReason::NotAuthorised, retry_after(resp)),
            _ => self.fail(now, FailReason::Rejected(code), retry_after(resp)),
        }
    }

    /// The outstanding REGISTER's transaction timed out or hit a transport error.
    pub fn handle_failure(&mut self, now: Instant) {
        if !self.outstanding {
            return;
        }
        self.outstanding = false;
        let registrars = 1 + self.config.backups.len();
        self.unreachable_in_row += 1;
        if self.unreachable_in_row < registrars {
            // Dual homing: the next registrar at once, with its own challenge round.
            self.target = (self.target + 1) % registrars;
            self.challenge = None;
            self.due = Some(now);
            return;
        }
        self.unreachable_in_row = 0;
        self.target = (self.target + 1) % registrars;
        self.challenge = None;
        self.fail(now, FailReason::Unreachable, None);
    }

    fn registered(&mut self, now: Instant, resp: &Message) {
        if self.removing {
            self.state = RegistrationState::Idle;
            self.events.push_back(RegistrationEvent::Unregistered);
            return;
        }
        let granted = self.granted(resp).unwrap_or(self.expires);
        let was_registered = matches!(self.state, RegistrationState::Registered { .. });
        self.failures = 0;
        self.unreachable_in_row = 0;
        self.state = RegistrationState::Registered {
            until: now + Duration::from_secs(u64::from(granted)),
        };
        // Refresh at half the interval for short ones, else 30 s before expiry.
        let lead = if granted <= 60 {
            granted / 2
        } else {
            granted - 30
        };
        self.due = Some(now + Duration::from_secs(u64::from(lead.max(1))));
        if self.target != 0 {
            // On a backup: the refresh first tries the primary again (fail back).
            self.target = 0;
            self.challenge = None;
        }
        if !was_registered {
            self.events
                .push_back(RegistrationEvent::Registered { expires: granted });
        }
    }

    /// The interval the registrar granted our contact: its `expires` parameter, else the
    /// Expires header.
    fn granted(&self, resp: &Message) -> Option<u32> {
        let ours = resp.contacts().flatten().find_map(|c: Contact<'_>| {
            let same = c
                .addr()
                .is_some_and(|a| a.uri().to_string() == self.config.contact);
            same.then(|| c.expires().and_then(Result::ok)).flatten()
        });
        ours.or_else(|| resp.header_opt::<Expires>().ok().flatten().map(|e| e.0))
    }

    fn fail(&mut self, now: Instant, reason: FailReason, retry_after: Option<u32>) {
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.saturating_sub(1).min(16);
        let backoff = self
            .config
            .retry_base
            .saturating_mul(1 << exp)
            .min(self.config.retry_max);
        let wait = retry_after.map_or(backoff, |s| Duration::from_secs(u64::from(s)));
        let retry_at = now + wait;
        let changed =
            !matches!(self.state, RegistrationState::Failed { reason: r, .. } if r == reason);
        self.state = RegistrationState::Failed { reason, retry_at };
        self.due = Some(retry_at);
        if changed {
            self.events.push_back(RegistrationEvent::Failed { reason });
        }
    }
}

fn retry_after(resp: &Message) -> Option<u32> {
    resp.header_opt::<RetryAfter<'_>>()
        .ok()
        .flatten()
        .map(|r| r.delta)
}
