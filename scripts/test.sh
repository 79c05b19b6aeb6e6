#!/usr/bin/env bash
# The whole PBXKit test suite: formatting, lints, tests and docs, failing on
# the first broken step. Installs the Debian packages it needs first (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
    step "install Debian packages"
    scripts/install-deps.sh
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "fuzz targets build (cargo-fuzz layout, stable check)"
cargo check --manifest-path fuzz/Cargo.toml --locked

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "all checks passed"
