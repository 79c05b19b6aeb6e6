//! SDES keying (RFC 4568): the SDP `a=crypto` attribute, parsed and printed.
//!
//! Supported: the three suites of [`SrtpProfile`], one `inline:` key with an
//! optional lifetime, no MKI, no session parameters that weaken protection.
//! Anything else is a typed [`SdesError`], so offer/answer can skip that line
//! or refuse the offer (488).

use crate::srtp::{SrtpContext, SrtpError, SrtpProfile};
use std::fmt;
use thiserror::Error;

/// Why an `a=crypto` line is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SdesError {
    /// Not `<tag> <suite> <key-params> [params]`.
    #[error("malformed a=crypto attribute")]
    Syntax,
    /// The tag is not a 1–9 digit decimal.
    #[error("invalid crypto tag")]
    Tag,
    /// A crypto suite this crate does not implement.
    #[error("unsupported crypto suite")]
    UnsupportedSuite,
    /// The key method is not `inline`.
    #[error("unsupported key method (only inline)")]
    KeyMethod,
    /// The base64 key-salt is invalid or of the wrong length.
    #[error("invalid inline key")]
    Key,
    /// Several keys or an MKI (not supported).
    #[error("MKI and multiple keys are not supported")]
    Mki,
    /// A session parameter this crate refuses (e.g. `UNENCRYPTED_SRTP`, `KDR` ≠ 0).
    #[error("unsupported session parameter")]
    SessionParameter,
}

/// One `a=crypto` attribute.
#[derive(Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The tag that identifies the line in the answer.
    pub tag: u32,
    /// The crypto suite.
    pub profile: SrtpProfile,
    key_salt: [u8; 30],
    /// Master key lifetime in packets, if stated.
    pub lifetime: Option<u64>,
}

impl fmt::Debug for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoAttribute")
            .field("tag", &self.tag)
            .field("profile", &self.profile)
            .field("key", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(data: &[u8], out: &mut String) {
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

fn b64_decode(s: &str, out: &mut [u8]) -> Option<usize> {
    let s = s.trim_end_matches('=');
    let mut acc = 0u32;
    let mut bits = 0;
    let mut n = 0;
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(n)
}

impl CryptoAttribute {
    /// A new attribute; `key_salt` is the master key followed by the salt
    /// (30 bytes for AES-CM, 28 for GCM), e.g. from a CSPRNG.
    pub fn new(tag: u32, profile: SrtpProfile, key_salt: &[u8]) -> Result<Self, SdesError> {
        let want = profile.master_key_len() + profile.master_salt_len();
        if key_salt.len() != want || tag == 0 || tag > 999_999_999 {
            return Err(SdesError::Key);
        }
        let mut ks = [0u8; 30];
        ks[..want].copy_from_slice(key_salt);
        Ok(Self {
            tag,
            profile,
            key_salt: ks,
            lifetime: None,
        })
    }

    /// Parses the attribute value (the text after `a=crypto:`).
    pub fn parse(value: &str) -> Result<Self, SdesError> {
        let mut fields = value.split_ascii_whitespace();
        let tag_s = fields.next().ok_or(SdesError::Syntax)?;
        if tag_s.is_empty() || tag_s.len() > 9 || !tag_s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SdesError::Tag);
        }
        let tag: u32 = tag_s.parse().map_err(|_| SdesError::Tag)?;
        let suite = fields.next().ok_or(SdesError::Syntax)?;
        let profile = SrtpProfile::from_sdes_name(suite).ok_or(SdesError::UnsupportedSuite)?;
        let key_params = fields.next().ok_or(SdesError::Syntax)?;
        if key_params.contains(';') {
            return Err(SdesError::Mki);
        }
        let info = key_params
            .strip_prefix("inline:")
            .ok_or(SdesError::KeyMethod)?;
        let mut parts = info.split('|');
        let key_b64 = parts.next().ok_or(SdesError::Key)?;
        let mut lifetime = None;
        for p in parts {
            if p.contains(':') {
                return Err(SdesError::Mki);
            }
            let v = match p.strip_prefix("2^") {
                Some(exp) => {
                    let e: u32 = exp.parse().map_err(|_| SdesError::Syntax)?;
                    1u64.checked_shl(e)
                        .filter(|_| e < 64)
                        .ok_or(SdesError::Syntax)?
                }
                None => p.parse().map_err(|_| SdesError::Syntax)?,
            };
            lifetime = Some(v);
        }
        let mut buf = [0u8; 48];
        let n = b64_decode(key_b64, &mut buf).ok_or(SdesError::Key)?;
        for param in fields {
            let ok = match param.split_once('=') {
                Some(("KDR", v)) => v == "0",
                Some(("WSH", _)) | Some(("FEC_ORDER", _)) => true,
                _ => false,
            };
            if !ok {
                return Err(SdesError::SessionParameter);
            }
        }
        let mut attr = Self::new(tag, profile, &buf[..n])?;
        attr.lifetime = lifetime;
        Ok(attr)
    }

    /// The master key and salt.
    pub fn key_salt(&self) -> &[u8] {
        &self.key_salt[..self.profile.master_key_len() + self.profile.master_salt_len()]
    }

    /// An SRTP context keyed by this attribute.
    pub fn context(&self) -> Result<SrtpContext, SrtpError> {
        let ks = self.key_salt();
        let k = self.profile.master_key_len();
        SrtpContext::new(self.profile, &ks[..k], &ks[k..])
    }
}

impl fmt::Display for CryptoAttribute {
    /// Prints the attribute value (without the `a=crypto:` prefix).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = String::with_capacity(40);
        b64_encode(self.key_salt(), &mut key);
        write!(
            f,
            "{} {} inline:{}",
            self.tag,
            self.profile.sdes_name(),
            key
        )?;
        if let Some(l) = self.lifetime {
            if l.is_power_of_two() {
                write!(f, "|2^{}", l.trailing_zeros())?;
            } else {
                write!(f, "|{l}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4568_example_parses() {
        // RFC 4568 §4 example line.
        let a = CryptoAttribute::parse(
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20",
        )
        .expect("valid");
        assert_eq!(a.tag, 1);
        assert_eq!(a.profile, SrtpProfile::AesCm128HmacSha1_80);
        assert_eq!(a.lifetime, Some(1 << 20));
        // The RFC's key-salt is printable ASCII once decoded (cross-checked with Python's base64).
        assert_eq!(a.key_salt(), b"=-n@%^x!Bjufr9)?,#5h\\`=&]{qiPQ");
        assert_eq!(
            a.to_string(),
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20"
        );
    }

    #[test]
    fn rejections_are_typed() {
        let key = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        assert_eq!(
            CryptoAttribute::parse(&format!("1 F8_128_HMAC_SHA1_80 {key}")),
            Err(SdesError::UnsupportedSuite)
        );
        assert_eq!(
            CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 {key}|2^20|1:4")),
            Err(SdesError::Mki)
        );
        assert_eq!(
            CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 {key} UNENCRYPTED_SRTP")),
            Err(SdesError::SessionParameter)
        );
        assert_eq!(
            CryptoAttribute::parse(
                "1 AEAD_AES_128_GCM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
            ),
            Err(SdesError::Key)
        );
        assert_eq!(CryptoAttribute::parse("x AES"), Err(SdesError::Tag));
        assert_eq!(CryptoAttribute::parse(""), Err(SdesError::Syntax));
        assert_eq!(
            CryptoAttribute::parse("1 AES_CM_128_HMAC_SHA1_80 key:abc"),
            Err(SdesError::KeyMethod)
        );
    }

    #[test]
    fn generate_and_reparse_gcm() {
        let ks: Vec<u8> = (0..28).collect();
        let a = CryptoAttribute::new(2, SrtpProfile::AeadAes128Gcm, &ks).expect("valid");
        let b = CryptoAttribute::parse(&a.to_string()).expect("round trip");
        assert_eq!(a, b);
        assert!(b.context().is_ok());
    }
}
