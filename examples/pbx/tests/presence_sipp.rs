//! Presence (MV-34): a SIPp phone subscribes to the presence of an extension through the
//! PBX and reads the PIDF of every NOTIFY. Licensing per user is checked with a signed
//! licence file.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, status_of, temp_dir};
use licensing::{LicenceType, Value};
use testkit::sipp::{self, Background, scenario};

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"p201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"p202\"\n\
                     [[users]]\nextension = \"203\"\npassword = \"p203\"\n";

/// The `<basic>` of each PIDF in a SIPp message trace, and whether the last NOTIFY ended
/// the subscription.
fn notified(dir: &Path) -> (Vec<String>, bool) {
    let text = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("subscribe_presence_") && name.ends_with("_messages.log")
        })
        .map(|e| std::fs::read_to_string(e.path()).expect("trace"))
        .expect("message trace");
    let basics = text
        .split("<basic>")
        .skip(1)
        .filter_map(|rest| rest.split("</basic>").next().map(str::to_owned))
        .collect();
    let ended = text
        .rfind("Subscription-State: ")
        .is_some_and(|at| text[at..].starts_with("Subscription-State: terminated"));
    (basics, ended)
}

/// MV-34: 202 has no phone, so the first NOTIFY says closed; when 202 registers, the next
/// says open; unsubscribing ends with a terminated NOTIFY.
#[test]
fn mv34_presence_follows_the_registration_of_the_watched_user() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-presence");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"33490-33499\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let a = sipp::free_udp_port();
    sipp_registered(&dir, &target, "201", "p201", a);
    let sf = scenario("subscribe_presence.xml");
    let watch = Background::start(
        &dir,
        &target,
        a,
        &[
            "-sf",
            &sf,
            "-key",
            "caller",
            "201",
            "-s",
            "202",
            "-m",
            "1",
            "-trace_msg",
        ],
    );
    std::thread::sleep(Duration::from_millis(500));
    sipp_registered(&dir, &target, "202", "p202", sipp::free_udp_port());
    let run = watch.wait();
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    let (basics, ended) = notified(&dir);
    assert_eq!(
        basics.first().map(String::as_str),
        Some("closed"),
        "{basics:?}"
    );
    assert_eq!(
        basics.get(1).map(String::as_str),
        Some("open"),
        "{basics:?}"
    );
    assert!(ended, "the last NOTIFY ends the subscription");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A licence with 4 SIP terminals and `users` presence users.
fn licence(dir: &Path, users: u32) -> String {
    common::signed_licence(
        dir,
        &[
            (LicenceType::SipTerminals, Value::Count(4)),
            (LicenceType::PresenceSync, Value::Count(users)),
        ],
    )
}

/// A SUBSCRIBE from `user` (registered from local `port`) to `to`, for `expires` seconds.
fn subscribe(port: u16, user: &str, to: &str, call_id: &str, expires: u32) -> String {
    format!(
        "SUBSCRIBE sip:{to}@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag={call_id}\r\n\
         To: <sip:{to}@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 SUBSCRIBE\r\n\
         Contact: <sip:{user}@127.0.0.1:{port}>\r\nEvent: presence\r\n\
         Expires: {expires}\r\nContent-Length: 0\r\n\r\n"
    )
}

/// MV-34: presence is licensed per user, not per device or subscription: with one licence,
/// 201 watches two users, while 203 is refused; a package other than presence is 489.
#[test]
fn mv34_presence_is_licensed_per_user() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-presence-licence");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"33500-33509\"\n{}{USERS}",
        licence(&dir, 1)
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let to: SocketAddr = target.parse().expect("addr");
    let (a, c) = (sipp::free_udp_port(), sipp::free_udp_port());
    sipp_registered(&dir, &target, "201", "p201", a);
    sipp_registered(&dir, &target, "203", "p203", c);
    let sock_a = UdpSocket::bind(("127.0.0.1", a)).expect("201's port");
    let sock_c = UdpSocket::bind(("127.0.0.1", c)).expect("203's port");
    for (watched, id) in [("202", "s1"), ("203", "s2")] {
        let line = status_of(&sock_a, to, &subscribe(a, "201", watched, id, 600));
        assert_eq!(line, "SIP/2.0 200 OK", "201 watches {watched}");
    }
    let line = status_of(&sock_c, to, &subscribe(c, "203", "202", "s3", 600));
    assert_eq!(line, "SIP/2.0 403 Presence not licensed");
    let dialog = subscribe(c, "203", "202", "s4", 600).replace("presence", "dialog");
    assert_eq!(status_of(&sock_c, to, &dialog), "SIP/2.0 489 Bad Event");
    let _ = std::fs::remove_dir_all(&dir);
}
