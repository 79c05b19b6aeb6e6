//! Test helpers shared by the PBXKit crates (never a runtime dependency).
//!
//! The oracle data (RFC torture messages, ITU STL vectors) lives outside the
//! repository in `../shared/testdata`. [`shared_testdata`] finds it:
//!
//! 1. `$SHARED_TESTDATA`, when set;
//! 2. otherwise `../shared/testdata` beside the workspace root.
//!
//! When neither exists the caller skips with a clear message, unless
//! `REQUIRE_SHARED_TESTDATA=1` is set (as `.ci/run` does): then a missing
//! folder is a failure, so a lost folder can never turn the gate green.

pub mod pcap;
pub mod sipp;

use std::path::{Path, PathBuf};

/// Environment variable naming the test-data folder explicitly.
pub const ENV_DIR: &str = "SHARED_TESTDATA";
/// Environment variable that turns a missing folder from a skip into a failure.
pub const ENV_REQUIRE: &str = "REQUIRE_SHARED_TESTDATA";
/// Environment variable that turns a missing external peer (SIPp, tshark, ...) from a skip
/// into a failure, so CI can never go green by not running its interop tests.
pub const ENV_REQUIRE_PEERS: &str = "REQUIRE_PEERS";

/// The workspace root (the folder holding the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // testkit sits one level below the root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Locates `sub` (e.g. `"codecs/g711"`) inside the shared test data.
///
/// Returns `None` after printing `SKIP <what>: ...` when the data is absent;
/// panics instead when `REQUIRE_SHARED_TESTDATA=1`.
pub fn shared_testdata(what: &str, sub: &str) -> Option<PathBuf> {
    let base = match std::env::var_os(ENV_DIR) {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/testdata"),
    };
    let dir = base.join(sub);
    if dir.exists() {
        return Some(dir);
    }
    let required = std::env::var(ENV_REQUIRE).is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{what}: test data not found at {} and {ENV_REQUIRE}=1",
        dir.display()
    );
    eprintln!(
        "SKIP {what}: test data not found (set {ENV_DIR} or provide ../shared/testdata; looked at {})",
        dir.display()
    );
    None
}

/// Reads a file as raw bytes, panicking with the path on failure (tests only).
pub fn read(path: &Path) -> Vec<u8> {
    match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => panic!("cannot read {}: {err}", path.display()),
    }
}

/// Decodes little-endian 16-bit words.
pub fn le_words(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|w| i16::from_le_bytes([w[0], w[1]]))
        .collect()
}

/// Whether an executable is on `PATH` (for tests driving external peers).
pub fn have_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

/// A small seeded PRNG (xorshift64) for bounded, reproducible property tests.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random value (the seed must not be zero).
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Whether an external peer is usable: `true` when `available`; otherwise prints
/// `SKIP {what}` and returns `false`, or panics when `REQUIRE_PEERS=1` (as `.ci/run` sets).
pub fn peer_available(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var_os(ENV_REQUIRE_PEERS).is_some_and(|v| v == "1") {
        panic!(
            "{what} is required ({ENV_REQUIRE_PEERS}=1) but missing: run scripts/install-deps.sh"
        );
    }
    eprintln!("SKIP {what}: not installed");
    false
}

/// [`peer_available`] for an executable on `PATH`.
pub fn peer(program: &str) -> bool {
    peer_available(have_program(program), program)
}

/// The DTMF digits that multimon-ng, an independent decoder, hears in `pcm` (mono,
/// `rate` Hz), in order; SoX resamples to multimon-ng's 22.05 kHz first. Check
/// `peer("multimon-ng")` and `peer("sox")` before calling.
pub fn multimon_dtmf(pcm: &[i16], rate: u32) -> String {
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("pbxkit-mm-{}-{n}", std::process::id()));
    let (input, resampled) = (
        base.with_extension("in.raw"),
        base.with_extension("22k.raw"),
    );
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&input, bytes).expect("write PCM");
    let raw =
        |r: &str| ["-t", "raw", "-r", r, "-e", "signed", "-b", "16", "-c", "1"].map(str::to_owned);
    let sox = Command::new("sox")
        .args(raw(&rate.to_string()))
        .arg(&input)
        .args(raw("22050"))
        .arg(&resampled)
        .output()
        .expect("run sox");
    assert!(sox.status.success(), "sox: {sox:?}");
    let mm = Command::new("multimon-ng")
        .args(["-q", "-c", "-a", "DTMF", "-t", "raw"])
        .arg(&resampled)
        .output()
        .expect("run multimon-ng");
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&resampled);
    assert!(mm.status.success(), "multimon-ng: {mm:?}");
    String::from_utf8_lossy(&mm.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("DTMF: "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_words_decodes_pairs() {
        assert_eq!(
            le_words(&[0x01, 0x00, 0xff, 0xff, 0x00, 0x80]),
            vec![1, -1, i16::MIN]
        );
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }
}
