//! [`TlsConfig`]: a certificate and key from PEM files, and the rustls
//! server configuration that serves them (ring, TLS 1.2 and 1.3, ALPN
//! `http/1.1`, no client certificates).

use super::certs::CertStore;
use super::error::TlsError;
use rustls::ServerConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// The server's TLS settings. Clones share the certificate, so
/// [`TlsConfig::reload`] on one reaches every listener built from any.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    certs: Arc<CertStore>,
    server: Arc<ServerConfig>,
}

impl TlsConfig {
    /// Reads a PEM certificate chain (leaf first) and its PEM private key
    /// (PKCS#8, PKCS#1 or SEC1), and checks that they are a pair.
    pub fn from_pem_files(
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = Arc::new(CertStore::open(cert.into(), key.into(), provider.clone())?);
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(certs.clone());
        // The server speaks HTTP/1.1 only (WebSocket upgrades need it).
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            certs,
            server: Arc::new(server),
        })
    }

    /// Reads the two files again. If they hold a valid pair, every later
    /// handshake gets it while open connections keep theirs; on an error
    /// the certificate in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        self.certs.reload()
    }

    /// The DER certificate chain in use, leaf first.
    pub fn certificate_chain(&self) -> Vec<Vec<u8>> {
        self.certs
            .current()
            .cert
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect()
    }

    pub(super) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
    }
}
