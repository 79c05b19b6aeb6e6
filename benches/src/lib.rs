//! Criterion benchmarks for PBXKit; the benches live in `benches/`.
//!
//! Run them with `cargo bench -p pbxkit-benches`.
