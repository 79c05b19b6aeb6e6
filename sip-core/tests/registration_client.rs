//! The outbound registration client (RFC 3261 §10.2) against sip-core's registrar and digest
//! server, and against hand-written registrar answers for 423, 403, 503 and silence:
//! challenges answered once, Min-Expires followed, refresh before expiry, exponential
//! back-off, and the MV2-35 supervision causes (0 unreachable, 1 not authorised).

#![allow(clippy::disallowed_methods)] // the virtual clock's origin is read once

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pbxkit_sip_core::Message;
use pbxkit_sip_core::digest::{Algorithm, DigestServer, ServerConfig, ha1};
use pbxkit_sip_core::location::{Admission, Registrar, RegistrarConfig};
use pbxkit_sip_core::registration::{
    FailReason, Registration, RegistrationConfig, RegistrationEvent, RegistrationState,
};
use pbxkit_sip_core::transaction::Transport;

const CONTACT: &str = "sip:trunk@192.0.2.1:5060";
const VIA: (&str, &str, &str) = ("UDP", "192.0.2.1:5060", "z9hG4bKreg");

fn client(expires: u32) -> Registration {
    let mut cfg = RegistrationConfig::new(
        "sip:provider.test",
        "sip:trunk@provider.test",
        CONTACT,
        "trunk",
        "secret",
    );
    cfg.expires = expires;
    Registration::new(cfg, "reg-1@192.0.2.1", "t1", 7)
}

/// The answer `code` to `req`, with `extra` header lines (CRLF-terminated).
fn answer(req: &Message, code: u16, extra: &str) -> Message {
    let h = |n| req.values(n).next().unwrap_or("").to_owned();
    use pbxkit_sip_core::HeaderName as H;
    let text = format!(
        "SIP/2.0 {code} X\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=r\r\nCall-ID: {}\r\nCSeq: {}\r\n\
         {extra}Content-Length: 0\r\n\r\n",
        h(H::Via),
        h(H::From),
        h(H::To),
        h(H::CallId),
        h(H::CSeq)
    );
    Message::parse(bytes::Bytes::from(text)).expect("a valid response")
}

fn send(reg: &mut Registration, now: Instant) -> Message {
    let req = reg.poll_request(now, VIA).expect("a REGISTER is due");
    // Through the wire format, as a registrar would see it.
    Message::parse(req.to_bytes()).expect("parses")
}

#[test]
fn mv2_35_registers_with_digest_then_refreshes_before_expiry() {
    let t0 = Instant::now();
    let source: SocketAddr = "192.0.2.1:5060".parse().expect("addr");
    let mut server = DigestServer::new(ServerConfig::new("provider.test"), b"registrar key");
    let mut registrar = Registrar::new(RegistrarConfig::default());
    let mut reg = client(120);
    reg.start(t0);
    assert_eq!(reg.poll_timeout(), Some(t0));
    let mut now = t0;
    let mut granted = None;
    for _ in 0..3 {
        let req = send(&mut reg, now);
        assert!(reg.poll_request(now, VIA).is_none(), "one at a time");
        let lookup =
            |u: &str, a: Algorithm| (u == "trunk").then(|| ha1(a, u, "provider.test", "secret"));
        let resp = match server.verify(1_000, &req, lookup) {
            Err(e) if e.challenge() => {
                let ch: String = server
                    .challenges(1_000, false)
                    .iter()
                    .map(|(n, v)| format!("{}: {v}\r\n", n.as_str()))
                    .collect();
                answer(&req, 401, &ch)
            }
            Err(e) => panic!("refused: {e}"),
            Ok(_) => {
                let r = registrar.register(
                    now,
                    "sip:trunk@provider.test",
                    &req,
                    source,
                    Transport::Udp,
                    |_, _| Admission::Accept,
                );
                assert_eq!(r.code, 200);
                let lines: String = r
                    .headers
                    .iter()
                    .map(|(n, v)| format!("{}: {v}\r\n", n.as_str()))
                    .collect();
                answer(&req, 200, &lines)
            }
        };
        reg.handle_response(now, &resp);
        if let RegistrationState::Registered { until } = reg.state() {
            granted = Some(until);
            break;
        }
        now += Duration::from_millis(10);
    }
    let until = granted.expect("registered after answering the challenge");
    assert_eq!(until, now + Duration::from_secs(120));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 120 })
    );
    assert_eq!(reg.poll_event(), None);
    // Refresh 30 s before the 120 s binding lapses; the registrar's nonce is still good.
    assert_eq!(reg.poll_timeout(), Some(now + Duration::from_secs(90)));
    assert!(
        reg.poll_request(now + Duration::from_secs(89), VIA)
            .is_none()
    );
    let refresh = send(&mut reg, now + Duration::from_secs(90));
    assert!(
        refresh
            .values(pbxkit_sip_core::HeaderName::Authorization)
            .next()
            .is_some()
    );
    assert_eq!(
        refresh.call_id().map(|c| c.0.to_owned()).ok(),
        Some("reg-1@192.0.2.1".into())
    );
    // Unregister: Expires 0, then the Unregistered event.
    reg.handle_response(now, &answer(&refresh, 200, "Expires: 120\r\n"));
    reg.unregister(now + Duration::from_secs(91));
    let bye = send(&mut reg, now + Duration::from_secs(91));
    assert_eq!(
        bye.values(pbxkit_sip_core::HeaderName::Expires).next(),
        Some("0")
    );
    reg.handle_response(now, &answer(&bye, 200, ""));
    assert_eq!(reg.poll_event(), Some(RegistrationEvent::Unregistered));
    assert_eq!(reg.state(), RegistrationState::Idle);
}

#[test]
fn min_expires_is_followed_after_423() {
    let t0 = Instant::now();
    let mut reg = client(60);
    reg.start(t0);
    let req = send(&mut reg, t0);
    reg.handle_response(t0, &answer(&req, 423, "Min-Expires: 600\r\n"));
    let again = send(&mut reg, t0);
    assert_eq!(
        again.values(pbxkit_sip_core::HeaderName::Expires).next(),
        Some("600")
    );
    assert_eq!(again.cseq().map(|c| c.seq).ok(), Some(2), "CSeq goes up");
}

#[test]
fn mv2_35_cause_1_when_the_credentials_are_refused() {
    let t0 = Instant::now();
    let mut reg = client(3600);
    reg.start(t0);
    let ch = "WWW-Authenticate: Digest realm=\"provider.test\", nonce=\"abc\", algorithm=MD5\r\n";
    let req = send(&mut reg, t0);
    reg.handle_response(t0, &answer(&req, 401, ch));
    let with_auth = send(&mut reg, t0);
    assert!(
        with_auth
            .values(pbxkit_sip_core::HeaderName::Authorization)
            .next()
            .is_some()
    );
    // The same challenge again: the password is wrong. No loop: back off 30 s.
    reg.handle_response(t0, &answer(&with_auth, 401, ch));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Failed {
            reason: FailReason::NotAuthorised
        })
    );
    assert_eq!(reg.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    assert!(reg.poll_request(t0, VIA).is_none());
    // 403 also means "not authorised"; the same cause raises no second event.
    let retry = send(&mut reg, t0 + Duration::from_secs(30));
    reg.handle_response(t0 + Duration::from_secs(30), &answer(&retry, 403, ""));
    assert_eq!(reg.poll_event(), None);
    assert_eq!(
        reg.poll_timeout(),
        Some(t0 + Duration::from_secs(90)),
        "doubled"
    );
}

#[test]
fn mv2_35_cause_0_when_the_provider_does_not_answer_and_backoff_is_bounded() {
    let t0 = Instant::now();
    let mut reg = client(3600);
    reg.start(t0);
    let mut now = t0;
    let mut waits = Vec::new();
    for _ in 0..8 {
        let _ = send(&mut reg, now);
        reg.handle_failure(now);
        let next = reg.poll_timeout().expect("a retry");
        waits.push((next - now).as_secs());
        now = next;
    }
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Failed {
            reason: FailReason::Unreachable
        })
    );
    assert_eq!(reg.poll_event(), None, "one event per change of cause");
    // 503 with Retry-After: the provider's delay wins; then success clears the failure.
    let req = send(&mut reg, now);
    reg.handle_response(now, &answer(&req, 503, "Retry-After: 120\r\n"));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Failed {
            reason: FailReason::Rejected(503)
        })
    );
    assert_eq!(reg.poll_timeout(), Some(now + Duration::from_secs(120)));
    now += Duration::from_secs(120);
    let req = send(&mut reg, now);
    reg.handle_response(
        now,
        &answer(&req, 200, &format!("Contact: <{CONTACT}>;expires=1800\r\n")),
    );
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 1800 })
    );
}

#[test]
fn mv_33_dual_homing_fails_over_to_the_backup_and_back() {
    let t0 = Instant::now();
    let mut cfg = RegistrationConfig::new(
        "sip:primary.test",
        "sip:trunk@provider.test",
        CONTACT,
        "trunk",
        "secret",
    );
    cfg.expires = 600;
    cfg.backups = vec!["sip:backup.test".to_owned()];
    let mut reg = Registration::new(cfg, "reg-2@192.0.2.1", "t2", 9);
    reg.start(t0);
    let first = send(&mut reg, t0);
    assert_eq!(reg.target(), 0);
    assert!(first.to_bytes().starts_with(b"REGISTER sip:primary.test "));
    // The primary does not answer: the backup is tried at once, with no failure event.
    reg.handle_failure(t0);
    assert_eq!((reg.target(), reg.poll_timeout()), (1, Some(t0)));
    let second = send(&mut reg, t0);
    assert!(second.to_bytes().starts_with(b"REGISTER sip:backup.test "));
    reg.handle_response(t0, &answer(&second, 200, "Expires: 600\r\n"));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 600 })
    );
    // The refresh goes to the primary first; both down: one Unreachable event, back-off.
    let t1 = t0 + Duration::from_secs(570);
    let refresh = send(&mut reg, t1);
    assert!(
        refresh
            .to_bytes()
            .starts_with(b"REGISTER sip:primary.test ")
    );
    reg.handle_failure(t1);
    let again = send(&mut reg, t1);
    assert!(again.to_bytes().starts_with(b"REGISTER sip:backup.test "));
    reg.handle_failure(t1);
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Failed {
            reason: FailReason::Unreachable
        })
    );
    assert_eq!(reg.poll_timeout(), Some(t1 + Duration::from_secs(30)));
}
