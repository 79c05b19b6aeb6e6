//! SIP message layer: full parse of a ~700-byte INVITE with SDP plus typed access to
//! Via/From/To/CSeq/Call-ID/Contact, a short REGISTER, printing, and stream framing, each
//! compared in the same run with `rsip` and `ezk-sip-types` doing the same work.
//! Throughput is in bytes.
//!
//! Run: `cargo bench -p pbxkit-benches --bench sip_parse`.
// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use sip_core::header::{CSeq, CallId, Contact, From, To, Via};
use sip_core::{Frame, Message, StreamFramer};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, UPDATE\r\n\
Supported: replaces, timer\r\n\
User-Agent: PBXKit-bench/1.0\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 234\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n\
s=Session SDP\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=sendrecv\r\n";

const REGISTER: &[u8] = b"REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:bob@192.0.2.4>\r\n\
Expires: 7200\r\n\
Content-Length: 0\r\n\r\n";

// The typed INVITE/REGISTER work, identical on both sides and redone on every iteration:
// frame the datagram, index every header line, then decode six headers to their typed form
// and read one field of each (reading a field is a field access on either side; no side
// formats or allocates a result):
// - pbxkit: `Message::parse` (the strict default: start line, Request-URI, every Via, From,
//   To, Call-ID, CSeq, Contact, Max-Forwards, Content-Length, Content-Type, Allow, Supported
//   validated), then `header::<Via/From/To/CSeq/CallId/Contact>()`. The strict pass keeps
//   what it decoded for the topmost Via, From, To, CSeq and first Contact (ranges) and which
//   line holds the checked Call-ID, so typed access rebuilds those instead of decoding them
//   twice; nothing survives an iteration.
// - rsip: `Request::try_from` (tokenise, owned `String` per header value, no validation of
//   header values), then `.typed()` on Via, From, To, CSeq and Contact (rsip's typed
//   decoders: tokenise, URI and params into owned types). rsip has no typed Call-ID: its
//   `CallId` header is a string newtype, so `.value()` is its complete typed access.
// Fields read: Via branch, From tag, To tag (absent), CSeq number, Call-ID, Contact URI
// user, body length; `typed_parse` checks both sides read the same values.

fn pbxkit_typed(buf: &Bytes) -> usize {
    let m = Message::parse(buf.clone()).expect("valid");
    let via: Via<'_> = m.header().expect("via");
    let from: From<'_> = m.header().expect("from");
    let to: To<'_> = m.header().expect("to");
    let cseq: CSeq<'_> = m.header().expect("cseq");
    let call_id: CallId<'_> = m.header().expect("call-id");
    let contact: Contact<'_> = m.header().expect("contact");
    via.branch().map_or(0, str::len)
        + from.tag().map_or(0, str::len)
        + usize::from(to.tag().is_none())
        + cseq.seq as usize
        + call_id.as_str().len()
        + contact
            .addr()
            .and_then(|a| a.uri().as_sip())
            .and_then(|u| u.user())
            .map_or(0, str::len)
        + m.body().len()
}

fn rsip_typed(buf: &[u8]) -> usize {
    use rsip::prelude::*;
    let req = rsip::Request::try_from(buf).expect("valid");
    let via = req.via_header().expect("via").typed().expect("via typed");
    let from = req
        .from_header()
        .expect("from")
        .typed()
        .expect("from typed");
    let to = req.to_header().expect("to").typed().expect("to typed");
    let cseq = req
        .cseq_header()
        .expect("cseq")
        .typed()
        .expect("cseq typed");
    let call_id = req.call_id_header().expect("call-id");
    let contact = req
        .contact_header()
        .expect("contact")
        .typed()
        .expect("contact typed");
    via.branch().map_or(0, |b| b.value().len())
        + from.tag().map_or(0, |t| t.value().len())
        + usize::from(to.tag().is_none())
        + cseq.seq as usize
        + call_id.value().len()
        + contact.uri.auth.as_ref().map_or(0, |a| a.user.len())
        + req.body.len()
}

fn ezk_typed(buf: &Bytes) -> usize {
    use ezk_sip_types::Headers;
    use ezk_sip_types::Name;
    use ezk_sip_types::header::typed::{CSeq, CallID, Contact, FromTo, Via};
    use ezk_sip_types::msg::{Line, MessageLine, PullParser};
    use ezk_sip_types::parse::Parse;

    let mut parser = PullParser::new(buf, 0);
    let first = parser.next().expect("line").expect("complete");
    let first = std::str::from_utf8(first).expect("utf8");
    let (_, line) = MessageLine::parse(buf)(first).expect("start line");
    let mut headers = Headers::new();
    for l in &mut parser {
        let l = std::str::from_utf8(l.expect("complete")).expect("utf8");
        let (_, line) = Line::parse(buf, l).expect("header line");
        headers.insert(line.name, line.value);
    }
    let body = buf.slice(parser.head_end()..);
    let vias: Vec<Via> = headers.get_named().expect("via");
    let from: FromTo = headers.get(Name::FROM).expect("from");
    let to: FromTo = headers.get(Name::TO).expect("to");
    let cseq: CSeq = headers.get_named().expect("cseq");
    let call_id: CallID = headers.get_named().expect("call-id");
    let contacts: Vec<Contact> = headers.get_named().expect("contact");
    usize::from(line.is_request())
        + vias.len()
        + from.tag.map_or(0, |t| t.len())
        + usize::from(to.tag.is_none())
        + cseq.cseq as usize
        + call_id.0.len()
        + contacts.len()
        + body.len()
}

fn typed_parse(c: &mut Criterion) {
    for (name, raw) in [("invite_sdp_typed", INVITE), ("register_typed", REGISTER)] {
        let buf = Bytes::from_static(raw);
        // Same work, same answers (checked once, outside the timed loop).
        assert_eq!(pbxkit_fields(&buf), rsip_fields(raw));
        assert_eq!(pbxkit_typed(&buf), rsip_typed(raw));
        let mut g = c.benchmark_group(format!("sip_parse/{name}"));
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function("pbxkit", |b| b.iter(|| pbxkit_typed(black_box(&buf))));
        g.bench_function("rsip", |b| b.iter(|| rsip_typed(black_box(raw))));
        g.bench_function("ezk-sip-types", |b| b.iter(|| ezk_typed(black_box(&buf))));
        g.finish();
    }
}

/// (branch, From tag, To tag, CSeq, Call-ID, Contact URI, Contact user) as strings.
type Fields = (String, String, String, u32, String, String, String);

fn pbxkit_fields(buf: &Bytes) -> Fields {
    let m = Message::parse(buf.clone()).expect("valid");
    let contact: Contact<'_> = m.header().expect("contact");
    (
        m.via().expect("via").branch().unwrap_or("").to_owned(),
        m.from().expect("from").tag().unwrap_or("").to_owned(),
        m.to().expect("to").tag().unwrap_or("").to_owned(),
        m.cseq().expect("cseq").seq,
        m.call_id().expect("call-id").as_str().to_owned(),
        contact
            .addr()
            .expect("addr")
            .uri()
            .to_string()
            .to_ascii_lowercase(),
        contact
            .addr()
            .and_then(|a| a.uri().as_sip())
            .and_then(|u| u.user())
            .unwrap_or("")
            .to_owned(),
    )
}

fn rsip_fields(raw: &[u8]) -> Fields {
    use rsip::prelude::*;
    let req = rsip::Request::try_from(raw).expect("valid");
    let via = req.via_header().expect("via").typed().expect("via typed");
    let from = req
        .from_header()
        .expect("from")
        .typed()
        .expect("from typed");
    let to = req.to_header().expect("to").typed().expect("to typed");
    let cseq = req
        .cseq_header()
        .expect("cseq")
        .typed()
        .expect("cseq typed");
    let contact = req.contact_header().expect("c").typed().expect("t");
    (
        via.branch().map(|b| b.to_string()).unwrap_or_default(),
        from.tag().map(|t| t.to_string()).unwrap_or_default(),
        to.tag().map(|t| t.to_string()).unwrap_or_default(),
        cseq.seq,
        req.call_id_header().expect("call-id").value().to_owned(),
        contact.uri.to_string().to_ascii_lowercase(),
        contact
            .uri
            .auth
            .as_ref()
            .map(|a| a.user.clone())
            .unwrap_or_default(),
    )
}

fn print(c: &mut Criterion) {
    let buf = Bytes::from_static(INVITE);
    let ours = Message::parse(buf).expect("valid");
    let theirs = rsip::Request::try_from(INVITE).expect("valid");
    let mut g = c.benchmark_group("sip_print/invite_sdp");
    g.throughput(Throughput::Bytes(INVITE.len() as u64));
    g.bench_function("pbxkit", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            black_box(&ours).write_to(&mut out);
            out.len()
        })
    });
    g.bench_function("rsip", |b| b.iter(|| black_box(&theirs).to_string().len()));
    g.finish();
}

fn stream(c: &mut Criterion) {
    let mut stream = Vec::new();
    for _ in 0..64 {
        stream.extend_from_slice(INVITE);
        stream.extend_from_slice(REGISTER);
    }
    let mut g = c.benchmark_group("sip_stream_framing");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    for chunk in [1400usize, 65536] {
        g.bench_with_input(BenchmarkId::new("pbxkit", chunk), &chunk, |b, &chunk| {
            b.iter(|| {
                let mut f = StreamFramer::default();
                let mut n = 0;
                for piece in stream.chunks(chunk) {
                    f.push(piece);
                    while let Ok(Frame::Message(m)) = f.next_frame() {
                        n += m.body().len();
                    }
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, typed_parse, print, stream);
criterion_main!(benches);
