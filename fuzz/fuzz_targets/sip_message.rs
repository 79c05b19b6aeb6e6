//! One datagram: parse, touch every typed header, and check print → parse → print.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pbxkit_sip_core::header::{
    Accept, Allow, Authorization, CSeq, CallId, Contact, ContentType, Date, Event, Expires, From,
    MaxForwards, RecordRoute, Require, RetryAfter, Route, Supported, To, Via,
};
use pbxkit_sip_core::{Message, multipart};

fuzz_target!(|data: &[u8]| {
    let m = match Message::parse(Bytes::copy_from_slice(data)) {
        Ok(m) => m,
        Err(e) => {
            let _ = (e.status_code(), e.to_string());
            if let Some(m) = e.message() {
                let _ = m.to_bytes();
            }
            return;
        }
    };
    let _ = m.request_uri().map(|u| u.equivalent(&u));
    let _ = m.check_mandatory();
    let _ = m.header_all::<Via<'_>>().count();
    for v in m.header_all::<Via<'_>>().flatten() {
        let _ = (v.received(), v.rport(), v.maddr(), v.ttl(), v.has_rfc3261_branch());
    }
    let _ = m.header::<From<'_>>().map(|f| f.display_name().map(|d| d.len()));
    let _ = m.header::<To<'_>>();
    for c in m.header_all::<Contact<'_>>().flatten() {
        let _ = (c.expires(), c.q());
    }
    let _ = m.header::<CallId<'_>>();
    let _ = m.header::<CSeq<'_>>();
    let _ = m.header::<MaxForwards>();
    let _ = m.header::<ContentType<'_>>();
    let _ = m.header_all::<Route<'_>>().count();
    let _ = m.header_all::<RecordRoute<'_>>().count();
    let _ = m.header::<Authorization<'_>>().map(|a| a.nonce());
    let _ = m.header::<Expires>();
    let _ = m.header_all::<Allow<'_>>().count();
    let _ = m.header_all::<Supported<'_>>().count();
    let _ = m.header_all::<Require<'_>>().count();
    let _ = m.header_all::<Accept<'_>>().count();
    let _ = m.header::<Date>();
    let _ = m.header::<RetryAfter<'_>>();
    let _ = m.header::<Event<'_>>();
    let _ = multipart::parts(&m);
    let printed = m.to_bytes();
    let again = Message::parse(printed.clone()).expect("printed message must reparse");
    assert_eq!(again.to_bytes(), printed, "print is not a fixed point");
});
