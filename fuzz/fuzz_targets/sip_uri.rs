//! URI and name-addr parsing: never panics; equivalence is reflexive for parsed URIs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbxkit_sip_core::header::{Header, NameAddr, Via};
use pbxkit_sip_core::uri::Uri;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(u) = Uri::parse(s) {
        assert!(u.equivalent(&u), "URI not equivalent to itself: {s}");
        if let Some(sip) = u.as_sip() {
            let _ = (sip.user_unescaped(), sip.header_pairs().count(), sip.params().iter().count());
        }
    }
    if let Ok(a) = NameAddr::parse(s) {
        let _ = (a.display_name(), a.tag(), a.params().iter().count());
    }
    let _ = Via::decode(s);
});
