//! The core task: DoS guard, then the answerer, for every inbound message.

use std::net::IpAddr;
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use super::stateless::Answerer;
use super::{Inbound, Outbound, Transports};
use crate::dos::{Change, DosGuard};
use crate::notice::Notice;

/// Runs until `stop` turns true or the transports are gone.
pub async fn run(
    mut inbound: mpsc::Receiver<Inbound>,
    transports: Transports,
    answerer: Answerer,
    mut dos: DosGuard,
    notices: mpsc::UnboundedSender<Notice>,
    mut stop: watch::Receiver<bool>,
) {
    let notify = |c: Change| {
        match c {
            Change::Blacklisted(ip, cause) => warn!(%ip, ?cause, "DoS: IP blacklisted (MV2-34)"),
            Change::Unblacklisted(ip) => warn!(%ip, "DoS: IP removed from the blacklist"),
        }
        let _ = notices.send(Notice::Dos(c));
    };
    loop {
        let wake = dos.poll_timeout();
        let msg = tokio::select! {
            m = inbound.recv() => match m { Some(m) => m, None => return },
            () = sleep_until(wake) => {
                dos.handle_timeout(now()).into_iter().for_each(notify);
                continue;
            }
            _ = stop.changed() => return,
        };
        let ip: IpAddr = msg.from.ip();
        if dos.is_blocked(ip) {
            continue;
        }
        let framed = match &msg.message {
            Ok(m) => Some(m),
            Err(e) => e.message(),
        };
        let Some(method) = framed.and_then(|m| m.method()) else {
            debug!(from = %msg.from, "response or unframed message ignored");
            continue;
        };
        if method != sip_core::Method::Ack
            && let Some(c) = dos.transaction(now(), ip)
        {
            notify(c);
            continue;
        }
        let reply = match &msg.message {
            Ok(m) => answerer.answer(m, msg.from),
            Err(e) => answerer.answer_error(e, msg.from),
        };
        if let Some(r) = reply {
            let out = Outbound {
                transport: msg.transport,
                conn: msg.conn,
                to: msg.from,
                bytes: r.to_bytes(),
            };
            transports.send(out).await;
        }
    }
}

#[allow(clippy::disallowed_methods)] // the driver owns the clock
fn now() -> Instant {
    Instant::now()
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}
