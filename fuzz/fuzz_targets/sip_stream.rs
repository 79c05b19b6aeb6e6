//! Stream framing with chunk sizes taken from the input: never panics, and framing the
//! same bytes whole or in chunks yields the same messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbxkit_sip_core::{Frame, StreamFramer};

fn frames(data: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let mut f = StreamFramer::default();
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        f.push(piece);
        loop {
            match f.next_frame() {
                Ok(Frame::Message(m)) => out.push(m.to_bytes().to_vec()),
                Ok(Frame::Invalid(_)) => out.push(b"invalid".to_vec()),
                Ok(Frame::Ping) => out.push(b"ping".to_vec()),
                Ok(Frame::Partial) => break,
                Ok(_) => {}
                Err(_) => return out,
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let whole = frames(rest, rest.len().max(1));
    let chunked = frames(rest, usize::from(first) + 1);
    // A fatal error can be seen earlier with whole input; compare the common prefix.
    let n = whole.len().min(chunked.len());
    assert_eq!(whole[..n], chunked[..n]);
});
