//! Shared-secret challenge-response (HMAC-SHA256, `ring`).
//!
//! The master sends a random 32-byte nonce; the satellite answers
//! `HMAC-SHA256(secret, nonce ‖ node id (u16 BE) ‖ EID)`. The master verifies in constant
//! time. Before a correct answer the master sends nothing but the challenge or `Refused`.

use ring::hmac;

/// Computes the response tag for a challenge.
pub fn response(secret: &[u8], nonce: &[u8; 32], node: u16, eid: &str) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, &input(nonce, node, eid));
    let mut out = [0; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Verifies a response tag (constant time).
pub fn verify(secret: &[u8], nonce: &[u8; 32], node: u16, eid: &str, mac: &[u8; 32]) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &input(nonce, node, eid), mac).is_ok()
}

fn input(nonce: &[u8; 32], node: u16, eid: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(34 + eid.len());
    v.extend_from_slice(nonce);
    v.extend_from_slice(&node.to_be_bytes());
    v.extend_from_slice(eid.as_bytes());
    v
}
