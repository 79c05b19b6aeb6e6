//! Delivery adapters: JSON-lines file, syslog over UDP, SNMPv2c traps, SMTP over TCP.

use std::time::Duration;

use events::email::{self, Credentials, Mailbox, OutgoingMail, SmtpClient, SmtpStatus};
use events::{Event, Failure, Outcome};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpStream, UdpSocket};

use crate::config::EmailConfig;
use crate::config::value::HostPort;

/// Appends each message as one JSON line.
pub(crate) fn jsonl(path: &std::path::Path, evs: &[Event]) -> Result<(), crate::data::DataError> {
    for e in evs {
        crate::data::append_line(path, &events::format::json_line(e))?;
    }
    Ok(())
}

/// Sends `payloads` to `target` from `sock`.
pub(crate) async fn udp(
    sock: &UdpSocket,
    target: &HostPort,
    payloads: &[Vec<u8>],
) -> std::io::Result<()> {
    let addr = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
    for p in payloads {
        sock.send_to(p, addr).await?;
    }
    Ok(())
}

/// Sends one e-mail per message through the sans-IO SMTP client.
pub(crate) async fn smtp(cfg: &EmailConfig, helo: &str, evs: &[Event]) -> Outcome {
    let Ok(from) = Mailbox::new(cfg.from.get_ref()) else {
        return Outcome::Failed(Failure::Unreachable);
    };
    let to: Vec<Mailbox> = cfg
        .to
        .get_ref()
        .iter()
        .filter_map(|a| Mailbox::new(a).ok())
        .collect();
    let creds = cfg.username.clone().map(|user| Credentials {
        user,
        password: cfg.password.clone().unwrap_or_default(),
    });
    let timeout = Duration::from_secs(cfg.timeout_secs);
    for ev in evs {
        let mail = OutgoingMail {
            from: from.clone(),
            to: to.clone(),
            message: email::message(ev, &from, &to, helo),
        };
        let client = SmtpClient::new(helo, creds.clone(), mail);
        match one_mail(&cfg.server, timeout, client).await {
            SmtpStatus::Sent => {}
            SmtpStatus::Failed { cause, action, .. } => {
                return Outcome::Failed(Failure::Email { cause, action });
            }
            SmtpStatus::InProgress => return Outcome::Failed(Failure::Unreachable),
        }
    }
    Outcome::Delivered
}

async fn one_mail(server: &HostPort, timeout: Duration, mut c: SmtpClient) -> SmtpStatus {
    let connect = tokio::time::timeout(
        timeout,
        TcpStream::connect((server.host.as_str(), server.port)),
    )
    .await;
    let mut stream = match connect {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            c.connect_failed(e.kind() == std::io::ErrorKind::NotFound);
            return c.status();
        }
        Err(_) => {
            c.connect_failed(false);
            return c.status();
        }
    };
    let mut buf = [0u8; 4096];
    // Each reply resets the timer; the loop ends when the client has finished (bounded by
    // the server's replies, each within `timeout`).
    loop {
        while let Some(out) = c.poll_transmit() {
            if stream.write_all(&out).await.is_err() {
                c.handle_timeout();
                return c.status();
            }
        }
        if c.status() != SmtpStatus::InProgress {
            let _ = stream.shutdown().await;
            return c.status();
        }
        match tokio::time::timeout(timeout, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => c.handle_bytes(&buf[..n]),
            _ => c.handle_timeout(),
        }
    }
}
