//! NAT keep-alives (issue 10). Every `[sip] nat_keepalive_secs`, a double CRLF goes to each
//! UDP device registered from behind a NAT (its Contact is not the address its REGISTER came
//! from), so the NAT keeps open the mapping that calls to the device need. Keep-alives from
//! devices (CRLF, STUN Binding) are recorded on their bindings.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use sip_core::transaction::Transport;

use super::Pbx;

impl Pbx {
    /// When the next round of keep-alives is due.
    pub(super) fn keepalive_deadline(&self) -> Option<Instant> {
        self.next_keepalive
    }

    /// Sends the keep-alives if a round is due, and schedules the next.
    pub(super) fn nat_keepalives(&mut self, now: Instant) {
        let every = self.settings.nat_keepalive;
        if every.is_zero() {
            return;
        }
        let due = *self.next_keepalive.get_or_insert(now + every);
        if due > now {
            return;
        }
        self.next_keepalive = Some(now + every);
        let targets: HashSet<SocketAddr> = self
            .registrar
            .bindings()
            .filter(|(_, b)| b.transport == Transport::Udp && b.behind_nat())
            .map(|(_, b)| b.source)
            .collect();
        for t in targets {
            self.ep.send_keepalive(Transport::Udp, t);
        }
    }
}
