//! RTP port allocation over the configured range: even RTP ports, RTCP on the next odd
//! one (RFC 3550 §11), handed out round-robin so a port is not reused at once (late
//! packets of the previous call then hit a closed port, not the next call).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

use crate::config::value::PortRange;

#[derive(Debug)]
struct State {
    used: Vec<bool>,
    next: usize,
}

/// Hands out RTP/RTCP port pairs.
#[derive(Debug, Clone)]
pub struct PortAllocator {
    range: PortRange,
    state: Arc<Mutex<State>>,
}

/// A bound RTP/RTCP socket pair; the pair returns to the allocator on drop.
#[derive(Debug)]
pub struct SocketPair {
    /// The RTP socket (even port).
    pub rtp: UdpSocket,
    /// The RTCP socket (RTP port + 1).
    pub rtcp: UdpSocket,
    slot: usize,
    owner: PortAllocator,
}

impl SocketPair {
    /// The RTP address.
    pub fn rtp_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtp.local_addr()
    }
}

impl Drop for SocketPair {
    fn drop(&mut self) {
        self.owner.release(self.slot);
    }
}

impl PortAllocator {
    /// An allocator over `range`.
    pub fn new(range: PortRange) -> Self {
        Self {
            range,
            state: Arc::new(Mutex::new(State {
                used: vec![false; range.pairs()],
                next: 0,
            })),
        }
    }

    /// Pairs free now.
    pub fn free(&self) -> usize {
        self.state
            .lock()
            .map_or(0, |s| s.used.iter().filter(|u| !**u).count())
    }

    fn take(&self) -> Option<usize> {
        let mut s = self.state.lock().ok()?;
        let n = s.used.len();
        let slot = (0..n).map(|i| (s.next + i) % n).find(|i| !s.used[*i])?;
        s.used[slot] = true;
        s.next = (slot + 1) % n;
        Some(slot)
    }

    fn release(&self, slot: usize) {
        if let Ok(mut s) = self.state.lock()
            && let Some(u) = s.used.get_mut(slot)
        {
            *u = false;
        }
    }

    fn port(&self, slot: usize) -> u16 {
        // slot < pairs(), so the port stays within the configured u16 range.
        self.range.first + u16::try_from(slot * 2).unwrap_or(u16::MAX)
    }

    /// Binds the next free pair on `ip`, skipping ports another program holds. `None` when
    /// every pair is taken or unbindable.
    pub async fn bind(&self, ip: IpAddr) -> Option<SocketPair> {
        for _ in 0..self.range.pairs() {
            let slot = self.take()?;
            let port = self.port(slot);
            let rtp = UdpSocket::bind((ip, port)).await;
            let rtcp = UdpSocket::bind((ip, port + 1)).await;
            match (rtp, rtcp) {
                (Ok(rtp), Ok(rtcp)) => {
                    return Some(SocketPair {
                        rtp,
                        rtcp,
                        slot,
                        owner: self.clone(),
                    });
                }
                _ => self.release(slot),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_round_robin_and_returned() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        let alloc = PortAllocator::new("31400-31405".parse().expect("range"));
        assert_eq!(alloc.free(), 3);
        let a = alloc.bind(ip).await.expect("pair 1");
        let b = alloc.bind(ip).await.expect("pair 2");
        let pa = a.rtp_addr().expect("addr").port();
        assert_eq!(pa % 2, 0, "RTP on an even port");
        assert_eq!(
            a.rtcp.local_addr().expect("addr").port(),
            pa + 1,
            "RTCP on the next odd port"
        );
        assert_ne!(pa, b.rtp_addr().expect("addr").port());
        let c = alloc.bind(ip).await.expect("pair 3");
        assert!(alloc.bind(ip).await.is_none(), "range exhausted");
        drop(a);
        assert_eq!(alloc.free(), 1);
        let d = alloc.bind(ip).await.expect("the returned pair");
        assert_eq!(d.rtp_addr().expect("addr").port(), pa);
        drop((b, c, d));
        assert_eq!(alloc.free(), 3);
    }

    #[tokio::test]
    async fn ports_held_elsewhere_are_skipped() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        let _squatter = std::net::UdpSocket::bind((ip, 31410)).expect("bind");
        let alloc = PortAllocator::new("31410-31413".parse().expect("range"));
        let p = alloc.bind(ip).await.expect("the other pair");
        assert_eq!(p.rtp_addr().expect("addr").port(), 31412);
    }
}
