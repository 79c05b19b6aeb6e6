//! The client side: answering a 401/407 challenge (RFC 3261 §22.2, RFC 7616 §3.4).

use super::{Algorithm, Inputs, ha1, response};
use crate::header::Challenge;

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Not a Digest challenge.
    #[error("not a Digest challenge")]
    NotDigest,
    /// The challenge lacks realm or nonce.
    #[error("challenge lacks {0}")]
    Missing(&'static str),
    /// An algorithm we do not implement.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The challenge offers only qop values other than `auth` (e.g. `auth-int`).
    #[error("unsupported qop")]
    UnsupportedQop,
}

/// The Authorization (or Proxy-Authorization) value answering `challenge` for a request
/// with `method` and Request-URI `uri`. `cnonce` should be random; `nc` counts the requests
/// made with this nonce, from 1.
pub fn authorization(
    challenge: &Challenge<'_>,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, ClientError> {
    if !challenge.is_digest() {
        return Err(ClientError::NotDigest);
    }
    let realm = challenge.realm().ok_or(ClientError::Missing("realm"))?;
    let nonce = challenge.nonce().ok_or(ClientError::Missing("nonce"))?;
    let algorithm = Algorithm::parse(challenge.algorithm().as_deref())
        .ok_or(ClientError::UnsupportedAlgorithm)?;
    let qop = match challenge.qop() {
        None => None,
        Some(list) if list.split(',').any(|q| q.trim() == "auth") => Some("auth"),
        Some(_) => return Err(ClientError::UnsupportedQop),
    };
    let nc = format!("{nc:08x}");
    let secret = ha1(algorithm, username, &realm, password);
    let resp = response(
        &secret,
        &Inputs {
            algorithm,
            nonce: &nonce,
            qop,
            nc: &nc,
            cnonce,
            method,
            uri,
        },
    );
    let mut v = format!(
        "Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{resp}\", algorithm={}",
        algorithm.as_str()
    );
    if let Some(qop) = qop {
        v.push_str(&format!(", qop={qop}, nc={nc}, cnonce=\"{cnonce}\""));
    }
    if let Some(opaque) = challenge.opaque() {
        v.push_str(&format!(", opaque=\"{opaque}\""));
    }
    Ok(v)
}
