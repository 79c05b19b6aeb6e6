//! Text messages between users (MV-49): SIP MESSAGE through the PBX to a user and to a
//! message group, with a predefined text. SIPp is every phone.

mod common;

use std::net::{SocketAddr, UdpSocket};

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, status_of, temp_dir};
use testkit::sipp::{self, Background, scenario};

fn config(rtp: &str, extra: &str) -> String {
    let mut users = String::new();
    for ext in ["201", "202", "203", "204"] {
        users.push_str(&format!(
            "[[users]]\nextension = \"{ext}\"\npassword = \"p{ext}\"\n"
        ));
    }
    format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"{rtp}\"\n\
         [messaging]\ntexts = [\"In a meeting\", \"Please call me back\"]\n\
         {users}{extra}"
    )
}

/// Registers `users`, each from a port of its own; the ports.
fn register<const N: usize>(dir: &std::path::Path, pbx: &str, users: [&str; N]) -> [u16; N] {
    users.map(|user| {
        let port = sipp::free_udp_port();
        sipp_registered(dir, pbx, user, &format!("p{user}"), port);
        port
    })
}

fn receiver(dir: &std::path::Path, port: u16) -> Background {
    let sf = scenario("message_receive.xml");
    Background::start(dir, "", port, &["-sf", &sf, "-m", "1"])
}

/// 201 sends `text` to `to`; SIPp's run.
fn send(dir: &std::path::Path, pbx: &str, port: u16, to: &str, text: &str) -> sipp::Run {
    let sf = scenario("message_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-key", "text", text, "-s", to, "-m", "1",
    ];
    sipp::run(dir, pbx, port, &args)
}

/// MV-49: a freely written text reaches the addressed user's phone, from 201.
#[test]
fn mv49_a_text_message_reaches_the_addressed_user() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-message");
    let pbx = Pbx::start(&dir, &config("33460-33469", ""));
    let target = pbx.addr("udp").to_string();
    let [a, b] = register(&dir, &target, ["201", "202"]);
    let rx = receiver(&dir, b);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = send(&dir, &target, a, "202", "Please call me back when you can");
    assert_eq!(
        run.stat("SuccessfulCall(C)"),
        1,
        "sender got 200: {:?}",
        run.stats
    );
    let got = rx.wait();
    assert_eq!(
        got.stat("SuccessfulCall(C)"),
        1,
        "202 got it: {:?}",
        got.stats
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// MV-49: a predefined text (`#2`) sent to a message group reaches every other member as
/// its text; the sender, a member too, gets no copy.
#[test]
fn mv49_a_predefined_text_to_a_message_group_reaches_every_other_member() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-message-group");
    let group = "[[message_groups]]\nnumber = \"700\"\nmembers = [\"201\", \"202\", \"203\"]\n";
    let pbx = Pbx::start(&dir, &config("33470-33479", group));
    let target = pbx.addr("udp").to_string();
    // 201 has a second phone, which must get nothing: the sender gets no copy.
    let [a, a2, b, c] = register(&dir, &target, ["201", "201", "202", "203"]);
    let second = UdpSocket::bind(("127.0.0.1", a2)).expect("201's second phone");
    let (rb, rc) = (receiver(&dir, b), receiver(&dir, c));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = send(&dir, &target, a, "700", "#2");
    assert_eq!(
        run.stat("SuccessfulCall(C)"),
        1,
        "sender got 200: {:?}",
        run.stats
    );
    assert_eq!(rb.wait().stat("SuccessfulCall(C)"), 1, "202 got the text");
    assert_eq!(rc.wait().stat("SuccessfulCall(C)"), 1, "203 got the text");
    second
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .expect("timeout");
    let mut buf = [0u8; 2048];
    if let Ok(n) = second.recv(&mut buf) {
        panic!("201 got {:?}", String::from_utf8_lossy(&buf[..n]));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A MESSAGE from 201 (registered from local `port`) to `user`.
fn message_from_201(port: u16, user: &str, call_id: &str) -> String {
    let body = "hello";
    format!(
        "MESSAGE sip:{user}@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:201@127.0.0.1>;tag={call_id}\r\n\
         To: <sip:{user}@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 MESSAGE\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// MV-49: what cannot be delivered is answered at once: an unknown number 404, a user or
/// group with no phone registered 480, a sender not registered from its address 403.
#[test]
fn mv49_undeliverable_text_messages_are_refused() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-message-refused");
    let group = "[[message_groups]]\nnumber = \"700\"\nmembers = [\"201\", \"203\"]\n";
    let pbx = Pbx::start(&dir, &config("33480-33489", group));
    let target = pbx.addr("udp").to_string();
    let [a] = register(&dir, &target, ["201"]);
    let sock = UdpSocket::bind(("127.0.0.1", a)).expect("201's port");
    let to: SocketAddr = target.parse().expect("addr");
    for (user, status) in [
        ("999", "SIP/2.0 404 Not Found"),
        ("202", "SIP/2.0 480 Temporarily Unavailable"),
        ("700", "SIP/2.0 480 Temporarily Unavailable"),
    ] {
        let line = status_of(&sock, to, &message_from_201(a, user, &format!("m{user}")));
        assert_eq!(line, status, "to {user}");
    }
    let stranger = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = stranger.local_addr().expect("addr").port();
    let line = status_of(&stranger, to, &message_from_201(port, "202", "m-stranger"));
    assert_eq!(line, "SIP/2.0 403 Sender not registered from this address");
    let _ = std::fs::remove_dir_all(&dir);
}
