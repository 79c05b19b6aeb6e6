//! Event delivery from the running PBX: JSON lines, syslog over UDP, SNMPv2c traps and
//! e-mail through a real SMTP sink (aiosmtpd), plus the MV2-34 blacklist events.

mod common;

use std::io::Read as _;
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{EPHEMERAL_SIP, Pbx, event_ids, events_until, options, temp_dir};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn recv_text(sock: &UdpSocket) -> String {
    let mut buf = [0u8; 8192];
    let (n, _) = sock
        .recv_from(&mut buf)
        .expect("datagram within the timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn startup_and_dos_events_reach_every_destination() {
    let dir = temp_dir("ev");
    let syslog = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let snmp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for s in [&syslog, &snmp] {
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
    }
    // A real SMTP server as the e-mail oracle, when installed.
    let smtp_port = free_port();
    let smtp = testkit::peer("aiosmtpd").then(|| {
        let child = Command::new("aiosmtpd")
            .args(["-n", "-l", &format!("127.0.0.1:{smtp_port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        std::thread::sleep(Duration::from_millis(800));
        Kill(child)
    });
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31200-31299\"\n\
         [dos]\nmax_transactions = 2\ninterval_secs = 60\nblacklist_secs = 1\n\
         [events]\nhostname = \"pbx-test\"\n\
         [events.syslog]\ntarget = \"{}\"\n\
         [[events.snmp]]\ntarget = \"{}\"\ncommunity = \"c0mm\"\n\
         [events.email]\nserver = \"127.0.0.1:{smtp_port}\"\nfrom = \"pbx@example.com\"\nto = [\"ops@example.com\"]\ntimeout_secs = 5\n",
        syslog.local_addr().expect("addr"),
        snmp.local_addr().expect("addr"),
    );
    let mut pbx = Pbx::start(&dir, &config);
    assert!(
        pbx.printed.iter().any(|l| l == "pbx: licence mode demo"),
        "{:?}",
        pbx.printed
    );

    // system_restarted is critical: table 3 (local + SNMP) and table 5 (e-mail) pass it.
    let line = recv_text(&syslog);
    assert!(
        line.starts_with("<130>1 "),
        "local0.critical (RFC 5424): {line}"
    );
    assert!(
        line.contains(" pbx-test pbxkit - system_restarted "),
        "{line}"
    );
    let mut trap = [0u8; 8192];
    let (n, _) = snmp.recv_from(&mut trap).expect("trap");
    let trap = &trap[..n];
    assert_eq!(trap[0], 0x30, "an SNMP message is a BER SEQUENCE");
    assert!(trap.windows(4).any(|w| w == b"c0mm"), "community carried");
    assert!(
        trap.windows(16).any(|w| w == b"system_restarted"),
        "event id carried"
    );

    // MV2-34: a flood blacklists the source; the (important) blacklist events follow.
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let local = sock.local_addr().expect("addr");
    for i in 0..4 {
        sock.send_to(
            options("UDP", local, &format!("d{i}")).as_bytes(),
            pbx.addr("udp"),
        )
        .expect("send");
    }
    let line = recv_text(&syslog);
    assert!(
        line.contains("dos_ip_blacklisted") && line.contains("ip_address=\"127.0.0.1\""),
        "{line}"
    );
    assert!(
        line.contains("cause=\"1\""),
        "too many transactions: {line}"
    );
    let line = recv_text(&syslog);
    assert!(
        line.contains("dos_ip_unblacklisted"),
        "unblocked after 1 s: {line}"
    );

    // The event log (table 4: every type) is mirrored as JSON lines.
    let events = events_until(&pbx.data, 0, &["dos_ip_unblacklisted"]);
    let ids = event_ids(&events);
    assert_eq!(
        ids,
        [
            "system_restarted",
            "tls_cert_generated_update_non_mitel",
            "dos_ip_blacklisted",
            "dos_ip_unblacklisted"
        ],
    );

    assert!(pbx.terminate().success());
    if let Some(mut smtp) = smtp {
        // aiosmtpd prints each received message; stop it and read what it printed.
        let _ = smtp.0.kill();
        let mut out = String::new();
        let _ = smtp
            .0
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out);
        assert!(
            out.contains("Subject: [PBXKit] Critical: Communication server restarted (node 1)"),
            "{out}"
        );
        assert!(out.contains("ops@example.com"), "{out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
