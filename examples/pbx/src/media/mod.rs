//! Media for the PBX: the RTP port allocator, the two-leg call relay (symmetric RTP with
//! latching, RTCP forwarding and statistics, transcoding) and the quality estimate for CDRs.

pub mod ports;
pub mod quality;
pub mod relay;
mod transcode;

pub use ports::PortAllocator;
pub use relay::{CallRelay, LegSpec, RelayError, RelayReport};
