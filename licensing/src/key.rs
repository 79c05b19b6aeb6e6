//! Ed25519 keys (RFC 8032, through `ring`), key identifiers and trust anchors.
//!
//! Keys travel as one line of text: `ed25519-private:<64 lowercase hex digits>` (the
//! 32-byte seed) and `ed25519-public:<64 lowercase hex digits>`. A [`KeyId`] is the first
//! 8 bytes of SHA-256 over the public key; a licence file names the key that signed it,
//! and [`TrustAnchors`] maps ids to the vendor keys the embedding application trusts.

use std::fmt;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// Length of an Ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

const PRIVATE_PREFIX: &str = "ed25519-private:";
const PUBLIC_PREFIX: &str = "ed25519-public:";

/// Why key text could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text does not start with the expected `ed25519-…:` prefix.
    #[error("key text lacks the `ed25519-private:` / `ed25519-public:` prefix")]
    Prefix,
    /// The key material is not 64 lowercase hex digits.
    #[error("key material is not 64 lowercase hex digits")]
    Encoding,
    /// `ring` rejected the key material.
    #[error("the key material was rejected by the Ed25519 implementation")]
    Rejected,
}

/// Decodes lowercase hex (uppercase is refused, so one value has one spelling).
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

/// Encodes bytes as lowercase hex.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

fn decode_32(text: &str, prefix: &str) -> Result<[u8; 32], KeyError> {
    let body = text.trim().strip_prefix(prefix).ok_or(KeyError::Prefix)?;
    let bytes = hex_decode(body).ok_or(KeyError::Encoding)?;
    bytes.try_into().map_err(|_| KeyError::Encoding)
}

/// The identifier of a verifying key: the first 8 bytes of SHA-256 over the public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// Parses the 16-hex-digit form.
    pub fn parse(text: &str) -> Option<Self> {
        hex_decode(text)?.try_into().ok().map(Self)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex_encode(&self.0))
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyingKey([u8; 32]);

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", hex_encode(&self.0))
    }
}

impl VerifyingKey {
    /// Wraps 32 raw public-key bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw public-key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses `ed25519-public:<hex>`.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        decode_32(text, PUBLIC_PREFIX).map(Self)
    }

    /// The one-line text form.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", hex_encode(&self.0))
    }

    /// The key's identifier.
    pub fn id(&self) -> KeyId {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.0);
        let mut id = [0; 8];
        id.copy_from_slice(&d.as_ref()[..8]);
        KeyId(id)
    }

    /// Verifies an Ed25519 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

/// An Ed25519 signing key (held by the licence issuer, never by the PBX).
pub struct SigningKey {
    seed: [u8; 32],
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.verifying_key())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Builds the key from its 32-byte RFC 8032 seed ("secret key").
    ///
    /// Key generation is the caller's business: feed 32 bytes from a CSPRNG
    /// (e.g. `ring::rand::SystemRandom`).
    pub fn from_seed(seed: [u8; 32]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| KeyError::Rejected)?;
        Ok(Self { seed, pair })
    }

    /// Parses `ed25519-private:<hex>`.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        Self::from_seed(decode_32(text, PRIVATE_PREFIX)?)
    }

    /// The one-line text form (secret: store it with restrictive permissions).
    pub fn to_text(&self) -> String {
        format!("{PRIVATE_PREFIX}{}", hex_encode(&self.seed))
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        let mut pk = [0; 32];
        pk.copy_from_slice(self.pair.public_key().as_ref());
        VerifyingKey(pk)
    }

    /// Signs `message` (Ed25519 is deterministic: same key and message, same signature).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut sig = [0; SIGNATURE_LEN];
        sig.copy_from_slice(self.pair.sign(message).as_ref());
        sig
    }
}

/// The set of vendor keys an embedding application trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    keys: Vec<VerifyingKey>,
}

impl TrustAnchors {
    /// An empty set: every file is rejected with an unknown-key error.
    pub const fn new() -> Self {
        Self { keys: Vec::new() }
    }

    /// Adds a trusted key (builder style).
    #[must_use]
    pub fn with(mut self, key: VerifyingKey) -> Self {
        self.add(key);
        self
    }

    /// Adds a trusted key.
    pub fn add(&mut self, key: VerifyingKey) {
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    /// The trusted key with this id.
    pub fn find(&self, id: KeyId) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_strictness() {
        assert_eq!(hex_encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode("00abff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(hex_decode("00ABff"), None);
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn key_text_round_trip() {
        let k = SigningKey::from_seed([7; 32]).unwrap();
        let k2 = SigningKey::from_text(&k.to_text()).unwrap();
        assert_eq!(k.verifying_key(), k2.verifying_key());
        let p = VerifyingKey::from_text(&k.verifying_key().to_text()).unwrap();
        assert_eq!(p, k.verifying_key());
        assert_eq!(KeyId::parse(&p.id().to_string()), Some(p.id()));
        assert_eq!(
            VerifyingKey::from_text(&k.to_text()),
            Err(KeyError::Prefix),
            "a private key is not a public key"
        );
        assert_eq!(
            VerifyingKey::from_text("ed25519-public:00"),
            Err(KeyError::Encoding)
        );
    }

    #[test]
    fn trust_anchor_lookup() {
        let a = SigningKey::from_seed([1; 32]).unwrap().verifying_key();
        let b = SigningKey::from_seed([2; 32]).unwrap().verifying_key();
        let anchors = TrustAnchors::new().with(a);
        assert_eq!(anchors.find(a.id()), Some(&a));
        assert_eq!(anchors.find(b.id()), None);
    }
}
