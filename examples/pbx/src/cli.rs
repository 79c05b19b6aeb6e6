//! The command line: a fixed contract.
//!
//! ```text
//! pbx                         run on the embedded default configuration
//! pbx --config FILE           run on FILE
//! pbx --check-config FILE     validate FILE: exit 0, or print the errors and exit 1
//! pbx --data-dir DIR          where passwords, the TLS certificate, CDRs and event logs live
//! ```
//!
//! The data directory defaults to `$XDG_DATA_HOME/pbxkit-pbx`, else
//! `$HOME/.local/share/pbxkit-pbx`, else `./pbx-data`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::config::{self, Diagnostic, Loaded};

/// The PBXKit reference PBX.
#[derive(Debug, Parser)]
#[command(name = "pbx", version, about = "The PBXKit reference PBX")]
pub struct Cli {
    /// Configuration file (TOML). Without it, the embedded default runs on loopback.
    #[arg(long, value_name = "FILE", conflicts_with = "check_config")]
    pub config: Option<PathBuf>,
    /// Validate a configuration file and exit (0 when valid).
    #[arg(long, value_name = "FILE")]
    pub check_config: Option<PathBuf>,
    /// Data directory (generated passwords, TLS certificate, CDRs, event log).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print the embedded default configuration and exit.
    #[arg(long, conflicts_with_all = ["config", "check_config"])]
    pub print_default_config: bool,
}

/// The default data directory (see the module docs).
pub fn default_data_dir() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(x) = var("XDG_DATA_HOME") {
        return x.join("pbxkit-pbx");
    }
    if let Some(h) = var("HOME") {
        return h.join(".local/share/pbxkit-pbx");
    }
    PathBuf::from("pbx-data")
}

fn print_diagnostics(ds: &[Diagnostic], label: &str) {
    for d in ds {
        eprintln!("{label}: {d}");
    }
}

/// Loads the configuration the command line names (or the embedded default).
pub fn load(path: Option<&Path>) -> Result<Loaded, Vec<Diagnostic>> {
    match path {
        Some(p) => config::load(p),
        None => Ok(config::embedded()),
    }
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.print_default_config {
        print!("{}", config::DEFAULT_TOML);
        return ExitCode::SUCCESS;
    }
    if let Some(path) = &cli.check_config {
        return match config::load(path) {
            Ok(l) => {
                print_diagnostics(&l.warnings, "warning");
                println!("{}: configuration is valid", path.display());
                ExitCode::SUCCESS
            }
            Err(errors) => {
                print_diagnostics(&errors, "error");
                ExitCode::FAILURE
            }
        };
    }
    let loaded = match load(cli.config.as_deref()) {
        Ok(l) => l,
        Err(errors) => {
            print_diagnostics(&errors, "error");
            return ExitCode::FAILURE;
        }
    };
    print_diagnostics(&loaded.warnings, "warning");
    let data_dir = cli.data_dir.unwrap_or_else(default_data_dir);
    init_tracing();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(crate::runtime::run(loaded, &data_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
