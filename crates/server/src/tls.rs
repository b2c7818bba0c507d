//! TLS for client connections, with rustls on ring: the server certificate
//! from PEM files or a self-signed one generated on first start, and what a
//! session reports about its TLS (`Ssl_version`, `Ssl_cipher`).
//!
//! The upgrade itself happens in the handshake (`handshake::login`), right
//! after the client's SSLRequest packet; everything after it — the rest of
//! the login and opensrv's command loop — runs over the TLS stream.

use crate::config::TlsSettings;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Names of the files an auto-generated certificate is kept in (MySQL's
/// names for its own auto-generated pair).
pub const GENERATED_CERT_FILE: &str = "server-cert.pem";
pub const GENERATED_KEY_FILE: &str = "server-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {}: {message}", path.display())]
    Cert { path: PathBuf, message: String },
    #[error("TLS private key {}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("cannot write the generated TLS certificate into {}: {source}", dir.display())]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Setup(String),
}

type CertAndKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The acceptor for `settings`; files are read (or generated) now, so a
/// bad certificate stops the server at start-up instead of failing every
/// TLS client later.
pub fn acceptor(settings: &TlsSettings) -> Result<TlsAcceptor, TlsError> {
    let (certs, key) = match settings {
        TlsSettings::Files { cert, key } => (load_certs(cert)?, load_key(key)?),
        TlsSettings::AutoGenerate { dir } => self_signed(dir.as_deref())?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Setup(format!("certificate and key do not fit: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |message: String| TlsError::Cert {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no CERTIFICATE in the file".into()));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Key {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The self-signed pair in `dir`, generated there when absent; without a
/// directory, a fresh pair held in memory only.
fn self_signed(dir: Option<&Path>) -> Result<CertAndKey, TlsError> {
    let Some(dir) = dir else {
        let (cert, key) = generate()?;
        return parse_pems(&cert, &key);
    };
    let (cert_path, key_path) = (dir.join(GENERATED_CERT_FILE), dir.join(GENERATED_KEY_FILE));
    if cert_path.exists() && key_path.exists() {
        return Ok((load_certs(&cert_path)?, load_key(&key_path)?));
    }
    let (cert, key) = generate()?;
    let write_err = |source| TlsError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    write_private(&key_path, key.as_bytes()).map_err(write_err)?;
    std::fs::write(&cert_path, cert.as_bytes()).map_err(write_err)?;
    tracing::info!(
        cert = %cert_path.display(),
        "generated a self-signed TLS certificate for localhost"
    );
    parse_pems(&cert, &key)
}

/// Certificate and key PEM for `localhost`, `127.0.0.1` and `::1`.
fn generate() -> Result<(String, String), TlsError> {
    let names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| TlsError::Setup(format!("cannot generate a certificate: {e}")))?;
    Ok((certified.cert.pem(), certified.signing_key.serialize_pem()))
}

fn parse_pems(cert: &str, key: &str) -> Result<CertAndKey, TlsError> {
    let setup = |e: rustls::pki_types::pem::Error| TlsError::Setup(e.to_string());
    let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(setup)?;
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(setup)?;
    Ok((certs, key))
}

/// Writes a file only its owner can read (the private key).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// What `SHOW STATUS LIKE 'Ssl_%'` reports for a TLS session, in OpenSSL's
/// spelling as MySQL shows it (`TLSv1.3`, `TLS_AES_256_GCM_SHA384`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
}

impl TlsInfo {
    pub fn of(conn: &rustls::ServerConnection) -> TlsInfo {
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => String::new(),
        };
        let cipher = conn
            .negotiated_cipher_suite()
            .map(|s| openssl_cipher_name(s.suite()))
            .unwrap_or_default();
        TlsInfo { version, cipher }
    }
}

fn openssl_cipher_name(suite: rustls::CipherSuite) -> String {
    let iana = suite
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{suite:?}"));
    let openssl = match iana.as_str() {
        "TLS13_AES_256_GCM_SHA384" => "TLS_AES_256_GCM_SHA384",
        "TLS13_AES_128_GCM_SHA256" => "TLS_AES_128_GCM_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256" => "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => "ECDHE-RSA-CHACHA20-POLY1305",
        _ => return iana,
    };
    openssl.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_generated_pair_is_written_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let tls_dir = dir.path().join("tls");
        let settings = TlsSettings::AutoGenerate {
            dir: Some(tls_dir.clone()),
        };
        acceptor(&settings).unwrap();
        let cert = std::fs::read_to_string(tls_dir.join(GENERATED_CERT_FILE)).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tls_dir.join(GENERATED_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the private key must not be readable by others"
            );
        }
        acceptor(&settings).unwrap();
        let again = std::fs::read_to_string(tls_dir.join(GENERATED_CERT_FILE)).unwrap();
        assert_eq!(cert, again, "a second start reuses the pair");
        acceptor(&TlsSettings::AutoGenerate { dir: None }).unwrap();
    }

    #[test]
    fn unreadable_or_mismatched_files_are_start_up_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsSettings::Files {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope-key.pem"),
        };
        assert!(matches!(acceptor(&missing), Err(TlsError::Cert { .. })));

        let (cert_a, _) = generate().unwrap();
        let (_, key_b) = generate().unwrap();
        std::fs::write(dir.path().join("a.pem"), cert_a).unwrap();
        std::fs::write(dir.path().join("b-key.pem"), key_b).unwrap();
        std::fs::write(dir.path().join("garbage.pem"), "not pem").unwrap();
        let mismatched = TlsSettings::Files {
            cert: dir.path().join("a.pem"),
            key: dir.path().join("b-key.pem"),
        };
        assert!(matches!(acceptor(&mismatched), Err(TlsError::Setup(_))));
        let garbage = TlsSettings::Files {
            cert: dir.path().join("garbage.pem"),
            key: dir.path().join("b-key.pem"),
        };
        assert!(matches!(acceptor(&garbage), Err(TlsError::Cert { .. })));
    }

    #[test]
    fn cipher_names_follow_openssl() {
        assert_eq!(
            openssl_cipher_name(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384),
            "TLS_AES_256_GCM_SHA384"
        );
        assert_eq!(
            openssl_cipher_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
            "ECDHE-RSA-AES128-GCM-SHA256"
        );
    }
}
