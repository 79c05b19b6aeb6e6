//! Ringing with SIPp devices through the PBX (issue 10): every device of a user rings at once
//! (parallel ringing) and the others are cancelled when one answers; forwarding on busy and
//! on no answer; caller ID in P-Asserted-Identity.

mod common;

use std::path::{Path, PathBuf};

use common::{EPHEMERAL_SIP, Pbx, sipp_registered as register, temp_dir};
use testkit::sipp::{self, Background, scenario};

/// Registers 201, 202 and 203, each from a port of its own; the ports.
fn register_all(dir: &Path, pbx: &str) -> [u16; 3] {
    let ports = [
        sipp::free_udp_port(),
        sipp::free_udp_port(),
        sipp::free_udp_port(),
    ];
    for (user, port) in ["201", "202", "203"].into_iter().zip(ports) {
        register(dir, pbx, user, &format!("p{user}"), port);
    }
    ports
}

fn users(extra: &str) -> String {
    format!(
        "[calls]\nno_answer_secs = 1\n\
         [[users]]\nextension = \"201\"\npassword = \"p201\"\n\
         [[users]]\nextension = \"202\"\npassword = \"p202\"\n{extra}\n\
         [[users]]\nextension = \"203\"\npassword = \"p203\"\n"
    )
}

/// Places `calls` calls from 201 to 202 and returns the caller's run.
fn call(dir: &Path, pbx: &str, port: u16, calls: &str) -> sipp::Run {
    let sf = scenario("call_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", calls, "-r", "5",
    ];
    sipp::run(dir, pbx, port, &args)
}

fn callee(dir: &Path, port: u16, xml: &str, calls: &str) -> Background {
    let sf = scenario(xml);
    Background::start(
        dir,
        "",
        port,
        &["-sf", &sf, "-key", "caller", "201", "-m", calls],
    )
}

#[test]
fn every_device_of_the_callee_rings_and_the_others_are_cancelled_when_one_answers() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-fork");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"32200-32299\"\n{}",
        users("")
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = [
        sipp::free_udp_port(),
        sipp::free_udp_port(),
        sipp::free_udp_port(),
    ];
    register(&dir, &target, "201", "p201", ports[0]);
    // 202 has two devices: a desk phone that only rings and a softphone that answers.
    register(&dir, &target, "202", "p202", ports[1]);
    register(&dir, &target, "202", "p202", ports[2]);
    let ringer = callee(&dir, ports[1], "callee_ring_until_cancel.xml", "3");
    let answerer = callee(&dir, ports[2], "callee_answer_late.xml", "3");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = call(&dir, &target, ports[0], "3");
    assert_eq!(run.stat("SuccessfulCall(C)"), 3, "{:?}", run.stats);
    let answerer = answerer.wait();
    assert_eq!(
        answerer.stat("SuccessfulCall(C)"),
        3,
        "answered, caller ID checked"
    );
    let ringer = ringer.wait();
    assert_eq!(ringer.stat("SuccessfulCall(C)"), 3, "rang, then cancelled");
}

#[test]
fn a_busy_callee_forwards_to_its_busy_target() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-fwd-busy");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"32300-32399\"\n{}",
        users("forward_busy = \"203\"")
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = register_all(&dir, &target);
    let busy = callee(&dir, ports[1], "callee_busy.xml", "2");
    let other = callee(&dir, ports[2], "callee_answer_late.xml", "2");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = call(&dir, &target, ports[0], "2");
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    assert_eq!(busy.wait().stat("SuccessfulCall(C)"), 2, "202 was busy");
    assert_eq!(other.wait().stat("SuccessfulCall(C)"), 2, "203 answered");
}

#[test]
fn an_unanswered_call_forwards_after_the_no_answer_time() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-fwd-noans");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"32400-32499\"\n{}",
        users("forward_no_answer = \"203\"")
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = register_all(&dir, &target);
    let ringer = callee(&dir, ports[1], "callee_ring_until_cancel.xml", "2");
    let other = callee(&dir, ports[2], "callee_answer_late.xml", "2");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = call(&dir, &target, ports[0], "2");
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    assert_eq!(ringer.wait().stat("SuccessfulCall(C)"), 2, "202 rang 1 s");
    assert_eq!(other.wait().stat("SuccessfulCall(C)"), 2, "203 answered");
}

#[test]
fn sigterm_hangs_up_active_calls_with_bye_on_both_legs() {
    // [shutdown] mode = "bye" (the default): the PBX BYEs every active call, writes its
    // record, and exits cleanly once the BYEs are answered.
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-shutdown");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"32500-32599\"\n{}",
        users("")
    );
    let mut pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = [sipp::free_udp_port(), sipp::free_udp_port()];
    register(&dir, &target, "201", "p201", ports[0]);
    register(&dir, &target, "202", "p202", ports[1]);
    let uas = Background::start(&dir, "", ports[1], &["-sn", "uas", "-m", "2"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_until_bye.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", "2", "-l", "2", "-r", "10",
    ];
    let caller = Background::start(&dir, &target, ports[0], &args);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = pbx.terminate();
    assert!(status.success(), "clean exit: {status:?}");
    let caller = caller.wait();
    assert_eq!(caller.stat("SuccessfulCall(C)"), 2, "{:?}", caller.stats);
    assert_eq!(
        uas.wait().stat("SuccessfulCall(C)"),
        2,
        "the callee got BYE too"
    );
    let cdrs = common::cdrs(&pbx.data);
    let answered = cdrs
        .lines()
        .filter(|l| l.contains("\"disposition\":\"answered\""))
        .count();
    assert_eq!(answered, 2, "{cdrs}");
}

#[test]
fn blind_transfer_with_refer_hands_the_caller_to_the_target() {
    // 201 calls 202; 202 REFERs the call to 203 (RFC 3515). 203 answers, 202 gets NOTIFY
    // 100 then 200 and a BYE, and 201's later BYE reaches 203.
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-refer");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"32700-32799\"\n{}",
        users("")
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = register_all(&dir, &target);
    let sf = scenario("callee_transfers.xml");
    let transferor = Background::start(
        &dir,
        &target,
        ports[1],
        &["-sf", &sf, "-key", "target", "203", "-m", "2"],
    );
    let answerer = callee(&dir, ports[2], "callee_answer_late.xml", "2");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_hold_d.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", "2", "-r", "5", "-d", "2500",
    ];
    let run = sipp::run(&dir, &target, ports[0], &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    let transferor = transferor.wait();
    assert_eq!(
        transferor.stat("SuccessfulCall(C)"),
        2,
        "{:?}",
        transferor.stats
    );
    assert_eq!(
        answerer.wait().stat("SuccessfulCall(C)"),
        2,
        "203 took the calls"
    );
    let cdrs = common::cdrs(&pbx.data);
    let to_203 = cdrs
        .lines()
        .filter(|l| l.contains("\"callee\":\"203\"") && l.contains("\"answered\""))
        .count();
    assert_eq!(to_203, 2, "{cdrs}");
}

/// Calls 201 → 600 `calls` times, one after the other.
fn call_group(dir: &Path, pbx: &str, port: u16, calls: &str) -> sipp::Run {
    let sf = scenario("call_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "600", "-m", calls, "-r", "1", "-l", "1",
    ];
    sipp::run(dir, pbx, port, &args)
}

/// Two calls from 201 to hunt group 600 = [202, 203] (its table gets `extra` lines), with
/// 202 and 203 running the `(scenario, calls)` given; the PBX, the caller's run and theirs.
fn hunt(
    tag: &str,
    rtp: &str,
    extra: &str,
    members: [(&str, &str); 2],
) -> (Pbx, sipp::Run, [sipp::Run; 2]) {
    let dir = temp_dir(tag);
    let group =
        format!("\n[[hunt_groups]]\nnumber = \"600\"\nmembers = [\"202\", \"203\"]\n{extra}");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"{rtp}\"\n{}{group}",
        users("")
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = register_all(&dir, &target);
    let b = callee(&dir, ports[1], members[0].0, members[0].1);
    let c = callee(&dir, ports[2], members[1].0, members[1].1);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let run = call_group(&dir, &target, ports[0], "2");
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    (pbx, run, [b.wait(), c.wait()])
}

#[test]
fn a_hunt_group_rings_every_member_and_the_first_to_answer_takes_the_call() {
    if !testkit::peer("sipp") {
        return;
    }
    let members = [
        ("callee_ring_until_cancel.xml", "2"),
        ("callee_answer_late.xml", "2"),
    ];
    let (pbx, _, [ringer, answerer]) = hunt("sipp-hunt", "33300-33319", "", members);
    assert_eq!(answerer.stat("SuccessfulCall(C)"), 2, "203 answered");
    assert_eq!(
        ringer.stat("SuccessfulCall(C)"),
        2,
        "202 rang, then cancelled"
    );
    let cdrs = common::cdrs(&pbx.data);
    let answered = cdrs
        .lines()
        .filter(|l| l.contains("\"callee\":\"600\"") && l.contains("\"answered\""))
        .count();
    assert_eq!(answered, 2, "{cdrs}");
}

/// MV-52: a linear group rings one member at a time for `ring_secs`, from the first: 202
/// never answers, so each call moves on to 203 after a second.
#[test]
fn mv52_a_linear_hunt_group_moves_on_from_a_member_who_does_not_answer() {
    if !testkit::peer("sipp") {
        return;
    }
    let extra = "strategy = \"linear\"\nring_secs = 1\n";
    let members = [
        ("callee_ring_until_cancel.xml", "2"),
        ("callee_answer_late.xml", "2"),
    ];
    let (_pbx, _, [ringer, answerer]) = hunt("sipp-hunt-linear", "33320-33339", extra, members);
    assert_eq!(
        ringer.stat("SuccessfulCall(C)"),
        2,
        "202 rang first each time"
    );
    assert_eq!(answerer.stat("SuccessfulCall(C)"), 2, "then 203 answered");
}

/// MV-52: a cyclic group starts each call one member further on: of two calls, 202 takes the
/// first and 203 the second, each answering at once.
#[test]
fn mv52_a_cyclic_hunt_group_shares_calls_among_its_members() {
    if !testkit::peer("sipp") {
        return;
    }
    let extra = "strategy = \"cyclic\"\nring_secs = 5\n";
    let members = [
        ("callee_answer_late.xml", "1"),
        ("callee_answer_late.xml", "1"),
    ];
    let (pbx, _, [first, second]) = hunt("sipp-hunt-cyclic", "33340-33359", extra, members);
    assert_eq!(first.stat("SuccessfulCall(C)"), 1, "202 took one call");
    assert_eq!(second.stat("SuccessfulCall(C)"), 1, "203 took the other");
    // Each call went straight to a member who answered (half a second of ringing): none
    // waited out 5 s on a member that was gone, as the second call would if both started
    // at 202.
    let cdrs = common::cdrs(&pbx.data);
    let rang = group_ringing(&cdrs);
    assert_eq!(rang.len(), 2, "{rang:?}");
    assert!(rang.iter().all(|r| (0.0..3.0).contains(r)), "{rang:?}");
    // MV-53: calls between users are internal traffic, with no trunk.
    let internal = cdrs
        .lines()
        .filter(|l| l.contains("\"traffic\":\"internal\"") && l.contains("\"trunk\":null"))
        .count();
    assert_eq!(internal, 2, "{cdrs}");
}

/// SIPp's count of successful calls.
fn ok(run: &sipp::Run) -> u64 {
    run.stat("SuccessfulCall(C)")
}

/// Seconds each answered call to group 600 rang, from the call records, in order.
fn group_ringing(cdrs: &str) -> Vec<f64> {
    cdrs.lines()
        .filter_map(|line| {
            let rec: serde_json::Value = serde_json::from_str(line).expect("JSON");
            let at = |k: &str| {
                let t = rec[k].as_str()?;
                let secs: f64 = t.get(17..23)?.parse().ok()?;
                let minutes: f64 = t.get(14..16)?.parse().ok()?;
                Some(minutes * 60.0 + secs)
            };
            (rec["callee"] == "600").then_some(at("answer")? - at("start")?)
        })
        .collect()
}

/// A PBX with group 600 = [202, 203] (`strategy`, a TOML value followed by any further
/// lines; 2 s per member) and 201, 202, 203 registered; 202 and 203 run `(scenario, calls)`.
fn group_with(
    tag: &str,
    rtp: &str,
    strategy: &str,
    members: [(&str, &str); 2],
) -> (Pbx, PathBuf, String, u16, [Background; 2]) {
    let dir = temp_dir(tag);
    let group = format!(
        "\n[[hunt_groups]]\nnumber = \"600\"\nmembers = [\"202\", \"203\"]\n\
         ring_secs = 2\nstrategy = {strategy}\n"
    );
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"{rtp}\"\n{}{group}",
        users("")
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = register_all(&dir, &target);
    let b = callee(&dir, ports[1], members[0].0, members[0].1);
    let c = callee(&dir, ports[2], members[1].0, members[1].1);
    std::thread::sleep(std::time::Duration::from_millis(300));
    (pbx, dir, target, ports[0], [b, c])
}

/// MV-52 longest idle: 202 has just finished a call and 203 has had none, so the group
/// rings 203 first, though 202 is first in the list. Had it rung 202 (whose SIPp is done
/// after one call), the call would have waited out 2 s there first.
#[test]
fn mv52_a_longest_idle_hunt_group_rings_the_member_free_longest_first() {
    if !testkit::peer("sipp") {
        return;
    }
    let members = [
        ("callee_answer_late.xml", "1"),
        ("callee_answer_late.xml", "1"),
    ];
    let (pbx, dir, target, port, [b, c]) =
        group_with("sipp-hunt-idle", "33400-33419", "\"longest_idle\"", members);
    let direct = call(&dir, &target, port, "1");
    assert_eq!(ok(&direct), 1, "201 called 202 directly");
    let run = call_group(&dir, &target, port, "1");
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    assert_eq!(ok(&b.wait()), 1, "202 took the direct call");
    assert_eq!(ok(&c.wait()), 1, "203 took the group call");
    let rang = group_ringing(&common::cdrs(&pbx.data));
    assert_eq!(rang.len(), 1, "{rang:?}");
    assert!(rang[0] < 1.5, "203 answered first: {rang:?}");
}

/// MV-52 last agent: 202 does not answer the first call, so 203 takes it; the second call
/// from the same caller rings 203 first and is answered at once, where a linear group would
/// ring 202 for 2 s again.
#[test]
fn mv52_a_last_agent_hunt_group_rings_whoever_last_answered_the_caller_first() {
    if !testkit::peer("sipp") {
        return;
    }
    let members = [
        ("callee_ring_until_cancel.xml", "1"),
        ("callee_answer_late.xml", "2"),
    ];
    let (pbx, dir, target, port, [b, c]) =
        group_with("sipp-hunt-last", "33420-33439", "\"last_agent\"", members);
    let run = call_group(&dir, &target, port, "2");
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    assert_eq!(ok(&b.wait()), 1, "202 rang once");
    assert_eq!(ok(&c.wait()), 2, "203 took both calls");
    let rang = group_ringing(&common::cdrs(&pbx.data));
    assert_eq!(rang.len(), 2, "{rang:?}");
    assert!(rang[0] >= 1.9, "the first call rang 202 first: {rang:?}");
    assert!(rang[1] < 1.5, "the second rang 203 first: {rang:?}");
}

/// `[calls] max_call_secs`: an answered call is hung up on both legs when it reaches it.
#[test]
fn an_answered_call_is_hung_up_at_the_longest_allowed_duration() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-max-call");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"33360-33379\"\n{}",
        users("").replace(
            "no_answer_secs = 1\n",
            "no_answer_secs = 1\nmax_call_secs = 1\n"
        )
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let ports = register_all(&dir, &target);
    let uas = Background::start(&dir, "", ports[1], &["-sn", "uas", "-m", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_until_bye.xml");
    let args = ["-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", "1"];
    let started = std::time::Instant::now();
    let run = sipp::run(&dir, &target, ports[0], &args);
    assert_eq!(
        run.stat("SuccessfulCall(C)"),
        1,
        "the PBX hung up: {:?}",
        run.stats
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(ok(&uas.wait()), 1, "the callee got its BYE too");
    let cdrs = common::cdrs(&pbx.data);
    let rec: serde_json::Value =
        serde_json::from_str(cdrs.lines().next().expect("a record")).expect("JSON");
    let secs = rec["duration_s"].as_f64().expect("duration");
    assert!((0.9..2.0).contains(&secs), "{rec}");
}

/// MV-52 CLIP routing: callers whose number starts with 20 ring 203 first, though 202 is
/// first in the list; a list order would ring 202, which never answers, for 2 s first.
#[test]
fn mv52_a_clip_routed_hunt_group_rings_the_member_for_the_callers_number_first() {
    if !testkit::peer("sipp") {
        return;
    }
    let members = [
        ("callee_ring_until_cancel.xml", "1"),
        ("callee_answer_late.xml", "1"),
    ];
    let strategy = "\"clip\"\nclip = { \"20\" = \"203\", \"9\" = \"202\" }";
    let (pbx, dir, target, port, [_unrung, c]) =
        group_with("sipp-hunt-clip", "33440-33459", strategy, members);
    let run = call_group(&dir, &target, port, "1");
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    assert_eq!(ok(&c.wait()), 1, "203 took the call");
    let rang = group_ringing(&common::cdrs(&pbx.data));
    assert_eq!(rang.len(), 1, "{rang:?}");
    assert!(rang[0] < 1.5, "203 rang first: {rang:?}");
}
