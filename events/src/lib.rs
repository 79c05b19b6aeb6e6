//! The PBX event catalogue, event tables and filters, and message destinations.
//!
//! **Status:** scaffold. The API of this crate is being built; see the
//! project's issue tracker ("events"). Nothing here is stable yet.
//!
//! Sans-IO scheduling: the crate says what to deliver and when; adapters deliver it.
