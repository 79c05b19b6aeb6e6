//! NAT traversal keep-alives (issue 10): the PBX answers STUN Binding requests on its SIP
//! UDP port (RFC 5626 §4.4.2; coturn's `turnutils_stunclient` is the client), and sends a
//! double CRLF every `nat_keepalive_secs` to devices registered from behind a NAT, and to
//! no other.

mod common;

use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, temp_dir};
use testkit::sipp::{self, scenario};

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"p201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"p202\"\n";

#[test]
fn stun_binding_requests_on_the_sip_port_are_answered() {
    if !testkit::peer("turnutils_stunclient") {
        return;
    }
    let dir = temp_dir("nat-stun");
    let pbx = Pbx::start(&dir, &format!("{EPHEMERAL_SIP}{USERS}"));
    let port = pbx.addr("udp").port().to_string();
    // Bounded: the client waits forever for an answer that does not come.
    let out = Command::new("timeout")
        .args(["10", "turnutils_stunclient", "-p", &port, "127.0.0.1"])
        .output()
        .expect("turnutils_stunclient");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    // It prints the reflexive address the server saw: loopback, from its own port.
    let line = text
        .lines()
        .find(|l| l.contains("UDP reflexive addr"))
        .unwrap_or_else(|| panic!("no reflexive address: {text}"));
    assert!(line.contains("127.0.0.1:"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Counts the double-CRLF datagrams arriving on `sock` within `window`.
fn keepalives(sock: &UdpSocket, window: Duration) -> usize {
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let (mut n, mut buf) = (0, [0u8; 1500]);
    let end = Instant::now() + window;
    while Instant::now() < end {
        if let Ok(len) = sock.recv(&mut buf) {
            if &buf[..len] == b"\r\n\r\n" {
                n += 1;
            } else {
                panic!("unexpected {:?}", String::from_utf8_lossy(&buf[..len]));
            }
        }
    }
    n
}

#[test]
fn devices_behind_a_nat_get_keepalives_and_others_none() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("nat-keepalive");
    let config = format!("{EPHEMERAL_SIP}nat_keepalive_secs = 1\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (natted, direct) = (sipp::free_udp_port(), sipp::free_udp_port());
    let sf = scenario("register_behind_nat.xml");
    let args = [
        "-sf", &sf, "-s", "201", "-au", "201", "-ap", "p201", "-m", "1",
    ];
    let r = sipp::run(&dir, &target, natted, &args);
    assert_eq!(r.stat("SuccessfulCall(C)"), 1, "{:?}", r.stats);
    sipp_registered(&dir, &target, "202", "p202", direct);
    // The devices' ports, now that SIPp has left them.
    let natted = UdpSocket::bind(("127.0.0.1", natted)).expect("natted port");
    let direct = UdpSocket::bind(("127.0.0.1", direct)).expect("direct port");
    let got = keepalives(&natted, Duration::from_millis(2500));
    assert!((2..=3).contains(&got), "one a second behind the NAT: {got}");
    assert_eq!(keepalives(&direct, Duration::from_millis(300)), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
