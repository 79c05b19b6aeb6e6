//! SRTP/SRTCP against published vectors: RFC 3711 Appendix B.2 (AES-CM
//! keystream) and B.3 (key derivation), libsrtp's `srtp_driver` known-answer
//! packets for AES_CM_128_HMAC_SHA1_80 (RTP and RTCP), RFC 7714 §16.1.1 and
//! §17.1.1 for AEAD_AES_128_GCM. MV-40 (Secure VoIP media).

use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, Ssrc};
use pbxkit_rtp_media::srtp::{SrtpContext, SrtpError, SrtpProfile, derive_session_key};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().expect("length")
}

const B3_KEY: &str = "E1F97A0D3E018BE0D64FA32C06DE4139";
const B3_SALT: &str = "0EC675AD498AFEEBB6960B3AABE6";

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let mut ctx = SrtpContext::from_cm_session_keys(
        SrtpProfile::AesCm128HmacSha1_80,
        &arr("2B7E151628AED2A6ABF7158809CF4F3C"),
        &arr("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
        &[0; 20],
    );
    // SSRC 0, SEQ 0, ROC 0: a zero payload encrypts to the keystream itself.
    let mut buf = [0u8; 12 + 48 + 10];
    buf[0] = 0x80;
    let n = ctx.protect_rtp(&mut buf, 60).expect("protect");
    assert_eq!(n, 70);
    assert_eq!(
        &buf[12..60],
        &unhex(
            "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0"
        )[..]
    );
}

#[test]
fn rfc3711_b3_key_derivation() {
    let key = arr::<16>(B3_KEY);
    let salt = unhex(B3_SALT);
    let mut enc = [0u8; 16];
    derive_session_key(&key, &salt, 0, &mut enc);
    assert_eq!(enc, arr::<16>("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut s = [0u8; 14];
    derive_session_key(&key, &salt, 2, &mut s);
    assert_eq!(s, arr::<14>("30CBBC08863D8C85D49DB34A9AE1"));
    let mut auth = [0u8; 94];
    derive_session_key(&key, &salt, 1, &mut auth);
    assert_eq!(
        auth.to_vec(),
        unhex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

// libsrtp test/srtp_driver.c srtp_validate(): master key/salt as B.3.
const LIBSRTP_RTP_PLAIN: &str = "800f1234decafbadcafebabe abababababababababababababababab";
const LIBSRTP_SRTP: &str =
    "800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb";
const LIBSRTP_RTCP_PLAIN: &str = "81c8000bcafebabe abababababababababababababababab";
const LIBSRTP_SRTCP: &str =
    "81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798";

fn b3_ctx(profile: SrtpProfile) -> SrtpContext {
    SrtpContext::new(profile, &unhex(B3_KEY), &unhex(B3_SALT)).expect("keys")
}

#[test]
fn libsrtp_aes_cm_128_hmac_sha1_80_rtp_known_answer() {
    let plain = unhex(LIBSRTP_RTP_PLAIN);
    let mut buf = [0u8; 64];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = b3_ctx(SrtpProfile::AesCm128HmacSha1_80)
        .protect_rtp(&mut buf, plain.len())
        .expect("protect");
    assert_eq!(&buf[..n], &unhex(LIBSRTP_SRTP)[..]);
    let mut rx = b3_ctx(SrtpProfile::AesCm128HmacSha1_80);
    let mut wire = unhex(LIBSRTP_SRTP);
    let n = rx.unprotect_rtp(&mut wire).expect("unprotect");
    assert_eq!(&wire[..n], &plain[..]);
    // Replay of the same packet is refused.
    let mut again = unhex(LIBSRTP_SRTP);
    assert_eq!(rx.unprotect_rtp(&mut again), Err(SrtpError::Replay(0x1234)));
}

#[test]
fn aes_cm_128_hmac_sha1_32_is_the_80_bit_tag_truncated() {
    // RFC 3711 §4.2 / RFC 4568 §6.2: same keys and cipher, tag truncated to 32 bits.
    let plain = unhex(LIBSRTP_RTP_PLAIN);
    let mut buf = [0u8; 64];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = b3_ctx(SrtpProfile::AesCm128HmacSha1_32)
        .protect_rtp(&mut buf, plain.len())
        .expect("protect");
    assert_eq!(&buf[..n], &unhex(LIBSRTP_SRTP)[..plain.len() + 4]);
    let mut wire = buf[..n].to_vec();
    let mut rx = b3_ctx(SrtpProfile::AesCm128HmacSha1_32);
    assert_eq!(rx.unprotect_rtp(&mut wire), Ok(plain.len()));
    assert_eq!(&wire[..plain.len()], &plain[..]);
}

#[test]
fn libsrtp_srtcp_known_answer() {
    let plain = unhex(LIBSRTP_RTCP_PLAIN);
    let mut tx = b3_ctx(SrtpProfile::AesCm128HmacSha1_80);
    tx.set_srtcp_index(Ssrc(0xcafe_babe), 1); // libsrtp's first index
    let mut buf = [0u8; 64];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = tx.protect_rtcp(&mut buf, plain.len()).expect("protect");
    assert_eq!(&buf[..n], &unhex(LIBSRTP_SRTCP)[..]);
    let mut rx = b3_ctx(SrtpProfile::AesCm128HmacSha1_80);
    let mut wire = unhex(LIBSRTP_SRTCP);
    let n = rx.unprotect_rtcp(&mut wire).expect("unprotect");
    assert_eq!(&wire[..n], &plain[..]);
    let mut again = unhex(LIBSRTP_SRTCP);
    assert_eq!(rx.unprotect_rtcp(&mut again), Err(SrtpError::Replay(1)));
    let mut tampered = unhex(LIBSRTP_SRTCP);
    tampered[10] ^= 1;
    assert_eq!(
        b3_ctx(SrtpProfile::AesCm128HmacSha1_80).unprotect_rtcp(&mut tampered),
        Err(SrtpError::Authentication)
    );
}

const GCM_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_SALT: &str = "517569642070726f2071756f";

fn gcm() -> SrtpContext {
    SrtpContext::from_gcm_session_keys(&arr(GCM_KEY), &arr(GCM_SALT))
}

#[test]
fn rfc7714_16_1_1_srtp_aead_aes_128_gcm() {
    let plain = unhex(
        "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
         69736120 696e2070 61727465 73207472 6573",
    );
    let expected = unhex(
        "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
         0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce",
    );
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = gcm().protect_rtp(&mut buf, plain.len()).expect("protect");
    assert_eq!(&buf[..n], &expected[..]);
    let mut wire = expected.clone();
    let n = gcm().unprotect_rtp(&mut wire).expect("unprotect");
    assert_eq!(&wire[..n], &plain[..]);
    let mut bad = expected;
    bad[20] ^= 1;
    assert_eq!(
        gcm().unprotect_rtp(&mut bad),
        Err(SrtpError::Authentication)
    );
}

#[test]
fn rfc7714_17_1_1_srtcp_aead_aes_128_gcm() {
    let plain = unhex(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
         deadbeef deadbeef deadbeef deadbeef deadbeef",
    );
    let expected = unhex(
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
         c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872
         45d9eade 800005d4",
    );
    let mut tx = gcm();
    tx.set_srtcp_index(Ssrc(0x4d61_7273), 0x5d4);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = tx.protect_rtcp(&mut buf, plain.len()).expect("protect");
    assert_eq!(&buf[..n], &expected[..]);
    let mut wire = expected;
    let n = gcm().unprotect_rtcp(&mut wire).expect("unprotect");
    assert_eq!(&wire[..n], &plain[..]);
}

fn packet(seq: u16, out: &mut [u8]) -> usize {
    let h = RtpHeader::new(PayloadType::PCMA, seq, u32::from(seq) * 160, Ssrc(7));
    h.build(&[0x55; 160], 0, out).expect("fits")
}

#[test]
fn rollover_counter_follows_wrap_with_reordering_for_all_suites() {
    for profile in [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
    ] {
        let (k, s) = (vec![0x11; 16], vec![0x22; profile.master_salt_len()]);
        let mut tx = SrtpContext::new(profile, &k, &s).expect("keys");
        let mut rx = SrtpContext::new(profile, &k, &s).expect("keys");
        let seqs: Vec<u16> = (65530..=65535).chain(0..6).collect();
        let mut wire: Vec<Vec<u8>> = seqs
            .iter()
            .map(|&q| {
                let mut b = [0u8; 256];
                let n = packet(q, &mut b);
                let n = tx.protect_rtp(&mut b, n).expect("protect");
                b[..n].to_vec()
            })
            .collect();
        assert_eq!(tx.roc(Ssrc(7)), Some(1));
        // Deliver with the packets around the wrap swapped.
        wire.swap(5, 6);
        for (i, w) in wire.iter_mut().enumerate() {
            let n = rx
                .unprotect_rtp(w)
                .unwrap_or_else(|e| panic!("{profile:?} #{i}: {e}"));
            assert_eq!(&w[12..n], &[0x55; 160][..]);
        }
        assert_eq!(rx.roc(Ssrc(7)), Some(1), "{profile:?}");
        // A replay from before the wrap is still caught.
        let mut b = [0u8; 256];
        let n = packet(65535, &mut b);
        let mut tx2 = SrtpContext::new(profile, &k, &s).expect("keys");
        let n = tx2.protect_rtp(&mut b, n).expect("protect");
        assert!(matches!(
            rx.unprotect_rtp(&mut b[..n]),
            Err(SrtpError::Replay(_) | SrtpError::TooOld(_) | SrtpError::Authentication)
        ));
    }
}
