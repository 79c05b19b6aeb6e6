//! The echo-test number of the default configuration (`*43`, issue 10): a phone registered
//! with SIPp (digest) then calls it from the same address with plain UDP; the PBX answers
//! with its own SDP and every RTP packet comes back; BYE ends the call and writes a record.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, temp_dir};
use testkit::sipp;

fn recv(sock: &UdpSocket) -> String {
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .expect("a SIP message within the timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Reads until a final response (skips 100/180).
fn final_response(sock: &UdpSocket) -> String {
    loop {
        let m = recv(sock);
        if !m.starts_with("SIP/2.0 1") {
            return m;
        }
    }
}

fn header<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("{name} missing in {msg}"))
}

/// A PBX with extension 201 registered by SIPp, the PBX's UDP address, and the phone's SIP
/// socket on the port it registered from (so it may call, RFC 3581).
fn registered(tag: &str, rtp_ports: &str) -> (Pbx, SocketAddr, u16, UdpSocket) {
    let dir = temp_dir(tag);
    let users = "[[users]]\nextension = \"201\"\npassword = \"p201\"\n";
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"{rtp_ports}\"\n{users}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp");
    let port = sipp::free_udp_port();
    sipp_registered(&dir, &target.to_string(), "201", "p201", port);
    let sip = UdpSocket::bind(("127.0.0.1", port)).expect("the registered port");
    sip.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    (pbx, target, port, sip)
}

#[test]
fn echo_test_number_answers_and_sends_every_packet_back() {
    if !testkit::peer("sipp") {
        return;
    }
    let (pbx, target, port, sip) = registered("echo", "32600-32699");
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp");
    rtp.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let media = rtp.local_addr().expect("addr").port();
    let sdp = format!(
        "v=0\r\no=- 5 5 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {media} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    let head = |method: &str, cseq: u32, branch: &str, to_tag: &str| {
        format!(
            "{method} sip:*43@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:201@127.0.0.1>;tag=echo1\r\n\
             To: <sip:*43@127.0.0.1>{to_tag}\r\nCall-ID: echo-call@127.0.0.1\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:201@127.0.0.1:{port}>\r\n"
        )
    };
    let invite = format!(
        "{}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        head("INVITE", 1, "inv1", ""),
        sdp.len()
    );
    sip.send_to(invite.as_bytes(), target).expect("send");
    let ok = final_response(&sip);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    // The answer: PCMU (the phone's first codec) and telephone-event, at the PBX's port.
    let mline = ok
        .lines()
        .find(|l| l.starts_with("m=audio "))
        .expect("SDP answer");
    assert!(mline.ends_with(" RTP/AVP 0 101"), "{mline}");
    assert!(
        ok.contains("a=ptime:20\r\n"),
        "[media] ptime_ms in our answer: {ok}"
    );
    let echo_port: u16 = mline
        .split(' ')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert!((32600..32700).contains(&echo_port), "{mline}");
    let to = header(&ok, "To");
    let tag = &to[to.find(";tag=").expect("To tag")..];
    let ack = format!("{}Content-Length: 0\r\n\r\n", head("ACK", 1, "ack1", tag));
    sip.send_to(ack.as_bytes(), target).expect("ack");

    let echo: SocketAddr = ([127, 0, 0, 1], echo_port).into();
    for seq in 0u8..5 {
        let mut pkt = vec![0x80, 0, 0, seq, 0, 0, 0, seq, 1, 2, 3, 4];
        pkt.extend_from_slice(&[0xff; 160]);
        rtp.send_to(&pkt, echo).expect("rtp out");
        let mut back = [0u8; 2048];
        let (n, from) = rtp.recv_from(&mut back).expect("the packet comes back");
        assert_eq!((&back[..n], from), (&pkt[..], echo), "packet {seq} echoed");
    }

    let bye = format!("{}Content-Length: 0\r\n\r\n", head("BYE", 2, "bye1", tag));
    sip.send_to(bye.as_bytes(), target).expect("bye");
    let ok = final_response(&sip);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    std::thread::sleep(Duration::from_millis(200));
    let cdrs = common::cdrs(&pbx.data);
    assert!(
        cdrs.contains("\"caller\":\"201\",\"callee\":\"*43\"")
            && cdrs.contains("\"disposition\":\"answered\""),
        "{cdrs}"
    );
    // The echo is gone: a packet now gets no answer.
    rtp.send_to(&[0x80, 0, 0, 9, 0, 0, 0, 9, 1, 2, 3, 4], echo)
        .expect("rtp");
    rtp.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    assert!(rtp.recv_from(&mut [0u8; 64]).is_err(), "echo stopped");
}

#[test]
fn echo_test_refuses_an_srtp_offer() {
    if !testkit::peer("sipp") {
        return;
    }
    let (_pbx, target, port, sip) = registered("echo-srtp", "32700-32719");
    let sdp = "v=0\r\no=- 5 5 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 4000 RTP/SAVP 0\r\n\
               a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
    let invite = format!(
        "INVITE sip:*43@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKsavp;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:201@127.0.0.1>;tag=savp\r\nTo: <sip:*43@127.0.0.1>\r\n\
         Call-ID: echo-savp@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:201@127.0.0.1:{port}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sip.send_to(invite.as_bytes(), target).expect("send");
    let answer = final_response(&sip);
    assert!(
        answer.starts_with("SIP/2.0 488 SRTP not available"),
        "{answer}"
    );
}
