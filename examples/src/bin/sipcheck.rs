//! `sipcheck FILE...`: reads each file as one SIP datagram (raw bytes) and
//! prints one line per file:
//!
//! ```text
//! FILE<TAB>ok<TAB>METHOD-or-STATUS
//! FILE<TAB>error<TAB>reason
//! ```
//!
//! Exit status 0 once every file was read (a rejected message is not a
//! failure of the tool), 1 if a file could not be read, 2 with no arguments.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<_> = std::env::args_os().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: sipcheck FILE...");
        return ExitCode::from(2);
    }
    let mut unreadable = false;
    let mut out = std::io::stdout().lock();
    for path in files {
        let shown = path.to_string_lossy().into_owned();
        let line = match std::fs::read(&path) {
            Err(e) => {
                eprintln!("sipcheck: cannot read {shown}: {e}");
                unreadable = true;
                continue;
            }
            Ok(bytes) => match sip_core::Message::parse(bytes) {
                Ok(m) => {
                    let what = match (m.method(), m.status()) {
                        (Some(method), _) => method.to_string(),
                        (None, Some(code)) => code.to_string(),
                        (None, None) => String::new(),
                    };
                    format!("{shown}\tok\t{what}")
                }
                Err(e) => format!("{shown}\terror\t{}", one_line(&e.to_string())),
            },
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(1);
        }
    }
    if unreadable {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Keeps a reason on one line and free of tabs, so the output stays parseable.
fn one_line(reason: &str) -> String {
    reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
