//! A fuzz-like, bounded, deterministic mutation test on the stable toolchain: the RFC 4475 and
//! RFC 5118 messages mutated thousands of ways (byte flips, inserted delimiters, deletions,
//! duplications, truncation) must never panic, in datagram parsing, stream framing with
//! random chunking, URI parsing and every typed decoder; and every accepted mutant must
//! print to a fixed point.

mod common;

use bytes::Bytes;
use pbxkit_sip_core::header::*;
use pbxkit_sip_core::uri::Uri;
use pbxkit_sip_core::{Frame, Message, StreamFramer, multipart};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const SPECIAL: &[&[u8]] = &[
    b"\"",
    b"<",
    b">",
    b";",
    b",",
    b"%",
    b":",
    b"[",
    b"]",
    b"@",
    b"=",
    b"\\",
    b"\r\n",
    b"\r\n ",
    b"\n",
    b"\r",
    b"\0",
    b" ",
    b"\t",
    b"?",
    b"&",
    b"\xff",
    b"\xc3\xa9",
    b"(",
    b")",
    b"*",
    b"z9hG4bK",
    b"sip:",
    b"tel:",
    b"SIP/2.0",
    b"4294967296",
    b"99999",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = v.len();
        let at = rng.below(len + 1);
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let s = SPECIAL[rng.below(SPECIAL.len())];
                v.splice(at..at, s.iter().copied());
            }
            2 if len > 0 => {
                let end = (at + rng.below(16) + 1).min(len);
                v.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                let end = (at + rng.below(64) + 1).min(len);
                let piece: Vec<u8> = v[at.min(end)..end].to_vec();
                v.splice(at..at, piece);
            }
            4 => v.truncate(at),
            _ => {
                let b = rng.next() as u8;
                v.insert(at, b);
            }
        }
    }
    v
}

/// Touches every typed accessor so decoders see hostile values.
fn exercise(m: &Message) {
    fn all<'a, H: Header<'a>>(m: &'a Message) -> usize {
        let n = m.header_all::<H>().filter(Result::is_ok).count();
        let _ = m.header::<H>();
        n
    }
    if let Some(u) = m.request_uri() {
        assert!(u.equivalent(&u), "equivalence not reflexive: {u}");
    }
    let _ = m.check_mandatory();
    let _ = m.unsupported_requirements(&["100rel"]);
    all::<Via<'_>>(m);
    for v in m.header_all::<Via<'_>>().flatten() {
        let _ = (
            v.received(),
            v.rport(),
            v.maddr(),
            v.ttl(),
            v.has_rfc3261_branch(),
        );
    }
    all::<From<'_>>(m);
    all::<To<'_>>(m);
    all::<Contact<'_>>(m);
    for c in m.contacts().flatten() {
        let _ = (c.expires(), c.q(), c.addr().map(|a| a.display_name()));
    }
    all::<CallId<'_>>(m);
    all::<CSeq<'_>>(m);
    all::<MaxForwards>(m);
    all::<ContentLength>(m);
    all::<ContentType<'_>>(m);
    all::<Route<'_>>(m);
    all::<RecordRoute<'_>>(m);
    all::<Authorization<'_>>(m);
    all::<WwwAuthenticate<'_>>(m);
    all::<Expires>(m);
    all::<Allow<'_>>(m);
    all::<Supported<'_>>(m);
    all::<Require<'_>>(m);
    all::<Accept<'_>>(m);
    all::<Date>(m);
    all::<RetryAfter<'_>>(m);
    all::<Event<'_>>(m);
    all::<UserAgent<'_>>(m);
    let _ = multipart::parts(m);
    // Every raw value through every decoder, whatever its header.
    for h in m.headers() {
        let v = h.value;
        let _ = Via::decode(v);
        let _ = NameAddr::parse(v);
        let _ = Contact::decode(v);
        let _ = Challenge::parse(v);
        let _ = CSeq::decode(v);
        let _ = Date::decode(v);
        let _ = RetryAfter::decode(v);
        let _ = SessionExpires::decode(v);
        let _ = RAck::decode(v);
        let _ = Replaces::decode(v);
        let _ = SubscriptionState::decode(v);
        let _ = MediaType::parse(v);
        if let Ok(u) = Uri::parse(v) {
            assert!(u.equivalent(&u), "equivalence not reflexive: {u}");
        }
    }
}

#[test]
fn mutated_torture_messages_never_panic() {
    let mut seeds = Vec::new();
    for (what, sub) in [("rfc4475", "sip/rfc4475"), ("rfc5118", "sip/rfc5118")] {
        let Some(dir) = common::dir(what, sub) else {
            return;
        };
        for row in common::expected(&dir) {
            seeds.push(common::message(&dir, &row.file).to_vec());
        }
    }
    let mut rng = Rng(0x5EED_4475_5118_0001);
    let (mut accepted, mut total) = (0usize, 0usize);
    for round in 0..1000 {
        for seed in &seeds {
            let input = mutate(&mut rng, seed);
            total += 1;
            match Message::parse(Bytes::from(input.clone())) {
                Ok(m) => {
                    accepted += 1;
                    exercise(&m);
                    let p = m.to_bytes();
                    let again = Message::parse(p.clone()).expect("printed mutant reparses");
                    assert_eq!(again.to_bytes(), p);
                }
                Err(e) => {
                    if let Some(m) = e.message() {
                        exercise(m);
                    }
                }
            }
            if round % 5 == 0 {
                let mut f = StreamFramer::default();
                let mut rest = &input[..];
                while !rest.is_empty() {
                    let n = (rng.below(rest.len()) + 1).min(rest.len());
                    f.push(&rest[..n]);
                    rest = &rest[n..];
                    loop {
                        match f.next_frame() {
                            Ok(Frame::Message(m)) => exercise(&m),
                            Ok(Frame::Partial) | Err(_) => break,
                            Ok(_) => {}
                        }
                    }
                }
            }
        }
    }
    eprintln!("mutation: {total} mutants, {accepted} accepted");
    assert!(total >= 60_000);
    assert!(accepted > 0);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    let s = SPECIAL[rng.below(SPECIAL.len())];
                    s[0]
                } else {
                    b"SIP/2.0 INVITE sip:a@b v: l: 0 \r\n;=,<>\"abc123"[rng.below(44)]
                }
            })
            .collect();
        let _ = Message::parse(Bytes::from(bytes.clone()));
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Uri::parse(s);
            let _ = NameAddr::parse(s);
            let _ = Via::decode(s);
        }
    }
}
