//! The PBX binary on loopback: SIP over UDP, TCP and TLS, first-start data, DoS blacklist,
//! and a clean exit on SIGTERM (issue 10). Every wait is bounded.

mod common;

use std::io::Write as _;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::{EPHEMERAL_SIP, Pbx, options, read_message, request, temp_dir, tls_options};

const USERS: &str =
    "[[users]]\nextension = \"201\"\n[[users]]\nextension = \"202\"\npassword = \"s3cret-202\"\n";

fn udp_exchange(sock: &UdpSocket, to: std::net::SocketAddr, msg: &str) -> Option<String> {
    sock.send_to(msg.as_bytes(), to).expect("send");
    let mut buf = [0u8; 4096];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(_) => None,
    }
}

#[test]
fn options_over_udp_tcp_tls_then_clean_sigterm() {
    let dir = temp_dir("rt");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31000-31099\"\n{USERS}");
    let mut pbx = Pbx::start(&dir, &config);
    // First start: the password of 201 (none configured) is generated and printed once.
    assert!(
        pbx.printed
            .iter()
            .any(|l| l.starts_with("pbx: generated SIP password for extension 201: ")),
        "{:?}",
        pbx.printed
    );
    assert!(
        !pbx.printed.iter().any(|l| l.contains("extension 202")),
        "configured passwords are not printed"
    );

    // UDP: 200 with Allow, received and rport stamped on the Via (RFC 3581).
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let local = sock.local_addr().expect("addr");
    let r = udp_exchange(&sock, pbx.addr("udp"), &options("UDP", local, "u1")).expect("UDP answer");
    assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");
    assert!(
        r.lines()
            .any(|l| l.starts_with("Allow: ") && l.contains("OPTIONS") && l.contains("REGISTER")),
        "{r}"
    );
    assert!(
        r.contains(";received=127.0.0.1") && r.contains(&format!(";rport={}", local.port())),
        "{r}"
    );
    assert!(
        r.contains("CSeq: 1 OPTIONS\r\n") && r.contains("Call-ID: u1@127.0.0.1\r\n"),
        "{r}"
    );
    // REGISTER without credentials is challenged (RFC 3261 §22, MV-29).
    let r = udp_exchange(
        &sock,
        pbx.addr("udp"),
        &request("REGISTER", "UDP", local, "u2", ""),
    )
    .expect("answer");
    assert!(
        r.starts_with("SIP/2.0 401 ") && r.contains("WWW-Authenticate: Digest realm="),
        "{r}"
    );
    // A malformed request gets the parser's 400; an unknown Require gets 420 (RFC 3261 §8.2.2.3).
    let bad = options("UDP", local, "u3").replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    let r = udp_exchange(&sock, pbx.addr("udp"), &bad).expect("answer");
    assert!(r.starts_with("SIP/2.0 400 "), "{r}");
    let r = udp_exchange(
        &sock,
        pbx.addr("udp"),
        &request("OPTIONS", "UDP", local, "u4", "Require: foo\r\n"),
    )
    .expect("answer");
    assert!(
        r.starts_with("SIP/2.0 420 ") && r.contains("Unsupported: foo"),
        "{r}"
    );

    // TCP, with a CRLF keep-alive ping first (RFC 5626 pong).
    let mut tcp = TcpStream::connect(pbx.addr("tcp")).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    tcp.write_all(b"\r\n\r\n").expect("ping");
    let mut pong = [0u8; 2];
    std::io::Read::read_exact(&mut tcp, &mut pong).expect("pong");
    assert_eq!(&pong, b"\r\n");
    let local = tcp.local_addr().expect("addr");
    let msg = options("TCP", local, "t1");
    // Sent in two pieces: the framer reassembles.
    tcp.write_all(&msg.as_bytes()[..40]).expect("write");
    tcp.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(20));
    tcp.write_all(&msg.as_bytes()[40..]).expect("write");
    let r = read_message(&mut tcp);
    assert!(
        r.starts_with("SIP/2.0 200 OK\r\n") && r.contains("Allow: "),
        "{r}"
    );

    // TLS, trusting the certificate generated in the data directory.
    let pem = std::fs::read(pbx.data.join("tls/cert.pem")).expect("generated certificate");
    let r = tls_options(pbx.addr("tls"), &pem).expect("TLS exchange");
    assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");

    let status = pbx.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");

    // Second start: nothing generated, nothing printed; the certificate is reused.
    let mut pbx = Pbx::start(&dir, &config);
    assert!(
        !pbx.printed
            .iter()
            .any(|l| l.contains("generated SIP password")),
        "{:?}",
        pbx.printed
    );
    assert_eq!(
        std::fs::read(pbx.data.join("tls/cert.pem")).expect("cert"),
        pem
    );
    assert!(pbx.terminate().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mv2_34_flood_blacklists_the_source() {
    let dir = temp_dir("dos");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31100-31199\"\n[dos]\nmax_transactions = 5\ninterval_secs = 60\nblacklist_secs = 60\n{USERS}"
    );
    let mut pbx = Pbx::start(&dir, &config);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let local = sock.local_addr().expect("addr");
    for i in 0..5 {
        let r = udp_exchange(
            &sock,
            pbx.addr("udp"),
            &options("UDP", local, &format!("f{i}")),
        );
        assert!(
            r.is_some_and(|r| r.starts_with("SIP/2.0 200")),
            "request {i} is answered"
        );
    }
    // The 6th transaction within the window exceeds the maximum: blacklisted, then silence.
    for i in 5..8 {
        let r = udp_exchange(
            &sock,
            pbx.addr("udp"),
            &options("UDP", local, &format!("f{i}")),
        );
        assert!(
            r.is_none(),
            "request {i} from a blacklisted IP is dropped: {r:?}"
        );
    }
    assert!(pbx.terminate().success());
    let _ = std::fs::remove_dir_all(&dir);
}
