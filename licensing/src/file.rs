//! The licence file: a versioned TOML document, Ed25519-signed over a canonical encoding.
//!
//! See the crate documentation for the format. [`LicenceFile::verify`] is the only way
//! from untrusted text to a [`LicenceFile`] a system may act on; [`LicenceFile::parse`]
//! reads without checking the signature (for display tools).

use std::collections::BTreeMap;
use std::fmt;

use crate::catalogue::{Kind, LicenceType};
use crate::date::Date;
use crate::key::{KeyId, SIGNATURE_LEN, SigningKey, TrustAnchors, hex_decode, hex_encode};

/// The only licence-file format version this crate reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// Largest count a file may carry for one licence type.
pub const MAX_COUNT: u32 = 1_000_000;

/// The domain-separation line that starts the canonical encoding.
const CANONICAL_MAGIC: &str = "pbxkit-licence";

fn is_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// An equipment identifier (EID): the identity a licence file is bound to.
///
/// 1–64 characters from `A–Z a–z 0–9 - _ .`; compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Eid(Box<str>);

impl Eid {
    /// Parses an EID.
    pub fn parse(text: &str) -> Option<Self> {
        is_token(text).then(|| Self(text.into()))
    }
    /// The EID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Eid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The sales channel a licence file is tied to (MV2-27). Same syntax as [`Eid`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SalesChannel(Box<str>);

impl SalesChannel {
    /// Parses a sales-channel name.
    pub fn parse(text: &str) -> Option<Self> {
        is_token(text).then(|| Self(text.into()))
    }
    /// The channel text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SalesChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A software release `major.minor` (e.g. `6.0`), the unit a Software Release licence unlocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Release {
    /// Major number.
    pub major: u16,
    /// Minor number.
    pub minor: u16,
}

impl Release {
    /// Builds a release.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Parses `major.minor` (decimal, no sign, no leading `+`).
    pub fn parse(text: &str) -> Option<Self> {
        let (a, b) = text.split_once('.')?;
        let num = |s: &str| -> Option<u16> {
            if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (major, minor) = (num(a)?, num(b)?);
        // One spelling per value: "6.0" but not "06.0".
        (Self { major, minor }.to_string() == text).then_some(Self { major, minor })
    }

    /// Whether a Software Release licence for `self` unlocks running `release`.
    ///
    /// Decision (docs/decisions.md, L3): a licence for release R covers R and
    /// every earlier release of the same major version.
    pub fn covers(self, release: Self) -> bool {
        self.major == release.major && self.minor >= release.minor
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Software Assurance data carried by the file: covered users and expiry (MV-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swa {
    /// Users covered by the SWA.
    pub covered_users: u32,
    /// Last day of validity (the SWA expires at the end of this UTC day).
    pub expires: Date,
}

/// Whether the file is a definitive activation or a temporary one (MV2-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// A permanent (definitive) activation.
    Permanent,
    /// A temporary activation that ends at the end of the given day.
    Temporary {
        /// Last day of validity.
        expires: Date,
    },
}

/// The value of one licence in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Units of a count licence.
    Count(u32),
    /// A switch licence (present = unlocked).
    Switch,
    /// The Software Release licence, for the given release.
    Release(Release),
}

/// A named field of the file, for error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// `format`.
    Format,
    /// `key_id`.
    KeyId,
    /// `eid`.
    Eid,
    /// `gateway_eid`.
    GatewayEid,
    /// `sales_channel`.
    SalesChannel,
    /// `issued`.
    Issued,
    /// `activation`.
    Activation,
    /// `activation_expires`.
    ActivationExpires,
    /// `[swa]` table.
    Swa,
    /// `swa.covered_users`.
    SwaCoveredUsers,
    /// `swa.expires`.
    SwaExpires,
    /// `[licences]` table.
    Licences,
    /// One entry of `[licences]`.
    Licence(LicenceType),
    /// `[expires]` table.
    Expires,
    /// One entry of `[expires]`.
    Expiry(LicenceType),
    /// `signature`.
    Signature,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Format => "format",
            Self::KeyId => "key_id",
            Self::Eid => "eid",
            Self::GatewayEid => "gateway_eid",
            Self::SalesChannel => "sales_channel",
            Self::Issued => "issued",
            Self::Activation => "activation",
            Self::ActivationExpires => "activation_expires",
            Self::Swa => "swa",
            Self::SwaCoveredUsers => "swa.covered_users",
            Self::SwaExpires => "swa.expires",
            Self::Licences => "licences",
            Self::Licence(t) => return write!(f, "licences.{}", t.key()),
            Self::Expires => "expires",
            Self::Expiry(t) => return write!(f, "expires.{}", t.key()),
            Self::Signature => "signature",
        };
        f.write_str(s)
    }
}

/// Why a licence file was rejected (MV-1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The file is not UTF-8 text.
    #[error("licence file is not UTF-8 text (at byte {offset})")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// Not a TOML document.
    #[error("licence file is not valid TOML (at byte {offset:?})")]
    Syntax {
        /// Byte offset of the error, when known.
        offset: Option<usize>,
    },
    /// The `format` field is absent.
    #[error("licence file has no `format` version")]
    MissingVersion,
    /// The format version is not one this crate reads.
    #[error("unsupported licence-file format version {found} (supported: {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// The version found.
        found: i64,
    },
    /// A required field is absent.
    #[error("licence file lacks field `{0}`")]
    MissingField(Field),
    /// A field has the wrong type or an out-of-range value.
    #[error("licence file field `{0}` is invalid")]
    InvalidField(Field),
    /// A TOML key the format does not define (top level, `[swa]` or `[licences]`).
    #[error("licence file has an unknown entry `{key}`")]
    UnknownEntry {
        /// The offending key.
        key: Box<str>,
    },
    /// A licence depends on another that the file does not hold (MV-16).
    #[error("licence `{licence}` requires `{requires}`")]
    MissingDependency {
        /// The dependent licence.
        licence: LicenceType,
        /// The missing prerequisite.
        requires: LicenceType,
    },
    /// A Software Release licence without an SWA valid on the issue date (MV-12).
    #[error("a Software Release licence needs a Software Assurance valid when issued")]
    ReleaseWithoutSwa,
    /// No signature.
    #[error("licence file is not signed")]
    MissingSignature,
    /// The signature field is not 128 lowercase hex digits.
    #[error("licence signature is not 128 lowercase hex digits")]
    SignatureEncoding,
    /// The signing key is not among the trust anchors.
    #[error("licence signed by unknown key {0}")]
    UnknownKey(KeyId),
    /// The signature does not match the content: the file was tampered with or forged.
    #[error("licence signature is invalid (file tampered with or forged)")]
    BadSignature,
    /// The file is bound to another EID.
    #[error("licence file is bound to EID {found}, this system is {expected}")]
    WrongEid {
        /// This system's EID.
        expected: Eid,
        /// The file's EID.
        found: Eid,
    },
    /// Gateway-EID mode: the file names another gateway satellite (or none).
    #[error("licence file names gateway EID {found:?}, the configured gateway is {expected}")]
    WrongGatewayEid {
        /// The configured gateway EID.
        expected: Eid,
        /// The file's gateway EID.
        found: Option<Eid>,
    },
    /// VA-EID mode: the file is a gateway-EID licence.
    #[error("licence file is bound to gateway EID {found} but online verification is configured")]
    UnexpectedGatewayEid {
        /// The file's gateway EID.
        found: Eid,
    },
    /// The file belongs to another sales channel (MV2-27).
    #[error("licence file is for sales channel {found}, this system uses {expected}")]
    WrongSalesChannel {
        /// This system's channel.
        expected: SalesChannel,
        /// The file's channel.
        found: SalesChannel,
    },
}

/// How this system is bound to its licence (MV-10, MV-11, MV2-20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Bound to the system's own EID ("online licence verification" on for a VA).
    OwnEid,
    /// Gateway-EID mode: the file must also name this gateway satellite's EID
    /// ("online licence verification" off).
    Gateway(Eid),
}

/// What the verifier expects of a file.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The trusted vendor keys.
    pub anchors: &'a TrustAnchors,
    /// This system's EID.
    pub eid: &'a Eid,
    /// Own-EID or gateway-EID binding.
    pub binding: &'a Binding,
    /// This system's sales channel (`None`: not checked).
    pub sales_channel: Option<&'a SalesChannel>,
}

/// The content of a licence file (everything but the signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceFile {
    /// Id of the key that signs (or signed) the file.
    pub key_id: KeyId,
    /// The EID the file is bound to.
    pub eid: Eid,
    /// Gateway-EID mode: the licence-holding satellite's EID.
    pub gateway_eid: Option<Eid>,
    /// The sales channel the file is tied to.
    pub sales_channel: SalesChannel,
    /// Issue date (informative).
    pub issued: Date,
    /// Permanent or temporary activation.
    pub activation: Activation,
    /// Software Assurance data.
    pub swa: Option<Swa>,
    /// The licences, by type.
    pub licences: BTreeMap<LicenceType, Value>,
    /// Licences that end: last day of validity, by type (absent: no end).
    pub expires: BTreeMap<LicenceType, Date>,
}

fn table_keys(table: &toml::Table, allowed: &[&str]) -> Result<(), VerifyError> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(VerifyError::UnknownEntry {
            key: k.as_str().into(),
        }),
        None => Ok(()),
    }
}

fn string<'a>(t: &'a toml::Table, key: &str, field: Field) -> Result<Option<&'a str>, VerifyError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(VerifyError::InvalidField(field)),
    }
}

fn required<T>(v: Option<T>, field: Field) -> Result<T, VerifyError> {
    v.ok_or(VerifyError::MissingField(field))
}

fn parsed<T>(s: &str, field: Field, f: impl Fn(&str) -> Option<T>) -> Result<T, VerifyError> {
    f(s).ok_or(VerifyError::InvalidField(field))
}

impl LicenceFile {
    /// A file with no licences (systems ship unlicensed, MV-21).
    pub fn new(key_id: KeyId, eid: Eid, sales_channel: SalesChannel, issued: Date) -> Self {
        Self {
            key_id,
            eid,
            gateway_eid: None,
            sales_channel,
            issued,
            activation: Activation::Permanent,
            swa: None,
            licences: BTreeMap::new(),
            expires: BTreeMap::new(),
        }
    }

    /// The Software Release licence, if any.
    pub fn software_release(&self) -> Option<Release> {
        match self.licences.get(&LicenceType::SoftwareRelease) {
            Some(Value::Release(r)) => Some(*r),
            _ => None,
        }
    }

    /// Units of a count licence (0 when absent; 1 for a present switch).
    pub fn count(&self, t: LicenceType) -> u32 {
        match self.licences.get(&t) {
            Some(Value::Count(n)) => *n,
            Some(Value::Switch | Value::Release(_)) => 1,
            None => 0,
        }
    }

    /// Whether the file holds a licence of this type.
    pub fn has(&self, t: LicenceType) -> bool {
        self.count(t) > 0
    }

    /// Checks the internal rules an issuer must respect: every dependency present (MV-16),
    /// value shapes matching the catalogue, and an SR licence only under an SWA valid on
    /// the issue date (MV-12).
    pub fn validate(&self) -> Result<(), VerifyError> {
        if self.software_release().is_some() && self.swa.is_none_or(|w| w.expires < self.issued) {
            return Err(VerifyError::ReleaseWithoutSwa);
        }
        if let Some(&t) = self.expires.keys().find(|t| !self.licences.contains_key(t)) {
            return Err(VerifyError::InvalidField(Field::Expiry(t)));
        }
        for (&t, v) in &self.licences {
            let ok = match (t, t.info().kind, v) {
                (LicenceType::SoftwareRelease, _, Value::Release(_)) => true,
                (LicenceType::SoftwareRelease, _, _) => false,
                (_, Kind::Count, Value::Count(n)) => (1..=MAX_COUNT).contains(n),
                (_, Kind::Switch, Value::Switch) => true,
                _ => false,
            };
            if !ok {
                return Err(VerifyError::InvalidField(Field::Licence(t)));
            }
            for &req in t.info().requires {
                if !self.has(req) {
                    return Err(VerifyError::MissingDependency {
                        licence: t,
                        requires: req,
                    });
                }
            }
        }
        Ok(())
    }

    /// The canonical encoding that the signature covers.
    ///
    /// One field per line in a fixed order, every value from a restricted alphabet with no
    /// `:` or newline, licences in Tab. 15 order: two files have the same canonical bytes
    /// exactly when they carry the same content.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        use fmt::Write as _;
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(s, "{CANONICAL_MAGIC}");
        let _ = writeln!(s, "format:{FORMAT_VERSION}");
        let _ = writeln!(s, "key_id:{}", self.key_id);
        let _ = writeln!(s, "eid:{}", self.eid);
        match &self.gateway_eid {
            Some(g) => writeln!(s, "gateway_eid:{g}"),
            None => writeln!(s, "gateway_eid:-"),
        }
        .ok();
        let _ = writeln!(s, "sales_channel:{}", self.sales_channel);
        let _ = writeln!(s, "issued:{}", self.issued);
        match self.activation {
            Activation::Permanent => writeln!(s, "activation:permanent"),
            Activation::Temporary { expires } => writeln!(s, "activation:temporary:{expires}"),
        }
        .ok();
        match self.swa {
            Some(w) => writeln!(s, "swa:{}:{}", w.covered_users, w.expires),
            None => writeln!(s, "swa:-"),
        }
        .ok();
        for (t, v) in &self.licences {
            let _ = match v {
                Value::Count(n) => writeln!(s, "licence:{}:{n}", t.key()),
                Value::Switch => writeln!(s, "licence:{}:on", t.key()),
                Value::Release(r) => writeln!(s, "licence:{}:{r}", t.key()),
            };
        }
        for (t, d) in &self.expires {
            let _ = writeln!(s, "expires:{}:{d}", t.key());
        }
        s.into_bytes()
    }

    /// Signs the content with `key` and renders the file text.
    ///
    /// Fails if the content breaks [`LicenceFile::validate`]. The key id in the content is
    /// replaced by `key`'s id.
    pub fn sign(&self, key: &SigningKey) -> Result<String, VerifyError> {
        let mut content = self.clone();
        content.key_id = key.verifying_key().id();
        content.validate()?;
        let signature = key.sign(&content.canonical_bytes());
        Ok(content.render(&signature))
    }

    fn render(&self, signature: &[u8; SIGNATURE_LEN]) -> String {
        use fmt::Write as _;
        let mut s = String::from("# PBXKit licence file. Only the signed values matter;\n");
        s.push_str("# comments and layout are free.\n");
        let _ = writeln!(s, "format = {FORMAT_VERSION}");
        let _ = writeln!(s, "key_id = \"{}\"", self.key_id);
        let _ = writeln!(s, "eid = \"{}\"", self.eid);
        if let Some(g) = &self.gateway_eid {
            let _ = writeln!(s, "gateway_eid = \"{g}\"");
        }
        let _ = writeln!(s, "sales_channel = \"{}\"", self.sales_channel);
        let _ = writeln!(s, "issued = \"{}\"", self.issued);
        match self.activation {
            Activation::Permanent => s.push_str("activation = \"permanent\"\n"),
            Activation::Temporary { expires } => {
                let _ = writeln!(
                    s,
                    "activation = \"temporary\"\nactivation_expires = \"{expires}\""
                );
            }
        }
        let _ = writeln!(s, "signature = \"{}\"", hex_encode(signature));
        if let Some(w) = self.swa {
            let _ = writeln!(
                s,
                "\n[swa]\ncovered_users = {}\nexpires = \"{}\"",
                w.covered_users, w.expires
            );
        }
        s.push_str("\n[licences]\n");
        for (t, v) in &self.licences {
            let _ = match v {
                Value::Count(n) => writeln!(s, "{} = {n}", t.key()),
                Value::Switch => writeln!(s, "{} = true", t.key()),
                Value::Release(r) => writeln!(s, "{} = \"{r}\"", t.key()),
            };
        }
        if !self.expires.is_empty() {
            s.push_str("\n[expires]\n");
            for (t, d) in &self.expires {
                let _ = writeln!(s, "{} = \"{d}\"", t.key());
            }
        }
        s
    }

    /// Parses a file and returns its content and raw signature, without checking the
    /// signature, the EID or the dependencies. For display tools; a system must use
    /// [`LicenceFile::verify`].
    pub fn parse(text: &str) -> Result<(Self, Option<[u8; SIGNATURE_LEN]>), VerifyError> {
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| VerifyError::Syntax {
                offset: e.span().map(|r| r.start),
            })?;
        let version = match doc.get("format") {
            None => return Err(VerifyError::MissingVersion),
            Some(toml::Value::Integer(v)) => *v,
            Some(_) => return Err(VerifyError::InvalidField(Field::Format)),
        };
        if version != FORMAT_VERSION {
            return Err(VerifyError::UnsupportedVersion { found: version });
        }
        table_keys(
            &doc,
            &[
                "format",
                "key_id",
                "eid",
                "gateway_eid",
                "sales_channel",
                "issued",
                "activation",
                "activation_expires",
                "signature",
                "swa",
                "licences",
                "expires",
            ],
        )?;
        let key_id = required(string(&doc, "key_id", Field::KeyId)?, Field::KeyId)?;
        let key_id = parsed(key_id, Field::KeyId, KeyId::parse)?;
        let eid = required(string(&doc, "eid", Field::Eid)?, Field::Eid)?;
        let eid = parsed(eid, Field::Eid, Eid::parse)?;
        let gateway_eid = string(&doc, "gateway_eid", Field::GatewayEid)?
            .map(|g| parsed(g, Field::GatewayEid, Eid::parse))
            .transpose()?;
        let sc = string(&doc, "sales_channel", Field::SalesChannel)?;
        let sales_channel = parsed(
            required(sc, Field::SalesChannel)?,
            Field::SalesChannel,
            SalesChannel::parse,
        )?;
        let issued = required(string(&doc, "issued", Field::Issued)?, Field::Issued)?;
        let issued = parsed(issued, Field::Issued, Date::parse)?;
        let act_exp = string(&doc, "activation_expires", Field::ActivationExpires)?;
        let activation = match (string(&doc, "activation", Field::Activation)?, act_exp) {
            (None | Some("permanent"), None) => Activation::Permanent,
            (Some("temporary"), Some(e)) => Activation::Temporary {
                expires: parsed(e, Field::ActivationExpires, Date::parse)?,
            },
            (Some("temporary"), None) => {
                return Err(VerifyError::MissingField(Field::ActivationExpires));
            }
            (None | Some("permanent"), Some(_)) => {
                return Err(VerifyError::InvalidField(Field::ActivationExpires));
            }
            (Some(_), _) => return Err(VerifyError::InvalidField(Field::Activation)),
        };
        let swa = match doc.get("swa") {
            None => None,
            Some(toml::Value::Table(t)) => {
                table_keys(t, &["covered_users", "expires"])?;
                let users = match t.get("covered_users") {
                    Some(toml::Value::Integer(n)) => u32::try_from(*n)
                        .ok()
                        .filter(|n| *n <= MAX_COUNT)
                        .ok_or(VerifyError::InvalidField(Field::SwaCoveredUsers))?,
                    Some(_) => return Err(VerifyError::InvalidField(Field::SwaCoveredUsers)),
                    None => return Err(VerifyError::MissingField(Field::SwaCoveredUsers)),
                };
                let exp = required(string(t, "expires", Field::SwaExpires)?, Field::SwaExpires)?;
                Some(Swa {
                    covered_users: users,
                    expires: parsed(exp, Field::SwaExpires, Date::parse)?,
                })
            }
            Some(_) => return Err(VerifyError::InvalidField(Field::Swa)),
        };
        let mut licences = BTreeMap::new();
        match doc.get("licences") {
            None => {}
            Some(toml::Value::Table(t)) => {
                for (k, v) in t {
                    let lt = LicenceType::from_key(k).ok_or_else(|| VerifyError::UnknownEntry {
                        key: k.as_str().into(),
                    })?;
                    let field = Field::Licence(lt);
                    let value = match (lt, lt.info().kind, v) {
                        (LicenceType::SoftwareRelease, _, toml::Value::String(s)) => {
                            Value::Release(parsed(s, field, Release::parse)?)
                        }
                        (LicenceType::SoftwareRelease, _, _) => {
                            return Err(VerifyError::InvalidField(field));
                        }
                        (_, Kind::Count, toml::Value::Integer(n)) => Value::Count(
                            u32::try_from(*n)
                                .ok()
                                .filter(|n| (1..=MAX_COUNT).contains(n))
                                .ok_or(VerifyError::InvalidField(field))?,
                        ),
                        (_, Kind::Switch, toml::Value::Boolean(true)) => Value::Switch,
                        _ => return Err(VerifyError::InvalidField(field)),
                    };
                    licences.insert(lt, value);
                }
            }
            Some(_) => return Err(VerifyError::InvalidField(Field::Licences)),
        }
        let mut expires = BTreeMap::new();
        match doc.get("expires") {
            None => {}
            Some(toml::Value::Table(t)) => {
                for (k, v) in t {
                    let lt = LicenceType::from_key(k).ok_or_else(|| VerifyError::UnknownEntry {
                        key: k.as_str().into(),
                    })?;
                    let d = match v {
                        toml::Value::String(d) => parsed(d, Field::Expiry(lt), Date::parse)?,
                        _ => return Err(VerifyError::InvalidField(Field::Expiry(lt))),
                    };
                    expires.insert(lt, d);
                }
            }
            Some(_) => return Err(VerifyError::InvalidField(Field::Expires)),
        }
        let signature = match string(&doc, "signature", Field::Signature)? {
            None => None,
            Some(s) => Some(
                hex_decode(s)
                    .and_then(|b| <[u8; SIGNATURE_LEN]>::try_from(b).ok())
                    .ok_or(VerifyError::SignatureEncoding)?,
            ),
        };
        let file = Self {
            key_id,
            eid,
            gateway_eid,
            sales_channel,
            issued,
            activation,
            swa,
            licences,
            expires,
        };
        Ok((file, signature))
    }

    /// [`LicenceFile::verify`] for raw bytes (as read from disk or the network).
    pub fn verify_bytes(bytes: &[u8], expect: &Expectations<'_>) -> Result<Self, VerifyError> {
        let text = std::str::from_utf8(bytes).map_err(|e| VerifyError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::verify(text, expect)
    }

    /// Verifies untrusted file text against the trust anchors and this system's identity
    /// (MV-1, MV-11, MV2-27). Checks run in this order: syntax and version, fields,
    /// signature presence, key, signature, dependencies, EID, gateway EID, sales channel.
    pub fn verify(text: &str, expect: &Expectations<'_>) -> Result<Self, VerifyError> {
        let (file, signature) = Self::parse(text)?;
        let signature = signature.ok_or(VerifyError::MissingSignature)?;
        let key = expect
            .anchors
            .find(file.key_id)
            .ok_or(VerifyError::UnknownKey(file.key_id))?;
        if !key.verify(&file.canonical_bytes(), &signature) {
            return Err(VerifyError::BadSignature);
        }
        file.validate()?;
        if file.eid != *expect.eid {
            return Err(VerifyError::WrongEid {
                expected: expect.eid.clone(),
                found: file.eid,
            });
        }
        match (expect.binding, &file.gateway_eid) {
            (Binding::OwnEid, None) => {}
            (Binding::OwnEid, Some(g)) => {
                return Err(VerifyError::UnexpectedGatewayEid { found: g.clone() });
            }
            (Binding::Gateway(want), got) => {
                if got.as_ref() != Some(want) {
                    return Err(VerifyError::WrongGatewayEid {
                        expected: want.clone(),
                        found: got.clone(),
                    });
                }
            }
        }
        if let Some(want) = expect.sales_channel
            && *want != file.sales_channel
        {
            return Err(VerifyError::WrongSalesChannel {
                expected: want.clone(),
                found: file.sales_channel,
            });
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &SigningKey) -> LicenceFile {
        let mut f = LicenceFile::new(
            key.verifying_key().id(),
            Eid::parse("VA-0001").unwrap(),
            SalesChannel::parse("ch-generic").unwrap(),
            Date::parse("2026-01-01").unwrap(),
        );
        f.swa = Some(Swa {
            covered_users: 50,
            expires: Date::parse("2026-12-31").unwrap(),
        });
        f.licences.insert(
            LicenceType::SoftwareRelease,
            Value::Release(Release::new(6, 0)),
        );
        f.licences.insert(LicenceType::User, Value::Count(50));
        f.licences.insert(LicenceType::SecureVoip, Value::Switch);
        f
    }

    #[test]
    fn release_syntax() {
        assert_eq!(Release::parse("6.0"), Some(Release::new(6, 0)));
        assert_eq!(Release::parse("06.0"), None);
        assert_eq!(Release::parse("6"), None);
        assert_eq!(Release::parse("6.-1"), None);
        assert!(Release::new(6, 1).covers(Release::new(6, 0)));
        assert!(!Release::new(6, 0).covers(Release::new(6, 1)));
        assert!(!Release::new(7, 0).covers(Release::new(6, 0)));
    }

    #[test]
    fn eid_syntax() {
        assert!(Eid::parse("VA-1.2_3").is_some());
        assert!(Eid::parse("").is_none());
        assert!(Eid::parse("a:b").is_none());
        assert!(Eid::parse("a\nb").is_none());
        assert!(Eid::parse(&"x".repeat(65)).is_none());
    }

    #[test]
    fn sign_parse_round_trip() {
        let key = SigningKey::from_seed([9; 32]).unwrap();
        let f = sample(&key);
        let text = f.sign(&key).unwrap();
        let (back, sig) = LicenceFile::parse(&text).unwrap();
        assert_eq!(back, f);
        assert!(sig.is_some());
    }

    #[test]
    fn issuer_refuses_missing_dependency() {
        // MV-16: Number in Queue needs Auto Attendant.
        let key = SigningKey::from_seed([9; 32]).unwrap();
        let mut f = sample(&key);
        f.licences.insert(LicenceType::NumberInQueue, Value::Switch);
        assert_eq!(
            f.sign(&key),
            Err(VerifyError::MissingDependency {
                licence: LicenceType::NumberInQueue,
                requires: LicenceType::AutoAttendant
            })
        );
        f.licences.insert(LicenceType::AutoAttendant, Value::Switch);
        assert!(f.sign(&key).is_ok());
    }
}
