//! SIPp as two independent phones through the PBX on loopback (issue 10): both register with
//! digest authentication (MV-29), then the caller places calls to the callee, which a SIPp
//! `uas` answers (uac → PBX B2BUA → uas). A wrong password is refused. Bounded throughout.

mod common;

use common::{
    EPHEMERAL_SIP, Pbx, events_until, find_event, invite_from_201, sipp_register as register,
    status_of, temp_dir,
};
use testkit::sipp::{self, Background, scenario};

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"s3cret-201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"s3cret-202\"\n";

#[test]
fn mv29_registered_users_call_each_other_through_the_b2bua() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-calls");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31200-31299\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (caller_port, callee_port) = (sipp::free_udp_port(), sipp::free_udp_port());
    let r = register(&dir, &target, "201", "s3cret-201", caller_port);
    assert_eq!(
        (r.code, r.stat("SuccessfulCall(C)")),
        (0, 1),
        "201 registers"
    );
    let r = register(&dir, &target, "202", "s3cret-202", callee_port);
    assert_eq!(
        (r.code, r.stat("SuccessfulCall(C)")),
        (0, 1),
        "202 registers"
    );

    // The callee answers from the port it registered from; the caller calls 202 as 201.
    // The issue's example: 500 calls at 50 calls/s, none failing.
    const CALLS: usize = 500;
    let calls = &CALLS.to_string();
    let uas = Background::start(
        &dir,
        "",
        callee_port,
        &["-sn", "uas", "-m", calls, "-trace_msg"],
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", calls, "-r", "50",
    ];
    let run = sipp::run(&dir, &target, caller_port, &args);
    assert_eq!(
        run.stat("SuccessfulCall(C)"),
        CALLS as u64,
        "{:?}",
        run.stats
    );
    assert_eq!(run.stat("FailedCall(C)"), 0);
    assert_eq!(run.code, 0);
    let uas = uas.wait();
    assert_eq!(
        uas.stat("SuccessfulCall(C)"),
        CALLS as u64,
        "the callee saw every call"
    );
    // Media is relayed by default (MV-36): each INVITE the callee receives offers the PBX's
    // relay port from the configured range, not the caller's own port (SIPp offers 6000).
    let log = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with("_messages.log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .expect("uas message trace");
    let offers: Vec<&str> = log
        .split("-----")
        .filter(|block| block.contains("\nINVITE sip:"))
        .filter_map(|block| block.lines().find(|l| l.starts_with("m=audio ")))
        .collect();
    assert_eq!(offers.len(), CALLS, "one offer per INVITE");
    assert!(
        offers.iter().all(|l| l.starts_with("m=audio 312")),
        "{:?}",
        &offers[..3]
    );
    // One JSON-lines call record per call (issue 10: CDRs), answered, 201 -> 202.
    let cdrs = common::cdrs(&pbx.data);
    let answered = cdrs
        .lines()
        .filter(|l| {
            l.contains("\"disposition\":\"answered\"")
                && l.contains("\"caller\":\"201\"")
                && l.contains("\"callee\":\"202\"")
        })
        .count();
    assert_eq!(answered, CALLS, "{}", cdrs.lines().next().unwrap_or(""));
}

#[test]
fn mv29_wrong_password_gets_401_again() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-badpw");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31300-31399\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let sf = scenario("register_wrong_password.xml");
    let args = [
        "-sf", &sf, "-s", "201", "-au", "201", "-ap", "nope", "-m", "3",
    ];
    let run = sipp::run(
        &dir,
        &pbx.addr("udp").to_string(),
        sipp::free_udp_port(),
        &args,
    );
    assert_eq!((run.code, run.stat("SuccessfulCall(C)")), (0, 3));
}

#[test]
fn unconditional_forwarding_reaches_the_target_and_loops_are_refused() {
    // [[users]] forward_always: calls to 203 ring 202; 204 and 205 forward to each other.
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-fwd");
    let users = format!(
        "{USERS}[[users]]\nextension = \"203\"\npassword = \"p203\"\nforward_always = \"202\"\n\
         [[users]]\nextension = \"204\"\npassword = \"p204\"\nforward_always = \"205\"\n\
         [[users]]\nextension = \"205\"\npassword = \"p205\"\nforward_always = \"204\"\n"
    );
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31400-31499\"\n{users}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (caller_port, callee_port) = (sipp::free_udp_port(), sipp::free_udp_port());
    assert_eq!(
        register(&dir, &target, "201", "s3cret-201", caller_port).code,
        0
    );
    assert_eq!(
        register(&dir, &target, "202", "s3cret-202", callee_port).code,
        0
    );
    let uas = Background::start(&dir, "", callee_port, &["-sn", "uas", "-m", "5"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "203", "-m", "5", "-r", "20",
    ];
    let run = sipp::run(&dir, &target, caller_port, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 5, "{:?}", run.stats);
    assert_eq!(
        uas.wait().stat("SuccessfulCall(C)"),
        5,
        "202 answered the calls to 203"
    );
    // A forwarding loop is refused (482) rather than followed forever.
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "204", "-m", "2", "-r", "20",
    ];
    let run = sipp::run(&dir, &target, caller_port, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 0);
    assert_eq!(run.stat("FailedUnexpectedMessage(C)"), 2);
}

#[test]
fn mv2_34_wrong_password_flood_blacklists_the_source_with_cause_0() {
    // [dos] max_registrations = 3: the 4th failed registration (still answered) blacklists
    // 127.0.0.1; from then on the PBX does not answer it, so SIPp's last two time out.
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-dos-reg");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"33000-33099\"\n\
         [dos]\nmax_registrations = 3\ninterval_secs = 60\nblacklist_secs = 60\n{USERS}"
    );
    let pbx = Pbx::start(&dir, &config);
    let sf = scenario("register_wrong_password.xml");
    let args = [
        "-sf", &sf, "-s", "201", "-au", "201", "-ap", "nope", "-m", "6", "-r", "20", "-timeout",
        "4",
    ];
    let run = sipp::run(
        &dir,
        &pbx.addr("udp").to_string(),
        sipp::free_udp_port(),
        &args,
    );
    assert_eq!(run.stat("SuccessfulCall(C)"), 4, "{:?}", run.stats);
    assert_eq!(run.stat("TotalCallCreated"), 6, "{:?}", run.stats);
    let events = events_until(&pbx.data, 0, &["dos_ip_blacklisted"]);
    let line = find_event(&events, "dos_ip_blacklisted").to_string();
    assert!(line.contains("\"cause\":0"), "{line}");
}

#[test]
fn mv50_a_device_beyond_the_terminal_capacity_is_refused_and_refreshes_still_pass() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-capacity");
    // Capacity 2 (the real bound is 2400, MV-50): two devices register, a third is refused.
    let config =
        format!("{EPHEMERAL_SIP}max_terminals = 2\n[media]\nrtp_ports = \"31700-31799\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (a, b, c) = (
        sipp::free_udp_port(),
        sipp::free_udp_port(),
        sipp::free_udp_port(),
    );
    let ok = |r: &sipp::Run| r.stat("SuccessfulCall(C)");
    assert_eq!(ok(&register(&dir, &target, "201", "s3cret-201", a)), 1);
    assert_eq!(ok(&register(&dir, &target, "202", "s3cret-202", b)), 1);
    let third = register(&dir, &target, "201", "s3cret-201", c);
    assert_eq!(
        (ok(&third), third.stat("FailedCall(C)")),
        (0, 1),
        "third device refused"
    );
    // The devices already registered refresh as before.
    assert_eq!(ok(&register(&dir, &target, "201", "s3cret-201", a)), 1);
    let log = std::fs::read_to_string(dir.join("pbx.log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn mv50_a_user_registers_at_most_max_devices_devices() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-max-devices");
    let users = USERS.replacen(
        "password = \"s3cret-201\"\n",
        "password = \"s3cret-201\"\nmax_devices = 1\n",
        1,
    );
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31800-31819\"\n{users}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = [
        sipp::free_udp_port(),
        sipp::free_udp_port(),
        sipp::free_udp_port(),
    ];
    let ok = |r: &sipp::Run| r.stat("SuccessfulCall(C)");
    assert_eq!(
        ok(&register(&dir, &target, "201", "s3cret-201", ports[0])),
        1
    );
    let second = register(&dir, &target, "201", "s3cret-201", ports[1]);
    assert_eq!(ok(&second), 0, "a second device of 201 is refused");
    // The first device refreshes; another user is not affected.
    assert_eq!(
        ok(&register(&dir, &target, "201", "s3cret-201", ports[0])),
        1
    );
    assert_eq!(
        ok(&register(&dir, &target, "202", "s3cret-202", ports[2])),
        1
    );
}

/// MV-50 (blocked numbers): a dialled number that starts with a barred prefix gets 403;
/// other numbers are not affected.
#[test]
fn mv50_calls_to_blocked_numbers_are_refused() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-blocked");
    let config = format!("{EPHEMERAL_SIP}[calls]\nblocked_numbers = [\"0900\", \"00\"]\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let port = sipp::free_udp_port();
    assert_eq!(
        register(&dir, &target, "201", "s3cret-201", port).stat("SuccessfulCall(C)"),
        1
    );
    let sock = std::net::UdpSocket::bind(("127.0.0.1", port)).expect("201's port");
    let to: std::net::SocketAddr = target.parse().expect("addr");
    for (n, number) in ["09001234", "0044123"].iter().enumerate() {
        let invite = invite_from_201(port, number, &format!("blocked-{n}"), "");
        assert_eq!(status_of(&sock, to, &invite), "SIP/2.0 403 Number blocked");
    }
    // Not barred: 202 is known but not registered, so 480.
    let invite = invite_from_201(port, "202", "not-blocked", "");
    assert!(status_of(&sock, to, &invite).starts_with("SIP/2.0 480"));
}

/// MV-50's per-type sub-limit: a user whose terminal is a BluStar PC client has one device,
/// whatever `max_devices` says.
#[test]
fn mv50_a_blustar_user_registers_one_device() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-blustar");
    let users = USERS.replacen(
        "password = \"s3cret-201\"\n",
        "password = \"s3cret-201\"\nterminal = \"blustar\"\n",
        1,
    );
    let config = format!("{EPHEMERAL_SIP}{users}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ok = |r: &sipp::Run| r.stat("SuccessfulCall(C)");
    let (a, b) = (sipp::free_udp_port(), sipp::free_udp_port());
    assert_eq!(ok(&register(&dir, &target, "201", "s3cret-201", a)), 1);
    assert_eq!(ok(&register(&dir, &target, "201", "s3cret-201", b)), 0);
}
