//! One registered contact.

use std::net::SocketAddr;
use std::time::Instant;

use crate::transaction::Transport;
use crate::uri::{Host, Uri};

/// A binding of an address of record to a contact (RFC 3261 §10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Binding {
    /// The contact URI as registered.
    pub contact: String,
    /// Preference in thousandths (q=0.5 is 500); 1000 when absent.
    pub q: u16,
    /// When the binding lapses unless refreshed.
    pub expires_at: Instant,
    /// Call-ID of the REGISTER that made or last refreshed it.
    pub call_id: String,
    /// Its CSeq.
    pub cseq: u32,
    /// Where that REGISTER came from (RFC 3581: reach the device there behind NAT).
    pub source: SocketAddr,
    /// Over which transport.
    pub transport: Transport,
    /// The Path of the REGISTER (RFC 3327): route requests to the device through it.
    pub path: Vec<String>,
    /// `+sip.instance` (RFC 5626 §4.1), for GRUUs and outbound flows.
    pub instance: Option<String>,
    /// `reg-id` (RFC 5626).
    pub reg_id: Option<u32>,
    /// Last keep-alive from `source` (RFC 5626 §4.4: CRLF or STUN).
    pub last_keepalive: Option<Instant>,
}

impl Binding {
    /// Whether a NAT stands between the device and us: its Contact names an IP address and
    /// port other than those its REGISTER came from (RFC 3581). A Contact with a host name
    /// cannot be compared and counts as not behind a NAT.
    pub fn behind_nat(&self) -> bool {
        let Ok(Uri::Sip(u)) = Uri::parse(&self.contact) else {
            return false;
        };
        let ip: std::net::IpAddr = match u.host() {
            Host::Ipv4(a) => a.into(),
            Host::Ipv6(a) => a.into(),
            Host::Name(_) => return false,
        };
        let port = u.port().unwrap_or(if u.is_secure() { 5061 } else { 5060 });
        SocketAddr::new(ip, port) != self.source
    }

    /// Whether `contact` names this binding (RFC 3261 §10.3 compares with URI equivalence).
    pub fn same_contact(&self, contact: &str) -> bool {
        if self.contact == contact {
            return true;
        }
        match (Uri::parse(&self.contact), Uri::parse(contact)) {
            (Ok(a), Ok(b)) => a.equivalent(&b),
            _ => false,
        }
    }
}
