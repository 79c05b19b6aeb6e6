//! The data directory: generated SIP passwords, the TLS certificate, the licensing state,
//! CDRs and the event log. Whole-file writes are atomic (temporary file in the same folder,
//! fsync, rename, fsync of the folder); log files are appended one whole line per write.

mod passwords;
mod tls;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

pub use passwords::{Credentials, GeneratedPassword, PasswordFile};
pub use tls::{TlsMaterial, tls_material};

/// A data-directory failure, naming the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// Reading, writing or creating failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file in the data directory does not parse.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The certificate could not be generated.
    #[error("generating the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (creating, owner-only on Unix) the directory.
    pub fn open(root: &Path) -> Result<Self, DataError> {
        fs::create_dir_all(root).map_err(io_err(root))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io_err(root))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path inside the folder (absolute paths stay as they are).
    pub fn path(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }
}

/// Writes `bytes` to `path` atomically: a reader sees the old or the new content, never a
/// mix, even across a crash. `private` makes the file owner-only (0600) on Unix.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), DataError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// Appends one line (a `\n` is added) with a single `write` on an `O_APPEND` file, then
/// syncs the data: concurrent appenders never interleave within a line, and a crash
/// loses at most the line being written.
pub fn append_line(path: &Path, line: &str) -> Result<(), DataError> {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    f.write_all(&buf).map_err(io_err(path))?;
    f.sync_data().map_err(io_err(path))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "pbx-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let d = DataDir::open(&temp_dir("atomic")).expect("open");
        let p = d.path(Path::new("x.toml"));
        write_atomic(&p, b"one", true).expect("write");
        write_atomic(&p, b"two", true).expect("rewrite");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(d.root())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary left behind: {names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // A write into a missing folder fails with the path, and leaves nothing.
        let e = write_atomic(&d.path(Path::new("no/such/file")), b"x", false).expect_err("fails");
        assert!(e.to_string().contains("no/such/file"), "{e}");
        let _ = fs::remove_dir_all(d.root());
    }

    #[test]
    fn appends_whole_lines() {
        let d = DataDir::open(&temp_dir("append")).expect("open");
        let p = d.path(Path::new("log.jsonl"));
        append_line(&p, "{\"a\":1}").expect("append");
        append_line(&p, "{\"a\":2}").expect("append");
        assert_eq!(
            fs::read_to_string(&p).expect("read"),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        let _ = fs::remove_dir_all(d.root());
    }
}
