//! Media-resource budget of one media-server node (MiVoice Tab. 11/12).
//!
//! Every media session asks the budget first; a request beyond a limit gets a
//! typed [`Refusal`] naming the limit, so the PBX can raise the right event
//! (channel exhaustion and licence exhaustion are different refusals,
//! MV2-42). Limits are [`BudgetConfig`] data with the seed's numbers as
//! defaults:
//!
//! | limit | default | requirement |
//! |---|---|---|
//! | simultaneous connections (a relayed leg costs 2) | 250 | MV-36 |
//! | active conferences (3-/6-party, intrusion, silent intrusion) | 10 | MV-37 |
//! | call-waiting + DTMF sender + DTMF receiver pool | 400 | MV-38 |
//! | recording / voicemail / VM+recording / all audio channels | 8 / 16 / 16 / 46 | MV-39 |
//! | G.711 / G.729 VoIP channels (separate counters) | 250 / 50 | MV-43 |
//! | Secure VoIP (SRTP) only when licensed; same limits | switch | MV-40 |
//! | T.38 FoIP channels on this node | 0 | MV-41, MV2-43 |
//! | tone receivers, FSK, CAS: satellites only | refused | MV-41 |
//! | media switch must be operational | state | MV2-45 |
//!
//! The budget is sans-IO bookkeeping: [`MediaBudget::allocate`] returns a
//! [`Grant`] or a refusal; [`MediaBudget::release`] returns the resources;
//! [`MediaBudget::release_all`] tears every session down (service restart,
//! host shutdown: UCM-RTP-4/5) and queues one [`BudgetEvent`] per session
//! so the call side is notified.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use thiserror::Error;

/// Limits of one node. `Default` is the seed's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Simultaneous media connections (MV-36).
    pub connections: u32,
    /// Connections one relayed ("indirect switching") leg costs (MV-36).
    pub relay_cost: u32,
    /// Active conferences, intrusions included (MV-37; decision A2: instances, not legs).
    pub conferences: u32,
    /// Parties per conference (6-party is the seed's largest).
    pub conference_parties: u32,
    /// Shared pool of call-waiting generators, DTMF senders and receivers (MV-38).
    pub tone_pool: u32,
    /// Recording channels (MV-39).
    pub recording: u32,
    /// Voicemail channels (MV-39).
    pub voicemail: u32,
    /// Voicemail + recording channels together (MV-39).
    pub voicemail_and_recording: u32,
    /// All audio-service channels (VM, IVR, queue announcement, recording, bridge) (MV-39).
    pub audio: u32,
    /// Voicemail ports of a UC module, when one serves voicemail (UCM-RTP-1: 4/20/40).
    pub voicemail_ports: Option<u32>,
    /// G.711 channels (MV-43).
    pub g711: u32,
    /// G.729 channels, enforced independently (MV-43).
    pub g729: u32,
    /// Licensed VoIP channels, if licence-limited (MV2-42).
    pub voip_licences: Option<u32>,
    /// Whether Secure VoIP is licensed on this node (MV-40).
    pub secure_voip_licensed: bool,
    /// T.38 channels on this node (0 on the virtual appliance: MV-41, MV2-43).
    pub foip: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            connections: 250,
            relay_cost: 2,
            conferences: 10,
            conference_parties: 6,
            tone_pool: 400,
            recording: 8,
            voicemail: 16,
            voicemail_and_recording: 16,
            audio: 46,
            voicemail_ports: None,
            g711: 250,
            g729: 50,
            voip_licences: None,
            secure_voip_licensed: false,
            foip: 0,
        }
    }
}

/// A VoIP codec family with its own channel counter (MV-43).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VoipCodec {
    /// G.711 (and other codecs counted like it).
    G711,
    /// G.729.
    G729,
}

/// A tone resource from the shared pool (MV-38).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToneResource {
    /// Call-waiting tone generator.
    CallWaiting,
    /// DTMF sender.
    DtmfSender,
    /// DTMF receiver.
    DtmfReceiver,
    /// Permanent DTMF receiver for an integrated mobile/external phone (MV2-44).
    DtmfReceiverForMobile,
}

/// An audio service (MV-39).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AudioService {
    /// Voicemail record/playback.
    Voicemail,
    /// Call recording.
    Recording,
    /// IVR / auto attendant.
    Ivr,
    /// Queue with announcement.
    QueueAnnouncement,
    /// Announcement with audio file / intercom with audio file.
    AnnouncementWithFile,
    /// Conference bridge (dial-in).
    ConferenceBridge,
}

/// What a session needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaRequest {
    /// A point-to-point connection (network↔terminal, terminal↔terminal).
    Connection {
        /// Relayed through the media server (costs `relay_cost`).
        relayed: bool,
        /// The codec channel it occupies, if transcoded/terminated here.
        codec: Option<VoipCodec>,
        /// SRTP on this leg.
        secure: bool,
    },
    /// A conference of `parties` legs.
    Conference {
        /// Number of parties.
        parties: u32,
    },
    /// Intrusion (barge-in) into a two-party call; silent = no tone (MV-37).
    Intrusion {
        /// Silent intrusion.
        silent: bool,
    },
    /// A tone resource from the shared pool.
    Tone(ToneResource),
    /// An audio service channel.
    Audio(AudioService),
    /// Music on hold or the announcement service (own resources, connection only).
    MusicOrAnnouncement,
    /// A T.38 fax channel.
    Fax,
    /// A function that exists only on satellites (MV-41).
    SatelliteOnly(SatelliteFunction),
}

/// Media functions the virtual node does not provide (MV-41): they live on
/// satellites, so requests for them are refused rather than faked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SatelliteFunction {
    /// Dial-tone, busy-tone and ringing-signal receivers.
    ToneReceiver,
    /// FSK transmitter/receiver.
    Fsk,
    /// CAS transmitter/receiver (PRI-E1).
    Cas,
}

/// Commissioning state of the node's media switch (MV2-45).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MediaSwitchState {
    /// Not enabled.
    Disabled,
    /// Enabled but not yet in a VoIP mode / not restarted.
    Enabled,
    /// Enabled, in VoIP mode, restarted: status "Operational".
    #[default]
    Operational,
}

/// Why a request was refused. Each names the exhausted limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The connection budget (MV-36).
    #[error("media connections exhausted ({available} of {limit} free, {needed} needed)")]
    Connections {
        /// Free connections.
        available: u32,
        /// Configured limit.
        limit: u32,
        /// Connections the request needed.
        needed: u32,
    },
    /// Too many active conferences (MV-37).
    #[error("active conferences exhausted (limit {limit})")]
    Conferences {
        /// Configured limit.
        limit: u32,
    },
    /// More parties than a conference supports.
    #[error("conference of {parties} exceeds {limit} parties")]
    ConferenceSize {
        /// Requested parties.
        parties: u32,
        /// Configured maximum.
        limit: u32,
    },
    /// The shared tone pool (MV-38).
    #[error("tone/DTMF pool exhausted (limit {limit})")]
    TonePool {
        /// Configured limit.
        limit: u32,
    },
    /// No DTMF receiver for an integrated mobile phone (MV2-44, `no_dtmf_receiver_for_mobile`).
    #[error("no DTMF receiver available for mobile integration")]
    NoDtmfReceiverForMobile,
    /// An audio-channel limit (MV-39, UCM-RTP-1).
    #[error("audio channels exhausted: {limit:?}")]
    AudioChannels {
        /// Which limit.
        limit: AudioLimit,
        /// Its configured value.
        value: u32,
    },
    /// Codec channels on the node exhausted (MV-43; MV2-42 `insufficient_voip_channels`, normal severity).
    #[error("{codec:?} channels exhausted ({available} available)")]
    VoipChannels {
        /// Codec family.
        codec: VoipCodec,
        /// Channels available on the node.
        available: u32,
    },
    /// Licensed VoIP channels exhausted (MV2-42 `voip_channel_licences_insufficient`, important severity).
    #[error("VoIP channel licences exhausted ({licensed} licensed)")]
    VoipLicences {
        /// Licensed channel count.
        licensed: u32,
    },
    /// SRTP requested without a Secure VoIP licence on this node (MV-40).
    #[error("Secure VoIP is not licensed on this node")]
    SecureVoipNotLicensed,
    /// No FoIP (T.38) channel (MV-41, MV2-43 `insufficient_foip_channels`).
    #[error("no FoIP channel ({available} on this node)")]
    FoipChannels {
        /// FoIP channels on the node.
        available: u32,
    },
    /// The function exists only on satellites (MV-41).
    #[error("{0:?} is not available on this node (satellites only)")]
    NotOnThisNode(SatelliteFunction),
    /// The media switch is not operational (MV2-45).
    #[error("media switch not operational ({0:?})")]
    MediaSwitch(MediaSwitchState),
    /// The media service is stopping or stopped (UCM-RTP-4/5).
    #[error("media service is shutting down")]
    ShuttingDown,
}

impl Refusal {
    /// The event-catalogue name the PBX should raise for this refusal, where the seed names one.
    pub fn event_name(&self) -> Option<&'static str> {
        match self {
            Self::VoipChannels { .. } => Some("insufficient_voip_channels"),
            Self::VoipLicences { .. } => Some("voip_channel_licences_insufficient"),
            Self::FoipChannels { .. } => Some("insufficient_foip_channels"),
            Self::NoDtmfReceiverForMobile => Some("no_dtmf_receiver_for_mobile"),
            _ => None,
        }
    }
}

/// The audio-channel limits of MV-39 / UCM-RTP-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioLimit {
    /// Recording channels.
    Recording,
    /// Voicemail channels.
    Voicemail,
    /// Voicemail + recording.
    VoicemailAndRecording,
    /// All audio services.
    Audio,
    /// UC-module voicemail ports.
    VoicemailPorts,
}

/// A granted allocation; return it with [`MediaBudget::release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant(u64);

/// Why sessions were torn down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TeardownReason {
    /// The voicemail/media service restarts (TTS install, forced stop: UCM-RTP-4).
    ServiceRestart,
    /// The host shuts down (UCM-RTP-5).
    Shutdown,
}

/// Events for the call side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetEvent {
    /// A session's resources were released by a teardown; end that call leg.
    Released {
        /// The session.
        grant: Grant,
        /// Why.
        reason: TeardownReason,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Usage {
    connections: u32,
    conferences: u32,
    tones: u32,
    recording: u32,
    voicemail: u32,
    audio: u32,
    g711: u32,
    g729: u32,
    foip: u32,
}

impl Usage {
    fn add(&mut self, o: &Self) {
        self.connections += o.connections;
        self.conferences += o.conferences;
        self.tones += o.tones;
        self.recording += o.recording;
        self.voicemail += o.voicemail;
        self.audio += o.audio;
        self.g711 += o.g711;
        self.g729 += o.g729;
        self.foip += o.foip;
    }

    fn sub(&mut self, o: &Self) {
        self.connections -= o.connections;
        self.conferences -= o.conferences;
        self.tones -= o.tones;
        self.recording -= o.recording;
        self.voicemail -= o.voicemail;
        self.audio -= o.audio;
        self.g711 -= o.g711;
        self.g729 -= o.g729;
        self.foip -= o.foip;
    }
}

/// A read-only view of current use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetSnapshot {
    /// Connections in use.
    pub connections: u32,
    /// Active conferences.
    pub conferences: u32,
    /// Tone-pool resources in use.
    pub tones: u32,
    /// Recording channels in use.
    pub recording: u32,
    /// Voicemail channels in use.
    pub voicemail: u32,
    /// Audio channels in use.
    pub audio: u32,
    /// G.711 channels in use.
    pub g711: u32,
    /// G.729 channels in use.
    pub g729: u32,
    /// Sessions held.
    pub sessions: usize,
}

/// The budget of one node.
#[derive(Debug)]
pub struct MediaBudget {
    config: BudgetConfig,
    used: Usage,
    grants: HashMap<Grant, Usage>,
    next: u64,
    stopping: bool,
    switch: MediaSwitchState,
    events: VecDeque<BudgetEvent>,
}

impl MediaBudget {
    /// A budget with `config`.
    pub fn new(config: BudgetConfig) -> Self {
        Self {
            config,
            used: Usage::default(),
            grants: HashMap::new(),
            next: 1,
            stopping: false,
            switch: MediaSwitchState::default(),
            events: VecDeque::new(),
        }
    }

    /// Sets the media switch's commissioning state (MV2-45); only an
    /// operational switch grants media resources.
    pub fn set_media_switch(&mut self, state: MediaSwitchState) {
        self.switch = state;
    }

    /// The limits.
    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// Switches the Secure VoIP licence (MV-40; the PBX's licensing decides).
    pub fn set_secure_voip_licensed(&mut self, licensed: bool) {
        self.config.secure_voip_licensed = licensed;
    }

    /// Sets the licensed VoIP channel count (MV2-42).
    pub fn set_voip_licences(&mut self, licensed: Option<u32>) {
        self.config.voip_licences = licensed;
    }

    /// Current use.
    pub fn snapshot(&self) -> BudgetSnapshot {
        let u = self.used;
        BudgetSnapshot {
            connections: u.connections,
            conferences: u.conferences,
            tones: u.tones,
            recording: u.recording,
            voicemail: u.voicemail,
            audio: u.audio,
            g711: u.g711,
            g729: u.g729,
            sessions: self.grants.len(),
        }
    }

    fn cost(&self, req: &MediaRequest) -> Result<Usage, Refusal> {
        let c = &self.config;
        let mut u = Usage::default();
        match *req {
            MediaRequest::Connection {
                relayed,
                codec,
                secure,
            } => {
                if secure && !c.secure_voip_licensed {
                    return Err(Refusal::SecureVoipNotLicensed);
                }
                u.connections = if relayed { c.relay_cost } else { 1 };
                match codec {
                    Some(VoipCodec::G711) => u.g711 = 1,
                    Some(VoipCodec::G729) => u.g729 = 1,
                    None => {}
                }
            }
            MediaRequest::Conference { parties } => {
                if parties > c.conference_parties || parties < 2 {
                    return Err(Refusal::ConferenceSize {
                        parties,
                        limit: c.conference_parties,
                    });
                }
                u.conferences = 1;
                u.connections = parties;
            }
            MediaRequest::Intrusion { .. } => {
                u.conferences = 1;
                u.connections = 3;
            }
            MediaRequest::Tone(_) => u.tones = 1,
            MediaRequest::Audio(service) => {
                u.connections = 1;
                u.audio = 1;
                match service {
                    AudioService::Voicemail => u.voicemail = 1,
                    AudioService::Recording => u.recording = 1,
                    _ => {}
                }
            }
            MediaRequest::MusicOrAnnouncement => u.connections = 1,
            MediaRequest::Fax => u.foip = 1,
            MediaRequest::SatelliteOnly(f) => return Err(Refusal::NotOnThisNode(f)),
        }
        Ok(u)
    }

    fn check(&self, req: &MediaRequest, need: &Usage) -> Result<(), Refusal> {
        let c = &self.config;
        let mut after = self.used;
        after.add(need);
        if after.foip > c.foip {
            return Err(Refusal::FoipChannels {
                available: c.foip.saturating_sub(self.used.foip),
            });
        }
        if after.tones > c.tone_pool {
            return Err(match req {
                MediaRequest::Tone(ToneResource::DtmfReceiverForMobile) => {
                    Refusal::NoDtmfReceiverForMobile
                }
                _ => Refusal::TonePool { limit: c.tone_pool },
            });
        }
        if after.conferences > c.conferences {
            return Err(Refusal::Conferences {
                limit: c.conferences,
            });
        }
        let audio_checks = [
            (after.recording, c.recording, AudioLimit::Recording),
            (after.voicemail, c.voicemail, AudioLimit::Voicemail),
            (
                after.voicemail + after.recording,
                c.voicemail_and_recording,
                AudioLimit::VoicemailAndRecording,
            ),
            (after.audio, c.audio, AudioLimit::Audio),
            (
                after.voicemail,
                c.voicemail_ports.unwrap_or(u32::MAX),
                AudioLimit::VoicemailPorts,
            ),
        ];
        for (value, limit, which) in audio_checks {
            if value > limit {
                return Err(Refusal::AudioChannels {
                    limit: which,
                    value: limit,
                });
            }
        }
        // Channel exhaustion first, then licences: distinct refusals (MV2-42).
        if after.g711 > c.g711 {
            return Err(Refusal::VoipChannels {
                codec: VoipCodec::G711,
                available: c.g711.saturating_sub(self.used.g711),
            });
        }
        if after.g729 > c.g729 {
            return Err(Refusal::VoipChannels {
                codec: VoipCodec::G729,
                available: c.g729.saturating_sub(self.used.g729),
            });
        }
        if let Some(licensed) = c.voip_licences
            && after.g711 + after.g729 > licensed
            && need.g711 + need.g729 > 0
        {
            return Err(Refusal::VoipLicences { licensed });
        }
        if after.connections > c.connections {
            return Err(Refusal::Connections {
                available: c.connections.saturating_sub(self.used.connections),
                limit: c.connections,
                needed: need.connections,
            });
        }
        Ok(())
    }

    /// Reserves what `req` needs, or refuses naming the exhausted limit.
    pub fn allocate(&mut self, req: MediaRequest) -> Result<Grant, Refusal> {
        if self.stopping {
            return Err(Refusal::ShuttingDown);
        }
        if self.switch != MediaSwitchState::Operational {
            return Err(Refusal::MediaSwitch(self.switch));
        }
        let need = self.cost(&req)?;
        self.check(&req, &need)?;
        self.used.add(&need);
        let g = Grant(self.next);
        self.next += 1;
        self.grants.insert(g, need);
        tracing::trace!(grant = g.0, ?req, "media budget grant");
        Ok(g)
    }

    /// Returns a grant's resources; false if it was unknown (already released).
    pub fn release(&mut self, grant: Grant) -> bool {
        match self.grants.remove(&grant) {
            Some(u) => {
                self.used.sub(&u);
                true
            }
            None => false,
        }
    }

    /// Releases every session (UCM-RTP-4 service restart, UCM-RTP-5 shutdown),
    /// queuing a [`BudgetEvent::Released`] for each. After a shutdown, new
    /// requests are refused until [`resume`](Self::resume).
    pub fn release_all(&mut self, reason: TeardownReason) -> usize {
        let mut grants: Vec<Grant> = self.grants.keys().copied().collect();
        grants.sort();
        for g in &grants {
            self.events
                .push_back(BudgetEvent::Released { grant: *g, reason });
        }
        self.grants.clear();
        self.used = Usage::default();
        self.stopping = reason == TeardownReason::Shutdown;
        grants.len()
    }

    /// Accepts requests again after a shutdown.
    pub fn resume(&mut self) {
        self.stopping = false;
    }

    /// The next event for the call side.
    pub fn poll_event(&mut self) -> Option<BudgetEvent> {
        self.events.pop_front()
    }
}

/// Why a recording cannot be stored (UCM-RTP-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StorageRefusal {
    /// The system total (messages + prompts + announcements) would be exceeded.
    #[error("voice storage full ({remaining:?} left)")]
    Total {
        /// Time left in total.
        remaining: Duration,
    },
    /// The mailbox's own limit would be exceeded.
    #[error("mailbox storage full ({remaining:?} left)")]
    Mailbox {
        /// Time left in the mailbox.
        remaining: Duration,
    },
}

/// Voice-storage accounting by recorded duration (UCM-RTP-2: 800 h total,
/// 120 h per individual mailbox).
#[derive(Clone, Debug)]
pub struct StorageLedger {
    total_limit: Duration,
    mailbox_limit: Duration,
    total: Duration,
    mailboxes: HashMap<u32, Duration>,
}

impl Default for StorageLedger {
    fn default() -> Self {
        Self::new(
            Duration::from_secs(800 * 3600),
            Duration::from_secs(120 * 3600),
        )
    }
}

impl StorageLedger {
    /// A ledger with the given limits.
    pub fn new(total_limit: Duration, mailbox_limit: Duration) -> Self {
        Self {
            total_limit,
            mailbox_limit,
            total: Duration::ZERO,
            mailboxes: HashMap::new(),
        }
    }

    /// Time a recording for `mailbox` (None: prompts/announcements) may still last.
    pub fn remaining(&self, mailbox: Option<u32>) -> Duration {
        let total = self.total_limit.saturating_sub(self.total);
        match mailbox {
            Some(m) => total.min(
                self.mailbox_limit
                    .saturating_sub(self.mailboxes.get(&m).copied().unwrap_or_default()),
            ),
            None => total,
        }
    }

    /// Accounts a finished recording (the duration hook of the recorder).
    pub fn record(&mut self, mailbox: Option<u32>, length: Duration) -> Result<(), StorageRefusal> {
        let total_left = self.total_limit.saturating_sub(self.total);
        if length > total_left {
            return Err(StorageRefusal::Total {
                remaining: total_left,
            });
        }
        if let Some(m) = mailbox {
            let used = self.mailboxes.get(&m).copied().unwrap_or_default();
            let left = self.mailbox_limit.saturating_sub(used);
            if length > left {
                return Err(StorageRefusal::Mailbox { remaining: left });
            }
            self.mailboxes.insert(m, used + length);
        }
        self.total += length;
        Ok(())
    }

    /// Frees the duration of a deleted recording.
    pub fn delete(&mut self, mailbox: Option<u32>, length: Duration) {
        self.total = self.total.saturating_sub(length);
        if let Some(m) = mailbox
            && let Some(u) = self.mailboxes.get_mut(&m)
        {
            *u = u.saturating_sub(length);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p2p(relayed: bool, codec: Option<VoipCodec>) -> MediaRequest {
        MediaRequest::Connection {
            relayed,
            codec,
            secure: false,
        }
    }

    #[test]
    fn mv36_250_connections_relay_costs_two() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        for _ in 0..124 {
            b.allocate(p2p(true, None)).expect("fits");
        }
        assert_eq!(b.snapshot().connections, 248);
        b.allocate(p2p(false, None)).expect("249");
        assert_eq!(
            b.allocate(p2p(true, None)),
            Err(Refusal::Connections {
                available: 1,
                limit: 250,
                needed: 2
            })
        );
        b.allocate(p2p(false, None)).expect("250");
        assert!(matches!(
            b.allocate(p2p(false, None)),
            Err(Refusal::Connections { .. })
        ));
    }

    #[test]
    fn mv43_g729_limit_is_independent_of_g711() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        for _ in 0..50 {
            b.allocate(p2p(false, Some(VoipCodec::G729))).expect("fits");
        }
        let r = b.allocate(p2p(false, Some(VoipCodec::G729)));
        assert_eq!(
            r,
            Err(Refusal::VoipChannels {
                codec: VoipCodec::G729,
                available: 0
            })
        );
        assert_eq!(
            r.err().and_then(|e| e.event_name()),
            Some("insufficient_voip_channels")
        );
        // G.711 still available.
        b.allocate(p2p(false, Some(VoipCodec::G711)))
            .expect("G.711 independent");
    }

    #[test]
    fn mv2_42_channel_and_licence_exhaustion_are_distinct() {
        let mut b = MediaBudget::new(BudgetConfig {
            voip_licences: Some(3),
            ..BudgetConfig::default()
        });
        for _ in 0..3 {
            b.allocate(p2p(false, Some(VoipCodec::G711)))
                .expect("licensed");
        }
        let r = b.allocate(p2p(false, Some(VoipCodec::G711)));
        assert_eq!(r, Err(Refusal::VoipLicences { licensed: 3 }));
        assert_eq!(
            r.err().and_then(|e| e.event_name()),
            Some("voip_channel_licences_insufficient")
        );
        // A non-VoIP request is unaffected by the licence count.
        b.allocate(p2p(false, None)).expect("no codec channel");
    }

    #[test]
    fn mv37_ten_conferences_and_intrusion() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        for i in 0..10 {
            let req = if i % 2 == 0 {
                MediaRequest::Conference { parties: 6 }
            } else {
                MediaRequest::Intrusion { silent: i == 1 }
            };
            b.allocate(req).expect("fits");
        }
        assert_eq!(
            b.allocate(MediaRequest::Conference { parties: 3 }),
            Err(Refusal::Conferences { limit: 10 })
        );
        assert_eq!(
            MediaBudget::new(BudgetConfig::default())
                .allocate(MediaRequest::Conference { parties: 7 }),
            Err(Refusal::ConferenceSize {
                parties: 7,
                limit: 6
            })
        );
    }

    #[test]
    fn mv38_shared_tone_pool_and_mv2_44_mobile_receiver() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        let kinds = [
            ToneResource::CallWaiting,
            ToneResource::DtmfSender,
            ToneResource::DtmfReceiver,
        ];
        for i in 0..400 {
            b.allocate(MediaRequest::Tone(kinds[i % 3])).expect("pool");
        }
        assert_eq!(
            b.allocate(MediaRequest::Tone(ToneResource::DtmfSender)),
            Err(Refusal::TonePool { limit: 400 })
        );
        let r = b.allocate(MediaRequest::Tone(ToneResource::DtmfReceiverForMobile));
        assert_eq!(r, Err(Refusal::NoDtmfReceiverForMobile));
        assert_eq!(
            r.err().and_then(|e| e.event_name()),
            Some("no_dtmf_receiver_for_mobile")
        );
    }

    #[test]
    fn mv39_audio_channel_limits() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        for _ in 0..8 {
            b.allocate(MediaRequest::Audio(AudioService::Recording))
                .expect("rec");
        }
        assert_eq!(
            b.allocate(MediaRequest::Audio(AudioService::Recording)),
            Err(Refusal::AudioChannels {
                limit: AudioLimit::Recording,
                value: 8
            })
        );
        for _ in 0..8 {
            b.allocate(MediaRequest::Audio(AudioService::Voicemail))
                .expect("vm");
        }
        // VM alone allows 16, but VM + recording is capped at 16.
        assert_eq!(
            b.allocate(MediaRequest::Audio(AudioService::Voicemail)),
            Err(Refusal::AudioChannels {
                limit: AudioLimit::VoicemailAndRecording,
                value: 16
            })
        );
        for _ in 0..30 {
            b.allocate(MediaRequest::Audio(AudioService::Ivr))
                .expect("ivr");
        }
        assert_eq!(
            b.allocate(MediaRequest::Audio(AudioService::QueueAnnouncement)),
            Err(Refusal::AudioChannels {
                limit: AudioLimit::Audio,
                value: 46
            })
        );
        // MoH and the announcement service use their own resources (MV-39).
        b.allocate(MediaRequest::MusicOrAnnouncement)
            .expect("own resources");
    }

    #[test]
    fn mv40_secure_voip_gated_with_same_limits() {
        let mut b = MediaBudget::new(BudgetConfig {
            g729: 2,
            ..BudgetConfig::default()
        });
        let secure = MediaRequest::Connection {
            relayed: false,
            codec: Some(VoipCodec::G729),
            secure: true,
        };
        assert_eq!(b.allocate(secure), Err(Refusal::SecureVoipNotLicensed));
        b.set_secure_voip_licensed(true);
        b.allocate(secure).expect("licensed");
        b.allocate(secure).expect("licensed");
        assert!(matches!(
            b.allocate(secure),
            Err(Refusal::VoipChannels { .. })
        ));
    }

    #[test]
    fn mv41_mv2_43_no_foip_on_the_virtual_node() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        let r = b.allocate(MediaRequest::Fax);
        assert_eq!(r, Err(Refusal::FoipChannels { available: 0 }));
        assert_eq!(
            r.err().and_then(|e| e.event_name()),
            Some("insufficient_foip_channels")
        );
    }

    #[test]
    fn mv41_satellite_functions_and_mv2_45_switch_state() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        for f in [
            SatelliteFunction::ToneReceiver,
            SatelliteFunction::Fsk,
            SatelliteFunction::Cas,
        ] {
            assert_eq!(
                b.allocate(MediaRequest::SatelliteOnly(f)),
                Err(Refusal::NotOnThisNode(f))
            );
        }
        b.set_media_switch(MediaSwitchState::Enabled);
        assert_eq!(
            b.allocate(p2p(false, None)),
            Err(Refusal::MediaSwitch(MediaSwitchState::Enabled))
        );
        b.set_media_switch(MediaSwitchState::Operational);
        b.allocate(p2p(false, None)).expect("operational");
    }

    #[test]
    fn ucm_rtp_1_voicemail_ports() {
        let mut b = MediaBudget::new(BudgetConfig {
            voicemail_ports: Some(4),
            ..BudgetConfig::default()
        });
        for _ in 0..4 {
            b.allocate(MediaRequest::Audio(AudioService::Voicemail))
                .expect("port");
        }
        assert_eq!(
            b.allocate(MediaRequest::Audio(AudioService::Voicemail)),
            Err(Refusal::AudioChannels {
                limit: AudioLimit::VoicemailPorts,
                value: 4
            })
        );
    }

    #[test]
    fn ucm_rtp_4_5_teardown_releases_everything_and_notifies() {
        let mut b = MediaBudget::new(BudgetConfig::default());
        let g1 = b
            .allocate(MediaRequest::Audio(AudioService::Voicemail))
            .expect("ok");
        let g2 = b.allocate(p2p(true, Some(VoipCodec::G711))).expect("ok");
        assert!(b.release(g2));
        assert!(!b.release(g2));
        let g3 = b.allocate(p2p(false, None)).expect("ok");
        assert_eq!(b.release_all(TeardownReason::ServiceRestart), 2);
        let evs: Vec<_> = std::iter::from_fn(|| b.poll_event()).collect();
        assert_eq!(
            evs,
            [
                BudgetEvent::Released {
                    grant: g1,
                    reason: TeardownReason::ServiceRestart
                },
                BudgetEvent::Released {
                    grant: g3,
                    reason: TeardownReason::ServiceRestart
                },
            ]
        );
        assert_eq!(b.snapshot(), BudgetSnapshot::default());
        b.allocate(p2p(false, None))
            .expect("restart accepts new sessions");
        b.release_all(TeardownReason::Shutdown);
        assert_eq!(b.allocate(p2p(false, None)), Err(Refusal::ShuttingDown));
        b.resume();
        b.allocate(p2p(false, None)).expect("resumed");
    }

    #[test]
    fn ucm_rtp_2_storage_by_recorded_duration() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        let mut s = StorageLedger::default();
        s.record(Some(1), h(119)).expect("fits");
        assert_eq!(s.remaining(Some(1)), h(1));
        assert_eq!(
            s.record(Some(1), h(2)),
            Err(StorageRefusal::Mailbox { remaining: h(1) })
        );
        s.record(None, h(600)).expect("prompts");
        s.record(Some(2), h(81)).expect("fits");
        assert_eq!(s.remaining(None), Duration::ZERO);
        assert!(matches!(
            s.record(Some(3), h(1)),
            Err(StorageRefusal::Total { .. })
        ));
        s.delete(Some(1), h(10));
        assert_eq!(s.remaining(Some(3)), h(10));
    }
}
