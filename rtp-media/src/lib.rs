//! Sans-IO media engine for PBXKit (manual in progress).

pub mod budget;
pub mod dtmf;
pub mod jitter;
pub mod mixer;
pub mod relay;
pub mod rtcp;
pub mod rtp;
pub mod sdes;
pub mod sdp;
pub mod srtp;
pub mod stats;
pub mod tones;
