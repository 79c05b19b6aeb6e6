//! The sockets: UDP receive loop, TCP and TLS accept loops, one task per connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use sip_core::{Frame, KeepAliveRole, ParseOptions, StreamFramer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use super::{ConnId, Inbound, Outbound, Received, Transport};

/// Most simultaneous TCP+TLS connections.
const MAX_CONNECTIONS: usize = 4096;
/// A connection silent this long is closed (phones send keep-alives far more often).
const IDLE: Duration = Duration::from_secs(900);
/// Longest TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Queue of outgoing messages per connection.
const CONN_QUEUE: usize = 256;

type Conns = Arc<Mutex<HashMap<ConnId, mpsc::Sender<Bytes>>>>;

/// Where the core sends [`Outbound`] bytes.
#[derive(Debug, Clone)]
pub struct Transports {
    udp: Option<Arc<UdpSocket>>,
    conns: Conns,
}

impl Transports {
    /// Sends `out`; a closed connection or a socket error is logged and dropped.
    pub async fn send(&self, out: Outbound) {
        match (out.transport, out.conn) {
            (Transport::Udp, _) => {
                if let Some(s) = &self.udp
                    && let Err(e) = s.send_to(&out.bytes, out.to).await
                {
                    debug!(to = %out.to, "udp send failed: {e}");
                }
            }
            (_, Some(conn)) => {
                let tx = self.conns.lock().ok().and_then(|m| m.get(&conn).cloned());
                match tx {
                    Some(tx) if tx.try_send(out.bytes).is_ok() => {}
                    _ => debug!(?conn, "connection gone or congested: message dropped"),
                }
            }
            (_, None) => debug!("stream message without a connection dropped"),
        }
    }
}

/// Whether TLS connections may be accepted now (MV-32: the Secure VoIP licence).
pub type TlsGate = Arc<dyn Fn() -> bool + Send + Sync>;

/// The bound listeners.
pub struct SipServer {
    udp: Option<Arc<UdpSocket>>,
    tcp: Option<TcpListener>,
    tls: Option<(TcpListener, TlsAcceptor)>,
    tls_gate: Option<TlsGate>,
}

impl std::fmt::Debug for SipServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipServer")
            .field("addrs", &self.local_addrs())
            .finish()
    }
}

impl SipServer {
    /// Binds every configured listener (so address errors surface at start).
    pub async fn bind(
        udp: Option<SocketAddr>,
        tcp: Option<SocketAddr>,
        tls: Option<(SocketAddr, TlsAcceptor)>,
    ) -> std::io::Result<Self> {
        let udp = match udp {
            Some(a) => Some(Arc::new(UdpSocket::bind(a).await?)),
            None => None,
        };
        let tcp = match tcp {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        let tls = match tls {
            Some((a, acc)) => Some((TcpListener::bind(a).await?, acc)),
            None => None,
        };
        Ok(Self {
            udp,
            tcp,
            tls,
            tls_gate: None,
        })
    }

    /// Accepts a TLS connection only while `gate` says so; the others are closed before
    /// the handshake.
    #[must_use]
    pub fn with_tls_gate(mut self, gate: TlsGate) -> Self {
        self.tls_gate = Some(gate);
        self
    }

    /// The bound addresses, per transport.
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        let mut v = Vec::new();
        if let Some(a) = self.udp.as_ref().and_then(|s| s.local_addr().ok()) {
            v.push((Transport::Udp, a));
        }
        if let Some(a) = self.tcp.as_ref().and_then(|s| s.local_addr().ok()) {
            v.push((Transport::Tcp, a));
        }
        if let Some(a) = self.tls.as_ref().and_then(|(s, _)| s.local_addr().ok()) {
            v.push((Transport::Tls, a));
        }
        v
    }

    /// Starts the transport tasks; they stop when `stop` turns true. Returns the handle the
    /// core sends with.
    pub fn start(self, inbound: mpsc::Sender<Inbound>, stop: watch::Receiver<bool>) -> Transports {
        let conns: Conns = Arc::default();
        let ids = Arc::new(AtomicU64::new(1));
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        if let Some(sock) = &self.udp {
            tokio::spawn(udp_loop(sock.clone(), inbound.clone(), stop.clone()));
        }
        let ctx = StreamCtx {
            inbound,
            conns: conns.clone(),
            ids,
            slots,
            stop,
        };
        if let Some(l) = self.tcp {
            tokio::spawn(accept_loop(l, None, ctx.clone()));
        }
        if let Some((l, acc)) = self.tls {
            tokio::spawn(accept_loop(l, Some((acc, self.tls_gate)), ctx));
        }
        Transports {
            udp: self.udp,
            conns,
        }
    }
}

async fn udp_loop(
    sock: Arc<UdpSocket>,
    inbound: mpsc::Sender<Inbound>,
    mut stop: watch::Receiver<bool>,
) {
    let opts = ParseOptions::default();
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, from) = tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => { debug!("udp receive error: {e}"); continue; }
            },
            _ = stop.changed() => return,
        };
        let data = Bytes::copy_from_slice(&buf[..n]);
        let message = if sip_core::stun::is_stun(&data) {
            Received::KeepAlive(data)
        } else {
            match opts.datagram(data.clone()) {
                Ok(sip_core::Datagram::Message(m)) => Received::Message(m),
                Ok(_) => Received::KeepAlive(data),
                Err(e) => Received::Invalid(e),
            }
        };
        let msg = Inbound {
            transport: Transport::Udp,
            conn: None,
            from,
            message,
        };
        if inbound.send(msg).await.is_err() {
            return;
        }
    }
}

#[derive(Clone)]
struct StreamCtx {
    inbound: mpsc::Sender<Inbound>,
    conns: Conns,
    ids: Arc<AtomicU64>,
    slots: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<(TlsAcceptor, Option<TlsGate>)>,
    ctx: StreamCtx,
) {
    let transport = if tls.is_some() {
        Transport::Tls
    } else {
        Transport::Tcp
    };
    let mut stop = ctx.stop.clone();
    loop {
        let (stream, from) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => { warn!("{} accept error: {e}", transport.as_str()); continue; }
            },
            _ = stop.changed() => return,
        };
        if let Some((_, Some(gate))) = &tls
            && !gate()
        {
            warn!(%from, "TLS connection refused: Secure VoIP is not licensed (MV-32)");
            continue;
        }
        let Ok(permit) = ctx.slots.clone().try_acquire_owned() else {
            warn!(%from, "connection limit reached: refused");
            continue;
        };
        let ctx = ctx.clone();
        let tls = tls.as_ref().map(|(acc, _)| acc.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => serve(stream, from, Transport::Tcp, ctx).await,
                Some(acc) => match tokio::time::timeout(HANDSHAKE, acc.accept(stream)).await {
                    Ok(Ok(s)) => serve(s, from, Transport::Tls, ctx).await,
                    Ok(Err(e)) => debug!(%from, "TLS handshake failed: {e}"),
                    Err(_) => debug!(%from, "TLS handshake timed out"),
                },
            }
        });
    }
}

async fn serve<S>(stream: S, from: SocketAddr, transport: Transport, ctx: StreamCtx)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let id = ConnId(ctx.ids.fetch_add(1, Ordering::Relaxed));
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Bytes>(CONN_QUEUE);
    if let Ok(mut m) = ctx.conns.lock() {
        m.insert(id, tx.clone());
    }
    debug!(%from, ?id, "{} connection open", transport.as_str());
    let writer = tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut framer = StreamFramer::new(ParseOptions::default(), KeepAliveRole::Server);
    let mut buf = vec![0u8; 16 * 1024];
    let mut stop = ctx.stop.clone();
    'read: loop {
        let n = tokio::select! {
            r = tokio::time::timeout(IDLE, rd.read(&mut buf)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => n,
            },
            _ = stop.changed() => break,
        };
        framer.push(&buf[..n]);
        loop {
            let message = match framer.next_frame() {
                Ok(Frame::Partial) => break,
                Ok(Frame::Ping) => {
                    let _ = tx.try_send(Bytes::from_static(b"\r\n"));
                    continue;
                }
                Ok(Frame::Message(m)) => Received::Message(m),
                Ok(Frame::Invalid(e)) => Received::Invalid(e),
                Ok(_) => continue,
                Err(e) => {
                    info!(%from, "closing {} connection: unframeable stream ({e})", transport.as_str());
                    break 'read;
                }
            };
            let msg = Inbound {
                transport,
                conn: Some(id),
                from,
                message,
            };
            if ctx.inbound.send(msg).await.is_err() {
                break 'read;
            }
        }
    }
    if let Ok(mut m) = ctx.conns.lock() {
        m.remove(&id);
    }
    drop(tx);
    let _ = writer.await;
    debug!(%from, ?id, "{} connection closed", transport.as_str());
}
