//! Value types of the configuration that parse from strings: listen addresses, port ranges,
//! host:port targets. Parse failures become serde errors, so `toml` reports them with the
//! value's line and column.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};

/// A listen address, or `"off"` for a disabled transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

impl Listen {
    /// A listener on `addr`.
    pub const fn on(addr: SocketAddr) -> Self {
        Self(Some(addr))
    }

    /// The address, if the transport is enabled.
    pub const fn addr(self) -> Option<SocketAddr> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "off" {
            return Ok(Self(None));
        }
        s.parse().map(|a| Self(Some(a))).map_err(|_| {
            de::Error::custom(format!(
                "invalid listen address {s:?}: expected IP:PORT such as \"127.0.0.1:5060\", or \"off\""
            ))
        })
    }
}

/// An inclusive UDP port range for RTP, written `"20000-20999"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// First port (even: RTP takes even ports, RTCP the next odd one).
    pub first: u16,
    /// Last port.
    pub last: u16,
}

/// Why a port range does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortRangeError {
    /// Not `FIRST-LAST` with two port numbers.
    #[error("expected \"FIRST-LAST\" such as \"20000-20999\"")]
    Syntax,
    /// A bound below 1024 (privileged ports).
    #[error("ports below 1024 are reserved")]
    Privileged,
    /// FIRST is odd (RTP uses even ports, RFC 3550 §11).
    #[error("the first port must be even (RTP on even ports, RTCP on the next odd one)")]
    OddStart,
    /// Fewer than two ports, or FIRST above LAST.
    #[error("the range must hold at least one RTP/RTCP port pair")]
    TooSmall,
}

impl FromStr for PortRange {
    type Err = PortRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s.split_once('-').ok_or(PortRangeError::Syntax)?;
        let first: u16 = a.trim().parse().map_err(|_| PortRangeError::Syntax)?;
        let last: u16 = b.trim().parse().map_err(|_| PortRangeError::Syntax)?;
        if first < 1024 || last < 1024 {
            return Err(PortRangeError::Privileged);
        }
        if first % 2 == 1 {
            return Err(PortRangeError::OddStart);
        }
        if last <= first {
            return Err(PortRangeError::TooSmall);
        }
        Ok(Self { first, last })
    }
}

impl PortRange {
    /// The number of RTP/RTCP pairs in the range.
    pub fn pairs(self) -> usize {
        (usize::from(self.last) - usize::from(self.first)).div_ceil(2)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| de::Error::custom(format!("invalid port range {s:?}: {e}")))
    }
}

/// A `host:port` target (a name or an IP address), resolved when used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl HostPort {
    /// Parses `host:port`, `[v6]:port`, or `host` with `default_port`.
    pub fn parse(s: &str, default_port: u16) -> Option<Self> {
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Some(Self {
                host: a.ip().to_string(),
                port: a.port(),
            });
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p.parse().ok()?),
            Some(_) => return None,
            None => (s, default_port),
        };
        let ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        ok.then(|| Self {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Deserializes a [`HostPort`] with a default port (a serde `deserialize_with` helper).
macro_rules! host_port_with_default {
    ($name:ident, $port:expr) => {
        pub(crate) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<HostPort, D::Error> {
            let s = String::deserialize(d)?;
            HostPort::parse(&s, $port).ok_or_else(|| {
                de::Error::custom(format!(
                    "invalid target {s:?}: expected HOST:PORT such as \"127.0.0.1:{}\"",
                    $port
                ))
            })
        }
    };
}

host_port_with_default!(sip_target, 5060);
host_port_with_default!(syslog_target, 514);
host_port_with_default!(snmp_target, 162);
host_port_with_default!(smtp_target, 25);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_range_rules() {
        assert_eq!(
            "20000-20999".parse(),
            Ok(PortRange {
                first: 20000,
                last: 20999
            })
        );
        assert_eq!(
            "20000-20999".parse::<PortRange>().map(PortRange::pairs),
            Ok(500)
        );
        assert_eq!(
            "20001-20999".parse::<PortRange>(),
            Err(PortRangeError::OddStart)
        );
        assert_eq!(
            "80-90".parse::<PortRange>(),
            Err(PortRangeError::Privileged)
        );
        assert_eq!(
            "20000-20000".parse::<PortRange>(),
            Err(PortRangeError::TooSmall)
        );
        assert_eq!("20000".parse::<PortRange>(), Err(PortRangeError::Syntax));
        assert_eq!("a-b".parse::<PortRange>(), Err(PortRangeError::Syntax));
    }

    #[test]
    fn host_port_forms() {
        let hp = HostPort::parse("sip.example.com", 5060).expect("name");
        assert_eq!((hp.host.as_str(), hp.port), ("sip.example.com", 5060));
        let hp = HostPort::parse("[::1]:5080", 5060).expect("v6");
        assert_eq!((hp.host.as_str(), hp.port), ("::1", 5080));
        assert_eq!(hp.to_string(), "[::1]:5080");
        assert!(HostPort::parse("a b:1", 5060).is_none());
        assert!(HostPort::parse("host:x", 5060).is_none());
    }
}
