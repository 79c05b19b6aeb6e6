//! Shared harness: a vendor key, licence files, a virtual wall clock.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime};

use pbxkit_licensing::{
    Binding, Config, Date, Eid, Event, Identity, LicenceFile, LicenceType, Licensing,
    PersistentState, Platform, Release, Role, SalesChannel, SigningKey, Swa, TrustAnchors, Value,
};

pub const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(86_400);
pub const SEC: Duration = Duration::from_secs(1);

pub fn t0() -> SystemTime {
    Date::parse("2026-05-01").unwrap().start()
}

pub fn vendor() -> SigningKey {
    SigningKey::from_seed([42; 32]).unwrap()
}

pub fn eid() -> Eid {
    Eid::parse("VA-0001").unwrap()
}

pub fn gateway() -> Eid {
    Eid::parse("SAT-415-1").unwrap()
}

pub fn channel() -> SalesChannel {
    SalesChannel::parse("mitel-generic").unwrap()
}

pub fn identity(platform: Platform, role: Role, binding: Binding) -> Identity {
    Identity {
        platform,
        role,
        eid: eid(),
        binding,
        sales_channel: Some(channel()),
        release: Release::new(6, 0),
    }
}

pub fn va() -> Identity {
    identity(Platform::VirtualAppliance, Role::Master, Binding::OwnEid)
}

pub fn boot(id: Identity, now: SystemTime) -> Licensing {
    boot_with(id, PersistentState::default(), now)
}

pub fn boot_with(id: Identity, state: PersistentState, now: SystemTime) -> Licensing {
    let anchors = TrustAnchors::new().with(vendor().verifying_key());
    Licensing::new(Config::default(), id, anchors, state, now)
}

/// A licence file for `eid()` with SR 6.0, Base VA, SWA for 120 users, plus `extra`.
pub fn file(extra: &[(LicenceType, Value)]) -> LicenceFile {
    let k = vendor();
    let mut f = LicenceFile::new(
        k.verifying_key().id(),
        eid(),
        channel(),
        Date::parse("2026-04-01").unwrap(),
    );
    f.swa = Some(Swa {
        covered_users: 120,
        expires: Date::parse("2027-03-31").unwrap(),
    });
    f.licences.insert(
        LicenceType::SoftwareRelease,
        Value::Release(Release::new(6, 0)),
    );
    f.licences
        .insert(LicenceType::BaseVirtualAppliance, Value::Switch);
    for (t, v) in extra {
        f.licences.insert(*t, *v);
    }
    f
}

pub fn signed(f: &LicenceFile) -> String {
    f.sign(&vendor()).unwrap()
}

/// Drains every pending event.
pub fn drain(l: &mut Licensing) -> Vec<Event> {
    std::iter::from_fn(|| l.poll_event()).collect()
}

/// Advances the virtual clock to `until`, firing every timer on its due time, and returns
/// the events raised (in order).
pub fn run_until(l: &mut Licensing, until: SystemTime) -> Vec<Event> {
    let mut out = drain(l);
    while let Some(t) = l.poll_timeout() {
        if t > until {
            break;
        }
        l.handle_timeout(t);
        out.extend(drain(l));
    }
    l.handle_timeout(until);
    out.extend(drain(l));
    out
}

/// `run_until`, dropping the routine contact-due events of VA-EID mode.
pub fn run_quiet(l: &mut Licensing, until: SystemTime) -> Vec<Event> {
    run_until(l, until)
        .into_iter()
        .filter(|e| *e != Event::LicenceServerContactDue && *e != Event::PersistentStateChanged)
        .collect()
}
