//! One AIN node per process over TCP, driving the sans-IO `ain_net` master or satellite.
//! The master re-reads `--config-file` when it changes and distributes it; every node prints
//! one line per event (`listening ADDR`, `joined N`, `online`, `offline V`, `config V DATA`).
//! The master keeps the version and text it distributed in `--state-file` (default: the
//! config file with the extension `state`), written atomically, so a restarted master goes
//! on from that version instead of starting again at 1, which satellites would ignore.
//!
//! ```sh
//! ain_node master --listen 127.0.0.1:7000 --nodes 1=EID-1 --config-file /tmp/ain.cfg
//! ain_node satellite --master 127.0.0.1:7000 --node 1 --eid EID-1
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ain_net::{ConnId, Master, MasterConfig, MasterEvent, Satellite, SatelliteConfig, Timing};
use ain_net::{SatelliteEvent, Transmit};
use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

#[derive(Parser)]
#[command(about = "An AIN node (master or satellite) over TCP")]
struct Args {
    #[command(subcommand)]
    role: Role,
    /// Shared secret.
    #[arg(long, default_value = "ain-secret", global = true)]
    secret: String,
    /// Software version (must match across the AIN).
    #[arg(long, default_value = "1.0", global = true)]
    sw_version: String,
    /// Heartbeat interval in ms.
    #[arg(long, default_value_t = 5000, global = true)]
    heartbeat_ms: u64,
    /// Heartbeat timeout in ms.
    #[arg(long, default_value_t = 30000, global = true)]
    timeout_ms: u64,
}

#[derive(Subcommand)]
enum Role {
    /// The master.
    Master {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Satellites as `ID=EID`, comma separated.
        #[arg(long, value_delimiter = ',')]
        nodes: Vec<String>,
        /// Configuration document, distributed whenever it changes.
        #[arg(long)]
        config_file: Option<PathBuf>,
        /// Where the distributed version and text are kept across restarts.
        #[arg(long)]
        state_file: Option<PathBuf>,
    },
    /// A satellite.
    Satellite {
        #[arg(long)]
        master: SocketAddr,
        #[arg(long)]
        node: u16,
        #[arg(long)]
        eid: String,
    },
}

enum In {
    Bytes(ConnId, Vec<u8>),
    Closed(ConnId),
}

/// Reads a connection into the core's channel.
fn spawn_reader(conn: ConnId, mut rd: tokio::net::tcp::OwnedReadHalf, tx: mpsc::Sender<In>) {
    tokio::spawn(async move {
        let mut buf = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = rd.read(&mut buf).await {
            if tx.send(In::Bytes(conn, buf[..n].to_vec())).await.is_err() {
                return;
            }
        }
        let _ = tx.send(In::Closed(conn)).await;
    });
}

/// Writes a transmit; a close drops the writer (and shuts the socket down).
async fn write(writers: &mut HashMap<ConnId, OwnedWriteHalf>, t: Transmit) {
    if let Some(w) = writers.get_mut(&t.conn) {
        let failed = w.write_all(&t.bytes).await.is_err();
        if t.close || failed {
            writers.remove(&t.conn);
        }
    }
}

fn sleep_until(deadline: Option<Instant>) -> tokio::time::Sleep {
    let d = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
    tokio::time::sleep_until(d.into())
}

/// The distributed configuration as persisted: the version on the first line, then the text.
fn load_state(path: &Path) -> Option<(u64, Vec<u8>)> {
    let bytes = std::fs::read(path).ok()?;
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let version = std::str::from_utf8(&bytes[..nl])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some((version, bytes[nl + 1..].to_vec()))
}

fn save_state(path: &Path, version: u64, data: &[u8]) {
    let mut bytes = format!("{version}\n").into_bytes();
    bytes.extend_from_slice(data);
    if let Err(e) = pbxkit_examples::write_atomic(path, &bytes, false) {
        eprintln!("cannot save {}: {e}", path.display());
    }
}

async fn run_master(
    a: &Args,
    listen: SocketAddr,
    nodes: &[String],
    (file, state): (Option<PathBuf>, Option<PathBuf>),
) {
    let nodes = nodes
        .iter()
        .filter_map(|s| s.split_once('='))
        .filter_map(|(i, e)| Some((i.parse().ok()?, e.to_string())));
    let cfg = MasterConfig {
        secret: a.secret.clone().into_bytes(),
        sw_version: a.sw_version.clone(),
        nodes: nodes.collect(),
        timing: timing(a),
    };
    let mut m = Master::new(cfg, rand::random());
    let state = state.or_else(|| file.as_ref().map(|f| f.with_extension("state")));
    let mut last_cfg = None;
    if let Some((version, data)) = state.as_deref().and_then(load_state) {
        println!("restored {version}");
        m.restore_config(version, data.clone());
        last_cfg = Some(data);
    }
    let listener = TcpListener::bind(listen).await.expect("bind");
    println!("listening {}", listener.local_addr().expect("addr"));
    let (tx, mut rx) = mpsc::channel(1024);
    let mut writers = HashMap::new();
    let mut next = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            Ok((s, _)) = listener.accept() => {
                next += 1;
                let (rd, wr) = s.into_split();
                writers.insert(ConnId(next), wr);
                m.handle_connected(ConnId(next));
                spawn_reader(ConnId(next), rd, tx.clone());
            }
            Some(i) = rx.recv() => match i {
                In::Bytes(c, b) => m.handle_stream_bytes(Instant::now(), c, &b),
                In::Closed(c) => { writers.remove(&c); m.handle_closed(c) }
            },
            _ = tick.tick() => {
                let cur = file.as_ref().and_then(|f| std::fs::read(f).ok());
                if let Some(data) = cur.filter(|c| Some(c) != last_cfg.as_ref()) {
                    let version = m.set_config(data.clone());
                    if let Some(path) = &state {
                        save_state(path, version, &data);
                    }
                    println!("authored {version}");
                    last_cfg = Some(data);
                }
            }
            _ = sleep_until(m.poll_timeout()) => m.handle_timeout(Instant::now()),
        }
        while let Some(t) = m.poll_transmit() {
            write(&mut writers, t).await;
        }
        while let Some(e) = m.poll_event() {
            match e {
                MasterEvent::NodeJoined { node } => println!("joined {node}"),
                MasterEvent::NodeLost { node } => println!("lost {node}"),
                MasterEvent::ConfigApplied { node, version } => {
                    println!("applied {node} {version}")
                }
                other => println!("{other:?}"),
            }
        }
    }
}

async fn run_satellite(a: &Args, master: SocketAddr, node: u16, eid: &str) {
    let cfg = SatelliteConfig {
        node,
        eid: eid.into(),
        sw_version: a.sw_version.clone(),
        secret: a.secret.clone().into_bytes(),
        timing: timing(a),
    };
    let mut s = Satellite::new(cfg, Instant::now());
    let (tx, mut rx) = mpsc::channel(1024);
    let mut writers = HashMap::new();
    let mut next = 0u64;
    loop {
        if s.wants_connection(Instant::now()) {
            match tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(master)).await
            {
                Ok(Ok(st)) => {
                    next += 1;
                    let (rd, wr) = st.into_split();
                    writers.insert(ConnId(next), wr);
                    spawn_reader(ConnId(next), rd, tx.clone());
                    s.handle_connected(Instant::now(), ConnId(next));
                }
                _ => s.handle_connect_failed(Instant::now()),
            }
        } else {
            tokio::select! {
                Some(i) = rx.recv() => match i {
                    In::Bytes(c, b) => s.handle_stream_bytes(Instant::now(), c, &b),
                    In::Closed(c) => { writers.remove(&c); s.handle_closed(c) }
                },
                _ = sleep_until(s.poll_timeout()) => s.handle_timeout(Instant::now()),
            }
        }
        while let Some(t) = s.poll_transmit() {
            write(&mut writers, t).await;
        }
        while let Some(e) = s.poll_event() {
            match e {
                SatelliteEvent::Online => println!("online"),
                SatelliteEvent::Offline { backup_version } => println!("offline {backup_version}"),
                SatelliteEvent::ConfigApplied { version, data } => {
                    println!("config {version} {}", String::from_utf8_lossy(&data).trim())
                }
                other => println!("{other:?}"),
            }
        }
    }
}

fn timing(a: &Args) -> Timing {
    Timing {
        heartbeat_interval: Duration::from_millis(a.heartbeat_ms),
        heartbeat_timeout: Duration::from_millis(a.timeout_ms),
        ..Timing::default()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = Args::parse();
    match &a.role {
        Role::Master {
            listen,
            nodes,
            config_file,
            state_file,
        } => {
            let files = (config_file.clone(), state_file.clone());
            run_master(&a, *listen, nodes, files).await;
        }
        Role::Satellite { master, node, eid } => run_satellite(&a, *master, *node, eid).await,
    }
}
