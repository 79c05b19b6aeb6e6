//! Transcoding in calls (issue 10): an Opus-only SIPp phone calls a PCMU-only SIPp phone
//! through the PBX. The callee is offered the caller's codec plus every codec the relay can
//! transcode, answers PCMU, and the caller is answered with its own Opus; the call record
//! names both codecs. Each relayed leg still costs 2 against the media budget (MV-36).
//! A call with real RTP (SIPp plays a G.711 A-law capture) gets the relay's statistics in its
//! call record.

mod common;

use common::{EPHEMERAL_SIP, Pbx, sipp_register as register, temp_dir};
use testkit::sipp::{self, Background, scenario};

const USERS: &str = "[[users]]\nextension = \"201\"\npassword = \"s3cret-201\"\n\
                     [[users]]\nextension = \"202\"\npassword = \"s3cret-202\"\n";

#[test]
fn mv36_opus_only_caller_reaches_pcmu_only_callee_through_the_transcoding_relay() {
    if !testkit::peer("sipp") {
        return;
    }
    let dir = temp_dir("sipp-transcode");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31600-31699\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (caller_port, callee_port) = (sipp::free_udp_port(), sipp::free_udp_port());
    for (user, pw, port) in [
        ("201", "s3cret-201", caller_port),
        ("202", "s3cret-202", callee_port),
    ] {
        let r = register(&dir, &target, user, pw, port);
        assert_eq!((r.code, r.stat("SuccessfulCall(C)")), (0, 1), "{user}");
    }
    let calls = "5";
    let callee = scenario("transcode_callee_pcmu.xml");
    let uas = Background::start(&dir, "", callee_port, &["-sf", &callee, "-m", calls]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let caller = scenario("transcode_caller_opus.xml");
    let args = [
        "-sf", &caller, "-key", "caller", "201", "-s", "202", "-m", calls, "-r", "10",
    ];
    let run = sipp::run(&dir, &target, caller_port, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 5, "{:?}", run.stats);
    assert_eq!(run.code, 0, "the caller got Opus back every time");
    let uas = uas.wait();
    assert_eq!(uas.stat("SuccessfulCall(C)"), 5, "{:?}", uas.stats);
    let cdrs = common::cdrs(&pbx.data);
    let transcoded = cdrs
        .lines()
        .filter(|l| l.contains("\"disposition\":\"answered\""))
        .filter(|l| l.contains("\"codecs\":[\"opus\",\"PCMU\"]"))
        .count();
    assert_eq!(transcoded, 5, "{cdrs}");
}

#[test]
fn cdr_carries_the_relays_media_statistics_of_a_call_with_rtp() {
    if !testkit::peer("sipp") {
        return;
    }
    let pcap = "/usr/share/sip-tester/g711a.pcap";
    if !testkit::peer_available(std::path::Path::new(pcap).exists(), "SIPp's g711a.pcap") {
        return;
    }
    let dir = temp_dir("sipp-cdr-media");
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"31700-31799\"\n{USERS}");
    let pbx = Pbx::start(&dir, &config);
    let target = pbx.addr("udp").to_string();
    let (caller_port, callee_port) = (sipp::free_udp_port(), sipp::free_udp_port());
    for (user, pw, port) in [
        ("201", "s3cret-201", caller_port),
        ("202", "s3cret-202", callee_port),
    ] {
        let r = register(&dir, &target, user, pw, port);
        assert_eq!((r.code, r.stat("SuccessfulCall(C)")), (0, 1), "{user}");
    }
    let uas = Background::start(&dir, "", callee_port, &["-sn", "uas", "-m", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sf = scenario("call_pcma_media.xml");
    let args = [
        "-sf", &sf, "-key", "caller", "201", "-key", "pcap", pcap, "-s", "202", "-m", "1", "-mp",
        "32100",
    ];
    let run = sipp::run(&dir, &target, caller_port, &args);
    assert_eq!(run.stat("SuccessfulCall(C)"), 1, "{:?}", run.stats);
    assert_eq!(uas.wait().stat("SuccessfulCall(C)"), 1);
    let cdrs = common::cdrs(&pbx.data);
    let rec: serde_json::Value =
        serde_json::from_str(cdrs.lines().next().expect("a record")).expect("JSON");
    assert_eq!(rec["disposition"], "answered", "{rec}");
    // SIPp's built-in uas answers PCMU only: the relay transcodes PCMA -> PCMU.
    assert_eq!(rec["codecs"], serde_json::json!(["PCMA", "PCMU"]), "{rec}");
    let from_caller = &rec["media"][0];
    let loss = from_caller["loss_pct"]
        .as_f64()
        .expect("loss of the caller's leg");
    let mos = from_caller["mos"]
        .as_f64()
        .expect("MOS of the caller's leg");
    // About 2 s of 20-30 ms packets on loopback: nothing lost, toll quality for G.711.
    assert!(loss < 1.0, "{rec}");
    assert!((4.0..=4.5).contains(&mos), "{rec}");
}
