//! The TLS certificate: configured PEM files, or a self-signed certificate for
//! `localhost`/`127.0.0.1` (and any other TLS listen IP) generated on first start and reused,
//! and generated anew when the listen IP is no longer among its names (MV2-36).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{DataDir, DataError, io_err, write_atomic};

/// A certificate chain and its key.
#[derive(Debug)]
pub struct TlsMaterial {
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
    /// Where the certificate lives.
    pub cert_path: PathBuf,
    /// Whether it was generated during this start.
    pub generated: bool,
    /// Set when a generated certificate was replaced because the TLS listen IP changed.
    pub ip_changed: bool,
    /// The leaf certificate's notAfter, in seconds since the Unix epoch.
    pub not_after: i64,
}

/// What the PBX needs from a leaf certificate: expiry and IP names.
struct LeafInfo {
    not_after: i64,
    ips: Vec<IpAddr>,
}

fn leaf_info(path: &Path, der: &CertificateDer<'_>) -> Result<LeafInfo, DataError> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| corrupt(path, e))?;
    let not_after = cert.validity().not_after.timestamp();
    let mut ips = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::IPAddress(b) = name {
                match b.len() {
                    4 => ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())),
                    16 => ips.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())),
                    _ => {}
                }
            }
        }
    }
    Ok(LeafInfo { not_after, ips })
}

/// The IP a generated certificate must name besides `localhost`/`127.0.0.1`, if any.
fn public_ip(ip: Option<IpAddr>) -> Option<IpAddr> {
    ip.filter(|ip| !ip.is_unspecified() && *ip != IpAddr::from([127, 0, 0, 1]))
}

fn generate(folder: &Path, cert: &Path, key: &Path, ip: Option<IpAddr>) -> Result<(), DataError> {
    std::fs::create_dir_all(folder).map_err(io_err(folder))?;
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if let Some(ip) = public_ip(ip) {
        names.push(ip.to_string());
    }
    let ck = rcgen::generate_simple_self_signed(names)?;
    write_atomic(key, ck.key_pair.serialize_pem().as_bytes(), true)?;
    write_atomic(cert, ck.cert.pem().as_bytes(), false)
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> DataError {
    DataError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn read_pem(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), DataError> {
    let cert_pem = std::fs::read(cert).map_err(io_err(cert))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(cert, e))?;
    if chain.is_empty() {
        return Err(corrupt(cert, "no certificate in the PEM file"));
    }
    let key_pem = std::fs::read(key).map_err(io_err(key))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| corrupt(key, e))?;
    Ok((chain, key_der))
}

/// Loads the configured certificate (`configured` = cert and key paths), or the generated
/// one in `dir/tls/`, generating it first if absent. `ip` is added to the names.
pub fn tls_material(
    dir: &DataDir,
    configured: Option<(&Path, &Path)>,
    ip: Option<IpAddr>,
) -> Result<TlsMaterial, DataError> {
    if let Some((cert, key)) = configured {
        let (chain, key) = read_pem(cert, key)?;
        let info = leaf_info(cert, &chain[0])?;
        return Ok(TlsMaterial {
            chain,
            key,
            cert_path: cert.to_path_buf(),
            generated: false,
            ip_changed: false,
            not_after: info.not_after,
        });
    }
    let folder = dir.path(Path::new("tls"));
    let (cert, key) = (folder.join("cert.pem"), folder.join("key.pem"));
    let mut generated = !(cert.exists() && key.exists());
    if generated {
        generate(&folder, &cert, &key, ip)?;
    }
    let (mut chain, mut key_der) = read_pem(&cert, &key)?;
    let mut info = leaf_info(&cert, &chain[0])?;
    let ip_changed = public_ip(ip).is_some_and(|ip| !info.ips.contains(&ip));
    if ip_changed {
        generate(&folder, &cert, &key, ip)?;
        (chain, key_der) = read_pem(&cert, &key)?;
        info = leaf_info(&cert, &chain[0])?;
        generated = true;
    }
    Ok(TlsMaterial {
        chain,
        key: key_der,
        cert_path: cert,
        generated,
        ip_changed,
        not_after: info.not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_and_reused() {
        let root = crate::data::tests::temp_dir("tls");
        let dir = DataDir::open(&root).expect("open");
        let a = tls_material(&dir, None, None).expect("generate");
        assert!(a.generated);
        let b = tls_material(&dir, None, None).expect("reuse");
        assert!(!b.generated);
        assert_eq!(a.chain, b.chain, "the same certificate on the next start");
        // It is usable by rustls as a server certificate.
        rustls::ServerConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(b.chain, b.key)
        .expect("valid certificate and key");
        // Configured files are read as they are; a broken one is an error, not a panic.
        let cert = dir.path(Path::new("tls/cert.pem"));
        let bad = dir.path(Path::new("bad.pem"));
        std::fs::write(&bad, "not pem").expect("write");
        assert!(tls_material(&dir, Some((&bad, &bad)), None).is_err());
        let key = dir.path(Path::new("tls/key.pem"));
        assert!(
            !tls_material(&dir, Some((&cert, &key)), None)
                .expect("configured")
                .generated
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn mv2_36_listen_ip_change_regenerates_the_generated_certificate() {
        let root = crate::data::tests::temp_dir("tls-ip");
        let dir = DataDir::open(&root).expect("open");
        let a: IpAddr = "192.0.2.10".parse().expect("ip");
        let b: IpAddr = "192.0.2.20".parse().expect("ip");
        let first = tls_material(&dir, None, Some(a)).expect("generate");
        assert!(first.generated && !first.ip_changed);
        let same = tls_material(&dir, None, Some(a)).expect("reuse");
        assert!(!same.generated && !same.ip_changed);
        assert_eq!(first.chain, same.chain);
        // 127.0.0.1 and unspecified addresses are always covered: no regeneration.
        let lo = tls_material(&dir, None, Some("127.0.0.1".parse().expect("ip"))).expect("lo");
        assert!(!lo.generated);
        let moved = tls_material(&dir, None, Some(b)).expect("regenerate");
        assert!(moved.generated && moved.ip_changed);
        assert_ne!(moved.chain, first.chain);
        let cert = dir.path(Path::new("tls/cert.pem"));
        assert!(
            leaf_info(&cert, &moved.chain[0])
                .expect("parse")
                .ips
                .contains(&b)
        );
        // rcgen's default validity runs to 4096: far in the future.
        assert!(moved.not_after > 4_000_000_000);
        let _ = std::fs::remove_dir_all(&root);
    }
}
