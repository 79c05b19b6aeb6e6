//! Sans-IO media engine for PBXKit: RTP/RTCP, jitter buffer, RFC 4733 DTMF, SRTP, SDP offer/answer, mixing and media-resource budgets.
//!
//! **Status:** scaffold. The API of this crate is being built; see the
//! project's issue tracker ("rtp-media"). Nothing here is stable yet.
//!
//! Drive contract (once implemented): the ARCHITECTURE driving vocabulary, with time as an argument.
