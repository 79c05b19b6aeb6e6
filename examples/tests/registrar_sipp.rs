//! SIPp registers through the `registrar` example with digest authentication (RFC 3261
//! §22, RFC 7616 MD5 as SIPp implements it) over UDP on loopback: the right password gets
//! 200 on every registration, a wrong one gets a fresh 401 (MV-29: the registrar
//! authenticates every terminal).

mod common;

use common::{scratch, start};
use testkit::sipp::{self, scenario};

const REGISTRAR: &str = env!("CARGO_BIN_EXE_registrar");

fn registrar() -> (common::Running, String) {
    let args = ["--bind", "127.0.0.1:0", "--exit-after", "120", "--md5-only"];
    start(
        REGISTRAR,
        &[&args[..], &["--user", "201:s3cret", "--user", "202:other"]].concat(),
    )
}

#[test]
fn mv29_sipp_registers_with_digest() {
    if !testkit::peer("sipp") {
        return;
    }
    let (_reg, addr) = registrar();
    let dir = scratch("reg-ok");
    let sf = scenario("register_auth.xml");
    let args = [
        "-sf", &sf, "-s", "201", "-au", "201", "-ap", "s3cret", "-m", "300", "-r", "100",
    ];
    let run = sipp::run(&dir, &addr, sipp::free_udp_port(), &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 300);
    assert_eq!(run.stat("FailedCall(C)"), 0);
    assert_eq!(run.code, 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mv29_wrong_password_is_refused() {
    if !testkit::peer("sipp") {
        return;
    }
    let (_reg, addr) = registrar();
    let dir = scratch("reg-bad");
    // The scenario succeeds only if the second REGISTER is answered 401 again.
    let sf = scenario("register_wrong_password.xml");
    let args = [
        "-sf", &sf, "-s", "201", "-au", "201", "-ap", "guess", "-m", "10", "-r", "50",
    ];
    let run = sipp::run(&dir, &addr, sipp::free_udp_port(), &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 10);
    assert_eq!(run.code, 0);
    // And the right password for another user's AOR is refused too (403 is unexpected here).
    let sf = scenario("register_auth.xml");
    let args = [
        "-sf", &sf, "-s", "201", "-au", "202", "-ap", "other", "-m", "5", "-r", "50",
    ];
    let run = sipp::run(&dir, &addr, sipp::free_udp_port(), &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 0);
    assert_eq!(run.stat("FailedUnexpectedMessage(C)"), 5);
    let _ = std::fs::remove_dir_all(dir);
}
