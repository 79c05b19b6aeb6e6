#![no_main]
//! AIN frame parser: arbitrary bytes, whole and as a fragmented stream, must never panic,
//! and whatever decodes must re-encode to a frame that decodes to the same value.

use libfuzzer_sys::fuzz_target;
use pbxkit_ain_net::{Frame, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((f, used))) = Frame::decode(data) {
        assert!(used <= data.len());
        let again = f.to_bytes();
        let (back, _) = Frame::decode(&again).expect("re-encoded frame decodes").expect("complete");
        assert_eq!(back, f);
    }
    let mut d = FrameDecoder::new();
    let step = 1 + usize::from(data.first().copied().unwrap_or(0) % 16);
    for chunk in data.chunks(step) {
        d.push(chunk);
        while let Ok(Some(_)) = d.next_frame() {}
    }
});
