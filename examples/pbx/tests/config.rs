//! Configuration acceptance and rejection, with file, line and column (issue 10).

use std::path::Path;
use std::process::Command;

use pbx::config::{self, Diagnostic, MediaMode};

const MINIMAL: &str = r#"[sip]
udp = "127.0.0.1:5060"
tcp = "127.0.0.1:5060"
[media]
rtp_ports = "20000-20999"
[[users]]
extension = "201"
password = "s3cret-201"
[[users]]
extension = "202"
password = "s3cret-202"
"#;

fn parse(text: &str) -> Result<config::Loaded, Vec<Diagnostic>> {
    config::parse(text, "test.toml", Path::new("/etc/pbx"))
}

fn one_error(text: &str) -> Diagnostic {
    let mut errs = parse(text).expect_err("must be rejected");
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.remove(0)
}

#[test]
fn the_issue_minimal_document_is_accepted_with_defaults() {
    let l = parse(MINIMAL).expect("minimal document");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = l.config;
    assert_eq!(c.users.len(), 2);
    assert_eq!(
        c.users[1].password.as_ref().map(|p| p.get_ref().as_str()),
        Some("s3cret-202")
    );
    assert_eq!(c.media.rtp_ports.pairs(), 500);
    assert_eq!(c.media.mode, MediaMode::Relay, "relay by default (MV-36)");
    assert_eq!(c.media.connections, 250, "MV-36 budget default");
    // Defaults: TLS on 5061, demo licence mode, CDRs and the event log in the data directory.
    assert_eq!(
        c.sip.tls.addr(),
        Some("127.0.0.1:5061".parse().expect("addr"))
    );
    assert!(c.licence.is_none());
    assert_eq!(c.cdr.path, Path::new("cdr.jsonl"));
    assert!(c.dos.enabled, "MV2-34 guard on by default");
    assert_eq!(c.calls.no_answer_status.0, 480);
}

#[test]
fn unknown_key_names_file_line_and_expected_keys() {
    let d = one_error("[sip]\nudp = \"127.0.0.1:5060\"\nudpp = \"127.0.0.1:5070\"\n");
    assert_eq!((d.line, d.column), (Some(3), Some(1)), "{d}");
    assert!(d.message.contains("unknown field `udpp`"), "{d}");
    assert!(d.message.contains("`udp`"), "lists the expected keys: {d}");
    assert!(d.to_string().starts_with("test.toml:3:1: "), "{d}");
}

#[test]
fn unknown_table_is_rejected() {
    let d = one_error("[sip]\n\n[mediaa]\nrtp_ports = \"20000-20999\"\n");
    assert_eq!(d.line, Some(3), "{d}");
    assert!(d.message.contains("unknown field `mediaa`"), "{d}");
}

#[test]
fn bad_values_point_at_the_value() {
    let d = one_error("[media]\nrtp_ports = \"20001-20999\"\n");
    assert_eq!((d.line, d.column), (Some(2), Some(13)), "{d}");
    assert!(d.message.contains("must be even"), "{d}");

    let d = one_error("[sip]\n  udp = \"localhost\"\n");
    assert_eq!(d.line, Some(2), "{d}");
    assert!(d.message.contains("IP:PORT"), "{d}");

    let d = one_error("[media]\nmode = \"bridge\"\n");
    assert_eq!(d.line, Some(2), "{d}");
    assert!(
        d.message.contains("relay") && d.message.contains("direct"),
        "{d}"
    );

    let d = one_error("[calls]\nno_answer_status = 486\n");
    assert_eq!(d.line, Some(2), "{d}");
    assert!(
        d.message.contains("480") && d.message.contains("408"),
        "{d}"
    );

    let d = one_error("[media]\nconnections = -1\n");
    assert_eq!(d.line, Some(2), "{d}");
}

#[test]
fn toml_syntax_errors_have_a_line() {
    let d = one_error("[sip]\nudp = \"127.0.0.1:5060\n");
    assert_eq!(d.line, Some(2), "{d}");
}

#[test]
fn semantic_errors_have_lines_and_are_all_reported() {
    let text = format!(
        "{MINIMAL}[[users]]\nextension = \"201\"\n[[users]]\nextension = \"2x3\"\nmax_devices = 17\n[media.x]\n"
    );
    // The unknown [media.x] comes first (a parse error stops everything).
    let d = one_error(&text);
    assert!(d.message.contains("unknown field `x`"), "{d}");

    let text = format!(
        "{MINIMAL}[[users]]\nextension = \"201\"\n[[users]]\nextension = \"2x3\"\nmax_devices = 17\n"
    );
    let errs = parse(&text).expect_err("invalid");
    let lines: Vec<_> = errs.iter().map(|d| (d.line, d.message.as_str())).collect();
    assert_eq!(errs.len(), 3, "{lines:?}");
    assert_eq!(errs[0].line, Some(13), "duplicate extension: {}", errs[0]);
    assert!(errs[0].message.contains("twice"));
    assert_eq!(errs[1].line, Some(15), "{}", errs[1]);
    // MV-50: 16 terminals per user.
    assert_eq!(errs[2].line, Some(16), "{}", errs[2]);
    assert!(errs[2].message.contains("MV-50"), "{}", errs[2]);
}

#[test]
fn mv50_terminal_capacity_is_bounded_by_tab_13() {
    let text = MINIMAL.replacen("[sip]\n", "[sip]\nmax_terminals = 2401\n", 1);
    let d = one_error(&text);
    assert_eq!(d.line, Some(2), "{d}");
    assert!(
        d.message
            .contains("max_terminals 2401 must be 1 to 2400 (MV-50)"),
        "{d}"
    );
    let ok = MINIMAL.replacen("[sip]\n", "[sip]\nmax_terminals = 2400\n", 1);
    assert!(parse(&ok).is_ok());
}

#[test]
fn nat_keepalive_interval_is_bounded() {
    let text = MINIMAL.replacen("[sip]\n", "[sip]\nnat_keepalive_secs = 3601\n", 1);
    let d = one_error(&text);
    assert_eq!(d.line, Some(2), "{d}");
    assert!(d.message.contains("0 (off) to 3600"), "{d}");
    let off = MINIMAL.replacen("[sip]\n", "[sip]\nnat_keepalive_secs = 0\n", 1);
    assert!(parse(&off).is_ok());
}

#[test]
fn mv50_routes_are_bounded_by_tab_12() {
    let trunk = |n: usize| {
        let prefixes: Vec<String> = (0..n).map(|i| format!("\"9{i:03}\"")).collect();
        format!(
            "{MINIMAL}\n[[trunks]]\nname = \"acme\"\nregistrar = \"sip.acme.example\"\n\
             username = \"u\"\npassword = \"p\"\noutbound_prefixes = [{}]\n",
            prefixes.join(", ")
        )
    };
    assert!(parse(&trunk(200)).is_ok());
    let d = one_error(&trunk(201));
    assert!(d.message.contains("201 outbound routes"), "{d}");
    assert!(d.message.contains("MV-50"), "{d}");
}

#[test]
fn mv50_hunt_groups_are_checked() {
    let ok =
        format!("{MINIMAL}\n[[hunt_groups]]\nnumber = \"600\"\nmembers = [\"201\", \"202\"]\n");
    assert!(parse(&ok).is_ok());
    let bad = format!(
        "{MINIMAL}\n[[hunt_groups]]\nnumber = \"201\"\nmembers = [\"202\", \"299\", \"202\"]\n"
    );
    let errs = parse(&bad).expect_err("invalid");
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter().any(|m| m.contains("already a number in use")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("\"299\" is not a configured extension")),
        "{msgs:#?}"
    );
    assert!(msgs.iter().any(|m| m.contains("listed twice")), "{msgs:#?}");
    let members: Vec<String> = (0..17).map(|i| format!("\"{}\"", 201 + i)).collect();
    let big = format!(
        "{MINIMAL}\n[[hunt_groups]]\nnumber = \"600\"\nmembers = [{}]\n",
        members.join(", ")
    );
    let errs = parse(&big).expect_err("too many members");
    assert!(
        errs.iter().any(|e| e.message.contains("1 to 16 (MV-50)")),
        "{errs:?}"
    );
    // MV-52: the strategy is one of five, and each member rings 1 to 120 s.
    let seq = format!(
        "{MINIMAL}\n[[hunt_groups]]\nnumber = \"600\"\nmembers = [\"201\"]\n\
         strategy = \"cyclic\"\nring_secs = 0\n"
    );
    assert!(
        one_error(&seq)
            .message
            .contains("ring_secs 0 must be 1 to 120")
    );
    for strategy in ["all", "linear", "cyclic", "longest_idle", "last_agent"] {
        let ok = seq
            .replace("cyclic", strategy)
            .replace("ring_secs = 0", "ring_secs = 5");
        assert!(parse(&ok).is_ok(), "{strategy}");
    }
    let odd = seq
        .replace("cyclic", "random")
        .replace("ring_secs = 0", "ring_secs = 5");
    assert!(parse(&odd).is_err(), "unknown strategy");
}

#[test]
fn mv52_a_clip_table_goes_with_strategy_clip_and_names_members() {
    let group = |lines: &str| {
        format!(
            "{MINIMAL}\n[[hunt_groups]]\nnumber = \"600\"\nmembers = [\"201\", \"202\"]\n{lines}\n"
        )
    };
    let ok = group("strategy = \"clip\"\nclip = { \"079\" = \"202\", \"+41\" = \"201\" }");
    assert!(parse(&ok).is_ok(), "{:?}", parse(&ok).err());
    for (lines, expected) in [
        ("strategy = \"clip\"", "but no clip table"),
        (
            "strategy = \"linear\"\nclip = { \"079\" = \"202\" }",
            "needs strategy \"clip\"",
        ),
        (
            "strategy = \"clip\"\nclip = { \"07x\" = \"202\" }",
            "clip prefix \"07x\"",
        ),
        (
            "strategy = \"clip\"\nclip = { \"079\" = \"203\" }",
            "not a member of group 600",
        ),
    ] {
        let e = one_error(&group(lines));
        assert!(e.message.contains(expected), "{lines}: {e:?}");
    }
}

#[test]
fn mv50_blocked_numbers_are_checked() {
    let cfg = |list: &str| {
        MINIMAL.replacen(
            "[sip]\n",
            &format!("[calls]\nblocked_numbers = [{list}]\n[sip]\n"),
            1,
        )
    };
    assert!(parse(&cfg("\"0900\", \"00\"")).is_ok());
    assert!(
        one_error(&cfg("\"09x\""))
            .message
            .contains("is not a number")
    );
    assert!(
        one_error(&cfg("\"20\""))
            .message
            .contains("would bar an extension")
    );
    let many: Vec<String> = (0..3001).map(|i| format!("\"9{i:04}\"")).collect();
    assert!(
        one_error(&cfg(&many.join(",")))
            .message
            .contains("at most 3000 (MV-50)")
    );
}

#[test]
fn trunk_routing_is_checked() {
    // MV-30: DDI targets must exist, prefixes must be unique and must not shadow extensions.
    let text = format!(
        r#"{MINIMAL}
[[trunks]]
name = "acme"
registrar = "sip.acme.example:5060"
username = "u"
password = "p"
ddi = {{ "4930100" = "201", "4930101" = "299" }}
outbound_prefixes = ["0", "2"]
[[trunks]]
name = "acme"
registrar = "sip.other.example"
username = "u"
password = "p"
channels = 239
outbound_prefixes = ["0"]
"#
    );
    let errs = parse(&text).expect_err("invalid");
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("test.toml:18:") && m.contains("299")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("test.toml:19:") && m.contains("shadows")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("test.toml:21:") && m.contains("unique")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("test.toml:26:") && m.contains("already used")),
        "{msgs:#?}"
    );
    // MV-30 / MV-35: at most 240 SIP access channels (2 + 239).
    assert!(
        msgs.iter()
            .any(|m| m.contains("241 SIP access channels") && m.contains("MV-30")),
        "{msgs:#?}"
    );
}

#[test]
fn mv2_34_dos_and_event_limits() {
    let d = one_error("[dos]\nmax_transactions = 0\n");
    assert_eq!(
        d.line,
        Some(1),
        "points at the table when the key is elsewhere: {d}"
    );
    let mut text = String::new();
    for i in 0..6 {
        text.push_str(&format!(
            "[[events.snmp]]\ntarget = \"127.0.0.1:{}\"\n",
            1620 + i
        ));
    }
    let d = one_error(&text);
    assert!(d.message.contains("EV-27"), "{d}");
    let d = one_error(
        "[events.email]\nserver = \"127.0.0.1:2525\"\nfrom = \"pbx@example.com\"\nto = [\"no-at-sign\"]\n",
    );
    assert_eq!(d.line, Some(4), "{d}");
}

#[test]
fn weak_passwords_warn_ucm_ops_4() {
    let l = parse("[[users]]\nextension = \"201\"\npassword = \"1234\"\n").expect("valid");
    assert_eq!(l.warnings.len(), 1);
    assert_eq!(l.warnings[0].line, Some(3));
    assert!(l.warnings[0].message.contains("UCM-OPS-4"));
}

#[test]
fn licence_paths_resolve_against_the_config_folder() {
    let l = parse(
        "[licence]\nfile = \"site.lic\"\ntrust_anchor = \"/keys/vendor.pub\"\neid = \"VA-1234\"\n",
    )
    .expect("valid");
    let lic = l.config.licence.expect("strict licensing");
    assert_eq!(lic.file, Path::new("/etc/pbx/site.lic"));
    assert_eq!(lic.trust_anchor, Path::new("/keys/vendor.pub"));
    assert_eq!(lic.sales_channel, "generic");
}

fn pbx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pbx"))
}

#[test]
fn check_config_cli_exit_codes() {
    let dir = std::env::temp_dir().join(format!("pbx-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let good = dir.join("good.toml");
    let bad = dir.join("bad.toml");
    std::fs::write(&good, MINIMAL).expect("write");
    std::fs::write(&bad, "[sip]\nudp = \"127.0.0.1:5060\"\nfoo = 1\n").expect("write");

    let out = pbx()
        .arg("--check-config")
        .arg(&good)
        .output()
        .expect("run pbx");
    assert!(out.status.success(), "{out:?}");

    let out = pbx()
        .arg("--check-config")
        .arg(&bad)
        .output()
        .expect("run pbx");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3:1: unknown field `foo`", bad.display())),
        "{err}"
    );

    let out = pbx()
        .arg("--check-config")
        .arg(dir.join("missing.toml"))
        .output()
        .expect("run pbx");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    // The embedded default, printed, passes its own check.
    let out = pbx()
        .arg("--print-default-config")
        .output()
        .expect("run pbx");
    let default = dir.join("default.toml");
    std::fs::write(&default, &out.stdout).expect("write");
    let out = pbx()
        .arg("--check-config")
        .arg(&default)
        .output()
        .expect("run pbx");
    assert!(out.status.success(), "{out:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mv49_predefined_texts_and_message_groups_are_checked() {
    let ok = format!(
        "{MINIMAL}[messaging]\ntexts = [\"Please call me back\"]\n\
         [[message_groups]]\nnumber = \"700\"\nmembers = [\"201\", \"202\"]\n"
    );
    assert!(parse(&ok).is_ok(), "{:?}", parse(&ok).err());
    let texts: Vec<String> = (0..17).map(|i| format!("\"text {i}\"")).collect();
    let many = format!("{MINIMAL}[messaging]\ntexts = [{}]\n", texts.join(", "));
    assert!(one_error(&many).message.contains("at most 16 (MV-49)"));
    let blank = format!("{MINIMAL}[messaging]\ntexts = [\" \"]\n");
    assert!(one_error(&blank).message.contains("1 to 160 characters"));
    for (group, expected) in [
        (
            "number = \"201\"\nmembers = [\"202\"]",
            "already a number in use",
        ),
        (
            "number = \"70x\"\nmembers = [\"202\"]",
            "must be 1 to 16 digits",
        ),
        (
            "number = \"700\"\nmembers = [\"209\"]",
            "not a configured extension",
        ),
        ("number = \"700\"\nmembers = []", "it takes 1 to 16 (MV-49)"),
    ] {
        let doc = format!("{MINIMAL}[[message_groups]]\n{group}\n");
        let e = one_error(&doc);
        assert!(e.message.contains(expected), "{group}: {e:?}");
    }
    let groups: String = (0..51)
        .map(|i| format!("[[message_groups]]\nnumber = \"7{i:02}\"\nmembers = [\"201\"]\n"))
        .collect();
    let errs = parse(&format!("{MINIMAL}{groups}")).expect_err("51 groups");
    assert!(
        errs.iter()
            .any(|e| e.message.contains("at most 50 (MV-49)")),
        "{errs:?}"
    );
}
