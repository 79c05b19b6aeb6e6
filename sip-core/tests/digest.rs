//! Digest authentication against the RFCs' worked examples (RFC 7616 §3.9.1, RFC 2617
//! §3.5) and the server's nonce rules (RFC 7616 §3.3, §3.4; RFC 3261 §22.4): tampering,
//! staleness, replay, wrong password, unknown user, proxy variant.

use pbxkit_sip_core::digest::{
    Algorithm, AuthError, DigestServer, Inputs, ServerConfig, authorization, ha1, response,
};
use pbxkit_sip_core::header::Challenge;
use pbxkit_sip_core::{HeaderName, Message, RequestBuilder};

#[test]
fn rfc7616_mufasa_md5_and_sha256() {
    // RFC 7616 §3.9.1 (errata 4897 fixes the SHA-256 value to the one below).
    let realm = "http-auth@example.org";
    let i = |algorithm| Inputs {
        algorithm,
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        qop: Some("auth"),
        nc: "00000001",
        cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        method: "GET",
        uri: "/dir/index.html",
    };
    let md5 = ha1(Algorithm::Md5, "Mufasa", realm, "Circle of Life");
    assert_eq!(
        response(&md5, &i(Algorithm::Md5)),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
    let sha = ha1(Algorithm::Sha256, "Mufasa", realm, "Circle of Life");
    assert_eq!(
        response(&sha, &i(Algorithm::Sha256)),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

#[test]
fn rfc2617_mufasa_md5() {
    // RFC 2617 §3.5.
    let h = ha1(
        Algorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
    );
    let r = response(
        &h,
        &Inputs {
            algorithm: Algorithm::Md5,
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop: Some("auth"),
            nc: "00000001",
            cnonce: "0a4f113b",
            method: "GET",
            uri: "/dir/index.html",
        },
    );
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");
}

fn register(auth: Option<&str>) -> Message {
    let mut b = RequestBuilder::new(pbxkit_sip_core::Method::Register, "sip:pbx.example")
        .via("UDP", "192.0.2.5:5060", "z9hG4bKr1")
        .from("<sip:201@pbx.example>", "t1")
        .to("<sip:201@pbx.example>")
        .call_id("reg-1")
        .cseq(1)
        .max_forwards(70)
        .contact("<sip:201@192.0.2.5:5060>");
    if let Some(a) = auth {
        b = b.header(HeaderName::Authorization, a);
    }
    b.build().expect("valid REGISTER")
}

fn server() -> DigestServer {
    DigestServer::new(
        ServerConfig::new("pbx.example"),
        b"0123456789abcdef0123456789abcdef",
    )
}

fn lookup(user: &str, alg: Algorithm) -> Option<String> {
    (user == "201").then(|| ha1(alg, "201", "pbx.example", "s3cret"))
}

/// Answers the server's first challenge (the given algorithm's) as a client would.
fn answer(s: &mut DigestServer, now: u64, alg: Algorithm, password: &str, nc: u32) -> String {
    let (_, value) = s
        .challenges(now, false)
        .into_iter()
        .find(|(_, v)| v.contains(&format!("algorithm={}", alg.as_str())))
        .expect("challenge offered");
    let c = Challenge::parse(&value).expect("our challenge parses");
    authorization(
        &c,
        "201",
        password,
        "REGISTER",
        "sip:pbx.example",
        "c0ffee",
        nc,
    )
    .expect("answer")
}

#[test]
fn server_accepts_both_algorithms_and_rejects_wrong_password() {
    let mut s = server();
    // Each algorithm on its own nonce (issued at another second).
    for (now, alg) in [(100, Algorithm::Sha256), (101, Algorithm::Md5)] {
        let creds = answer(&mut s, now, alg, "s3cret", 1);
        let ok = s.verify(now, &register(Some(&creds)), lookup);
        assert_eq!(ok.expect("accepted").username, "201");
        let creds = answer(&mut s, now, alg, "guess", 2);
        let bad = s.verify(now, &register(Some(&creds)), lookup);
        assert_eq!(bad, Err(AuthError::WrongResponse));
    }
    assert_eq!(
        s.verify(100, &register(None), lookup),
        Err(AuthError::Missing)
    );
    let (code, _) = s.status();
    assert_eq!(code, 401);
    // The offered challenges parse as WWW-Authenticate with SHA-256 first (RFC 8760).
    let ch = s.challenges(100, true);
    assert_eq!(ch[0].0, HeaderName::WwwAuthenticate);
    assert!(ch[0].1.contains("SHA-256") && ch[0].1.contains("stale=true"));
    assert!(Challenge::parse(&ch[1].1).is_ok_and(|c| c.algorithm().as_deref() == Some("MD5")));
}

#[test]
fn tampered_stale_replayed_and_unknown() {
    let mut s = server();
    let good = answer(&mut s, 1000, Algorithm::Md5, "s3cret", 1);
    // Tampered nonce: flip one hex digit of the MAC.
    let start = good.find("nonce=\"").expect("nonce") + 7 + 48;
    let mut bytes = good.clone().into_bytes();
    bytes[start] = if bytes[start] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(bytes).expect("ascii");
    assert_eq!(
        s.verify(1000, &register(Some(&tampered)), lookup),
        Err(AuthError::BadNonce)
    );
    // Stale after the lifetime (300 s): challenge again with stale=true.
    assert_eq!(
        s.verify(1301, &register(Some(&good)), lookup),
        Err(AuthError::Stale)
    );
    assert!(AuthError::Stale.challenge());
    // Accepted once, then the same nonce count is a replay; a higher count is fine.
    assert!(s.verify(1010, &register(Some(&good)), lookup).is_ok());
    assert_eq!(
        s.verify(1011, &register(Some(&good)), lookup),
        Err(AuthError::Replay)
    );
    let next = good.replace("nc=00000001", "nc=00000002");
    // The response covers nc, so a client must recompute it; a recomputed one passes.
    assert_eq!(
        s.verify(1012, &register(Some(&next)), lookup),
        Err(AuthError::WrongResponse)
    );
    let nonce = s.nonce(1000);
    let value =
        format!("Digest realm=\"pbx.example\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"");
    let c = Challenge::parse(&value).expect("parse");
    let second = authorization(
        &c,
        "201",
        "s3cret",
        "REGISTER",
        "sip:pbx.example",
        "c0ffee",
        2,
    )
    .expect("answer");
    assert!(s.verify(1013, &register(Some(&second)), lookup).is_ok());
    // Unknown user.
    let other = second.replace("username=\"201\"", "username=\"999\"");
    assert_eq!(
        s.verify(1014, &register(Some(&other)), lookup),
        Err(AuthError::UnknownUser)
    );
    // The uri parameter must match the Request-URI.
    let moved = second.replace("uri=\"sip:pbx.example\"", "uri=\"sip:elsewhere.example\"");
    assert_eq!(
        s.verify(1015, &register(Some(&moved)), lookup),
        Err(AuthError::UriMismatch)
    );
}

#[test]
fn proxy_variant_uses_407_and_proxy_headers() {
    let mut cfg = ServerConfig::new("pbx.example");
    cfg.proxy = true;
    let mut s = DigestServer::new(cfg, b"k");
    assert_eq!(s.status().0, 407);
    assert_eq!(s.challenges(0, false)[0].0, HeaderName::ProxyAuthenticate);
}
