//! Small example programs for the PBXKit crates; see `src/bin/`.
