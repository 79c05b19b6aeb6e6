//! Starting the `pbx` binary on loopback for integration tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `pbx`, killed on drop.
pub struct Pbx {
    pub child: Child,
    pub addrs: HashMap<String, SocketAddr>,
    pub printed: Vec<String>,
    pub lines: mpsc::Receiver<String>,
    pub data: PathBuf,
}

/// A fresh temporary folder.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pbx-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Loopback listeners on ephemeral ports, as a `[sip]` table.
pub const EPHEMERAL_SIP: &str =
    "[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\ntls = \"127.0.0.1:0\"\n";

impl Pbx {
    /// Writes `config` into `dir`, starts `pbx --config … --data-dir dir/data`, and waits
    /// (at most 20 s) for `pbx: ready`.
    pub fn start(dir: &Path, config: &str) -> Self {
        Self::start_env(dir, config, &[])
    }

    /// [`Pbx::start`] with extra environment variables.
    pub fn start_env(dir: &Path, config: &str, env: &[(&str, &str)]) -> Self {
        let cfg = dir.join("pbx.toml");
        std::fs::write(&cfg, config).expect("write config");
        let data = dir.join("data");
        let mut child = Command::new(env!("CARGO_BIN_EXE_pbx"))
            .arg("--config")
            .arg(&cfg)
            .arg("--data-dir")
            .arg(&data)
            .env(
                "RUST_LOG",
                std::env::var("PBX_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("pbx.log")).map_or(Stdio::null(), Stdio::from))
            .spawn()
            .expect("start pbx");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut pbx = Self {
            child,
            addrs: HashMap::new(),
            printed: Vec::new(),
            lines,
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = pbx
                .lines
                .recv_timeout(left)
                .expect("pbx printed `pbx: ready` in time");
            if line == "pbx: ready" {
                break;
            }
            if let Some(rest) = line.strip_prefix("pbx: sip/")
                && let Some((t, a)) = rest.split_once(" listening on ")
            {
                pbx.addrs.insert(t.to_owned(), a.parse().expect("address"));
            }
            pbx.printed.push(line);
        }
        pbx
    }

    /// The address of `transport` (`udp`, `tcp`, `tls`).
    pub fn addr(&self, transport: &str) -> SocketAddr {
        self.addrs[transport]
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "pbx did not exit within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pbx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OPTIONS request as a client on `local` would send it over `transport`.
pub fn options(transport: &str, local: SocketAddr, branch: &str) -> String {
    request("OPTIONS", transport, local, branch, "")
}

/// A request without body.
pub fn request(
    method: &str,
    transport: &str,
    local: SocketAddr,
    branch: &str,
    extra: &str,
) -> String {
    format!(
        "{method} sip:pbx@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch=z9hG4bK{branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:test@127.0.0.1>;tag=t{branch}\r\n\
         To: <sip:pbx@127.0.0.1>\r\n\
         Call-ID: {branch}@127.0.0.1\r\n\
         CSeq: 1 {method}\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
}

/// Reads one SIP message from a stream (head + Content-Length body), bounded by the
/// stream's read timeout.
pub fn read_message(r: &mut impl std::io::Read) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = r.read(&mut byte).expect("read response");
        assert!(
            n == 1,
            "connection closed mid-message: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    String::from_utf8(buf).expect("utf-8")
}

/// Sends OPTIONS over TLS to `addr`, trusting the certificate(s) in `pem`; the response, or
/// what failed (the handshake, the write or the read) as text.
pub fn tls_options(addr: SocketAddr, pem: &[u8]) -> Result<String, String> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject as _};
    use std::io::{Read as _, Write as _};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pem) {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
    let conn =
        rustls::ClientConnection::new(std::sync::Arc::new(cfg), name).map_err(|e| e.to_string())?;
    let sock = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let local = sock.local_addr().map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(options("TLS", local, "s1").as_bytes())
        .and_then(|()| tls.flush())
        .map_err(|e| format!("handshake or write: {e}"))?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match tls.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            Ok(_) => return Err("connection closed".to_owned()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    String::from_utf8(buf).map_err(|e| e.to_string())
}

/// The call records in `data/cdr.jsonl` once the file has stopped growing for 300 ms (they
/// are written by a thread of their own, just after each call ends); at most 10 s.
pub fn cdrs(data: &Path) -> String {
    let path = data.join("cdr.jsonl");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    let mut since = Instant::now();
    loop {
        let now = std::fs::read_to_string(&path).unwrap_or_default();
        if now != last {
            last = now;
            since = Instant::now();
        } else if !last.is_empty() && since.elapsed() >= Duration::from_millis(300) {
            return last;
        }
        if Instant::now() > deadline {
            return last;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (at most 10 s) until the JSON-lines event log in `data` holds an event of each
/// id in `want` after its first `from` lines, and returns every event of the log.
pub fn events_until(data: &Path, from: usize, want: &[&str]) -> Vec<serde_json::Value> {
    let path = data.join("events.jsonl");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        let seen = event_ids(events.get(from..).unwrap_or_default());
        if want.iter().all(|w| seen.iter().any(|s| s == w)) || Instant::now() > deadline {
            return events;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The ids of `events`, in order.
pub fn event_ids(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

/// The first event of `events` with `id`; panics with the ids seen when there is none.
pub fn find_event<'a>(events: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    events
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no {id} event among {:?}", event_ids(events)))
}

/// Registers `user` with digest auth from a SIPp on local `port` (`register_auth.xml`).
pub fn sipp_register(
    dir: &Path,
    pbx: &str,
    user: &str,
    password: &str,
    port: u16,
) -> testkit::sipp::Run {
    let sf = testkit::sipp::scenario("register_auth.xml");
    let args = [
        "-sf", &sf, "-s", user, "-au", user, "-ap", password, "-m", "1",
    ];
    testkit::sipp::run(dir, pbx, port, &args)
}

/// [`sipp_register`], asserting that the registration succeeded.
pub fn sipp_registered(dir: &Path, pbx: &str, user: &str, password: &str, port: u16) {
    let r = sipp_register(dir, pbx, user, password, port);
    assert_eq!(
        (r.code, r.stat("SuccessfulCall(C)")),
        (0, 1),
        "{user} registers: {:?}",
        r.stats
    );
}

/// An INVITE from 201 (registered from local `port`) to `user`, with `sdp` as its body
/// when not empty.
pub fn invite_from_201(port: u16, user: &str, call_id: &str, sdp: &str) -> String {
    let body = if sdp.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".to_owned()
    };
    format!(
        "INVITE sip:{user}@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:201@127.0.0.1>;tag={call_id}\r\n\
         To: <sip:{user}@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:201@127.0.0.1:{port}>\r\n{body}Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// The final status line a request sent from `sock` to `to` gets.
pub fn status_of(sock: &std::net::UdpSocket, to: SocketAddr, request: &str) -> String {
    final_response(sock, to, request)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The whole final response a request sent from `sock` to `to` gets (within 3 s).
pub fn final_response(sock: &std::net::UdpSocket, to: SocketAddr, request: &str) -> String {
    sock.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    sock.send_to(request.as_bytes(), to).expect("send");
    let mut buf = [0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).expect("an answer within 3 s");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        // Requests the PBX sends meanwhile (a NOTIFY, say) are not the answer.
        if text.starts_with("SIP/2.0 ") && !text.starts_with("SIP/2.0 1") {
            return text;
        }
    }
}

/// Writes a vendor key and a licence file for EID VA-1234 granting `licences` into `dir`,
/// signed at test time with a test key; the `[licence]` section that uses them.
pub fn signed_licence(
    dir: &Path,
    licences: &[(licensing::LicenceType, licensing::Value)],
) -> String {
    use licensing::{Date, Eid, LicenceFile, SalesChannel, SigningKey};
    let key = SigningKey::from_seed([9; 32]).expect("key");
    std::fs::write(dir.join("vendor.pub"), key.verifying_key().to_text()).expect("anchor");
    let mut f = LicenceFile::new(
        key.verifying_key().id(),
        Eid::parse("VA-1234").expect("eid"),
        SalesChannel::parse("generic").expect("channel"),
        Date::of(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000))
            .expect("date"),
    );
    for (t, v) in licences {
        f.licences.insert(*t, *v);
    }
    std::fs::write(dir.join("site.lic"), f.sign(&key).expect("sign")).expect("licence");
    format!(
        "[licence]\nfile = \"{}\"\ntrust_anchor = \"{}\"\neid = \"VA-1234\"\n",
        dir.join("site.lic").display(),
        dir.join("vendor.pub").display()
    )
}
