//! STUN Binding on the SIP UDP port, for keep-alives (RFC 5626 §4.4.2 and §8; RFC 5389).
//!
//! A UDP client behind a NAT keeps its flow alive with STUN Binding requests sent to the SIP
//! port; the server answers each with the address it saw (XOR-MAPPED-ADDRESS), so the client
//! also learns when its mapping changed. No authentication is used (RFC 5626 §8).
//! STUN and SIP share the port: a STUN message starts with two zero bits and carries the
//! magic cookie, which no SIP message can (RFC 5389 §6, RFC 7983).

use std::net::SocketAddr;

/// The magic cookie of RFC 5389 §6.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const BINDING_ERROR: u16 = 0x0111;
const XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ERROR_CODE: u16 = 0x0009;
const UNKNOWN_ATTRIBUTES: u16 = 0x000A;
const FINGERPRINT: u16 = 0x8028;
const FINGERPRINT_XOR: u32 = 0x5354_554E;
const HEADER: usize = 20;

/// Why a datagram is not a Binding request we answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StunError {
    /// Shorter than its header or its declared length.
    #[error("truncated STUN message")]
    Truncated,
    /// Not a STUN message (no magic cookie, or a length not a multiple of 4).
    #[error("not a STUN message")]
    NotStun,
    /// A STUN message other than a Binding request (indications are silently ignored).
    #[error("STUN message type {0:#06x} is not a Binding request")]
    NotBindingRequest(u16),
    /// The FINGERPRINT attribute does not match the message.
    #[error("STUN FINGERPRINT mismatch")]
    BadFingerprint,
}

/// Whether `data` is a STUN message rather than SIP (RFC 5389 §6: top two bits zero, the
/// magic cookie, a length that is a multiple of 4).
pub fn is_stun(data: &[u8]) -> bool {
    data.len() >= HEADER
        && data[0] & 0xC0 == 0
        && u32::from_be_bytes([data[4], data[5], data[6], data[7]]) == MAGIC_COOKIE
        && u16::from_be_bytes([data[2], data[3]]).is_multiple_of(4)
}

/// A Binding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRequest {
    /// Its transaction id, echoed in the response.
    pub transaction_id: [u8; 12],
    /// Whether it carried FINGERPRINT (the response then carries one too).
    pub fingerprint: bool,
    /// Comprehension-required attributes we do not know (answered with error 420).
    pub unknown: Vec<u16>,
}

impl BindingRequest {
    /// Parses a Binding request; its FINGERPRINT, when present, must match.
    pub fn parse(data: &[u8]) -> Result<Self, StunError> {
        if data.len() < HEADER {
            return Err(StunError::Truncated);
        }
        if !is_stun(data) {
            return Err(StunError::NotStun);
        }
        let kind = u16::from_be_bytes([data[0], data[1]]);
        let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        let body = data.get(HEADER..HEADER + len).ok_or(StunError::Truncated)?;
        if kind != BINDING_REQUEST {
            return Err(StunError::NotBindingRequest(kind));
        }
        let mut transaction_id = [0u8; 12];
        transaction_id.copy_from_slice(&data[8..20]);
        let (mut fingerprint, mut unknown, mut at) = (false, Vec::new(), 0);
        while at + 4 <= body.len() {
            let t = u16::from_be_bytes([body[at], body[at + 1]]);
            let l = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
            let value = body.get(at + 4..at + 4 + l).ok_or(StunError::Truncated)?;
            if t == FINGERPRINT {
                // The CRC covers the message up to the attribute, with the length as sent.
                let want = crc32(&data[..HEADER + at]) ^ FINGERPRINT_XOR;
                if value.len() != 4 || value != want.to_be_bytes() {
                    return Err(StunError::BadFingerprint);
                }
                fingerprint = true;
            } else if t < 0x8000 && !known(t) {
                unknown.push(t);
            }
            at += 4 + l.div_ceil(4) * 4;
        }
        Ok(Self {
            transaction_id,
            fingerprint,
            unknown,
        })
    }

    /// The answer: a success response telling the client `mapped`, the address its request
    /// came from, or error 420 listing the attributes we do not understand (RFC 5389 §7.3.1).
    pub fn answer(&self, mapped: SocketAddr) -> Vec<u8> {
        let mut m = Vec::with_capacity(64);
        if self.unknown.is_empty() {
            self.header(&mut m, BINDING_SUCCESS);
            attribute(&mut m, XOR_MAPPED_ADDRESS, &self.xor_address(mapped));
        } else {
            self.header(&mut m, BINDING_ERROR);
            let mut code = vec![0, 0, 4, 20];
            code.extend_from_slice(b"Unknown Attribute");
            attribute(&mut m, ERROR_CODE, &code);
            let list: Vec<u8> = self.unknown.iter().flat_map(|t| t.to_be_bytes()).collect();
            attribute(&mut m, UNKNOWN_ATTRIBUTES, &list);
        }
        if self.fingerprint {
            set_length(&mut m, 8);
            let crc = crc32(&m) ^ FINGERPRINT_XOR;
            attribute(&mut m, FINGERPRINT, &crc.to_be_bytes());
        }
        set_length(&mut m, 0);
        m
    }

    fn header(&self, m: &mut Vec<u8>, kind: u16) {
        m.extend_from_slice(&kind.to_be_bytes());
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&self.transaction_id);
    }

    /// XOR-MAPPED-ADDRESS (RFC 5389 §15.2): port and address xored with the cookie (and,
    /// for IPv6, the transaction id).
    fn xor_address(&self, mapped: SocketAddr) -> Vec<u8> {
        let cookie = MAGIC_COOKIE.to_be_bytes();
        let port = mapped.port() ^ (MAGIC_COOKIE >> 16) as u16;
        let mut v = vec![0];
        match mapped {
            SocketAddr::V4(a) => {
                v.push(0x01);
                v.extend_from_slice(&port.to_be_bytes());
                v.extend(a.ip().octets().iter().zip(cookie).map(|(b, k)| b ^ k));
            }
            SocketAddr::V6(a) => {
                v.push(0x02);
                v.extend_from_slice(&port.to_be_bytes());
                let key = cookie.iter().chain(&self.transaction_id);
                v.extend(a.ip().octets().iter().zip(key).map(|(b, k)| b ^ k));
            }
        }
        v
    }
}

/// Comprehension-required attributes a Binding request may carry that we can ignore:
/// MAPPED-ADDRESS, USERNAME, MESSAGE-INTEGRITY, ERROR-CODE, REALM, NONCE, XOR-MAPPED-ADDRESS,
/// and ICE's PRIORITY, USE-CANDIDATE (RFC 5389 §18.2, RFC 5245 §19.1).
fn known(t: u16) -> bool {
    matches!(
        t,
        0x0001 | 0x0006 | 0x0008 | 0x0009 | 0x0014 | 0x0015 | 0x0020 | 0x0024 | 0x0025
    )
}

fn attribute(m: &mut Vec<u8>, kind: u16, value: &[u8]) {
    m.extend_from_slice(&kind.to_be_bytes());
    m.extend_from_slice(&(value.len() as u16).to_be_bytes());
    m.extend_from_slice(value);
    m.resize(m.len() + (4 - value.len() % 4) % 4, 0);
}

/// Sets the header's length to the attributes so far plus `extra` bytes still to come.
fn set_length(m: &mut [u8], extra: usize) {
    let len = (m.len() - HEADER + extra) as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
}

/// CRC-32 (ISO-HDLC, as in RFC 1952) over `data`.
fn crc32(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(fingerprint: bool, extra: &[(u16, &[u8])]) -> Vec<u8> {
        let r = BindingRequest {
            transaction_id: *b"0123456789ab",
            fingerprint: false,
            unknown: Vec::new(),
        };
        let mut m = Vec::new();
        r.header(&mut m, BINDING_REQUEST);
        for (t, v) in extra {
            attribute(&mut m, *t, v);
        }
        if fingerprint {
            set_length(&mut m, 8);
            let crc = crc32(&m) ^ FINGERPRINT_XOR;
            attribute(&mut m, FINGERPRINT, &crc.to_be_bytes());
        }
        set_length(&mut m, 0);
        m
    }

    #[test]
    fn crc_is_the_iso_hdlc_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn binding_request_answered_with_the_xored_source() {
        let req = BindingRequest::parse(&request(true, &[])).expect("request");
        assert!(req.fingerprint && req.unknown.is_empty());
        let from: SocketAddr = "192.0.2.1:32853".parse().expect("addr");
        let resp = req.answer(from);
        assert!(is_stun(&resp));
        assert_eq!(&resp[0..2], &BINDING_SUCCESS.to_be_bytes());
        assert_eq!(&resp[8..20], b"0123456789ab");
        // RFC 5769 §2.2 encodes 192.0.2.1:32853 as these XOR-MAPPED-ADDRESS value bytes.
        assert_eq!(
            &resp[24..32],
            &[0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]
        );
        assert_eq!(
            usize::from(u16::from_be_bytes([resp[2], resp[3]])),
            resp.len() - 20
        );
    }

    #[test]
    fn ipv6_mapping_is_xored_with_cookie_and_transaction() {
        let req = BindingRequest::parse(&request(false, &[])).expect("request");
        let resp = req.answer("[2001:db8::1]:5060".parse().expect("addr"));
        assert_eq!(resp.len(), 20 + 4 + 20, "no fingerprint unless asked");
        assert_eq!(resp[25], 0x02);
        assert_eq!(
            resp[28] ^ 0x21,
            0x20,
            "first address byte xored with the cookie"
        );
        assert_eq!(resp[43] ^ b'b', 0x01, "last one with the transaction id");
    }

    #[test]
    fn unknown_required_attributes_get_420() {
        let req = BindingRequest::parse(&request(false, &[(0x0003, &[0, 0, 0, 0])])).expect("req");
        assert_eq!(req.unknown, [0x0003]);
        let resp = req.answer("127.0.0.1:5060".parse().expect("addr"));
        assert_eq!(&resp[0..2], &BINDING_ERROR.to_be_bytes());
        assert_eq!(&resp[24..28], &[0, 0, 4, 20]);
        // Optional ones (0x8000 and above, e.g. SOFTWARE) are ignored.
        let ok = BindingRequest::parse(&request(false, &[(0x8022, b"x")])).expect("req");
        assert!(ok.unknown.is_empty());
    }

    #[test]
    fn garbage_is_a_typed_error() {
        let good = request(true, &[]);
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(BindingRequest::parse(&bad), Err(StunError::BadFingerprint));
        assert_eq!(
            BindingRequest::parse(&good[..10]),
            Err(StunError::Truncated)
        );
        assert_eq!(
            BindingRequest::parse(&good[..good.len() - 4]),
            Err(StunError::Truncated)
        );
        assert_eq!(
            BindingRequest::parse(b"OPTIONS sip:a SIP/2.0\r\n\r\n"),
            Err(StunError::NotStun)
        );
        let mut indication = request(false, &[]);
        indication[1] = 0x11;
        assert_eq!(
            BindingRequest::parse(&indication),
            Err(StunError::NotBindingRequest(0x0011))
        );
        for n in 0..good.len() {
            let _ = BindingRequest::parse(&good[..n]);
        }
    }

    #[test]
    fn mutated_requests_never_panic() {
        let seed = request(true, &[(0x8022, b"soft"), (0x0024, &[0, 0, 0, 1])]);
        let mut rng = testkit::Rng(0x5EED_5EED_1234_5678);
        for _ in 0..20_000 {
            let mut m = seed.clone();
            for _ in 0..1 + rng.next_u64() % 4 {
                let at = (rng.next_u64() % m.len() as u64) as usize;
                m[at] = rng.next_u64() as u8;
            }
            m.truncate(20 + (rng.next_u64() % (m.len() as u64 - 19)) as usize);
            if let Ok(r) = BindingRequest::parse(&m) {
                assert!(is_stun(&r.answer("127.0.0.1:1".parse().expect("addr"))));
            }
        }
    }
}
