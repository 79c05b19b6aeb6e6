//! SIPp (Debian `sip-tester`) as the independent peer of the `uas` example: its built-in
//! `uac` scenario places calls (INVITE, 200 + SDP, ACK, BYE, 200) through our sans-IO
//! transaction layer and endpoint over UDP on loopback (RFC 3261 §13, §15, §17; MV-29..35
//! build on this layer). Bounded in calls, rate and time; children are killed on drop.

mod common;

use common::{scratch, start};
use testkit::sipp;

const UAS: &str = env!("CARGO_BIN_EXE_uas");

#[test]
fn sipp_uac_calls_complete_against_uas() {
    if !testkit::peer("sipp") {
        return;
    }
    let (_uas, addr) = start(UAS, &["--bind", "127.0.0.1:0", "--exit-after", "120"]);
    let dir = scratch("uas-ok");
    let port = sipp::free_udp_port();
    let run = sipp::run(
        &dir,
        &addr,
        port,
        &["-sn", "uac", "-m", "1000", "-r", "200"],
    );
    assert_eq!(run.stat("SuccessfulCall(C)"), 1000);
    assert_eq!(run.stat("FailedCall(C)"), 0);
    assert_eq!(run.stat("FailedUnexpectedMessage(C)"), 0);
    assert_eq!(run.code, 0, "sipp exit code");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sipp_uac_sees_486_from_a_busy_uas() {
    // SIPp's uac expects 200: each 486 Busy Here is an "unexpected message" failure.
    if !testkit::peer("sipp") {
        return;
    }
    let args = ["--bind", "127.0.0.1:0", "--exit-after", "120", "--busy"];
    let (_uas, addr) = start(UAS, &args);
    let dir = scratch("uas-busy");
    let port = sipp::free_udp_port();
    let run = sipp::run(&dir, &addr, port, &["-sn", "uac", "-m", "20", "-r", "50"]);
    assert_eq!(run.stat("SuccessfulCall(C)"), 0);
    assert_eq!(run.stat("FailedUnexpectedMessage(C)"), 20);
    assert_ne!(run.code, 0);
    let _ = std::fs::remove_dir_all(dir);
}
