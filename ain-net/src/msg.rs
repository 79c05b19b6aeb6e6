//! The AIN message catalogue (protocol version 1).
//!
//! | code | message | direction | purpose |
//! |---|---|---|---|
//! | 1 | `Hello` | S→M | node id, EID, software version (join step 4, MV2-28) |
//! | 2 | `Challenge` | M→S | 32-byte nonce; nothing else is revealed before authentication |
//! | 3 | `AuthResponse` | S→M | HMAC-SHA256(secret, nonce ‖ node id ‖ EID) |
//! | 4 | `Welcome` | M→S | accepted; master's config version |
//! | 5 | `Refused` | M→S | reason code (full, version mismatch, bad auth, unknown node) |
//! | 6 | `Heartbeat` | both | liveness; carries the sender's config version |
//! | 7 | `ConfigSnapshot` | M→S | full configuration at a version (idempotent) |
//! | 8 | `ConfigDelta` | M→S | change from one version to the next (applied only on its base) |
//! | 9 | `ConfigAck` | S→M | version now applied (MV-23) |
//! | 10 | `LicenceView` | M→S | licences visible to satellites (MV-25) |
//! | 11 | `ChannelAcquire` | S→M | pooled channel units request (MV-17, MV-26) |
//! | 12 | `ChannelGrant` / 13 `ChannelDeny` | M→S | answer to an acquire |
//! | 14 | `ChannelRelease` | S→M | give units back (idempotent by request id) |
//! | 15 | `Directory` | M→S | extension → node map (MV-28) |
//! | 16 | `Event` | S→M | a node-qualified event forwarded to the master (MV2-33) |
//! | 17 | `NodeStatus` | S→M | calls active, offline flag, channels held (rejoin reconciliation) |
//! | 18 | `Activate` | M→S | activate this software version, only at the master's request (MV2-30) |
//! | 19 | `Maintenance` | M→S | AIN-wide remote-maintenance state, unlocked or not (MV2-31) |
//! | 20 | `NodeLicences` | S→M | the node's own per-node licences (Secure VoIP, QSIG; MV-18) |

use crate::frame::{
    FrameError, Res, array32, blob, bool_, list, put_blob, put_str, string, u8_, u16_, u32_, u64_,
};

/// Why the master refused a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefuseReason {
    /// The AIN already has 50 nodes (MV-22).
    Full,
    /// The node runs another software version (MV2-28).
    VersionMismatch,
    /// The challenge response was wrong.
    BadAuth,
    /// The node's EID was not added on the master (MV2-29 step 1).
    UnknownNode,
    /// A code this version does not know.
    Other(u8),
}

impl RefuseReason {
    fn code(self) -> u8 {
        match self {
            Self::Full => 1,
            Self::VersionMismatch => 2,
            Self::BadAuth => 3,
            Self::UnknownNode => 4,
            Self::Other(c) => c,
        }
    }
    fn from_code(c: u8) -> Self {
        match c {
            1 => Self::Full,
            2 => Self::VersionMismatch,
            3 => Self::BadAuth,
            4 => Self::UnknownNode,
            c => Self::Other(c),
        }
    }
}

/// Status a node reports to the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// Calls active on the node now.
    pub active_calls: u32,
    /// Whether the node was offline (e.g. reporting after a rejoin).
    pub was_offline: bool,
    /// Pooled-channel request ids the node still holds (for reconciliation on rejoin).
    pub held_requests: Vec<u64>,
}

/// One AIN message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// Satellite introduces itself.
    Hello {
        /// Node id (1..=50; the master is 0).
        node: u16,
        /// Equipment id.
        eid: String,
        /// Software version; must equal the master's (MV2-28).
        sw_version: String,
    },
    /// Authentication challenge.
    Challenge {
        /// Random nonce.
        nonce: [u8; 32],
    },
    /// Challenge response.
    AuthResponse {
        /// HMAC-SHA256 tag.
        mac: [u8; 32],
    },
    /// Join accepted.
    Welcome {
        /// Master's current config version.
        config_version: u64,
    },
    /// Join refused.
    Refused {
        /// Why.
        reason: RefuseReason,
    },
    /// Liveness probe / reply.
    Heartbeat {
        /// Sender's config version.
        config_version: u64,
    },
    /// Full configuration.
    ConfigSnapshot {
        /// Version of this configuration.
        version: u64,
        /// Opaque configuration document.
        data: Vec<u8>,
    },
    /// Incremental configuration change.
    ConfigDelta {
        /// Version the delta applies to.
        base: u64,
        /// Version after applying.
        version: u64,
        /// Opaque change.
        data: Vec<u8>,
    },
    /// Configuration version applied by a satellite.
    ConfigAck {
        /// Applied version.
        version: u64,
    },
    /// Licences visible AIN-wide: (licence name, count).
    LicenceView {
        /// Entries.
        entries: Vec<(String, u32)>,
    },
    /// Ask for pooled channel units.
    ChannelAcquire {
        /// Request id chosen by the node (unique per node).
        request: u64,
        /// Units wanted (2 for an inter-node call, MV-26).
        units: u16,
    },
    /// Units granted.
    ChannelGrant {
        /// Request id.
        request: u64,
    },
    /// Units denied (pool exhausted).
    ChannelDeny {
        /// Request id.
        request: u64,
    },
    /// Units released.
    ChannelRelease {
        /// Request id.
        request: u64,
    },
    /// Extension directory: (extension, node).
    Directory {
        /// Entries.
        entries: Vec<(String, u16)>,
    },
    /// Forwarded event.
    Event {
        /// Event code (the PBX's catalogue).
        code: u16,
        /// Opaque event body.
        data: Vec<u8>,
    },
    /// Node status.
    Status(NodeStatus),
    /// Activate a software version (MV2-30).
    Activate {
        /// The version to activate.
        sw_version: String,
    },
    /// The AIN-wide remote-maintenance state (MV2-31).
    Maintenance {
        /// Whether remote maintenance is unlocked.
        unlocked: bool,
    },
    /// A node's per-node licences (MV-18): licence type → count.
    NodeLicences {
        /// Entries.
        entries: Vec<(String, u32)>,
    },
}

impl Message {
    /// The type code on the wire.
    pub fn type_code(&self) -> u8 {
        match self {
            Self::Hello { .. } => 1,
            Self::Challenge { .. } => 2,
            Self::AuthResponse { .. } => 3,
            Self::Welcome { .. } => 4,
            Self::Refused { .. } => 5,
            Self::Heartbeat { .. } => 6,
            Self::ConfigSnapshot { .. } => 7,
            Self::ConfigDelta { .. } => 8,
            Self::ConfigAck { .. } => 9,
            Self::LicenceView { .. } => 10,
            Self::ChannelAcquire { .. } => 11,
            Self::ChannelGrant { .. } => 12,
            Self::ChannelDeny { .. } => 13,
            Self::ChannelRelease { .. } => 14,
            Self::Directory { .. } => 15,
            Self::Event { .. } => 16,
            Self::Status(_) => 17,
            Self::Activate { .. } => 18,
            Self::Maintenance { .. } => 19,
            Self::NodeLicences { .. } => 20,
        }
    }

    pub(crate) fn encode_payload(&self, o: &mut Vec<u8>) {
        match self {
            Self::Hello {
                node,
                eid,
                sw_version,
            } => {
                o.extend_from_slice(&node.to_be_bytes());
                put_str(o, eid);
                put_str(o, sw_version);
            }
            Self::Challenge { nonce } => o.extend_from_slice(nonce),
            Self::AuthResponse { mac } => o.extend_from_slice(mac),
            Self::Refused { reason } => o.push(reason.code()),
            Self::Welcome { config_version: v }
            | Self::Heartbeat { config_version: v }
            | Self::ConfigAck { version: v } => o.extend_from_slice(&v.to_be_bytes()),
            Self::ConfigSnapshot { version, data } => {
                o.extend_from_slice(&version.to_be_bytes());
                put_blob(o, data);
            }
            Self::ConfigDelta {
                base,
                version,
                data,
            } => {
                o.extend_from_slice(&base.to_be_bytes());
                o.extend_from_slice(&version.to_be_bytes());
                put_blob(o, data);
            }
            Self::LicenceView { entries } | Self::NodeLicences { entries } => {
                put_count(o, entries.len());
                for (n, c) in entries.iter().take(u16::MAX as usize) {
                    put_str(o, n);
                    o.extend_from_slice(&c.to_be_bytes());
                }
            }
            Self::ChannelAcquire { request, units } => {
                o.extend_from_slice(&request.to_be_bytes());
                o.extend_from_slice(&units.to_be_bytes());
            }
            Self::ChannelGrant { request }
            | Self::ChannelDeny { request }
            | Self::ChannelRelease { request } => o.extend_from_slice(&request.to_be_bytes()),
            Self::Directory { entries } => {
                put_count(o, entries.len());
                for (e, n) in entries.iter().take(u16::MAX as usize) {
                    put_str(o, e);
                    o.extend_from_slice(&n.to_be_bytes());
                }
            }
            Self::Event { code, data } => {
                o.extend_from_slice(&code.to_be_bytes());
                put_blob(o, data);
            }
            Self::Status(s) => {
                o.extend_from_slice(&s.active_calls.to_be_bytes());
                o.push(u8::from(s.was_offline));
                put_count(o, s.held_requests.len());
                for r in s.held_requests.iter().take(u16::MAX as usize) {
                    o.extend_from_slice(&r.to_be_bytes());
                }
            }
            Self::Activate { sw_version } => put_str(o, sw_version),
            Self::Maintenance { unlocked } => o.push(u8::from(*unlocked)),
        }
    }

    pub(crate) fn decode_payload(ty: u8, p: &[u8]) -> Result<Self, FrameError> {
        let parsed = match ty {
            1..=20 => parse(ty, p),
            _ => return Err(FrameError::UnknownType(ty)),
        };
        match parsed {
            Ok(([], m)) => Ok(m),
            _ => Err(FrameError::Malformed(ty)),
        }
    }
}

fn put_count(o: &mut Vec<u8>, n: usize) {
    o.extend_from_slice(&(n.min(u16::MAX as usize) as u16).to_be_bytes());
}

fn lic_entry(i: &[u8]) -> Res<'_, (String, u32)> {
    let (i, n) = string(i)?;
    let (i, c) = u32_(i)?;
    Ok((i, (n, c)))
}

fn dir_entry(i: &[u8]) -> Res<'_, (String, u16)> {
    let (i, e) = string(i)?;
    let (i, n) = u16_(i)?;
    Ok((i, (e, n)))
}

fn parse(ty: u8, i: &[u8]) -> Res<'_, Message> {
    Ok(match ty {
        1 => {
            let (i, node) = u16_(i)?;
            let (i, eid) = string(i)?;
            let (i, sw_version) = string(i)?;
            (
                i,
                Message::Hello {
                    node,
                    eid,
                    sw_version,
                },
            )
        }
        2 => array32(i).map(|(i, nonce)| (i, Message::Challenge { nonce }))?,
        3 => array32(i).map(|(i, mac)| (i, Message::AuthResponse { mac }))?,
        4 => u64_(i).map(|(i, v)| (i, Message::Welcome { config_version: v }))?,
        5 => u8_(i).map(|(i, c)| {
            let reason = RefuseReason::from_code(c);
            (i, Message::Refused { reason })
        })?,
        6 => u64_(i).map(|(i, v)| (i, Message::Heartbeat { config_version: v }))?,
        7 => {
            let (i, version) = u64_(i)?;
            let (i, data) = blob(i)?;
            (i, Message::ConfigSnapshot { version, data })
        }
        8 => {
            let (i, base) = u64_(i)?;
            let (i, version) = u64_(i)?;
            let (i, data) = blob(i)?;
            let m = Message::ConfigDelta {
                base,
                version,
                data,
            };
            (i, m)
        }
        9 => u64_(i).map(|(i, version)| (i, Message::ConfigAck { version }))?,
        10 => list(i, lic_entry).map(|(i, entries)| (i, Message::LicenceView { entries }))?,
        11 => {
            let (i, request) = u64_(i)?;
            let (i, units) = u16_(i)?;
            (i, Message::ChannelAcquire { request, units })
        }
        12 => u64_(i).map(|(i, request)| (i, Message::ChannelGrant { request }))?,
        13 => u64_(i).map(|(i, request)| (i, Message::ChannelDeny { request }))?,
        14 => u64_(i).map(|(i, request)| (i, Message::ChannelRelease { request }))?,
        15 => list(i, dir_entry).map(|(i, entries)| (i, Message::Directory { entries }))?,
        16 => {
            let (i, code) = u16_(i)?;
            let (i, data) = blob(i)?;
            (i, Message::Event { code, data })
        }
        18 => string(i).map(|(i, sw_version)| (i, Message::Activate { sw_version }))?,
        19 => bool_(i).map(|(i, unlocked)| (i, Message::Maintenance { unlocked }))?,
        20 => list(i, lic_entry).map(|(i, entries)| (i, Message::NodeLicences { entries }))?,
        _ => {
            let (i, active_calls) = u32_(i)?;
            let (i, was_offline) = bool_(i)?;
            let (i, held_requests) = list(i, u64_)?;
            let s = NodeStatus {
                active_calls,
                was_offline,
                held_requests,
            };
            (i, Message::Status(s))
        }
    })
}
