//! The PBX configuration: TOML, every table `deny_unknown_fields`, defaults for everything,
//! an embedded default document, and diagnostics with file, line and column.

mod diag;
mod schema;
mod validate;
pub mod value;

use std::path::{Path, PathBuf};

pub use diag::Diagnostic;
pub use schema::*;
pub use validate::{
    MAX_DDI, MAX_DEVICES_PER_USER, MAX_DRAIN_SECS, MAX_SIP_CHANNELS, MAX_TRUNKS, MAX_USERS,
};

use diag::Source;

/// The embedded default configuration (`pbx` with no arguments).
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// The name diagnostics give the embedded default.
pub const DEFAULT_ORIGIN: &str = "<embedded default>";

/// A configuration that parsed and validated, with its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration, relative paths resolved against the file's folder.
    pub config: Config,
    /// Problems that do not stop the PBX (e.g. weak passwords).
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates `text`; `origin` names it in diagnostics and `base` resolves the
/// licence paths (the configuration file's folder).
pub fn parse(text: &str, origin: &str, base: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let src = Source { origin, text };
    let mut config: Config = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let mut d = src.at(span, e.message().trim().to_owned());
        if d.line.is_none() {
            d.line = Some(1);
        }
        vec![d]
    })?;
    let (errors, warnings) = validate::check(&config, src);
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Some(l) = &mut config.licence {
        l.file = base.join(&l.file);
        l.trust_anchor = base.join(&l.trust_anchor);
    }
    for p in [&mut config.sip.tls_cert, &mut config.sip.tls_key]
        .into_iter()
        .flatten()
    {
        *p = base.join(&*p);
    }
    Ok(Loaded { config, warnings })
}

/// Reads and parses the file at `path`.
pub fn load(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic {
            origin: origin.clone(),
            line: None,
            column: None,
            message: format!("cannot read the configuration: {e}"),
        }]
    })?;
    let base = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    parse(&text, &origin, &base)
}

/// The embedded default.
pub fn embedded() -> Loaded {
    // The embedded document is tested to parse (tests::embedded_default_parses).
    parse(DEFAULT_TOML, DEFAULT_ORIGIN, Path::new(".")).expect("the embedded default is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let l = embedded();
        assert!(l.warnings.is_empty());
        assert_eq!(l.config.users.len(), 5);
        assert!(l.config.licence.is_none(), "demo mode by default");
        assert_eq!(l.config.calls.echo_test.get_ref(), "*43");
    }
}
