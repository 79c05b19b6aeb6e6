//! The `licence` command as a vendor and a customer use it: generate a key,
//! issue a file bound to an EID, verify it, show it. MV-1: a licence file is
//! signed and bound to one EID; tampering, a wrong EID or an unknown key is
//! rejected with the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn licence(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_licence"))
        .args(args)
        .output()
        .expect("run licence")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pbxkit-licence-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn mv_1_issue_verify_show_and_rejections() {
    let dir = scratch("flow");
    let keys = dir.join("keys");
    let file = dir.join("site.lic");
    assert!(licence(&["keygen", "--out", s(&keys)]).status.success());
    let private = keys.join("private");
    let public = keys.join("public");
    let out = licence(&[
        "issue",
        "--key",
        s(&private),
        "--eid",
        "VA-1234",
        "--set",
        "user=50",
        "--set",
        "sip_terminals=20",
        "--out",
        s(&file),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let out = licence(&[
        "verify",
        s(&file),
        "--pubkey",
        s(&public),
        "--eid",
        "VA-1234",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = licence(&["show", s(&file), "--pubkey", s(&public)]);
    assert_eq!(out.status.code(), Some(0));
    let shown = text(&out);
    assert!(
        shown.contains("user = 50") && shown.contains("sip_terminals = 20"),
        "{shown}"
    );

    // Wrong EID.
    let out = licence(&[
        "verify",
        s(&file),
        "--pubkey",
        s(&public),
        "--eid",
        "VA-9999",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("VA-9999"), "{}", text(&out));

    // Tampering with a count.
    let tampered = dir.join("tampered.lic");
    let original = std::fs::read_to_string(&file).unwrap();
    assert!(original.contains("user = 50"));
    std::fs::write(&tampered, original.replace("user = 50", "user = 500")).unwrap();
    let out = licence(&[
        "verify",
        s(&tampered),
        "--pubkey",
        s(&public),
        "--eid",
        "VA-1234",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("signature"), "{}", text(&out));

    // Comments and layout are not signed: still valid.
    let reformatted = dir.join("reformatted.lic");
    std::fs::write(&reformatted, format!("# a comment\n\n{original}")).unwrap();
    let out = licence(&[
        "verify",
        s(&reformatted),
        "--pubkey",
        s(&public),
        "--eid",
        "VA-1234",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A key the file was not signed with.
    let other = dir.join("other");
    assert!(licence(&["keygen", "--out", s(&other)]).status.success());
    let out = licence(&[
        "verify",
        s(&file),
        "--pubkey",
        s(&other.join("public")),
        "--eid",
        "VA-1234",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // Not a licence file at all, and a missing file.
    let junk = dir.join("junk.lic");
    std::fs::write(&junk, b"\xff\xfe not toml [[[").unwrap();
    for bad in [&junk, &dir.join("missing.lic")] {
        let out = licence(&["verify", s(bad), "--pubkey", s(&public), "--eid", "VA-1234"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
}
