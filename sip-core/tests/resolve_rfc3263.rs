//! RFC 3263 §4 target selection from supplied DNS records: the RFC's own NAPTR example,
//! numeric hosts and explicit ports, the `transport` parameter, SIPS, the no-NAPTR SRV
//! fallback, the no-SRV address fallback, and RFC 2782 priority and weight ordering.

use std::net::{IpAddr, SocketAddr};

use pbxkit_sip_core::resolve::{Destination, Record, Target, targets};
use pbxkit_sip_core::transaction::Transport::{self, Tcp, Tls, Udp};

fn naptr(order: u16, pref: u16, service: &str, replacement: &str) -> Record {
    Record::Naptr {
        name: "example.com".into(),
        order,
        preference: pref,
        flags: "s".into(),
        service: service.into(),
        replacement: replacement.into(),
    }
}

fn srv(name: &str, priority: u16, weight: u16, port: u16, target: &str) -> Record {
    Record::Srv {
        name: name.into(),
        priority,
        weight,
        port,
        target: target.into(),
    }
}

fn a(name: &str, ip: &str) -> Record {
    Record::Addr {
        name: name.into(),
        addr: ip.parse().expect("ip"),
    }
}

fn t(transport: Transport, addr: &str) -> Target {
    Target {
        transport,
        addr: addr.parse::<SocketAddr>().expect("addr"),
    }
}

fn dest(host: &str) -> Destination<'_> {
    Destination {
        host,
        port: None,
        transport: None,
        secure: false,
    }
}

/// The records of RFC 3263 §4.1's example, with SRV and A records filled in.
fn example() -> Vec<Record> {
    vec![
        naptr(50, 50, "SIPS+D2T", "_sips._tcp.example.com."),
        naptr(90, 50, "SIP+D2T", "_sip._tcp.example.com"),
        naptr(100, 50, "SIP+D2U", "_sip._udp.example.com."),
        srv("_sips._tcp.example.com", 0, 0, 5061, "server1.example.com"),
        srv("_sip._tcp.example.com", 0, 0, 5060, "server1.example.com"),
        srv("_sip._udp.example.com", 0, 0, 5060, "server2.example.com"),
        a("server1.example.com", "192.0.2.1"),
        a("server2.example.com.", "192.0.2.2"),
    ]
}

fn never() -> u32 {
    0
}

#[test]
fn rfc3263_naptr_order_picks_tls_then_tcp_then_udp() {
    let got = targets(
        &dest("example.com"),
        &example(),
        &[Udp, Tcp, Tls],
        &mut never,
    );
    assert_eq!(
        got,
        [
            t(Tls, "192.0.2.1:5061"),
            t(Tcp, "192.0.2.1:5060"),
            t(Udp, "192.0.2.2:5060"),
        ]
    );
    // A client without TLS skips that NAPTR (§4.1: "discard records whose services are not
    // supported").
    let got = targets(&dest("example.com"), &example(), &[Udp, Tcp], &mut never);
    assert_eq!(got, [t(Tcp, "192.0.2.1:5060"), t(Udp, "192.0.2.2:5060")]);
}

#[test]
fn rfc3263_sips_uses_only_tls() {
    let d = Destination {
        secure: true,
        ..dest("example.com")
    };
    let got = targets(&d, &example(), &[Udp, Tcp, Tls], &mut never);
    assert_eq!(got, [t(Tls, "192.0.2.1:5061")]);
}

#[test]
fn rfc3263_numeric_host_and_explicit_port_skip_naptr_and_srv() {
    let ip = Destination {
        host: "192.0.2.9",
        ..dest("")
    };
    assert_eq!(
        targets(&ip, &[], &[Udp, Tcp], &mut never),
        [t(Udp, "192.0.2.9:5060")]
    );
    let ip_tcp = Destination {
        transport: Some(Tcp),
        port: Some(5080),
        ..ip
    };
    assert_eq!(
        targets(&ip_tcp, &[], &[Udp, Tcp], &mut never),
        [t(Tcp, "192.0.2.9:5080")]
    );
    let v6 = Destination {
        host: "2001:db8::1",
        secure: true,
        ..dest("")
    };
    assert_eq!(
        targets(&v6, &[], &[Tls], &mut never),
        [t(Tls, "[2001:db8::1]:5061")]
    );
    // An explicit port: A records of the host, no SRV (§4.2).
    let with_port = Destination {
        port: Some(5070),
        ..dest("server1.example.com")
    };
    assert_eq!(
        targets(&with_port, &example(), &[Udp], &mut never),
        [t(Udp, "192.0.2.1:5070")]
    );
}

#[test]
fn rfc3263_transport_param_goes_straight_to_its_srv() {
    let d = Destination {
        transport: Some(Udp),
        ..dest("example.com")
    };
    assert_eq!(
        targets(&d, &example(), &[Udp, Tcp, Tls], &mut never),
        [t(Udp, "192.0.2.2:5060")]
    );
}

#[test]
fn rfc3263_without_naptr_srv_then_address_fallbacks() {
    // No NAPTR: SRV for each supported transport, in our preference order.
    let recs = vec![
        srv("_sip._tcp.example.net", 0, 0, 5062, "pbx.example.net"),
        a("pbx.example.net", "198.51.100.7"),
        a("example.net", "198.51.100.1"),
    ];
    let d = dest("example.net");
    assert_eq!(
        targets(&d, &recs, &[Udp, Tcp], &mut never),
        [t(Tcp, "198.51.100.7:5062")]
    );
    // No SRV either: the host's A records, UDP, port 5060.
    let recs = vec![
        a("example.org", "203.0.113.5"),
        a("example.org", "203.0.113.6"),
    ];
    assert_eq!(
        targets(&dest("example.org"), &recs, &[Udp, Tcp], &mut never),
        [t(Udp, "203.0.113.5:5060"), t(Udp, "203.0.113.6:5060")]
    );
    // Nothing at all: no target.
    assert!(targets(&dest("nowhere.invalid"), &[], &[Udp], &mut never).is_empty());
}

#[test]
fn rfc2782_priority_first_then_weights_share_the_load() {
    let name = "_sip._udp.example.com";
    let recs = vec![
        srv(name, 20, 0, 5060, "backup.example.com"),
        srv(name, 10, 60, 5060, "big.example.com"),
        srv(name, 10, 20, 5060, "small.example.com"),
        a("big.example.com", "192.0.2.60"),
        a("small.example.com", "192.0.2.20"),
        a("backup.example.com", "192.0.2.99"),
    ];
    let d = Destination {
        transport: Some(Udp),
        ..dest("example.com")
    };
    // A deterministic uniform sequence: count which of the weighted pair comes first.
    let mut x: u32 = 12345;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut big_first = 0;
    for _ in 0..4000 {
        let got = targets(&d, &recs, &[Udp], &mut rnd);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2].addr.ip(),
            "192.0.2.99".parse::<IpAddr>().expect("ip"),
            "priority 20 last"
        );
        if got[0].addr.ip() == "192.0.2.60".parse::<IpAddr>().expect("ip") {
            big_first += 1;
        }
    }
    // Weight 60 against 20: first about 3/4 of the time (running-sum selection, RFC 2782).
    assert!(
        (2800..=3200).contains(&big_first),
        "big first {big_first} of 4000"
    );
}
