//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760): the response
//! computation, a server that issues expiring tamper-proof nonces and checks nonce counts,
//! and a client that answers 401/407 challenges.
//!
//! Time is an argument: nonces carry the caller's clock in seconds (any epoch, e.g. Unix
//! time), so a restarted server with the same secret still accepts its own nonces.

mod client;
mod server;

use md5::Digest as _;

pub use client::{ClientError, authorization};
pub use server::{AuthError, DigestServer, ServerConfig, Verified};

/// A digest algorithm (RFC 7616 §3.3, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5` (RFC 2617, still what most SIP phones support).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// Parses the `algorithm` parameter (case-insensitive); absent means MD5.
    pub fn parse(s: Option<&str>) -> Option<Self> {
        let Some(s) = s else { return Some(Self::Md5) };
        [Self::Md5, Self::Md5Sess, Self::Sha256, Self::Sha256Sess]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The parameter token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    const fn is_sess(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }

    /// Lowercase hex of the hash of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => to_hex(&md5::Md5::digest(data)),
            Self::Sha256 | Self::Sha256Sess => {
                to_hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
            }
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `H(username:realm:password)`: what a server may store instead of the password.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hex(format!("{username}:{realm}:{password}").as_bytes())
}

/// The inputs of a digest response besides the secret.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The server nonce.
    pub nonce: &'a str,
    /// `qop` (`auth`), or `None` for the RFC 2069 form.
    pub qop: Option<&'a str>,
    /// Nonce count as 8 hex digits (with `qop`).
    pub nc: &'a str,
    /// Client nonce (with `qop` or a `-sess` algorithm).
    pub cnonce: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The `uri` parameter (the Request-URI as the client wrote it).
    pub uri: &'a str,
}

/// The `response` value from a precomputed `ha1` (RFC 7616 §3.4.1).
pub fn response(ha1: &str, i: &Inputs<'_>) -> String {
    let alg = i.algorithm;
    let ha1 = if alg.is_sess() {
        alg.hex(format!("{ha1}:{}:{}", i.nonce, i.cnonce).as_bytes())
    } else {
        ha1.to_owned()
    };
    let ha2 = alg.hex(format!("{}:{}", i.method, i.uri).as_bytes());
    match i.qop {
        Some(qop) => {
            alg.hex(format!("{ha1}:{}:{}:{}:{qop}:{ha2}", i.nonce, i.nc, i.cnonce).as_bytes())
        }
        None => alg.hex(format!("{ha1}:{}:{ha2}", i.nonce).as_bytes()),
    }
}
