//! Interop with a real softphone (baresip, Debian package): it dials us with
//! an SDES-SRTP offer; we parse its SDP, answer with `sdp::answer`, then
//! exchange SRTP media both ways. Its 1 kHz tone must come out of our SRTP
//! unprotect + RTP parse, and our 425 Hz tone (tones::ToneGenerator, sent
//! as SRTP) must come out of baresip's decoder, dumped by its `sndfile`
//! module to a WAV we read with `player::Clip`; baresip reports our RFC 4733
//! '7' (sent inside SRTP) exactly once. Skips (with `SKIP`) when baresip or
//! sox is missing.
#![allow(clippy::disallowed_methods)] // a real-time test against a real peer

mod common;

use pbxkit_rtp_media::dtmf::{DtmfDigit, DtmfPacket, DtmfSender};
use pbxkit_rtp_media::player::Clip;
use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
use pbxkit_rtp_media::sdp::{
    CodecSpec, Direction, LocalEndpoint, MediaPolicy, SessionDescription, SrtpPolicy, answer,
};
use pbxkit_rtp_media::srtp::SrtpProfile;
use pbxkit_rtp_media::tones::{ToneGenerator, ToneSpec};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// G.711 μ-law encoder (ITU-T G.711 §2, bias 0x84), for the test only.
fn ulaw(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 { 0x80 } else { 0 };
    if s < 0 {
        s = -s;
    }
    s = s.min(32635) + 0x84;
    let exp = (31 - (s as u32).leading_zeros()).saturating_sub(7).min(7);
    let mant = (s >> (exp + 3)) & 0x0f;
    !(sign | ((exp as i32) << 4) as u8 | mant as u8)
}

/// G.711 μ-law decoder.
fn unulaw(b: u8) -> i16 {
    let b = !b;
    let exp = i32::from((b >> 4) & 7);
    let mant = i32::from(b & 0x0f);
    let mag = (((mant << 3) + 0x84) << exp) - 0x84;
    (if b & 0x80 != 0 { -mag } else { mag }) as i16
}

fn zero_crossing_hz(v: &[i16], rate: f64) -> f64 {
    let zc = v.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    zc as f64 / 2.0 / (v.len() as f64 / rate)
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("ephemeral port")
}

fn header<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    msg.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
        .collect()
}

#[test]
fn baresip_srtp_call_both_ways() {
    for tool in ["baresip", "sox"] {
        if !testkit::peer(tool) {
            return;
        }
    }
    let dir = common::temp_path("baresip");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let tone = dir.join("tone.wav");
    let st = Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
        .arg(&tone)
        .args(["synth", "8", "sine", "1000", "vol", "0.5"])
        .status()
        .expect("sox");
    assert!(st.success());
    let sip = UdpSocket::bind("127.0.0.1:0").expect("sip socket");
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp socket");
    let sip_port = sip.local_addr().expect("addr").port();
    let rtp_port = rtp.local_addr().expect("addr").port();
    let their_sip = free_port();
    std::fs::write(
        dir.join("config"),
        format!(
            "sip_listen 127.0.0.1:{their_sip}\naudio_source aufile,{}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule sndfile.so\nsnd_path {}\nmodule srtp.so\n\
             module account.so\nmodule menu.so\nmodule uuid.so\n",
            tone.display(),
            dir.display()
        ),
    )
    .expect("config");
    std::fs::write(
        dir.join("accounts"),
        "<sip:test@127.0.0.1>;regint=0;mediaenc=srtp-mand;answermode=auto\n",
    )
    .expect("accounts");
    let mut child = Command::new("baresip")
        .arg("-f")
        .arg(&dir)
        .args(["-n", "127.0.0.1", "-t", "5", "-e"])
        .arg(format!("/dial sip:pbx@127.0.0.1:{sip_port}"))
        .stdout(std::fs::File::create(dir.join("baresip.log")).map_or(Stdio::null(), Stdio::from))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn baresip");

    let outcome = std::panic::catch_unwind(|| {
        sip.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 65535];
        let (n, from) = sip.recv_from(&mut buf).expect("INVITE from baresip");
        let invite = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(invite.starts_with("INVITE "), "{invite}");
        let body = invite.split_once("\r\n\r\n").map(|(_, b)| b).expect("body");
        let offer = SessionDescription::parse(body).expect("baresip SDP parses");
        let policy = MediaPolicy {
            codecs: vec![CodecSpec::static_pt(0).expect("PCMU")],
            srtp: SrtpPolicy::Required,
            srtp_profiles: vec![SrtpProfile::AesCm128HmacSha1_80],
            ..MediaPolicy::default()
        };
        let local = LocalEndpoint {
            address: "127.0.0.1".into(),
            address_type: "IP4".into(),
            port: rtp_port,
            direction: Direction::SendRecv,
            session_id: 7,
            session_version: 1,
        };
        let mut keys = |p: SrtpProfile| {
            (0..(16 + p.master_salt_len()) as u8)
                .map(|i| i ^ 0xa5)
                .collect()
        };
        let (ans, neg) = answer(&offer, &policy, &local, &mut keys).expect("we can answer baresip");
        assert_eq!(neg.codec.encoding, "PCMU");
        assert_eq!(neg.telephone_event, Some(101));
        let (theirs, ours) = neg.srtp.clone().expect("SDES");
        let sdp = ans.to_string();
        let mut ok = String::from("SIP/2.0 200 OK\r\n");
        for h in ["Via", "From", "Call-ID", "CSeq"] {
            for line in header(&invite, h) {
                ok.push_str(line);
                ok.push_str("\r\n");
            }
        }
        for line in header(&invite, "To") {
            ok.push_str(&format!("{line};tag=pbxkit\r\n"));
        }
        ok.push_str(&format!(
            "Contact: <sip:pbx@127.0.0.1:{sip_port}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ));
        sip.send_to(ok.as_bytes(), from).expect("send 200");

        // Media for ~3 s: send our 425 Hz tone, receive theirs.
        let to: SocketAddr = format!("{}:{}", neg.remote_address, neg.remote_port)
            .parse()
            .expect("addr");
        let mut tx = ours.context().expect("our key");
        let mut rx = theirs.context().expect("their key");
        let mut tone_gen = ToneGenerator::new(ToneSpec::dial(), 8000);
        let te = PayloadType::new(neg.telephone_event.expect("te")).expect("pt");
        let dtmf_train: Vec<DtmfPacket> = DtmfSender::default()
            .packets(DtmfDigit::from_char('7').expect("digit"), 800, 75 * 160, 0)
            .collect();
        rtp.set_read_timeout(Some(Duration::from_millis(5)))
            .expect("timeout");
        let start = Instant::now();
        let mut next_send = start;
        let mut seq = 1000u16;
        let mut received: Vec<i16> = Vec::new();
        let mut pcm = [0i16; 160];
        while start.elapsed() < Duration::from_secs(3) {
            if Instant::now() >= next_send {
                let mut b = [0u8; 200];
                let frame = u32::from(seq.wrapping_sub(1000));
                let n = if (75..85).contains(&frame) {
                    // At 1.5 s an RFC 4733 '7' (8 packets: start, 4 updates, end ×3)
                    // instead of audio, all with the event's start timestamp.
                    let k = frame - 75;
                    let p = dtmf_train[k.min(7) as usize];
                    if k >= 8 {
                        // Two frames of silence after the event.
                        let n =
                            RtpHeader::new(PayloadType::PCMU, seq, frame * 160, Ssrc(0x00c0_ffee))
                                .build(&[0xff; 160], 0, &mut b)
                                .expect("fits");
                        tx.protect_rtp(&mut b, n).expect("protect")
                    } else {
                        let mut h = RtpHeader::new(te, seq, 75 * 160, Ssrc(0x00c0_ffee));
                        h.marker = p.marker;
                        let n = h.build(&p.payload, 0, &mut b).expect("fits");
                        tx.protect_rtp(&mut b, n).expect("protect")
                    }
                } else {
                    tone_gen.fill(&mut pcm);
                    let payload: Vec<u8> = pcm.iter().map(|&s| ulaw(s)).collect();
                    let n = RtpHeader::new(PayloadType::PCMU, seq, frame * 160, Ssrc(0x00c0_ffee))
                        .build(&payload, 0, &mut b)
                        .expect("fits");
                    tx.protect_rtp(&mut b, n).expect("protect")
                };
                rtp.send_to(&b[..n], to).expect("send rtp");
                seq = seq.wrapping_add(1);
                next_send += Duration::from_millis(20);
            }
            if let Ok((n, _)) = rtp.recv_from(&mut buf) {
                let mut pkt = buf[..n].to_vec();
                if let Ok(len) = rx.unprotect_rtp(&mut pkt)
                    && let Ok(p) = RtpPacket::parse(&pkt[..len])
                    && p.payload_type() == PayloadType::PCMU
                {
                    received.extend(p.payload().iter().map(|&b| unulaw(b)));
                }
            }
            // Answer INVITE retransmissions; ignore the ACK.
            sip.set_nonblocking(true).expect("nonblocking");
            if let Ok((n, f)) = sip.recv_from(&mut buf)
                && buf[..n].starts_with(b"INVITE ")
            {
                let _ = sip.send_to(ok.as_bytes(), f);
            }
            sip.set_nonblocking(false).expect("blocking");
        }
        assert!(
            received.len() >= 8000,
            "received {} samples of SRTP audio",
            received.len()
        );
        let hz = zero_crossing_hz(&received[800..], 8000.0);
        assert!((hz - 1000.0).abs() < 20.0, "their tone decoded at {hz} Hz");
    });
    // baresip quits by itself (-t); make sure it is gone before reading its recording.
    // It sends BYE when it quits: answer it so it does not retransmit.
    let deadline = Instant::now() + Duration::from_secs(10);
    let _ = sip.set_nonblocking(false);
    let _ = sip.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 65535];
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if let Ok((n, from)) = sip.recv_from(&mut buf) {
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            if req.starts_with("BYE ") {
                let mut ok = String::from("SIP/2.0 200 OK\r\n");
                for h in ["Via", "From", "To", "Call-ID", "CSeq"] {
                    for line in header(&req, h) {
                        ok.push_str(line);
                        ok.push_str("\r\n");
                    }
                }
                ok.push_str("Content-Length: 0\r\n\r\n");
                let _ = sip.send_to(ok.as_bytes(), from);
            }
        }
    }
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
    // baresip logs the RFC 4733 digit it received from us.
    let log = std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
    // One digit: one start and one end, despite the triple end packet.
    assert_eq!(
        log.matches("received event: '7' (end=0)").count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.matches("received event: '7' (end=1)").count(),
        1,
        "{log}"
    );
    // The sndfile module dumps what baresip decoded as `dump-<time>-dec.wav`.
    let dec = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .expect("baresip's decoded-audio dump");
    let clip = Clip::from_wav(&testkit::read(&dec)).expect("baresip's recording");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        clip.samples.len() >= 8000,
        "baresip decoded {} samples",
        clip.samples.len()
    );
    let loud: Vec<i16> = clip
        .samples
        .iter()
        .copied()
        .skip_while(|s| s.unsigned_abs() < 500)
        .collect();
    assert!(loud.len() >= 8000, "baresip heard silence");
    let hz = zero_crossing_hz(&loud[..8000], f64::from(clip.sample_rate));
    assert!(
        (hz - 425.0).abs() < 15.0,
        "baresip decoded our tone at {hz} Hz"
    );
}
