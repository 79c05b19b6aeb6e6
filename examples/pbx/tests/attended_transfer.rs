//! Attended transfer through the PBX (issue 10; REFER with Replaces, RFC 3515/3891): 201 (SIPp)
//! calls 202; 202 (a small independent Python phone, `peers/attended_transferor.py`) calls
//! 203 (SIPp), then refers call 1 to 203 replacing call 2. 203 must get the PBX's re-INVITE
//! offering call 1's relay, 202 must get 202 Accepted, a final NOTIFY 200 and a BYE on both
//! calls, and 201's later BYE must reach 203.

mod common;

use std::process::Command;

use common::{EPHEMERAL_SIP, Pbx, sipp_registered, temp_dir};
use testkit::sipp::{self, Background, scenario};

#[test]
fn mv29_attended_transfer_joins_the_transferee_and_the_target() {
    if !testkit::peer("sipp") || !testkit::peer("python3") {
        return;
    }
    let dir = temp_dir("sipp-attended");
    let config = format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"31900-31999\"\n\
         [[users]]\nextension = \"201\"\npassword = \"p201-secret\"\n\
         [[users]]\nextension = \"202\"\npassword = \"p202-secret\"\n\
         [[users]]\nextension = \"203\"\npassword = \"p203-secret\"\n"
    );
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (a, x, c) = (
        sipp::free_udp_port(),
        sipp::free_udp_port(),
        sipp::free_udp_port(),
    );
    for (user, port) in [("201", a), ("203", c)] {
        sipp_registered(&dir, &target, user, &format!("p{user}-secret"), port);
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/attended_transferor.py"
    );
    let transferor = Command::new("python3")
        .args([script, &target, &x.to_string(), "202", "p202-secret", "203"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start python3");
    std::thread::sleep(std::time::Duration::from_millis(800));
    let sf = scenario("callee_reinvited.xml");
    let callee = Background::start(&dir, "", c, &["-sf", &sf, "-m", "1", "-trace_msg"]);
    let sf = scenario("call_hold_d.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "202", "-m", "1", "-d", "4000",
    ];
    let run = sipp::run(&dir, &target, a, &args);
    let out = transferor.wait_with_output().expect("transferor ran");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "transferor: {said}");
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    let callee = callee.wait();
    assert_eq!(callee.stat("SuccessfulCall(C)"), 1, "{:?}", callee.stats);
    // Call 1 now runs 201 -> 203; call 2 (202 -> 203) ended when 202 left.
    let cdrs = common::cdrs(&pbx.data);
    let has = |caller: &str, callee: &str| {
        cdrs.lines().any(|l| {
            l.contains(&format!("\"caller\":\"{caller}\""))
                && l.contains(&format!("\"callee\":\"{callee}\""))
                && l.contains("\"answered\"")
        })
    };
    assert!(has("201", "203") && has("202", "203"), "{cdrs}");
}
