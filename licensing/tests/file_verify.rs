//! MV-1: licence-file verification. Every rejection is a typed error; every byte of a
//! valid file either matters (flipping it is rejected) or is provably irrelevant (the file
//! still verifies *and* its signed content is unchanged, and the byte sat in a comment or
//! in whitespace outside a value).

use pbxkit_licensing::{
    Activation, Binding, Date, Eid, Expectations, Field, LicenceFile, LicenceType, Release,
    SalesChannel, SigningKey, Swa, TrustAnchors, Value, VerifyError,
};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed([seed; 32]).unwrap()
}

fn eid(s: &str) -> Eid {
    Eid::parse(s).unwrap()
}

fn channel() -> SalesChannel {
    SalesChannel::parse("mitel-ch").unwrap()
}

fn content(k: &SigningKey) -> LicenceFile {
    let mut f = LicenceFile::new(
        k.verifying_key().id(),
        eid("VA-00A1-B2C3"),
        channel(),
        Date::parse("2026-03-01").unwrap(),
    );
    f.swa = Some(Swa {
        covered_users: 120,
        expires: Date::parse("2027-02-28").unwrap(),
    });
    let l = &mut f.licences;
    l.insert(
        LicenceType::SoftwareRelease,
        Value::Release(Release::new(6, 0)),
    );
    l.insert(LicenceType::BaseVirtualAppliance, Value::Switch);
    l.insert(LicenceType::User, Value::Count(120));
    l.insert(LicenceType::MitelSipTerminals, Value::Count(50));
    l.insert(LicenceType::SipTerminals, Value::Count(20));
    l.insert(LicenceType::AutoAttendant, Value::Switch);
    l.insert(LicenceType::NumberInQueue, Value::Switch);
    l.insert(LicenceType::SecureVoip, Value::Switch);
    f
}

struct Ctx {
    anchors: TrustAnchors,
    eid: Eid,
    binding: Binding,
    channel: SalesChannel,
}

impl Ctx {
    fn new(k: &SigningKey) -> Self {
        Self {
            anchors: TrustAnchors::new().with(k.verifying_key()),
            eid: eid("VA-00A1-B2C3"),
            binding: Binding::OwnEid,
            channel: channel(),
        }
    }
    fn expect(&self) -> Expectations<'_> {
        Expectations {
            anchors: &self.anchors,
            eid: &self.eid,
            binding: &self.binding,
            sales_channel: Some(&self.channel),
        }
    }
    fn verify(&self, text: &str) -> Result<LicenceFile, VerifyError> {
        LicenceFile::verify(text, &self.expect())
    }
}

#[test]
fn mv1_valid_file_verifies() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let f = Ctx::new(&k).verify(&text).unwrap();
    assert_eq!(f, content(&k));
    assert_eq!(f.count(LicenceType::User), 120);
    assert_eq!(f.software_release(), Some(Release::new(6, 0)));
}

#[test]
fn mv1_missing_signature() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.starts_with("signature"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        Ctx::new(&k).verify(&stripped),
        Err(VerifyError::MissingSignature)
    );
}

#[test]
fn mv1_bad_signature_encoding_and_value() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let short = text.replacen("signature = \"", "signature = \"00", 1);
    assert_eq!(
        Ctx::new(&k).verify(&short),
        Err(VerifyError::SignatureEncoding)
    );
    // A valid-looking signature from the same key over other content.
    let mut other = content(&k);
    other.licences.insert(LicenceType::User, Value::Count(1));
    let other_text = other.sign(&k).unwrap();
    let sig_line = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("signature"))
            .unwrap()
            .to_owned()
    };
    let swapped = text.replace(&sig_line(&text), &sig_line(&other_text));
    assert_eq!(
        Ctx::new(&k).verify(&swapped),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn mv1_unknown_key() {
    let vendor = key(1);
    let rogue = key(2);
    let text = content(&rogue).sign(&rogue).unwrap();
    assert_eq!(
        Ctx::new(&vendor).verify(&text),
        Err(VerifyError::UnknownKey(rogue.verifying_key().id()))
    );
    // A rogue file that claims the vendor's key id fails the signature.
    let claimed = text.replace(
        &rogue.verifying_key().id().to_string(),
        &vendor.verifying_key().id().to_string(),
    );
    assert_eq!(
        Ctx::new(&vendor).verify(&claimed),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn mv1_tampered_values() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let ctx = Ctx::new(&k);
    for (from, to) in [
        ("user = 120", "user = 1200"),
        ("sip_terminals = 20", "sip_terminals = 21"),
        ("software_release = \"6.0\"", "software_release = \"7.0\""),
        ("covered_users = 120", "covered_users = 999"),
        ("expires = \"2027-02-28\"", "expires = \"2099-02-28\""),
        ("issued = \"2026-03-01\"", "issued = \"2026-03-02\""),
    ] {
        assert!(text.contains(from), "{from}");
        let t = text.replace(from, to);
        assert_eq!(
            ctx.verify(&t),
            Err(VerifyError::BadSignature),
            "{from} -> {to}"
        );
    }
    // Adding a licence.
    let t = format!("{text}silent_intrusion = true\n");
    assert_eq!(ctx.verify(&t), Err(VerifyError::BadSignature));
    // Removing one.
    let t = text.replace("secure_voip = true\n", "");
    assert_eq!(ctx.verify(&t), Err(VerifyError::BadSignature));
}

#[test]
fn mv1_licence_end_dates_are_signed() {
    let k = key(1);
    let mut c = content(&k);
    c.expires.insert(
        LicenceType::SipTerminals,
        Date::parse("2026-12-31").unwrap(),
    );
    let text = c.sign(&k).unwrap();
    let ctx = Ctx::new(&k);
    assert_eq!(ctx.verify(&text).unwrap(), c);
    assert!(text.contains("[expires]\nsip_terminals = \"2026-12-31\""));
    let t = text.replace(
        "sip_terminals = \"2026-12-31\"",
        "sip_terminals = \"2099-12-31\"",
    );
    assert_eq!(ctx.verify(&t), Err(VerifyError::BadSignature));
    let t = text.replace("[expires]\nsip_terminals = \"2026-12-31\"\n", "");
    assert_eq!(ctx.verify(&t), Err(VerifyError::BadSignature));
    // An end date for a licence the file does not hold.
    let mut bad = content(&k);
    bad.expires
        .insert(LicenceType::Dialers, Date::parse("2026-12-31").unwrap());
    assert_eq!(
        bad.sign(&k),
        Err(VerifyError::InvalidField(Field::Expiry(
            LicenceType::Dialers
        )))
    );
}

#[test]
fn mv1_wrong_eid() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let mut ctx = Ctx::new(&k);
    ctx.eid = eid("VA-OTHER");
    assert_eq!(
        ctx.verify(&text),
        Err(VerifyError::WrongEid {
            expected: eid("VA-OTHER"),
            found: eid("VA-00A1-B2C3")
        })
    );
}

#[test]
fn mv1_mv11_gateway_eid_binding() {
    let k = key(1);
    let mut c = content(&k);
    c.gateway_eid = Some(eid("SAT-415-77"));
    let text = c.sign(&k).unwrap();
    let mut ctx = Ctx::new(&k);
    // Online verification configured: a gateway licence is refused.
    assert_eq!(
        ctx.verify(&text),
        Err(VerifyError::UnexpectedGatewayEid {
            found: eid("SAT-415-77")
        })
    );
    ctx.binding = Binding::Gateway(eid("SAT-415-77"));
    assert!(ctx.verify(&text).is_ok());
    ctx.binding = Binding::Gateway(eid("SAT-430-01"));
    assert_eq!(
        ctx.verify(&text),
        Err(VerifyError::WrongGatewayEid {
            expected: eid("SAT-430-01"),
            found: Some(eid("SAT-415-77"))
        })
    );
    // A plain own-EID file in gateway mode names no gateway.
    let plain = content(&k).sign(&k).unwrap();
    assert_eq!(
        ctx.verify(&plain),
        Err(VerifyError::WrongGatewayEid {
            expected: eid("SAT-430-01"),
            found: None
        })
    );
}

#[test]
fn mv1_version_errors() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let ctx = Ctx::new(&k);
    assert_eq!(
        ctx.verify(&text.replace("format = 1", "format = 2")),
        Err(VerifyError::UnsupportedVersion { found: 2 })
    );
    assert_eq!(
        ctx.verify(&text.replace("format = 1\n", "")),
        Err(VerifyError::MissingVersion)
    );
    assert_eq!(
        ctx.verify(&text.replace("format = 1", "format = \"1\"")),
        Err(VerifyError::InvalidField(Field::Format))
    );
}

#[test]
fn mv2_27_wrong_sales_channel() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let mut ctx = Ctx::new(&k);
    ctx.channel = SalesChannel::parse("other-channel").unwrap();
    assert!(matches!(
        ctx.verify(&text),
        Err(VerifyError::WrongSalesChannel { .. })
    ));
}

#[test]
fn structural_errors_are_typed() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let ctx = Ctx::new(&k);
    assert!(matches!(
        ctx.verify("user = "),
        Err(VerifyError::Syntax { .. })
    ));
    assert!(matches!(
        ctx.verify(&format!("{text}bogus_licence = 3\n")),
        Err(VerifyError::UnknownEntry { .. })
    ));
    assert!(matches!(
        ctx.verify(&text.replace("format = 1\n", "format = 1\ncolour = \"red\"\n")),
        Err(VerifyError::UnknownEntry { .. })
    ));
    assert_eq!(
        ctx.verify(&text.replace("user = 120", "user = -1")),
        Err(VerifyError::InvalidField(Field::Licence(LicenceType::User)))
    );
    assert_eq!(
        ctx.verify(&text.replace("secure_voip = true", "secure_voip = 3")),
        Err(VerifyError::InvalidField(Field::Licence(
            LicenceType::SecureVoip
        )))
    );
    assert_eq!(
        ctx.verify(&text.replace("eid = \"VA-00A1-B2C3\"", "eid = \"VA 00\"")),
        Err(VerifyError::InvalidField(Field::Eid))
    );
    assert_eq!(
        LicenceFile::verify_bytes(b"format = 1\n\xff", &ctx.expect()),
        Err(VerifyError::NotUtf8 { offset: 11 })
    );
}

#[test]
fn mv16_dependency_enforced_even_if_signed() {
    // A file signed by a careless issuer tool (bypassing `sign`'s check) is refused: the
    // verifier re-checks dependencies after the signature.
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let no_aa = text.replace("auto_attendant = true\n", "");
    let (f, _) = LicenceFile::parse(&no_aa).unwrap();
    let sig = k.sign(&f.canonical_bytes());
    let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
    let old_sig = no_aa.lines().find(|l| l.starts_with("signature")).unwrap();
    let resigned = no_aa.replace(old_sig, &format!("signature = \"{hex}\""));
    assert_eq!(
        Ctx::new(&k).verify(&resigned),
        Err(VerifyError::MissingDependency {
            licence: LicenceType::NumberInQueue,
            requires: LicenceType::AutoAttendant
        })
    );
}

#[test]
fn layout_and_comments_are_irrelevant() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let ctx = Ctx::new(&k);
    let relaid = format!(
        "# reordered by hand\n\n{}",
        text.replace(" = ", "   =   ").replace('\n', "  # note\n")
    );
    let f = ctx.verify(&relaid).unwrap();
    assert_eq!(f.canonical_bytes(), content(&k).canonical_bytes());
    // Reordering the licences table changes nothing either.
    let mut lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| *l == "[licences]").unwrap() + 1;
    lines[start..].reverse();
    assert!(ctx.verify(&lines.join("\n")).is_ok());
}

/// Byte classes of the original text where a change cannot alter the signed content:
/// inside a comment, or whitespace outside a quoted value.
fn irrelevant_positions(text: &str) -> Vec<bool> {
    let mut out = vec![false; text.len()];
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let mut in_str = false;
        let mut in_comment = false;
        for (i, c) in line.char_indices() {
            if !in_str && c == '#' {
                in_comment = true;
            }
            if c == '"' && !in_comment {
                in_str = !in_str;
            }
            out[pos + i] = in_comment || (!in_str && (c == ' ' || c == '\t'));
        }
        pos += line.len();
    }
    out
}

#[test]
fn mv1_mutation_every_byte_every_bit() {
    let k = key(1);
    let mut c = content(&k);
    c.activation = Activation::Temporary {
        expires: Date::parse("2026-06-01").unwrap(),
    };
    let text = c.sign(&k).unwrap();
    let canonical = c.canonical_bytes();
    let ctx = Ctx::new(&k);
    let irrelevant = irrelevant_positions(&text);
    let (mut rejected, mut accepted) = (0, 0);
    for i in 0..text.len() {
        for mask in [1u8, 2, 4, 8, 16, 32, 64, 128, 0xff] {
            let bit = mask;
            let mut bytes = text.clone().into_bytes();
            bytes[i] ^= mask;
            match LicenceFile::verify_bytes(&bytes, &ctx.expect()) {
                Err(_) => rejected += 1,
                Ok(f) => {
                    accepted += 1;
                    assert_eq!(f.canonical_bytes(), canonical, "byte {i} mask {bit:#04x}");
                    assert!(
                        irrelevant[i],
                        "byte {i} ({:?}) mask {bit:#04x} accepted but not in a comment or blank",
                        char::from(text.as_bytes()[i])
                    );
                }
            }
        }
    }
    assert!(
        rejected > 0 && accepted > 0,
        "{rejected} rejected, {accepted} accepted"
    );
}

/// xorshift64*, deterministic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

#[test]
fn fuzz_random_edits_never_panic_nor_forge() {
    let k = key(1);
    let text = content(&k).sign(&k).unwrap();
    let canonical = content(&k).canonical_bytes();
    let ctx = Ctx::new(&k);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    const ALPHABET: &[u8] = b" \t\n\r\"#=[].,-_+0123456789abcdefxyzABCDEF\\'{}\xc3\xa9\xff\x00";
    for _ in 0..4000 {
        let mut bytes = text.clone().into_bytes();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                1 => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                _ => {
                    let end = (at + rng.below(8)).min(bytes.len());
                    bytes.drain(at..end);
                }
            }
        }
        if let Ok(f) = LicenceFile::verify_bytes(&bytes, &ctx.expect()) {
            assert_eq!(f.canonical_bytes(), canonical);
        }
        // The unverified parser must not panic either.
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = LicenceFile::parse(s);
        }
    }
}
