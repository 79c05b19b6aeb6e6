//! Limits of a small-community network of systems (the UC module manual's SCN federation,
//! UCM-NET-1/2), checked on a plan of the network before it is deployed:
//! - at most 32 systems and 1000 users by default; with a UC module in the network, at
//!   most 6 systems; with the portal co-hosted on a system, at most 200 users;
//! - at most one portal and one voicemail store of record; secondary voicemail instances
//!   need a store of record to serve.
//!
//! Every violation is reported, not only the first, so a configuration tool can show them all.

/// What a system runs of the voicemail service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Voicemail {
    /// No voicemail.
    #[default]
    None,
    /// The store of record (one per network).
    StoreOfRecord,
    /// A secondary instance (backup, fallback, distributed recorder, UCM-NET-6).
    Secondary,
}

/// Where a system hosts the portal, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Portal {
    /// No portal here.
    #[default]
    None,
    /// On a server of its own.
    Dedicated,
    /// Co-hosted with telephony on this system (caps the network at 200 users).
    CoHosted,
}

/// One system of the network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct System {
    /// Its name.
    pub name: String,
    /// Users configured on it.
    pub users: u32,
    /// Whether it has a UC module.
    pub uc_module: bool,
    /// Portal hosting.
    pub portal: Portal,
    /// Voicemail role.
    pub voicemail: Voicemail,
}

/// The limits (defaults from UCM-NET-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScnLimits {
    /// Systems in a network.
    pub systems: usize,
    /// Users in a network.
    pub users: u32,
    /// Systems when a UC module is part of it.
    pub systems_with_uc_module: usize,
    /// Users when the portal is co-hosted.
    pub users_with_cohosted_portal: u32,
}

impl Default for ScnLimits {
    fn default() -> Self {
        Self {
            systems: 32,
            users: 1000,
            systems_with_uc_module: 6,
            users_with_cohosted_portal: 200,
        }
    }
}

/// A rule the plan breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScnViolation {
    /// More systems than allowed (`limit` depends on the UC-module profile).
    #[error("{count} systems, at most {limit} allowed")]
    TooManySystems {
        /// Systems planned.
        count: usize,
        /// The limit that applies.
        limit: usize,
    },
    /// More users than allowed (`limit` depends on where the portal runs).
    #[error("{count} users, at most {limit} allowed")]
    TooManyUsers {
        /// Users planned.
        count: u32,
        /// The limit that applies.
        limit: u32,
    },
    /// A second portal (UCM-NET-2); names the systems hosting one.
    #[error("more than one portal: {0:?}")]
    SecondPortal(Vec<String>),
    /// A second voicemail store of record (UCM-NET-2).
    #[error("more than one voicemail store of record: {0:?}")]
    SecondVoicemailStore(Vec<String>),
    /// Secondary voicemail without a store of record to serve.
    #[error("secondary voicemail on {0:?} without a store of record")]
    SecondaryWithoutStore(Vec<String>),
}

/// Every rule `systems` breaks under `limits` (empty: the plan is valid).
pub fn validate(systems: &[System], limits: &ScnLimits) -> Vec<ScnViolation> {
    let mut out = Vec::new();
    let with_uc = systems.iter().any(|s| s.uc_module);
    let limit = if with_uc {
        limits.systems_with_uc_module
    } else {
        limits.systems
    };
    if systems.len() > limit {
        out.push(ScnViolation::TooManySystems {
            count: systems.len(),
            limit,
        });
    }
    let users = systems
        .iter()
        .map(|s| s.users)
        .fold(0u32, u32::saturating_add);
    let limit = if systems.iter().any(|s| s.portal == Portal::CoHosted) {
        limits.users_with_cohosted_portal.min(limits.users)
    } else {
        limits.users
    };
    if users > limit {
        out.push(ScnViolation::TooManyUsers {
            count: users,
            limit,
        });
    }
    let names = |f: &dyn Fn(&System) -> bool| -> Vec<String> {
        systems
            .iter()
            .filter(|s| f(s))
            .map(|s| s.name.clone())
            .collect()
    };
    let portals = names(&|s| s.portal != Portal::None);
    if portals.len() > 1 {
        out.push(ScnViolation::SecondPortal(portals));
    }
    let stores = names(&|s| s.voicemail == Voicemail::StoreOfRecord);
    if stores.len() > 1 {
        out.push(ScnViolation::SecondVoicemailStore(stores.clone()));
    }
    let secondaries = names(&|s| s.voicemail == Voicemail::Secondary);
    if stores.is_empty() && !secondaries.is_empty() {
        out.push(ScnViolation::SecondaryWithoutStore(secondaries));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(i: usize, users: u32) -> System {
        System {
            name: format!("ip500-{i}"),
            users,
            ..System::default()
        }
    }

    #[test]
    fn ucm_net_1_system_and_user_limits_follow_the_profile() {
        let l = ScnLimits::default();
        let plain: Vec<System> = (0..32).map(|i| sys(i, 31)).collect();
        assert_eq!(validate(&plain, &l), [], "32 systems, 992 users");
        let mut more = plain;
        more.push(sys(32, 9));
        assert_eq!(
            validate(&more, &l),
            [
                ScnViolation::TooManySystems {
                    count: 33,
                    limit: 32
                },
                ScnViolation::TooManyUsers {
                    count: 1001,
                    limit: 1000
                }
            ]
        );
        // With a UC module: 6 systems at most.
        let mut uc: Vec<System> = (0..7).map(|i| sys(i, 10)).collect();
        uc[0].uc_module = true;
        assert_eq!(
            validate(&uc, &l),
            [ScnViolation::TooManySystems { count: 7, limit: 6 }]
        );
        uc.pop();
        assert_eq!(validate(&uc, &l), []);
        // A co-hosted portal: 200 users at most.
        uc[1].portal = Portal::CoHosted;
        uc[2].users = 160;
        assert_eq!(
            validate(&uc, &l),
            [ScnViolation::TooManyUsers {
                count: 210,
                limit: 200
            }]
        );
        uc[1].portal = Portal::Dedicated;
        assert_eq!(validate(&uc, &l), []);
    }

    #[test]
    fn ucm_net_2_one_portal_and_one_voicemail_store() {
        let l = ScnLimits::default();
        let mut s: Vec<System> = (0..3).map(|i| sys(i, 5)).collect();
        s[0].portal = Portal::Dedicated;
        s[1].portal = Portal::CoHosted;
        s[0].voicemail = Voicemail::StoreOfRecord;
        s[2].voicemail = Voicemail::StoreOfRecord;
        assert_eq!(
            validate(&s, &l),
            [
                ScnViolation::SecondPortal(vec!["ip500-0".into(), "ip500-1".into()]),
                ScnViolation::SecondVoicemailStore(vec!["ip500-0".into(), "ip500-2".into()]),
            ]
        );
        s[1].portal = Portal::None;
        s[2].voicemail = Voicemail::Secondary;
        assert_eq!(validate(&s, &l), [], "a secondary serves the one store");
        s[0].voicemail = Voicemail::None;
        assert_eq!(
            validate(&s, &l),
            [ScnViolation::SecondaryWithoutStore(vec!["ip500-2".into()])]
        );
    }
}
