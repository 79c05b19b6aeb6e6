//! Checks across fields and against the capacity limits (MV-50, MV-30, EV-27, EV-30).

use std::collections::{HashMap, HashSet};

use events::email::Mailbox;
use toml::Spanned;

use super::Config;
use super::diag::{Diagnostic, Source};

/// Most users (MV-50, Tab. 12).
pub const MAX_USERS: usize = 1200;
/// Most terminals per user (MV-50).
pub const MAX_DEVICES_PER_USER: u32 = 16;
/// Most terminals registered at once (MV-50, Tab. 13).
pub(super) const MAX_TERMINALS: u32 = 2400;
/// Most SIP providers (MV-30).
pub const MAX_TRUNKS: usize = 10;
/// Most SIP access channels (MV-30, MV-35).
pub const MAX_SIP_CHANNELS: u32 = 240;
/// Most blocked numbers (MV-50, Tab. 12).
pub(super) const MAX_BLOCKED: usize = 3000;
/// Most hunt groups, and members of a normal one (MV-50, Tab. 12).
pub(super) const MAX_HUNT_GROUPS: usize = 99;
pub(super) const MAX_HUNT_MEMBERS: usize = 16;
/// Most predefined texts, message groups and members of one (MV-49).
pub(super) const MAX_TEXTS: usize = 16;
pub(super) const MAX_MESSAGE_GROUPS: usize = 50;
pub(super) const MAX_MESSAGE_MEMBERS: usize = 16;
/// Longest predefined text, in characters.
pub(super) const MAX_TEXT_CHARS: usize = 160;
/// Most DDI numbers (MV-50).
pub const MAX_DDI: usize = 4000;
/// Most routes an administrator configures: Tab. 12's 212 less the 12 hidden ones (MV-50).
/// Each outbound prefix of a trunk is one route.
pub(super) const MAX_ROUTES: usize = 200;
/// Longest shutdown drain: the UC module's close-files bound (UCM-OPS-20).
pub const MAX_DRAIN_SECS: u64 = 180;

fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | '+'))
}

struct Checker<'a> {
    src: Source<'a>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn err(&mut self, s: &Spanned<String>, msg: String) {
        self.errors.push(self.src.at(s.span(), msg));
    }

    fn key(&mut self, table: &str, index: Option<usize>, key: &str, msg: String) {
        self.errors.push(self.src.key(table, index, key, msg));
    }
}

/// Validates `cfg`; returns errors and warnings.
pub(crate) fn check(cfg: &Config, src: Source<'_>) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut c = Checker {
        src,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    sip(cfg, &mut c);
    media(cfg, &mut c);
    let extensions = users(cfg, &mut c);
    calls(cfg, &mut c, &extensions);
    hunt_groups(cfg, &mut c, &extensions);
    messaging(cfg, &mut c, &extensions);
    trunks(cfg, &mut c, &extensions);
    events(cfg, &mut c);
    rest(cfg, &mut c);
    (c.errors, c.warnings)
}

fn sip(cfg: &Config, c: &mut Checker<'_>) {
    let s = &cfg.sip;
    if s.udp.addr().is_none() && s.tcp.addr().is_none() && s.tls.addr().is_none() {
        c.key(
            "sip",
            None,
            "udp",
            "every SIP transport is \"off\": enable udp, tcp or tls".into(),
        );
    }
    let bad = s
        .digest_algorithms
        .iter()
        .find(|a| sip_core::digest::Algorithm::parse(Some(a)).is_none());
    if s.digest_algorithms.is_empty() || bad.is_some() {
        c.key(
            "sip",
            None,
            "digest_algorithms",
            format!(
                "digest_algorithms must list one or more of MD5, SHA-256, MD5-sess, SHA-256-sess{}",
                bad.map(|b| format!(" (not {b:?})")).unwrap_or_default()
            ),
        );
    }
    if s.tls_cert.is_some() != s.tls_key.is_some() {
        c.key(
            "sip",
            None,
            "tls_cert",
            "tls_cert and tls_key go together: give both or neither".into(),
        );
    }
    if s.max_terminals == 0 || s.max_terminals > MAX_TERMINALS {
        c.key(
            "sip",
            None,
            "max_terminals",
            format!(
                "max_terminals {} must be 1 to {MAX_TERMINALS} (MV-50)",
                s.max_terminals
            ),
        );
    }
    if s.nat_keepalive_secs > 3600 {
        c.key(
            "sip",
            None,
            "nat_keepalive_secs",
            format!(
                "nat_keepalive_secs {} must be 0 (off) to 3600",
                s.nat_keepalive_secs
            ),
        );
    }
    if s.min_expires == 0 || s.min_expires > s.max_expires {
        c.key(
            "sip",
            None,
            "min_expires",
            format!(
                "min_expires ({}) must be at least 1 and at most max_expires ({})",
                s.min_expires, s.max_expires
            ),
        );
    }
}

fn media(cfg: &Config, c: &mut Checker<'_>) {
    let m = &cfg.media;
    if m.codecs.is_empty() {
        c.key(
            "media",
            None,
            "codecs",
            "codecs is empty: list at least one of opus, G722, PCMU, PCMA, G729".into(),
        );
    }
    let mut seen = HashSet::new();
    for codec in &m.codecs {
        match codecs::CodecKind::from_name(codec.get_ref()) {
            None => c.err(
                codec,
                format!(
                    "unknown codec {:?}: expected one of opus, G722, PCMU, PCMA, G729",
                    codec.get_ref()
                ),
            ),
            Some(k) if !seen.insert(k) => c.err(
                codec,
                format!("codec {:?} is listed twice", codec.get_ref()),
            ),
            Some(_) => {}
        }
    }
    if ![10, 20, 40, 60].contains(&m.ptime_ms) {
        c.key(
            "media",
            None,
            "ptime_ms",
            format!(
                "ptime_ms {} is not one of 10, 20, 40, 60 (frame sizes every codec accepts)",
                m.ptime_ms
            ),
        );
    }
    if m.connections < 2 {
        c.key(
            "media",
            None,
            "connections",
            "connections must be at least 2 (a relayed leg costs 2, MV-36)".into(),
        );
    }
}

fn users(cfg: &Config, c: &mut Checker<'_>) -> HashSet<String> {
    let mut exts = HashSet::new();
    if cfg.users.len() > MAX_USERS {
        c.key(
            "users",
            Some(MAX_USERS),
            "extension",
            format!(
                "{} users configured, at most {MAX_USERS} (MV-50)",
                cfg.users.len()
            ),
        );
    }
    for (i, u) in cfg.users.iter().enumerate() {
        let ext = u.extension.get_ref();
        if ext.is_empty() || ext.len() > 16 || !ext.chars().all(|ch| ch.is_ascii_digit()) {
            c.err(
                &u.extension,
                format!("extension {ext:?} must be 1 to 16 digits"),
            );
        } else if !exts.insert(ext.clone()) {
            c.err(&u.extension, format!("extension {ext} is configured twice"));
        }
        if let Some(p) = &u.password {
            if p.get_ref().is_empty() {
                c.err(
                    p,
                    "password is empty: remove the key to have one generated".into(),
                );
            } else if let Err(why) = crate::secrets::policy(p.get_ref()) {
                let d = c.src.at(
                    p.span(),
                    format!("weak password for extension {ext}: {why} (UCM-OPS-4 policy)"),
                );
                c.warnings.push(d);
            }
        }
        if u.max_devices == 0 || u.max_devices > MAX_DEVICES_PER_USER {
            c.key(
                "users",
                Some(i),
                "max_devices",
                format!(
                    "max_devices {} must be 1 to {MAX_DEVICES_PER_USER} (MV-50)",
                    u.max_devices
                ),
            );
        }
        for f in [&u.forward_always, &u.forward_busy, &u.forward_no_answer]
            .into_iter()
            .flatten()
        {
            if !is_number(f.get_ref()) {
                c.err(
                    f,
                    format!(
                        "forward target {:?} is not a dialable number (digits, *, #, +)",
                        f.get_ref()
                    ),
                );
            } else if f.get_ref() == ext {
                c.err(f, format!("extension {ext} forwards to itself"));
            }
        }
    }
    exts
}

fn hunt_groups(cfg: &Config, c: &mut Checker<'_>, exts: &HashSet<String>) {
    if cfg.hunt_groups.len() > MAX_HUNT_GROUPS {
        c.key(
            "hunt_groups",
            Some(MAX_HUNT_GROUPS),
            "number",
            format!(
                "{} hunt groups configured, at most {MAX_HUNT_GROUPS} (MV-50)",
                cfg.hunt_groups.len()
            ),
        );
    }
    let mut numbers = HashSet::new();
    for (i, g) in cfg.hunt_groups.iter().enumerate() {
        let n = g.number.get_ref();
        if n.is_empty() || n.len() > 16 || !n.chars().all(|ch| ch.is_ascii_digit()) {
            c.err(
                &g.number,
                format!("hunt group number {n:?} must be 1 to 16 digits"),
            );
        } else if exts.contains(n) || n == cfg.calls.echo_test.get_ref() {
            c.err(
                &g.number,
                format!("hunt group number {n} is already a number in use"),
            );
        } else if !numbers.insert(n.clone()) {
            c.err(
                &g.number,
                format!("hunt group number {n} is configured twice"),
            );
        }
        if g.members.is_empty() || g.members.len() > MAX_HUNT_MEMBERS {
            c.key(
                "hunt_groups",
                Some(i),
                "members",
                format!(
                    "hunt group {n} has {} members, it takes 1 to {MAX_HUNT_MEMBERS} (MV-50)",
                    g.members.len()
                ),
            );
        }
        if g.ring_secs == 0 || g.ring_secs > 120 {
            c.key(
                "hunt_groups",
                Some(i),
                "ring_secs",
                format!("ring_secs {} must be 1 to 120", g.ring_secs),
            );
        }
        clip_table(g, i, c);
        let mut seen = HashSet::new();
        for m in &g.members {
            if !exts.contains(m.get_ref()) {
                c.err(
                    m,
                    format!("member {:?} is not a configured extension", m.get_ref()),
                );
            } else if !seen.insert(m.get_ref()) {
                c.err(m, format!("member {} is listed twice", m.get_ref()));
            }
        }
    }
}

/// MV-52 CLIP routing: the table goes with `strategy = "clip"`, maps dialable prefixes to
/// members of the group.
fn clip_table(g: &crate::config::HuntGroupConfig, i: usize, c: &mut Checker<'_>) {
    let n = g.number.get_ref();
    let clip = g.strategy == crate::config::HuntStrategyConfig::Clip;
    if clip && g.clip.is_empty() {
        let msg = format!("hunt group {n} has strategy \"clip\" but no clip table");
        c.key("hunt_groups", Some(i), "clip", msg);
    } else if !clip && !g.clip.is_empty() {
        let msg = format!("hunt group {n} has a clip table, which needs strategy \"clip\"");
        c.key("hunt_groups", Some(i), "clip", msg);
    }
    for (prefix, member) in &g.clip {
        if !is_number(prefix) {
            let msg = format!("clip prefix {prefix:?} is not a dialable number (digits, *, #, +)");
            c.key("hunt_groups", Some(i), "clip", msg);
        }
        if !g.members.iter().any(|m| m.get_ref() == member.get_ref()) {
            let msg = format!(
                "clip member {:?} is not a member of group {n}",
                member.get_ref()
            );
            c.err(member, msg);
        }
    }
}

/// MV-49: at most 16 predefined texts; at most 50 message groups of 1 to 16 extensions,
/// each group's number free.
fn messaging(cfg: &Config, c: &mut Checker<'_>, exts: &HashSet<String>) {
    let texts = &cfg.messaging.texts;
    if texts.len() > MAX_TEXTS {
        let msg = format!(
            "{} texts configured, at most {MAX_TEXTS} (MV-49)",
            texts.len()
        );
        c.key("messaging", None, "texts", msg);
    }
    for t in texts {
        let n = t.get_ref().chars().count();
        if t.get_ref().trim().is_empty() || n > MAX_TEXT_CHARS {
            let msg = format!("a predefined text has 1 to {MAX_TEXT_CHARS} characters, not {n}");
            c.err(t, msg);
        }
    }
    let groups = &cfg.message_groups;
    if groups.len() > MAX_MESSAGE_GROUPS {
        let msg = format!(
            "{} message groups configured, at most {MAX_MESSAGE_GROUPS} (MV-49)",
            groups.len()
        );
        c.key("message_groups", Some(MAX_MESSAGE_GROUPS), "number", msg);
    }
    let hunt: HashSet<&String> = cfg.hunt_groups.iter().map(|g| g.number.get_ref()).collect();
    let mut numbers = HashSet::new();
    for (i, g) in groups.iter().enumerate() {
        let n = g.number.get_ref();
        if n.is_empty() || n.len() > 16 || !n.chars().all(|ch| ch.is_ascii_digit()) {
            c.err(
                &g.number,
                format!("message group number {n:?} must be 1 to 16 digits"),
            );
        } else if exts.contains(n) || hunt.contains(n) || n == cfg.calls.echo_test.get_ref() {
            let msg = format!("message group number {n} is already a number in use");
            c.err(&g.number, msg);
        } else if !numbers.insert(n.clone()) {
            c.err(
                &g.number,
                format!("message group number {n} is configured twice"),
            );
        }
        if g.members.is_empty() || g.members.len() > MAX_MESSAGE_MEMBERS {
            let msg = format!(
                "message group {n} has {} members, it takes 1 to {MAX_MESSAGE_MEMBERS} (MV-49)",
                g.members.len()
            );
            c.key("message_groups", Some(i), "members", msg);
        }
        let mut seen = HashSet::new();
        for m in &g.members {
            if !exts.contains(m.get_ref()) {
                let msg = format!("member {:?} is not a configured extension", m.get_ref());
                c.err(m, msg);
            } else if !seen.insert(m.get_ref()) {
                c.err(m, format!("member {} is listed twice", m.get_ref()));
            }
        }
    }
}

fn calls(cfg: &Config, c: &mut Checker<'_>, exts: &HashSet<String>) {
    let k = &cfg.calls;
    let echo = k.echo_test.get_ref();
    if !echo.is_empty() && !is_number(echo) {
        c.err(
            &k.echo_test,
            format!("echo_test {echo:?} is not a dialable number (digits, *, #)"),
        );
    } else if exts.contains(echo) {
        c.err(
            &k.echo_test,
            format!("echo_test {echo} is also a user's extension"),
        );
    }
    if k.blocked_numbers.len() > MAX_BLOCKED {
        c.key(
            "calls",
            None,
            "blocked_numbers",
            format!(
                "{} blocked numbers, at most {MAX_BLOCKED} (MV-50)",
                k.blocked_numbers.len()
            ),
        );
    }
    for b in &k.blocked_numbers {
        if !is_number(b.get_ref()) {
            c.err(
                b,
                format!("blocked number {:?} is not a number", b.get_ref()),
            );
        } else if exts.iter().any(|e| e.starts_with(b.get_ref().as_str())) {
            c.err(
                b,
                format!("blocked number {} would bar an extension", b.get_ref()),
            );
        }
    }
    if k.no_answer_secs == 0 || k.no_answer_secs > 600 {
        c.key(
            "calls",
            None,
            "no_answer_secs",
            format!("no_answer_secs {} must be 1 to 600", k.no_answer_secs),
        );
    }
}

fn trunks(cfg: &Config, c: &mut Checker<'_>, exts: &HashSet<String>) {
    if cfg.trunks.len() > MAX_TRUNKS {
        c.key(
            "trunks",
            Some(MAX_TRUNKS),
            "name",
            format!(
                "{} trunks configured, at most {MAX_TRUNKS} SIP providers (MV-30)",
                cfg.trunks.len()
            ),
        );
    }
    let mut names = HashSet::new();
    let mut prefixes: HashMap<String, String> = HashMap::new();
    let (mut channels, mut ddis) = (0u32, 0usize);
    for (i, t) in cfg.trunks.iter().enumerate() {
        let name = t.name.get_ref();
        if name.is_empty() || !names.insert(name.clone()) {
            c.err(
                &t.name,
                format!("trunk name {name:?} must be non-empty and unique"),
            );
        }
        channels = channels.saturating_add(t.channels);
        if t.channels == 0 {
            c.key(
                "trunks",
                Some(i),
                "channels",
                "channels must be at least 1".into(),
            );
        }
        for (ddi, target) in &t.ddi {
            ddis += 1;
            if !is_number(ddi) {
                c.key(
                    "trunks",
                    Some(i),
                    "ddi",
                    format!("DDI {ddi:?} is not a number"),
                );
            }
            if !exts.contains(target.get_ref()) {
                c.err(
                    target,
                    format!(
                        "DDI {ddi} routes to {:?}, which is not a configured extension",
                        target.get_ref()
                    ),
                );
            }
        }
        if let Some(d) = &t.ddi_default
            && !exts.contains(d.get_ref())
        {
            c.err(
                d,
                format!(
                    "ddi_default {:?} is not a configured extension",
                    d.get_ref()
                ),
            );
        }
        for p in &t.outbound_prefixes {
            let pre = p.get_ref();
            if !is_number(pre) {
                c.err(p, format!("outbound prefix {pre:?} is not a number"));
            } else if let Some(other) = prefixes.insert(pre.clone(), name.clone()) {
                c.err(
                    p,
                    format!("outbound prefix {pre} is already used by trunk {other:?}"),
                );
            } else if exts.iter().any(|e| e.starts_with(pre.as_str())) {
                c.err(
                    p,
                    format!("outbound prefix {pre} shadows an extension that starts with it"),
                );
            }
        }
    }
    if channels > MAX_SIP_CHANNELS {
        c.key(
            "trunks",
            Some(0),
            "channels",
            format!(
                "{channels} SIP access channels in total, at most {MAX_SIP_CHANNELS} (MV-30, MV-35)"
            ),
        );
    }
    if prefixes.len() > MAX_ROUTES {
        c.key(
            "trunks",
            Some(0),
            "outbound_prefixes",
            format!(
                "{} outbound routes (prefixes), at most {MAX_ROUTES} (MV-50: 212 routes, 12 of them hidden)",
                prefixes.len()
            ),
        );
    }
    if ddis > MAX_DDI {
        c.key(
            "trunks",
            Some(0),
            "ddi",
            format!("{ddis} DDI numbers, at most {MAX_DDI} (MV-50)"),
        );
    }
}

fn events(cfg: &Config, c: &mut Checker<'_>) {
    let e = &cfg.events;
    if e.snmp.len() > usize::from(events::MAX_SNMP_TARGETS) {
        c.key(
            "events.snmp",
            Some(5),
            "target",
            format!(
                "{} SNMP targets, at most {} (EV-27)",
                e.snmp.len(),
                events::MAX_SNMP_TARGETS
            ),
        );
    }
    if let Some(s) = &e.syslog
        && s.facility > 23
    {
        c.key(
            "events.syslog",
            None,
            "facility",
            format!("facility {} must be 0 to 23 (RFC 5424)", s.facility),
        );
    }
    if let Some(m) = &e.email {
        if Mailbox::new(m.from.get_ref()).is_err() {
            c.err(
                &m.from,
                format!("from {:?} is not an e-mail address", m.from.get_ref()),
            );
        }
        let to = m.to.get_ref();
        let span = m.to.span();
        if to.is_empty() || to.len() > usize::from(events::MAX_EMAIL_TARGETS) {
            c.errors.push(c.src.at(
                span.clone(),
                format!(
                    "{} recipients, expected 1 to {} (EV-30)",
                    to.len(),
                    events::MAX_EMAIL_TARGETS
                ),
            ));
        }
        for addr in to.iter().filter(|a| Mailbox::new(a).is_err()) {
            c.errors.push(c.src.at(
                span.clone(),
                format!("recipient {addr:?} is not an e-mail address"),
            ));
        }
        if m.timeout_secs == 0 {
            c.key(
                "events.email",
                None,
                "timeout_secs",
                "timeout_secs must be at least 1".into(),
            );
        }
    }
    if e.retry_secs == 0 {
        c.key(
            "events",
            None,
            "retry_secs",
            "retry_secs must be at least 1".into(),
        );
    }
}

fn rest(cfg: &Config, c: &mut Checker<'_>) {
    let d = &cfg.dos;
    if d.enabled
        && (d.max_registrations == 0
            || d.max_transactions == 0
            || d.interval_secs == 0
            || d.blacklist_secs == 0)
    {
        c.key("dos", None, "max_registrations", "DoS limits, interval_secs and blacklist_secs must be at least 1 (or set enabled = false)".into());
    }
    if cfg.shutdown.drain_secs > MAX_DRAIN_SECS {
        c.key(
            "shutdown",
            None,
            "drain_secs",
            format!(
                "drain_secs {} exceeds {MAX_DRAIN_SECS} (UCM-OPS-20)",
                cfg.shutdown.drain_secs
            ),
        );
    }
    if let Some(l) = &cfg.licence
        && licensing::Eid::parse(l.eid.get_ref()).is_none()
    {
        c.err(&l.eid, format!("invalid EID {:?}", l.eid.get_ref()));
    }
}
