//! The media relay over real UDP sockets on loopback: symmetric RTP latching, statistics,
//! Opus → PCMU transcoding, and the media budget (MV-36: a relayed leg costs 2).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codecs::CodecKind;
use pbx::media::{CallRelay, LegSpec, LegSrtp, PortAllocator, RelayError};
use rtp_media::budget::{BudgetConfig, MediaBudget, Refusal};
use rtp_media::relay::Leg;
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
use tokio::net::UdpSocket;

const LO: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn budget(connections: u32) -> Arc<Mutex<MediaBudget>> {
    Arc::new(Mutex::new(MediaBudget::new(BudgetConfig {
        connections,
        ..BudgetConfig::default()
    })))
}

fn plain() -> [LegSrtp; 2] {
    [LegSrtp::default(), LegSrtp::default()]
}

fn spec(remote: SocketAddr, codec: CodecKind, pt: u8) -> LegSpec {
    LegSpec::new(Some(remote), codec, pt)
}

fn rtp(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 12 + payload.len()];
    let pt = PayloadType::new(pt).expect("pt");
    let n = RtpHeader::new(pt, seq, ts, Ssrc(0x1234))
        .build(payload, 0, &mut b)
        .expect("fits");
    b.truncate(n);
    b
}

async fn recv(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = [0u8; 2048];
    match tokio::time::timeout(Duration::from_secs(2), sock.recv_from(&mut buf)).await {
        Ok(Ok((n, from))) => Some((buf[..n].to_vec(), from)),
        _ => None,
    }
}

#[tokio::test]
async fn mv_36_symmetric_relay_latches_and_reports() {
    let ports = PortAllocator::new("31500-31599".parse().expect("range"));
    let b = budget(250);
    // Phone A signals one port but sends from another (a NAT binding): latching follows.
    let a_signalled: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let a = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let phone_b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let relay = CallRelay::start(
        &ports,
        &b,
        LO,
        [
            spec(a_signalled, CodecKind::Pcmu, 0),
            spec(phone_b.local_addr().expect("addr"), CodecKind::Pcmu, 0),
        ],
        plain(),
    )
    .await
    .expect("relay");
    // MV-36: one relayed connection costs 2.
    assert_eq!(b.lock().expect("lock").snapshot().connections, 2);
    let (ra, rb) = (relay.local_addr(Leg::A), relay.local_addr(Leg::B));
    for seq in 0..50u16 {
        a.send_to(&rtp(0, seq, u32::from(seq) * 160, &[0x55; 160]), ra)
            .await
            .expect("send");
        let (got, from) = recv(&phone_b).await.expect("relayed to B");
        assert_eq!(from, rb, "B hears the PBX's B-leg address");
        let p = RtpPacket::parse(&got).expect("RTP");
        assert_eq!(
            (p.payload_type().value(), p.payload()),
            (0, &[0x55u8; 160][..])
        );
    }
    // B answers; the reply goes to A's actual source address, not the signalled one.
    phone_b
        .send_to(&rtp(0, 7, 0, &[0xd5; 160]), rb)
        .await
        .expect("send");
    let (got, from) = recv(&a).await.expect("symmetric RTP back to A");
    assert_eq!(from, ra);
    assert_eq!(
        RtpPacket::parse(&got).expect("RTP").payload(),
        &[0xd5u8; 160][..]
    );

    let report = relay.stop().await.expect("report");
    let leg_a = report.legs[0].expect("A sent media");
    assert_eq!((leg_a.received, leg_a.lost), (50, 0));
    assert!(leg_a.media.mos > 4.3, "{:?}", leg_a.media);
    assert_eq!(report.relay.forwarded, 51);
    assert_eq!(
        b.lock().expect("lock").snapshot().connections,
        0,
        "budget returned"
    );
    assert_eq!(ports.free(), 50, "ports returned");
}

#[tokio::test]
async fn mv_36_budget_refuses_the_third_relayed_call() {
    let ports = PortAllocator::new("31600-31699".parse().expect("range"));
    let b = budget(5);
    let peer: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let legs = [
        spec(peer, CodecKind::Pcma, 8),
        spec(peer, CodecKind::Pcma, 8),
    ];
    let one = CallRelay::start(&ports, &b, LO, legs, plain())
        .await
        .expect("2 of 5");
    let two = CallRelay::start(&ports, &b, LO, legs, plain())
        .await
        .expect("4 of 5");
    match CallRelay::start(&ports, &b, LO, legs, plain()).await {
        Err(RelayError::Budget(Refusal::Connections {
            available: 1,
            limit: 5,
            needed: 2,
        })) => {}
        other => panic!("expected a connections refusal, got {other:?}"),
    }
    let _ = one.stop().await;
    let three = CallRelay::start(&ports, &b, LO, legs, plain())
        .await
        .expect("room again");
    drop((two, three));
}

fn sine(rate: u32, n: usize, offset: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = (offset + i) as f64 / f64::from(rate);
            (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
        })
        .collect()
}

#[tokio::test]
async fn opus_phone_to_pcmu_phone_is_transcoded() {
    let ports = PortAllocator::new("31700-31799".parse().expect("range"));
    let b = budget(250);
    let phone_a = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let phone_b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let relay = CallRelay::start(
        &ports,
        &b,
        LO,
        [
            spec(phone_a.local_addr().expect("addr"), CodecKind::Opus, 111),
            spec(phone_b.local_addr().expect("addr"), CodecKind::Pcmu, 0),
        ],
        plain(),
    )
    .await
    .expect("relay");
    let mut enc = codecs::transcoder::encoder(CodecKind::Opus).expect("opus");
    let mut dec = codecs::transcoder::decoder(CodecKind::Pcmu).expect("pcmu");
    let mut payload = [0u8; 1500];
    let mut pcm = Vec::new();
    let mut last_ts = None;
    for k in 0..50u16 {
        let frame = sine(48_000, 960, usize::from(k) * 960);
        let n = enc.encode(&frame, &mut payload).expect("encode");
        let pkt = rtp(111, k, u32::from(k) * 960, &payload[..n]);
        phone_a
            .send_to(&pkt, relay.local_addr(Leg::A))
            .await
            .expect("send");
        let (got, _) = recv(&phone_b).await.expect("transcoded packet");
        let p = RtpPacket::parse(&got).expect("RTP");
        assert_eq!(p.payload_type().value(), 0, "PCMU towards B");
        assert_eq!(p.payload().len(), 160, "20 ms of G.711");
        if let Some(prev) = last_ts {
            assert_eq!(
                p.timestamp().wrapping_sub(prev),
                160,
                "8 kHz clock towards B"
            );
        }
        last_ts = Some(p.timestamp());
        let mut out = [0i16; 160];
        let m = dec.decode(p.payload(), &mut out).expect("decode");
        pcm.extend_from_slice(&out[..m]);
    }
    // After the codec delays settle, B hears a 1 kHz tone: ~2000 zero crossings per second
    // and a clear level (checked on the last 0.5 s).
    let tail = &pcm[pcm.len() - 4000..];
    let crossings = tail.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    assert!(
        (900..=1100).contains(&crossings),
        "1 kHz over 0.5 s: {crossings} crossings"
    );
    let rms = (tail.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
    assert!(rms > 3000.0, "level kept through Opus and G.711: rms {rms}");
    // Budget: a transcoded relayed connection costs 2 and a codec channel (MV-36, MV-43).
    let snap = b.lock().expect("lock").snapshot();
    assert_eq!((snap.connections, snap.g711), (2, 1));
    let _ = relay.stop().await;
}

#[tokio::test]
async fn mv_36_callee_codec_at_answer_turns_on_transcoding_and_maps_dtmf_events() {
    // The relay starts on the caller's codec (Opus, events 97 at 48 kHz); the callee then
    // answers PCMU with events 101 at 8 kHz: the grant grows by a codec channel and RFC 4733
    // events cross with their payload type mapped and their duration rescaled.
    let ports = PortAllocator::new("31800-31899".parse().expect("range"));
    let b = budget(250);
    let phone_a = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let phone_b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let mut a = spec(phone_a.local_addr().expect("addr"), CodecKind::Opus, 96);
    a.telephone_event = Some(97);
    let a_only = LegSpec { remote: None, ..a };
    let mut relay = CallRelay::start(&ports, &b, LO, [a, a_only], plain())
        .await
        .expect("relay");
    let snap = b.lock().expect("lock").snapshot();
    assert_eq!(
        (snap.connections, snap.g711),
        (2, 0),
        "no codec channel yet"
    );
    let mut callee = spec(phone_b.local_addr().expect("addr"), CodecKind::Pcmu, 0);
    callee.telephone_event = Some(101);
    relay
        .set_leg_b(callee, LegSrtp::default())
        .expect("budget has room");
    let snap = b.lock().expect("lock").snapshot();
    assert_eq!(
        (snap.connections, snap.g711),
        (2, 1),
        "transcoding takes a channel"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;

    let mut enc = codecs::transcoder::encoder(CodecKind::Opus).expect("opus");
    let mut payload = [0u8; 1500];
    let n = enc
        .encode(&sine(48_000, 960, 0), &mut payload)
        .expect("encode");
    let to_relay = relay.local_addr(Leg::A);
    phone_a
        .send_to(&rtp(96, 1, 48_000, &payload[..n]), to_relay)
        .await
        .expect("send");
    let (got, _) = recv(&phone_b).await.expect("audio reaches B");
    let p = RtpPacket::parse(&got).expect("RTP");
    assert_eq!((p.payload_type().value(), p.payload().len()), (0, 160));
    // Digit 5, end bit, volume 10, duration 960 at 48 kHz (20 ms), 20 ms after the audio.
    phone_a
        .send_to(&rtp(97, 2, 48_960, &[5, 0x8a, 0x03, 0xc0]), to_relay)
        .await
        .expect("send");
    let (got, _) = recv(&phone_b).await.expect("event reaches B");
    let e = RtpPacket::parse(&got).expect("RTP");
    assert_eq!(e.payload_type().value(), 101, "B's telephone-event type");
    assert_eq!(e.payload(), &[5, 0x8a, 0x00, 0xa0], "160 ticks at 8 kHz");
    assert_eq!(
        e.timestamp().wrapping_sub(p.timestamp()),
        160,
        "same 20 ms on B's clock"
    );
    let _ = relay.stop().await;
    let snap = b.lock().expect("lock").snapshot();
    assert_eq!((snap.connections, snap.g711), (0, 0), "all returned");
}

/// MV-40: leg A is SRTP (the phone's key and ours), leg B plain. What A protects reaches B
/// in clear; what B sends reaches A protected with our key; a forged packet goes nowhere.
#[tokio::test]
async fn mv_40_srtp_leg_is_opened_and_sealed_with_separate_keys() {
    use rtp_media::sdes::CryptoAttribute;
    use rtp_media::srtp::SrtpProfile;
    let ports = PortAllocator::new("31900-31919".parse().expect("range"));
    let b = budget(250);
    let phone_a = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let phone_b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let suite = SrtpProfile::AesCm128HmacSha1_80;
    let a_key = CryptoAttribute::new(1, suite, &[0x11; 30]).expect("key");
    let ours = CryptoAttribute::new(1, suite, &[0x22; 30]).expect("key");
    let keys = || {
        [
            LegSrtp::sdes(&a_key, &ours).expect("contexts"),
            LegSrtp::default(),
        ]
    };
    let legs = [
        spec(phone_a.local_addr().expect("addr"), CodecKind::Pcmu, 0),
        spec(phone_b.local_addr().expect("addr"), CodecKind::Pcmu, 0),
    ];
    // Without the Secure VoIP licence the budget refuses a secure connection.
    match CallRelay::start(&ports, &b, LO, legs, keys()).await {
        Err(RelayError::Budget(Refusal::SecureVoipNotLicensed)) => {}
        other => panic!("{other:?}"),
    }
    b.lock().expect("lock").set_secure_voip_licensed(true);
    let relay = CallRelay::start(&ports, &b, LO, legs, keys())
        .await
        .expect("relay");
    assert_eq!(b.lock().expect("lock").snapshot().connections, 2);
    let (ra, rb) = (relay.local_addr(Leg::A), relay.local_addr(Leg::B));
    let (mut a_tx, mut a_rx) = (a_key.context().expect("ctx"), ours.context().expect("ctx"));
    for seq in 0..5u16 {
        let mut p = rtp(0, seq, u32::from(seq) * 160, &[0x42; 160]);
        let n = p.len();
        p.resize(n + 16, 0);
        let n = a_tx.protect_rtp(&mut p, n).expect("protect");
        phone_a.send_to(&p[..n], ra).await.expect("send");
        let (got, _) = recv(&phone_b).await.expect("B gets A's audio");
        let q = RtpPacket::parse(&got).expect("plain RTP at B");
        assert_eq!(q.payload(), &[0x42u8; 160][..], "decrypted");
    }
    // A packet that does not authenticate is dropped.
    let mut forged = rtp(0, 9, 1440, &[0x42; 160]);
    forged.extend_from_slice(&[0; 10]);
    phone_a.send_to(&forged, ra).await.expect("send");
    assert!(recv(&phone_b).await.is_none(), "forged SRTP relayed");
    // B's plain RTP reaches A sealed with our key.
    phone_b
        .send_to(&rtp(0, 1, 0, &[0x33; 160]), rb)
        .await
        .expect("send");
    let (mut got, _) = recv(&phone_a).await.expect("A gets B's audio");
    assert_ne!(&got[12..172], &[0x33u8; 160][..], "not in clear");
    let n = a_rx
        .unprotect_rtp(&mut got)
        .expect("authenticates with our key");
    assert_eq!(
        RtpPacket::parse(&got[..n]).expect("rtp").payload(),
        &[0x33u8; 160][..]
    );
    relay.stop().await;
}
