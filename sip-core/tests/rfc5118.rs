//! RFC 5118 IPv6 torture messages (oracle: `sip/rfc5118/` + `EXPECTED.tsv`), as datagrams.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use pbxkit_sip_core::header::Via;
use pbxkit_sip_core::uri::{Host, Uri};
use pbxkit_sip_core::{Message, ParseErrorKind, UriError};

const DEVIATIONS: &[(&str, &str)] = &[];

fn v6(s: &str) -> Host<'static> {
    Host::Ipv6(s.parse::<Ipv6Addr>().unwrap())
}

fn ruri_host(m: &Message) -> (Host<'_>, Option<u16>) {
    let Some(Uri::Sip(u)) = m.request_uri() else {
        panic!("not a SIP Request-URI")
    };
    (u.host(), u.port())
}

fn check(file: &str, m: &Message) {
    let vias: Vec<Via<'_>> = m.header_all::<Via<'_>>().map(Result::unwrap).collect();
    match file {
        "ipv6-good" => {
            assert_eq!(ruri_host(m), (v6("2001:db8::10"), None));
            assert_eq!(vias[0].host(), v6("2001:db8::9:1"));
            let c = m.contacts().next().unwrap().unwrap();
            assert_eq!(
                c.addr().unwrap().uri().as_sip().unwrap().host(),
                v6("2001:db8::1")
            );
        }
        "port-ambiguous" => assert_eq!(ruri_host(m), (v6("2001:db8::10:5070"), None)),
        "port-unambiguous" => assert_eq!(ruri_host(m), (v6("2001:db8::10"), Some(5070))),
        "via-received-param-with-delim" | "via-received-param-no-delim" => {
            assert_eq!(vias[0].received(), Some(v6("2001:db8::9:255")));
        }
        "ipv6-in-sdp" | "mult-ip-in-sdp" => {
            // Datagram framing: Content-Length wins, the tail is cut (not asserted on).
            let declared = m.content_length().unwrap().unwrap() as usize;
            assert_eq!(m.body().len(), declared);
            assert!(m.body().starts_with(b"v=0\r\n"));
            assert!(m.content_type().unwrap().unwrap().is("application/sdp"));
        }
        "mult-ip-in-header" => {
            assert_eq!(vias.len(), 3);
            assert_eq!(
                (vias[0].host(), vias[0].port()),
                (v6("2001:db8::9:1"), Some(6050))
            );
            assert_eq!(vias[1].host(), Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
            assert_eq!(vias[2].host(), v6("2001:db8::9:255"));
            assert_eq!(
                vias[2].received(),
                Some(Host::Ipv4(Ipv4Addr::new(192, 0, 2, 200)))
            );
        }
        "ipv4-mapped-ipv6" => {
            assert_eq!(
                (vias[0].host(), vias[0].port()),
                (v6("::ffff:192.0.2.10"), Some(19823))
            );
            assert_eq!(
                (vias[1].host(), vias[1].port()),
                (v6("::ffff:192.0.2.2"), None)
            );
            let c = m.contacts().next().unwrap().unwrap();
            assert_eq!(
                c.addr().unwrap().uri().as_sip().unwrap().host(),
                v6("::ffff:192.0.2.2")
            );
        }
        "ipv6-bug-abnf-3-colons" | "ipv6-correct-abnf-2-colons" => {
            assert_eq!(ruri_host(m), (v6("2001:db8::192.0.2.1"), None));
            let to = m.to().unwrap();
            assert_eq!(to.uri().as_sip().unwrap().host(), v6("2001:db8::192.0.2.1"));
        }
        other => panic!("no checks for {other}"),
    }
}

#[test]
fn rfc5118_all_12_handled_as_expected() {
    let Some(dir) = common::dir("rfc5118", "sip/rfc5118") else {
        return;
    };
    let rows = common::expected(&dir);
    assert_eq!(rows.len(), 12);
    let mut verdicts = Vec::new();
    for row in &rows {
        let result = Message::parse(common::message(&dir, &row.file));
        verdicts.push((row.file.clone(), row.expect != "reject", result.is_ok()));
        match (&result, row.expect.as_str()) {
            (Ok(m), "parse") => {
                check(&row.file, m);
                let printed = m.to_bytes();
                assert_eq!(Message::parse(printed.clone()).unwrap().to_bytes(), printed);
            }
            (Err(e), "reject") => {
                assert_eq!(row.file, "ipv6-bad");
                // sip:2001:db8::10 reads as host `2001`, port `db8::10`.
                assert_eq!(e.kind(), ParseErrorKind::RequestUri(UriError::Port));
                assert_eq!(e.status_code(), 400);
            }
            _ => {}
        }
    }
    common::check_deviations(&verdicts, DEVIATIONS);
}
