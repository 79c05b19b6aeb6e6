//! RFC 3550 A.1/A.3/A.8 statistics cross-checked against `tshark -z rtp,streams`
//! on sip-tester's golden G.711 A-law capture, as captured and after impairment.

mod common;

use common::{have_tshark, rtp_streams, sip_tester_pcap, temp_path, tshark};
use pbxkit_rtp_media::rtp::RtpPacket;
use pbxkit_rtp_media::stats::{ReceiverStats, StatsConfig};
use std::time::{Duration, Instant};
use testkit::pcap::{Pcap, UdpRecord};

const PORT: u16 = 2006;

struct Ours {
    received: u32,
    lost: i64,
    mean_jitter_ms: f64,
    max_jitter_ms: f64,
}

#[allow(clippy::disallowed_methods)] // virtual-clock origin for replaying capture timestamps
fn origin() -> Instant {
    Instant::now()
}

fn ours(records: &[UdpRecord]) -> Ours {
    let t0 = origin();
    let mut stats: Option<ReceiverStats> = None;
    for r in records.iter().filter(|r| r.dst_port == PORT) {
        let p = RtpPacket::parse(&r.payload).expect("capture holds valid RTP");
        let s = stats.get_or_insert_with(|| {
            ReceiverStats::new(p.ssrc(), 8000, p.sequence(), StatsConfig::default())
        });
        s.handle_packet(t0 + r.ts, p.sequence(), p.timestamp());
    }
    let s = stats.expect("stream present");
    Ours {
        received: s.received(),
        lost: s.cumulative_lost(),
        mean_jitter_ms: s.mean_jitter_ms(),
        max_jitter_ms: s.max_jitter_ms(),
    }
}

fn compare(file: &std::path::Path, records: &[UdpRecord]) {
    let port_arg = format!("udp.port=={PORT},rtp");
    let out = tshark(&[
        "-r",
        file.to_str().expect("utf-8 path"),
        "-d",
        &port_arg,
        "-q",
        "-z",
        "rtp,streams",
    ]);
    let streams = rtp_streams(&out);
    assert_eq!(streams.len(), 1, "tshark output:\n{out}");
    let t = &streams[0];
    let o = ours(records);
    eprintln!(
        "tshark: pkts {} lost {} mean jitter {} max jitter {}; ours: pkts {} lost {} mean {:.4} max {:.4}",
        t.packets,
        t.lost,
        t.mean_jitter_ms,
        t.max_jitter_ms,
        o.received,
        o.lost,
        o.mean_jitter_ms,
        o.max_jitter_ms
    );
    assert_eq!(u64::from(o.received), t.packets, "packet count");
    assert_eq!(o.lost, t.lost, "cumulative loss");
    // tshark prints three decimals: agree to within its rounding.
    assert!(
        (o.max_jitter_ms - t.max_jitter_ms).abs() <= 0.000_51,
        "max jitter"
    );
    assert!(
        (o.mean_jitter_ms - t.mean_jitter_ms).abs() <= 0.000_51,
        "mean jitter"
    );
}

#[test]
fn g711a_capture_matches_tshark() {
    let what = "g711a_capture_matches_tshark";
    let Some(path) = sip_tester_pcap(what, "g711a.pcap") else {
        return;
    };
    if !have_tshark(what) {
        return;
    }
    let pcap = Pcap::parse(&testkit::read(&path));
    assert_eq!(
        pcap.records.iter().filter(|r| r.dst_port == PORT).count(),
        236
    );
    compare(&path, &pcap.records);
}

#[test]
fn impaired_g711a_capture_matches_tshark() {
    let what = "impaired_g711a_capture_matches_tshark";
    let Some(path) = sip_tester_pcap(what, "g711a.pcap") else {
        return;
    };
    if !have_tshark(what) {
        return;
    }
    let pcap = Pcap::parse(&testkit::read(&path));
    // Drop a burst and singles, and delay some packets (arrival jitter up to 25 ms)
    // without reordering them in the file.
    let mut recs: Vec<UdpRecord> = Vec::new();
    for (i, r) in pcap.records.iter().enumerate() {
        if matches!(i, 10 | 40..=44 | 120 | 200) {
            continue;
        }
        let mut r = r.clone();
        let extra = match i % 7 {
            0 => 9,
            3 => 4,
            5 => 1,
            _ => 0,
        };
        r.ts += Duration::from_millis(extra);
        recs.push(r);
    }
    let file = temp_path("impaired.pcap");
    std::fs::write(&file, pcap.write(&recs)).expect("write temp pcap");
    compare(&file, &recs);
    let _ = std::fs::remove_file(&file);
}
