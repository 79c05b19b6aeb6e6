//! Event delivery: the events crate's sans-IO [`Engine`] driven by tokio, with adapters for
//! the configured destinations.
//!
//! | destination (events crate) | adapter |
//! |---|---|
//! | event log mirror ([`Target::EventLog`], table 4: every type) | JSON lines, `[events] jsonl` |
//! | local ([`Target::Local`], table 3) | RFC 5424 syslog over UDP, `[events.syslog]` |
//! | SNMP ([`Target::Snmp`], table 3, shared with local, EV-26) | SNMPv2c traps, `[[events.snmp]]` |
//! | e-mail ([`Target::Email`], table 5) | SMTP with the sans-IO client, `[events.email]` |
//!
//! System phones, external, ATAS and SRM have no adapter in this PBX: their deliveries are
//! dropped (logged at debug level).

mod adapters;
pub mod map;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use events::{
    Delivery, DestinationConfig, Engine, EngineConfig, Event, NodeId, Outcome, Target, Timestamp,
};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use crate::config::EventsConfig;
use crate::notice::Notice;

/// What the service receives.
#[derive(Debug)]
pub enum Input {
    /// Raise a catalogue message.
    Raise(Event),
    /// Map and raise a task's notice.
    Notice(Notice),
    /// An adapter's report for a delivery that needs one.
    Report(events::DeliveryId, Outcome),
}

/// The wall clock as an events timestamp.
pub fn wall_now() -> Timestamp {
    #[allow(clippy::disallowed_methods)] // the driver owns the clock
    let now = SystemTime::now();
    let ms = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Timestamp::from_unix_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// The engine configuration for `cfg`.
pub fn engine_config(cfg: &EventsConfig) -> EngineConfig {
    let email_targets = cfg.email.as_ref().map_or(0, |e| e.to.get_ref().len());
    EngineConfig {
        destinations: DestinationConfig {
            local: cfg.syslog.is_some(),
            snmp_enabled: !cfg.snmp.is_empty(),
            snmp_targets: u8::try_from(cfg.snmp.len()).unwrap_or(u8::MAX),
            email_enabled: email_targets > 0,
            email_targets: u8::try_from(email_targets).unwrap_or(u8::MAX),
            mirror_event_log: !cfg.jsonl.as_os_str().is_empty(),
            retry: Duration::from_secs(cfg.retry_secs),
            ..DestinationConfig::default()
        },
        node: NodeId(cfg.node),
        ..EngineConfig::default()
    }
}

/// The running service.
pub struct EventService {
    engine: Engine,
    cfg: Arc<EventsConfig>,
    jsonl: Option<PathBuf>,
    sock: Option<Arc<UdpSocket>>,
    tx: mpsc::UnboundedSender<Input>,
    rx: mpsc::UnboundedReceiver<Input>,
    started: std::time::Instant,
    trap_id: i32,
}

impl std::fmt::Debug for EventService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventService")
            .field("jsonl", &self.jsonl)
            .finish_non_exhaustive()
    }
}

impl EventService {
    /// A service for `cfg`; `jsonl` is the resolved JSON-lines path (if enabled).
    pub async fn new(
        cfg: EventsConfig,
        jsonl: Option<PathBuf>,
    ) -> Result<Self, events::EngineError> {
        let engine = Engine::new(engine_config(&cfg))?;
        let needs_udp = cfg.syslog.is_some() || !cfg.snmp.is_empty();
        let sock = match needs_udp {
            true => UdpSocket::bind("0.0.0.0:0").await.ok().map(Arc::new),
            false => None,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        #[allow(clippy::disallowed_methods)] // the driver owns the clock
        let started = std::time::Instant::now();
        Ok(Self {
            engine,
            cfg: Arc::new(cfg),
            jsonl,
            sock,
            tx,
            rx,
            started,
            trap_id: 0,
        })
    }

    /// A handle to send inputs with.
    pub fn sender(&self) -> mpsc::UnboundedSender<Input> {
        self.tx.clone()
    }

    fn node(&self) -> NodeId {
        NodeId(self.cfg.node)
    }

    fn input(&mut self, now: Timestamp, input: Input) {
        let r = match input {
            Input::Raise(e) => self.engine.raise(now, e).map(drop),
            Input::Notice(n) => match map::to_event(&n, self.node(), now) {
                Some(Ok(e)) => self.engine.raise(now, e).map(drop),
                Some(Err(e)) => {
                    warn!(?n, "notice does not fit its catalogue entry: {e}");
                    Ok(())
                }
                None => Ok(()),
            },
            Input::Report(id, outcome) => self.engine.report(now, id, outcome),
        };
        if let Err(e) = r {
            warn!("event engine: {e}");
        }
    }

    async fn dispatch(&mut self, d: Delivery) {
        let report = |tx: &mpsc::UnboundedSender<Input>, o: Outcome| {
            if d.needs_report {
                let _ = tx.send(Input::Report(d.id, o));
            }
        };
        match d.target {
            Target::EventLog => {
                if let Some(p) = &self.jsonl
                    && let Err(e) = adapters::jsonl(p, &d.events)
                {
                    warn!("event log: {e}");
                }
            }
            Target::Local => {
                let outcome = match (&self.sock, &self.cfg.syslog) {
                    (Some(s), Some(c)) => {
                        let lines: Vec<Vec<u8>> = d
                            .events
                            .iter()
                            .map(|e| {
                                events::format::syslog_line(
                                    e,
                                    c.facility,
                                    &self.cfg.hostname,
                                    &c.app_name,
                                )
                                .into_bytes()
                            })
                            .collect();
                        match adapters::udp(s, &c.target, &lines).await {
                            Ok(()) => Outcome::Delivered,
                            Err(e) => {
                                debug!("syslog: {e}");
                                Outcome::Failed(events::Failure::Destination(
                                    events::DestinationCause::NotAvailable,
                                ))
                            }
                        }
                    }
                    _ => Outcome::Failed(events::Failure::Unreachable),
                };
                report(&self.tx, outcome);
            }
            Target::Snmp(i) => {
                if let (Some(s), Some(t)) = (&self.sock, self.cfg.snmp.get(usize::from(i))) {
                    let uptime =
                        u32::try_from(self.started.elapsed().as_millis() / 10).unwrap_or(u32::MAX);
                    let traps: Vec<Vec<u8>> = d
                        .events
                        .iter()
                        .map(|e| {
                            self.trap_id = self.trap_id.wrapping_add(1);
                            events::snmp::event_trap(
                                e,
                                t.community.as_bytes(),
                                self.trap_id,
                                uptime,
                            )
                        })
                        .collect();
                    if let Err(e) = adapters::udp(s, &t.target, &traps).await {
                        debug!("snmp: {e}");
                    }
                }
            }
            Target::Email => {
                let (cfg, tx, evs) = (self.cfg.clone(), self.tx.clone(), d.events);
                let (id, needs) = (d.id, d.needs_report);
                tokio::spawn(async move {
                    let outcome = match &cfg.email {
                        Some(m) => adapters::smtp(m, &cfg.hostname, &evs).await,
                        None => Outcome::Failed(events::Failure::Unreachable),
                    };
                    if let Outcome::Failed(f) = outcome {
                        warn!(?f, "e-mail delivery failed");
                    }
                    if needs {
                        let _ = tx.send(Input::Report(id, outcome));
                    }
                });
            }
            other => {
                debug!(?other, "no adapter for this destination");
                report(&self.tx, Outcome::Delivered);
            }
        }
    }

    async fn pump(&mut self) {
        while let Some(d) = self.engine.poll_delivery() {
            self.dispatch(d).await;
        }
        while let Some(n) = self.engine.poll_event() {
            debug!(?n, "event engine notice");
        }
    }

    /// Runs until `stop` turns true; then delivers what is queued and returns.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            self.pump().await;
            let now = wall_now();
            let sleep = self
                .engine
                .poll_timeout()
                .map_or(Duration::from_secs(3600), |t| t.since(now));
            tokio::select! {
                i = self.rx.recv() => match i {
                    Some(i) => self.input(wall_now(), i),
                    None => return,
                },
                () = tokio::time::sleep(sleep) => self.engine.handle_timeout(wall_now()),
                _ = stop.changed() => break,
            }
        }
        while let Ok(i) = self.rx.try_recv() {
            self.input(wall_now(), i);
        }
        self.pump().await;
    }
}
