//! Strict licensing at registration (MV-13): with a signed licence file granting one SIP
//! terminal, the first phone registers and a second one is refused with 403 until the first
//! unregisters. SIPp is the phone; the licence is signed at test time with a test key.

mod common;

use std::time::SystemTime;

use common::{EPHEMERAL_SIP, Pbx, sipp_register as register, temp_dir};
use licensing::{Date, Eid, LicenceFile, LicenceType, SalesChannel, SigningKey, Value};
use testkit::sipp;

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"s3cret-201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"s3cret-202\"\n";

/// Writes a vendor key and a licence for EID VA-1234 with one SIP terminal into `dir`.
fn licence(dir: &std::path::Path) -> String {
    let key = SigningKey::from_seed([9; 32]).expect("key");
    std::fs::write(dir.join("vendor.pub"), key.verifying_key().to_text()).expect("anchor");
    let mut f = LicenceFile::new(
        key.verifying_key().id(),
        Eid::parse("VA-1234").expect("eid"),
        SalesChannel::parse("generic").expect("channel"),
        Date::of(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000))
            .expect("date"),
    );
    f.licences
        .insert(LicenceType::SipTerminals, Value::Count(1));
    std::fs::write(dir.join("site.lic"), f.sign(&key).expect("sign")).expect("licence");
    format!(
        "[licence]\nfile = \"{}\"\ntrust_anchor = \"{}\"\neid = \"VA-1234\"\n",
        dir.join("site.lic").display(),
        dir.join("vendor.pub").display()
    )
}

#[test]
fn mv13_second_terminal_refused_without_a_free_licence() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-mv13");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31500-31599\"\n{}{USERS}",
        licence(&dir)
    );
    let pbx = Pbx::start(&dir, &config);
    assert!(
        pbx.printed
            .iter()
            .any(|l| l.contains("licence mode strict")),
        "{:?}",
        pbx.printed
    );
    let target = pbx.addr("udp").to_string();
    let first = register(&dir, &target, "201", "s3cret-201", sipp::free_udp_port());
    assert_eq!(
        first.stat("SuccessfulCall(C)"),
        1,
        "the one licensed terminal registers"
    );
    let second = register(&dir, &target, "202", "s3cret-202", sipp::free_udp_port());
    assert_eq!(second.stat("SuccessfulCall(C)"), 0);
    assert_eq!(
        second.stat("FailedUnexpectedMessage(C)"),
        1,
        "refused (403) for lack of a terminal licence"
    );
}
