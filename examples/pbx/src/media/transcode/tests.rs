use codecs::{CodecKind, g711};
use rtp_media::dtmf::{DtmfDigit, TelephoneEvent};
use rtp_media::rtp::{PayloadType, RtpHeader, RtpPacket, Ssrc};
use rtp_media::tones::{DtmfDetector, ToneGenerator, ToneSpec};

use super::RtpTranscoder;
use crate::media::LegSpec;

fn leg(codec: CodecKind, pt: u8, event: Option<u8>) -> LegSpec {
    LegSpec {
        telephone_event: event,
        ..LegSpec::new(None, codec, pt)
    }
}

fn packet(pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut h = RtpHeader::new(PayloadType::new(pt).expect("pt"), seq, ts, Ssrc(7));
    h.marker = marker;
    let mut b = vec![0u8; 12 + payload.len()];
    let n = h.build(payload, 0, &mut b).expect("fits");
    b.truncate(n);
    b
}

fn event(code: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        event: code,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

/// (payload type, sequence, timestamp, marker, payload) of what came out.
type Out = (u8, u16, u32, bool, Vec<u8>);

fn run(t: &mut RtpTranscoder, input: &[Vec<u8>]) -> Vec<Out> {
    let mut out = Vec::new();
    for p in input {
        for o in t.process(p) {
            let q = RtpPacket::parse(o).expect("valid RTP out");
            assert_eq!(q.ssrc(), Ssrc(7));
            out.push((
                q.payload_type().value(),
                q.sequence(),
                q.timestamp(),
                q.marker(),
                q.payload().to_vec(),
            ));
        }
    }
    out
}

fn assert_contiguous(out: &[Out], first: u16) {
    for (i, o) in out.iter().enumerate() {
        assert_eq!(
            o.1,
            first.wrapping_add(i as u16),
            "sequence of packet {i}: {out:?}"
        );
    }
}

fn alaw_silence() -> Vec<u8> {
    vec![g711::alaw_encode(0); 160]
}

#[test]
fn events_become_tones_that_replace_the_audio_they_cover() {
    let from = leg(CodecKind::Pcma, 8, Some(101));
    let mut t = RtpTranscoder::new(&from, &leg(CodecKind::Pcma, 8, None)).expect("transcoder");
    let s = alaw_silence();
    let input = [
        packet(8, 1, 0, true, &s),
        packet(8, 2, 160, false, &s),
        packet(8, 3, 320, false, &s),
        packet(101, 4, 480, true, &event(5, false, 0)),
        packet(8, 5, 480, false, &s), // under the tone: replaced
        packet(101, 6, 480, false, &event(5, false, 160)),
        packet(8, 7, 640, false, &s), // under the tone: replaced
        packet(101, 8, 480, false, &event(5, true, 320)),
        packet(101, 9, 480, false, &event(5, true, 320)),
        packet(101, 10, 480, false, &event(5, true, 320)),
        packet(8, 11, 800, false, &s),
    ];
    let out = run(&mut t, &input);
    assert_contiguous(&out, 1);
    let ts: Vec<u32> = out.iter().map(|o| o.2).collect();
    assert_eq!(ts, [0, 160, 320, 480, 640, 800], "{out:?}");
    assert!(out.iter().all(|o| o.0 == 8), "only PCMA goes out");
    // The two tone frames hold the digit, in band.
    let pcm: Vec<i16> = out[3..5]
        .iter()
        .flat_map(|o| o.4.iter().map(|&b| g711::alaw_decode(b)))
        .chain(std::iter::repeat_n(0, 400))
        .collect();
    let mut d = DtmfDetector::default();
    d.process(&pcm);
    assert_eq!(d.poll_event().map(|e| e.digit.as_char()), Some('5'));
}

#[test]
fn events_become_opus_tone_frames_on_the_opus_clock() {
    let from = leg(CodecKind::Pcmu, 0, Some(101));
    let mut t = RtpTranscoder::new(&from, &leg(CodecKind::Opus, 96, None)).expect("transcoder");
    let input = [
        packet(0, 1, 8000, false, &[0xff; 160]),
        packet(101, 2, 8160, true, &event(1, false, 160)),
        packet(101, 3, 8160, false, &event(1, true, 400)), // 20 ms, then 10 of the last 10+
    ];
    let out = run(&mut t, &input);
    assert_contiguous(&out, 1);
    let ts: Vec<u32> = out.iter().map(|o| o.2).collect();
    // 48 kHz: 160 ticks at 8 kHz are 960; the 80 ticks left after 10 ms are dropped.
    assert_eq!(ts, [8000, 8960, 9920, 10880], "{out:?}");
    assert!(out[1..].iter().all(|o| o.0 == 96 && !o.4.is_empty()));
}

#[test]
fn in_band_digits_become_events_while_they_sound() {
    let from = leg(CodecKind::Pcmu, 0, None);
    let mut t = RtpTranscoder::new(&from, &leg(CodecKind::Pcmu, 0, Some(101))).expect("transcoder");
    let mut tone = ToneGenerator::new(
        ToneSpec::dtmf(DtmfDigit::from_char('7').expect("digit")),
        8000,
    );
    let mut pcm = [0i16; 160];
    let mut out = Vec::new();
    let mut first_event_after = None;
    for k in 0..16u16 {
        if (5..11).contains(&k) {
            tone.fill(&mut pcm); // 120 ms of '7'
        } else {
            pcm.fill(0);
        }
        let mu: Vec<u8> = pcm.iter().map(|&s| g711::ulaw_encode(s)).collect();
        let input = packet(0, 100 + k, 1000 + u32::from(k) * 160, k == 0, &mu);
        let got = run(&mut t, &[input]);
        if first_event_after.is_none() && got.iter().any(|o| o.0 == 101) {
            first_event_after = Some(k);
        }
        out.extend(got);
    }
    assert_contiguous(&out, 100);
    // The first event packet goes out while the digit sounds (confirmed ~38 ms in).
    assert!(
        first_event_after.is_some_and(|k| k <= 7),
        "{first_event_after:?}"
    );
    let events: Vec<(bool, u32, TelephoneEvent)> = out
        .iter()
        .filter(|o| o.0 == 101)
        .map(|o| (o.3, o.2, TelephoneEvent::parse(&o.4).expect("event")))
        .collect();
    assert!(events.iter().all(|e| e.2.event == 7), "{events:?}");
    assert!(events[0].0 && !events[0].2.end, "start: marker, not end");
    assert!(events[1..].iter().all(|e| !e.0), "one marker");
    let ends: Vec<&TelephoneEvent> = events.iter().map(|e| &e.2).filter(|e| e.end).collect();
    assert_eq!(ends.len(), 3, "three end packets");
    assert!((900..=1300).contains(&ends[0].duration), "{:?}", ends[0]);
    let durations: Vec<u16> = events.iter().map(|e| e.2.duration).collect();
    assert!(durations.windows(2).all(|w| w[0] <= w[1]), "{durations:?}");
    assert!(
        events.iter().all(|e| e.1 == events[0].1),
        "one timestamp per event"
    );
    let off = i64::from(events[0].1) - 1800;
    assert!(off.abs() <= 160, "event starts near the tone: {events:?}");
    // The digit's audio is held back while its events stand for it.
    let audio = out.iter().filter(|o| o.0 == 0).count();
    assert!((8..=12).contains(&audio), "{audio} audio packets of 16");
}

#[test]
fn events_pass_between_sides_that_both_have_them_rescaled() {
    let from = leg(CodecKind::Opus, 96, Some(97));
    let mut t = RtpTranscoder::new(&from, &leg(CodecKind::Pcmu, 0, Some(101))).expect("transcoder");
    let out = run(&mut t, &[packet(97, 9, 48000, true, &event(3, true, 960))]);
    assert_eq!(out.len(), 1);
    let (pt, seq, _, marker, payload) = &out[0];
    assert_eq!((*pt, *seq, *marker), (101, 9, true));
    assert_eq!(TelephoneEvent::parse(payload).expect("event").duration, 160);
}

#[test]
fn other_payload_types_are_dropped_without_a_gap() {
    let from = leg(CodecKind::Pcma, 8, None);
    let mut t = RtpTranscoder::new(&from, &leg(CodecKind::Pcmu, 0, None)).expect("transcoder");
    let s = alaw_silence();
    let input = [
        packet(8, 1, 0, false, &s),
        packet(13, 2, 160, false, &[40]), // comfort noise
        packet(8, 3, 320, false, &s),
    ];
    let out = run(&mut t, &input);
    assert_contiguous(&out, 1);
    assert_eq!(out.len(), 2);
}
