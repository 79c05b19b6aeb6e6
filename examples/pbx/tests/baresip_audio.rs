//! Real audio through the PBX with two baresip softphones (issue 10): A registers as 201 and
//! B as 202 with digest, A calls B, A plays a 1 kHz tone from a WAV file and B's decoder output
//! (dumped by baresip's `sndfile` module) must carry that tone at a clear level. Once with a
//! common codec (PCMU on both sides) and once with transcoding (A speaks only Opus, B only
//! PCMU). The call record confirms the relay carried media both ways.
#![allow(clippy::disallowed_methods)] // a real-time test against real peers

mod common;

use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{EPHEMERAL_SIP, Pbx, temp_dir};
use rtp_media::player::Clip;

/// A UDP port with the next ten free too (baresip also binds TLS on port + 1).
fn free_block() -> u16 {
    loop {
        let p = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("port");
        if p < 60_000 && (1..10).all(|i| UdpSocket::bind(("127.0.0.1", p + i)).is_ok()) {
            return p;
        }
    }
}

/// One baresip softphone registered as `user` with its own config directory.
struct Phone {
    child: Child,
    dir: PathBuf,
    ctrl: u16,
}

/// Whether baresip came up (its control port answers) rather than exiting, within 5 s.
fn ready(child: &mut Child, ctrl: u16) -> bool {
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", ctrl)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Phone {
    /// Starts a phone registering at the PBX's `pbx` (port, transport); over TLS it trusts
    /// the certificate file `ca`.
    fn start(
        base: &Path,
        user: &str,
        pbx: (u16, &str),
        codecs: &[&str],
        source: &Path,
        setup: &Setup,
        ca: Option<&Path>,
    ) -> Self {
        let dir = base.join(user);
        std::fs::create_dir_all(&dir).expect("dir");
        // Another program may take a probed port before baresip binds it: then baresip
        // exits at once, and it starts again on other ports.
        for _ in 0..3 {
            let (sip, ctrl) = (free_block(), free_block());
            let srtp = setup.srtp.then_some("srtp");
            let modules: String = codecs
                .iter()
                .chain(srtp.iter())
                .map(|m| format!("module {m}.so\n"))
                .collect();
            let mut audio = format!("audio_source aufile,{}\n", source.display());
            if let Some(ca) = ca {
                audio.push_str(&format!("sip_cafile {}\n", ca.display()));
            }
            let config = format!(
                "sip_listen 127.0.0.1:{sip}\n{audio}audio_player aufile,{}\n\
             module_path /usr/lib/baresip/modules\n{modules}module aufile.so\n\
             module sndfile.so\nsnd_path {}\nmodule account.so\nmodule menu.so\n\
             module uuid.so\nmodule ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:{ctrl}\n",
                dir.join("played.wav").display(),
                dir.display()
            );
            std::fs::write(dir.join("config"), config).expect("config");
            let (port, transport) = pbx;
            let account = format!(
                "<sip:{user}@127.0.0.1:{port};transport={transport}>;auth_pass=p{user};regint=60;\
             answermode=auto{}\n",
                if setup.srtp {
                    ";mediaenc=srtp-mand"
                } else {
                    ""
                }
            );
            std::fs::write(dir.join("accounts"), account).expect("accounts");
            let log =
                std::fs::File::create(dir.join("baresip.log")).map_or(Stdio::null(), Stdio::from);
            let mut child = Command::new("baresip")
                .arg("-f")
                .arg(&dir)
                .args(["-n", "127.0.0.1", "-t", "12"])
                .stdout(log)
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn baresip");
            if ready(&mut child, ctrl) {
                return Self { child, dir, ctrl };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
        panic!("baresip did not start three times; last log:\n{log}");
    }

    /// Sends a command through baresip's ctrl_tcp module (a JSON netstring).
    fn command(&self, command: &str, params: &str) {
        let json = format!("{{\"command\":\"{command}\",\"params\":\"{params}\",\"token\":\"t\"}}");
        let mut deadline = 50;
        let mut s = loop {
            match TcpStream::connect(("127.0.0.1", self.ctrl)) {
                Ok(s) => break s,
                Err(e) if deadline > 0 => {
                    deadline -= 1;
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("baresip control port: {e}"),
            }
        };
        use std::io::{Read as _, Write as _};
        s.write_all(format!("{}:{json},", json.len()).as_bytes())
            .expect("command");
        // Wait for baresip's answer: closing early, with one of its event messages unread,
        // resets the connection, and the command can be lost with it.
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("\"response\":true") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => panic!(
                    "baresip did not answer {command}: {}",
                    String::from_utf8_lossy(&got)
                ),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("baresip.log")).unwrap_or_default()
    }

    /// What this phone's decoder produced (the sndfile `-dec.wav` dump).
    fn heard(&self) -> Clip {
        let dec = std::fs::read_dir(&self.dir)
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .unwrap_or_else(|| panic!("no decoded-audio dump; log:\n{}", self.log()));
        Clip::from_wav(&testkit::read(&dec)).expect("baresip's recording")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.stop();
    }
}

fn zero_crossing_hz(v: &[i16], rate: f64) -> f64 {
    let zc = v.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    zc as f64 / 2.0 / (v.len() as f64 / rate)
}

/// A WAV of `secs` seconds of a sine at `hz` (half scale) in the sample rate and channels of
/// the phone's codec (baresip's file source neither resamples nor remixes): Opus 48 kHz
/// stereo, G.711 8 kHz mono.
fn tone(path: &Path, rate: u32, hz: u32, secs: u32) {
    let channels = if rate == 48_000 { "2" } else { "1" };
    let st = Command::new("sox")
        .args(["-n", "-r", &rate.to_string(), "-c", channels, "-b", "16"])
        .arg(path)
        .args([
            "synth",
            &secs.to_string(),
            "sine",
            &hz.to_string(),
            "vol",
            "0.5",
        ])
        .status()
        .expect("sox");
    assert!(st.success());
}

/// What a call produced: B's recording, the call records, and the relay's packets as tshark
/// captured them on loopback (when asked for).
struct Outcome {
    heard: Clip,
    cdrs: String,
    capture: Option<PathBuf>,
}

/// A calls B with the given codec modules (A's source sampled at `a_rate`, B's at 8 kHz).
/// How a test call is set up.
#[derive(Default)]
struct Setup {
    /// Capture the relay's packets with tshark.
    capture: bool,
    /// A registers and calls over TLS.
    a_tls: bool,
    /// Both phones insist on SRTP (SDES).
    srtp: bool,
}

/// One call at a time: baresip binds SIP, TLS (port + 1) and control ports that a phone of
/// a parallel test could take between our probe and its bind.
static ONE_CALL_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn call(
    tag: &str,
    (a_codecs, a_rate): (&[&str], u32),
    b_codecs: &[&str],
    setup: &Setup,
) -> Option<Outcome> {
    let _turn = ONE_CALL_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (capture, a_tls) = (setup.capture, setup.a_tls);
    for tool in ["baresip", "sox"] {
        if !testkit::peer(tool) {
            return None;
        }
    }
    let dir = temp_dir(tag);
    let users = "[[users]]\nextension = \"201\"\npassword = \"p201\"\n\
                 [[users]]\nextension = \"202\"\npassword = \"p202\"\n";
    // Each test its own RTP ports, so the capture sees only this call's relay.
    let ports = match (capture, a_tls, setup.srtp) {
        (true, ..) => "33100-33149",
        (false, false, false) => "33150-33199",
        (false, true, _) => "33200-33249",
        (false, false, true) => "33250-33299",
    };
    let config = format!("{EPHEMERAL_SIP}[media]\nrtp_ports = \"{ports}\"\n{users}");
    let pbx = Pbx::start(&dir, &config);
    let port = pbx.addr("udp").port();
    let (a_tone, b_tone) = (dir.join("a.wav"), dir.join("b.wav"));
    tone(&a_tone, a_rate, 1000, 10);
    tone(&b_tone, 8000, 440, 10);
    let mut b = Phone::start(&dir, "202", (port, "udp"), b_codecs, &b_tone, setup, None);
    // Over TLS, A trusts the certificate the PBX generated on its first start.
    let cert = pbx.data.join("tls/cert.pem");
    let a_sip = if a_tls {
        (pbx.addr("tls").port(), "tls")
    } else {
        (port, "udp")
    };
    let mut a = Phone::start(
        &dir,
        "201",
        a_sip,
        a_codecs,
        &a_tone,
        setup,
        a_tls.then_some(&*cert),
    );
    // The relay's RTP/RTCP ports, captured with tshark (CI runs as root).
    let pcap = dir.join("relay.pcap");
    let mut tshark = (capture && testkit::peer("tshark")).then(|| {
        Command::new("tshark")
            .args(["-i", "lo", "-f", "udp portrange 33100-33149", "-w"])
            .arg(&pcap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tshark")
    });
    std::thread::sleep(Duration::from_millis(1500)); // both register, tshark starts
    a.command(
        "dial",
        &format!("sip:202@127.0.0.1:{};transport={}", a_sip.0, a_sip.1),
    );
    std::thread::sleep(Duration::from_secs(5));
    a.command("hangup", "");
    // The record is written when the PBX has the BYE; the phones stay up until then.
    let cdrs = common::cdrs(&pbx.data);
    a.stop();
    b.stop();
    if let Some(t) = tshark.as_mut() {
        let _ = Command::new("kill")
            .args(["-INT", &t.id().to_string()])
            .status();
        let _ = t.wait();
    }
    let heard = b.heard();
    assert!(
        !cdrs.is_empty(),
        "no call record; A:\n{}\nB:\n{}\nPBX:\n{}",
        a.log(),
        b.log(),
        std::fs::read_to_string(dir.join("pbx.log")).unwrap_or_default()
    );
    Some(Outcome {
        heard,
        cdrs,
        capture: tshark.map(|_| pcap),
    })
}

/// B heard A's 1 kHz tone at a clear level.
fn assert_tone(clip: &Clip) {
    let rate = f64::from(clip.sample_rate);
    let loud: Vec<i16> = clip
        .samples
        .iter()
        .copied()
        .skip_while(|s| s.unsigned_abs() < 500)
        .collect();
    let second = clip.sample_rate as usize;
    assert!(
        loud.len() >= second * 2,
        "B heard {} loud samples",
        loud.len()
    );
    // Skip the first half second (codec start-up), judge the next second.
    let part = &loud[second / 2..second / 2 + second];
    let hz = zero_crossing_hz(part, rate);
    assert!((980.0..=1020.0).contains(&hz), "B heard {hz:.1} Hz");
    let rms = (part.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / part.len() as f64).sqrt();
    // The tone is at half scale (RMS about 11,600); allow codec and gain losses.
    assert!(rms > 4000.0, "B heard the tone too quietly: RMS {rms:.0}");
}

/// A G.711 call between phones set up as `setup`: B must hear A's tone and the call be
/// recorded as answered; returns the outcome and that record.
fn g711_call(tag: &str, setup: &Setup) -> Option<(Outcome, String)> {
    let out = call(tag, (&["g711"], 8000), &["g711"], setup)?;
    assert_tone(&out.heard);
    let rec = out.cdrs.lines().next().expect("a call record").to_owned();
    assert!(rec.contains("\"disposition\":\"answered\""), "{rec}");
    Some((out, rec))
}

#[test]
fn mv36_baresip_call_through_the_relay_carries_a_tone_with_a_common_codec() {
    let setup = Setup {
        capture: true,
        ..Setup::default()
    };
    let Some((out, rec)) = g711_call("baresip-pcmu", &setup) else {
        return;
    };
    assert!(rec.contains("\"codecs\":[\"PCMU\",\"PCMU\"]"), "{rec}");
    assert!(
        !rec.contains("\"media\":[null"),
        "the relay saw A's RTP: {rec}"
    );
    // tshark decodes the relay's RTP and RTCP with no malformed packet or expert warning.
    if let Some(pcap) = out.capture {
        let decode = |filter: &str| {
            let o = Command::new("tshark")
                .arg("-r")
                .arg(&pcap)
                .args([
                    "-o",
                    "rtp.heuristic_rtp:TRUE",
                    "-o",
                    "rtcp.heuristic_rtcp:TRUE",
                ])
                .args(["-Y", filter])
                .output()
                .expect("tshark -r");
            assert!(o.status.success(), "tshark -Y {filter}: {o:?}");
            String::from_utf8_lossy(&o.stdout).lines().count()
        };
        let rtp = decode("rtp");
        let rtcp = decode("rtcp");
        assert!(rtp > 200, "tshark decoded {rtp} RTP packets");
        assert!(rtcp > 0, "tshark decoded no RTCP");
        assert_eq!(decode("_ws.malformed || _ws.expert.severity >= warning"), 0);
    }
}

#[test]
fn mv36_baresip_opus_only_phone_reaches_a_pcmu_only_phone_through_transcoding() {
    let Some(out) = call(
        "baresip-opus",
        (&["opus"], 48_000),
        &["g711"],
        &Setup::default(),
    ) else {
        return;
    };
    assert_tone(&out.heard);
    let rec = out.cdrs.lines().next().expect("a call record");
    assert!(rec.contains("\"codecs\":[\"opus\",\"PCMU\"]"), "{rec}");
    assert!(
        !rec.contains("null]"),
        "the relay saw RTP from both phones: {rec}"
    );
}

#[test]
fn a_phone_registered_over_tls_calls_one_on_udp_with_audio() {
    let setup = Setup {
        a_tls: true,
        ..Setup::default()
    };
    let _ = g711_call("baresip-tls", &setup);
}

/// MV-40: both phones insist on SRTP (SDES). Each leg is keyed apart, so the relay must
/// decrypt A's audio and encrypt it again for B; baresip's SRTP (libsrtp) is the oracle.
#[test]
fn mv40_srtp_phones_talk_through_the_relay_with_a_key_per_leg() {
    let setup = Setup {
        srtp: true,
        ..Setup::default()
    };
    let Some((_, rec)) = g711_call("baresip-srtp", &setup) else {
        return;
    };
    assert!(
        !rec.contains("null]"),
        "the relay opened SRTP from both phones: {rec}"
    );
}
