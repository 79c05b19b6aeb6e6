//! The state that must survive restarts, and its text form.
//!
//! Test-licence activations (once per feature for the life of the system, MV-7) and the
//! start times of the 72 h countdowns and of offline operation must outlive a restart.
//! The crate is pure: [`PersistentState::to_toml`] renders the state and the embedder
//! writes it **atomically** (write a temporary file in the same directory, `fsync`, then
//! `rename` over the old one) whenever [`crate::Event::PersistentStateChanged`] is
//! raised. [`PersistentState::from_toml`] reads it back at boot.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::catalogue::LicenceType;

/// Why a persisted state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not valid TOML.
    #[error("licensing state is not valid TOML (at byte {offset:?})")]
    Syntax {
        /// Byte offset of the error, when known.
        offset: Option<usize>,
    },
    /// A key is unknown or its value has the wrong type.
    #[error("licensing state entry `{key}` is invalid")]
    Invalid {
        /// The offending key.
        key: Box<str>,
    },
}

/// Persistent licensing state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistentState {
    /// When each test licence was activated (never removed: once per feature, MV-7).
    pub test_activations: BTreeMap<LicenceType, SystemTime>,
    /// Test licences whose expiry was already reported.
    pub test_expiry_reported: BTreeSet<LicenceType>,
    /// Start of the running licence-server countdown (MV-10).
    pub server_countdown_start: Option<SystemTime>,
    /// Start of the running gateway-satellite countdown (MV-11).
    pub gateway_countdown_start: Option<SystemTime>,
    /// Satellite: start of the current offline period (MV-8, MV-9).
    pub offline_since: Option<SystemTime>,
    /// The user-licence-missing event was raised for the current shortage (MV2-16).
    pub user_missing_raised: bool,
}

fn secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn time(v: &toml::Value, key: &str) -> Result<SystemTime, StateError> {
    match v {
        toml::Value::Integer(n) if *n >= 0 => {
            Ok(UNIX_EPOCH + Duration::from_secs(n.unsigned_abs()))
        }
        _ => Err(StateError::Invalid { key: key.into() }),
    }
}

impl PersistentState {
    /// Renders the state as TOML (times as Unix seconds).
    pub fn to_toml(&self) -> String {
        let mut doc = toml::Table::new();
        doc.insert("version".into(), toml::Value::Integer(1));
        let mut tests = toml::Table::new();
        for (t, at) in &self.test_activations {
            tests.insert(t.key().into(), toml::Value::Integer(secs(*at)));
        }
        doc.insert("test_activations".into(), toml::Value::Table(tests));
        doc.insert(
            "test_expiry_reported".into(),
            toml::Value::Array(
                self.test_expiry_reported
                    .iter()
                    .map(|t| toml::Value::String(t.key().into()))
                    .collect(),
            ),
        );
        for (key, v) in [
            ("server_countdown_start", self.server_countdown_start),
            ("gateway_countdown_start", self.gateway_countdown_start),
            ("offline_since", self.offline_since),
        ] {
            if let Some(t) = v {
                doc.insert(key.into(), toml::Value::Integer(secs(t)));
            }
        }
        doc.insert(
            "user_missing_raised".into(),
            toml::Value::Boolean(self.user_missing_raised),
        );
        doc.to_string()
    }

    /// Reads the state written by [`PersistentState::to_toml`].
    pub fn from_toml(text: &str) -> Result<Self, StateError> {
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| StateError::Syntax {
                offset: e.span().map(|r| r.start),
            })?;
        let mut s = Self::default();
        for (key, v) in &doc {
            let bad = || StateError::Invalid {
                key: key.as_str().into(),
            };
            match (key.as_str(), v) {
                ("version", toml::Value::Integer(1)) => {}
                ("test_activations", toml::Value::Table(t)) => {
                    for (k, v) in t {
                        let lt = LicenceType::from_key(k).ok_or_else(bad)?;
                        s.test_activations.insert(lt, time(v, k)?);
                    }
                }
                ("test_expiry_reported", toml::Value::Array(a)) => {
                    for v in a {
                        let lt = v.as_str().and_then(LicenceType::from_key).ok_or_else(bad)?;
                        s.test_expiry_reported.insert(lt);
                    }
                }
                ("server_countdown_start", v) => s.server_countdown_start = Some(time(v, key)?),
                ("gateway_countdown_start", v) => s.gateway_countdown_start = Some(time(v, key)?),
                ("offline_since", v) => s.offline_since = Some(time(v, key)?),
                ("user_missing_raised", toml::Value::Boolean(b)) => s.user_missing_raised = *b,
                _ => return Err(bad()),
            }
        }
        if !doc.contains_key("version") {
            return Err(StateError::Invalid {
                key: "version".into(),
            });
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut s = PersistentState::default();
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        s.test_activations.insert(LicenceType::SipTerminals, t);
        s.test_expiry_reported.insert(LicenceType::AutoAttendant);
        s.server_countdown_start = Some(t);
        s.offline_since = Some(t + Duration::from_secs(5));
        s.user_missing_raised = true;
        let back = PersistentState::from_toml(&s.to_toml()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            PersistentState::from_toml("version = 1\nbogus = 3"),
            Err(StateError::Invalid { .. })
        ));
        assert!(matches!(
            PersistentState::from_toml("version = 1\noffline_since = -5"),
            Err(StateError::Invalid { .. })
        ));
        assert!(matches!(
            PersistentState::from_toml("=="),
            Err(StateError::Syntax { .. })
        ));
        assert!(matches!(
            PersistentState::from_toml(""),
            Err(StateError::Invalid { .. })
        ));
    }
}
