//! A whole receive/send pipeline driven by a virtual clock, as the PBX would
//! drive it: SDES-keyed SRTP with rtcp-mux, RFC 4733 digits among G.711 audio,
//! a lossy jittery network, the jitter buffer, DTMF receiver and RTP session
//! statistics, all sans-IO. Oracle: the network model's own ground truth.

use pbxkit_rtp_media::dtmf::{DtmfDigit, DtmfEvent, DtmfReceiver, DtmfSender};
use pbxkit_rtp_media::jitter::{JitterBuffer, JitterConfig, Playout};
use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc, is_rtcp};
use pbxkit_rtp_media::sdes::CryptoAttribute;
use pbxkit_rtp_media::session::{RtpSession, SessionConfig, SessionEvent};
use pbxkit_rtp_media::srtp::SrtpProfile;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

#[allow(clippy::disallowed_methods)] // virtual-clock origin
fn origin() -> Instant {
    Instant::now()
}

#[test]
fn srtp_rtcp_mux_dtmf_and_audio_through_a_lossy_network() {
    let t0 = origin();
    let mut rng = StdRng::seed_from_u64(99);
    // SDES: the sender's a=crypto line, as the receiver parses it from SDP.
    let key_salt: Vec<u8> = (0..30).map(|_| rng.random()).collect();
    let line = CryptoAttribute::new(1, SrtpProfile::AesCm128HmacSha1_80, &key_salt)
        .expect("valid")
        .to_string();
    let mut tx_srtp = CryptoAttribute::parse(&line)
        .expect("parse")
        .context()
        .expect("keys");
    let mut rx_srtp = CryptoAttribute::parse(&line)
        .expect("parse")
        .context()
        .expect("keys");

    let ssrc = Ssrc(0x5151_0000);
    let mut tx_session = RtpSession::new(
        t0,
        SessionConfig {
            ssrc,
            cname: "tx@pbx".into(),
            ..SessionConfig::default()
        },
    );
    let mut rx_session = RtpSession::new(
        t0,
        SessionConfig {
            ssrc: Ssrc(0x7777),
            cname: "rx@pbx".into(),
            ..SessionConfig::default()
        },
    );
    let te = PayloadType::new(101).expect("pt");
    let mut jb = JitterBuffer::new(JitterConfig {
        telephone_event: Some(te),
        ..JitterConfig::default()
    });
    let mut dtmf_rx = DtmfReceiver::default();
    let digits = "159#";

    // Build the send schedule: 10 s of 20 ms audio, a digit every 2 s replacing audio for 100 ms.
    let mut seq: u16 = 40_000;
    let mut sends: Vec<(Duration, Vec<u8>)> = Vec::new();
    let mut buf = [0u8; 256];
    let mut tick = 0u32;
    let mut digit_iter = digits.chars();
    while tick < 500 {
        let at = Duration::from_millis(20 * u64::from(tick));
        if tick % 100 == 50
            && let Some(c) = digit_iter.next()
        {
            let d = DtmfDigit::from_char(c).expect("digit");
            for p in DtmfSender::default().packets(d, 800, tick * 160, seq) {
                let mut h = RtpHeader::new(te, p.sequence, p.timestamp, ssrc);
                h.marker = p.marker;
                let n = h.build(&p.payload, 0, &mut buf).expect("fits");
                sends.push((at + p.offset, buf[..n].to_vec()));
            }
            seq = seq.wrapping_add(8); // start + 4 updates + end ×3 (SRTP: distinct seqs)
            tick += 5;
            continue;
        }
        let n = RtpHeader::new(PayloadType::PCMA, seq, tick * 160, ssrc)
            .build(&[0xd5; 160], 0, &mut buf)
            .expect("fits");
        sends.push((at, buf[..n].to_vec()));
        seq = seq.wrapping_add(1);
        tick += 1;
    }
    // Protect and push through the network: 2 % loss (never the end packets), 0–30 ms jitter.
    let mut wire: Vec<(Duration, Vec<u8>)> = Vec::new();
    let mut lost_audio = 0u32;
    for (at, plain) in &sends {
        let p = RtpPacket::parse(plain).expect("rtp");
        tx_session.on_sent(t0 + *at, p.timestamp(), p.payload().len());
        let mut b = plain.clone();
        b.resize(plain.len() + 10, 0);
        let n = tx_srtp.protect_rtp(&mut b, plain.len()).expect("protect");
        b.truncate(n);
        let is_event = p.payload_type() == te;
        if !is_event && rng.random::<f64>() < 0.02 {
            lost_audio += 1;
            continue;
        }
        let delay = Duration::from_millis(20 + rng.random_range(0..30));
        wire.push((*at + delay, b));
    }
    // RTCP over the same port (rtcp-mux), protected as SRTCP.
    for s in 1..=4u64 {
        let now = t0 + Duration::from_secs(2 * s);
        tx_session.handle_timeout(now + Duration::from_secs(10), 0);
        while let Some(rtcp) = tx_session.poll_transmit() {
            let mut b = rtcp.clone();
            b.resize(rtcp.len() + 14, 0);
            let n = tx_srtp.protect_rtcp(&mut b, rtcp.len()).expect("srtcp");
            b.truncate(n);
            wire.push((Duration::from_secs(2 * s), b));
        }
    }
    wire.sort_by_key(|(at, _)| *at);

    // Receive loop: datagrams as they arrive, one playout pop per 20 ms.
    let mut next = 0;
    let mut played = 0u32;
    let mut concealed = 0u32;
    let mut got_rtcp = 0;
    for frame in 0..560u64 {
        let now_d = Duration::from_millis(20 * frame);
        while next < wire.len() && wire[next].0 <= now_d {
            let now = t0 + wire[next].0;
            let mut b = wire[next].1.clone();
            next += 1;
            if is_rtcp(&b) {
                let n = rx_srtp.unprotect_rtcp(&mut b).expect("srtcp auth");
                rx_session.handle_rtcp(now, 0, &b[..n]).expect("rtcp");
                got_rtcp += 1;
                continue;
            }
            let n = rx_srtp.unprotect_rtp(&mut b).expect("srtp auth");
            let p = RtpPacket::parse(&b[..n]).expect("rtp");
            rx_session.handle_rtp(now, &p);
            if p.payload_type() == te {
                dtmf_rx
                    .handle_packet(now, p.sequence(), p.timestamp(), p.payload())
                    .expect("event");
            }
            // Events too: they hold their sequence numbers in the buffer.
            jb.insert(
                now,
                p.ssrc(),
                p.sequence(),
                p.timestamp(),
                p.payload_type(),
                p.payload(),
            );
        }
        match jb.pop(t0 + now_d) {
            Playout::Audio(_) | Playout::Accelerate(_) => played += 1,
            Playout::Conceal { .. } => concealed += 1,
            _ => {}
        }
    }
    let got: String = std::iter::from_fn(|| dtmf_rx.poll_event())
        .filter_map(|e| match e {
            DtmfEvent::Ended {
                digit, duration, ..
            } => {
                assert_eq!(duration, 800);
                Some(digit.as_char())
            }
            _ => None,
        })
        .collect();
    assert_eq!(got, digits);
    assert!(got_rtcp >= 1);
    let audio_sent = sends.len() as u32 - 8 * digits.len() as u32;
    let stats = jb.stats();
    eprintln!(
        "audio sent {audio_sent}, lost {lost_audio}, played {played}, concealed {concealed}, late {}, accelerated {}, preemptive {}, target {:?}",
        stats.late_discards, stats.accelerate_frames, stats.preemptive_frames, stats.target_delay
    );
    // Every audio packet that arrived in time was played once; losses were concealed.
    let late = u32::try_from(stats.late_discards).expect("small");
    assert!(played <= audio_sent - lost_audio);
    assert!(played + lost_audio + late >= audio_sent);
    assert!(stats.late_rate() <= 0.05);
    // The session saw exactly the model's loss (event packets are never lost).
    let st = rx_session.source(ssrc).expect("source");
    assert_eq!(st.cumulative_lost(), i64::from(lost_audio));
    assert!(
        std::iter::from_fn(|| rx_session.poll_event()).any(|e| e == SessionEvent::NewSource(ssrc))
    );
}
