//! DTMF between a phone with RFC 4733 telephone-event and one without (issue 10): the relay
//! converts each way. SIPp places the calls; what the callee receives lands on a socket of
//! the test and is judged by independent tools: multimon-ng hears in-band digits, tshark
//! decodes RFC 4733 events. The in-band input is synthesised and A-law coded by SoX.

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, temp_dir};
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
use testkit::sipp::{self, Background, scenario};

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"p201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"p202\"\n";

/// The RTP packets the callee's address received during one call from 201 to 202: the
/// caller runs `caller_sf` playing `pcap`, the callee answers with `formats`.
fn call(tag: &str, ports: &str, caller_sf: &str, pcap: &Path, formats: &str) -> Vec<Vec<u8>> {
    let dir = temp_dir(tag);
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"{ports}\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (a, b) = (sipp::free_udp_port(), sipp::free_udp_port());
    sipp_registered(&dir, &target, "201", "p201", a);
    sipp_registered(&dir, &target, "202", "p202", b);
    let sink = UdpSocket::bind("127.0.0.1:0").expect("sink");
    sink.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let sink_port = sink.local_addr().expect("addr").port().to_string();
    let sf = scenario("callee_media_sink.xml");
    let args = [
        "-sf", &sf, "-key", "sink", &sink_port, "-key", "formats", formats, "-m", "1",
    ];
    let callee = Background::start(&dir, "", b, &args);
    let reader = std::thread::spawn(move || {
        let (mut got, mut buf) = (Vec::new(), [0u8; 2048]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut quiet = 0;
        while Instant::now() < deadline && quiet < 10 {
            match sink.recv(&mut buf) {
                Ok(n) => {
                    got.push(buf[..n].to_vec());
                    quiet = 0;
                }
                Err(_) if !got.is_empty() => quiet += 1,
                Err(_) => {}
            }
        }
        got
    });
    std::thread::sleep(Duration::from_millis(300));
    let sf = scenario(caller_sf);
    let pcap = pcap.display().to_string();
    let media_port = sipp::free_udp_port().to_string();
    let args = [
        "-sf",
        &sf,
        "-key",
        "caller",
        "201",
        "-key",
        "pcap",
        &pcap,
        "-s",
        "202",
        "-m",
        "1",
        "-mp",
        &media_port,
    ];
    let run = sipp::run(&dir, &target, a, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    assert_eq!(callee.wait().stat("SuccessfulCall(C)"), 1);
    let got = reader.join().expect("reader");
    let _ = std::fs::remove_dir_all(&dir);
    got
}

fn payload_type(p: &[u8]) -> Option<u8> {
    RtpPacket::parse(p).ok().map(|p| p.payload_type().value())
}

#[test]
fn rfc4733_events_reach_a_phone_without_them_as_in_band_tones() {
    if !testkit::peer("sipp") || !testkit::peer("multimon-ng") || !testkit::peer("sox") {
        return;
    }
    let pcap = Path::new("/usr/share/sip-tester/dtmf_2833_5.pcap");
    if !testkit::peer_available(pcap.exists(), "SIPp's dtmf_2833_5.pcap") {
        return;
    }
    let got = call(
        "dtmf-to-tone",
        "32800-32819",
        "call_pcma_events.xml",
        pcap,
        "8",
    );
    assert!(
        got.iter().all(|p| payload_type(p) == Some(8)),
        "PCMA only, no events, reach the callee"
    );
    let mut packets: Vec<RtpPacket<'_>> = got
        .iter()
        .filter_map(|p| RtpPacket::parse(p).ok())
        .collect();
    packets.sort_by_key(|p| p.sequence());
    for w in packets.windows(2) {
        assert_eq!(w[1].sequence(), w[0].sequence().wrapping_add(1), "no gap");
    }
    let pcm: Vec<i16> = packets
        .iter()
        .flat_map(|p| p.payload().iter().map(|&b| codecs::g711::alaw_decode(b)))
        .chain(std::iter::repeat_n(0, 800))
        .collect();
    assert_eq!(
        testkit::multimon_dtmf(&pcm, 8000),
        "5",
        "{} packets",
        got.len()
    );
}

/// 300 ms of silence, 150 ms of digit 7 (852 + 1209 Hz), 300 ms of silence, coded A-law by
/// SoX and packetised as 20 ms RTP packets in a pcap for SIPp to play.
fn inband_pcap(path: &Path) {
    let out = Command::new("sox")
        .args([
            "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-b", "8", "-t", "al", "-",
        ])
        .args(["synth", "0.15", "sine", "852", "sine", "1209"])
        .args(["remix", "1,2", "vol", "0.3", "pad", "0.3", "0.3"])
        .output()
        .expect("sox");
    assert!(out.status.success(), "sox: {out:?}");
    let pt = PayloadType::new(8).expect("pt");
    let packets: Vec<Vec<u8>> = out
        .stdout
        .chunks(160)
        .enumerate()
        .map(|(i, frame)| {
            let mut b = vec![0u8; 12 + frame.len()];
            let h = RtpHeader::new(pt, 1 + i as u16, 160 * i as u32, Ssrc(0x7777));
            let n = h.build(frame, 0, &mut b).expect("fits");
            b.truncate(n);
            b
        })
        .collect();
    let records: Vec<(Duration, u16, u16, &[u8])> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                Duration::from_millis(20 * i as u64),
                6000,
                6002,
                p.as_slice(),
            )
        })
        .collect();
    std::fs::write(path, testkit::pcap::write_udp_pcap(&records)).expect("pcap");
}

#[test]
fn in_band_digits_reach_a_phone_with_telephone_event_as_rfc4733_events() {
    if !testkit::peer("sipp") || !testkit::peer("sox") || !testkit::peer("tshark") {
        return;
    }
    let pcap = temp_dir("dtmf-inband-src").join("seven.pcap");
    inband_pcap(&pcap);
    let got = call(
        "dtmf-to-event",
        "32820-32839",
        "call_pcma_media.xml",
        &pcap,
        "8 101",
    );
    let events: Vec<&Vec<u8>> = got
        .iter()
        .filter(|p| payload_type(p) == Some(101))
        .collect();
    assert!(!events.is_empty(), "{} packets, no event", got.len());
    // tshark, with telephone-event on 101, decodes the callee's stream.
    let dir = temp_dir("dtmf-inband-capture");
    let file = dir.join("callee.pcap");
    let records: Vec<(Duration, u16, u16, &[u8])> = got
        .iter()
        .enumerate()
        .map(|(i, p)| (Duration::from_millis(i as u64), 7000, 7002, p.as_slice()))
        .collect();
    std::fs::write(&file, testkit::pcap::write_udp_pcap(&records)).expect("pcap");
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-d",
            "udp.port==7002,rtp",
            "-o",
            "rtpevent.event_payload_type_value:101",
        ])
        .args(["-Y", "rtpevent", "-T", "fields", "-e", "rtpevent.event_id"])
        .args(["-e", "rtpevent.end_of_event", "-e", "_ws.expert"])
        .output()
        .expect("tshark");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), events.len(), "{text}");
    assert!(rows.iter().all(|r| r[0] == "7"), "digit 7 only: {text}");
    assert!(
        rows.iter().any(|r| r[1] == "1" || r[1] == "True"),
        "an end: {text}"
    );
    assert!(
        rows.iter().all(|r| r.get(2).is_none_or(|e| e.is_empty())),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(pcap.parent().expect("dir"));
}
