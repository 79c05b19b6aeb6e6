//! A relayed call: two legs, each an RTP/RTCP socket pair of the PBX. rtp-media's
//! [`RtpRelay`] latches each leg to the first source that sends (symmetric RTP, comedia) and
//! keeps SSRC/sequence continuity; RTCP is relayed the same way on the odd ports and its
//! report blocks are kept. When the legs use different codecs, each direction is transcoded.
//! The relay holds one media-budget grant: a relayed connection costs 2 (MV-36).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use codecs::CodecKind;
use rtp_media::budget::{Grant, MediaBudget, MediaRequest, Refusal, VoipCodec};
use rtp_media::relay::{Leg, RelayConfig, RelayStats, RtpRelay};
use rtp_media::rtcp::{RtcpPacket, parse_compound};
use rtp_media::rtp::{RtpPacket, is_rtcp};
use rtp_media::sdes::CryptoAttribute;
use rtp_media::srtp::{SrtpContext, SrtpError};
use rtp_media::stats::{ReceiverStats, StatsConfig};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::ports::{PortAllocator, SocketPair};
use super::quality;
use super::transcode::RtpTranscoder;
use crate::cdr::MediaStats;

/// What one leg negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegSpec {
    /// The address the phone signalled in its SDP (latching may replace it).
    pub remote: Option<SocketAddr>,
    /// Its audio codec.
    pub codec: CodecKind,
    /// The payload type it uses for that codec.
    pub payload_type: u8,
    /// Its RFC 4733 `telephone-event` payload type, if any (relayed when transcoding).
    pub telephone_event: Option<u8>,
}

impl LegSpec {
    /// A leg sending `codec` as `payload_type` from `remote`, without telephone-event.
    pub const fn new(remote: Option<SocketAddr>, codec: CodecKind, payload_type: u8) -> Self {
        Self {
            remote,
            codec,
            payload_type,
            telephone_event: None,
        }
    }

    fn same_media(&self, other: &Self) -> bool {
        (self.codec, self.payload_type, self.telephone_event)
            == (other.codec, other.payload_type, other.telephone_event)
    }
}

/// SRTP of one leg (MV-40): `inbound` unprotects what the phone sends (with its key),
/// `outbound` protects what the relay sends it (with ours). A leg without `inbound` takes
/// plain RTP.
#[derive(Debug, Default)]
pub struct LegSrtp {
    /// The phone's key.
    pub inbound: Option<SrtpContext>,
    /// Our key.
    pub outbound: Option<SrtpContext>,
}

impl LegSrtp {
    /// A secure leg: the phone sends with `phone`, we send with `ours` (SDES attributes).
    pub fn sdes(phone: &CryptoAttribute, ours: &CryptoAttribute) -> Result<Self, SrtpError> {
        Ok(Self {
            inbound: Some(phone.context()?),
            outbound: Some(ours.context()?),
        })
    }

    fn is_secure(&self) -> bool {
        self.inbound.is_some() || self.outbound.is_some()
    }
}

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The media budget refused (answer 503 with Retry-After).
    #[error("media budget: {0}")]
    Budget(#[from] Refusal),
    /// No RTP port pair is free.
    #[error("no free RTP port pair")]
    NoPorts,
    /// The codecs cannot be transcoded.
    #[error("transcoder: {0}")]
    Codec(#[from] codecs::Error),
}

/// Statistics of one leg: what the PBX received from that phone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LegReport {
    /// Packets received.
    pub received: u32,
    /// Packets lost (RFC 3550 cumulative).
    pub lost: i64,
    /// CDR figures.
    pub media: MediaStats,
    /// The last RTCP report block the phone sent about what it received.
    pub remote_report: Option<rtp_media::rtcp::ReportBlock>,
}

/// The relay's final report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelayReport {
    /// Per leg (A, B); `None` when nothing arrived.
    pub legs: [Option<LegReport>; 2],
    /// The relay's counters.
    pub relay: RelayStats,
}

#[derive(Debug)]
struct Budgeted {
    budget: Arc<Mutex<MediaBudget>>,
    grant: Grant,
}

impl Drop for Budgeted {
    fn drop(&mut self) {
        if let Ok(mut b) = self.budget.lock() {
            b.release(self.grant);
        }
    }
}

/// New leg specifications (and their transcoders) for the relay task.
struct Update {
    specs: [LegSpec; 2],
    codecs: Option<[RtpTranscoder; 2]>,
    srtp: Option<(Leg, LegSrtp)>,
}

/// A running relay; stop it with [`CallRelay::stop`] (dropping it also stops it).
#[derive(Debug)]
pub struct CallRelay {
    addrs: [SocketAddr; 2],
    specs: [LegSpec; 2],
    /// Which legs use SRTP (a secure connection, MV-40).
    secure: [bool; 2],
    held: Option<Budgeted>,
    updates: mpsc::UnboundedSender<Update>,
    stop: watch::Sender<bool>,
    report: Option<oneshot::Receiver<RelayReport>>,
    task: JoinHandle<()>,
}

fn voip_codec(a: CodecKind, b: CodecKind) -> VoipCodec {
    if a == CodecKind::G729 || b == CodecKind::G729 {
        VoipCodec::G729
    } else {
        VoipCodec::G711
    }
}

fn media_request(legs: &[LegSpec; 2], secure: [bool; 2]) -> MediaRequest {
    let transcode = !legs[0].same_media(&legs[1]);
    MediaRequest::Connection {
        relayed: true,
        codec: transcode.then(|| voip_codec(legs[0].codec, legs[1].codec)),
        secure: secure[0] || secure[1],
    }
}

fn allocate(
    budget: &Arc<Mutex<MediaBudget>>,
    legs: &[LegSpec; 2],
    secure: [bool; 2],
) -> Result<Budgeted, RelayError> {
    let grant = budget
        .lock()
        .map_err(|_| RelayError::NoPorts)?
        .allocate(media_request(legs, secure))?;
    Ok(Budgeted {
        budget: budget.clone(),
        grant,
    })
}

/// The two transcoders (A→B, B→A) when the legs differ in codec or payload types.
fn transcoders(legs: &[LegSpec; 2]) -> Result<Option<[RtpTranscoder; 2]>, RelayError> {
    if legs[0].same_media(&legs[1]) {
        return Ok(None);
    }
    Ok(Some([
        RtpTranscoder::new(&legs[0], &legs[1])?,
        RtpTranscoder::new(&legs[1], &legs[0])?,
    ]))
}

impl CallRelay {
    /// Allocates the budget (MV-36) and two port pairs on `ip`, and starts relaying, with
    /// SRTP on the legs that have keys (MV-40).
    pub async fn start(
        ports: &PortAllocator,
        budget: &Arc<Mutex<MediaBudget>>,
        ip: IpAddr,
        legs: [LegSpec; 2],
        srtp: [LegSrtp; 2],
    ) -> Result<Self, RelayError> {
        let codecs = transcoders(&legs)?;
        let secure = [srtp[0].is_secure(), srtp[1].is_secure()];
        let held = allocate(budget, &legs, secure)?;
        let a = ports.bind(ip).await.ok_or(RelayError::NoPorts)?;
        let b = ports.bind(ip).await.ok_or(RelayError::NoPorts)?;
        let addrs = [
            a.rtp_addr().map_err(|_| RelayError::NoPorts)?,
            b.rtp_addr().map_err(|_| RelayError::NoPorts)?,
        ];
        let (stop, stop_rx) = watch::channel(false);
        let (updates, updates_rx) = mpsc::unbounded_channel();
        let (report_tx, report) = oneshot::channel();
        let mut state = State::new(legs, codecs, srtp);
        let task = tokio::spawn(async move {
            state.run([a, b], stop_rx, updates_rx).await;
            let _ = report_tx.send(state.report());
        });
        Ok(Self {
            addrs,
            specs: legs,
            secure,
            held: Some(held),
            updates,
            stop,
            report: Some(report),
            task,
        })
    }

    /// The callee answered: leg B now sends `b` (its codec may differ from leg A's, and then
    /// the relay transcodes). The budget grant follows: a transcoded connection also takes a
    /// codec channel (MV-36). On a refusal nothing changes.
    pub fn set_leg_b(&mut self, b: LegSpec, srtp: LegSrtp) -> Result<(), RelayError> {
        self.set_leg(Leg::B, b, srtp)
    }

    /// `leg` now talks to another phone sending `spec` (a transfer replaced that party); as
    /// [`CallRelay::set_leg_b`] otherwise.
    pub fn set_leg(&mut self, leg: Leg, spec: LegSpec, srtp: LegSrtp) -> Result<(), RelayError> {
        let mut legs = self.specs;
        legs[idx(leg)] = spec;
        let mut secure = self.secure;
        secure[idx(leg)] = srtp.is_secure();
        let codecs = transcoders(&legs)?;
        if media_request(&legs, secure) != media_request(&self.specs, self.secure)
            && let Some(old) = self.held.take()
        {
            let budget = old.budget.clone();
            drop(old); // release first: the new grant may need the same units
            match allocate(&budget, &legs, secure) {
                Ok(h) => self.held = Some(h),
                Err(e) => {
                    self.held = allocate(&budget, &self.specs, self.secure).ok();
                    return Err(e);
                }
            }
        }
        self.specs = legs;
        self.secure = secure;
        let _ = self.updates.send(Update {
            specs: legs,
            codecs,
            srtp: Some((leg, srtp)),
        });
        Ok(())
    }

    /// The PBX's RTP address for `leg` (put it in that phone's SDP).
    pub fn local_addr(&self, leg: Leg) -> SocketAddr {
        match leg {
            Leg::A => self.addrs[0],
            Leg::B => self.addrs[1],
        }
    }

    /// Stops relaying, frees ports and budget, and returns the statistics.
    pub async fn stop(mut self) -> Option<RelayReport> {
        let _ = self.stop.send(true);
        self.report.take()?.await.ok()
    }
}

impl Drop for CallRelay {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if self.report.is_some() {
            self.task.abort();
        }
    }
}

struct State {
    specs: [LegSpec; 2],
    crypto: Crypto,
    rtp: RtpRelay,
    rtcp: RtpRelay,
    codecs: Option<[RtpTranscoder; 2]>,
    rx: [Option<ReceiverStats>; 2],
    remote: [Option<rtp_media::rtcp::ReportBlock>; 2],
}

const fn idx(leg: Leg) -> usize {
    match leg {
        Leg::A => 0,
        Leg::B => 1,
    }
}

#[allow(clippy::disallowed_methods)] // the driver owns the clock
fn now() -> Instant {
    Instant::now()
}

impl State {
    fn new(specs: [LegSpec; 2], codecs: Option<[RtpTranscoder; 2]>, srtp: [LegSrtp; 2]) -> Self {
        let mut rtp = RtpRelay::new(RelayConfig::default());
        let mut rtcp = RtpRelay::new(RelayConfig {
            continuity: false,
            ..RelayConfig::default()
        });
        for (leg, s) in [(Leg::A, specs[0]), (Leg::B, specs[1])] {
            if let Some(r) = s.remote {
                rtp.set_remote(leg, r);
                rtcp.set_remote(leg, SocketAddr::new(r.ip(), r.port().wrapping_add(1)));
            }
        }
        Self {
            specs,
            crypto: Crypto {
                legs: srtp,
                scratch: vec![0; 2048],
            },
            rtp,
            rtcp,
            codecs,
            rx: [None, None],
            remote: [None, None],
        }
    }

    fn update(&mut self, u: Update) {
        for (leg, s) in [(Leg::A, u.specs[0]), (Leg::B, u.specs[1])] {
            if let Some(r) = s.remote
                && self.specs[idx(leg)].remote != Some(r)
            {
                self.rtp.set_remote(leg, r);
                self.rtcp
                    .set_remote(leg, SocketAddr::new(r.ip(), r.port().wrapping_add(1)));
            }
        }
        self.specs = u.specs;
        self.codecs = u.codecs;
        if let Some((leg, srtp)) = u.srtp {
            self.crypto.legs[idx(leg)] = srtp;
        }
    }

    async fn run(
        &mut self,
        socks: [SocketPair; 2],
        mut stop: watch::Receiver<bool>,
        mut updates: mpsc::UnboundedReceiver<Update>,
    ) {
        let mut bufs = [[0u8; 2048]; 4];
        loop {
            let [b0, b1, b2, b3] = &mut bufs;
            let (leg, rtcp, got) = tokio::select! {
                r = socks[0].rtp.recv_from(b0) => (Leg::A, false, r),
                r = socks[1].rtp.recv_from(b1) => (Leg::B, false, r),
                r = socks[0].rtcp.recv_from(b2) => (Leg::A, true, r),
                r = socks[1].rtcp.recv_from(b3) => (Leg::B, true, r),
                Some(u) = updates.recv() => {
                    self.update(u);
                    continue;
                }
                _ = stop.changed() => return,
            };
            let Ok((n, from)) = got else { continue };
            let i = idx(leg) + if rtcp { 2 } else { 0 };
            let Some(n) = self.crypto.open(leg, rtcp, &mut bufs[i][..n]) else {
                continue; // SRTP that does not authenticate, or plain RTP on a secure leg
            };
            let packet = &mut bufs[i][..n];
            let t = now();
            if rtcp {
                self.rtcp_stats(leg, packet);
                if let Ok(tx) = self.rtcp.handle_datagram(t, leg, from, packet) {
                    let sock = &socks[idx(tx.via)].rtcp;
                    self.crypto.send(sock, tx.via, true, packet, tx.to).await;
                }
                continue;
            }
            self.rtp_stats(t, leg, packet);
            let Ok(tx) = self.rtp.handle_datagram(t, leg, from, packet) else {
                continue;
            };
            let sock = &socks[idx(tx.via)].rtp;
            match &mut self.codecs {
                None => self.crypto.send(sock, tx.via, false, packet, tx.to).await,
                Some(c) => {
                    for out in c[idx(leg)].process(packet) {
                        self.crypto.send(sock, tx.via, false, out, tx.to).await;
                    }
                }
            }
        }
    }

    fn rtp_stats(&mut self, t: Instant, leg: Leg, packet: &[u8]) {
        if is_rtcp(packet) {
            return;
        }
        let Ok(p) = RtpPacket::parse(packet) else {
            return;
        };
        let rate = self.specs[idx(leg)].codec.descriptor().rtp_clock_rate;
        let s = self.rx[idx(leg)].get_or_insert_with(|| {
            ReceiverStats::new(p.ssrc(), rate, p.sequence(), StatsConfig::default())
        });
        if s.ssrc() != p.ssrc() {
            *s = ReceiverStats::new(p.ssrc(), rate, p.sequence(), StatsConfig::default());
        }
        s.handle_packet(t, p.sequence(), p.timestamp());
    }

    fn rtcp_stats(&mut self, leg: Leg, packet: &[u8]) {
        let Ok(compound) = parse_compound(packet) else {
            return;
        };
        for p in compound.flatten() {
            let (RtcpPacket::SenderReport {
                reports: blocks, ..
            }
            | RtcpPacket::ReceiverReport {
                reports: blocks, ..
            }) = p
            else {
                continue;
            };
            if let Some(b) = blocks.iter().next() {
                self.remote[idx(leg)] = Some(b);
            }
        }
    }

    fn report(&self) -> RelayReport {
        let leg = |i: usize| {
            self.rx[i].as_ref().map(|s| {
                let expected = f64::from(s.expected().max(1));
                let lost = s.cumulative_lost();
                let loss_pct = (lost.max(0) as f64 * 100.0 / expected).min(100.0);
                let jitter_ms = s.mean_jitter_ms();
                LegReport {
                    received: s.received(),
                    lost,
                    media: MediaStats {
                        loss_pct,
                        jitter_ms,
                        mos: quality::mos(self.specs[i].codec, loss_pct, jitter_ms),
                    },
                    remote_report: self.remote[i],
                }
            })
        };
        RelayReport {
            legs: [leg(0), leg(1)],
            relay: self.rtp.stats(),
        }
    }
}

/// The SRTP contexts of both legs and a buffer to protect into.
struct Crypto {
    legs: [LegSrtp; 2],
    scratch: Vec<u8>,
}

impl Crypto {
    /// Unprotects a datagram from `leg` in place: its plain length, or `None` to drop it.
    /// A leg without an inbound key passes datagrams unchanged.
    fn open(&mut self, leg: Leg, rtcp: bool, buf: &mut [u8]) -> Option<usize> {
        match &mut self.legs[idx(leg)].inbound {
            None => Some(buf.len()),
            Some(ctx) if rtcp => ctx.unprotect_rtcp(buf).ok(),
            Some(ctx) => ctx.unprotect_rtp(buf).ok(),
        }
    }

    /// Sends `data` out of leg `via` to `to`, protected with our key when the leg has one.
    async fn send(&mut self, sock: &UdpSocket, via: Leg, rtcp: bool, data: &[u8], to: SocketAddr) {
        let Some(ctx) = &mut self.legs[idx(via)].outbound else {
            let _ = sock.send_to(data, to).await;
            return;
        };
        let Some(buf) = self.scratch.get_mut(..data.len()) else {
            return;
        };
        buf.copy_from_slice(data);
        let sealed = if rtcp {
            ctx.protect_rtcp(&mut self.scratch, data.len())
        } else {
            ctx.protect_rtp(&mut self.scratch, data.len())
        };
        if let Ok(n) = sealed {
            let _ = sock.send_to(&self.scratch[..n], to).await;
        }
    }
}
