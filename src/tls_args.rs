//! The TLS flags of `wirehub serve`: HTTPS/WSS on the HTTP port, TLS on
//! the TCP gateway, and certificate reload on SIGHUP.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use wirehub_server::tls::TlsConfig;

/// TLS options of `wirehub serve`.
#[derive(Debug, Args)]
#[command(next_help_heading = "TLS")]
pub(crate) struct TlsArgs {
    /// PEM certificate chain (leaf first): serve HTTPS and WSS on the HTTP
    /// port; reloaded with the key on SIGHUP. Needs --tls-key.
    #[arg(
        long,
        env = "WIREHUB_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "WIREHUB_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Serve the TCP gateway (--tcp) over TLS with the same certificate.
    #[arg(long, env = "WIREHUB_TCP_TLS", requires_all = ["tls_cert", "tcp"])]
    tcp_tls: bool,
}

impl TlsArgs {
    /// The TLS configuration, when the certificate flags are given.
    pub(crate) fn config(&self) -> anyhow::Result<Option<TlsConfig>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let tls = TlsConfig::from_pem_files(cert, key).context("--tls-cert/--tls-key")?;
        Ok(Some(tls))
    }

    /// Whether the TCP gateway serves TLS.
    pub(crate) fn tcp_tls(&self) -> bool {
        self.tcp_tls
    }
}

/// Reloads the certificate on every SIGHUP: a new pair serves later
/// handshakes, open connections keep theirs, and a pair that does not
/// load is logged and the old one stays.
pub(crate) fn reload_on_sighup(tls: TlsConfig) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match tls.reload() {
                    Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                    Err(e) => tracing::error!(
                        error = %e,
                        "SIGHUP: TLS certificate not reloaded; keeping the current one"
                    ),
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(tls);
    Ok(())
}
