//! Typed headers not covered by the torture corpora, checked against the examples in the
//! RFCs that define them (values copied from the RFC text, expected fields as the RFC reads).
//! MV-34 (SIMPLE presence/messaging) relies on Event/Allow-Events/Subscription-State;
//! MV-31 (networking: transfer, CLIP) on Refer-To/Referred-By/Replaces/P-Asserted-Identity/
//! Diversion; MV-29 (registrar) on Min-Expires, Expires, Contact and the auth headers.

use bytes::Bytes;
use pbxkit_sip_core::header::*;
use pbxkit_sip_core::uri::Uri;
use pbxkit_sip_core::{HeaderErrorKind, HeaderName, Message, Method};

fn msg(extra: &str) -> Message {
    let raw = format!(
        "NOTIFY sip:alice@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKx1\r\nFrom: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>;tag=a1\r\nCall-ID: c1\r\nCSeq: 7 NOTIFY\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    Message::parse(Bytes::from(raw)).unwrap()
}

#[test]
fn mv34_event_framework_rfc6665() {
    let m = msg(
        "Event: presence;id=12\r\nAllow-Events: presence, dialog\r\nu: message-summary\r\nSubscription-State: active;expires=599\r\n",
    );
    let e: Event<'_> = m.header().unwrap();
    assert_eq!((e.package, e.id()), ("presence", Some("12")));
    let pkgs: Vec<_> = m
        .header_all::<AllowEvents<'_>>()
        .map(|a| a.unwrap().0)
        .collect();
    assert_eq!(pkgs, ["presence", "dialog", "message-summary"]);
    let s: SubscriptionState<'_> = m.header().unwrap();
    assert_eq!((s.state, s.expires()), ("active", Some(599)));
}

#[test]
fn mv31_transfer_and_identity_headers() {
    // RFC 3515 §2.4.5, RFC 3892 §3, RFC 3891 §6.1, RFC 3325 §9.1, RFC 5806 §4.
    let m = msg(concat!(
        "Refer-To: <sip:dave@denver.example.org?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>\r\n",
        "Referred-By: <sip:referrer@referrer.example>;cid=\"20398823.2UWQFN309shb3@referrer.example\"\r\n",
        "Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff\r\n",
        "P-Asserted-Identity: \"Cullen Jennings\" <sip:fluffy@cisco.com>, <tel:+14085264000>\r\n",
        "Diversion: <sip:2225551000@example.com>;reason=unconditional;counter=1;privacy=off\r\n",
    ));
    let r: ReferTo<'_> = m.header().unwrap();
    assert_eq!(
        r.replaces_escaped(),
        Some("12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994")
    );
    let b: ReferredBy<'_> = m.header().unwrap();
    assert_eq!(
        b.params().get("cid"),
        Some(Some("\"20398823.2UWQFN309shb3@referrer.example\""))
    );
    let rep: Replaces<'_> = m.header().unwrap();
    assert_eq!(
        (rep.call_id, rep.from_tag(), rep.to_tag(), rep.early_only()),
        (
            "98732@sip.example.com",
            Some("r33th4x0r"),
            Some("ff87ff"),
            false
        )
    );
    let ids: Vec<_> = m
        .header_all::<PAssertedIdentity<'_>>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0].display_name().unwrap(), "Cullen Jennings");
    assert!(matches!(ids[1].uri(), Uri::Tel(t) if t.digits() == "+14085264000"));
    let d: Diversion<'_> = m.header().unwrap();
    assert_eq!(d.reason().unwrap(), "unconditional");
    assert_eq!(d.counter(), Some(1));
}

#[test]
fn mv29_registrar_headers() {
    // RFC 3261 §20.23, §20.19, §20.10, §20.37, §20.40, §20.35.
    let m = msg(concat!(
        "Min-Expires: 60\r\nExpires: 5\r\n",
        "Contact: <sip:a@192.0.2.1>;expires=3600;q=0.7, \"Mr. Watson\" <mailto:watson@bell-telephone.com>;q=0.1\r\n",
        "Supported: \r\nUnsupported: foo\r\nServer: HomeServer v2\r\nUser-Agent: Softphone Beta1.5\r\n",
        "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE\r\nRSeq: 988789\r\nRAck: 776656 1 INVITE\r\n",
        "Session-Expires: 4000;refresher=uac\r\nMin-SE: 3600\r\nRetry-After: 18000;duration=3600\r\n",
        "Proxy-Authenticate: Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5\r\n",
        "Proxy-Authorization: Digest username=\"alice\", realm=\"atlanta.com\", nonce=\"c60f3082ee1212b402a21831ae\", response=\"245f23415f11432b3434341c022\"\r\n",
    ));
    assert_eq!(m.header::<MinExpires>().unwrap(), MinExpires(60));
    assert_eq!(m.header::<Expires>().unwrap(), Expires(5));
    let c: Vec<_> = m.contacts().map(Result::unwrap).collect();
    assert_eq!((c[0].expires(), c[0].q()), (Some(Ok(3600)), Some(Ok(700))));
    assert_eq!(c[1].addr().unwrap().uri().scheme(), "mailto");
    assert_eq!(m.header_all::<Supported<'_>>().count(), 0);
    assert!(m.header::<Supported<'_>>().unwrap_err().is_missing());
    assert_eq!(&*m.header::<Unsupported<'_>>().unwrap(), "foo");
    assert_eq!(m.header::<Server<'_>>().unwrap().0, "HomeServer v2");
    assert_eq!(m.header::<UserAgent<'_>>().unwrap().0, "Softphone Beta1.5");
    let allow: Vec<_> = m.header_all::<Allow<'_>>().map(|a| a.unwrap().0).collect();
    assert_eq!(
        allow,
        [
            Method::Invite,
            Method::Ack,
            Method::Options,
            Method::Cancel,
            Method::Bye
        ]
    );
    assert_eq!(m.header::<RSeq>().unwrap(), RSeq(988_789));
    let rack: RAck<'_> = m.header().unwrap();
    assert_eq!(
        (rack.rseq, rack.cseq, rack.method),
        (776_656, 1, Method::Invite)
    );
    let se: SessionExpires<'_> = m.header().unwrap();
    assert_eq!((se.delta, se.refresher()), (4000, Some("uac")));
    assert_eq!(m.header::<MinSe<'_>>().unwrap().delta, 3600);
    assert_eq!(m.header::<RetryAfter<'_>>().unwrap().delta, 18000);
    let pa: ProxyAuthenticate<'_> = m.header().unwrap();
    assert_eq!(pa.realm().unwrap(), "atlanta.com");
    let pz: ProxyAuthorization<'_> = m.header().unwrap();
    assert_eq!(pz.username().unwrap(), "alice");
}

#[test]
fn duplicate_single_headers_are_reported_not_guessed() {
    let m = msg("Expires: 5\r\nExpires: 6\r\n");
    let e = m.header::<Expires>().unwrap_err();
    assert_eq!(
        (e.name, e.kind),
        (HeaderName::Expires, HeaderErrorKind::Multiple)
    );
    assert_eq!(e.to_string(), "Multiple Expires headers");
    // Overlarge Expires: reported on access, the registrar decides (RFC 4475 §3.1.2.4).
    let m = msg("Expires: 4294967296\r\n");
    assert!(matches!(
        m.header::<Expires>().unwrap_err().kind,
        HeaderErrorKind::Invalid(_)
    ));
}
