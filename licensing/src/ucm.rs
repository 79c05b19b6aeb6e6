//! The second licence profile: the Avaya IP Office UC module (UCM-LIC-1..11, `ucm.md` §3).
//!
//! A host system runs either in **licence** mode (Essential Edition → Preferred Edition →
//! additional voicemail ports, and user-profile licences for portal access) or in
//! **subscription** mode (voicemail ports at the module maximum, features per
//! Unified-Communications-User subscription). This module is pure rules; the pool-backed
//! port lease reuses [`crate::Pools`].

use crate::file::Release;
use crate::pool::{Lease, PoolKey, Pools, UserId};

/// Voicemail ports included with Preferred Edition (UCM-LIC-3).
pub const INCLUDED_PORTS: u32 = 4;
/// Port cap when the portal (one-X) runs on the same host (UCM-LIC-4).
pub const PORT_CAP_WITH_PORTAL: u32 = 20;
/// Port cap without the portal (UCM-LIC-4).
pub const PORT_CAP_WITHOUT_PORTAL: u32 = 40;
/// First host major release without the module's virtual Preferred Edition (UCM-LIC-10).
pub const VIRTUAL_PREFERRED_LAST_MAJOR: u16 = 9;

/// The host's licensing mode: exactly one per system (UCM-LIC-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UcmMode {
    /// Licences (Essential, Preferred, ports, profiles).
    Licensed,
    /// Subscriptions from the subscription server.
    Subscription,
}

/// A user's profile on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Basic user (no portal).
    Basic,
    /// Office Worker.
    OfficeWorker,
    /// Teleworker.
    Teleworker,
    /// Power User.
    PowerUser,
    /// Unified Communications User.
    UnifiedCommunicationsUser,
}

impl Profile {
    /// Whether the profile may use the portal at all (UCM-LIC-6).
    pub const fn portal_eligible(self) -> bool {
        !matches!(self, Self::Basic)
    }
}

/// Licence-mode licences of the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UcmLicences {
    /// Essential Edition.
    pub essential: bool,
    /// Preferred Edition (voicemail application + 4 ports).
    pub preferred: bool,
    /// Additional voicemail ports (licences stack).
    pub extra_ports: u32,
    /// Office Worker profile licences.
    pub office_worker: u32,
    /// Teleworker profile licences.
    pub teleworker: u32,
    /// Power User profile licences.
    pub power_user: u32,
    /// Unified Communications User profile licences.
    pub uc_user: u32,
}

/// Why a UCM configuration or action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UcmError {
    /// Preferred Edition without Essential Edition (UCM-LIC-2).
    #[error("Preferred Edition requires Essential Edition")]
    PreferredWithoutEssential,
    /// The host is not yet at the target release (UCM-LIC-9).
    #[error("the host must be upgraded to the target release first")]
    HostNotAtTarget,
    /// The licences are not yet at the target release (UCM-LIC-9).
    #[error("the licences must be upgraded to the target release first")]
    LicencesNotAtTarget,
    /// The licence warning was not acknowledged (UCM-LIC-9).
    #[error("the licence warning was not acknowledged")]
    LicenceWarningNotAcknowledged,
    /// The EULA was not accepted (UCM-LIC-9).
    #[error("the licence agreement was not accepted")]
    EulaNotAccepted,
    /// Not enough voicemail ports free for the lease (UCM-LIC-8).
    #[error("not enough voicemail ports are free")]
    PortsExhausted,
}

impl UcmLicences {
    /// Validates the dependency chain (UCM-LIC-2).
    pub const fn validate(&self) -> Result<(), UcmError> {
        if self.preferred && !self.essential {
            Err(UcmError::PreferredWithoutEssential)
        } else {
            Ok(())
        }
    }

    /// Profile licences for `p`.
    pub const fn profile_count(&self, p: Profile) -> u32 {
        match p {
            Profile::Basic => 0,
            Profile::OfficeWorker => self.office_worker,
            Profile::Teleworker => self.teleworker,
            Profile::PowerUser => self.power_user,
            Profile::UnifiedCommunicationsUser => self.uc_user,
        }
    }
}

/// Where licences apply: one system or a whole federation (UCM-LIC-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A standalone system.
    System(u32),
    /// Every system of a network (SCN / AIN), by network id.
    Network(u32),
}

impl Scope {
    /// Whether licences of this scope gate services on `system`, member of `network`.
    pub const fn covers(self, system: u32, network: Option<u32>) -> bool {
        match (self, network) {
            (Self::System(s), _) => s == system,
            (Self::Network(n), Some(m)) => n == m,
            (Self::Network(_), None) => false,
        }
    }
}

/// A configured user as seen by the portal rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UcmUser {
    /// The user.
    pub id: UserId,
    /// Profile.
    pub profile: Profile,
    /// "Enable one-X Portal services" ticked.
    pub portal_enabled: bool,
    /// Holds a Unified Communications User subscription (subscription mode).
    pub uc_subscription: bool,
}

/// A host system with the UC module.
#[derive(Debug, Clone)]
pub struct UcmHost {
    /// Licence or subscription mode.
    pub mode: UcmMode,
    /// Licences (licence mode).
    pub licences: UcmLicences,
    /// Whether the portal runs on the same host (selects the port cap).
    pub portal_on_host: bool,
    /// The host's release.
    pub release: Release,
    /// A v1 module grants the host a virtual Preferred Edition (before release 10).
    pub module_grants_virtual_preferred: bool,
    ports: Pools,
}

/// Voicemail ports held by one voicemail-server instance; dropping it frees them.
#[derive(Debug)]
#[must_use = "dropping the lease frees the ports"]
pub struct PortLease {
    _ports: Vec<Lease>,
}

impl PortLease {
    /// Number of ports held.
    pub fn ports(&self) -> usize {
        self._ports.len()
    }
}

/// Module state for the host-licence gate (UCM-LIC-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleState {
    /// Services may start.
    Supported,
    /// No service starts (bottom LED red).
    NotSupported,
}

impl UcmHost {
    /// A host.
    pub fn new(
        mode: UcmMode,
        licences: UcmLicences,
        portal_on_host: bool,
        release: Release,
    ) -> Self {
        Self {
            mode,
            licences,
            portal_on_host,
            release,
            module_grants_virtual_preferred: false,
            ports: Pools::new(),
        }
    }

    /// The port cap: 20 with the portal on the host, 40 without (UCM-LIC-4).
    pub const fn port_cap(&self) -> u32 {
        if self.portal_on_host {
            PORT_CAP_WITH_PORTAL
        } else {
            PORT_CAP_WITHOUT_PORTAL
        }
    }

    /// Whether Preferred Edition is in force, counting the legacy virtual one that a v1
    /// module grants only to hosts before release 10 (UCM-LIC-10).
    pub const fn preferred_edition(&self) -> bool {
        (self.licences.preferred && self.licences.essential)
            || (self.module_grants_virtual_preferred
                && self.release.major <= VIRTUAL_PREFERRED_LAST_MAJOR)
    }

    /// Whether the host needs a licence migration: it relied on the virtual Preferred
    /// Edition and now runs release 10 or later (UCM-LIC-10).
    pub const fn migration_needed(&self) -> bool {
        self.module_grants_virtual_preferred
            && !self.licences.preferred
            && self.release.major > VIRTUAL_PREFERRED_LAST_MAJOR
    }

    /// Voicemail ports available (UCM-LIC-3..5): licence mode `min(4 + extra, cap)` with
    /// Preferred Edition (0 without); subscription mode the cap, with no port licences.
    pub fn voicemail_ports(&self) -> u32 {
        match self.mode {
            UcmMode::Subscription => self.port_cap(),
            UcmMode::Licensed if self.preferred_edition() => INCLUDED_PORTS
                .saturating_add(self.licences.extra_ports)
                .min(self.port_cap()),
            UcmMode::Licensed => 0,
        }
    }

    /// Whether UMS e-mail reading and TTS are allowed for `user` (UCM-LIC-5): in
    /// subscription mode only with a UC User subscription; in licence mode with the
    /// voicemail application.
    pub const fn ums_tts_allowed(&self, user: &UcmUser) -> bool {
        match self.mode {
            UcmMode::Subscription => user.uc_subscription,
            UcmMode::Licensed => self.preferred_edition(),
        }
    }

    /// Which users may use the portal (UCM-LIC-5, UCM-LIC-6). In licence mode an eligible,
    /// enabled user gets access while its profile's licence count lasts (in the order
    /// given); in subscription mode a UC User subscription is required.
    pub fn portal_access(&self, users: &[UcmUser]) -> Vec<(UserId, bool)> {
        let mut used = [0u32; 5];
        users
            .iter()
            .map(|u| {
                let ok = match self.mode {
                    UcmMode::Subscription => u.uc_subscription && u.portal_enabled,
                    UcmMode::Licensed => {
                        let slot = u.profile as usize;
                        let fits = u.profile.portal_eligible()
                            && u.portal_enabled
                            && used[slot] < self.licences.profile_count(u.profile);
                        if fits {
                            used[slot] += 1;
                        }
                        fits
                    }
                };
                (u.id, ok)
            })
            .collect()
    }

    /// The host-licence gate (UCM-LIC-7): without the required licence (Preferred
    /// Edition in licence mode) or on an unsupported platform/release, no service starts.
    pub const fn module_state(&self, platform_supported: bool) -> ModuleState {
        let licensed = match self.mode {
            UcmMode::Subscription => true,
            UcmMode::Licensed => self.licences.essential && self.preferred_edition(),
        };
        if licensed && platform_supported {
            ModuleState::Supported
        } else {
            ModuleState::NotSupported
        }
    }

    /// A voicemail-server instance obtains `n` ports while it runs (UCM-LIC-8). Dropping
    /// the lease (instance shut down) frees them for another instance.
    pub fn lease_ports(&self, n: u32) -> Result<PortLease, UcmError> {
        let cap = self.voicemail_ports();
        let key = PoolKey::VoicemailPorts;
        let wanted = vec![(key, cap); usize::try_from(n).unwrap_or(usize::MAX)];
        self.ports
            .acquire_all(&wanted)
            .map(|ports| PortLease { _ports: ports })
            .ok_or(UcmError::PortsExhausted)
    }

    /// Gates an upgrade of the module to `target` (UCM-LIC-9).
    pub fn check_upgrade(
        &self,
        target: Release,
        licences_at_target: bool,
        licence_warning_acknowledged: bool,
        eula_accepted: bool,
    ) -> Result<(), UcmError> {
        if self.release < target {
            return Err(UcmError::HostNotAtTarget);
        }
        if !licences_at_target {
            return Err(UcmError::LicencesNotAtTarget);
        }
        if !licence_warning_acknowledged {
            return Err(UcmError::LicenceWarningNotAcknowledged);
        }
        if !eula_accepted {
            return Err(UcmError::EulaNotAccepted);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lic(preferred: bool, extra: u32) -> UcmLicences {
        UcmLicences {
            essential: true,
            preferred,
            extra_ports: extra,
            ..UcmLicences::default()
        }
    }

    fn host(mode: UcmMode, l: UcmLicences, portal: bool) -> UcmHost {
        UcmHost::new(mode, l, portal, Release::new(11, 1))
    }

    #[test]
    fn ucm_lic_1_modes_are_exclusive_per_system() {
        // One field, one value: a host is in exactly one mode, and the mode decides the
        // port rule even when licences are present.
        let h = host(UcmMode::Subscription, lic(true, 30), false);
        assert_eq!(h.voicemail_ports(), 40);
        let h = host(UcmMode::Licensed, lic(true, 30), false);
        assert_eq!(h.voicemail_ports(), 34);
    }

    #[test]
    fn ucm_lic_2_preferred_requires_essential() {
        let bad = UcmLicences {
            preferred: true,
            ..UcmLicences::default()
        };
        assert_eq!(bad.validate(), Err(UcmError::PreferredWithoutEssential));
        assert_eq!(lic(true, 0).validate(), Ok(()));
        assert!(!host(UcmMode::Licensed, bad, false).preferred_edition());
    }

    #[test]
    fn ucm_lic_3_preferred_gives_four_ports() {
        assert_eq!(
            host(UcmMode::Licensed, lic(true, 0), true).voicemail_ports(),
            4
        );
        assert_eq!(
            host(UcmMode::Licensed, lic(false, 8), true).voicemail_ports(),
            0
        );
    }

    #[test]
    fn ucm_lic_4_ports_stack_and_cap() {
        // The spec's test: 4 + 30 with the portal gives 20; without, 34.
        assert_eq!(
            host(UcmMode::Licensed, lic(true, 30), true).voicemail_ports(),
            20
        );
        assert_eq!(
            host(UcmMode::Licensed, lic(true, 30), false).voicemail_ports(),
            34
        );
        assert_eq!(
            host(UcmMode::Licensed, lic(true, 99), false).voicemail_ports(),
            40
        );
    }

    #[test]
    fn ucm_lic_5_subscription_mode() {
        let h = host(UcmMode::Subscription, UcmLicences::default(), true);
        assert_eq!(h.voicemail_ports(), 20, "cap, with no port licences");
        let mut u = UcmUser {
            id: UserId(1),
            profile: Profile::Basic,
            portal_enabled: true,
            uc_subscription: false,
        };
        assert!(!h.ums_tts_allowed(&u));
        assert_eq!(h.portal_access(&[u]), vec![(UserId(1), false)]);
        u.uc_subscription = true;
        assert!(h.ums_tts_allowed(&u));
        assert_eq!(h.portal_access(&[u]), vec![(UserId(1), true)]);
    }

    #[test]
    fn ucm_lic_6_portal_eligibility_and_profile_counts() {
        let l = UcmLicences {
            power_user: 1,
            teleworker: 2,
            ..lic(true, 0)
        };
        let h = host(UcmMode::Licensed, l, true);
        let user = |id, profile, portal_enabled| UcmUser {
            id: UserId(id),
            profile,
            portal_enabled,
            uc_subscription: false,
        };
        let users = [
            user(1, Profile::PowerUser, true),
            user(2, Profile::PowerUser, true),   // over the count
            user(3, Profile::Teleworker, false), // not enabled
            user(4, Profile::Basic, true),       // not eligible
            user(5, Profile::Teleworker, true),
            user(6, Profile::OfficeWorker, true), // no licence
        ];
        let got: Vec<bool> = h.portal_access(&users).into_iter().map(|p| p.1).collect();
        assert_eq!(got, vec![true, false, false, false, true, false]);
    }

    #[test]
    fn ucm_lic_7_host_licence_gate() {
        assert_eq!(
            host(UcmMode::Licensed, lic(true, 0), true).module_state(true),
            ModuleState::Supported
        );
        assert_eq!(
            host(UcmMode::Licensed, lic(false, 0), true).module_state(true),
            ModuleState::NotSupported
        );
        assert_eq!(
            host(UcmMode::Licensed, lic(true, 0), true).module_state(false),
            ModuleState::NotSupported
        );
    }

    #[test]
    fn ucm_lic_8_ports_leased_and_released() {
        let h = host(UcmMode::Licensed, lic(true, 0), true);
        let old = h.lease_ports(4).unwrap();
        assert_eq!(old.ports(), 4);
        assert_eq!(h.lease_ports(1).err(), Some(UcmError::PortsExhausted));
        drop(old); // the old voicemail server stops
        assert_eq!(h.lease_ports(4).unwrap().ports(), 4);
    }

    #[test]
    fn ucm_lic_9_upgrade_gating() {
        let h = host(UcmMode::Licensed, lic(true, 0), true);
        let target = Release::new(11, 1);
        assert_eq!(
            h.check_upgrade(Release::new(12, 0), true, true, true),
            Err(UcmError::HostNotAtTarget)
        );
        assert_eq!(
            h.check_upgrade(target, false, true, true),
            Err(UcmError::LicencesNotAtTarget)
        );
        assert_eq!(
            h.check_upgrade(target, true, false, true),
            Err(UcmError::LicenceWarningNotAcknowledged)
        );
        assert_eq!(
            h.check_upgrade(target, true, true, false),
            Err(UcmError::EulaNotAccepted)
        );
        assert_eq!(h.check_upgrade(target, true, true, true), Ok(()));
    }

    #[test]
    fn ucm_lic_10_virtual_preferred_only_before_release_10() {
        let mut h = UcmHost::new(UcmMode::Licensed, lic(false, 0), true, Release::new(9, 1));
        h.module_grants_virtual_preferred = true;
        assert!(h.preferred_edition());
        assert_eq!(h.voicemail_ports(), 4);
        assert!(!h.migration_needed());
        h.release = Release::new(10, 0);
        assert!(!h.preferred_edition());
        assert!(h.migration_needed());
        h.licences.preferred = true;
        assert!(h.preferred_edition());
        assert!(!h.migration_needed());
    }

    #[test]
    fn ucm_lic_11_system_and_network_scope() {
        assert!(Scope::System(7).covers(7, None));
        assert!(Scope::System(7).covers(7, Some(1)));
        assert!(!Scope::System(7).covers(8, Some(1)));
        assert!(Scope::Network(1).covers(8, Some(1)));
        assert!(!Scope::Network(1).covers(8, Some(2)));
        assert!(!Scope::Network(1).covers(8, None));
    }
}
