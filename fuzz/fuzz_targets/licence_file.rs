//! cargo-fuzz target for the licence-file parser and verifier.
//!
//! Properties: neither `parse` nor `verify_bytes` panics, and anything that
//! verifies has exactly the canonical content of a file the trusted key signed — with a
//! fixed key and EID, the only such content is the seed file's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbxkit_licensing::{
    Binding, Date, Eid, Expectations, LicenceFile, LicenceType, SalesChannel, SigningKey,
    TrustAnchors, Value,
};

fn reference() -> (SigningKey, LicenceFile) {
    let key = SigningKey::from_seed([7; 32]).expect("fixed seed");
    let mut f = LicenceFile::new(
        key.verifying_key().id(),
        Eid::parse("VA-1").expect("literal"),
        SalesChannel::parse("generic").expect("literal"),
        Date::parse("2026-01-01").expect("literal"),
    );
    f.licences.insert(LicenceType::User, Value::Count(10));
    (key, f)
}

fuzz_target!(|data: &[u8]| {
    let (key, reference) = reference();
    let anchors = TrustAnchors::new().with(key.verifying_key());
    let eid = Eid::parse("VA-1").expect("literal");
    let expect = Expectations {
        anchors: &anchors,
        eid: &eid,
        binding: &Binding::OwnEid,
        sales_channel: None,
    };
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = LicenceFile::parse(text);
    }
    if let Ok(f) = LicenceFile::verify_bytes(data, &expect) {
        assert_eq!(f.canonical_bytes(), reference.canonical_bytes());
    }
});
