//! Dialog extensions: reliable provisional responses and PRACK (RFC 3262), session timers
//! (RFC 4028), REFER with Replaces (RFC 3515, RFC 3891) and subscription state (RFC 6665).
//! Header values are the RFCs' own examples where they give one.
#![allow(clippy::disallowed_methods)] // the virtual clock's origin is read once

use std::time::{Duration, Instant};

use pbxkit_sip_core::Message;
use pbxkit_sip_core::dialog::*;
use pbxkit_sip_core::transaction::Timers;

fn msg(s: &str) -> Message {
    Message::parse(s.replace('\n', "\r\n").into_bytes()).expect("valid")
}

const HEAD: &str = "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n\
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n";

fn provisional(rseq: u32, reliable: bool) -> Message {
    let rel = if reliable {
        format!("Require: 100rel\nRSeq: {rseq}\n")
    } else {
        String::new()
    };
    msg(&format!(
        "SIP/2.0 183 Session Progress\n{HEAD}CSeq: 1 INVITE\n{rel}Content-Length: 0\n\n"
    ))
}

fn prack(rack: &str) -> Message {
    msg(&format!(
        "PRACK sip:bob@biloxi.example.com SIP/2.0\n{HEAD}CSeq: 2 PRACK\nRAck: {rack}\nContent-Length: 0\n\n"
    ))
}

#[test]
fn rack_parses_the_rfc3262_example() {
    // RFC 3262 §7.2: "RAck: 776656 1 INVITE".
    let r = RAck::parse("776656 1 INVITE").expect("rack");
    assert_eq!((r.rseq, r.cseq, r.method.as_str()), (776656, 1, "INVITE"));
    assert_eq!(r.value(), "776656 1 INVITE");
    // §7.1: RSeq is 1..2^31-1; zero, overflow, junk and extra tokens are refused.
    for bad in [
        "0 1 INVITE",
        "2147483648 1 INVITE",
        "x 1 INVITE",
        "1 1",
        "1 1 INVITE x",
    ] {
        assert_eq!(RAck::parse(bad), None, "{bad}");
    }
}

#[test]
fn uac_accepts_reliable_provisionals_in_rseq_order_only() {
    // RFC 3262 §4: a retransmission (same RSeq) and a gap are not PRACKed again.
    let mut uac = UacReliable::new();
    assert_eq!(
        uac.on_provisional(&provisional(5, false)),
        None,
        "unreliable 183"
    );
    let rack = uac
        .on_provisional(&provisional(988789, true))
        .expect("first");
    assert_eq!(rack.value(), "988789 1 INVITE");
    assert_eq!(
        uac.on_provisional(&provisional(988789, true)),
        None,
        "retransmission"
    );
    assert_eq!(uac.on_provisional(&provisional(988791, true)), None, "gap");
    assert!(
        uac.on_provisional(&provisional(988790, true)).is_some(),
        "next in order"
    );
}

#[test]
fn uas_retransmits_reliable_1xx_doubling_from_t1_until_64_t1_then_gives_up() {
    // RFC 3262 §3: retransmit at T1, doubling each time (no T2 cap), for 64*T1; then reject
    // the request with a 5xx.
    let t0 = Instant::now();
    let mut uas = UasReliable::new(1, 988789, Timers::default());
    assert_eq!(uas.next_rseq(), Some(988789));
    uas.sent(t0, provisional(988789, true));
    assert_eq!(
        uas.next_rseq(),
        None,
        "one unacknowledged reliable 1xx at a time"
    );
    let mut at = Vec::new();
    while let Some(t) = uas.poll_timeout() {
        match uas.handle_timeout(t) {
            Some(UasTimeout::Retransmit(_)) => at.push((t - t0).as_millis()),
            Some(UasTimeout::GiveUp) => {
                assert_eq!(t - t0, Duration::from_secs(32));
                break;
            }
            _ => panic!("timer fired for nothing"),
        }
    }
    assert_eq!(at, [500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(uas.poll_timeout(), None);
}

#[test]
fn uas_matches_prack_by_rseq_cseq_and_method() {
    let t0 = Instant::now();
    let mut uas = UasReliable::new(1, 776656, Timers::default());
    uas.sent(t0, provisional(776656, true));
    // RFC 3262 §3: a PRACK that matches nothing pending is answered 481.
    assert_eq!(uas.on_prack(&prack("776657 1 INVITE")), PrackMatch::NoMatch);
    assert_eq!(uas.on_prack(&prack("776656 2 INVITE")), PrackMatch::NoMatch);
    assert_eq!(
        uas.on_prack(&prack("776656 1 INVITE")),
        PrackMatch::Acknowledged
    );
    assert!(!uas.has_pending());
    assert_eq!(uas.poll_timeout(), None, "retransmissions stop");
    assert_eq!(uas.next_rseq(), Some(776657), "RSeq increases by one");
    assert_eq!(uas.on_prack(&prack("776656 1 INVITE")), PrackMatch::NoMatch);
}

fn invite(extra: &str) -> Message {
    msg(&format!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\n{HEAD}CSeq: 1 INVITE\n\
Contact: <sip:alice@pc33.atlanta.example.com>\n{extra}Content-Length: 0\n\n"
    ))
}

#[test]
fn session_expires_values_from_rfc4028() {
    // RFC 4028 §4: "Session-Expires: 4000;refresher=uac", compact "x: 1800", Min-SE §5.
    let se = SessionExpires::parse("4000;refresher=uac").expect("se");
    assert_eq!(se.delta, 4000);
    assert_eq!(se.refresher, Some(Refresher::Uac));
    assert_eq!(se.value(), "4000;refresher=uac");
    assert_eq!(
        SessionExpires::parse("1800").map(|s| s.refresher),
        Some(None)
    );
    assert_eq!(SessionExpires::parse("1800;refresher=proxy"), None);
    assert_eq!(SessionExpires::parse("-1"), None);
    let m = invite("x: 1800\nMin-SE: 3600\n");
    assert_eq!(SessionExpires::of(&m).map(|s| s.delta), Some(1800));
    assert_eq!(min_se_of(&m), Some(3600));
}

#[test]
fn uas_rejects_too_small_interval_with_422_and_its_min_se() {
    // RFC 4028 §9: Session-Expires below the UAS's Min-SE is answered 422 with Min-SE.
    let d = uas_negotiate(&invite("Supported: timer\nSession-Expires: 60\n"), 90, None);
    assert_eq!(d, UasDecision::TooSmall { min_se: 90 });
    // §7.4: the UAC retries with at least the 422's Min-SE.
    let r422 = msg(&format!(
        "SIP/2.0 422 Session Interval Too Small\n{HEAD}CSeq: 1 INVITE\nMin-SE: 90\nContent-Length: 0\n\n"
    ));
    assert_eq!(uac_retry_after_422(&r422, 60), Some(90));
}

#[test]
fn uas_keeps_or_chooses_the_refresher() {
    // RFC 4028 §9: the UAC's refresher is kept; without one, a UAC that supports timer
    // refreshes; a UAC that does not gets refresher=uas and no Require: timer.
    let d = uas_negotiate(
        &invite("Supported: timer\nSession-Expires: 1800;refresher=uas\n"),
        90,
        None,
    );
    assert_eq!(
        d,
        UasDecision::Use {
            session_expires: SessionExpires {
                delta: 1800,
                refresher: Some(Refresher::Uas)
            },
            require_timer: true
        }
    );
    let d = uas_negotiate(
        &invite("Supported: timer\nSession-Expires: 1800\n"),
        90,
        Some(600),
    );
    assert_eq!(
        d,
        UasDecision::Use {
            session_expires: SessionExpires {
                delta: 600,
                refresher: Some(Refresher::Uac)
            },
            require_timer: true
        },
        "the UAS may shorten the interval"
    );
    let d = uas_negotiate(&invite(""), 90, Some(30));
    assert_eq!(
        d,
        UasDecision::Use {
            session_expires: SessionExpires {
                delta: 90,
                refresher: Some(Refresher::Uas)
            },
            require_timer: false
        },
        "never below Min-SE"
    );
    assert_eq!(uas_negotiate(&invite(""), 90, None), UasDecision::None);
}

#[test]
fn session_timer_refreshes_at_half_and_gives_up_before_expiry() {
    // RFC 4028 §10: refresh at half the interval; the other side sends BYE
    // min(32 s, interval/3) before it ends.
    let t0 = Instant::now();
    let ok = msg(&format!(
        "SIP/2.0 200 OK\n{HEAD}CSeq: 1 INVITE\nSession-Expires: 1800;refresher=uac\nRequire: timer\nContent-Length: 0\n\n"
    ));
    let uac = SessionTimer::from_2xx(&ok, true, t0).expect("timer");
    assert_eq!(uac.refresh_at(), Some(t0 + Duration::from_secs(900)));
    let uas = SessionTimer::from_2xx(&ok, false, t0).expect("timer");
    assert_eq!(uas.refresh_at(), None);
    assert_eq!(uas.expire_at(), t0 + Duration::from_secs(1800 - 32));
    let short = msg(&format!(
        "SIP/2.0 200 OK\n{HEAD}CSeq: 1 INVITE\nSession-Expires: 90\nContent-Length: 0\n\n"
    ));
    let mut t = SessionTimer::from_2xx(&short, false, t0).expect("timer");
    assert!(
        !t.we_refresh,
        "no refresher parameter: the UAC refreshes (§7.2)"
    );
    assert_eq!(t.expire_at(), t0 + Duration::from_secs(60));
    t.refreshed(t0 + Duration::from_secs(45));
    assert_eq!(t.expire_at(), t0 + Duration::from_secs(105));
}

#[test]
fn replaces_parses_rfc3891_example_and_matches_from_the_receivers_view() {
    // RFC 3891 §6.1: "Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff".
    let r = Replaces::parse(
        "98732@sip.example.com\n ;from-tag=r33th4x0r\n ;to-tag=ff87ff"
            .replace('\n', "")
            .as_str(),
    )
    .expect("replaces");
    assert_eq!(r.call_id, "98732@sip.example.com");
    assert_eq!(
        (r.to_tag.as_str(), r.from_tag.as_str()),
        ("ff87ff", "r33th4x0r")
    );
    // §3: to-tag is the receiver's local tag, from-tag its remote tag.
    let ours = DialogId {
        call_id: "98732@sip.example.com".into(),
        local_tag: "ff87ff".into(),
        remote_tag: "r33th4x0r".into(),
    };
    assert_eq!(
        r.matches(&ours, DialogState::Confirmed),
        ReplacesMatch::Replace
    );
    let swapped = DialogId {
        local_tag: "r33th4x0r".into(),
        remote_tag: "ff87ff".into(),
        ..ours.clone()
    };
    assert_eq!(
        r.matches(&swapped, DialogState::Confirmed),
        ReplacesMatch::NoMatch
    );
    // §3: early-only against a confirmed dialog is refused (486).
    let early =
        Replaces::parse("98732@sip.example.com;to-tag=ff87ff;from-tag=r33th4x0r;early-only")
            .expect("replaces");
    assert_eq!(
        early.matches(&ours, DialogState::Confirmed),
        ReplacesMatch::NotEarly
    );
    assert_eq!(
        early.matches(&ours, DialogState::Early),
        ReplacesMatch::Replace
    );
    assert_eq!(
        Replaces::parse("x@y;to-tag=a"),
        None,
        "from-tag is mandatory"
    );
    // Two Replaces headers: 400 (§3).
    let two = invite("Replaces: a@b;to-tag=1;from-tag=2\nReplaces: c@d;to-tag=1;from-tag=2\n");
    assert!(Replaces::of(&two).is_err());
}

#[test]
fn refer_to_carries_an_escaped_replaces() {
    // RFC 3891 §6.1 / RFC 3515: Replaces rides in the Refer-To URI, percent-encoded.
    let v = "<sips:bob@biloxi.example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>";
    let rt = ReferTo::parse(v).expect("refer-to");
    assert_eq!(rt.uri, "sips:bob@biloxi.example.com");
    let r = rt.replaces.clone().expect("replaces");
    assert_eq!(r.call_id, "12345@192.168.118.3");
    assert_eq!(
        (r.to_tag.as_str(), r.from_tag.as_str()),
        ("12345", "5FFE-3994")
    );
    assert_eq!(rt.value(), v, "encoding round-trips");
    assert_eq!(
        ReferTo::parse("sip:carol@chicago.example.com")
            .map(|r| r.uri)
            .as_deref(),
        Some("sip:carol@chicago.example.com")
    );
    assert_eq!(ReferTo::parse("<sip:x?Replaces=%4>"), None, "broken escape");
}

#[test]
fn sipfrag_and_refer_event() {
    // RFC 3515 §2.4.5 / example: NOTIFY bodies "SIP/2.0 100 Trying", "SIP/2.0 200 OK".
    assert_eq!(sipfrag(200, "OK"), "SIP/2.0 200 OK\r\n");
    assert_eq!(sipfrag_status(b"SIP/2.0 100 Trying\r\n"), Some(100));
    assert_eq!(
        sipfrag_status(b"SIP/2.0 503 Service Unavailable"),
        Some(503)
    );
    assert_eq!(sipfrag_status(b"HTTP/1.1 200 OK"), None);
    assert_eq!(sipfrag_status(b"SIP/2.0 2000 OK"), None);
    // §2.4.6: a second REFER in the dialog is told apart by id=CSeq.
    assert_eq!(refer_event(93809824, true), "refer");
    assert_eq!(refer_event(93809824, false), "refer;id=93809824");
}

fn notify(event: &str, state: &str) -> Message {
    msg(&format!(
        "NOTIFY sip:alice@pc33.atlanta.example.com SIP/2.0\n{HEAD}CSeq: 3 NOTIFY\n\
Event: {event}\nSubscription-State: {state}\nContent-Length: 0\n\n"
    ))
}

#[test]
fn subscription_follows_notify_states() {
    // RFC 6665 §4.1.2: Event package and id must match (else 489); expires from the notifier;
    // after "terminated" no more NOTIFYs (481).
    let t0 = Instant::now();
    let mut s = Subscription::new("refer;id=7", t0, Duration::from_secs(60));
    assert_eq!(
        s.on_notify(t0, &notify("refer", "active")),
        Err(NotifyError::BadEvent)
    );
    assert_eq!(
        s.on_notify(t0, &notify("dialog;id=7", "active")),
        Err(NotifyError::BadEvent)
    );
    let st = s
        .on_notify(t0, &notify("refer;id=7", "active;expires=30"))
        .cloned();
    assert_eq!(st, Ok(SubState::Active { expires: Some(30) }));
    assert_eq!(s.expires_at(), t0 + Duration::from_secs(30));
    let st = s
        .on_notify(t0, &notify("Refer ; id=7", "terminated;reason=noresource"))
        .cloned();
    assert_eq!(
        st,
        Ok(SubState::Terminated {
            reason: Some("noresource".into()),
            retry_after: None
        })
    );
    assert!(s.is_terminated());
    assert_eq!(
        s.on_notify(t0, &notify("refer;id=7", "active")),
        Err(NotifyError::Terminated)
    );
    // §8.2.3: unknown states are treated as pending; values print back.
    assert_eq!(
        SubState::parse("waiting"),
        Some(SubState::Pending { expires: None })
    );
    for v in [
        "active;expires=600",
        "pending",
        "terminated;reason=timeout;retry-after=5",
    ] {
        assert_eq!(SubState::parse(v).map(|s| s.value()).as_deref(), Some(v));
    }
}

#[test]
fn confirm_uac_refuses_a_2xx_of_another_fork() {
    // RFC 3261 §13.2.2.4: a 2xx with another To tag creates a different dialog.
    let inv = invite("");
    let early = msg(&format!(
        "SIP/2.0 180 Ringing\n{HEAD}CSeq: 1 INVITE\nContact: <sip:bob@192.0.2.9>\nContent-Length: 0\n\n"
    ));
    let mut d = Dialog::uac(&inv, &early).expect("early");
    let other = msg(&format!(
        "SIP/2.0 200 OK\n{}CSeq: 1 INVITE\nContact: <sip:bob@192.0.2.4>\nContent-Length: 0\n\n",
        HEAD.replace("tag=a6c85cf", "tag=other")
    ));
    assert_eq!(d.confirm_uac(&other), Err(DialogError::Mismatch));
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.confirm_uac(&early), Err(DialogError::Missing("a 2xx")));
    let ok = msg(&format!(
        "SIP/2.0 200 OK\n{HEAD}CSeq: 1 INVITE\nRecord-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n\
Contact: <sip:bob@192.0.2.4>\nContent-Length: 0\n\n"
    ));
    d.confirm_uac(&ok).expect("same dialog");
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_target(), "sip:bob@192.0.2.4");
    assert_eq!(
        d.route_set(),
        ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    );
}

#[test]
fn extension_parsers_never_panic_on_mangled_values() {
    // Nothing from the network panics: byte-level mutations of valid values.
    let seeds = [
        "776656 1 INVITE",
        "4000;refresher=uac",
        "98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only",
        "<sips:bob@b.example?Replaces=12345%40192.168.118.3%3Bto-tag%3D1%3Bfrom-tag%3D2>",
        "terminated;reason=timeout;retry-after=5",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seed in seeds {
        for _ in 0..2000 {
            let mut b = seed.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] = (next() % 256) as u8,
                    1 => {
                        b.remove(i);
                    }
                    _ => b.insert(i, b"%;=<>? \x00\xff"[(next() % 9) as usize]),
                }
                if b.is_empty() {
                    break;
                }
            }
            let v = String::from_utf8_lossy(&b);
            let _ = RAck::parse(&v);
            let _ = SessionExpires::parse(&v);
            let _ = Replaces::parse(&v);
            let _ = ReferTo::parse(&v);
            let _ = SubState::parse(&v);
            let _ = sipfrag_status(&b);
        }
    }
    assert_eq!(
        ReferTo::parse("<sip:x?Replaces=%+1>"),
        None,
        "no sign in escapes"
    );
}

#[test]
fn reinvite_glare_491_500_and_retry_windows() {
    // RFC 3261 §14.2: crossing re-INVITEs get 491; a second incoming one before the first is
    // answered gets 500 (with Retry-After); §14.1: no new re-INVITE while one is pending.
    let mut g = InviteGuard::new();
    assert!(g.may_send());
    g.sent();
    assert!(!g.may_send());
    assert_eq!(g.received(), Err(Refusal::RequestPending));
    assert_eq!(Refusal::RequestPending.status().0, 491);
    g.sent_done();
    assert_eq!(g.received(), Ok(()));
    assert!(!g.may_send(), "not while an incoming re-INVITE is pending");
    assert_eq!(g.received(), Err(Refusal::ServerError));
    assert_eq!(Refusal::ServerError.status().0, 500);
    g.received_done();
    assert!(g.may_send());
    // §14.1: owner 2.1..=4 s, the other 0..=2 s, in units of 10 ms.
    let owner: Vec<Duration> = (0..1000).map(|r| glare_retry_delay(true, r)).collect();
    let other: Vec<Duration> = (0..1000).map(|r| glare_retry_delay(false, r)).collect();
    assert_eq!(owner.iter().min(), Some(&Duration::from_millis(2100)));
    assert_eq!(owner.iter().max(), Some(&Duration::from_millis(4000)));
    assert_eq!(other.iter().min(), Some(&Duration::ZERO));
    assert_eq!(other.iter().max(), Some(&Duration::from_millis(2000)));
    assert!(owner.iter().chain(&other).all(|d| d.as_millis() % 10 == 0));
}
