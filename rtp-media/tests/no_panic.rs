//! Network input never panics: seeded random and mutated inputs through every
//! parser and every per-packet path (a cheap stand-in for the cargo-fuzz targets).

use pbxkit_rtp_media::dtmf::{DtmfReceiver, TelephoneEvent};
use pbxkit_rtp_media::jitter::{JitterBuffer, JitterConfig};
use pbxkit_rtp_media::relay::{Leg, RelayConfig, RtpRelay};
use pbxkit_rtp_media::rtcp::parse_compound;
use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
use pbxkit_rtp_media::sdes::CryptoAttribute;
use pbxkit_rtp_media::sdp::SessionDescription;
use pbxkit_rtp_media::srtp::{SrtpContext, SrtpProfile};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

#[allow(clippy::disallowed_methods)] // virtual-clock origin
fn origin() -> Instant {
    Instant::now()
}

fn seeds() -> Vec<Vec<u8>> {
    let mut rtp = vec![0u8; 200];
    let n = RtpHeader::new(PayloadType::PCMA, 1, 2, Ssrc(3))
        .build(&[0x55; 160], 3, &mut rtp)
        .expect("fits");
    rtp.truncate(n);
    let rtcp = vec![
        0x81, 0xc8, 0, 12, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        9, 9, 9, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0x81, 0xca, 0, 2,
        1, 2, 3, 4, 1, 2, b'a', b'b', 0, 0,
    ];
    vec![rtp, rtcp, vec![5, 0x8a, 0, 160]]
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let t0 = origin();
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut dtmf = DtmfReceiver::default();
    let mut relay = RtpRelay::new(RelayConfig::default());
    relay.set_remote(Leg::B, "127.0.0.1:9".parse().expect("addr"));
    let mut srtp: Vec<SrtpContext> = [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
    ]
    .into_iter()
    .map(|p| SrtpContext::new(p, &[1; 16], &vec![2; p.master_salt_len()]).expect("keys"))
    .collect();
    let seeds = seeds();
    for i in 0..60_000u32 {
        let mut buf: Vec<u8> = if i % 2 == 0 {
            let len = rng.random_range(0..300);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let mut b = seeds[(i as usize / 2) % seeds.len()].clone();
            for _ in 0..rng.random_range(1..6) {
                if b.is_empty() {
                    break;
                }
                let at = rng.random_range(0..b.len());
                match rng.random_range(0..3) {
                    0 => b[at] = rng.random(),
                    1 => b.truncate(at),
                    _ => b.insert(at, rng.random()),
                }
            }
            b
        };
        let now = t0 + Duration::from_millis(u64::from(i));
        if let Ok(p) = RtpPacket::parse(&buf) {
            let _ = (p.csrcs().count(), p.extension(), p.payload(), p.header());
            jb.insert(
                now,
                p.ssrc(),
                p.sequence(),
                p.timestamp(),
                p.payload_type(),
                p.payload(),
            );
            let _ = dtmf.handle_packet(now, p.sequence(), p.timestamp(), p.payload());
        }
        let _ = jb.pop(now);
        dtmf.handle_timeout(now);
        if let Ok(c) = parse_compound(&buf) {
            for p in c {
                let _ = p;
            }
        }
        let _ = TelephoneEvent::parse(&buf);
        let _ = relay.handle_datagram(now, Leg::A, "127.0.0.1:7".parse().expect("addr"), &mut buf);
        for ctx in &mut srtp {
            let mut b = buf.clone();
            let _ = ctx.unprotect_rtp(&mut b);
            let mut b = buf.clone();
            let _ = ctx.unprotect_rtcp(&mut b);
        }
        let text = String::from_utf8_lossy(&buf);
        let _ = SessionDescription::parse(&format!("v=0\r\n{text}"));
        let _ = CryptoAttribute::parse(&text);
    }
}
