//! RFC 4475 torture messages (oracle: `sip/rfc4475/` + `EXPECTED.tsv`), each fed as one UDP
//! datagram as the RFC says. Requirement context: MV-29 (registrar), MV-30/MV-31 (SIP trunks
//! and networking) and MV-34 (SIMPLE) all rest on this parser.

mod common;

use pbxkit_sip_core::header::{Accept, Authorization, ContentType, Route, Transport, Via};
use pbxkit_sip_core::uri::{Host, Uri};
use pbxkit_sip_core::{
    HeaderErrorKind, HeaderName, Message, Method, ParseError, ParseErrorKind, ParseOptions,
    UriError, ValueError, multipart,
};

/// Deliberate deviations from EXPECTED.tsv: (file, RFC rationale). Must stay exact.
const DEVIATIONS: &[(&str, &str)] = &[];

fn header_error(e: &ParseError) -> Option<(HeaderName, HeaderErrorKind)> {
    match e.kind() {
        ParseErrorKind::Header(h) => Some((h.name, h.kind)),
        _ => None,
    }
}

/// The specific error each §3.1.2 message must produce.
fn check_reject(file: &str, e: &ParseError) {
    let h = header_error(e);
    let ok = match file {
        "badinv01.dat" => h.is_some_and(|(n, k)| {
            n == HeaderName::Via && k == HeaderErrorKind::Invalid(ValueError::EmptyElement)
        }),
        "clerr.dat" => matches!(
            e.kind(),
            ParseErrorKind::ContentLengthExceedsDatagram {
                declared: 9999,
                available: 154
            }
        ),
        "ncl.dat" => h.is_some_and(|(n, _)| n == HeaderName::ContentLength),
        "scalar02.dat" | "scalarlg.dat" => h.is_some_and(|(n, k)| {
            n == HeaderName::CSeq && k == HeaderErrorKind::Invalid(ValueError::Overflow)
        }),
        "quotbal.dat" => h.is_some_and(|(n, k)| {
            n == HeaderName::To && k == HeaderErrorKind::Invalid(ValueError::UnterminatedQuote)
        }),
        "ltgtruri.dat" => e.kind() == ParseErrorKind::RequestUriBracketed,
        "lwsruri.dat" => e.kind() == ParseErrorKind::RequestUri(UriError::Character),
        "lwsstart.dat" | "trws.dat" => e.kind() == ParseErrorKind::StartLine,
        "escruri.dat" => e.kind() == ParseErrorKind::RequestUriHeaders,
        "baddate.dat" => h.is_some_and(|(n, _)| n == HeaderName::Date),
        "regbadct.dat" => h.is_some_and(|(n, k)| {
            n == HeaderName::Contact && k == HeaderErrorKind::Invalid(ValueError::UnbracketedUri)
        }),
        "badaspec.dat" => h.is_some_and(|(n, _)| n == HeaderName::To),
        "baddn.dat" => h.is_some_and(|(n, _)| n == HeaderName::From),
        "badvers.dat" => {
            e.kind() == ParseErrorKind::UnsupportedVersion { major: 7, minor: 0 }
                && e.status_code() == 505
                // Parsed far enough to build the 505.
                && e.message().is_some_and(|m| m.call_id().is_ok() && m.cseq().is_ok())
        }
        "mismatch01.dat" | "mismatch02.dat" => {
            e.kind() == ParseErrorKind::CSeqMethodMismatch && e.status_code() == 400
        }
        "bigcode.dat" => e.kind() == ParseErrorKind::StatusCode,
        _ => false,
    };
    assert!(ok, "{file}: unexpected error {:?} ({e})", e.kind());
}

fn count_bare(body: &[u8]) -> (usize, usize, usize) {
    let lf = (0..body.len())
        .filter(|&i| body[i] == b'\n' && (i == 0 || body[i - 1] != b'\r'))
        .count();
    let cr = (0..body.len())
        .filter(|&i| body[i] == b'\r' && body.get(i + 1) != Some(&b'\n'))
        .count();
    let nul = body.iter().filter(|&&b| b == 0).count();
    (lf, cr, nul)
}

/// Field checks for §3.1.1 messages, as the notes say.
fn check_parse(file: &str, m: &Message) {
    match file {
        "wsinv.dat" => {
            assert_eq!(m.method(), Some(Method::Invite));
            assert_eq!(m.max_forwards().unwrap(), Some(68));
            let cseq = m.cseq().unwrap();
            assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
            assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
            let from = m.from().unwrap();
            assert_eq!(from.tag(), Some("98asjd8"));
            assert_eq!(from.display_name().unwrap(), "J Rosenberg \\\"");
            let vias: Vec<_> = m.header_all::<Via<'_>>().map(Result::unwrap).collect();
            assert_eq!(vias.len(), 3);
            assert_eq!(vias[1].transport(), Transport::Tcp);
            assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
            assert_eq!(m.values(HeaderName::Subject).collect::<Vec<_>>(), [""]);
            let nf: Vec<_> = m.values_named("NewFangledHeader").collect();
            assert_eq!(nf, ["newfangled value\r\n continued newfangled value"]);
            assert_eq!(
                m.values_named("UnknownHeaderWithUnusualValue")
                    .collect::<Vec<_>>(),
                [";;,,;;,;"]
            );
            let c = m.contacts().next().unwrap().unwrap();
            assert_eq!(c.q(), Some(Ok(330)));
            assert_eq!(
                c.addr().unwrap().display_name().unwrap(),
                "Quoted string \"\""
            );
            let r: Route<'_> = m.header().unwrap();
            assert!(r.uri().as_sip().unwrap().params().contains("lr"));
            assert_eq!(m.body().len(), 150);
        }
        "intmeth.dat" => {
            let method = "!interesting-Method0123456789_*+`.%indeed'~";
            assert_eq!(m.method(), Some(Method::Other(method)));
            assert_eq!(m.cseq().unwrap().method, Method::Other(method));
            let to = m.to().unwrap();
            assert!(to.display_name().unwrap().contains("NUL:\0"));
            let Some(Uri::Sip(u)) = m.request_uri() else {
                panic!()
            };
            assert_eq!(
                u.password(),
                Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
            );
            assert_eq!(
                m.call_id().unwrap().as_str(),
                "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
            );
            assert_eq!(
                m.values_named("extensionHeader-!.%*+_`'~")
                    .collect::<Vec<_>>(),
                ["\u{FEFF}\u{5927}\u{505C}\u{96FB}"]
            );
            assert_eq!(
                m.from().unwrap().params().get("fromParam''~+*_!.-%"),
                Some(Some(
                    "\"\u{440}\u{430}\u{431}\u{43e}\u{442}\u{430}\u{44e}\u{449}\u{438}\u{439}\""
                ))
            );
        }
        "esc01.dat" => {
            let Some(Uri::Sip(ruri)) = m.request_uri() else {
                panic!()
            };
            assert_eq!(
                ruri.user_unescaped().unwrap().as_ref(),
                b"sips:user@example.com"
            );
            assert_eq!(ruri.host(), Host::Name("example.net"));
            let to = m.to().unwrap();
            assert_eq!(
                to.uri()
                    .as_sip()
                    .unwrap()
                    .user_unescaped()
                    .unwrap()
                    .as_ref(),
                b"user"
            );
            let from = m.from().unwrap();
            assert_eq!(
                from.uri()
                    .as_sip()
                    .unwrap()
                    .user_unescaped()
                    .unwrap()
                    .as_ref(),
                b"I have spaces"
            );
            let c = m.contacts().next().unwrap().unwrap();
            let cu = c.addr().unwrap().uri();
            assert!(cu.as_sip().unwrap().params().contains("lr"));
            // 'value%41' is not 'valueA': never unescape twice.
            let twice = Uri::parse("sip:caller@host5.example.net;lr;name=valueA").unwrap();
            let once = Uri::parse("sip:caller@host5.example.net;lr;name=value%2541").unwrap();
            assert!(!cu.equivalent(&twice));
            assert!(cu.equivalent(&once));
        }
        "escnull.dat" => {
            let to = m.to().unwrap();
            let user = to.uri().as_sip().unwrap().user_unescaped().unwrap();
            assert_eq!(user.as_ref(), b"null-\0-null");
            let c: Vec<_> = m.contacts().map(Result::unwrap).collect();
            assert_eq!(c.len(), 2);
            let a = c[0].addr().unwrap().uri();
            let b = c[1].addr().unwrap().uri();
            assert_eq!(
                a.as_sip().unwrap().user_unescaped().unwrap().as_ref(),
                b"\0"
            );
            assert_eq!(
                b.as_sip().unwrap().user_unescaped().unwrap().as_ref(),
                b"\0\0"
            );
            assert!(!a.equivalent(b), "two distinct contacts");
        }
        "esc02.dat" => {
            assert_eq!(m.method(), Some(Method::Other("RE%47IST%45R")));
            assert_eq!(m.to().unwrap().display_name().unwrap(), "%Z%45");
            assert_eq!(m.contacts().count(), 2);
            assert_eq!(m.values_named("C%6Fntact").count(), 1);
            assert_eq!(m.via().unwrap().branch(), Some("z9hG4bK209%fzsnel234"));
        }
        "lwsdisp.dat" => {
            assert_eq!(m.from().unwrap().display_name().unwrap(), "caller");
        }
        "longreq.dat" => {
            let to = m.to().unwrap();
            assert!(to.display_name().unwrap().len() > 80);
            assert!(to.uri().as_sip().unwrap().params().iter().count() >= 2);
            assert!(m.from().unwrap().tag().unwrap().len() > 100);
            assert!(m.call_id().unwrap().as_str().len() > 100);
            assert_eq!(m.header_all::<Via<'_>>().filter(Result::is_ok).count(), 34);
        }
        "dblreq.dat" => {
            assert_eq!(m.method(), Some(Method::Register));
            assert!(m.body().is_empty());
        }
        "semiuri.dat" => {
            let Some(Uri::Sip(u)) = m.request_uri() else {
                panic!()
            };
            assert_eq!(u.user(), Some("user;par=u%40example.net"));
            assert_eq!(u.host(), Host::Name("example.com"));
            assert!(u.params().is_empty());
            assert_eq!(m.header_all::<Accept<'_>>().count(), 6);
        }
        "transports.dat" => {
            let t: Vec<_> = m
                .header_all::<Via<'_>>()
                .map(|v| v.unwrap().transport())
                .collect();
            assert_eq!(
                t,
                [
                    Transport::Udp,
                    Transport::Sctp,
                    Transport::Tls,
                    Transport::Other("UNKNOWN"),
                    Transport::Tcp
                ]
            );
        }
        "mpart01.dat" => {
            let parts = multipart::parts(m).unwrap();
            assert_eq!(parts.len(), 2);
            assert!(parts[0].content_type().unwrap().is("text/plain"));
            assert_eq!(count_bare(m.body()), (3, 5, 2));
            assert_eq!(count_bare(parts[1].body()), (3, 5, 2));
        }
        "unreason.dat" => {
            assert_eq!(m.status(), Some(200));
            let r = m.reason().unwrap();
            assert!(r.starts_with("= 2**3 * 5**2 "));
            assert!(!r.is_ascii());
        }
        "noreason.dat" => {
            assert_eq!(m.status(), Some(100));
            assert_eq!(m.reason(), Some(""));
        }
        other => panic!("no field checks for {other}"),
    }
}

/// What §3.2–3.4 messages must expose to the layer above.
fn check_semantic(file: &str, m: &Message) {
    match file {
        "badbranch.dat" => {
            let v = m.via().unwrap();
            assert_eq!(v.branch(), Some("z9hG4bK"));
            assert!(!v.has_rfc3261_branch());
        }
        "insuf.dat" => {
            let e = m.check_mandatory().unwrap_err();
            assert_eq!(e.kind, HeaderErrorKind::Missing);
            assert!(!m.contains(HeaderName::CallId));
            assert!(!m.contains(HeaderName::From));
            assert!(!m.contains(HeaderName::To));
        }
        "unkscm.dat" => {
            let u = m.request_uri().unwrap();
            assert!(!u.is_sip()); // 416
            assert_eq!(u.scheme(), "nobodyKnowsThisScheme");
        }
        "novelsc.dat" => {
            let u = m.request_uri().unwrap();
            assert!(!u.is_sip());
            assert_eq!(u.scheme(), "soap.beep");
        }
        "unksm2.dat" => {
            assert_eq!(m.to().unwrap().uri().scheme(), "isbn");
            assert_eq!(m.from().unwrap().uri().scheme(), "http");
            let c = m.contacts().next().unwrap().unwrap();
            assert_eq!(c.addr().unwrap().uri().scheme(), "name");
            assert!(m.request_uri().unwrap().is_sip());
        }
        "bext01.dat" => {
            assert_eq!(
                m.unsupported_requirements(&["100rel", "timer"]),
                ["nothingSupportsThis", "nothingSupportsThisEither"]
            );
            assert_eq!(
                m.unsupported_proxy_requirements(&[]),
                ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]
            );
        }
        "invut.dat" => {
            let ct: ContentType<'_> = m.header().unwrap();
            assert!(ct.is("application/unknownformat")); // 415 at an endpoint
        }
        "regaut01.dat" => {
            let a: Authorization<'_> = m.header().unwrap();
            assert_eq!(a.scheme(), "NoOneKnowsThisScheme");
            assert!(!a.is_digest());
        }
        "multi01.dat" => {
            let e = m.check_mandatory().unwrap_err();
            assert_eq!(e.kind, HeaderErrorKind::Multiple);
            assert!(m.call_id().is_err());
            assert!(m.cseq().is_err());
            assert!(m.max_forwards().is_err());
        }
        "mcl01.dat" => {
            let e = m.content_length().unwrap_err();
            assert_eq!(e.kind, HeaderErrorKind::Multiple);
        }
        "bcast.dat" => {
            let vias: Vec<_> = m.header_all::<Via<'_>>().map(Result::unwrap).collect();
            assert_eq!(vias[1].host(), Host::Ipv4([255, 255, 255, 255].into()));
        }
        "zeromf.dat" => assert_eq!(m.max_forwards().unwrap(), Some(0)), // 483 at a proxy
        "cparam01.dat" => {
            let c = m.contacts().next().unwrap().unwrap();
            let a = c.addr().unwrap();
            assert!(a.params().contains("unknownparam"));
            assert!(!a.uri().as_sip().unwrap().params().contains("unknownparam"));
        }
        "cparam02.dat" => {
            let c = m.contacts().next().unwrap().unwrap();
            let a = c.addr().unwrap();
            assert!(!a.params().contains("unknownparam"));
            assert!(a.uri().as_sip().unwrap().params().contains("unknownparam"));
        }
        "regescrt.dat" => {
            let c = m.contacts().next().unwrap().unwrap();
            let u = c.addr().unwrap().uri().as_sip().unwrap().clone();
            let (n, v) = u.header_pairs().next().unwrap();
            assert_eq!(n, "Route");
            assert!(v.starts_with("%3Csip:"));
        }
        "sdp01.dat" => {
            let accepts: Vec<_> = m.header_all::<Accept<'_>>().map(Result::unwrap).collect();
            assert!(!accepts.iter().any(|a| a.matches("application/sdp"))); // 406
            assert!(m.content_type().unwrap().unwrap().is("application/sdp"));
        }
        "inv2543.dat" => {
            assert_eq!(m.max_forwards().unwrap(), None);
            assert_eq!(m.content_length().unwrap(), None);
            assert_eq!(m.via().unwrap().branch(), None);
            assert_eq!(m.from().unwrap().tag(), None);
            assert!(m.body().ends_with(b"m=audio 49217 RTP/AVP 0\r\n"));
        }
        other => panic!("no semantic checks for {other}"),
    }
}

#[test]
fn rfc4475_all_49_handled_as_expected() {
    let Some(dir) = common::dir("rfc4475", "sip/rfc4475") else {
        return;
    };
    let rows = common::expected(&dir);
    assert_eq!(rows.len(), 49);
    let mut verdicts = Vec::new();
    let (mut parsed, mut rejected) = (0, 0);
    for row in &rows {
        let bytes = common::message(&dir, &row.file);
        let result = Message::parse(bytes);
        let want_ok = row.expect != "reject";
        verdicts.push((row.file.clone(), want_ok, result.is_ok()));
        match (&result, row.expect.as_str()) {
            (Ok(m), "parse") => {
                check_parse(&row.file, m);
                parsed += 1;
            }
            (Ok(m), "parse_semantic") => {
                check_semantic(&row.file, m);
                parsed += 1;
            }
            (Err(e), "reject") => {
                check_reject(&row.file, e);
                rejected += 1;
            }
            (Ok(_), "reject") | (Err(_), _) => {}
            (_, other) => panic!("unknown expectation {other}"),
        }
    }
    common::check_deviations(&verdicts, DEVIATIONS);
    assert_eq!((parsed, rejected), (30, 19));
    eprintln!(
        "rfc4475: {parsed} accepted with field checks, {rejected} rejected with the specific error"
    );
}

#[test]
fn rfc4475_print_parse_print_is_a_fixed_point() {
    let Some(dir) = common::dir("rfc4475", "sip/rfc4475") else {
        return;
    };
    let mut n = 0;
    for row in common::expected(&dir) {
        let Ok(m) = Message::parse(common::message(&dir, &row.file)) else {
            continue;
        };
        let printed = m.to_bytes();
        let again = Message::parse(printed.clone())
            .unwrap_or_else(|e| panic!("{}: printed form does not parse: {e}", row.file));
        assert_eq!(again.to_bytes(), printed, "{}", row.file);
        assert_eq!(again.header_count(), m.header_count(), "{}", row.file);
        assert_eq!(again.body(), m.body(), "{}", row.file);
        n += 1;
    }
    assert_eq!(n, 30);
}

#[test]
fn rfc4475_errors_carry_the_message_for_a_400() {
    // A UAS answers 400 using the headers of the rejected request.
    let Some(dir) = common::dir("rfc4475", "sip/rfc4475") else {
        return;
    };
    for file in [
        "badinv01.dat",
        "mismatch01.dat",
        "escruri.dat",
        "baddate.dat",
        "quotbal.dat",
    ] {
        let e = Message::parse(common::message(&dir, file)).unwrap_err();
        assert_eq!(e.status_code(), 400, "{file}");
        let m = e
            .message()
            .unwrap_or_else(|| panic!("{file}: no partial message"));
        assert!(m.is_request());
        assert!(m.call_id().is_ok(), "{file}");
        let reply = pbxkit_sip_core::ResponseBuilder::reply(m, 400, &e.to_string(), Some("x1"))
            .build_unchecked()
            .unwrap();
        assert_eq!(reply.status(), Some(400));
        assert_eq!(reply.reason(), Some(e.to_string().as_str()));
        assert_eq!(reply.call_id().unwrap(), m.call_id().unwrap());
    }
}

#[test]
fn rfc4475_leniency_toggles_flip_exactly_their_message() {
    let Some(dir) = common::dir("rfc4475", "sip/rfc4475") else {
        return;
    };
    let parse = |o: &ParseOptions, f: &str| o.parse_datagram(common::message(&dir, f));
    let strict = ParseOptions::default();
    let mut cases: Vec<(ParseOptions, &[&str])> = Vec::new();
    let mut o = ParseOptions::default();
    o.allow_extra_request_line_spaces = true;
    cases.push((o, &["lwsstart.dat", "trws.dat"]));
    let mut o = ParseOptions::default();
    o.allow_bracketed_request_uri = true;
    cases.push((o, &["ltgtruri.dat"]));
    let mut o = ParseOptions::default();
    o.allow_request_uri_headers = true;
    cases.push((o, &["escruri.dat"]));
    let mut o = ParseOptions::default();
    o.check_date = false;
    cases.push((o, &["baddate.dat"]));
    let mut o = ParseOptions::default();
    o.allow_unbracketed_reserved_uri = true;
    cases.push((o, &["regbadct.dat"]));
    let mut o = ParseOptions::default();
    o.allow_lws_in_angle_brackets = true;
    cases.push((o, &["badaspec.dat"]));
    let mut o = ParseOptions::default();
    o.allow_unquoted_display_name = true;
    cases.push((o, &["baddn.dat"]));
    for (opts, files) in &cases {
        for f in *files {
            assert!(parse(&strict, f).is_err(), "{f} strict");
            let m = parse(opts, f).unwrap_or_else(|e| panic!("{f} lenient: {e}"));
            // Repaired, never forwarded as received.
            let uri = m.request_uri_str().unwrap_or("");
            assert!(!uri.starts_with('<') && !uri.contains(' '), "{f}");
        }
    }
    let m = parse(&cases[0].0, "lwsstart.dat").unwrap();
    assert_eq!(m.version(), "SIP/2.0");
    let m = parse(&cases[1].0, "ltgtruri.dat").unwrap();
    assert_eq!(m.request_uri_str(), Some("sip:user@example.com"));
    // regbadct: the brackets are inferred, the escaped Route stays in the contact URI.
    let m = parse(&cases[4].0, "regbadct.dat").unwrap();
    let c = m.contacts().next().unwrap().unwrap();
    let u = c.addr().unwrap().uri().as_sip().unwrap().clone();
    assert_eq!(u.header_pairs().next().map(|(n, _)| n), Some("Route"));
    // badaspec: the spaces inside <> are ignored.
    let m = parse(&cases[5].0, "badaspec.dat").unwrap();
    assert_eq!(m.to().unwrap().uri().as_str(), "sip:t.watson@example.org");
    // baddn: the display name is kept as written (a proxy must not propagate the error).
    let m = parse(&cases[6].0, "baddn.dat").unwrap();
    assert_eq!(m.from().unwrap().display_raw(), Some("Bell, Alexander"));
    // The toggles change nothing else: every other verdict stays.
    let rows = common::expected(&dir);
    for (opts, files) in &cases {
        for row in &rows {
            if files.contains(&row.file.as_str()) {
                continue;
            }
            assert_eq!(
                parse(opts, &row.file).is_ok(),
                parse(&strict, &row.file).is_ok(),
                "{}",
                row.file
            );
        }
    }
}

#[test]
fn rfc4475_date_is_exposed_typed() {
    let Some(dir) = common::dir("rfc4475", "sip/rfc4475") else {
        return;
    };
    let m = Message::parse(common::message(&dir, "mpart01.dat")).unwrap();
    let d: pbxkit_sip_core::header::Date = m.header().unwrap();
    assert_eq!((d.year, d.month, d.day, d.hour), (2005, 10, 15, 4));
}
