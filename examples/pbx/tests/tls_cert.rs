//! TLS certificate lifecycle events of the running PBX (MV2-36): generation, regeneration
//! after a listen-IP change, and the expiry warning for a configured certificate.

mod common;

use common::{Pbx, event_ids as ids, events_until, find_event, temp_dir};

fn config(tls: &str, extra: &str) -> String {
    format!(
        "[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"off\"\ntls = \"{tls}\"\n{extra}\
         [media]\nrtp_ports = \"31400-31419\"\n"
    )
}

#[test]
fn mv2_36_certificate_generated_then_regenerated_when_the_listen_ip_changes() {
    let dir = temp_dir("tls-ip");
    let mut pbx = Pbx::start(&dir, &config("127.0.0.2:0", ""));
    events_until(&pbx.data, 0, &["tls_cert_generated_update_non_mitel"]);
    pbx.terminate();
    let first = ids(&events_until(&pbx.data, 0, &[]));
    assert!(
        first.contains(&"tls_cert_generated_update_non_mitel".to_owned()),
        "{first:?}"
    );
    assert!(!first.contains(&"ip_address_changed_regenerate_tls".to_owned()));
    let cert = pbx.data.join("tls/cert.pem");
    let before = std::fs::read(&cert).expect("generated certificate");

    // Same IP: the certificate is reused, nothing is raised.
    let mut pbx = Pbx::start(&dir, &config("127.0.0.2:0", ""));
    let n = first.len();
    events_until(&pbx.data, n, &["system_restarted"]);
    pbx.terminate();
    let again = ids(&events_until(&pbx.data, 0, &[]));
    assert_eq!(std::fs::read(&cert).expect("cert"), before, "reused");
    assert!(
        !again[n..].iter().any(|i| i.contains("tls")),
        "{:?}",
        &again[n..]
    );

    // A new IP: regenerated, both events raised.
    let n = again.len();
    let mut pbx = Pbx::start(&dir, &config("127.0.0.3:0", ""));
    events_until(
        &pbx.data,
        n,
        &[
            "ip_address_changed_regenerate_tls",
            "tls_cert_generated_update_non_mitel",
        ],
    );
    pbx.terminate();
    let after = ids(&events_until(&pbx.data, 0, &[]));
    let new = &after[n..];
    assert!(
        new.contains(&"ip_address_changed_regenerate_tls".to_owned())
            && new.contains(&"tls_cert_generated_update_non_mitel".to_owned()),
        "{new:?}"
    );
    assert_ne!(std::fs::read(&cert).expect("cert"), before, "regenerated");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts the PBX on a configured self-signed certificate valid until 1 January of
/// `until`, with `extra` in `[sip]`, and returns the `tls_cert_expiring` event it raised.
fn expiry_event(tag: &str, until: i32, extra: &str) -> serde_json::Value {
    let dir = temp_dir(tag);
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("certificate");
    let (cert_path, key_path) = (dir.join("c.pem"), dir.join("c.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write");
    std::fs::write(&key_path, key.serialize_pem()).expect("write");
    let sip = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n{extra}",
        cert_path.display(),
        key_path.display()
    );
    let mut pbx = Pbx::start(&dir, &config("127.0.0.1:0", &sip));
    let events = events_until(&pbx.data, 0, &["tls_cert_expiring"]);
    pbx.terminate();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !ids(&events).contains(&"tls_cert_generated_update_non_mitel".to_owned()),
        "a configured certificate is not generated"
    );
    find_event(&events, "tls_cert_expiring").clone()
}

#[test]
fn mv2_36_expired_configured_certificate_is_reported_critical() {
    let e = expiry_event("tls-exp", 2021, "");
    assert_eq!(e["severity"], "critical", "{e}");
}

#[test]
fn mv2_36_certificate_inside_the_warning_window_is_reported_important() {
    // Valid for years yet, but the window is set wider than that.
    let e = expiry_event("tls-warn", 2040, "tls_expiry_warning_days = 20000\n");
    assert_eq!(e["severity"], "important", "{e}");
}
