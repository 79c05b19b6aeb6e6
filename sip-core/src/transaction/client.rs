//! Client transactions: INVITE (RFC 3261 §17.1.1 with RFC 6026's Accepted state) and
//! non-INVITE (§17.1.2).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Output, TimeoutKind, Timers, Transport, backoff};
use crate::{HeaderName, Message, Method, RequestBuilder};

/// States of a client transaction (Figures 5 and 6 of RFC 3261; Accepted from RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientState {
    /// INVITE sent, no response yet.
    Calling,
    /// Non-INVITE request sent, no response yet.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final (non-2xx for INVITE) response arrived; absorbing retransmissions.
    Completed,
    /// A 2xx to the INVITE arrived; later 2xx retransmissions still go to the TU (RFC 6026).
    Accepted,
    /// Done.
    Terminated,
}

/// One client transaction.
#[derive(Debug)]
pub struct ClientTransaction {
    invite: bool,
    state: ClientState,
    transport: Transport,
    destination: SocketAddr,
    timers: Timers,
    request: Message,
    ack: Option<Bytes>,
    /// Timer A or E.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timer B or F.
    timeout_at: Option<Instant>,
    /// Timer D, K or M.
    end_at: Option<Instant>,
}

impl ClientTransaction {
    /// Starts a transaction for `request` and pushes its first transmission.
    pub(crate) fn start(
        now: Instant,
        request: Message,
        transport: Transport,
        destination: SocketAddr,
        timers: Timers,
        out: &mut Vec<Output>,
    ) -> Self {
        let invite = request.method() == Some(Method::Invite);
        let retransmit_at = (!transport.is_reliable()).then(|| now + timers.t1);
        out.push(Output::Send(request.to_bytes()));
        Self {
            invite,
            state: if invite {
                ClientState::Calling
            } else {
                ClientState::Trying
            },
            transport,
            destination,
            timers,
            request,
            ack: None,
            retransmit_at,
            interval: timers.t1,
            timeout_at: Some(now + timers.t1x64()),
            end_at: None,
        }
    }

    /// The current state.
    pub const fn state(&self) -> ClientState {
        self.state
    }

    /// The request this transaction sends.
    pub const fn request(&self) -> &Message {
        &self.request
    }

    /// Where the request goes.
    pub const fn destination(&self) -> (Transport, SocketAddr) {
        (self.transport, self.destination)
    }

    /// When the next timer fires.
    pub fn deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.end_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(&mut self, now: Instant, response: Message, out: &mut Vec<Output>) {
        let code = response.status().unwrap_or(0);
        use ClientState::*;
        match (self.state, code) {
            (Calling | Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                if self.invite {
                    // Timer A and B stop in Proceeding (Figure 5).
                    self.retransmit_at = None;
                    self.timeout_at = None;
                } else if self.retransmit_at.is_some() {
                    // Figure 6: E keeps firing, at T2 intervals.
                    self.interval = self.timers.t2;
                }
                out.push(Output::Response(response));
            }
            (Calling | Proceeding, 200..=299) if self.invite => {
                self.state = Accepted;
                self.stop_timers();
                self.end_at = Some(now + self.timers.t1x64()); // Timer M (RFC 6026)
                out.push(Output::Response(response));
            }
            (Accepted, 200..=299) => out.push(Output::Response(response)),
            (Calling | Proceeding, 300..=699) if self.invite => {
                let ack = self.build_ack(&response);
                if let Some(ack) = &ack {
                    out.push(Output::Send(ack.clone()));
                }
                self.ack = ack;
                out.push(Output::Response(response));
                self.complete(now, Duration::from_secs(32), out); // Timer D
            }
            (Completed, 300..=699) if self.invite => {
                if let Some(ack) = &self.ack {
                    out.push(Output::Send(ack.clone()));
                }
            }
            (Trying | Proceeding, 200..=699) => {
                out.push(Output::Response(response));
                self.complete(now, self.timers.t4, out); // Timer K
            }
            _ => {} // absorbed
        }
    }

    fn stop_timers(&mut self) {
        self.retransmit_at = None;
        self.timeout_at = None;
    }

    fn complete(&mut self, now: Instant, unreliable_wait: Duration, out: &mut Vec<Output>) {
        self.stop_timers();
        if self.transport.is_reliable() {
            self.terminate(out);
        } else {
            self.state = ClientState::Completed;
            self.end_at = Some(now + unreliable_wait);
        }
    }

    fn terminate(&mut self, out: &mut Vec<Output>) {
        self.state = ClientState::Terminated;
        self.stop_timers();
        self.end_at = None;
        out.push(Output::Terminated);
    }

    /// The ACK for a non-2xx final response (§17.1.1.3).
    fn build_ack(&self, response: &Message) -> Option<Bytes> {
        let req = &self.request;
        let mut b = RequestBuilder::new(Method::Ack, req.request_uri_str()?)
            .header(HeaderName::Via, req.values(HeaderName::Via).next()?);
        for r in req.values(HeaderName::Route) {
            b = b.header(HeaderName::Route, r);
        }
        let seq = req.cseq().ok()?.seq;
        b = b
            .header(HeaderName::From, req.values(HeaderName::From).next()?)
            .header(HeaderName::To, response.values(HeaderName::To).next()?)
            .call_id(req.call_id().ok()?.0)
            .header(HeaderName::CSeq, &format!("{seq} ACK"))
            .max_forwards(70);
        b.build().ok().map(|m| m.to_bytes())
    }

    /// A timer may have fired.
    pub(crate) fn on_timer(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.end_at.is_some_and(|t| t <= now) {
            self.terminate(out);
            return;
        }
        if self.timeout_at.is_some_and(|t| t <= now) {
            out.push(Output::Timeout(TimeoutKind::NoResponse));
            self.terminate(out);
            return;
        }
        if let Some(at) = self.retransmit_at.filter(|t| *t <= now) {
            out.push(Output::Send(self.request.to_bytes()));
            self.interval = match (self.invite, self.state) {
                (true, _) => backoff(self.interval, None), // Timer A doubles without cap
                (false, ClientState::Proceeding) => self.timers.t2,
                (false, _) => backoff(self.interval, Some(self.timers.t2)), // Timer E
            };
            self.retransmit_at = Some(at.max(now) + self.interval);
        }
    }

    /// The transport reported a failure (§17.1.4): inform the TU and terminate.
    pub(crate) fn on_transport_error(&mut self, out: &mut Vec<Output>) {
        if self.state != ClientState::Terminated {
            out.push(Output::TransportError);
            self.terminate(out);
        }
    }
}
