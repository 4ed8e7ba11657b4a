//! TLS for every transport served over TCP: HTTPS and WSS on the HTTP
//! listener ([`TlsListener`], handed to [`crate::serve`]) and TLS for the
//! NDJSON gateway ([`crate::plain::serve_tcp_tls`]). rustls with the `ring`
//! provider, ALPN `http/1.1`.
//!
//! ```no_run
//! use wirehub_server::tls::{TlsConfig, TlsListener};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (service, io) = wirehub_server::SocketIo::builder().build_service();
//! let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//! let tcp = tokio::net::TcpListener::bind("0.0.0.0:443").await?;
//! let listener = TlsListener::new(tcp, tls.clone());
//! // On SIGHUP, say: `tls.reload()` swaps the certificate in; live
//! // connections keep theirs, a failed reload keeps the old one.
//! wirehub_server::serve(listener, service, io.connections().drained()).await?;
//! # Ok(()) }
//! ```
//!
//! - `config`: [`TlsConfig`], the certificate files and the rustls server
//!   configuration built once around a reloadable certificate.
//! - `certs`: the current certificate, read from PEM files and swapped
//!   atomically on reload (a brief read lock on each handshake).
//! - `listener`: [`TlsListener`], a TCP listener whose handshake future is
//!   the TLS accept, bounded by a timeout; [`TlsStream`] is what it yields.
//! - `error`: [`TlsError`].

mod certs;
mod config;
mod error;
mod listener;

pub use config::TlsConfig;
pub use error::TlsError;
pub use listener::{TlsListener, TlsStream, DEFAULT_HANDSHAKE_TIMEOUT};
