//! Sans-IO AIN protocol: one master, up to 50 nodes, central configuration and offline fallback.
//!
//! **Status:** implemented and tested:
//! - the wire protocol (version 1: [`frame`], [`msg`]) and the authentication ([`auth`]);
//! - membership, configuration and liveness in the [`master`] and [`satellite`] state
//!   machines;
//! - a master-side pooled-channel semaphore (`ChannelAcquire`/`Grant`/`Deny`/`Release`, not
//!   yet wired to `licensing`);
//! - the extension directory (MV-28: `Master::set_directory`, `Satellite::locate`);
//! - WAN bandwidth admission between nodes ([`wan`], MV2-32);
//! - the SCN federation limits of the UC module manual ([`scn`], UCM-NET-1/2);
//! - pooled channels on the satellite side (`Satellite::acquire_channels`) and the rejoin
//!   reconciliation: a rejoining satellite reports what it still holds (`Status`) and the
//!   master counts exactly that, once;
//! - node-qualified event forwarding (MV2-33);
//! - the gateway satellite's reachability for the licensing 72 h rule (MV-27:
//!   `Master::set_gateway`, `GatewayLost`/`GatewayRestored` events);
//! - software activation only at the master's request, once the master runs it (MV2-30,
//!   UCM-NET-4), and the network inventory (UCM-NET-5: `Master::inventory`); the AIN-wide
//!   remote-maintenance state with the node's own unlock for dial-up access (MV2-31);
//! - per-node licences reported node by node (MV-18: `Satellite::set_node_licences`,
//!   `Master::node_licence`, `Master::licensed_on_every_node`);
//! - the licence view (MV-25: `Master::set_licence_view`, `Satellite::licences`, with the
//!   offline temporary set for 36 h).
//!
//! # Timers (defaults, [`Timing`])
//! Heartbeat every 5 s in both directions; a peer silent for 30 s is lost; a satellite then
//! goes offline on its backup configuration with temporary licences valid 36 h.
//!
//! # Wire protocol, version 1
//! TCP between each satellite and the master. Every message is one frame: a 12-byte header
//! (magic `A1 4E`, version, type code, sequence, payload length ≤ 1 MiB) and a payload
//! (see [`frame`] for the layout and [`msg`] for the catalogue). A frame with another
//! version, an unknown type, an over-long length or a payload that does not parse exactly
//! is a [`FrameError`]; the connection is then closed. Decoding never panics.
//!
//! # Join (MV2-29 step 4)
//! `Hello` (node, EID, software version) → `Challenge` (nonce) → `AuthResponse` (HMAC) →
//! `Welcome` or `Refused` (full at 50 nodes, version mismatch, bad auth, unknown EID).
//!
//! # Drive contract
//! The ARCHITECTURE driving vocabulary, with time as an argument:
//! `handle_stream_bytes(now, conn, bytes)`, `handle_timeout(now)`, `poll_transmit()`,
//! `poll_event()`, `poll_timeout()`.

pub mod auth;
mod common;
pub mod frame;
pub mod master;
pub mod msg;
pub mod satellite;
pub mod scn;
pub mod wan;

pub use common::{ConnId, MAX_NODES, Timing, Transmit};
pub use frame::{Frame, FrameDecoder, FrameError, MAX_PAYLOAD, PROTOCOL_VERSION};
pub use master::{ActivationRefused, Master, MasterConfig, MasterEvent, NodeInventory};
pub use msg::{Message, NodeStatus, RefuseReason};
pub use satellite::{LinkState, Satellite, SatelliteConfig, SatelliteEvent};
