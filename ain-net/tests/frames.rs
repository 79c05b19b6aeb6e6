//! Wire protocol v1: round trips, stream reassembly, garbage never panics, HMAC oracle.

use pbxkit_ain_net::{Frame, FrameDecoder, FrameError, Message, NodeStatus, RefuseReason, auth};

fn all_messages() -> Vec<Message> {
    vec![
        Message::Hello {
            node: 7,
            eid: "EID-0007".into(),
            sw_version: "9.1".into(),
        },
        Message::Challenge { nonce: [9; 32] },
        Message::AuthResponse { mac: [3; 32] },
        Message::Welcome { config_version: 42 },
        Message::Refused {
            reason: RefuseReason::Full,
        },
        Message::Refused {
            reason: RefuseReason::VersionMismatch,
        },
        Message::Refused {
            reason: RefuseReason::Other(200),
        },
        Message::Heartbeat {
            config_version: u64::MAX,
        },
        Message::ConfigSnapshot {
            version: 5,
            data: b"[users]\n100=1".to_vec(),
        },
        Message::ConfigDelta {
            base: 5,
            version: 6,
            data: vec![],
        },
        Message::ConfigAck { version: 6 },
        Message::LicenceView {
            entries: vec![("voip_channels".into(), 40), ("ä".into(), 1)],
        },
        Message::ChannelAcquire {
            request: 1,
            units: 2,
        },
        Message::ChannelGrant { request: 1 },
        Message::ChannelDeny { request: 2 },
        Message::ChannelRelease { request: 1 },
        Message::Directory {
            entries: vec![("100".into(), 0), ("201".into(), 3)],
        },
        Message::Event {
            code: 17,
            data: vec![1, 2, 3],
        },
        Message::Status(NodeStatus {
            active_calls: 3,
            was_offline: true,
            held_requests: vec![4, 5],
        }),
        Message::Activate {
            sw_version: "9.2".into(),
        },
        Message::Maintenance { unlocked: true },
        Message::NodeLicences {
            entries: vec![("secure_voip".into(), 1)],
        },
    ]
}

#[test]
fn every_message_round_trips() {
    for (seq, msg) in all_messages().into_iter().enumerate() {
        let f = Frame {
            seq: seq as u32,
            msg,
        };
        let b = f.to_bytes();
        let (back, used) = Frame::decode(&b).unwrap().unwrap();
        assert_eq!(used, b.len());
        assert_eq!(back, f);
        // Every strict prefix is "need more bytes", never an error or a panic.
        for cut in 0..b.len() {
            assert_eq!(Frame::decode(&b[..cut]), Ok(None), "prefix {cut} of {f:?}");
        }
    }
}

#[test]
fn stream_reassembles_byte_by_byte() {
    let msgs = all_messages();
    let mut wire = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        Frame {
            seq: i as u32,
            msg: m.clone(),
        }
        .encode(&mut wire);
    }
    let mut d = FrameDecoder::new();
    let mut got = Vec::new();
    for b in &wire {
        d.push(std::slice::from_ref(b));
        while let Some(f) = d.next_frame().unwrap() {
            got.push(f.msg);
        }
    }
    assert_eq!(got, msgs);
}

#[test]
fn header_errors_are_typed() {
    let good = Frame {
        seq: 1,
        msg: Message::ConfigAck { version: 1 },
    }
    .to_bytes();
    let mut b = good.clone();
    b[0] = 0;
    assert!(matches!(Frame::decode(&b), Err(FrameError::BadMagic(_))));
    // A peer on another protocol version is refused at the header (versioned frames).
    let mut b = good.clone();
    b[2] = 2;
    assert_eq!(Frame::decode(&b), Err(FrameError::UnsupportedVersion(2)));
    let mut b = good.clone();
    b[3] = 99;
    assert_eq!(Frame::decode(&b), Err(FrameError::UnknownType(99)));
    // Length bound is checked from the header alone, before the payload arrives.
    let mut b = good[..12].to_vec();
    b[8..12].copy_from_slice(&(pbxkit_ain_net::MAX_PAYLOAD + 1).to_be_bytes());
    assert!(matches!(Frame::decode(&b), Err(FrameError::TooLong(_))));
    // Trailing bytes inside a payload are malformed, not ignored.
    let mut b = good.clone();
    b.push(0);
    b[11] += 1;
    assert_eq!(Frame::decode(&b), Err(FrameError::Malformed(9)));
    // A list count larger than the payload fails without allocating for the count.
    let mut b = Frame {
        seq: 0,
        msg: Message::Directory { entries: vec![] },
    }
    .to_bytes();
    b[12..14].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(Frame::decode(&b), Err(FrameError::Malformed(15)));
    // Invalid UTF-8 in a string.
    let mut b = Frame {
        seq: 0,
        msg: Message::Event {
            code: 1,
            data: vec![],
        },
    }
    .to_bytes();
    let mut h = Frame {
        seq: 0,
        msg: Message::Hello {
            node: 1,
            eid: "ab".into(),
            sw_version: String::new(),
        },
    }
    .to_bytes();
    h[16] = 0xff;
    assert_eq!(Frame::decode(&h), Err(FrameError::Malformed(1)));
    // A decoder that failed stays failed (the driver closes the connection).
    b[0] = 0;
    let mut d = FrameDecoder::new();
    d.push(&b);
    assert!(d.next_frame().is_err());
    d.push(&good);
    assert_eq!(d.next_frame(), Ok(None));
}

#[test]
fn arbitrary_and_mutated_bytes_never_panic() {
    let mut r = testkit::Rng(0x9e37_79b9_7f4a_7c15);
    let seeds: Vec<Vec<u8>> = all_messages()
        .into_iter()
        .map(|msg| Frame { seq: 1, msg }.to_bytes())
        .collect();
    for round in 0..20_000 {
        let mut b = if round % 2 == 0 {
            let n = (r.next_u64() % 64) as usize;
            let mut v: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
            if v.len() >= 3 {
                v[..3].copy_from_slice(&[0xA1, 0x4E, 1]);
            }
            v
        } else {
            seeds[(r.next_u64() % seeds.len() as u64) as usize].clone()
        };
        for _ in 0..(r.next_u64() % 4) {
            if !b.is_empty() {
                let i = (r.next_u64() % b.len() as u64) as usize;
                b[i] = r.next_u64() as u8;
            }
        }
        if let Ok(Some((f, used))) = Frame::decode(&b) {
            assert!(used <= b.len());
            // Whatever decodes re-encodes to the same bytes (canonical).
            assert_eq!(f.to_bytes(), b[..used]);
        }
        let mut d = FrameDecoder::new();
        for chunk in b.chunks(1 + (r.next_u64() % 7) as usize) {
            d.push(chunk);
            for _ in 0..4 {
                if !matches!(d.next_frame(), Ok(Some(_))) {
                    break;
                }
            }
        }
    }
}

#[test]
fn hmac_response_matches_python_hmac_oracle() {
    // Expected tag computed independently with Python's hmac/hashlib:
    // hmac.new(b"s3cret", bytes([7]*32) + (3).to_bytes(2, "big") + b"EID-3", sha256)
    let tag = auth::response(b"s3cret", &[7; 32], 3, "EID-3");
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "540c22f614128815fa6dee95a091a4f355616cad2420bb70ca9895a0e511e491"
    );
    assert!(auth::verify(b"s3cret", &[7; 32], 3, "EID-3", &tag));
    assert!(!auth::verify(b"other", &[7; 32], 3, "EID-3", &tag));
    assert!(!auth::verify(b"s3cret", &[7; 32], 4, "EID-3", &tag));
    assert!(!auth::verify(b"s3cret", &[8; 32], 3, "EID-3", &tag));
}
