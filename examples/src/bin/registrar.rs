//! A digest-authenticating SIP registrar on the sans-IO `Endpoint`, `DigestServer` and
//! `Registrar`, driven by tokio over UDP. Users come from the command line.
//!
//! ```sh
//! cargo run --release -p pbxkit-examples --bin registrar -- --user 201:s3cret --user 202:pw
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use sip_core::digest::{Algorithm, DigestServer, ServerConfig, ha1};
use sip_core::endpoint::{Config, Endpoint, Event};
use sip_core::location::{Admission, Registrar, RegistrarConfig, address_of_record};
use sip_core::{Message, Method};
use tokio::net::UdpSocket;

#[derive(Parser)]
#[command(about = "A digest-authenticating SIP registrar")]
struct Args {
    /// UDP address to listen on (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:5060")]
    bind: SocketAddr,
    /// A user as NAME:PASSWORD (repeatable).
    #[arg(long = "user", value_parser = parse_user, required = true)]
    users: Vec<(String, String)>,
    /// The digest realm.
    #[arg(long, default_value = "pbxkit")]
    realm: String,
    /// Offer only MD5 (for clients without SHA-256 digest, RFC 8760).
    #[arg(long)]
    md5_only: bool,
    /// Exit after this many seconds (for bounded test runs).
    #[arg(long)]
    exit_after: Option<u64>,
}

fn parse_user(s: &str) -> Result<(String, String), String> {
    s.split_once(':')
        .map(|(u, p)| (u.to_owned(), p.to_owned()))
        .ok_or_else(|| format!("expected NAME:PASSWORD, got {s:?}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

struct App {
    ep: Endpoint,
    digest: DigestServer,
    registrar: Registrar,
    users: HashMap<String, String>,
    realm: String,
}

impl App {
    fn on_register(
        &mut self,
        now: Instant,
        tx: sip_core::transaction::TxId,
        req: &Message,
        from: SocketAddr,
    ) {
        let Some(aor) = address_of_record(req) else {
            let _ = self
                .ep
                .reply(now, tx, 400, "To is not a SIP address of record");
            return;
        };
        let (users, realm) = (&self.users, &self.realm);
        let lookup = |u: &str, alg: Algorithm| users.get(u).map(|p| ha1(alg, u, realm, p));
        let user = match self.digest.verify(unix_now(), req, lookup) {
            Ok(v) => v.username,
            Err(e) if e.challenge() => {
                let stale = e == sip_core::digest::AuthError::Stale;
                let (code, reason) = self.digest.status();
                let ch = self.digest.challenges(unix_now(), stale);
                let _ = self.ep.reply_with(now, tx, code, reason, &ch, None);
                return;
            }
            Err(e) => {
                let _ = self.ep.reply(now, tx, 400, &e.to_string());
                return;
            }
        };
        if !aor.starts_with(&format!("sip:{user}@")) {
            let _ = self
                .ep
                .reply(now, tx, 403, "Credentials do not match the AOR");
            return;
        }
        let transport = sip_core::transaction::Transport::Udp;
        let r = self
            .registrar
            .register(now, &aor, req, from, transport, |_, _| Admission::Accept);
        let _ = self
            .ep
            .reply_with(now, tx, r.code, &r.reason, &r.headers, None);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let sock = UdpSocket::bind(args.bind).await?;
    println!("listening on {}", sock.local_addr()?);
    let mut config = Config::default();
    config.allow.push("REGISTER".into());
    let mut digest = ServerConfig::new(args.realm.clone());
    if args.md5_only {
        digest.algorithms = vec![Algorithm::Md5];
    }
    let secret: [u8; 32] = rand::random();
    let mut app = App {
        ep: Endpoint::new(config, rand::random()),
        digest: DigestServer::new(digest, &secret),
        registrar: Registrar::new(RegistrarConfig::default()),
        users: args.users.into_iter().collect(),
        realm: args.realm,
    };
    let stop = args
        .exit_after
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut buf = vec![0u8; 65_535];
    loop {
        let wake = [app.ep.poll_timeout(), app.registrar.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let (n, from) = r?;
                app.ep.handle_datagram(Instant::now(), from, buf[..n].to_vec());
            }
            () = tokio::time::sleep_until(wake.into()) => {
                app.ep.handle_timeout(Instant::now());
                app.registrar.handle_timeout(Instant::now());
            }
        }
        while let Some(ev) = app.ep.poll_event() {
            if let Event::Request {
                tx,
                request,
                source,
                ..
            } = ev
            {
                let now = Instant::now();
                match request.method() {
                    Some(Method::Register) => app.on_register(now, tx, &request, source),
                    _ => drop(app.ep.reply(now, tx, 405, "Method Not Allowed")),
                }
            }
        }
        while let Some(ev) = app.registrar.poll_event() {
            eprintln!("registrar: {ev:?}");
        }
        while let Some(t) = app.ep.poll_transmit() {
            if sock.send_to(&t.payload, t.destination).await.is_err() {
                app.ep.handle_send_failure(t.transport, t.destination);
            }
        }
        if stop.is_some_and(|s| Instant::now() >= s) {
            return Ok(());
        }
    }
}
