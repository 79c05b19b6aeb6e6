//! The echo-test service: every RTP and RTCP packet a phone sends comes straight back to
//! where it came from, so the caller hears itself after the round trip. One port pair; the
//! connection takes one unit of the media budget (MV-36: not relayed, no codec channel).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rtp_media::budget::{Grant, MediaBudget, MediaRequest};
use tokio::sync::watch;

use super::ports::PortAllocator;
use super::relay::RelayError;

/// A running echo; dropping it stops it and returns its ports and budget.
#[derive(Debug)]
pub struct Echo {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

struct Held {
    budget: Arc<Mutex<MediaBudget>>,
    grant: Grant,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut b) = self.budget.lock() {
            b.release(self.grant);
        }
    }
}

impl Echo {
    /// Takes the budget and a port pair on `ip`, and starts echoing.
    pub async fn start(
        ports: &PortAllocator,
        budget: &Arc<Mutex<MediaBudget>>,
        ip: IpAddr,
    ) -> Result<Self, RelayError> {
        let req = MediaRequest::Connection {
            relayed: false,
            codec: None,
            secure: false,
        };
        let grant = budget
            .lock()
            .map_err(|_| RelayError::NoPorts)?
            .allocate(req)?;
        let held = Held {
            budget: budget.clone(),
            grant,
        };
        let pair = ports.bind(ip).await.ok_or(RelayError::NoPorts)?;
        let addr = pair.rtp_addr().map_err(|_| RelayError::NoPorts)?;
        let (stop, mut stopped) = watch::channel(false);
        tokio::spawn(async move {
            let _held = held;
            let (mut rtp, mut rtcp) = ([0u8; 2048], [0u8; 2048]);
            loop {
                tokio::select! {
                    r = pair.rtp.recv_from(&mut rtp) => if let Ok((n, from)) = r {
                        let _ = pair.rtp.send_to(&rtp[..n], from).await;
                    },
                    r = pair.rtcp.recv_from(&mut rtcp) => if let Ok((n, from)) = r {
                        let _ = pair.rtcp.send_to(&rtcp[..n], from).await;
                    },
                    _ = stopped.changed() => return,
                }
            }
        });
        Ok(Self { addr, stop })
    }

    /// The RTP address to put in the phone's SDP.
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
