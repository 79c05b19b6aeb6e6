//! UCM
