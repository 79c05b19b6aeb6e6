//! Presence (MV-34): a SIPp phone subscribes to the presence of an extension through the
//! PBX and reads the PIDF of every NOTIFY. Licensing per user is checked with a signed
//! licence file.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use common::{
    EPHEMERAL_SIP, Pbx, events_until, final_response, find_event, sipp_registered, status_of,
    temp_dir,
};
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
/// MV2-40: the limit and the return within it are reported as events.
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
    let mut tags = Vec::new();
    for (watched, id) in [("202", "s1"), ("203", "s2")] {
        let request = subscribe(a, "201", watched, id, 600);
        let answer = final_response(&sock_a, to, &request);
        assert!(
            answer.starts_with("SIP/2.0 200 OK\r\n"),
            "201 watches {watched}: {answer}"
        );
        tags.push((request, to_tag(&answer)));
    }
    let line = status_of(&sock_c, to, &subscribe(c, "203", "202", "s3", 600));
    assert_eq!(line, "SIP/2.0 403 Presence not licensed");
    let dialog = subscribe(c, "203", "202", "s4", 600).replace("presence", "dialog");
    assert_eq!(status_of(&sock_c, to, &dialog), "SIP/2.0 489 Bad Event");
    // MV2-40: the refusal is reported, and so is the licence coming free again once 201
    // has ended both its subscriptions.
    let events = events_until(&pbx.data, 0, &["simple_msrp_licence_limit_reached"]);
    find_event(&events, "simple_msrp_licence_limit_reached");
    for (request, tag) in tags {
        let end = request
            .replace("Expires: 600", "Expires: 0")
            .replace("CSeq: 1 SUBSCRIBE", "CSeq: 2 SUBSCRIBE")
            .replace("z9hG4bKs", "z9hG4bKend")
            .replacen(">\r\nCall-ID", &format!(">;tag={tag}\r\nCall-ID"), 1);
        assert_eq!(status_of(&sock_a, to, &end), "SIP/2.0 200 OK", "{end}");
    }
    let events = events_until(&pbx.data, 0, &["simple_msrp_within_licence_limit"]);
    find_event(&events, "simple_msrp_within_licence_limit");
    let line = status_of(&sock_c, to, &subscribe(c, "203", "202", "s5", 600));
    assert_eq!(line, "SIP/2.0 200 OK", "203 takes the freed licence");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tag of a response's To header.
fn to_tag(response: &str) -> String {
    response
        .lines()
        .find(|l| l.starts_with("To:"))
        .and_then(|l| l.split(";tag=").nth(1))
        .expect("To tag")
        .trim()
        .to_owned()
}

/// The 200 a subscriber sends back to `notify`.
fn ok_to(notify: &str) -> String {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for line in notify.lines() {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if ["via", "from", "to", "call-id", "cseq"].contains(&name.as_str()) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

/// MV-34: while the watched user is in an answered call its presence says on-the-phone,
/// and open again once the call is over. 201 subscribes from a plain socket and answers
/// each NOTIFY; 203 calls 202 with SIPp.
#[test]
fn mv34_presence_shows_the_watched_user_on_the_phone_during_a_call() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-presence-call");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"33510-33529\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let to: SocketAddr = target.parse().expect("addr");
    let (a, b, c) = (
        sipp::free_udp_port(),
        sipp::free_udp_port(),
        sipp::free_udp_port(),
    );
    for (user, port) in [("201", a), ("202", b), ("203", c)] {
        sipp_registered(&dir, &target, user, &format!("p{user}"), port);
    }
    let sock = UdpSocket::bind(("127.0.0.1", a)).expect("201's port");
    sock.set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    sock.send_to(subscribe(a, "201", "202", "busy", 600).as_bytes(), to)
        .expect("send");
    // Each NOTIFY once (by CSeq), answered; `<basic>` plus on-the-phone.
    let mut seen: Vec<(String, String)> = Vec::new();
    let drain = |seen: &mut Vec<(String, String)>| {
        let mut buf = [0u8; 8192];
        while let Ok(n) = sock.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("NOTIFY ") {
                continue;
            }
            sock.send_to(ok_to(&text).as_bytes(), to).expect("send");
            let cseq = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("cseq:"))
                .unwrap_or_default()
                .to_owned();
            let status = if text.contains("on-the-phone") {
                "on-the-phone".to_owned()
            } else {
                text.split("<basic>")
                    .nth(1)
                    .and_then(|r| r.split("</basic>").next())
                    .unwrap_or_default()
                    .to_owned()
            };
            if !seen.iter().any(|(c, _)| *c == cseq) {
                seen.push((cseq, status));
            }
        }
    };
    drain(&mut seen);
    let callee = Background::start(&dir, "", b, &["-sn", "uas", "-m", "1"]);
    std::thread::sleep(Duration::from_millis(300));
    let sf = scenario("call_as_user.xml");
    let args = ["-sf", &sf, "-key", "caller", "203", "-s", "202", "-m", "1"];
    let call = sipp::run(&dir, &target, c, &args);
    assert_eq!(call.stat("SuccessfulCall(C)"), 1, "{:?}", call.stats);
    let answered = callee.wait();
    assert_eq!(
        answered.stat("SuccessfulCall(C)"),
        1,
        "{:?}",
        answered.stats
    );
    drain(&mut seen);
    let statuses: Vec<&str> = seen.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["open", "on-the-phone", "open"], "{seen:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
