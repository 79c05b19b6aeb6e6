//! Sans-IO AIN protocol: one master, up to 50 nodes, central configuration and offline fallback.
//!
//! **Status:** scaffold. The API of this crate is being built; see the
//! project's issue tracker ("ain-net"). Nothing here is stable yet.
//!
//! Drive contract (once implemented): the ARCHITECTURE driving vocabulary, with time as an argument.
