//! Server transactions: INVITE (RFC 3261 §17.2.1 with RFC 6026's Accepted state) and
//! non-INVITE (§17.2.2).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Output, TimeoutKind, Timers, Transport, backoff};
use crate::{Message, Method};

/// States of a server transaction (Figures 7 and 8 of RFC 3261; Accepted from RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerState {
    /// Non-INVITE request received, no response sent yet.
    Trying,
    /// INVITE received (or a provisional response sent).
    Proceeding,
    /// A final response (non-2xx for INVITE) was sent.
    Completed,
    /// The ACK for our non-2xx final response arrived.
    Confirmed,
    /// A 2xx to the INVITE was sent; retransmitted until the ACK arrives (RFC 6026).
    Accepted,
    /// Done.
    Terminated,
}

/// The response cannot be sent in the transaction's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {code} response cannot be sent in state {state:?}")]
pub struct InvalidState {
    /// The status code of the refused response.
    pub code: u16,
    /// The state it was refused in.
    pub state: ServerState,
}

/// One server transaction.
#[derive(Debug)]
pub struct ServerTransaction {
    invite: bool,
    state: ServerState,
    transport: Transport,
    reply_to: SocketAddr,
    timers: Timers,
    request: Message,
    last: Option<Bytes>,
    /// Timer G, or the 2xx retransmission timer in Accepted.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timer H.
    timeout_at: Option<Instant>,
    /// Timer I, J or L.
    end_at: Option<Instant>,
    acked: bool,
}

impl ServerTransaction {
    /// A transaction for a newly received request whose responses go to `reply_to`.
    pub(crate) fn new(
        request: Message,
        transport: Transport,
        reply_to: SocketAddr,
        timers: Timers,
    ) -> Self {
        let invite = request.method() == Some(Method::Invite);
        Self {
            invite,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            transport,
            reply_to,
            timers,
            request,
            last: None,
            retransmit_at: None,
            interval: timers.t1,
            timeout_at: None,
            end_at: None,
            acked: false,
        }
    }

    /// The current state.
    pub const fn state(&self) -> ServerState {
        self.state
    }

    /// The request that created the transaction.
    pub const fn request(&self) -> &Message {
        &self.request
    }

    /// Where responses go (§18.2.2).
    pub const fn reply_to(&self) -> (Transport, SocketAddr) {
        (self.transport, self.reply_to)
    }

    /// Whether a final response was sent.
    pub const fn is_final(&self) -> bool {
        !matches!(self.state, ServerState::Trying | ServerState::Proceeding)
    }

    /// When the next timer fires.
    pub fn deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.end_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// The TU sends `response` (§17.2.1, §17.2.2).
    pub(crate) fn respond(
        &mut self,
        now: Instant,
        response: &Message,
        out: &mut Vec<Output>,
    ) -> Result<(), InvalidState> {
        let code = response.status().unwrap_or(0);
        let bytes = response.to_bytes();
        let unreliable = !self.transport.is_reliable();
        use ServerState::*;
        match (self.state, code) {
            (Trying | Proceeding, 100..=199) => self.state = Proceeding,
            (Proceeding, 200..=299) if self.invite => {
                self.state = Accepted;
                self.end_at = Some(now + self.timers.t1x64()); // Timer L
                // The UAS core retransmits the 2xx until the ACK (§13.3.1.4); we do it here.
                self.interval = self.timers.t1;
                self.retransmit_at = unreliable.then(|| now + self.timers.t1);
            }
            (Accepted, 200..=299) => {}
            (Proceeding, 300..=699) if self.invite => {
                self.state = Completed;
                self.interval = self.timers.t1;
                self.retransmit_at = unreliable.then(|| now + self.timers.t1); // Timer G
                self.timeout_at = Some(now + self.timers.t1x64()); // Timer H
            }
            (Trying | Proceeding, 200..=699) if !self.invite => {
                self.state = Completed;
                if unreliable {
                    self.end_at = Some(now + self.timers.t1x64()); // Timer J
                } else {
                    out.push(Output::Send(bytes));
                    self.terminate(out);
                    return Ok(());
                }
            }
            (state, code) => return Err(InvalidState { code, state }),
        }
        out.push(Output::Send(bytes.clone()));
        self.last = Some(bytes);
        Ok(())
    }

    /// A retransmission of the request, or the ACK of a non-2xx final response, arrived.
    pub(crate) fn on_request(&mut self, now: Instant, request: &Message, out: &mut Vec<Output>) {
        let is_ack = request.method() == Some(Method::Ack);
        use ServerState::*;
        match (self.state, is_ack) {
            (Completed, true) if self.invite => {
                self.state = Confirmed;
                self.retransmit_at = None;
                self.timeout_at = None;
                if self.transport.is_reliable() {
                    self.terminate(out);
                } else {
                    self.end_at = Some(now + self.timers.t4); // Timer I
                }
            }
            (Accepted, true) => self.on_2xx_ack(),
            (Proceeding | Completed, false) => {
                if let Some(last) = &self.last {
                    out.push(Output::Send(last.clone()));
                }
            }
            _ => {} // absorbed
        }
    }

    /// The ACK for our 2xx arrived (matched by dialog, not by branch): stop retransmitting.
    pub(crate) fn on_2xx_ack(&mut self) {
        self.acked = true;
        self.retransmit_at = None;
    }

    /// Whether the 2xx was acknowledged.
    pub const fn acked(&self) -> bool {
        self.acked
    }

    fn terminate(&mut self, out: &mut Vec<Output>) {
        self.state = ServerState::Terminated;
        self.retransmit_at = None;
        self.timeout_at = None;
        self.end_at = None;
        out.push(Output::Terminated);
    }

    /// A timer may have fired.
    pub(crate) fn on_timer(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.end_at.is_some_and(|t| t <= now) {
            if self.state == ServerState::Accepted && !self.acked {
                out.push(Output::Timeout(TimeoutKind::No2xxAck));
            }
            self.terminate(out);
            return;
        }
        if self.timeout_at.is_some_and(|t| t <= now) {
            out.push(Output::Timeout(TimeoutKind::NoAck)); // Timer H
            self.terminate(out);
            return;
        }
        if let Some(at) = self.retransmit_at.filter(|t| *t <= now) {
            if let Some(last) = &self.last {
                out.push(Output::Send(last.clone()));
            }
            self.interval = backoff(self.interval, Some(self.timers.t2));
            self.retransmit_at = Some(at.max(now) + self.interval);
        }
    }

    /// The transport reported a failure sending a response (§17.2.4).
    pub(crate) fn on_transport_error(&mut self, out: &mut Vec<Output>) {
        if self.state != ServerState::Terminated {
            out.push(Output::TransportError);
            self.terminate(out);
        }
    }
}
