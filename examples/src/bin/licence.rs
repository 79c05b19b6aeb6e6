//! `licence`: make and check PBXKit licence files (see the `pbxkit-licensing` crate docs).
//!
//! ```text
//! licence keygen --out KEYDIR                       # KEYDIR/private, KEYDIR/public
//! licence issue --key KEYDIR/private --eid EID --set user=50 --set sip_terminals=20 \
//!     [--set software_release=6.0 --swa-users 50 --swa-expires 2027-12-31] \
//!     [--expires user=2027-06-30] \
//!     [--gateway-eid EID] [--sales-channel NAME] [--temporary-until DATE] --out FILE
//! licence verify FILE --pubkey KEYDIR/public --eid EID [--gateway-eid EID] [--sales-channel NAME]
//! licence show FILE [--pubkey KEYDIR/public]
//! licence serve --addr 127.0.0.1:8470 --register EID[:gateway] [--swa-users N --swa-expires DATE]
//! ```
//! `serve` runs the reference licence server (online verification with clone detection,
//! `pbxkit_licensing::sls`) over HTTP on the given address, one request per connection.
//! Exit status: 0 success / valid, 1 invalid or failed, 2 usage error (clap).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use licensing::sls::{self, LicenceServer, SlsConfig, Verification};
use licensing::{
    Activation, Binding, Date, Eid, Expectations, Kind, LicenceFile, LicenceType, Release,
    SalesChannel, SigningKey, Swa, TrustAnchors, Value, VerifyingKey,
};
use ring::rand::{SecureRandom, SystemRandom};

#[derive(Parser)]
#[command(name = "licence", about = "Make and check PBXKit licence files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an Ed25519 vendor key pair into a directory.
    Keygen {
        /// Directory to create (`private` and `public` inside).
        #[arg(long)]
        out: PathBuf,
    },
    /// Issue (sign) a licence file.
    Issue {
        /// The private key file.
        #[arg(long)]
        key: PathBuf,
        /// The EID the file is bound to.
        #[arg(long)]
        eid: String,
        /// Gateway-EID mode: the licence-holding satellite's EID.
        #[arg(long)]
        gateway_eid: Option<String>,
        /// Sales channel.
        #[arg(long, default_value = "generic")]
        sales_channel: String,
        /// A licence: `type=count`, `type` or `type=true` for a switch,
        /// `software_release=6.0`.
        #[arg(long = "set", value_name = "TYPE[=VALUE]")]
        set: Vec<String>,
        /// A licence's last day: `type=YYYY-MM-DD`.
        #[arg(long = "expires", value_name = "TYPE=DATE")]
        expires: Vec<String>,
        /// SWA covered users.
        #[arg(long)]
        swa_users: Option<u32>,
        /// SWA last day (YYYY-MM-DD).
        #[arg(long)]
        swa_expires: Option<String>,
        /// Make a temporary activation ending on this day (YYYY-MM-DD).
        #[arg(long)]
        temporary_until: Option<String>,
        /// Issue date (YYYY-MM-DD; default today, UTC).
        #[arg(long)]
        issued: Option<String>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a licence file; exit 0 if valid.
    Verify {
        /// The licence file.
        file: PathBuf,
        /// The vendor's public key file.
        #[arg(long)]
        pubkey: PathBuf,
        /// This system's EID.
        #[arg(long)]
        eid: String,
        /// Gateway-EID mode: the expected gateway EID.
        #[arg(long)]
        gateway_eid: Option<String>,
        /// Expected sales channel.
        #[arg(long)]
        sales_channel: Option<String>,
    },
    /// Run the reference licence server over HTTP (loopback by default).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8470")]
        addr: String,
        /// A licensed system: `EID` (online verification) or `EID:gateway`.
        #[arg(long = "register", value_name = "EID[:gateway]")]
        register: Vec<String>,
        /// SWA covered users reported for every registered system.
        #[arg(long)]
        swa_users: Option<u32>,
        /// SWA last day reported (YYYY-MM-DD).
        #[arg(long)]
        swa_expires: Option<String>,
    },
    /// Print the licences, one per line, and the file's validity.
    Show {
        /// The licence file.
        file: PathBuf,
        /// Check the signature with this public key.
        #[arg(long)]
        pubkey: Option<PathBuf>,
    },
}

type Fallible<T> = Result<T, String>;

fn read(path: &Path) -> Fallible<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes atomically (see [`pbxkit_examples::write_atomic`]).
fn write_atomic(path: &Path, text: &str, private: bool) -> Fallible<()> {
    pbxkit_examples::write_atomic(path, text.as_bytes(), private)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn eid(s: &str) -> Fallible<Eid> {
    Eid::parse(s).ok_or_else(|| format!("invalid EID {s:?}"))
}

fn date(s: &str) -> Fallible<Date> {
    Date::parse(s).ok_or_else(|| format!("invalid date {s:?} (want YYYY-MM-DD)"))
}

fn channel(s: &str) -> Fallible<SalesChannel> {
    SalesChannel::parse(s).ok_or_else(|| format!("invalid sales channel {s:?}"))
}

fn licence(spec: &str) -> Fallible<(LicenceType, Value)> {
    let (key, value) = spec.split_once('=').unwrap_or((spec, "true"));
    let t = LicenceType::from_key(key).ok_or_else(|| format!("unknown licence type {key:?}"))?;
    let v = match (t, t.info().kind) {
        (LicenceType::SoftwareRelease, _) => Value::Release(
            Release::parse(value).ok_or_else(|| format!("invalid release {value:?}"))?,
        ),
        (_, Kind::Switch) if value == "true" || value == "on" => Value::Switch,
        (_, Kind::Count) => Value::Count(
            value
                .parse()
                .map_err(|_| format!("{key}: count expected, got {value:?}"))?,
        ),
        _ => return Err(format!("{key} is a switch: use `{key}` or `{key}=true`")),
    };
    Ok((t, v))
}

fn print_file(f: &LicenceFile) {
    println!("eid: {}", f.eid);
    if let Some(g) = &f.gateway_eid {
        println!("gateway_eid: {g}");
    }
    println!("sales_channel: {}", f.sales_channel);
    println!("issued: {}", f.issued);
    match f.activation {
        Activation::Permanent => println!("activation: permanent"),
        Activation::Temporary { expires } => println!("activation: temporary until {expires}"),
    }
    if let Some(s) = f.swa {
        println!("swa: {} users until {}", s.covered_users, s.expires);
    }
    for (t, v) in &f.licences {
        let until = f
            .expires
            .get(t)
            .map(|d| format!(" (until {d})"))
            .unwrap_or_default();
        match v {
            Value::Count(n) => println!("{} = {n}{until}", t.key()),
            Value::Switch => println!("{} = on{until}", t.key()),
            Value::Release(r) => println!("{} = {r}{until}", t.key()),
        }
    }
}

fn serve(addr: &str, mut server: LicenceServer) -> Fallible<bool> {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind(addr).map_err(|e| format!("{addr}: {e}"))?;
    println!(
        "licence server on {}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        let reply = loop {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => break sls::http_bad_request(),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            match sls::parse_http_request(&buf) {
                Ok(None) => {}
                Ok(Some(req)) => {
                    let resp = server.handle_check(SystemTime::now(), &req);
                    println!("{} {:016x}: {:?}", req.eid, req.instance, resp.verdict);
                    break sls::http_response(&resp);
                }
                Err(_) => break sls::http_bad_request(),
            }
        };
        let _ = conn.write_all(&reply);
    }
    Ok(true)
}

fn run(cli: Cli) -> Fallible<bool> {
    match cli.command {
        Command::Keygen { out } => {
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let mut seed = [0u8; 32];
            SystemRandom::new()
                .fill(&mut seed)
                .map_err(|_| "no system randomness".to_owned())?;
            let key = SigningKey::from_seed(seed).map_err(|e| e.to_string())?;
            write_atomic(&out.join("private"), &format!("{}\n", key.to_text()), true)?;
            let public = key.verifying_key();
            write_atomic(
                &out.join("public"),
                &format!("{}\n", public.to_text()),
                false,
            )?;
            println!("key id {}", public.id());
            Ok(true)
        }
        Command::Issue {
            key,
            eid: e,
            gateway_eid,
            sales_channel,
            set,
            expires,
            swa_users,
            swa_expires,
            temporary_until,
            issued,
            out,
        } => {
            let key = SigningKey::from_text(&read(&key)?).map_err(|e| e.to_string())?;
            let issued = match issued {
                Some(d) => date(&d)?,
                None => Date::of(SystemTime::now()).ok_or("clock out of range")?,
            };
            let mut f = LicenceFile::new(
                key.verifying_key().id(),
                eid(&e)?,
                channel(&sales_channel)?,
                issued,
            );
            f.gateway_eid = gateway_eid.as_deref().map(eid).transpose()?;
            f.swa = match (swa_users, swa_expires) {
                (Some(covered_users), Some(exp)) => Some(Swa {
                    covered_users,
                    expires: date(&exp)?,
                }),
                (None, None) => None,
                _ => return Err("give both --swa-users and --swa-expires".into()),
            };
            if let Some(d) = temporary_until {
                f.activation = Activation::Temporary { expires: date(&d)? };
            }
            for s in &set {
                let (t, v) = licence(s)?;
                f.licences.insert(t, v);
            }
            for e in &expires {
                let (key, day) = e.split_once('=').ok_or("--expires wants TYPE=DATE")?;
                let t = LicenceType::from_key(key)
                    .ok_or_else(|| format!("unknown licence type {key:?}"))?;
                f.expires.insert(t, date(day)?);
            }
            let text = f.sign(&key).map_err(|e| e.to_string())?;
            write_atomic(&out, &text, false)?;
            Ok(true)
        }
        Command::Verify {
            file,
            pubkey,
            eid: e,
            gateway_eid,
            sales_channel,
        } => {
            let public = VerifyingKey::from_text(&read(&pubkey)?).map_err(|e| e.to_string())?;
            let anchors = TrustAnchors::new().with(public);
            let own = eid(&e)?;
            let binding = match gateway_eid {
                Some(g) => Binding::Gateway(eid(&g)?),
                None => Binding::OwnEid,
            };
            let channel = sales_channel.as_deref().map(channel).transpose()?;
            let expect = Expectations {
                anchors: &anchors,
                eid: &own,
                binding: &binding,
                sales_channel: channel.as_ref(),
            };
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            match LicenceFile::verify_bytes(&bytes, &expect) {
                Ok(_) => {
                    println!("valid");
                    Ok(true)
                }
                Err(e) => {
                    println!("invalid: {e}");
                    Ok(false)
                }
            }
        }
        Command::Serve {
            addr,
            register,
            swa_users,
            swa_expires,
        } => {
            let swa = match (swa_users, swa_expires) {
                (Some(covered_users), Some(exp)) => Some(Swa {
                    covered_users,
                    expires: date(&exp)?,
                }),
                (None, None) => None,
                _ => return Err("give both --swa-users and --swa-expires".into()),
            };
            let mut server = LicenceServer::new(SlsConfig::default());
            for r in &register {
                let (e, mode) = match r.strip_suffix(":gateway") {
                    Some(e) => (e, Verification::Gateway),
                    None => (r.as_str(), Verification::Online),
                };
                server.register(eid(e)?, mode, swa);
            }
            serve(&addr, server)
        }
        Command::Show { file, pubkey } => {
            let text = read(&file)?;
            let (f, signature) = LicenceFile::parse(&text).map_err(|e| format!("invalid: {e}"))?;
            print_file(&f);
            let validity = match (signature, pubkey) {
                (None, _) => "invalid: not signed".to_owned(),
                (Some(_), None) => "unverified (pass --pubkey to check the signature)".into(),
                (Some(sig), Some(p)) => {
                    let public = VerifyingKey::from_text(&read(&p)?).map_err(|e| e.to_string())?;
                    if public.id() != f.key_id {
                        format!("invalid: signed by unknown key {}", f.key_id)
                    } else if !public.verify(&f.canonical_bytes(), &sig) {
                        "invalid: bad signature".into()
                    } else if let Err(e) = f.validate() {
                        format!("invalid: {e}")
                    } else {
                        "valid signature".into()
                    }
                }
            };
            println!("validity: {validity}");
            Ok(!validity.starts_with("invalid"))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("licence: {e}");
            ExitCode::from(1)
        }
    }
}
