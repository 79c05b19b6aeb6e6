//! The registrar core and location service (RFC 3261 §10.3): bindings per address of
//! record with expiry, q-values, `Contact: *`, the Call-ID/CSeq ordering rule, 423 with
//! Min-Expires, Path (RFC 3327), GRUU-ready instance ids (RFC 5626/5627), the source address
//! of each binding for NAT (RFC 3581) and CRLF keep-alive tracking (RFC 5626).
//!
//! Transport- and transaction-agnostic: [`Registrar::register`] takes an authenticated
//! REGISTER and returns the status and headers of the answer; the caller sends it. An
//! admission callback lets the caller refuse new bindings (terminal licences, MV-13, MV-29).
//! Expiry is driven like every core: `handle_timeout(now)`, `poll_timeout`, `poll_event`.

mod binding;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::header::{Contact, Expires};
use crate::transaction::Transport;
use crate::{HeaderName, Message};

pub use binding::Binding;

/// Registrar limits and defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RegistrarConfig {
    /// Shortest accepted expiry; shorter non-zero requests get 423 (RFC 3261 §10.3 step 7).
    pub min_expires: u32,
    /// Longest granted expiry (longer requests are shortened).
    pub max_expires: u32,
    /// Expiry when the request names none.
    pub default_expires: u32,
    /// Bindings per address of record.
    pub max_contacts_per_aor: usize,
    /// Addresses of record with bindings (MV-29: up to 1200 SIP user accounts).
    pub max_aors: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts_per_aor: 16,
            max_aors: 1200,
        }
    }
}

/// The caller's verdict on a new binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Accept it.
    Accept,
    /// Refuse the whole REGISTER with this status (e.g. 403 when no terminal licence is free).
    Refuse(u16, String),
}

/// The answer to send: status, reason and headers (Contact list, Min-Expires, Path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers to add.
    pub headers: Vec<(HeaderName, String)>,
    /// Path values to copy into a 200 (RFC 3327 §5.3), as `Path` header lines.
    pub path: Vec<String>,
}

impl Reply {
    fn error(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_owned(),
            headers: Vec::new(),
            path: Vec::new(),
        }
    }
}

/// Why a binding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// Removed by REGISTER (expires 0 or `*`).
    Removed,
    /// Not refreshed in time.
    Expired,
}

/// What happened to bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrarEvent {
    /// A new binding (a device registered).
    Registered {
        /// Address of record.
        aor: String,
        /// The contact URI.
        contact: String,
        /// Where the REGISTER came from.
        source: SocketAddr,
    },
    /// An existing binding was refreshed.
    Refreshed {
        /// Address of record.
        aor: String,
        /// The contact URI.
        contact: String,
    },
    /// A binding ended.
    Unregistered {
        /// Address of record.
        aor: String,
        /// The contact URI.
        contact: String,
        /// Why.
        reason: EndReason,
    },
}

/// The address of record a REGISTER's To names (`sip:user@host`, host lowercased), or
/// `None` when To is not a SIP or SIPS URI (answer 400, RFC 4475 §3.3.4).
pub fn address_of_record(request: &Message) -> Option<String> {
    let to = request.to().ok()?;
    let uri = to.uri().as_sip()?;
    let user = uri.user().map(|u| format!("{u}@")).unwrap_or_default();
    Some(format!("sip:{user}{}", uri.host_str().to_ascii_lowercase()))
}

/// The registrar. See the module docs.
#[derive(Debug, Default)]
pub struct Registrar {
    config: RegistrarConfig,
    aors: HashMap<String, Vec<Binding>>,
    events: VecDeque<RegistrarEvent>,
}

/// One Contact of a REGISTER, decoded.
struct Wanted {
    contact: String,
    expires: u32,
    q: u16,
    instance: Option<String>,
    reg_id: Option<u32>,
}

impl Registrar {
    /// A registrar with `config`.
    pub fn new(config: RegistrarConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Processes an authenticated REGISTER for `aor` (see [`address_of_record`]) that came
    /// from `source`. `admit` is asked about each new binding before anything changes; the
    /// request is applied entirely or not at all.
    pub fn register(
        &mut self,
        now: Instant,
        aor: &str,
        request: &Message,
        source: SocketAddr,
        transport: Transport,
        mut admit: impl FnMut(&str, &str) -> Admission,
    ) -> Reply {
        let (Ok(call_id), Ok(cseq)) = (request.call_id(), request.cseq()) else {
            return Reply::error(400, "Missing Call-ID or CSeq");
        };
        let header_expires = match request.header_opt::<Expires>() {
            Ok(e) => e.map(|e| e.0),
            Err(_) => Some(self.config.default_expires),
        };
        let contacts: Vec<Contact<'_>> = match request.contacts().collect() {
            Ok(c) => c,
            Err(_) => return Reply::error(400, "Bad Contact"),
        };
        if contacts.iter().any(Contact::is_star) {
            // §10.3 step 6: `*` only alone and with Expires: 0.
            if contacts.len() != 1 || header_expires != Some(0) {
                return Reply::error(400, "Invalid wildcard Contact");
            }
            return self.remove_all(aor, call_id.0, cseq.seq);
        }
        let mut wanted = Vec::with_capacity(contacts.len());
        for c in &contacts {
            let Some(addr) = c.addr() else { continue };
            let expires = match c.expires() {
                Some(Ok(e)) => e,
                Some(Err(_)) => self.config.default_expires,
                None => header_expires.unwrap_or(self.config.default_expires),
            };
            if expires != 0 && expires < self.config.min_expires {
                let mut r = Reply::error(423, "Interval Too Brief");
                r.headers
                    .push((HeaderName::MinExpires, self.config.min_expires.to_string()));
                return r;
            }
            let params = addr.params();
            wanted.push(Wanted {
                contact: addr.uri().as_str().to_owned(),
                expires: expires.min(self.config.max_expires),
                q: c.q().and_then(Result::ok).unwrap_or(1000),
                instance: params.get("+sip.instance").flatten().map(str::to_owned),
                reg_id: params.get("reg-id").flatten().and_then(|v| v.parse().ok()),
            });
        }
        let path: Vec<String> = request.values_named("Path").map(str::to_owned).collect();
        let stored = self.aors.get(aor).map_or(&[][..], Vec::as_slice);
        // §10.3 step 7: the same Call-ID with a CSeq not above the stored one aborts.
        for w in &wanted {
            if let Some(b) = stored.iter().find(|b| b.same_contact(&w.contact))
                && b.call_id == call_id.0
                && cseq.seq <= b.cseq
            {
                return Reply::error(400, "Out of order CSeq");
            }
        }
        let adding: Vec<&Wanted> = wanted
            .iter()
            .filter(|w| w.expires > 0 && !stored.iter().any(|b| b.same_contact(&w.contact)))
            .collect();
        let remaining = stored
            .iter()
            .filter(|b| {
                !wanted
                    .iter()
                    .any(|w| w.expires == 0 && b.same_contact(&w.contact))
            })
            .count();
        if !adding.is_empty() {
            if stored.is_empty() && self.aors.len() >= self.config.max_aors {
                return Reply::error(403, "Registrar full");
            }
            if remaining + adding.len() > self.config.max_contacts_per_aor {
                return Reply::error(403, "Too many contacts");
            }
            for w in &adding {
                if let Admission::Refuse(code, reason) = admit(aor, &w.contact) {
                    return Reply::error(code, &reason);
                }
            }
        }
        self.apply(
            now, aor, wanted, call_id.0, cseq.seq, source, transport, &path,
        );
        self.bindings_reply(now, aor, &path)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        now: Instant,
        aor: &str,
        wanted: Vec<Wanted>,
        call_id: &str,
        cseq: u32,
        source: SocketAddr,
        transport: Transport,
        path: &[String],
    ) {
        let list = self.aors.entry(aor.to_owned()).or_default();
        for w in wanted {
            let existing = list.iter().position(|b| b.same_contact(&w.contact));
            if w.expires == 0 {
                if let Some(i) = existing {
                    let b = list.remove(i);
                    self.events.push_back(RegistrarEvent::Unregistered {
                        aor: aor.to_owned(),
                        contact: b.contact,
                        reason: EndReason::Removed,
                    });
                }
                continue;
            }
            let binding = Binding {
                contact: w.contact.clone(),
                q: w.q,
                expires_at: now + Duration::from_secs(u64::from(w.expires)),
                call_id: call_id.to_owned(),
                cseq,
                source,
                transport,
                path: path.to_vec(),
                instance: w.instance,
                reg_id: w.reg_id,
                last_keepalive: None,
            };
            let event = if let Some(i) = existing {
                list[i] = binding;
                RegistrarEvent::Refreshed {
                    aor: aor.to_owned(),
                    contact: w.contact,
                }
            } else {
                list.push(binding);
                RegistrarEvent::Registered {
                    aor: aor.to_owned(),
                    contact: w.contact,
                    source,
                }
            };
            self.events.push_back(event);
        }
        if list.is_empty() {
            self.aors.remove(aor);
        }
    }

    fn remove_all(&mut self, aor: &str, call_id: &str, cseq: u32) -> Reply {
        if let Some(list) = self.aors.get(aor)
            && list.iter().any(|b| b.call_id == call_id && cseq <= b.cseq)
        {
            return Reply::error(400, "Out of order CSeq");
        }
        for b in self.aors.remove(aor).unwrap_or_default() {
            self.events.push_back(RegistrarEvent::Unregistered {
                aor: aor.to_owned(),
                contact: b.contact,
                reason: EndReason::Removed,
            });
        }
        Reply::error(200, "OK")
    }

    /// The 200 listing every current binding with its remaining time (§10.3 step 8).
    fn bindings_reply(&self, now: Instant, aor: &str, path: &[String]) -> Reply {
        let mut r = Reply::error(200, "OK");
        for b in self.lookup(aor) {
            let left = b.expires_at.saturating_duration_since(now).as_secs();
            r.headers.push((
                HeaderName::Contact,
                format!("<{}>;expires={left}", b.contact),
            ));
        }
        r.path = path.to_vec();
        r
    }

    /// The bindings of `aor`, highest q first (for parallel or sequential forking).
    pub fn lookup(&self, aor: &str) -> Vec<&Binding> {
        let mut v: Vec<&Binding> = self
            .aors
            .get(aor)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        v.sort_by_key(|b| std::cmp::Reverse(b.q));
        v
    }

    /// Every binding, with its address of record.
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &Binding)> + '_ {
        self.aors
            .iter()
            .flat_map(|(aor, l)| l.iter().map(move |b| (aor.as_str(), b)))
    }

    /// Number of addresses of record and of bindings.
    pub fn counts(&self) -> (usize, usize) {
        (self.aors.len(), self.aors.values().map(Vec::len).sum())
    }

    /// A keep-alive (RFC 5626 §4.4: CRLF or STUN) arrived from `source`.
    pub fn keepalive(&mut self, now: Instant, source: SocketAddr) {
        for b in self.aors.values_mut().flatten() {
            if b.source == source {
                b.last_keepalive = Some(now);
            }
        }
    }

    /// Expires bindings due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let events = &mut self.events;
        self.aors.retain(|aor, list| {
            list.retain(|b| {
                let alive = b.expires_at > now;
                if !alive {
                    events.push_back(RegistrarEvent::Unregistered {
                        aor: aor.clone(),
                        contact: b.contact.clone(),
                        reason: EndReason::Expired,
                    });
                }
                alive
            });
            !list.is_empty()
        });
    }

    /// The next expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.aors.values().flatten().map(|b| b.expires_at).min()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.events.pop_front()
    }
}
