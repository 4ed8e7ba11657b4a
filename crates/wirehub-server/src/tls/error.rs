//! [`TlsError`]: why a certificate and key could not be loaded.

use std::path::PathBuf;

/// Why [`super::TlsConfig::from_pem_files`] or
/// [`super::TlsConfig::reload`] failed. On a failed reload the previous
/// certificate stays in use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read: check the path and its permissions.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid PEM: it may be truncated or in DER form.
    #[error("{path} is not valid PEM: {message}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What the PEM decoder found.
        message: String,
    },
    /// The certificate file holds no `CERTIFICATE` section.
    #[error("{path} holds no certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key (PKCS#8, PKCS#1 or SEC1).
    #[error("{path} holds no private key")]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is of an unsupported kind, or does not belong to the
    /// certificate: check that the two files are a pair.
    #[error("the key in {key} does not fit the certificate in {cert}: {message}")]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        message: String,
    },
    /// rustls refused to build a server configuration (no usable
    /// protocol version with the provider).
    #[error("TLS configuration: {0}")]
    Config(String),
}
