//! What we build, tshark decodes as intended: RTP with CSRCs, a header
//! extension and padding; compound RTCP (SR with a report block, SDES CNAME,
//! BYE with reason, APP); an RFC 4733 event train. tshark is the oracle for
//! the wire format of our builders.

mod common;

use common::{have_tshark, temp_path, tshark};
use pbxkit_rtp_media::dtmf::{DtmfDigit, DtmfSender};
use pbxkit_rtp_media::rtcp::{ReportBlock, RtcpWriter, SenderInfo};
use pbxkit_rtp_media::rtp::{Extension, PayloadType, RtpHeader, Ssrc};
use std::time::Duration;
use testkit::pcap::write_udp_pcap;

fn fields(pcap: &[u8], name: &str, decode: &[&str], fields: &[&str]) -> Vec<Vec<String>> {
    let path = temp_path(name);
    std::fs::write(&path, pcap).expect("write pcap");
    let mut args: Vec<String> = vec!["-r".into(), path.to_string_lossy().into_owned()];
    for d in decode {
        args.push("-d".into());
        args.push((*d).into());
    }
    args.extend(["-o".into(), "rtpevent.event_payload_type_value:101".into()]);
    args.extend([
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "separator=|".into(),
    ]);
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tshark(&arg_refs);
    let _ = std::fs::remove_file(&path);
    // tshark versions print booleans as 1/0 or True/False: normalise to 1/0.
    out.lines()
        .map(|l| {
            l.split('|')
                .map(|f| match f {
                    "True" => "1".to_owned(),
                    "False" => "0".to_owned(),
                    other => other.to_owned(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn tshark_decodes_our_rtp() {
    if !have_tshark("tshark_decodes_our_rtp") {
        return;
    }
    let csrcs = [0u8, 0, 0, 0x11, 0, 0, 0, 0x22];
    let ext_data = [0x10, 0xaa, 0, 0];
    let mut h = RtpHeader::new(PayloadType::PCMU, 4321, 0x0102_0304, Ssrc(0xdead_beef));
    h.marker = true;
    h.csrc_bytes = &csrcs;
    h.extension = Some(Extension {
        profile: 0xbede,
        data: &ext_data,
    });
    let mut buf = [0u8; 256];
    let n = h.build(&[0xff; 160], 4, &mut buf).expect("fits");
    let pcap = write_udp_pcap(&[(Duration::ZERO, 40000, 40002, &buf[..n])]);
    let rows = fields(
        &pcap,
        "rtp.pcap",
        &["udp.port==40002,rtp"],
        &[
            "rtp.version",
            "rtp.padding",
            "rtp.ext",
            "rtp.cc",
            "rtp.marker",
            "rtp.p_type",
            "rtp.seq",
            "rtp.timestamp",
            "rtp.ssrc",
            "rtp.csrc.item",
            "rtp.ext.profile",
            "rtp.padding.count",
        ],
    );
    assert_eq!(
        rows[0],
        [
            "2",
            "1",
            "1",
            "2",
            "1",
            "0",
            "4321",
            "16909060",
            "0xdeadbeef",
            "0x00000011,0x00000022",
            "0xbede",
            "4"
        ]
    );
}

#[test]
fn tshark_decodes_our_compound_rtcp() {
    if !have_tshark("tshark_decodes_our_compound_rtcp") {
        return;
    }
    let block = ReportBlock {
        ssrc: Ssrc(0x0102_0304),
        fraction_lost: 25,
        cumulative_lost: 1234,
        highest_sequence: 0x0001_0203,
        jitter: 77,
        last_sr: 0xb705_2000,
        delay_since_last_sr: 0x0005_4000,
    };
    let info = SenderInfo {
        ntp: 0xe76e_2b00_8000_0000,
        rtp_timestamp: 160_000,
        packet_count: 1000,
        octet_count: 160_000,
    };
    let mut buf = [0u8; 512];
    let mut w = RtcpWriter::new(&mut buf);
    w.sender_report(Ssrc(0xcafe_babe), &info, &[block])
        .and_then(|w| w.sdes_cname(Ssrc(0xcafe_babe), b"pbx@example.net"))
        .and_then(|w| w.app(5, Ssrc(0xcafe_babe), *b"PBXK", &[1, 2, 3, 4]))
        .and_then(|w| w.bye(&[Ssrc(0xcafe_babe)], Some(b"hangup")))
        .expect("fits");
    let n = w.finish();
    let pcap = write_udp_pcap(&[(Duration::ZERO, 40001, 40003, &buf[..n])]);
    let rows = fields(
        &pcap,
        "rtcp.pcap",
        &["udp.port==40003,rtcp"],
        &[
            "rtcp.pt",
            "rtcp.senderssrc",
            "rtcp.timestamp.rtp",
            "rtcp.sender.packetcount",
            "rtcp.sender.octetcount",
            "rtcp.ssrc.identifier",
            "rtcp.ssrc.fraction",
            "rtcp.ssrc.cum_nr",
            "rtcp.ssrc.ext_high",
            "rtcp.ssrc.jitter",
            "rtcp.ssrc.lsr",
            "rtcp.ssrc.dlsr",
            "rtcp.sdes.text",
            "rtcp.app.name",
            "_ws.malformed",
        ],
    );
    let r = &rows[0];
    assert_eq!(r[0], "200,202,204,203");
    assert!(r[1].starts_with("0xcafebabe"), "{r:?}");
    assert_eq!(&r[2..5], ["160000", "1000", "160000"]);
    // The report block's SSRC, then the SDES, APP and BYE sources.
    assert!(r[5].starts_with("0x01020304,"), "{r:?}");
    assert_eq!(
        &r[6..12],
        ["25", "1234", "66051", "77", "3070566400", "344064"]
    );
    // tshark lists the SDES CNAME and the BYE reason under the same text field.
    assert_eq!(r[12], "pbx@example.net,hangup");
    assert_eq!(r[13], "PBXK");
    assert_eq!(r[14], "", "tshark flags the packet as malformed");
}

#[test]
fn tshark_decodes_our_dtmf_train() {
    if !have_tshark("tshark_decodes_our_dtmf_train") {
        return;
    }
    let digit = DtmfDigit::from_char('#').expect("digit");
    let mut bufs = Vec::new();
    for p in DtmfSender::default().packets(digit, 1280, 8000, 77) {
        let mut h = RtpHeader::new(
            PayloadType::new(101).expect("pt"),
            p.sequence,
            p.timestamp,
            Ssrc(5),
        );
        h.marker = p.marker;
        let mut b = vec![0u8; 16];
        h.build(&p.payload, 0, &mut b).expect("fits");
        bufs.push((p.offset, b));
    }
    let dgrams: Vec<(Duration, u16, u16, &[u8])> = bufs
        .iter()
        .map(|(t, b)| (*t, 40000, 40002, &b[..]))
        .collect();
    let rows = fields(
        &write_udp_pcap(&dgrams),
        "dtmf.pcap",
        &["udp.port==40002,rtp"],
        &[
            "rtp.marker",
            "rtp.seq",
            "rtpevent.event_id",
            "rtpevent.end_of_event",
            "rtpevent.duration",
        ],
    );
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[0], ["1", "77", "11", "0", "0"]);
    assert_eq!(rows[7], ["0", "84", "11", "0", "1120"]);
    for (r, seq) in rows[8..].iter().zip(["85", "86", "87"]) {
        assert_eq!(r[1..], [seq, "11", "1", "1280"]);
    }
}

#[test]
fn tshark_decodes_our_xr_voip_metrics() {
    use pbxkit_rtp_media::rtcp::VoipMetrics;
    if !have_tshark("tshark_decodes_our_xr_voip_metrics") {
        return;
    }
    let m = VoipMetrics {
        ssrc: Ssrc(0x0a0b_0c0d),
        loss_rate: 5,
        discard_rate: 3,
        burst_density: 10,
        gap_density: 2,
        burst_duration: 120,
        gap_duration: 9000,
        round_trip_delay: 80,
        end_system_delay: 60,
        signal_level: -20,
        noise_level: -60,
        rerl: 127,
        gmin: 16,
        r_factor: 88,
        ext_r_factor: 127,
        mos_lq: 41,
        mos_cq: 40,
        rx_config: 0b1011_0000,
        jb_nominal: 40,
        jb_maximum: 120,
        jb_abs_max: 1000,
    };
    let mut buf = [0u8; 128];
    let mut w = RtcpWriter::new(&mut buf);
    w.receiver_report(Ssrc(1), &[])
        .and_then(|w| w.xr_voip_metrics(Ssrc(1), &m))
        .expect("fits");
    let n = w.finish();
    let pcap = write_udp_pcap(&[(Duration::ZERO, 40001, 40003, &buf[..n])]);
    let rows = fields(
        &pcap,
        "xr.pcap",
        &["udp.port==40003,rtcp"],
        &[
            "rtcp.xr.bt",
            "rtcp.xr.voipmetrics.burstdensity",
            "rtcp.xr.voipmetrics.gapdensity",
            "rtcp.xr.voipmetrics.burstduration",
            "rtcp.xr.voipmetrics.gapduration",
            "rtcp.xr.voipmetrics.rtdelay",
            "rtcp.xr.voipmetrics.esdelay",
            "rtcp.xr.voipmetrics.signallevel",
            "rtcp.xr.voipmetrics.noiselevel",
            "rtcp.xr.voipmetrics.gmin",
            "rtcp.xr.voipmetrics.rfactor",
            "rtcp.xr.voipmetrics.jbnominal",
            "rtcp.xr.voipmetrics.jbmax",
            "rtcp.xr.voipmetrics.jbabsmax",
            "_ws.malformed",
        ],
    );
    assert_eq!(
        rows[0],
        [
            "7", "10", "2", "120", "9000", "80", "60", "-20", "-60", "16", "88", "40", "120",
            "1000", ""
        ]
    );
}
