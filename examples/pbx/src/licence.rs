//! Licence mode: strict (a `[licence]` section: the licensing crate's engine with the signed
//! file, trust anchor and EID) or demo (no section: everything allowed, logged loudly).
//!
//! Strict mode runs [`licensing::Licensing`] as a [`Platform::Hardware`] master bound to its
//! own EID: online verification against a licence server is not wired in this PBX, and a VA
//! without it would turn restricted after 72 h (MV-10). A missing or invalid licence file
//! does not stop the PBX: the engine's 4-hour countdown to restricted mode runs (MV-3) and
//! restricted mode gates the MV-4 behaviours. The engine's persistent state is kept in the
//! data directory (atomic writes).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use licensing::{
    Binding, Config, Eid, Identity, Licensing, PersistentState, Platform, Release, Role,
    SalesChannel, TrustAnchors, VerifyingKey,
};
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use crate::config::LicenceConfig;
use crate::data::{DataDir, DataError, write_atomic};
use crate::notice::Notice;

/// The running software release, checked against the file's Software Release licence.
pub fn software_release() -> Release {
    let text = concat!(
        env!("CARGO_PKG_VERSION_MAJOR"),
        ".",
        env!("CARGO_PKG_VERSION_MINOR")
    );
    // The package version is always MAJOR.MINOR digits.
    Release::parse(text).expect("the package version is a release")
}

/// Why strict licensing could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LicenceError {
    /// The trust anchor file.
    #[error("trust anchor {path}: {reason}")]
    TrustAnchor {
        /// Its path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The persisted licensing state.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// The licence mode.
#[derive(Debug, Clone)]
pub enum LicenceMode {
    /// No licence section: everything works, clearly marked.
    Demo,
    /// The licensing engine decides (shared with the registrar and call handling).
    Strict(Arc<Mutex<Licensing>>),
}

impl LicenceMode {
    /// `"demo"` or `"strict"`.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Demo => "demo",
            Self::Strict(_) => "strict",
        }
    }

    /// Whether the Secure VoIP licence is on (MV-40); demo mode allows it.
    pub fn secure_voip(&self) -> bool {
        match self {
            Self::Demo => true,
            Self::Strict(engine) => engine.lock().is_ok_and(|e| {
                #[allow(clippy::disallowed_methods)] // the licence clock is wall time
                let now = SystemTime::now();
                e.feature_enabled(now, licensing::LicenceType::SecureVoip)
            }),
        }
    }

    /// A "Presence Sync via SIMPLE and MSRP" licence for one user (MV-34): `Some(None)` in
    /// demo mode, `Some(lease)` (dropping it gives the licence back), or `None` when refused.
    pub fn presence_lease(&self) -> Option<Option<licensing::Lease>> {
        match self {
            Self::Demo => Some(None),
            Self::Strict(engine) => {
                let mut e = engine.lock().ok()?;
                #[allow(clippy::disallowed_methods)] // the licence clock is wall time
                let now = SystemTime::now();
                e.open_session(now, licensing::Session::SimpleMsrp)
                    .ok()
                    .map(Some)
            }
        }
    }

    /// Whether restricted mode leaves `b` available (MV-4); demo mode allows everything.
    pub fn allows(&self, b: licensing::Behaviour) -> bool {
        match self {
            Self::Demo => true,
            Self::Strict(engine) => engine.lock().map_or(true, |e| e.behaviour_allowed(b)),
        }
    }
}

const STATE_FILE: &str = "licensing-state.toml";

/// The variable that shortens the 4 h before restricted mode (MV-3), for tests and demos.
pub const RESTRICTED_AFTER_ENV: &str = "PBXKIT_RESTRICTED_AFTER_SECS";

/// The engine's timers: the licensing defaults, with the delay before restricted mode
/// shortened by [`RESTRICTED_AFTER_ENV`] when set. It can only shorten it: a longer value
/// keeps the 4 h.
pub fn timers() -> Config {
    let mut c = Config::default();
    if let Some(secs) = std::env::var(RESTRICTED_AFTER_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        c.restricted_delay = c.restricted_delay.min(Duration::from_secs(secs));
        warn!(
            "{RESTRICTED_AFTER_ENV}: restricted mode follows {} s after start without a valid licence",
            c.restricted_delay.as_secs()
        );
    }
    c
}

/// Starts the licensing engine for `cfg` at `now` with timers `timers`.
pub fn strict(
    cfg: &LicenceConfig,
    dir: &DataDir,
    timers: Config,
    now: SystemTime,
) -> Result<Licensing, LicenceError> {
    let anchor_err = |reason: String| LicenceError::TrustAnchor {
        path: cfg.trust_anchor.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&cfg.trust_anchor).map_err(|e| anchor_err(e.to_string()))?;
    let key = VerifyingKey::from_text(text.trim()).map_err(|e| anchor_err(e.to_string()))?;
    let eid = Eid::parse(cfg.eid.get_ref()).ok_or_else(|| anchor_err("invalid EID".into()))?;
    let identity = Identity {
        platform: Platform::Hardware,
        role: Role::Master,
        eid,
        binding: Binding::OwnEid,
        sales_channel: SalesChannel::parse(&cfg.sales_channel),
        release: software_release(),
    };
    let state_path = dir.path(std::path::Path::new(STATE_FILE));
    let state = match std::fs::read_to_string(&state_path) {
        Ok(t) => PersistentState::from_toml(&t).unwrap_or_else(|e| {
            warn!(path = %state_path.display(), "licensing state unreadable, starting afresh: {e}");
            PersistentState::default()
        }),
        Err(_) => PersistentState::default(),
    };
    let mut engine = Licensing::new(
        timers,
        identity,
        TrustAnchors::default().with(key),
        state,
        now,
    );
    match std::fs::read_to_string(&cfg.file) {
        Ok(text) => match engine.load_file(now, &text) {
            Ok(()) => info!(file = %cfg.file.display(), "licence file verified"),
            Err(e) => {
                error!(file = %cfg.file.display(), "licence file refused: {e}; restricted mode follows in 4 h (MV-3)")
            }
        },
        Err(e) => {
            error!(file = %cfg.file.display(), "licence file unreadable: {e}; restricted mode follows in 4 h (MV-3)")
        }
    }
    Ok(engine)
}

/// Drives the engine: forwards its events as notices, persists its state, fires its timers.
pub async fn drive(
    engine: Arc<Mutex<Licensing>>,
    dir: DataDir,
    notices: mpsc::UnboundedSender<Notice>,
    mut stop: watch::Receiver<bool>,
) {
    let state_path = dir.path(std::path::Path::new(STATE_FILE));
    loop {
        let (events, wake, state) = {
            let Ok(mut e) = engine.lock() else { return };
            let mut evs = Vec::new();
            while let Some(ev) = e.poll_event() {
                evs.push(ev);
            }
            let persist = evs
                .iter()
                .any(|ev| matches!(ev, licensing::Event::PersistentStateChanged));
            (
                evs,
                e.poll_timeout(),
                persist.then(|| e.persistent_state().to_toml()),
            )
        };
        if let Some(text) = state
            && let Err(e) = write_atomic(&state_path, text.as_bytes(), true)
        {
            error!("licensing state: {e}");
        }
        for ev in events {
            info!(?ev, "licensing");
            let _ = notices.send(Notice::Licence(ev));
        }
        // At most a second: admissions made elsewhere (a terminal refused, a presence
        // licence taken or given back) leave limit events that must go out promptly.
        let sleep = wake
            .map_or(Duration::from_secs(3600), |t| {
                t.duration_since(wall()).unwrap_or_default()
            })
            .min(Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep(sleep) => {
                if let Ok(mut e) = engine.lock() {
                    e.handle_timeout(wall());
                }
            }
            _ = stop.changed() => return,
        }
    }
}

fn wall() -> SystemTime {
    #[allow(clippy::disallowed_methods)] // the driver owns the clock
    SystemTime::now()
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Spanned;

    fn cfg(root: &std::path::Path) -> LicenceConfig {
        let anchor = root.join("vendor.pub");
        let key = licensing::SigningKey::from_seed([7; 32]).expect("key");
        std::fs::write(&anchor, key.verifying_key().to_text()).expect("write");
        std::fs::write(root.join("site.lic"), "not a licence").expect("write");
        LicenceConfig {
            file: root.join("site.lic"),
            trust_anchor: anchor,
            eid: Spanned::new(0..0, "VA-1234".to_owned()),
            sales_channel: "generic".into(),
        }
    }

    #[tokio::test]
    async fn mv_3_invalid_file_counts_down_to_restricted_mode() {
        let root = crate::data::tests::temp_dir("lic");
        let dir = DataDir::open(&root).expect("open");
        let timers = Config {
            restricted_delay: Duration::from_millis(300),
            ..Config::default()
        };
        let engine = strict(&cfg(&root), &dir, timers, wall()).expect("strict mode starts");
        let engine = Arc::new(Mutex::new(engine));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (stop_tx, stop) = watch::channel(false);
        let task = tokio::spawn(drive(engine.clone(), dir, tx, stop));
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !seen
            .iter()
            .any(|e| matches!(e, licensing::Event::RestrictedModeActivated { .. }))
        {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Notice::Licence(e))) => seen.push(e),
                Ok(_) => {}
                Err(_) => panic!("no restricted mode within 5 s: {seen:?}"),
            }
        }
        assert!(
            seen.contains(&licensing::Event::InvalidLicenceRestrictedIn4h),
            "{seen:?}"
        );
        // MV-4: restricted mode gates voicemail, never a basic call.
        {
            let e = engine.lock().expect("lock");
            assert!(!e.behaviour_allowed(licensing::Behaviour::VoiceMail));
            assert!(e.behaviour_allowed(licensing::Behaviour::BasicCall));
        }
        // MV-7: without a file, the first SIP terminal activates a 60-day test licence.
        let r = engine
            .lock()
            .expect("lock")
            .may_register(wall(), licensing::TerminalKind::StandardSip);
        assert!(r.is_ok(), "{r:?}");
        let _ = stop_tx.send(true);
        let _ = task.await;
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn mv_7_test_licence_activation_is_persisted_atomically_and_survives_a_restart() {
        // The licensing state (test-licence activations, countdown starts) is written with
        // write_atomic on PersistentStateChanged and read back at the next start.
        let root = crate::data::tests::temp_dir("lic3");
        let dir = DataDir::open(&root).expect("open");
        let engine = strict(&cfg(&root), &dir, Config::default(), wall()).expect("strict");
        let engine = Arc::new(Mutex::new(engine));
        let r = engine
            .lock()
            .expect("lock")
            .may_register(wall(), licensing::TerminalKind::StandardSip);
        assert!(r.is_ok(), "{r:?}");
        let (tx, _rx) = mpsc::unbounded_channel();
        let (stop_tx, stop) = watch::channel(false);
        let task = tokio::spawn(drive(engine.clone(), dir.clone(), tx, stop));
        let state = root.join(STATE_FILE);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !state.exists() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "state file not written"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = stop_tx.send(true);
        let _ = task.await;
        let leftovers: Vec<_> = std::fs::read_dir(&root)
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary files left: {leftovers:?}"
        );
        // A restart reads the activation back.
        let again = strict(&cfg(&root), &dir, Config::default(), wall()).expect("strict");
        assert!(!again.persistent_state().test_activations.is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_bad_trust_anchor_stops_strict_mode() {
        let root = crate::data::tests::temp_dir("lic2");
        let dir = DataDir::open(&root).expect("open");
        let c = cfg(&root);
        std::fs::write(&c.trust_anchor, "ed25519-public:zz").expect("write");
        let e = strict(&c, &dir, Config::default(), wall()).expect_err("refused");
        assert!(e.to_string().contains("vendor.pub"), "{e}");
    }
}
