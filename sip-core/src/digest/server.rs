//! The server side: stateless nonces (timestamp + HMAC), bounded nonce-count tracking.

use std::collections::HashMap;

use ring::hmac;

use super::{Algorithm, Inputs, response};
use crate::header::{Authorization, Challenge, ProxyAuthorization};
use crate::{HeaderName, Message};

/// Server settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The protection realm.
    pub realm: String,
    /// Algorithms offered, one challenge each, preferred first (RFC 8760 §2.4: SHA-256
    /// before MD5).
    pub algorithms: Vec<Algorithm>,
    /// Seconds a nonce stays fresh; older ones get `stale=true`.
    pub nonce_lifetime: u64,
    /// Nonces whose counts are remembered at most (bounded memory under floods).
    pub max_tracked_nonces: usize,
    /// Challenge as a proxy (407, Proxy-Authenticate) instead of a UAS/registrar (401).
    pub proxy: bool,
}

impl ServerConfig {
    /// Defaults for `realm`: SHA-256 then MD5, 5-minute nonces, 401.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_lifetime: 300,
            max_tracked_nonces: 65_536,
            proxy: false,
        }
    }
}

/// Why credentials were not accepted. [`AuthError::challenge`] says how to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials for our realm: challenge.
    #[error("no credentials for this realm")]
    Missing,
    /// Credentials lack a required parameter or are not Digest.
    #[error("malformed credentials: {0}")]
    Malformed(&'static str),
    /// An algorithm we did not offer.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The nonce is not one of ours (tampered or from another server).
    #[error("nonce not issued here")]
    BadNonce,
    /// Our nonce, but expired: challenge again with `stale=true`.
    #[error("stale nonce")]
    Stale,
    /// A nonce count that was already used with this nonce (replay).
    #[error("nonce count replayed")]
    Replay,
    /// The `uri` parameter does not match the Request-URI.
    #[error("digest uri does not match the Request-URI")]
    UriMismatch,
    /// No such user.
    #[error("unknown user")]
    UnknownUser,
    /// The response does not match (wrong password).
    #[error("wrong credentials")]
    WrongResponse,
}

impl AuthError {
    /// Whether to answer with a fresh challenge (`stale=true` for [`AuthError::Stale`]) rather
    /// than a plain error: all but malformed requests and URI mismatches (400).
    pub const fn challenge(&self) -> bool {
        !matches!(self, Self::Malformed(_) | Self::UriMismatch)
    }
}

/// Accepted credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The authenticated user name.
    pub username: String,
    /// The algorithm used.
    pub algorithm: Algorithm,
}

/// A digest server for one realm.
#[derive(Debug)]
pub struct DigestServer {
    config: ServerConfig,
    key: hmac::Key,
    /// Nonce → (issue time, highest nonce count seen).
    counts: HashMap<String, (u64, u32)>,
    /// Makes every nonce unique, even within one second.
    serial: u32,
}

impl DigestServer {
    /// A server whose nonces are authenticated with `secret` (keep it across restarts to
    /// honour outstanding nonces; 32 random bytes are plenty).
    pub fn new(config: ServerConfig, secret: &[u8]) -> Self {
        Self {
            config,
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            counts: HashMap::new(),
            serial: 0,
        }
    }

    /// The settings.
    pub const fn config(&self) -> &ServerConfig {
        &self.config
    }

    fn mac(&self, issued: u64, serial: u32) -> String {
        let mut data = issued.to_be_bytes().to_vec();
        data.extend_from_slice(&serial.to_be_bytes());
        data.extend_from_slice(self.config.realm.as_bytes());
        let tag = hmac::sign(&self.key, &data);
        super::to_hex(&tag.as_ref()[..16])
    }

    /// A fresh nonce issued at `now` (seconds): 16 hex digits of time, 8 of serial number
    /// and 32 of HMAC, so that each challenge has its own nonce-count space.
    pub fn nonce(&mut self, now: u64) -> String {
        self.serial = self.serial.wrapping_add(1);
        let serial = self.serial;
        format!("{now:016x}{serial:08x}{}", self.mac(now, serial))
    }

    /// The status line of a challenge: `401 Unauthorized` or `407 Proxy Authentication
    /// Required`.
    pub const fn status(&self) -> (u16, &'static str) {
        if self.config.proxy {
            (407, "Proxy Authentication Required")
        } else {
            (401, "Unauthorized")
        }
    }

    /// The challenge header: WWW-Authenticate or Proxy-Authenticate.
    pub const fn challenge_header(&self) -> HeaderName {
        if self.config.proxy {
            HeaderName::ProxyAuthenticate
        } else {
            HeaderName::WwwAuthenticate
        }
    }

    /// The challenge values at `now`, one per algorithm; `stale` after [`AuthError::Stale`].
    pub fn challenges(&mut self, now: u64, stale: bool) -> Vec<(HeaderName, String)> {
        let nonce = self.nonce(now);
        self.config
            .algorithms
            .iter()
            .map(|a| {
                let mut v = format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
                    self.config.realm,
                    a.as_str()
                );
                if stale {
                    v.push_str(", stale=true");
                }
                (self.challenge_header(), v)
            })
            .collect()
    }

    /// Checks the credentials of `request` at `now`. `ha1` looks up the stored
    /// `H(username:realm:password)` for a user and algorithm (see [`super::ha1`]).
    pub fn verify(
        &mut self,
        now: u64,
        request: &Message,
        ha1: impl FnOnce(&str, Algorithm) -> Option<String>,
    ) -> Result<Verified, AuthError> {
        let creds = self.credentials(request).ok_or(AuthError::Missing)?;
        let p = |name: &'static str| creds.params().get(name).ok_or(AuthError::Malformed(name));
        let username = p("username")?;
        let nonce = p("nonce")?;
        let uri = p("uri")?;
        let given = p("response")?;
        let algorithm = Algorithm::parse(creds.algorithm().as_deref())
            .filter(|a| self.config.algorithms.contains(a))
            .ok_or(AuthError::UnsupportedAlgorithm)?;
        let issued = self.check_nonce(now, &nonce)?;
        let qop = creds.qop();
        let (nc, cnonce) = match qop.as_deref() {
            Some("auth") => (p("nc")?, p("cnonce")?),
            Some(_) => return Err(AuthError::Malformed("qop")),
            None => (Default::default(), creds.cnonce().unwrap_or_default()),
        };
        if !uri_matches(request, &uri) {
            return Err(AuthError::UriMismatch);
        }
        let secret = ha1(&username, algorithm).ok_or(AuthError::UnknownUser)?;
        let expected = response(
            &secret,
            &Inputs {
                algorithm,
                nonce: &nonce,
                qop: qop.as_deref(),
                nc: &nc,
                cnonce: &cnonce,
                method: request.method().map_or("", |m| m.as_str()),
                uri: &uri,
            },
        );
        if !constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
            return Err(AuthError::WrongResponse);
        }
        if qop.is_some() {
            let count = u32::from_str_radix(&nc, 16).map_err(|_| AuthError::Malformed("nc"))?;
            self.count(now, &nonce, issued, count)?;
        }
        Ok(Verified {
            username: username.into_owned(),
            algorithm,
        })
    }

    fn credentials<'m>(&self, request: &'m Message) -> Option<Challenge<'m>> {
        let realm_ok = |c: &Challenge<'_>| {
            c.is_digest() && c.realm().is_some_and(|r| r == self.config.realm.as_str())
        };
        if self.config.proxy {
            request
                .header_all::<ProxyAuthorization<'_>>()
                .flatten()
                .map(|h| h.0)
                .find(realm_ok)
        } else {
            request
                .header_all::<Authorization<'_>>()
                .flatten()
                .map(|h| h.0)
                .find(realm_ok)
        }
    }

    fn check_nonce(&self, now: u64, nonce: &str) -> Result<u64, AuthError> {
        if nonce.len() != 56 || !nonce.is_ascii() {
            return Err(AuthError::BadNonce);
        }
        let (ts, rest) = nonce.split_at(16);
        let (serial, mac) = rest.split_at(8);
        let issued = u64::from_str_radix(ts, 16).map_err(|_| AuthError::BadNonce)?;
        let serial = u32::from_str_radix(serial, 16).map_err(|_| AuthError::BadNonce)?;
        if !constant_time_eq(self.mac(issued, serial).as_bytes(), mac.as_bytes()) {
            return Err(AuthError::BadNonce);
        }
        if now.saturating_sub(issued) > self.config.nonce_lifetime || issued > now + 60 {
            return Err(AuthError::Stale);
        }
        Ok(issued)
    }

    /// RFC 7616 §3.4: a nonce count must grow; memory stays bounded.
    fn count(&mut self, now: u64, nonce: &str, issued: u64, nc: u32) -> Result<(), AuthError> {
        if let Some((_, last)) = self.counts.get_mut(nonce) {
            if nc <= *last {
                return Err(AuthError::Replay);
            }
            *last = nc;
            return Ok(());
        }
        if self.counts.len() >= self.config.max_tracked_nonces {
            let life = self.config.nonce_lifetime;
            self.counts
                .retain(|_, (t, _)| now.saturating_sub(*t) <= life);
            if self.counts.len() >= self.config.max_tracked_nonces {
                self.counts.clear();
            }
        }
        self.counts.insert(nonce.to_owned(), (issued, nc));
        Ok(())
    }
}

fn uri_matches(request: &Message, uri: &str) -> bool {
    let Some(ruri) = request.request_uri_str() else {
        return false;
    };
    if ruri == uri {
        return true;
    }
    match (request.request_uri(), crate::uri::Uri::parse(uri)) {
        (Some(a), Ok(b)) => a.equivalent(&b),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
