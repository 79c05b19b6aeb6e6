//! Dialog state (RFC 3261 §12): creation on both sides, route sets from Record-Route,
//! in-dialog requests, CSeq ordering, target refresh (§12.2, RFC 3311) and strict routing.

use pbxkit_sip_core::dialog::{Dialog, DialogError, DialogId, DialogState};
use pbxkit_sip_core::{HeaderName, Message, Method};

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n\
Max-Forwards: 70\r\n\
Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n\
Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@client.atlanta.example.com>\r\n\
Content-Length: 0\r\n\r\n";

fn msg(s: &str) -> Message {
    Message::parse(s.as_bytes().to_vec()).expect("valid")
}

fn ok_200() -> Message {
    msg("SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n\
Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n\
Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=314159\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:bob@client.biloxi.example.com>\r\n\
Content-Length: 0\r\n\r\n")
}

#[test]
fn uac_dialog_reverses_the_route_set_and_builds_bye() {
    // §12.1.2: route set = Record-Route of the response in reverse; remote target = Contact.
    let mut d = Dialog::uac(&msg(INVITE), &ok_200()).expect("dialog");
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.id().remote_tag, "314159");
    assert_eq!(
        d.route_set(),
        [
            "<sip:ss2.biloxi.example.com;lr>",
            "<sip:ss1.atlanta.example.com;lr>"
        ]
    );
    let bye = d
        .request(
            Method::Bye,
            ("UDP", "client.atlanta.example.com:5060", "z9hG4bKbye1"),
        )
        .expect("builder")
        .build()
        .expect("valid BYE");
    assert_eq!(
        bye.request_uri_str(),
        Some("sip:bob@client.biloxi.example.com")
    );
    let routes: Vec<&str> = bye.values(HeaderName::Route).collect();
    assert_eq!(
        routes,
        [
            "<sip:ss2.biloxi.example.com;lr>",
            "<sip:ss1.atlanta.example.com;lr>"
        ]
    );
    assert_eq!(
        bye.cseq().expect("cseq").seq,
        2,
        "§12.2.1.1: local CSeq increments"
    );
    assert_eq!(bye.to().expect("to").tag(), Some("314159"));
    assert_eq!(bye.from().expect("from").tag(), Some("9fxced76sl"));
    // The ACK for the 2xx keeps the INVITE's CSeq number (§13.2.2.4).
    let ack = d
        .ack(1, ("UDP", "h", "z9hG4bKack"))
        .expect("b")
        .build()
        .expect("ack");
    assert_eq!(ack.cseq().expect("cseq").seq, 1);
    assert_eq!(ack.cseq().expect("cseq").method, Method::Ack);
}

#[test]
fn uas_dialog_keeps_route_order_checks_cseq_and_refreshes_target() {
    // §12.1.1: route set = Record-Route of the request in order.
    let invite = msg(INVITE);
    let mut d = Dialog::uas(&invite, "314159").expect("dialog");
    assert_eq!(d.state(), DialogState::Early);
    d.confirm();
    assert_eq!(d.route_set()[0], "<sip:ss1.atlanta.example.com;lr>");
    assert_eq!(d.remote_target(), "sip:alice@client.atlanta.example.com");
    // A re-INVITE from Alice with a new Contact refreshes the target (§12.2.2).
    let reinvite = INVITE
        .replace(
            "To: Bob <sip:bob@biloxi.example.com>",
            "To: Bob <sip:bob@biloxi.example.com>;tag=314159",
        )
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
        .replace(
            "<sip:alice@client.atlanta.example.com>",
            "<sip:alice@192.0.2.101>",
        );
    let reinvite = msg(&reinvite);
    assert_eq!(DialogId::of_incoming(&reinvite).as_ref(), Some(d.id()));
    d.on_request(&reinvite).expect("in order");
    assert_eq!(d.remote_target(), "sip:alice@192.0.2.101");
    // The same CSeq again is out of order (§12.2.2: 500).
    assert_eq!(d.on_request(&reinvite), Err(DialogError::OutOfOrder));
    // Our own requests start our CSeq space.
    let bye = d
        .request(Method::Bye, ("UDP", "bob.example:5060", "z9hG4bKb"))
        .expect("b")
        .build()
        .expect("bye");
    assert_eq!(bye.request_uri_str(), Some("sip:alice@192.0.2.101"));
    assert_eq!(bye.from().expect("from").tag(), Some("314159"));
    assert_eq!(bye.to().expect("to").tag(), Some("9fxced76sl"));
}

#[test]
fn strict_route_becomes_the_request_uri() {
    // §12.2.1.1: without `lr`, the first route is the Request-URI and the remote target is
    // appended as the last Route.
    let resp = msg(&String::from_utf8_lossy(&ok_200().to_bytes()).replace(
        "Record-Route: <sip:ss1.atlanta.example.com;lr>\r\nRecord-Route: <sip:ss2.biloxi.example.com;lr>\r\n",
        "Record-Route: <sip:strict.example.com>\r\n",
    ));
    let mut d = Dialog::uac(&msg(INVITE), &resp).expect("dialog");
    let bye = d
        .request(Method::Bye, ("UDP", "h", "z9hG4bKs"))
        .expect("b")
        .build()
        .expect("bye");
    assert_eq!(bye.request_uri_str(), Some("sip:strict.example.com"));
    let routes: Vec<&str> = bye.values(HeaderName::Route).collect();
    assert_eq!(routes, ["<sip:bob@client.biloxi.example.com>"]);
}

#[test]
fn missing_tags_or_contact_do_not_form_a_dialog() {
    let untagged = msg(&String::from_utf8_lossy(&ok_200().to_bytes()).replace(";tag=314159", ""));
    assert!(matches!(
        Dialog::uac(&msg(INVITE), &untagged),
        Err(DialogError::Missing(_))
    ));
    let no_contact =
        msg(&INVITE.replace("Contact: <sip:alice@client.atlanta.example.com>\r\n", ""));
    assert!(matches!(
        Dialog::uas(&no_contact, "t"),
        Err(DialogError::Missing("Contact"))
    ));
}
