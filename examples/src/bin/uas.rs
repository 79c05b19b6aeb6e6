//! A minimal user agent server on the sans-IO `Endpoint`, driven by tokio over UDP: answers
//! INVITE with 200 and an SDP answer (or 486 with `--busy`), and handles ACK, BYE, CANCEL
//! and OPTIONS. It prints `listening on ADDR` once bound.
//!
//! ```sh
//! cargo run --release -p pbxkit-examples --bin uas -- --bind 127.0.0.1:5080
//! sipp -sn uac 127.0.0.1:5080 -m 100 -r 10
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use sip_core::endpoint::{Config, Endpoint, Event};
use sip_core::{HeaderName, Method};
use tokio::net::UdpSocket;

#[derive(Parser)]
#[command(about = "A minimal SIP UAS answering every INVITE (or busy)")]
struct Args {
    /// UDP address to listen on (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:5080")]
    bind: SocketAddr,
    /// Answer INVITEs with 486 Busy Here.
    #[arg(long)]
    busy: bool,
    /// Exit after this many seconds (for bounded test runs).
    #[arg(long)]
    exit_after: Option<u64>,
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let sock = UdpSocket::bind(args.bind).await?;
    let local = sock.local_addr()?;
    println!("listening on {local}");
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut ep = Endpoint::new(Config::default(), seed);
    let contact = format!("<sip:uas@{local}>");
    let sdp = bytes::Bytes::from_static(SDP.as_bytes());
    let stop = args
        .exit_after
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut buf = vec![0u8; 65_535];
    loop {
        let wake = ep
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let (n, from) = r?;
                ep.handle_datagram(Instant::now(), from, buf[..n].to_vec());
            }
            () = tokio::time::sleep_until(wake.into()) => ep.handle_timeout(Instant::now()),
        }
        while let Some(ev) = ep.poll_event() {
            let now = Instant::now();
            if let Event::Request { tx, request, .. } = ev {
                let result = match request.method() {
                    Some(Method::Invite) if args.busy => ep.reply(now, tx, 486, "Busy Here"),
                    Some(Method::Invite) => ep.reply_with(
                        now,
                        tx,
                        200,
                        "OK",
                        &[(HeaderName::Contact, contact.clone())],
                        Some(("application/sdp", &sdp)),
                    ),
                    Some(Method::Bye | Method::Options) => ep.reply(now, tx, 200, "OK"),
                    _ => ep.reply(now, tx, 501, "Not Implemented"),
                };
                if let Err(e) = result {
                    eprintln!("uas: cannot answer: {e}");
                }
            }
        }
        while let Some(t) = ep.poll_transmit() {
            if sock.send_to(&t.payload, t.destination).await.is_err() {
                ep.handle_send_failure(t.transport, t.destination);
            }
        }
        if stop.is_some_and(|s| Instant::now() >= s) {
            return Ok(());
        }
    }
}
