//! MV-10, MV2-22: the online-verification protocol over real HTTP on loopback, against the
//! reference licence server, with a shortened virtual clock (72 h → 72 s, 24 h → 24 s).
//! The sockets live here, in the test: the crate itself stays pure.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use common::*;
use pbxkit_licensing::sls::{
    self, LicenceServer, SlsConfig, Verification, http_request, parse_http_request,
    parse_http_response,
};
use pbxkit_licensing::{
    Config, Date, Event, Licensing, Mode, PersistentState, RestrictedCause, Swa, TrustAnchors,
};

type Clock = Arc<Mutex<SystemTime>>;

/// A tiny blocking HTTP server around the sans-IO reference server.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(core: Arc<Mutex<LicenceServer>>, clock: Clock) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                let reply = loop {
                    let n = conn.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break sls::http_bad_request();
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    match parse_http_request(&buf) {
                        Ok(None) => continue,
                        Ok(Some(req)) => {
                            let now = *clock.lock().unwrap();
                            let resp = core.lock().unwrap().handle_check(now, &req);
                            break sls::http_response(&resp);
                        }
                        Err(_) => break sls::http_bad_request(),
                    }
                };
                let _ = conn.write_all(&reply);
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// The embedder's side of a contact: HTTP over loopback, then feed the engine.
fn contact(l: &mut Licensing, instance: u64, addr: SocketAddr, now: SystemTime) {
    let answer = (|| {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(&http_request("127.0.0.1", &l.check_request(instance)))
            .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).ok()?;
        parse_http_response(&buf).ok().flatten()
    })();
    match answer {
        Some(resp) => l.handle_check_response(now, resp),
        None => l.handle_server_unreachable(now),
    }
}

fn short_config() -> Config {
    Config {
        server_contact_max: Duration::from_secs(72),
        server_contact_interval: Duration::from_secs(1),
        clone_quiet_period: Duration::from_secs(24),
        ..Config::default()
    }
}

fn short_sls() -> SlsConfig {
    SlsConfig {
        liveness: Duration::from_secs(3),
        confirm_after: Duration::from_secs(24),
    }
}

fn system(now: SystemTime) -> Licensing {
    let anchors = TrustAnchors::new().with(vendor().verifying_key());
    let mut l = Licensing::new(
        short_config(),
        va(),
        anchors,
        PersistentState::default(),
        now,
    );
    l.load_file(now, &signed(&file(&[]))).unwrap();
    drain(&mut l);
    l
}

/// Drives one system for `secs` virtual seconds: contact whenever the engine asks.
fn drive(
    l: &mut Licensing,
    instance: u64,
    addr: SocketAddr,
    clock: &Clock,
    secs: u64,
) -> Vec<Event> {
    let mut events = Vec::new();
    for _ in 0..secs {
        let now = {
            let mut c = clock.lock().unwrap();
            *c += SEC;
            *c
        };
        l.handle_timeout(now);
        while let Some(e) = l.poll_event() {
            if e == Event::LicenceServerContactDue {
                contact(l, instance, addr, now);
            } else {
                events.push(e);
            }
        }
    }
    events
}

fn registered_server() -> Arc<Mutex<LicenceServer>> {
    let mut core = LicenceServer::new(short_sls());
    core.register(
        eid(),
        Verification::Online,
        Some(Swa {
            covered_users: 300,
            expires: Date::parse("2028-03-31").unwrap(),
        }),
    );
    Arc::new(Mutex::new(core))
}

#[test]
fn mv10_72h_rule_over_loopback_with_shortened_clock() {
    let clock: Clock = Arc::new(Mutex::new(t0()));
    let core = registered_server();
    let server = Server::start(core.clone(), clock.clone());
    let addr = server.addr;
    let mut l = system(t0());
    let ev = drive(&mut l, 1, addr, &clock, 5);
    assert!(ev.is_empty(), "{ev:?}");
    assert!(l.server_reachable());
    // MV-12: the server's SWA record reached the system.
    assert_eq!(
        l.swa_status(t0(), 250).swa.map(|s| s.covered_users),
        Some(300)
    );

    server.shutdown();
    // The first contact after the shutdown fails: the countdown starts there.
    let ev = drive(&mut l, 1, addr, &clock, 1);
    let lost_at = *clock.lock().unwrap();
    assert!(
        ev.contains(&Event::LicenceServerUnreachable {
            hours_until_restricted: 1
        }),
        "72 s left, rounded up to whole (virtual) hours: {ev:?}"
    );
    let ev = drive(&mut l, 1, addr, &clock, 71);
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(
        l.mode(),
        Mode::Normal,
        "still inside the 72 (virtual h) window"
    );
    let ev = drive(&mut l, 1, addr, &clock, 1);
    assert!(
        ev.contains(&Event::RestrictedModeActivated {
            cause: RestrictedCause::LicenceServerUnreachable,
            virtual_appliance: true
        }),
        "{ev:?} (lost at {lost_at:?})"
    );
    // Cached SWA shown while unreachable.
    assert!(matches!(
        l.swa_status(*clock.lock().unwrap(), 1).source,
        pbxkit_licensing::SwaSource::Cached { .. }
    ));

    // The server returns on a new port; the embedder points the system at it.
    let server = Server::start(core, clock.clone());
    let ev = drive(&mut l, 1, server.addr, &clock, 2);
    assert!(ev.contains(&Event::LicenceServerRestored), "{ev:?}");
    assert!(ev.contains(&Event::RestrictedModeDeactivated), "{ev:?}");
    assert_eq!(l.mode(), Mode::Normal);
    server.shutdown();
}

#[test]
fn mv10_clone_detected_then_confirmed_over_loopback() {
    let clock: Clock = Arc::new(Mutex::new(t0()));
    let server = Server::start(registered_server(), clock.clone());
    let mut original = system(t0());
    let mut clone = system(t0());
    drive(&mut original, 0xaaaa, server.addr, &clock, 2);
    let mut seen = Vec::new();
    for _ in 0..30 {
        seen.extend(drive(&mut original, 0xaaaa, server.addr, &clock, 1));
        *clock.lock().unwrap() -= SEC; // both systems share the same second
        seen.extend(drive(&mut clone, 0xbbbb, server.addr, &clock, 1));
    }
    assert!(seen.contains(&Event::PotentialCloneDetected), "{seen:?}");
    assert_eq!(
        original.mode(),
        Mode::Restricted(RestrictedCause::CloneConfirmed)
    );
    assert_eq!(
        clone.mode(),
        Mode::Restricted(RestrictedCause::CloneConfirmed)
    );
    server.shutdown();
}
