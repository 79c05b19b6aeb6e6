//! Signed, EID-bound licence files and the complete MiVoice Office 400 licence model (Tab. 15).
//!
//! **Status:** scaffold. The API of this crate is being built; see the
//! project's issue tracker ("licensing"). Nothing here is stable yet.
//!
//! Pure crate: wall-clock time is injected; signatures use `ring` (Ed25519).
