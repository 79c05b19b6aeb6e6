//! WAN bandwidth admission between AIN nodes (MV2-32). Each WAN link has a capacity in
//! kbit/s; a call across it reserves the bandwidth its codec takes on the wire; a call that
//! does not fit is refused with what the link has left, which is what the catalogue's
//! `insufficient_bandwidth` event reports (link id, link name, available kbit/s).
//!
//! Bandwidth per call is one direction's IP bit rate: the codec's payload rate plus 40 bytes
//! of IPv4/UDP/RTP headers per packet ([`call_kbps`]); link-layer framing is the operator's
//! margin. The seed gives no figures, so capacities are configuration.

use std::collections::BTreeMap;

/// IPv4 (20) + UDP (8) + RTP (12) header bytes per packet.
pub const HEADER_BYTES: u32 = 40;

/// The kbit/s a call takes on a link: `payload_kbps` plus the headers of one packet every
/// `ptime_ms` (G.711 at 20 ms: 64 + 16 = 80; G.729 at 20 ms: 8 + 16 = 24), rounded up.
pub fn call_kbps(payload_kbps: u32, ptime_ms: u32) -> u32 {
    let ptime = ptime_ms.max(1);
    payload_kbps + (HEADER_BYTES * 8).div_ceil(ptime)
}

/// One WAN link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WanLink {
    /// Link id.
    pub id: u16,
    /// Link name.
    pub name: String,
    /// Capacity for calls, kbit/s.
    pub capacity_kbps: u32,
}

/// Why a call was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WanRefusal {
    /// No link with this id is configured.
    #[error("unknown WAN link {0}")]
    UnknownLink(u16),
    /// The link has too little bandwidth left (raise `insufficient_bandwidth`).
    #[error("WAN link {link_id} ({name}): {available_kbps} kbit/s free, {wanted_kbps} wanted")]
    InsufficientBandwidth {
        /// Link id.
        link_id: u16,
        /// Link name.
        name: String,
        /// What the link has left, kbit/s.
        available_kbps: u32,
        /// What the call needed, kbit/s.
        wanted_kbps: u32,
    },
}

/// Bandwidth held by an admitted call; give it back with [`WanAdmission::release`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a reservation holds bandwidth until released"]
pub struct Reservation {
    id: u64,
}

/// The links and what calls hold on them.
#[derive(Debug, Default)]
pub struct WanAdmission {
    links: BTreeMap<u16, (WanLink, u32)>,
    held: BTreeMap<u64, (u16, u32)>,
    next: u64,
}

impl WanAdmission {
    /// Admission over `links`, all free.
    pub fn new(links: impl IntoIterator<Item = WanLink>) -> Self {
        Self {
            links: links.into_iter().map(|l| (l.id, (l, 0))).collect(),
            held: BTreeMap::new(),
            next: 0,
        }
    }

    /// Admits a call of `kbps` on link `link`, or refuses it with what is left.
    pub fn admit(&mut self, link: u16, kbps: u32) -> Result<Reservation, WanRefusal> {
        let (l, used) = self
            .links
            .get_mut(&link)
            .ok_or(WanRefusal::UnknownLink(link))?;
        let available = l.capacity_kbps.saturating_sub(*used);
        if kbps > available {
            return Err(WanRefusal::InsufficientBandwidth {
                link_id: l.id,
                name: l.name.clone(),
                available_kbps: available,
                wanted_kbps: kbps,
            });
        }
        *used += kbps;
        self.next += 1;
        self.held.insert(self.next, (link, kbps));
        Ok(Reservation { id: self.next })
    }

    /// The call ended: its bandwidth is free again.
    pub fn release(&mut self, r: Reservation) {
        if let Some((link, kbps)) = self.held.remove(&r.id)
            && let Some((_, used)) = self.links.get_mut(&link)
        {
            *used = used.saturating_sub(kbps);
        }
    }

    /// What link `link` has left, kbit/s.
    pub fn available(&self, link: u16) -> Option<u32> {
        self.links
            .get(&link)
            .map(|(l, used)| l.capacity_kbps.saturating_sub(*used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> WanAdmission {
        WanAdmission::new([WanLink {
            id: 7,
            name: "Paris-Lyon".into(),
            capacity_kbps: 256,
        }])
    }

    #[test]
    fn per_call_rates_count_the_headers() {
        assert_eq!(call_kbps(64, 20), 80, "G.711");
        assert_eq!(call_kbps(8, 20), 24, "G.729");
        assert_eq!(call_kbps(8, 30), 19, "G.729 at 30 ms, rounded up");
        assert_eq!(call_kbps(64, 0), 64 + 320, "a zero ptime counts as 1 ms");
    }

    #[test]
    fn mv2_32_a_call_that_does_not_fit_is_refused_with_what_is_left() {
        let mut wan = links();
        let g711 = call_kbps(64, 20);
        let calls: Vec<Reservation> = (0..3).map(|_| wan.admit(7, g711).expect("fits")).collect();
        assert_eq!(wan.available(7), Some(16));
        let refused = wan.admit(7, g711).expect_err("a fourth G.711 call");
        assert_eq!(
            refused,
            WanRefusal::InsufficientBandwidth {
                link_id: 7,
                name: "Paris-Lyon".into(),
                available_kbps: 16,
                wanted_kbps: 80,
            }
        );
        // A G.729 call would not fit either (24 > 16); ending the calls frees the link.
        assert!(wan.admit(7, call_kbps(8, 20)).is_err());
        for c in calls {
            wan.release(c);
        }
        assert_eq!(wan.available(7), Some(256));
        assert_eq!(wan.admit(9, 1), Err(WanRefusal::UnknownLink(9)));
    }
}
