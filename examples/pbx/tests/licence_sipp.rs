//! Strict licensing at registration (MV-13): with a signed licence file granting one SIP
//! terminal, the first phone registers and a second one is refused with 403 until the first
//! unregisters. SIPp is the phone; the licence is signed at test time with a test key.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{
    EPHEMERAL_SIP, Pbx, events_until, find_event, invite_from_201, sipp_register as register,
    sipp_registered, status_of, temp_dir,
};
use licensing::{LicenceType, Value};
use testkit::sipp::{self, Background, scenario};

/// `pbx::licence::RESTRICTED_AFTER_ENV`.
const RESTRICTED_AFTER: &str = "PBXKIT_RESTRICTED_AFTER_SECS";

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"s3cret-201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"s3cret-202\"\n";

/// Writes a vendor key and a licence for EID VA-1234 with `terminals` SIP terminals (and no
/// software-release licence) into `dir`.
fn licence(dir: &std::path::Path, terminals: u32) -> String {
    licence_with(dir, terminals, false)
}

/// [`licence`], with the Secure VoIP switch licence when `secure_voip`.
fn licence_with(dir: &std::path::Path, terminals: u32, secure_voip: bool) -> String {
    let mut licences = vec![(LicenceType::SipTerminals, Value::Count(terminals))];
    if secure_voip {
        licences.push((LicenceType::SecureVoip, Value::Switch));
    }
    common::signed_licence(dir, &licences)
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
        licence(&dir, 1)
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

#[test]
fn mv4_restricted_mode_withholds_caller_id_and_refuses_feature_codes_and_transfer() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-mv4");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31520-31539\"\n{}{USERS}",
        licence(&dir, 2)
    );
    // MV-3: no software-release licence, so restricted mode follows; here at once.
    let pbx = Pbx::start_env(&dir, &config, &[(RESTRICTED_AFTER, "0")]);
    let events = events_until(&pbx.data, 0, &["restricted_mode_activated_non_va"]);
    find_event(&events, "restricted_mode_activated_non_va");
    let target = pbx.addr("udp").to_string();
    let (a, b) = (sipp::free_udp_port(), sipp::free_udp_port());
    sipp_registered(&dir, &target, "201", "s3cret-201", a);
    sipp_registered(&dir, &target, "202", "s3cret-202", b);
    // A basic call still connects, but without caller information; the callee's REFER
    // (a function-key feature) is refused 403.
    let sf = scenario("callee_restricted.xml");
    let callee = Background::start(
        &dir,
        "",
        b,
        &["-sf", &sf, "-key", "target", "201", "-m", "1"],
    );
    std::thread::sleep(Duration::from_millis(300));
    let sf = scenario("call_until_bye.xml");
    let args = ["-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", "1"];
    let caller = sipp::run(&dir, &target, a, &args);
    assert_eq!(caller.stat("SuccessfulCall(C)"), 1, "{:?}", caller.stats);
    let callee = callee.wait();
    assert_eq!(callee.stat("SuccessfulCall(C)"), 1, "{:?}", callee.stats);
    // A feature code (the echo test, *43) is refused.
    let sock = UdpSocket::bind(("127.0.0.1", a)).expect("201's port");
    let invite = invite_from_201(a, "*43", "mv4-feature-code", "");
    let to: SocketAddr = target.parse().expect("addr");
    let line = status_of(&sock, to, &invite);
    assert!(line.starts_with("SIP/2.0 403"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mv40_srtp_offer_is_refused_without_the_secure_voip_licence() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-mv40");
    // Terminal licences, but no Secure VoIP.
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31540-31559\"\n{}{USERS}",
        licence(&dir, 2)
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (a, b) = (sipp::free_udp_port(), sipp::free_udp_port());
    sipp_registered(&dir, &target, "201", "s3cret-201", a);
    sipp_registered(&dir, &target, "202", "s3cret-202", b);
    let sock = UdpSocket::bind(("127.0.0.1", a)).expect("201's port");
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 4000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
               a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
    let invite = invite_from_201(a, "202", "mv40-srtp", sdp);
    let to: SocketAddr = target.parse().expect("addr");
    let line = status_of(&sock, to, &invite);
    assert_eq!(line, "SIP/2.0 488 SRTP not available");
    let _ = std::fs::remove_dir_all(&dir);
}

/// MV-32: SIP over TLS needs the Secure VoIP licence. Without it the TLS listener closes
/// every connection before the handshake (UDP still answers); with it, OPTIONS over TLS is
/// answered.
#[test]
fn mv32_tls_signalling_needs_the_secure_voip_licence() {
    for (tag, secure_voip) in [("mv32-off", false), ("mv32-on", true)] {
        let dir = temp_dir(tag);
        let config = format!(
            "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31560-31579\"\n{}{USERS}",
            licence_with(&dir, 2, secure_voip)
        );
        let pbx = Pbx::start(&dir, &config);
        let pem = std::fs::read(pbx.data.join("tls/cert.pem")).expect("generated certificate");
        let tls = common::tls_options(pbx.addr("tls"), &pem);
        if secure_voip {
            let r = tls.expect("TLS exchange with the licence");
            assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");
        } else {
            assert!(tls.is_err(), "TLS without the licence: {tls:?}");
            let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
            let local = sock.local_addr().expect("addr");
            let line = status_of(&sock, pbx.addr("udp"), &common::options("UDP", local, "u1"));
            assert_eq!(line, "SIP/2.0 200 OK", "UDP is not gated");
        }
        drop(pbx);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
