//! Locating SIP servers (RFC 3263 §4): which transport, address and port to try, in order,
//! for a SIP or SIPS URI. Sans-IO: the caller supplies the DNS records it holds (NAPTR, SRV,
//! A and AAAA) and a random source for SRV weights (RFC 2782); the result is the ordered
//! list of targets to try, the later ones being the failover.

use std::net::{IpAddr, SocketAddr};

use crate::transaction::Transport;

/// A DNS record relevant to RFC 3263. Names are compared case-insensitively and without a
/// trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// NAPTR (RFC 3403) with the `s` flag: `service` (`SIP+D2U`, `SIP+D2T`, `SIPS+D2T`, …)
    /// points at the SRV name `replacement`.
    Naptr {
        /// Owner name.
        name: String,
        /// Order (lower first).
        order: u16,
        /// Preference within an order (lower first).
        preference: u16,
        /// Flags (`s` for SRV).
        flags: String,
        /// Service field.
        service: String,
        /// Replacement (an SRV name).
        replacement: String,
    },
    /// SRV (RFC 2782).
    Srv {
        /// Owner name (`_sip._udp.example.com`).
        name: String,
        /// Priority (lower first).
        priority: u16,
        /// Weight within a priority.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: String,
    },
    /// An A or AAAA record.
    Addr {
        /// Owner name.
        name: String,
        /// The address.
        addr: IpAddr,
    },
}

/// A place to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The transport.
    pub transport: Transport,
    /// Address and port.
    pub addr: SocketAddr,
}

/// What RFC 3263 needs from the URI: host, port, `transport` parameter and scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination<'a> {
    /// Host name or IP literal (without brackets).
    pub host: &'a str,
    /// Explicit port.
    pub port: Option<u16>,
    /// The `transport` URI parameter.
    pub transport: Option<Transport>,
    /// `sips:`.
    pub secure: bool,
}

fn same(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

const fn default_port(t: Transport) -> u16 {
    match t {
        Transport::Tls => 5061,
        _ => 5060,
    }
}

/// The NAPTR service and SRV prefix of a transport (RFC 3263 §4.1).
const fn service(t: Transport, secure: bool) -> Option<(&'static str, &'static str)> {
    match (t, secure) {
        (Transport::Udp, false) => Some(("SIP+D2U", "_sip._udp")),
        (Transport::Tcp, false) => Some(("SIP+D2T", "_sip._tcp")),
        (Transport::Tls, _) => Some(("SIPS+D2T", "_sips._tcp")),
        _ => None,
    }
}

/// The targets for `dest`, in the order to try them, using `records`. `supported` lists our
/// transports in preference order; `random` returns uniform values for the SRV weights.
pub fn targets(
    dest: &Destination<'_>,
    records: &[Record],
    supported: &[Transport],
    random: &mut dyn FnMut() -> u32,
) -> Vec<Target> {
    let usable = |t: Transport| supported.contains(&t) && service(t, dest.secure).is_some();
    // §4.1: a numeric IP or an explicit port fixes the host; the transport defaults.
    let fallback = if dest.secure {
        Transport::Tls
    } else {
        Transport::Udp
    };
    if let Ok(ip) = dest.host.parse::<IpAddr>() {
        let t = dest.transport.unwrap_or(fallback);
        let port = dest.port.unwrap_or(default_port(t));
        return usable(t)
            .then(|| Target {
                transport: t,
                addr: SocketAddr::new(ip, port),
            })
            .into_iter()
            .collect();
    }
    if let Some(port) = dest.port {
        let t = dest.transport.unwrap_or(fallback);
        return if usable(t) {
            addresses(records, dest.host, port, t)
        } else {
            Vec::new()
        };
    }
    // The SRV names to query, per transport, in order.
    let mut srv_names: Vec<(Transport, String)> = Vec::new();
    match dest.transport {
        Some(t) => {
            if let Some((_, prefix)) = service(t, dest.secure).filter(|_| usable(t)) {
                srv_names.push((t, format!("{prefix}.{}", dest.host)));
            }
        }
        None => {
            let mut naptr: Vec<(u16, u16, Transport, &str)> = records
                .iter()
                .filter_map(|r| match r {
                    Record::Naptr {
                        name,
                        order,
                        preference,
                        flags,
                        service: s,
                        replacement,
                    } if same(name, dest.host) && flags.eq_ignore_ascii_case("s") => {
                        let t = supported.iter().copied().find(|t| {
                            service(*t, dest.secure)
                                .is_some_and(|(svc, _)| svc.eq_ignore_ascii_case(s))
                        })?;
                        Some((*order, *preference, t, replacement.as_str()))
                    }
                    _ => None,
                })
                .collect();
            naptr.sort_by_key(|n| (n.0, n.1));
            srv_names.extend(naptr.iter().map(|n| (n.2, n.3.to_owned())));
            if srv_names.is_empty() {
                // No NAPTR: try the SRV names of every supported transport, in our order.
                for &t in supported {
                    if let Some((_, prefix)) = service(t, dest.secure) {
                        srv_names.push((t, format!("{prefix}.{}", dest.host)));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (t, name) in &srv_names {
        for (port, target) in srv_order(records, name, random) {
            for a in addresses(records, &target, port, *t) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    if out.is_empty() && srv_names.iter().all(|(_, n)| !has_srv(records, n)) {
        // §4.2: no SRV records at all: the host's addresses on the default port.
        let t = dest.transport.unwrap_or(fallback);
        if usable(t) {
            out = addresses(records, dest.host, default_port(t), t);
        }
    }
    out
}

fn has_srv(records: &[Record], name: &str) -> bool {
    records
        .iter()
        .any(|r| matches!(r, Record::Srv { name: n, .. } if same(n, name)))
}

/// The A/AAAA records of `host`, as targets on `port`.
fn addresses(records: &[Record], host: &str, port: u16, t: Transport) -> Vec<Target> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Addr { name, addr } if same(name, host) => Some(Target {
                transport: t,
                addr: SocketAddr::new(*addr, port),
            }),
            _ => None,
        })
        .collect()
}

/// The SRV records of `name` in RFC 2782 order: by priority, and within a priority by
/// weighted random selection (zero weights first in the running sum, as the RFC says).
fn srv_order(
    records: &[Record],
    name: &str,
    random: &mut dyn FnMut() -> u32,
) -> Vec<(u16, String)> {
    let mut srv: Vec<(u16, u16, u16, &str)> = records
        .iter()
        .filter_map(|r| match r {
            Record::Srv {
                name: n,
                priority,
                weight,
                port,
                target,
            } if same(n, name) && target != "." => {
                Some((*priority, *weight, *port, target.as_str()))
            }
            _ => None,
        })
        .collect();
    srv.sort_by_key(|s| (s.0, s.1 != 0));
    let mut out = Vec::new();
    while !srv.is_empty() {
        let priority = srv[0].0;
        let end = srv
            .iter()
            .position(|s| s.0 != priority)
            .unwrap_or(srv.len());
        let mut group: Vec<_> = srv.drain(..end).collect();
        while !group.is_empty() {
            let total: u32 = group.iter().map(|s| u32::from(s.1)).sum();
            let pick = if total == 0 {
                0
            } else {
                random() % (total + 1)
            };
            let mut sum = 0;
            let at = group
                .iter()
                .position(|s| {
                    sum += u32::from(s.1);
                    sum >= pick
                })
                .unwrap_or(0);
            let s = group.remove(at);
            out.push((s.2, s.3.to_owned()));
        }
    }
    out
}
