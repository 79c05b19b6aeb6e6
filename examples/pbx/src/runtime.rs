//! The tokio composition: data directory, licence mode, SIP listeners, event delivery,
//! and graceful shutdown on SIGINT/SIGTERM.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::config::{Config, Loaded};
use crate::data::{DataDir, DataError, PasswordFile, tls_material};
use crate::delivery::{EventService, Input, wall_now};
use crate::licence::LicenceMode;
use crate::notice::Notice;
use crate::sip::SipServer;
use crate::sip::b2bua::{HuntGroup, HuntStrategy, Pbx, Settings, TrunkSettings};
use events::EventKind;
use sip_core::dos::DosGuard;

/// Why the PBX could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data directory.
    #[error(transparent)]
    Data(#[from] DataError),
    /// TLS configuration.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// A listener could not be bound.
    #[error("binding the SIP listeners: {0}")]
    Bind(std::io::Error),
    /// Strict licensing.
    #[error(transparent)]
    Licence(#[from] crate::licence::LicenceError),
    /// The event engine.
    #[error("events: {0}")]
    Events(#[from] events::EngineError),
    /// A trunk's provider address does not resolve.
    #[error("trunk {0}: cannot resolve {1}")]
    Trunk(String, String),
    /// Signal handlers.
    #[error("installing the signal handlers: {0}")]
    Signals(std::io::Error),
}

/// The trunks with their providers' addresses resolved (once, at start).
async fn trunk_settings(cfg: &Config) -> Result<Vec<TrunkSettings>, StartError> {
    let mut out = Vec::new();
    for t in &cfg.trunks {
        let target = (t.registrar.host.as_str(), t.registrar.port);
        let addr = tokio::net::lookup_host(target)
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| StartError::Trunk(t.name.get_ref().clone(), t.registrar.host.clone()))?;
        let transport = match t.transport {
            crate::config::Transport::Udp => sip_core::transaction::Transport::Udp,
            crate::config::Transport::Tcp => sip_core::transaction::Transport::Tcp,
            crate::config::Transport::Tls => sip_core::transaction::Transport::Tls,
        };
        out.push(TrunkSettings {
            name: t.name.get_ref().clone(),
            addr,
            transport,
            username: t.username.clone(),
            auth_username: t
                .auth_username
                .clone()
                .unwrap_or_else(|| t.username.clone()),
            password: t.password.clone(),
            domain: t.domain.clone().unwrap_or_else(|| t.registrar.host.clone()),
            channels: t.channels,
            ddi: t
                .ddi
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect(),
            ddi_default: t.ddi_default.as_ref().map(|d| d.get_ref().clone()),
            prefixes: t
                .outbound_prefixes
                .iter()
                .map(|p| p.get_ref().clone())
                .collect(),
            strip_prefix: t.strip_prefix,
            register: t.register,
            expires: t.expires,
        });
    }
    Ok(out)
}

/// Extension → forwarding target, for the users that set `field`.
fn forwards(
    cfg: &Config,
    field: impl Fn(&crate::config::UserConfig) -> Option<&toml::Spanned<String>>,
) -> HashMap<String, String> {
    cfg.users
        .iter()
        .filter_map(|u| Some((u.extension.get_ref().clone(), field(u)?.get_ref().clone())))
        .collect()
}

/// What the start-up learnt about the TLS certificate, for the MV2-36 events.
struct TlsState {
    generated: bool,
    ip_changed: bool,
    not_after: i64,
}

fn tls_acceptor(
    cfg: &Config,
    dir: &DataDir,
) -> Result<Option<(TlsAcceptor, TlsState)>, StartError> {
    let Some(addr) = cfg.sip.tls.addr() else {
        return Ok(None);
    };
    let configured = cfg.sip.tls_cert.as_deref().zip(cfg.sip.tls_key.as_deref());
    let m = tls_material(dir, configured, Some(addr.ip()))?;
    if m.ip_changed {
        warn!(ip = %addr.ip(), "TLS listen IP changed: regenerated the self-signed certificate");
    }
    if m.generated {
        info!(cert = %m.cert_path.display(), "generated a self-signed TLS certificate");
    }
    let state = TlsState {
        generated: m.generated,
        ip_changed: m.ip_changed,
        not_after: m.not_after,
    };
    let server = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(m.chain, m.key)?;
    Ok(Some((TlsAcceptor::from(Arc::new(server)), state)))
}

/// Runs the PBX until SIGINT or SIGTERM.
pub async fn run(loaded: Loaded, data_dir: &Path) -> Result<(), StartError> {
    let cfg = loaded.config;
    let dir = DataDir::open(data_dir)?;
    info!(data_dir = %dir.root().display(), "data directory");
    let passwords = PasswordFile::new(&dir);
    let (credentials, fresh) = passwords.resolve(&cfg.users)?;
    for g in &fresh {
        println!(
            "pbx: generated SIP password for extension {}: {}",
            g.extension, g.password
        );
    }
    if !fresh.is_empty() {
        println!("pbx: (shown once; kept in {})", passwords.path().display());
    }
    info!(users = credentials.len(), "users loaded");
    let (stop_tx, stop) = watch::channel(false);
    let jsonl = (!cfg.events.jsonl.as_os_str().is_empty()).then(|| dir.path(&cfg.events.jsonl));
    let service = EventService::new(cfg.events.clone(), jsonl).await?;
    let events_tx = service.sender();
    let events_task = tokio::spawn(service.run(stop.clone()));
    let raise = |kind: EventKind| {
        let node = events::NodeId(cfg.events.node);
        if let Ok(e) = events::Event::simple(kind, node, wall_now()) {
            let _ = events_tx.send(Input::Raise(e));
        }
    };
    raise(EventKind::SystemRestarted);
    let (notice_tx, mut notice_rx) = mpsc::unbounded_channel::<Notice>();
    let licence = match &cfg.licence {
        None => {
            warn!(
                "DEMO licence mode: no [licence] section, every feature is available without a purchased licence file"
            );
            LicenceMode::Demo
        }
        Some(l) => {
            #[allow(clippy::disallowed_methods)] // the driver owns the clock
            let now = std::time::SystemTime::now();
            let engine = crate::licence::strict(l, &dir, crate::licence::timers(), now)?;
            let engine = Arc::new(Mutex::new(engine));
            tokio::spawn(crate::licence::drive(
                engine.clone(),
                dir.clone(),
                notice_tx.clone(),
                stop.clone(),
            ));
            LicenceMode::Strict(engine)
        }
    };
    println!("pbx: licence mode {}", licence.name());
    let (tls, tls_state) = tls_acceptor(&cfg, &dir)?.unzip();
    if let Some(t) = &tls_state {
        // MV2-36: a new listen IP means a new certificate, which others must import.
        if t.ip_changed {
            raise(EventKind::IpAddressChangedRegenerateTls);
        }
        if t.generated {
            raise(EventKind::TlsCertGeneratedUpdateNonMitel);
        }
        let warn = Duration::from_secs(u64::from(cfg.sip.tls_expiry_warning_days) * 86_400);
        tokio::spawn(crate::tls_expiry::supervise(
            t.not_after,
            warn,
            events::NodeId(cfg.events.node),
            events_tx.clone(),
            stop.clone(),
        ));
    }
    let server = SipServer::bind(
        cfg.sip.udp.addr(),
        cfg.sip.tcp.addr(),
        cfg.sip.tls.addr().zip(tls),
    )
    .await
    .map_err(StartError::Bind)?;
    // MV-32: SIP over TLS needs the Secure VoIP licence, checked per connection.
    let gate_licence = licence.clone();
    let server = server.with_tls_gate(Arc::new(move || gate_licence.secure_voip()));
    if cfg.sip.tls.addr().is_some() && !licence.secure_voip() {
        warn!("TLS connections are refused until the Secure VoIP licence is present (MV-32)");
    }
    for (t, a) in server.local_addrs() {
        println!(
            "pbx: sip/{} listening on {a}",
            t.as_str().to_ascii_lowercase()
        );
        info!(transport = t.as_str(), %a, "SIP listening");
    }

    let trunks = trunk_settings(&cfg).await?;
    let local: Vec<_> = server
        .local_addrs()
        .into_iter()
        .map(|(t, a)| (crate::sip::core::to_core(t), a))
        .collect();
    let media_ip = local
        .first()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |(_, a)| a.ip());
    let realm = cfg.sip.domain.clone().unwrap_or_else(|| {
        local
            .first()
            .map_or_else(|| "127.0.0.1".to_owned(), |(_, a)| a.ip().to_string())
    });
    let settings = Settings {
        local,
        realm,
        user_agent: cfg.sip.user_agent.clone(),
        min_expires: cfg.sip.min_expires,
        max_expires: cfg.sip.max_expires,
        max_terminals: cfg.sip.max_terminals,
        max_devices: cfg
            .users
            .iter()
            .map(|u| {
                let cap = u.terminal.max_per_user().unwrap_or(u32::MAX);
                (u.extension.get_ref().clone(), u.max_devices.min(cap))
            })
            .collect(),
        nat_keepalive: Duration::from_secs(u64::from(cfg.sip.nat_keepalive_secs)),
        srtp: cfg.media.srtp,
        ptime_ms: cfg.media.ptime_ms,
        codecs: cfg
            .media
            .codecs
            .iter()
            .filter_map(|c| codecs::CodecKind::from_name(c.get_ref()))
            .collect(),
        no_answer: Duration::from_secs(cfg.calls.no_answer_secs),
        max_call: (cfg.calls.max_call_secs > 0)
            .then(|| Duration::from_secs(cfg.calls.max_call_secs)),
        no_answer_status: cfg.calls.no_answer_status.0,
        nonce_secret: rand::random(),
        digest_algorithms: cfg
            .sip
            .digest_algorithms
            .iter()
            .filter_map(|a| sip_core::digest::Algorithm::parse(Some(a)))
            .collect(),
        relay_ip: (cfg.media.mode == crate::config::MediaMode::Relay).then_some(media_ip),
        forward_always: forwards(&cfg, |u| u.forward_always.as_ref()),
        forward_busy: forwards(&cfg, |u| u.forward_busy.as_ref()),
        forward_no_answer: forwards(&cfg, |u| u.forward_no_answer.as_ref()),
        hunt_groups: cfg
            .hunt_groups
            .iter()
            .map(|g| {
                let group = HuntGroup {
                    members: g.members.iter().map(|m| m.get_ref().clone()).collect(),
                    strategy: match g.strategy {
                        crate::config::HuntStrategyConfig::All => HuntStrategy::All,
                        crate::config::HuntStrategyConfig::Linear => HuntStrategy::Linear,
                        crate::config::HuntStrategyConfig::Cyclic => HuntStrategy::Cyclic,
                        crate::config::HuntStrategyConfig::LongestIdle => HuntStrategy::LongestIdle,
                        crate::config::HuntStrategyConfig::LastAgent => HuntStrategy::LastAgent,
                        crate::config::HuntStrategyConfig::Clip => HuntStrategy::Clip,
                    },
                    ring: Duration::from_secs(u64::from(g.ring_secs)),
                    clip: g
                        .clip
                        .iter()
                        .map(|(p, m)| (p.clone(), m.get_ref().clone()))
                        .collect(),
                };
                (g.number.get_ref().clone(), group)
            })
            .collect(),
        message_groups: cfg
            .message_groups
            .iter()
            .map(|g| {
                let members = g.members.iter().map(|m| m.get_ref().clone()).collect();
                (g.number.get_ref().clone(), members)
            })
            .collect(),
        texts: cfg
            .messaging
            .texts
            .iter()
            .map(|t| t.get_ref().clone())
            .collect(),
        names: cfg
            .users
            .iter()
            .filter_map(|u| Some((u.extension.get_ref().clone(), u.name.clone()?)))
            .collect(),
        echo_test: cfg.calls.echo_test.get_ref().clone(),
        blocked_numbers: cfg
            .calls
            .blocked_numbers
            .iter()
            .map(|b| b.get_ref().clone())
            .collect(),
        trunks,
        licence: licence.clone(),
        terminals: cfg
            .users
            .iter()
            .map(|u| (u.extension.get_ref().clone(), u.terminal.licensing()))
            .collect(),
    };
    let budget = rtp_media::budget::BudgetConfig {
        connections: cfg.media.connections,
        // The Secure VoIP licence is checked per call (MV-40); the budget only counts.
        secure_voip_licensed: cfg.media.srtp,
        ..rtp_media::budget::BudgetConfig::default()
    };
    let mut media = crate::sip::core::Media::new(
        crate::media::PortAllocator::new(cfg.media.rtp_ports),
        Arc::new(Mutex::new(rtp_media::budget::MediaBudget::new(budget))),
        media_ip,
    );
    media.cdr = (!cfg.cdr.path.as_os_str().is_empty())
        .then(|| crate::cdr::CdrWriter::new(dir.path(&cfg.cdr.path)));
    let (in_tx, in_rx) = mpsc::channel(4096);
    let transports = server.start(in_tx, stop.clone());
    // The core stops first (its BYEs still need the transports), then everything else.
    let (core_stop_tx, core_stop) = watch::channel(false);
    let drain = Duration::from_secs(cfg.shutdown.drain_secs.max(1));
    let plan = crate::sip::core::ShutdownPlan {
        mode: cfg.shutdown.mode,
        drain,
    };
    let core = tokio::spawn(crate::sip::core::run(
        in_rx,
        transports,
        (Pbx::new(settings, credentials), media),
        DosGuard::new(cfg.dos.guard()),
        notice_tx,
        (core_stop, plan),
    ));
    let forward = events_tx.clone();
    let notices = tokio::spawn(async move {
        while let Some(n) = notice_rx.recv().await {
            let _ = forward.send(Input::Notice(n));
        }
    });
    // Handlers first, then "ready": a SIGTERM right after "ready" must not kill the process.
    let signals = Signals::install().map_err(StartError::Signals)?;
    println!("pbx: ready");

    signals.wait().await;
    info!("shutting down");
    let _ = core_stop_tx.send(true);
    // A drain may take `drain`, then the BYEs up to `drain` again.
    let bound = drain * 2 + Duration::from_secs(1);
    if tokio::time::timeout(bound, core).await.is_err() {
        warn!("SIP core did not stop within {bound:?}");
    }
    let _ = stop_tx.send(true);
    notices.abort();
    if tokio::time::timeout(drain, events_task).await.is_err() {
        warn!("event delivery did not finish within {drain:?}");
    }
    info!("stopped");
    Ok(())
}

/// SIGINT and SIGTERM, installed before the PBX says it is ready.
#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => info!("SIGTERM received"),
            _ = self.int.recv() => info!("SIGINT received"),
        }
    }
}

/// Ctrl-C where there are no Unix signals.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
