//! Our online-verification protocol (VA-EID mode, MV-10) and a reference licence server
//! with clone detection, all sans-IO.
//!
//! The system contacts the server when [`crate::Event::LicenceServerContactDue`] is raised:
//! it sends a [`CheckRequest`] (HTTP `POST /v1/check`, `text/plain` body, see
//! [`http_request`]) and feeds the [`CheckResponse`] to
//! [`crate::Licensing::handle_check_response`], or calls
//! [`crate::Licensing::handle_server_unreachable`] when no answer comes.
//!
//! Body of a request and of a response (one `key value` per line, first line the version):
//!
//! ```text
//! pbxkit-sls 1                pbxkit-sls 1
//! eid VA-1234                 verdict valid
//! instance 9f86d081884c7d65   swa 120 2027-03-31
//! verification online
//! release 6.0
//! ```
//!
//! `instance` is a random 64-bit id the system draws at every boot. The server sees a
//! **clone** when two instances of one EID are live at once (each checked within
//! [`SlsConfig::liveness`]); it answers `clone-suspected`, then `clone-confirmed` once
//! the overlap has lasted [`SlsConfig::confirm_after`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::date::Date;
use crate::engine::ServerVerdict;
use crate::file::{Eid, Release, Swa};
use crate::key::{hex_decode, hex_encode};

const MAGIC: &str = "pbxkit-sls 1";
const PATH: &str = "/v1/check";
/// Largest accepted HTTP message.
pub const MAX_MESSAGE: usize = 8192;

/// Which verification mode the system runs (MV2-20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// VA EID with online verification.
    Online,
    /// Gateway-EID mode.
    Gateway,
}

/// A system's periodic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    /// The system's EID.
    pub eid: Eid,
    /// The random id of this boot of the system.
    pub instance: u64,
    /// The system's verification mode.
    pub verification: Verification,
    /// The running release.
    pub release: Release,
}

/// What the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckResponse {
    /// The verdict.
    pub verdict: ServerVerdict,
    /// The SWA the server records for the EID.
    pub swa: Option<Swa>,
}

/// Why a protocol message was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlsError {
    /// Not an HTTP message we accept (method, path, status or headers).
    #[error("malformed HTTP framing")]
    Http,
    /// Message larger than [`MAX_MESSAGE`].
    #[error("message too large")]
    TooLarge,
    /// The body is not a version-1 protocol body.
    #[error("unsupported or missing protocol version")]
    Version,
    /// A body line is missing, unknown or invalid.
    #[error("malformed protocol body")]
    Body,
}

fn lines(body: &str) -> Result<BTreeMap<&str, &str>, SlsError> {
    let mut it = body.lines();
    if it.next() != Some(MAGIC) {
        return Err(SlsError::Version);
    }
    let mut map = BTreeMap::new();
    for l in it.filter(|l| !l.is_empty()) {
        let (k, v) = l.split_once(' ').ok_or(SlsError::Body)?;
        if map.insert(k, v).is_some() {
            return Err(SlsError::Body);
        }
    }
    Ok(map)
}

impl CheckRequest {
    /// The body text.
    pub fn encode(&self) -> String {
        let v = match self.verification {
            Verification::Online => "online",
            Verification::Gateway => "gateway",
        };
        format!(
            "{MAGIC}\neid {}\ninstance {}\nverification {v}\nrelease {}\n",
            self.eid,
            hex_encode(&self.instance.to_be_bytes()),
            self.release
        )
    }

    /// Parses a body.
    pub fn parse(body: &str) -> Result<Self, SlsError> {
        let m = lines(body)?;
        let get = |k: &str| m.get(k).copied().ok_or(SlsError::Body);
        let instance: [u8; 8] = hex_decode(get("instance")?)
            .and_then(|b| b.try_into().ok())
            .ok_or(SlsError::Body)?;
        let req = Self {
            eid: Eid::parse(get("eid")?).ok_or(SlsError::Body)?,
            instance: u64::from_be_bytes(instance),
            verification: match get("verification")? {
                "online" => Verification::Online,
                "gateway" => Verification::Gateway,
                _ => return Err(SlsError::Body),
            },
            release: Release::parse(get("release")?).ok_or(SlsError::Body)?,
        };
        if m.len() != 4 {
            return Err(SlsError::Body);
        }
        Ok(req)
    }
}

impl CheckResponse {
    /// The body text.
    pub fn encode(&self) -> String {
        let v = match self.verdict {
            ServerVerdict::Valid => "valid",
            ServerVerdict::CloneSuspected => "clone-suspected",
            ServerVerdict::CloneConfirmed => "clone-confirmed",
            ServerVerdict::ModeMismatch => "mode-mismatch",
            ServerVerdict::InvalidLicence => "invalid-licence",
        };
        let mut s = format!("{MAGIC}\nverdict {v}\n");
        if let Some(w) = self.swa {
            s.push_str(&format!("swa {} {}\n", w.covered_users, w.expires));
        }
        s
    }

    /// Parses a body.
    pub fn parse(body: &str) -> Result<Self, SlsError> {
        let m = lines(body)?;
        let verdict = match m.get("verdict").copied() {
            Some("valid") => ServerVerdict::Valid,
            Some("clone-suspected") => ServerVerdict::CloneSuspected,
            Some("clone-confirmed") => ServerVerdict::CloneConfirmed,
            Some("mode-mismatch") => ServerVerdict::ModeMismatch,
            Some("invalid-licence") => ServerVerdict::InvalidLicence,
            _ => return Err(SlsError::Body),
        };
        let swa = match m.get("swa") {
            None => None,
            Some(v) => {
                let (n, d) = v.split_once(' ').ok_or(SlsError::Body)?;
                Some(Swa {
                    covered_users: n.parse().map_err(|_| SlsError::Body)?,
                    expires: Date::parse(d).ok_or(SlsError::Body)?,
                })
            }
        };
        if m.len() != 1 + usize::from(swa.is_some()) {
            return Err(SlsError::Body);
        }
        Ok(Self { verdict, swa })
    }
}

/// Splits an HTTP message into head and body once complete (`Ok(None)`: need more bytes).
fn split_http(bytes: &[u8]) -> Result<Option<(&str, &str)>, SlsError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(SlsError::TooLarge);
    }
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&bytes[..end]).map_err(|_| SlsError::Http)?;
    let len = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse::<usize>().map_err(|_| SlsError::Http))
        .transpose()?
        .ok_or(SlsError::Http)?;
    let body = &bytes[end + 4..];
    if body.len() < len {
        return Ok(None);
    }
    if body.len() > len {
        return Err(SlsError::Http);
    }
    let body = std::str::from_utf8(body).map_err(|_| SlsError::Http)?;
    Ok(Some((head, body)))
}

/// The HTTP request carrying `req` (`Connection: close`).
pub fn http_request(host: &str, req: &CheckRequest) -> Vec<u8> {
    let body = req.encode();
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Parses a complete HTTP request (`Ok(None)` while incomplete).
pub fn parse_http_request(bytes: &[u8]) -> Result<Option<CheckRequest>, SlsError> {
    let Some((head, body)) = split_http(bytes)? else {
        return Ok(None);
    };
    let first = head.lines().next().unwrap_or("");
    if first != format!("POST {PATH} HTTP/1.1") {
        return Err(SlsError::Http);
    }
    CheckRequest::parse(body).map(Some)
}

/// The HTTP response carrying `resp`.
pub fn http_response(resp: &CheckResponse) -> Vec<u8> {
    let body = resp.encode();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The HTTP error response for a request that could not be parsed.
pub fn http_bad_request() -> Vec<u8> {
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
}

/// Parses a complete HTTP response (`Ok(None)` while incomplete).
pub fn parse_http_response(bytes: &[u8]) -> Result<Option<CheckResponse>, SlsError> {
    let Some((head, body)) = split_http(bytes)? else {
        return Ok(None);
    };
    if !head.starts_with("HTTP/1.1 200 ") {
        return Err(SlsError::Http);
    }
    CheckResponse::parse(body).map(Some)
}

/// Timing of the reference server's clone detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlsConfig {
    /// An instance is live while it checked within this period (default 3 h: three
    /// missed hourly contacts).
    pub liveness: Duration,
    /// Overlap of two live instances before a clone is confirmed (default 24 h).
    pub confirm_after: Duration,
}

impl Default for SlsConfig {
    fn default() -> Self {
        Self {
            liveness: Duration::from_secs(3 * 3600),
            confirm_after: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, Clone)]
struct Registered {
    verification: Verification,
    swa: Option<Swa>,
    instances: BTreeMap<u64, SystemTime>,
    overlap_since: Option<SystemTime>,
}

/// The reference licence server: registered systems and clone detection.
#[derive(Debug, Clone, Default)]
pub struct LicenceServer {
    config: SlsConfig,
    systems: BTreeMap<Eid, Registered>,
}

impl LicenceServer {
    /// An empty server.
    pub fn new(config: SlsConfig) -> Self {
        Self {
            config,
            systems: BTreeMap::new(),
        }
    }

    /// Registers a licensed system (its EID, the mode on record and its SWA).
    pub fn register(&mut self, eid: Eid, verification: Verification, swa: Option<Swa>) {
        self.systems.insert(
            eid,
            Registered {
                verification,
                swa,
                instances: BTreeMap::new(),
                overlap_since: None,
            },
        );
    }

    /// Answers one check at `now`.
    pub fn handle_check(&mut self, now: SystemTime, req: &CheckRequest) -> CheckResponse {
        let liveness = self.config.liveness;
        let confirm = self.config.confirm_after;
        let Some(sys) = self.systems.get_mut(&req.eid) else {
            return CheckResponse {
                verdict: ServerVerdict::InvalidLicence,
                swa: None,
            };
        };
        sys.instances.insert(req.instance, now);
        sys.instances.retain(|_, seen| {
            now.duration_since(*seen)
                .map_or(true, |age| age <= liveness)
        });
        let verdict = if sys.verification != req.verification {
            ServerVerdict::ModeMismatch
        } else if sys.instances.len() > 1 {
            let since = *sys.overlap_since.get_or_insert(now);
            if now.duration_since(since).is_ok_and(|d| d >= confirm) {
                ServerVerdict::CloneConfirmed
            } else {
                ServerVerdict::CloneSuspected
            }
        } else {
            sys.overlap_since = None;
            ServerVerdict::Valid
        };
        CheckResponse {
            verdict,
            swa: sys.swa,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn req(instance: u64) -> CheckRequest {
        CheckRequest {
            eid: Eid::parse("VA-1").unwrap(),
            instance,
            verification: Verification::Online,
            release: Release::new(6, 0),
        }
    }

    #[test]
    fn bodies_round_trip() {
        let r = req(0x0123_4567_89ab_cdef);
        assert_eq!(CheckRequest::parse(&r.encode()), Ok(r.clone()));
        let resp = CheckResponse {
            verdict: ServerVerdict::CloneSuspected,
            swa: Some(Swa {
                covered_users: 5,
                expires: Date::parse("2027-01-31").unwrap(),
            }),
        };
        assert_eq!(CheckResponse::parse(&resp.encode()), Ok(resp));
        assert_eq!(
            CheckRequest::parse("pbxkit-sls 2\n"),
            Err(SlsError::Version)
        );
        assert_eq!(
            CheckRequest::parse(&format!("{}extra 1\n", r.encode())),
            Err(SlsError::Body)
        );
    }

    #[test]
    fn http_framing_round_trip_and_partial() {
        let r = req(7);
        let bytes = http_request("127.0.0.1", &r);
        for cut in 0..bytes.len() {
            assert_eq!(parse_http_request(&bytes[..cut]), Ok(None), "cut {cut}");
        }
        assert_eq!(parse_http_request(&bytes), Ok(Some(r)));
        let resp = CheckResponse {
            verdict: ServerVerdict::Valid,
            swa: None,
        };
        assert_eq!(parse_http_response(&http_response(&resp)), Ok(Some(resp)));
        assert_eq!(
            parse_http_response(&http_bad_request()),
            Err(SlsError::Http)
        );
        assert_eq!(
            parse_http_request(&vec![b'a'; MAX_MESSAGE + 1]),
            Err(SlsError::TooLarge)
        );
    }

    #[test]
    fn mv10_clone_detection() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let h = Duration::from_secs(3600);
        let mut s = LicenceServer::new(SlsConfig::default());
        s.register(Eid::parse("VA-1").unwrap(), Verification::Online, None);
        assert_eq!(s.handle_check(t, &req(1)).verdict, ServerVerdict::Valid);
        // A restart of the same system (new instance, old one silent) is not a clone.
        assert_eq!(
            s.handle_check(t + 4 * h, &req(2)).verdict,
            ServerVerdict::Valid
        );
        // A second live instance is.
        assert_eq!(
            s.handle_check(t + 5 * h, &req(3)).verdict,
            ServerVerdict::CloneSuspected
        );
        assert_eq!(
            s.handle_check(t + 6 * h, &req(2)).verdict,
            ServerVerdict::CloneSuspected
        );
        for i in 7..29 {
            let id = if i % 2 == 0 { 2 } else { 3 };
            s.handle_check(t + i * h, &req(id));
        }
        assert_eq!(
            s.handle_check(t + 29 * h, &req(2)).verdict,
            ServerVerdict::CloneConfirmed
        );
        // Unknown EID and mode mismatch.
        let mut other = req(9);
        other.eid = Eid::parse("VA-2").unwrap();
        assert_eq!(
            s.handle_check(t, &other).verdict,
            ServerVerdict::InvalidLicence
        );
        let mut gw = req(2);
        gw.verification = Verification::Gateway;
        assert_eq!(
            s.handle_check(t + 30 * h, &gw).verdict,
            ServerVerdict::ModeMismatch
        );
    }
}
