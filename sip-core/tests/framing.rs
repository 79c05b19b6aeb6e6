//! Stream framing over the oracle corpora: the concatenation of every accepted RFC 4475 and
//! RFC 5118 message (in printed form, so Content-Length is exact) framed with every chunk
//! size from 1 byte to the whole buffer gives the same messages.

mod common;

use bytes::Bytes;
use pbxkit_sip_core::{Frame, Message, ParseErrorKind, StreamFramer};

/// Messages that cannot go on a stream: no Content-Length (inv2543) or two (mcl01).
const NOT_STREAMABLE: &[&str] = &["inv2543.dat", "mcl01.dat"];

fn corpus() -> Option<Vec<Message>> {
    let mut out = Vec::new();
    for (what, sub) in [("rfc4475", "sip/rfc4475"), ("rfc5118", "sip/rfc5118")] {
        let dir = common::dir(what, sub)?;
        for row in common::expected(&dir) {
            if NOT_STREAMABLE.contains(&row.file.as_str()) {
                continue;
            }
            if let Ok(m) = Message::parse(common::message(&dir, &row.file)) {
                out.push(m);
            }
        }
    }
    Some(out)
}

fn frame_all(stream: &[u8], chunk: usize) -> Vec<Bytes> {
    let mut f = StreamFramer::default();
    let mut got = Vec::new();
    for piece in stream.chunks(chunk) {
        f.push(piece);
        loop {
            match f.next_frame().unwrap() {
                Frame::Partial => break,
                Frame::Message(m) => got.push(m.to_bytes()),
                Frame::Ping => {}
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }
    assert_eq!(f.buffered(), 0, "chunk {chunk}");
    got
}

#[test]
fn every_chunk_size_frames_the_same_messages() {
    let Some(msgs) = corpus() else { return };
    assert!(msgs.len() >= 38, "corpus too small: {}", msgs.len());
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        if i % 7 == 3 {
            stream.extend_from_slice(b"\r\n\r\n"); // RFC 5626 ping between messages
        }
        let printed = m.to_bytes();
        stream.extend_from_slice(&printed);
        want.push(printed);
    }
    for chunk in 1..=stream.len() {
        let got = frame_all(&stream, chunk);
        assert!(
            got == want,
            "chunk size {chunk}: {} messages, want {}",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn stream_verdicts_for_the_datagram_only_cases() {
    let Some(dir) = common::dir("rfc4475", "sip/rfc4475") else {
        return;
    };
    // clerr: Content-Length beyond the bytes is only incomplete on a stream.
    let mut f = StreamFramer::default();
    f.push(&common::message(&dir, "clerr.dat"));
    assert_eq!(f.next_frame(), Ok(Frame::Partial));
    // inv2543: no Content-Length — fatal on a stream.
    let mut f = StreamFramer::default();
    f.push(&common::message(&dir, "inv2543.dat"));
    assert_eq!(
        f.next_frame().unwrap_err().kind(),
        ParseErrorKind::MissingContentLength
    );
    // mcl01: two Content-Lengths — framing cannot recover.
    let mut f = StreamFramer::default();
    f.push(&common::message(&dir, "mcl01.dat"));
    assert_eq!(
        f.next_frame().unwrap_err().kind(),
        ParseErrorKind::ConflictingContentLength
    );
    // ncl: negative Content-Length — fatal, never used as a length.
    let mut f = StreamFramer::default();
    f.push(&common::message(&dir, "ncl.dat"));
    assert!(!f.next_frame().unwrap_err().is_recoverable_on_stream());
    // dblreq: on a stream the tail is framed as the start of a second message.
    let mut f = StreamFramer::default();
    f.push(&common::message(&dir, "dblreq.dat"));
    let Ok(Frame::Message(m)) = f.next_frame() else {
        panic!()
    };
    assert_eq!(m.method(), Some(pbxkit_sip_core::Method::Register));
    assert!(f.buffered() > 400);
    // A message that frames but fails validation leaves the stream usable.
    let mut f = StreamFramer::default();
    f.push(&common::message(&dir, "mismatch01.dat"));
    f.push(&common::message(&dir, "esc01.dat"));
    assert!(
        matches!(f.next_frame(), Ok(Frame::Invalid(e)) if e.kind() == ParseErrorKind::CSeqMethodMismatch)
    );
    assert!(matches!(f.next_frame(), Ok(Frame::Message(_))));
}
