//! TLS settings: rustls with the `ring` provider, trusting the webpki
//! (Mozilla) roots plus any roots the user adds.

use crate::error::Error;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// TLS settings of a client; the rustls configuration is built on first use.
#[derive(Debug, Default)]
pub(crate) struct Tls {
    extra_roots: Vec<CertificateDer<'static>>,
    config: OnceLock<Result<Arc<ClientConfig>, String>>,
}

impl Tls {
    /// Settings that also trust the given DER-encoded root certificates.
    pub(crate) fn with_roots(extra_roots: Vec<Vec<u8>>) -> Self {
        Tls {
            extra_roots: extra_roots.into_iter().map(CertificateDer::from).collect(),
            config: OnceLock::new(),
        }
    }

    fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config
            .get_or_init(|| {
                let mut roots = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                for der in &self.extra_roots {
                    roots
                        .add(der.clone())
                        .map_err(|e| format!("invalid root certificate: {e}"))?;
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Ok(Arc::new(config))
            })
            .clone()
    }

    /// Runs the TLS handshake on `tcp`, checking the certificate against `host`.
    pub(crate) async fn handshake(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, Error> {
        let failed = |message: String| Error::Tls {
            host: host.to_owned(),
            message,
        };
        let config = self.client_config().map_err(failed)?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| failed(format!("invalid server name: {e}")))?;
        TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| failed(e.to_string()))
    }
}
