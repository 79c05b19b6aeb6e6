//! Media for the PBX: the RTP port allocator, the two-leg call relay (symmetric RTP with
//! latching, RTCP forwarding and statistics, transcoding), the echo-test service and the
//! quality estimate for CDRs.

pub mod echo;
pub mod ports;
pub mod quality;
pub mod relay;
mod transcode;

pub use echo::Echo;
pub use ports::PortAllocator;
pub use relay::{CallRelay, LegSpec, LegSrtp, RelayError, RelayReport};
