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

    /// The roots a server certificate must chain to: the webpki (Mozilla)
    /// roots and the ones added.
    fn root_store(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in &self.extra_roots {
            roots
                .add(der.clone())
                .map_err(|e| format!("invalid root certificate: {e}"))?;
        }
        Ok(roots)
    }

    fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config
            .get_or_init(|| {
                let roots = self.root_store()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The test CA of `tests/tls.rs` (not one of the webpki roots).
    const CA: &[u8] = include_bytes!("../../tests/tls/ca.der");

    fn has_subject(store: &RootCertStore, name: &[u8]) -> bool {
        store.roots.iter().any(|anchor| {
            anchor
                .subject
                .as_ref()
                .windows(name.len())
                .any(|w| w == name)
        })
    }

    #[test]
    fn trusts_the_webpki_roots_and_the_added_ones() {
        let default = Tls::default().root_store().expect("roots");
        assert_eq!(default.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(default.len() > 100, "{} roots", default.len());
        // Two well-known public roots are among them; the test CA is not.
        assert!(has_subject(&default, b"ISRG Root X1"));
        assert!(has_subject(&default, b"DigiCert Global Root G2"));
        assert!(!has_subject(&default, b"wirehub test CA"));

        let with = Tls::with_roots(vec![CA.to_vec()])
            .root_store()
            .expect("roots");
        assert_eq!(with.len(), default.len() + 1);
        assert!(
            has_subject(&with, b"ISRG Root X1"),
            "the added root is an addition"
        );

        let err = Tls::with_roots(vec![vec![1, 2, 3]])
            .root_store()
            .unwrap_err();
        assert!(err.starts_with("invalid root certificate"), "{err}");
    }

    #[test]
    fn the_handshake_config_is_built_from_those_roots() {
        assert!(Tls::default().client_config().is_ok());
        let bad = Tls::with_roots(vec![vec![1, 2, 3]])
            .client_config()
            .unwrap_err();
        assert!(bad.starts_with("invalid root certificate"), "{bad}");
    }
}
