//! The sans-IO SMTP client and the RFC 5322 event message, checked against a real SMTP sink
//! (Debian's `python3-aiosmtpd`) on loopback (EV-30, EV-31, MV2-12). Skips when absent.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pbxkit_events::email::{self, Mailbox, OutgoingMail, SmtpClient, SmtpStatus};
use pbxkit_events::{Event, EventKind, NodeId, Timestamp};

/// A Python interpreter that can import aiosmtpd.
fn python_with_aiosmtpd() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[allow(clippy::disallowed_methods)] // Waits for a real external process to start listening.
fn connect(port: u16) -> Option<TcpStream> {
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Drives `client` over `stream` until the dialogue ends.
fn run(client: &mut SmtpClient, stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        while let Some(out) = client.poll_transmit() {
            stream.write_all(&out).expect("write");
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => client.handle_bytes(&buf[..n]),
            Err(_) => {
                client.handle_timeout();
                break;
            }
        }
    }
    while let Some(out) = client.poll_transmit() {
        let _ = stream.write_all(&out);
    }
}

#[test]
fn ev30_event_email_arrives_at_smtp_sink() {
    let Some(py) = python_with_aiosmtpd() else {
        testkit::peer_available(false, "python3-aiosmtpd");
        return;
    };
    let dir = std::env::temp_dir().join(format!("pbxkit-events-{}-smtp", std::process::id()));
    let maildir = dir.join("maildir");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let child = Command::new(py)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn aiosmtpd");
    let _sink = Sink(child);
    let mut stream = connect(port).expect("aiosmtpd listening");

    let ev = Event::builder(
        EventKind::SipAccountUnavailable,
        NodeId(1),
        Timestamp::from_unix_secs(1_795_904_456),
    )
    .text("provider", "Opérateur")
    .text("account", "4121")
    .code("reason", 0)
    .build()
    .expect("valid");
    let from = Mailbox::new("pbx@example.org").expect("valid");
    let to = vec![
        Mailbox::new("ops@example.org").expect("valid"),
        Mailbox::new("noc@example.org").expect("valid"),
    ];
    let message = email::message(&ev, &from, &to, "pbx.example.org");
    let mut client = SmtpClient::new("pbx.example.org", None, OutgoingMail { from, to, message });
    run(&mut client, &mut stream);
    assert_eq!(client.status(), SmtpStatus::Sent);

    let new = maildir.join("new");
    let files: Vec<_> = std::fs::read_dir(&new)
        .expect("maildir/new")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1, "one message stored");
    let stored = std::fs::read_to_string(files[0].path()).expect("read message");
    assert!(
        stored.contains("Subject: [PBXKit] Critical: SIP account not available (node 1)"),
        "{stored}"
    );
    assert!(
        stored.contains("To: ops@example.org, noc@example.org"),
        "{stored}"
    );
    // The body is quoted-printable UTF-8: decode the accented provider name.
    assert!(stored.contains("provider: Op=C3=A9rateur"), "{stored}");
    assert!(
        stored.contains("reason: 0 (provider_unreachable)"),
        "{stored}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ev31_unreachable_smtp_server_maps_to_tab24() {
    // Port 1 (tcpmux) is outside the ephemeral range, so the kernel cannot self-connect to it the
    // way it can to a just-released ephemeral port; nothing listens there on a test machine.
    let from = Mailbox::new("pbx@example.org").expect("valid");
    let to = vec![Mailbox::new("ops@example.org").expect("valid")];
    let mut client = SmtpClient::new(
        "h",
        None,
        OutgoingMail {
            from,
            to,
            message: String::new(),
        },
    );
    match TcpStream::connect(("127.0.0.1", 1)) {
        Err(_) => client.connect_failed(false),
        Ok(_) => panic!("something listens on 127.0.0.1:1; this test needs that port closed"),
    }
    assert_eq!(pbxkit_events::EmailCause::CannotConnect as u8, 3);
    assert!(matches!(
        client.status(),
        SmtpStatus::Failed {
            cause: pbxkit_events::EmailCause::CannotConnect,
            action: pbxkit_events::SmtpAction::Connecting,
            ..
        }
    ));
}
