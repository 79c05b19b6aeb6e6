//! re-INVITE glare (RFC 3261 §14.1, §14.2): at most one INVITE transaction in each direction
//! of a dialog, 491 for crossing re-INVITEs, 500 with Retry-After for overlapping ones, and the
//! randomised retry delay.

use std::time::Duration;

/// The INVITE transactions of one dialog that have not finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InviteGuard {
    outgoing: bool,
    incoming: bool,
}

/// The answer a UAS must give to a re-INVITE that cannot be processed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Our own re-INVITE is pending: 491 Request Pending (§14.2).
    RequestPending,
    /// An earlier incoming re-INVITE has no final response yet: 500 with a Retry-After
    /// between 0 and 10 seconds (§14.2).
    ServerError,
}

impl Refusal {
    /// Status code and reason phrase.
    pub const fn status(self) -> (u16, &'static str) {
        match self {
            Self::RequestPending => (491, "Request Pending"),
            Self::ServerError => (500, "Server Internal Error"),
        }
    }
}

impl InviteGuard {
    /// A new guard with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether we may send a re-INVITE now (§14.1: not while one is pending either way).
    pub const fn may_send(&self) -> bool {
        !self.outgoing && !self.incoming
    }

    /// We sent a re-INVITE.
    pub fn sent(&mut self) {
        self.outgoing = true;
    }

    /// Our re-INVITE got its final response.
    pub fn sent_done(&mut self) {
        self.outgoing = false;
    }

    /// A re-INVITE arrived: `Ok` to process it (then call [`InviteGuard::received_done`]
    /// after its final response), or the refusal to send.
    pub fn received(&mut self) -> Result<(), Refusal> {
        if self.incoming {
            Err(Refusal::ServerError)
        } else if self.outgoing {
            Err(Refusal::RequestPending)
        } else {
            self.incoming = true;
            Ok(())
        }
    }

    /// We answered the incoming re-INVITE finally.
    pub fn received_done(&mut self) {
        self.incoming = false;
    }
}

/// How long to wait before retrying a re-INVITE refused with 491 (§14.1): the owner of the
/// Call-ID (the UA that created the dialog) waits 2.1–4 s, the other 0–2 s, in 10 ms steps.
/// `random` is any random number; the result is deterministic in it.
pub fn glare_retry_delay(call_id_owner: bool, random: u32) -> Duration {
    let (base, steps) = if call_id_owner { (210, 190) } else { (0, 200) };
    Duration::from_millis(u64::from(base + random % (steps + 1)) * 10)
}
