//! SRTP/SRTCP interoperability with libsrtp itself (through the `pylibsrtp`
//! Python binding): for every suite, packets we protect across a sequence
//! wrap are byte-identical to libsrtp's and libsrtp unprotects them, and we
//! unprotect what libsrtp protects. Skipped (with `SKIP`) when python3 or
//! pylibsrtp is missing (`pip install pylibsrtp`).

use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, Ssrc};
use pbxkit_rtp_media::srtp::{SrtpContext, SrtpProfile};
use std::io::Write;
use std::process::{Command, Stdio};

const SCRIPT: &str = r#"
import sys
from pylibsrtp import Policy, Session
profile = getattr(Policy, sys.argv[1]); key = bytes.fromhex(sys.argv[2]); mode = sys.argv[3]
inbound = mode == "unprotect"
pol = Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND if inbound else Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
s = Session(policy=pol)
for line in sys.stdin:
    kind, data = line.split()
    b = bytes.fromhex(data)
    if kind == "rtp":
        out = s.unprotect(b) if inbound else s.protect(b)
    else:
        out = s.unprotect_rtcp(b) if inbound else s.protect_rtcp(b)
    print(out.hex())
"#;

fn have_pylibsrtp() -> bool {
    Command::new("python3")
        .args(["-c", "import pylibsrtp"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn libsrtp(profile: &str, key: &[u8], mode: &str, packets: &[(&str, Vec<u8>)]) -> Vec<Vec<u8>> {
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, profile, &hex(key), mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for (kind, p) in packets {
            writeln!(stdin, "{kind} {}", hex(p)).expect("write");
        }
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "libsrtp {mode} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(unhex)
        .collect()
}

#[test]
fn interoperates_with_libsrtp() {
    if !testkit::peer_available(
        have_pylibsrtp(),
        "python3 with pylibsrtp (pip install pylibsrtp)",
    ) {
        return;
    }
    for (profile, name) in [
        (
            SrtpProfile::AesCm128HmacSha1_80,
            "SRTP_PROFILE_AES128_CM_SHA1_80",
        ),
        (
            SrtpProfile::AesCm128HmacSha1_32,
            "SRTP_PROFILE_AES128_CM_SHA1_32",
        ),
        (SrtpProfile::AeadAes128Gcm, "SRTP_PROFILE_AEAD_AES_128_GCM"),
    ] {
        let key: Vec<u8> = (0..(16 + profile.master_salt_len()) as u8)
            .map(|i| i.wrapping_mul(37) ^ 0x5a)
            .collect();
        let (k, s) = key.split_at(16);
        // 12 RTP packets across the sequence wrap (ROC 0 → 1), then 2 RTCP.
        let mut plain: Vec<(&str, Vec<u8>)> = (0..12u16)
            .map(|i| {
                let seq = 65530u16.wrapping_add(i);
                let mut b = vec![0u8; 12 + 160];
                let pl: Vec<u8> = (0..160).map(|j| (j as u8) ^ (i as u8)).collect();
                RtpHeader::new(
                    PayloadType::PCMU,
                    seq,
                    160 * u32::from(i),
                    Ssrc(0x1234_5678),
                )
                .build(&pl, 0, &mut b)
                .expect("fits");
                ("rtp", b)
            })
            .collect();
        for n in 0..2u8 {
            let mut rr = vec![0x81, 0xc9, 0, 7, 0x12, 0x34, 0x56, 0x78];
            rr.extend((0..24).map(|j| j ^ n));
            plain.push(("rtcp", rr));
        }
        // Ours → libsrtp.
        let mut tx = SrtpContext::new(profile, k, s).expect("keys");
        tx.set_srtcp_index(Ssrc(0x1234_5678), 1); // libsrtp's first SRTCP index
        let ours: Vec<(&str, Vec<u8>)> = plain
            .iter()
            .map(|(kind, p)| {
                let mut b = p.clone();
                b.resize(p.len() + 32, 0);
                let n = if *kind == "rtp" {
                    tx.protect_rtp(&mut b, p.len())
                } else {
                    tx.protect_rtcp(&mut b, p.len())
                }
                .expect("protect");
                b.truncate(n);
                (*kind, b)
            })
            .collect();
        let theirs = libsrtp(name, &key, "protect", &plain);
        assert_eq!(theirs.len(), plain.len());
        for (i, ((_, o), t)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(hex(o), hex(t), "{name}: packet {i} differs from libsrtp");
        }
        let back = libsrtp(name, &key, "unprotect", &ours);
        assert_eq!(back.len(), plain.len());
        for (i, ((_, p), b)) in plain.iter().zip(&back).enumerate() {
            assert_eq!(p, b, "{name}: libsrtp unprotect of packet {i}");
        }
        // libsrtp → ours.
        let mut rx = SrtpContext::new(profile, k, s).expect("keys");
        for (i, ((kind, p), t)) in plain.iter().zip(&theirs).enumerate() {
            let mut b = t.clone();
            let n = if *kind == "rtp" {
                rx.unprotect_rtp(&mut b)
            } else {
                rx.unprotect_rtcp(&mut b)
            }
            .unwrap_or_else(|e| panic!("{name}: unprotect {i}: {e}"));
            assert_eq!(&b[..n], &p[..], "{name}: packet {i}");
        }
        assert_eq!(rx.roc(Ssrc(0x1234_5678)), Some(1));
    }
}
