//! The TLS certificate: configured PEM files, or a self-signed certificate for
//! `localhost`/`127.0.0.1` (and the TLS listen IP) generated on first start and reused.

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
        return Ok(TlsMaterial {
            chain,
            key,
            cert_path: cert.to_path_buf(),
            generated: false,
        });
    }
    let folder = dir.path(Path::new("tls"));
    let (cert, key) = (folder.join("cert.pem"), folder.join("key.pem"));
    let generated = !(cert.exists() && key.exists());
    if generated {
        std::fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        if let Some(ip) = ip.filter(|ip| !ip.is_unspecified() && !ip.is_loopback()) {
            names.push(ip.to_string());
        }
        let ck = rcgen::generate_simple_self_signed(names)?;
        write_atomic(&key, ck.key_pair.serialize_pem().as_bytes(), true)?;
        write_atomic(&cert, ck.cert.pem().as_bytes(), false)?;
    }
    let (chain, key) = read_pem(&cert, &key)?;
    Ok(TlsMaterial {
        chain,
        key,
        cert_path: cert,
        generated,
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
}
