//! SIP trunks with a SIPp provider (issue 10, MV-30, MV-35): a call from the provider to a
//! DDI rings the extension it maps to; a user's call to a number with the trunk's prefix goes
//! out to the provider without the prefix, answering its 407 digest challenge; calls beyond
//! the trunk's channels are refused 503. The call records keep incoming and outgoing traffic
//! apart (MV-53).

mod common;

use std::path::Path;

use common::{EPHEMERAL_SIP, Pbx, events_until, find_event, sipp_registered as register, temp_dir};
use testkit::sipp::{self, Background, scenario};

fn config(provider: u16, channels: u32) -> String {
    registering(provider, channels, false)
}

fn registering(provider: u16, channels: u32, register: bool) -> String {
    format!(
        "{EPHEMERAL_SIP}[media]\nrtp_ports = \"32800-32899\"\n\
         [[users]]\nextension = \"201\"\npassword = \"p201\"\n\
         [[users]]\nextension = \"202\"\npassword = \"p202\"\n\
         [[trunks]]\nname = \"provider\"\nregistrar = \"127.0.0.1:{provider}\"\n\
         username = \"trunkuser\"\npassword = \"trunkpw\"\nregister = {register}\n\
         expires = 60\n\
         channels = {channels}\noutbound_prefixes = [\"0\"]\n\
         ddi = {{ \"5551000\" = \"202\" }}\n"
    )
}

#[test]
fn mv30_provider_calls_reach_the_ddi_extension_and_users_call_out_with_digest() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-trunk");
    let provider = sipp::free_udp_port();
    let pbx = Pbx::start(&dir, &config(provider, 4));
    let target = pbx.addr("udp").to_string();
    let ports = [sipp::free_udp_port(), sipp::free_udp_port()];
    register(&dir, &target, "201", "p201", ports[0]);
    register(&dir, &target, "202", "p202", ports[1]);

    // Inbound: the provider calls DDI 5551000, which rings 202.
    let uas = Background::start(&dir, "", ports[1], &["-sn", "uas", "-m", "2"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "4930555", "-s", "5551000", "-m", "2", "-r", "5",
    ];
    let run = sipp::run(&dir, &target, provider, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    assert_eq!(
        uas.wait().stat("SuccessfulCall(C)"),
        2,
        "202 answered the DDI"
    );
    // An unassigned DDI is refused.
    let args = [
        "-sf", &sf, "-key", "caller", "4930555", "-s", "5559999", "-m", "1",
    ];
    let run = sipp::run(&dir, &target, provider, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 0);

    // Outbound: 201 dials 0 4930999; the provider challenges, then answers.
    let sf = scenario("provider_auth.xml");
    let prov = Background::start(&dir, "", provider, &["-sf", &sf, "-m", "2", "-trace_msg"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_as_user.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "04930999", "-m", "2", "-r", "5",
    ];
    let run = sipp::run(&dir, &target, ports[0], &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 2, "{:?}", run.stats);
    let prov = prov.wait();
    assert_eq!(prov.stat("SuccessfulCall(C)"), 2, "{:?}", prov.stats);
    // The digest responses, recomputed by Python's hashlib (RFC 2617 without qop).
    check_digests(&dir, "provider_auth_", "Proxy-Authorization", "INVITE", 2);
    let cdrs = common::cdrs(&pbx.data);
    let out = cdrs
        .lines()
        .filter(|l| l.contains("\"callee\":\"4930999\"") && l.contains("\"answered\""))
        .count();
    assert_eq!(out, 2, "{cdrs}");
    // MV-53 traffic observation: incoming and outgoing traffic apart, with the trunk.
    let traffic = |dir: &str, callee: &str| {
        cdrs.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|r| r["traffic"] == dir && r["callee"] == callee)
            .filter(|r| r["trunk"] == "provider" && r["disposition"] == "answered")
            .count()
    };
    assert_eq!(traffic("incoming", "202"), 2, "{cdrs}");
    assert_eq!(traffic("outgoing", "4930999"), 2, "{cdrs}");
    assert!(!cdrs.contains("\"traffic\":\"internal\""), "{cdrs}");
}

#[test]
fn mv35_calls_beyond_the_trunk_channels_are_refused() {
    // One SIP access channel: while a provider call rings 202, a second one gets 503.
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-trunk-channels");
    let provider = sipp::free_udp_port();
    let pbx = Pbx::start(&dir, &config(provider, 1));
    let target = pbx.addr("udp").to_string();
    let port = sipp::free_udp_port();
    register(&dir, &target, "202", "p202", port);
    let sf = scenario("callee_answer_late.xml");
    let uas = Background::start(&dir, "", port, &["-sf", &sf, "-m", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_as_user.xml");
    // Two calls at once (-l 2, high rate): the first is answered after 0.5 s, the second
    // arrives meanwhile and is refused.
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-s", "5551000", "-m", "2", "-r", "50",
    ];
    let run = sipp::run(&dir, &target, provider, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    assert_eq!(run.stat("FailedCall(C)"), 1, "{:?}", run.stats);
    assert_eq!(uas.wait().stat("SuccessfulCall(C)"), 1);
}

/// Recomputes the digest responses of `header` lines in the SIPp trace `trace` with Python's
/// hashlib (RFC 2617, MD5, no qop; account trunkuser/trunkpw, realm provider.test).
fn check_digests(dir: &Path, trace: &str, header: &str, method: &str, count: usize) {
    let text = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(trace))
        .map(|e| std::fs::read_to_string(e.path()).expect("trace"))
        .expect("provider message trace");
    let prefix = format!("{header}: ");
    let auths: Vec<&str> = text.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(auths.len(), count, "{text}");
    for a in auths {
        let field = |k: &str| {
            let at = a.find(&format!("{k}=\"")).expect(k) + k.len() + 2;
            a[at..].split('"').next().expect(k).to_owned()
        };
        let script = format!(
            "import hashlib\nm=lambda s: hashlib.md5(s.encode()).hexdigest()\n\
             print(m(m('trunkuser:provider.test:trunkpw')+':{}:'+m('{method}:{}')))",
            field("nonce"),
            field("uri")
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .expect("python3");
        let expected = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert_eq!(field("response"), expected, "{a}");
    }
}

#[test]
fn mv2_35_trunk_registers_at_the_provider_with_digest_and_reports_it() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-trunk-reg");
    let provider = sipp::free_udp_port();
    let sf = scenario("provider_register_accept.xml");
    let prov = Background::start(&dir, "", provider, &["-sf", &sf, "-m", "1", "-trace_msg"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pbx = Pbx::start(&dir, &registering(provider, 2, true));
    let prov = prov.wait();
    assert_eq!(prov.stat("SuccessfulCall(C)"), 1, "{:?}", prov.stats);
    check_digests(
        &dir,
        "provider_register_accept_",
        "Authorization",
        "REGISTER",
        1,
    );
    let events = events_until(&pbx.data, 0, &["sip_account_available"]);
    let line = find_event(&events, "sip_account_available").to_string();
    assert!(
        line.contains("provider") && line.contains("trunkuser"),
        "{line}"
    );
}

#[test]
fn mv2_35_refused_trunk_credentials_raise_not_authorised() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-trunk-reg-refused");
    let provider = sipp::free_udp_port();
    let sf = scenario("provider_register_refuse.xml");
    let prov = Background::start(&dir, "", provider, &["-sf", &sf, "-m", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pbx = Pbx::start(&dir, &registering(provider, 2, true));
    assert_eq!(prov.wait().stat("SuccessfulCall(C)"), 1);
    let events = events_until(&pbx.data, 0, &["sip_account_unavailable"]);
    let line = find_event(&events, "sip_account_unavailable").to_string();
    assert!(
        line.contains("not_authorised") || line.contains("\"reason\":1"),
        "{line}"
    );
}
