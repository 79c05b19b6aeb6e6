//! RFC 4733 receive and send verified against sip-tester's golden captures
//! `dtmf_2833_{0..9,star,pound}.pcap` (PT 101, end packet sent three times
//! with one sequence number).

mod common;

use common::sip_tester_pcap;
use pbxkit_rtp_media::dtmf::{
    DtmfDigit, DtmfEvent, DtmfReceiver, DtmfSender, DtmfSenderConfig, TelephoneEvent,
};
use pbxkit_rtp_media::inband::EventsToTones;
use pbxkit_rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket};
use std::time::{Duration, Instant};
use testkit::pcap::{Pcap, UdpRecord};

const FILES: [(&str, char); 12] = [
    ("0", '0'),
    ("1", '1'),
    ("2", '2'),
    ("3", '3'),
    ("4", '4'),
    ("5", '5'),
    ("6", '6'),
    ("7", '7'),
    ("8", '8'),
    ("9", '9'),
    ("star", '*'),
    ("pound", '#'),
];

#[allow(clippy::disallowed_methods)] // virtual-clock origin for capture timestamps
fn origin() -> Instant {
    Instant::now()
}

fn load() -> Option<Vec<(char, Vec<UdpRecord>)>> {
    let mut out = Vec::new();
    for (name, digit) in FILES {
        let path = sip_tester_pcap("dtmf_golden", &format!("dtmf_2833_{name}.pcap"))?;
        out.push((digit, Pcap::parse(&testkit::read(&path)).records));
    }
    Some(out)
}

#[test]
fn receiver_reports_one_digit_per_golden_capture() {
    let Some(captures) = load() else { return };
    let t0 = origin();
    for (digit, records) in &captures {
        let mut rx = DtmfReceiver::default();
        for r in records {
            let p = RtpPacket::parse(&r.payload).expect("valid RTP");
            assert_eq!(p.payload_type().value(), 101);
            rx.handle_packet(t0 + r.ts, p.sequence(), p.timestamp(), p.payload())
                .expect("valid event");
        }
        let events: Vec<_> = std::iter::from_fn(|| rx.poll_event()).collect();
        assert_eq!(events.len(), 2, "{digit}: {events:?}");
        let DtmfEvent::Ended {
            digit: got,
            duration,
            volume,
            timed_out,
            ..
        } = events[1]
        else {
            panic!("{digit}: expected Ended, got {events:?}");
        };
        assert_eq!(got.as_char(), *digit);
        // The last (end) packet's duration field, read independently of the receiver.
        let last = RtpPacket::parse(&records[records.len() - 1].payload).expect("valid");
        let end = TelephoneEvent::parse(last.payload()).expect("event");
        assert!(end.end);
        assert_eq!(duration, u32::from(end.duration));
        assert_eq!(volume, end.volume);
        assert!(!timed_out);
        // The capture shape itself: three end packets with one sequence number.
        let ends: Vec<u16> = records
            .iter()
            .filter_map(|r| {
                let p = RtpPacket::parse(&r.payload).ok()?;
                TelephoneEvent::parse(p.payload())
                    .ok()?
                    .end
                    .then_some(p.sequence())
            })
            .collect();
        assert_eq!(ends.len(), 3);
        assert!(ends.iter().all(|&s| s == ends[0]));
    }
}

#[test]
fn receiver_decodes_all_captures_as_one_stream() {
    let Some(mut captures) = load() else { return };
    // Same SSRC throughout; order the captures by their first sequence number.
    captures.sort_by_key(|(_, recs)| {
        RtpPacket::parse(&recs[0].payload)
            .map(|p| p.sequence())
            .unwrap_or(0)
    });
    let expected: String = captures.iter().map(|(d, _)| *d).collect();
    let t0 = origin();
    let mut rx = DtmfReceiver::default();
    let mut at = Duration::ZERO;
    for (_, recs) in &captures {
        for r in recs {
            let p = RtpPacket::parse(&r.payload).expect("valid");
            rx.handle_packet(t0 + at + r.ts, p.sequence(), p.timestamp(), p.payload())
                .expect("valid");
        }
        at += Duration::from_secs(1);
    }
    let got: String = std::iter::from_fn(|| rx.poll_event())
        .filter_map(|e| match e {
            DtmfEvent::Ended { digit, .. } => Some(digit.as_char()),
            _ => None,
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 12);
}

#[test]
fn sender_reproduces_golden_captures_byte_for_byte() {
    let Some(captures) = load() else { return };
    // The captures' sender parameters: 20 ms updates growing the duration by 320,
    // volume 10, 2240 total, end packet ×3 on one sequence number.
    let sender = DtmfSender::new(DtmfSenderConfig {
        duration_step: 320,
        update_interval: Duration::from_millis(20),
        volume: 10,
        end_packets: 3,
        end_same_sequence: true,
    });
    for (digit, records) in &captures {
        let first = RtpPacket::parse(&records[0].payload).expect("valid");
        let d = DtmfDigit::from_char(*digit).expect("digit");
        let train: Vec<_> = sender
            .packets(d, 2240, first.timestamp(), first.sequence())
            .collect();
        assert_eq!(train.len(), records.len(), "{digit}");
        for (pkt, rec) in train.iter().zip(records) {
            let mut buf = [0u8; 64];
            let mut h = RtpHeader::new(
                PayloadType::new(101).expect("7-bit"),
                pkt.sequence,
                pkt.timestamp,
                first.ssrc(),
            );
            h.marker = pkt.marker;
            let n = h.build(&pkt.payload, 0, &mut buf).expect("fits");
            assert_eq!(&buf[..n], &rec.payload[..], "{digit} seq {}", pkt.sequence);
            // Update packets follow the capture's 20 ms cadence (±2 ms of capture noise).
            let cap = rec.ts - records[0].ts;
            let diff = cap.abs_diff(pkt.offset);
            assert!(
                pkt.payload[1] & 0x80 != 0 || diff <= Duration::from_millis(2),
                "{digit}: offset {:?} vs capture {:?}",
                pkt.offset,
                cap
            );
        }
    }
}

/// RFC 4733 → in-band: the golden event trains rendered as tones by `EventsToTones` are
/// heard as the same digits by multimon-ng, an independent DTMF decoder.
#[test]
fn golden_events_rendered_in_band_are_heard_by_multimon() {
    let Some(captures) = load() else { return };
    if !testkit::peer("multimon-ng") || !testkit::peer("sox") {
        return;
    }
    let mut pcm = Vec::new();
    let mut expected = String::new();
    for (digit, records) in &captures {
        let mut conv = EventsToTones::new(8000, 8000);
        for r in records {
            let p = RtpPacket::parse(&r.payload).expect("valid RTP");
            if let Some(span) = conv
                .handle_event(p.timestamp(), p.payload())
                .expect("valid event")
            {
                let at = pcm.len();
                pcm.resize(at + conv.samples(span.duration), 0);
                conv.fill(&mut pcm[at..]);
            }
        }
        pcm.extend(std::iter::repeat_n(0i16, 800)); // 100 ms between digits
        expected.push(*digit);
    }
    assert_eq!(testkit::multimon_dtmf(&pcm, 8000), expected);
}
