//! SRTP/SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80/_32 and
//! AEAD_AES_128_GCM (RFC 7714): key derivation, rollover-counter tracking,
//! replay protection, in-place protect/unprotect over caller buffers.
//!
//! One [`SrtpContext`] holds one master key and is used in one direction:
//! the local key protects what we send, the peer's key unprotects what we
//! receive. Per-SSRC state (ROC, replay window, SRTCP index) is created on
//! the first packet of each source.
//!
//! Primitives: AES-GCM comes from `ring`; AES counter mode needs the raw
//! block cipher, which `ring` does not expose, so it uses the RustCrypto
//! `aes` crate; HMAC-SHA1 uses RustCrypto `hmac`/`sha1`, whose SHA-1 uses the
//! CPU's SHA extensions (ring's SHA-1 is portable code, ~4× slower here).

use crate::rtp::{FIXED_HEADER_LEN, RtpPacket, Ssrc};
use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use hmac::{Hmac, Mac};
use ring::aead;
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;
use std::collections::HashMap;
use thiserror::Error;

/// The SRTP protection profiles this crate implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// AES-128 counter mode, HMAC-SHA1 with an 80-bit tag (RFC 3711 default, RFC 4568).
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, HMAC-SHA1 with a 32-bit SRTP tag (SRTCP keeps 80 bits).
    AesCm128HmacSha1_32,
    /// AES-128-GCM with a 16-byte tag (RFC 7714).
    AeadAes128Gcm,
}

impl SrtpProfile {
    /// Master key length in bytes.
    pub const fn master_key_len(self) -> usize {
        16
    }

    /// Master salt length in bytes (14 for AES-CM, 12 for GCM).
    pub const fn master_salt_len(self) -> usize {
        match self {
            Self::AeadAes128Gcm => 12,
            _ => 14,
        }
    }

    /// Bytes appended to each SRTP packet.
    pub const fn rtp_overhead(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 => 10,
            Self::AesCm128HmacSha1_32 => 4,
            Self::AeadAes128Gcm => 16,
        }
    }

    /// Bytes appended to each SRTCP packet (E+index and tag).
    pub const fn rtcp_overhead(self) -> usize {
        match self {
            Self::AeadAes128Gcm => 4 + 16,
            _ => 4 + 10,
        }
    }

    /// The RFC 4568 / RFC 7714 SDES crypto-suite name.
    pub const fn sdes_name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }

    /// Looks a suite up by its SDES name.
    pub fn from_sdes_name(name: &str) -> Option<Self> {
        [
            Self::AesCm128HmacSha1_80,
            Self::AesCm128HmacSha1_32,
            Self::AeadAes128Gcm,
        ]
        .into_iter()
        .find(|p| p.sdes_name() == name)
    }
}

/// SRTP failures. None of them panics; a failed packet must be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SrtpError {
    /// Master key or salt of the wrong length for the profile.
    #[error("master key/salt length does not match the profile")]
    KeyLength,
    /// The packet is not valid RTP/RTCP or is shorter than its trailer.
    #[error("malformed or truncated packet")]
    Malformed,
    /// The caller buffer lacks room for the authentication tag.
    #[error("buffer too small: need {needed} bytes, have {have}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// Authentication failed (tampering, wrong key, or wrong ROC).
    #[error("authentication failed")]
    Authentication,
    /// The packet index was already received.
    #[error("replayed packet (index {0})")]
    Replay(u64),
    /// The packet index is older than the replay window.
    #[error("packet index {0} is older than the replay window")]
    TooOld(u64),
    /// The sender exhausted the 2^48 SRTP or 2^31 SRTCP indices: rekey.
    #[error("packet index space exhausted: rekey required")]
    IndexExhausted,
}

/// Replay window size in packets (RFC 3711 §3.3.2 minimum is 64).
pub const REPLAY_WINDOW: u64 = 64;

/// KDF labels (RFC 3711 §4.3.1).
mod label {
    pub(super) const RTP_ENC: u8 = 0;
    pub(super) const RTP_AUTH: u8 = 1;
    pub(super) const RTP_SALT: u8 = 2;
    pub(super) const RTCP_ENC: u8 = 3;
    pub(super) const RTCP_AUTH: u8 = 4;
    pub(super) const RTCP_SALT: u8 = 5;
}

fn aes_cm_xor(cipher: &Aes128, iv: &[u8; 16], data: &mut [u8]) {
    // Eight counter blocks per call lets the AES-NI backend pipeline them.
    let mut ctr = u128::from_be_bytes(*iv);
    let mut blocks = [aes::Block::default(); 8];
    for chunk in data.chunks_mut(128) {
        let n = chunk.len().div_ceil(16);
        for b in &mut blocks[..n] {
            *b = GenericArray::from(ctr.to_be_bytes());
            ctr = ctr.wrapping_add(1);
        }
        cipher.encrypt_blocks(&mut blocks[..n]);
        for (d, k) in chunk
            .iter_mut()
            .zip(blocks[..n].iter().flat_map(|b| b.iter()))
        {
            *d ^= k;
        }
    }
}

/// The RFC 3711 §4.3 key derivation with key derivation rate 0: fills `out`
/// with the AES-CM PRF output for `label`. `master_salt` is 14 bytes (a 12-byte
/// GCM salt is zero-padded, as RFC 7714 §11 and libsrtp do).
pub fn derive_session_key(master_key: &[u8; 16], master_salt: &[u8], label: u8, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    let n = master_salt.len().min(14);
    iv[..n].copy_from_slice(&master_salt[..n]);
    iv[7] ^= label; // key_id = label || r (r = 0), right-aligned in 112 bits
    out.fill(0);
    let cipher = Aes128::new(GenericArray::from_slice(master_key));
    aes_cm_xor(&cipher, &iv, out);
}

enum Keys {
    Cm {
        cipher: Box<Aes128>,
        salt: [u8; 14],
        /// Keyed HMAC state, cloned per packet (the key schedule is done once).
        auth: HmacSha1,
    },
    Gcm {
        key: Box<aead::LessSafeKey>,
        salt: [u8; 12],
    },
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    fn derive(profile: SrtpProfile, key: &[u8; 16], salt: &[u8], rtcp: bool) -> Self {
        let (l_enc, l_auth, l_salt) = if rtcp {
            (label::RTCP_ENC, label::RTCP_AUTH, label::RTCP_SALT)
        } else {
            (label::RTP_ENC, label::RTP_AUTH, label::RTP_SALT)
        };
        let mut k = [0u8; 16];
        derive_session_key(key, salt, l_enc, &mut k);
        match profile {
            SrtpProfile::AeadAes128Gcm => {
                let mut s = [0u8; 12];
                derive_session_key(key, salt, l_salt, &mut s);
                Self::gcm(&k, &s)
            }
            _ => {
                let mut s = [0u8; 14];
                derive_session_key(key, salt, l_salt, &mut s);
                let mut a = [0u8; 20];
                derive_session_key(key, salt, l_auth, &mut a);
                Self::cm(&k, &s, &a)
            }
        }
    }

    fn cm(key: &[u8; 16], salt: &[u8; 14], auth: &[u8; 20]) -> Self {
        Self::Cm {
            cipher: Box::new(Aes128::new(GenericArray::from_slice(key))),
            salt: *salt,
            // HMAC accepts keys of any length: a 20-byte key cannot fail.
            auth: <HmacSha1 as Mac>::new_from_slice(auth).expect("HMAC takes any key length"),
        }
    }

    fn gcm(key: &[u8; 16], salt: &[u8; 12]) -> Self {
        // A 16-byte key is always valid for AES-128-GCM.
        let unbound = aead::UnboundKey::new(&aead::AES_128_GCM, key)
            .expect("16-byte key is valid for AES-128-GCM");
        Self::Gcm {
            key: Box::new(aead::LessSafeKey::new(unbound)),
            salt: *salt,
        }
    }
}

fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    let s = ssrc.to_be_bytes();
    for i in 0..4 {
        iv[4 + i] ^= s[i];
    }
    let idx = index.to_be_bytes(); // 48-bit index in bytes 2..8
    for i in 0..6 {
        iv[8 + i] ^= idx[2 + i];
    }
    iv
}

fn gcm_iv(salt: &[u8; 12], ssrc: u32, hi: u32, lo: u16) -> aead::Nonce {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[6..10].copy_from_slice(&hi.to_be_bytes());
    iv[10..12].copy_from_slice(&lo.to_be_bytes());
    for (b, s) in iv.iter_mut().zip(salt) {
        *b ^= s;
    }
    aead::Nonce::assume_unique_for_key(iv)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A sliding replay window over packet indices.
#[derive(Clone, Copy, Debug, Default)]
struct ReplayWindow {
    highest: Option<u64>,
    bitmap: u64,
}

impl ReplayWindow {
    fn check(&self, index: u64) -> Result<(), SrtpError> {
        let Some(top) = self.highest else {
            return Ok(());
        };
        if index > top {
            return Ok(());
        }
        let delta = top - index;
        if delta >= REPLAY_WINDOW {
            return Err(SrtpError::TooOld(index));
        }
        if self.bitmap & (1 << delta) != 0 {
            return Err(SrtpError::Replay(index));
        }
        Ok(())
    }

    fn commit(&mut self, index: u64) {
        match self.highest {
            None => {
                self.highest = Some(index);
                self.bitmap = 1;
            }
            Some(top) if index > top => {
                let shift = index - top;
                self.bitmap = if shift >= 64 { 0 } else { self.bitmap << shift };
                self.bitmap |= 1;
                self.highest = Some(index);
            }
            Some(top) => self.bitmap |= 1 << (top - index),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct StreamState {
    /// Rollover counter.
    roc: u32,
    /// Highest sequence number seen/sent (`s_l`), once one has been.
    s_l: Option<u16>,
    replay: ReplayWindow,
    /// Next SRTCP index to send.
    srtcp_next: u32,
    srtcp_replay: ReplayWindow,
}

impl StreamState {
    /// RFC 3711 Appendix A: the ROC guess for `seq`.
    fn estimate_roc(&self, seq: u16) -> u32 {
        let Some(s_l) = self.s_l else {
            return self.roc;
        };
        if s_l < 0x8000 {
            if i32::from(seq) - i32::from(s_l) > 0x8000 {
                return self.roc.wrapping_sub(1);
            }
        } else if i32::from(s_l) - 0x8000 > i32::from(seq) {
            return self.roc.wrapping_add(1);
        }
        self.roc
    }

    fn update(&mut self, v: u32, seq: u16) {
        match self.s_l {
            None => {
                self.roc = v;
                self.s_l = Some(seq);
            }
            Some(s_l) => {
                if v == self.roc.wrapping_add(1) {
                    self.roc = v;
                    self.s_l = Some(seq);
                } else if v == self.roc && seq > s_l {
                    self.s_l = Some(seq);
                }
            }
        }
    }
}

/// An SRTP/SRTCP crypto context for one master key (one direction).
#[derive(Debug)]
pub struct SrtpContext {
    profile: SrtpProfile,
    rtp: Keys,
    rtcp: Keys,
    streams: HashMap<Ssrc, StreamState>,
}

impl SrtpContext {
    /// Derives session keys from a master key and salt (RFC 3711 §4.3, kdr 0).
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        let key: &[u8; 16] = master_key.try_into().map_err(|_| SrtpError::KeyLength)?;
        if master_salt.len() != profile.master_salt_len() {
            return Err(SrtpError::KeyLength);
        }
        Ok(Self {
            profile,
            rtp: Keys::derive(profile, key, master_salt, false),
            rtcp: Keys::derive(profile, key, master_salt, true),
            streams: HashMap::new(),
        })
    }

    /// A GCM context from session keys directly (RFC 7714 §16/§17 vectors give
    /// session keys; also useful with DTLS-SRTP exporters that skip the KDF).
    pub fn from_gcm_session_keys(key: &[u8; 16], salt: &[u8; 12]) -> Self {
        Self {
            profile: SrtpProfile::AeadAes128Gcm,
            rtp: Keys::gcm(key, salt),
            rtcp: Keys::gcm(key, salt),
            streams: HashMap::new(),
        }
    }

    /// An AES-CM context from session keys directly (RFC 3711 B.2 style tests).
    pub fn from_cm_session_keys(
        profile: SrtpProfile,
        key: &[u8; 16],
        salt: &[u8; 14],
        auth: &[u8; 20],
    ) -> Self {
        Self {
            profile,
            rtp: Keys::cm(key, salt, auth),
            rtcp: Keys::cm(key, salt, auth),
            streams: HashMap::new(),
        }
    }

    /// The profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The rollover counter currently held for `ssrc` (for diagnostics and re-keying).
    pub fn roc(&self, ssrc: Ssrc) -> Option<u32> {
        self.streams.get(&ssrc).map(|s| s.roc)
    }

    /// Sets the rollover counter for `ssrc` (a receiver joining a stream late).
    pub fn set_roc(&mut self, ssrc: Ssrc, roc: u32) {
        self.streams.entry(ssrc).or_default().roc = roc;
    }

    /// Sets the next SRTCP index to send for `ssrc`.
    pub fn set_srtcp_index(&mut self, ssrc: Ssrc, index: u32) {
        self.streams.entry(ssrc).or_default().srtcp_next = index & 0x7fff_ffff;
    }

    /// Protects the RTP packet in `buf[..len]` in place; `buf` must have
    /// [`SrtpProfile::rtp_overhead`] spare bytes. Returns the SRTP length.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let (header_len, seq, ssrc) = {
            let p = RtpPacket::parse(buf.get(..len).ok_or(SrtpError::Malformed)?)
                .map_err(|_| SrtpError::Malformed)?;
            (p.header_len(), p.sequence(), p.ssrc())
        };
        let total = len + self.profile.rtp_overhead();
        if buf.len() < total {
            return Err(SrtpError::BufferTooSmall {
                needed: total,
                have: buf.len(),
            });
        }
        let st = self.streams.entry(ssrc).or_default();
        // Sender: the ROC increments when the sequence number wraps.
        if let Some(prev) = st.s_l
            && seq < prev
            && prev - seq > 0x8000
        {
            if st.roc == u32::MAX {
                return Err(SrtpError::IndexExhausted);
            }
            st.roc += 1;
        }
        if st.s_l.is_none_or(|prev| crate::rtp::seq_after(seq, prev)) {
            st.s_l = Some(seq);
        }
        let roc = st.roc;
        let index = (u64::from(roc) << 16) | u64::from(seq);
        match &self.rtp {
            Keys::Cm { cipher, salt, auth } => {
                let iv = cm_iv(salt, ssrc.0, index);
                aes_cm_xor(cipher, &iv, &mut buf[header_len..len]);
                let mut mac = auth.clone();
                mac.update(&buf[..len]);
                mac.update(&roc.to_be_bytes());
                let tag = mac.finalize().into_bytes();
                let t = self.profile.rtp_overhead();
                buf[len..len + t].copy_from_slice(&tag[..t]);
            }
            Keys::Gcm { key, salt } => {
                let nonce = gcm_iv(salt, ssrc.0, roc, seq);
                let (head, rest) = buf.split_at_mut(header_len);
                let tag = key
                    .seal_in_place_separate_tag(
                        nonce,
                        aead::Aad::from(&*head),
                        &mut rest[..len - header_len],
                    )
                    .map_err(|_| SrtpError::Malformed)?;
                buf[len..len + 16].copy_from_slice(tag.as_ref());
            }
        }
        Ok(total)
    }

    /// Authenticates, replay-checks and decrypts the SRTP packet in `buf` in
    /// place. Returns the plaintext RTP length.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let t = self.profile.rtp_overhead();
        if buf.len() < FIXED_HEADER_LEN + t {
            return Err(SrtpError::Malformed);
        }
        let len = buf.len() - t;
        let (header_len, seq, ssrc) = {
            let p = RtpPacket::parse(&buf[..len]).map_err(|_| SrtpError::Malformed)?;
            (p.header_len(), p.sequence(), p.ssrc())
        };
        let st = self.streams.get(&ssrc).copied().unwrap_or_default();
        let v = st.estimate_roc(seq);
        let index = (u64::from(v) << 16) | u64::from(seq);
        st.replay.check(index)?;
        match &self.rtp {
            Keys::Cm { cipher, salt, auth } => {
                let mut mac = auth.clone();
                mac.update(&buf[..len]);
                mac.update(&v.to_be_bytes());
                let tag = mac.finalize().into_bytes();
                if !ct_eq(&tag[..t], &buf[len..]) {
                    return Err(SrtpError::Authentication);
                }
                let iv = cm_iv(salt, ssrc.0, index);
                aes_cm_xor(cipher, &iv, &mut buf[header_len..len]);
            }
            Keys::Gcm { key, salt } => {
                let nonce = gcm_iv(salt, ssrc.0, v, seq);
                let (head, rest) = buf.split_at_mut(header_len);
                key.open_in_place(nonce, aead::Aad::from(&*head), rest)
                    .map_err(|_| SrtpError::Authentication)?;
            }
        }
        let st = self.streams.entry(ssrc).or_default();
        st.update(v, seq);
        st.replay.commit(index);
        Ok(len)
    }

    /// Protects the compound RTCP packet in `buf[..len]` (encrypted, E=1);
    /// `buf` needs [`SrtpProfile::rtcp_overhead`] spare bytes.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        if len < 8 || len > buf.len() {
            return Err(SrtpError::Malformed);
        }
        let total = len + self.profile.rtcp_overhead();
        if buf.len() < total {
            return Err(SrtpError::BufferTooSmall {
                needed: total,
                have: buf.len(),
            });
        }
        let ssrc = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let st = self.streams.entry(Ssrc(ssrc)).or_default();
        let index = st.srtcp_next;
        if index > 0x7fff_ffff {
            return Err(SrtpError::IndexExhausted);
        }
        st.srtcp_next = index + 1;
        let e_index = (0x8000_0000 | index).to_be_bytes();
        match &self.rtcp {
            Keys::Cm { cipher, salt, auth } => {
                let iv = cm_iv(salt, ssrc, u64::from(index));
                aes_cm_xor(cipher, &iv, &mut buf[8..len]);
                buf[len..len + 4].copy_from_slice(&e_index);
                let mut mac = auth.clone();
                mac.update(&buf[..len + 4]);
                let tag = mac.finalize().into_bytes();
                buf[len + 4..len + 14].copy_from_slice(&tag[..10]);
            }
            Keys::Gcm { key, salt } => {
                let nonce = gcm_iv(salt, ssrc, 0, 0);
                let nonce = {
                    // RFC 7714 §9.1: 00 00 || SSRC || 00 00 || 0 || index, XOR salt.
                    let mut iv = *nonce.as_ref();
                    let idx = index.to_be_bytes();
                    for i in 0..4 {
                        iv[8 + i] ^= idx[i];
                    }
                    aead::Nonce::assume_unique_for_key(iv)
                };
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&e_index);
                let tag = key
                    .seal_in_place_separate_tag(nonce, aead::Aad::from(&aad), &mut buf[8..len])
                    .map_err(|_| SrtpError::Malformed)?;
                buf[len..len + 16].copy_from_slice(tag.as_ref());
                buf[len + 16..len + 20].copy_from_slice(&e_index);
            }
        }
        Ok(total)
    }

    /// Authenticates, replay-checks and decrypts an SRTCP packet in place,
    /// returning the RTCP length.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let over = self.profile.rtcp_overhead();
        if buf.len() < 8 + over {
            return Err(SrtpError::Malformed);
        }
        let ssrc = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let st = self.streams.get(&Ssrc(ssrc)).copied().unwrap_or_default();
        let (len, e_at) = match self.rtcp {
            Keys::Cm { .. } => (buf.len() - over, buf.len() - over),
            Keys::Gcm { .. } => (buf.len() - over, buf.len() - 4),
        };
        let e_index = u32::from_be_bytes([buf[e_at], buf[e_at + 1], buf[e_at + 2], buf[e_at + 3]]);
        let encrypted = e_index & 0x8000_0000 != 0;
        let index = e_index & 0x7fff_ffff;
        st.srtcp_replay.check(u64::from(index))?;
        match &self.rtcp {
            Keys::Cm { cipher, salt, auth } => {
                let mut mac = auth.clone();
                mac.update(&buf[..len + 4]);
                let tag = mac.finalize().into_bytes();
                if !ct_eq(&tag[..10], &buf[len + 4..]) {
                    return Err(SrtpError::Authentication);
                }
                if encrypted {
                    let iv = cm_iv(salt, ssrc, u64::from(index));
                    aes_cm_xor(cipher, &iv, &mut buf[8..len]);
                }
            }
            Keys::Gcm { key, salt } => {
                let mut iv = *gcm_iv(salt, ssrc, 0, 0).as_ref();
                for (i, b) in index.to_be_bytes().iter().enumerate() {
                    iv[8 + i] ^= b;
                }
                let nonce = aead::Nonce::assume_unique_for_key(iv);
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&e_index.to_be_bytes());
                if encrypted {
                    key.open_in_place(nonce, aead::Aad::from(&aad), &mut buf[8..len + 16])
                        .map_err(|_| SrtpError::Authentication)?;
                } else {
                    // RFC 7714 §9.2: unencrypted SRTCP authenticates the whole packet as AAD.
                    let (body, tag) = buf[..len + 16].split_at_mut(len);
                    let mut aad_full = Vec::with_capacity(len + 4);
                    aad_full.extend_from_slice(body);
                    aad_full.extend_from_slice(&e_index.to_be_bytes());
                    key.open_in_place(nonce, aead::Aad::from(&aad_full), tag)
                        .map_err(|_| SrtpError::Authentication)?;
                }
            }
        }
        self.streams
            .entry(Ssrc(ssrc))
            .or_default()
            .srtcp_replay
            .commit(u64::from(index));
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_window_semantics() {
        let mut w = ReplayWindow::default();
        w.commit(100);
        assert_eq!(w.check(100), Err(SrtpError::Replay(100)));
        assert!(w.check(99).is_ok());
        w.commit(99);
        assert_eq!(w.check(99), Err(SrtpError::Replay(99)));
        assert_eq!(w.check(36), Err(SrtpError::TooOld(36)));
        assert!(w.check(37).is_ok());
        w.commit(300);
        assert_eq!(w.check(100), Err(SrtpError::TooOld(100)));
        assert!(w.check(299).is_ok());
    }

    #[test]
    fn roc_estimate_appendix_a() {
        let st = StreamState {
            roc: 5,
            s_l: Some(65500),
            ..StreamState::default()
        };
        assert_eq!(st.estimate_roc(10), 6);
        assert_eq!(st.estimate_roc(65400), 5);
        let st = StreamState {
            roc: 5,
            s_l: Some(10),
            ..StreamState::default()
        };
        assert_eq!(st.estimate_roc(65530), 4);
        assert_eq!(st.estimate_roc(20), 5);
    }

    #[test]
    fn profile_names_round_trip() {
        for p in [
            SrtpProfile::AesCm128HmacSha1_80,
            SrtpProfile::AesCm128HmacSha1_32,
            SrtpProfile::AeadAes128Gcm,
        ] {
            assert_eq!(SrtpProfile::from_sdes_name(p.sdes_name()), Some(p));
        }
        assert_eq!(SrtpProfile::from_sdes_name("F8_128_HMAC_SHA1_80"), None);
    }

    #[test]
    fn garbage_is_rejected_without_panic() {
        let mut ctx =
            SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &[1; 16], &[2; 14]).expect("keys");
        for len in 0..40 {
            let mut b = vec![0x80u8; len];
            assert!(ctx.unprotect_rtp(&mut b).is_err());
            let mut b = vec![0x81u8; len];
            assert!(ctx.unprotect_rtcp(&mut b).is_err());
        }
        assert_eq!(
            SrtpContext::new(SrtpProfile::AeadAes128Gcm, &[1; 16], &[2; 14]).err(),
            Some(SrtpError::KeyLength)
        );
    }
}
