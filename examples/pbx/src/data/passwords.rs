//! SIP passwords of users whose configuration gives none: generated on first start,
//! persisted in `passwords.toml` (owner-only), reported once so the caller prints them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{DataDir, DataError, io_err, write_atomic};
use crate::config::UserConfig;

const FILE: &str = "passwords.toml";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    /// Extension → password.
    #[serde(default)]
    passwords: BTreeMap<String, String>,
}

/// A password generated during this start (print it once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedPassword {
    /// The extension.
    pub extension: String,
    /// The new password.
    pub password: String,
}

/// Every user's digest password: configured or generated.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    by_extension: BTreeMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("extensions", &self.by_extension.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The password of `extension`.
    pub fn password(&self, extension: &str) -> Option<&str> {
        self.by_extension.get(extension).map(String::as_str)
    }

    /// Number of users with a password.
    pub fn len(&self) -> usize {
        self.by_extension.len()
    }

    /// Whether no user has a password.
    pub fn is_empty(&self) -> bool {
        self.by_extension.is_empty()
    }
}

/// The persisted generated passwords.
#[derive(Debug)]
pub struct PasswordFile {
    path: PathBuf,
}

impl PasswordFile {
    /// The file in `dir`.
    pub fn new(dir: &DataDir) -> Self {
        Self {
            path: dir.path(Path::new(FILE)),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Stored, DataError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| DataError::Corrupt {
                path: self.path.clone(),
                reason: e.message().to_owned(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Stored::default()),
            Err(e) => Err(io_err(&self.path)(e)),
        }
    }

    /// Resolves every user's password: the configured one, else the persisted one, else a
    /// new one (persisted atomically before returning). Generated passwords of users no
    /// longer configured are kept, so re-adding a user restores the phone's password.
    pub fn resolve(
        &self,
        users: &[UserConfig],
    ) -> Result<(Credentials, Vec<GeneratedPassword>), DataError> {
        let mut stored = self.read()?;
        let mut creds = Credentials::default();
        let mut fresh = Vec::new();
        for u in users {
            let ext = u.extension.get_ref().clone();
            let pw = match &u.password {
                Some(p) => p.get_ref().clone(),
                None => stored
                    .passwords
                    .entry(ext.clone())
                    .or_insert_with(|| {
                        let password = crate::secrets::generate();
                        fresh.push(GeneratedPassword {
                            extension: ext.clone(),
                            password: password.clone(),
                        });
                        password
                    })
                    .clone(),
            };
            creds.by_extension.insert(ext, pw);
        }
        if !fresh.is_empty() {
            let text = toml::to_string(&stored).map_err(|e| DataError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
            let header = "# Generated SIP passwords of the users whose configuration gives none.\n";
            write_atomic(&self.path, format!("{header}{text}").as_bytes(), true)?;
        }
        Ok((creds, fresh))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    #[test]
    fn generated_once_then_reused() {
        let root = crate::data::tests::temp_dir("pw");
        let dir = DataDir::open(&root).expect("open");
        let cfg = config::embedded().config;
        let pf = PasswordFile::new(&dir);
        let (c1, fresh) = pf.resolve(&cfg.users).expect("first start");
        assert_eq!(fresh.len(), 5, "one per demo extension");
        assert!(
            fresh
                .iter()
                .all(|g| crate::secrets::policy(&g.password).is_ok())
        );
        let (c2, fresh) = pf.resolve(&cfg.users).expect("second start");
        assert!(fresh.is_empty(), "printed only once");
        assert_eq!(c1, c2, "persisted and reused");
        assert_eq!(c1.password("201"), Some(fresh_or(&c2, "201")));
        // A corrupt file is reported, not overwritten.
        std::fs::write(pf.path(), "passwords = 3").expect("write");
        assert!(matches!(
            pf.resolve(&cfg.users),
            Err(DataError::Corrupt { .. })
        ));
        let _ = std::fs::remove_dir_all(&root);
    }

    fn fresh_or<'a>(c: &'a Credentials, e: &str) -> &'a str {
        c.password(e).expect("present")
    }

    #[test]
    fn configured_passwords_are_not_stored() {
        let root = crate::data::tests::temp_dir("pw2");
        let dir = DataDir::open(&root).expect("open");
        let l = config::parse(
            "[[users]]\nextension = \"201\"\npassword = \"s3cret-201\"\n",
            "t",
            Path::new("."),
        )
        .expect("valid");
        let pf = PasswordFile::new(&dir);
        let (c, fresh) = pf.resolve(&l.config.users).expect("resolve");
        assert!(fresh.is_empty());
        assert_eq!(c.password("201"), Some("s3cret-201"));
        assert!(!pf.path().exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
