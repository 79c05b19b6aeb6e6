//! Hold and resume through the PBX (issue 10): a SIPp caller re-INVITEs with a=sendonly and
//! then a=sendrecv (RFC 3264 §8.4); the SIPp callee must receive each re-INVITE with the
//! caller's direction and the PBX's relay address, and its answers (a=recvonly, a=sendrecv)
//! must reach the caller. Both scenarios check their regexps, so a wrong direction or a
//! missing relay rewrite fails the call.

mod common;

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, temp_dir};
use testkit::sipp::{self, Background, scenario};

#[test]
fn mv29_hold_and_resume_re_invites_cross_the_b2bua_with_directions_and_relay() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-hold");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31800-31899\"\n\
         [[users]]\nextension = \"201\"\npassword = \"p201\"\n\
         [[users]]\nextension = \"202\"\npassword = \"p202\"\n"
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (a, b) = (sipp::free_udp_port(), sipp::free_udp_port());
    for (user, port) in [("201", a), ("202", b)] {
        sipp_registered(&dir, &target, user, &format!("p{user}"), port);
    }
    let sf = scenario("callee_hold_resume.xml");
    let callee = Background::start(&dir, "", b, &["-sf", &sf, "-m", "3"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("caller_hold_resume.xml");
    let args = [
        "-sf",
        &sf,
        "-key",
        "caller",
        "201",
        "-s",
        "202",
        "-m",
        "3",
        "-r",
        "2",
        "-trace_msg",
    ];
    let run = sipp::run(&dir, &target, a, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 3, "{:?}", run.stats);
    assert_eq!(run.stat("FailedCall(C)"), 0);
    let callee = callee.wait();
    assert_eq!(callee.stat("SuccessfulCall(C)"), 3, "{:?}", callee.stats);
    let cdrs = common::cdrs(&pbx.data);
    let answered = cdrs
        .lines()
        .filter(|l| l.contains("\"disposition\":\"answered\""))
        .count();
    assert_eq!(answered, 3, "{cdrs}");
}
