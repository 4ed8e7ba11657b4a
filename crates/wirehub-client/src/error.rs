//! [`Error`]: every way a client operation can fail, one variant per cause,
//! each with a message that says what to check.

use std::sync::Arc;
use std::time::Duration;

/// Why a client operation failed.
///
/// Cloneable (sources are shared), so one failure can be handed to several
/// listeners, e.g. every socket waiting on the same connection.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be used: fix the URL (schemes `http`, `https`, `ws`, `wss`).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option could not be used (a header, a query pair, the auth payload).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Nothing listens at the address: is the server running, on this port?
    #[error("connection refused by {addr}: is the server running?")]
    ConnectionRefused {
        /// `host:port`.
        addr: String,
    },
    /// The TCP connection failed for another reason (name resolution, network).
    #[error("could not connect to {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The underlying I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The TLS handshake failed: untrusted or invalid certificate, or the
    /// server does not speak TLS on this port (try `http://` / `ws://`).
    #[error("TLS handshake with {host} failed: {message}")]
    Tls {
        /// The server name the certificate was checked against.
        host: String,
        /// What rustls reported.
        message: String,
    },
    /// The server answered 404: wrong URL or wrong `path` option.
    #[error("no Socket.IO endpoint at {url} (HTTP 404): check the URL and the path option (default /socket.io/)")]
    NotFound {
        /// The URL requested.
        url: String,
    },
    /// The server refused the Engine.IO handshake (HTTP 400/403 with its
    /// `{"code","message"}` body), e.g. a disabled transport or a refused request.
    #[error("the server refused the handshake (HTTP {status}): {message}")]
    Handshake {
        /// The HTTP status.
        status: u16,
        /// The server's message, or the body.
        message: String,
    },
    /// The server refused to let the socket join the namespace (a
    /// CONNECT_ERROR packet): check the namespace and the auth payload.
    #[error("the server refused namespace {ns}: {message}")]
    ConnectRefused {
        /// The namespace.
        ns: String,
        /// The server's `message`.
        message: String,
        /// The server's `data`, if it sent any.
        data: Option<serde_json::Value>,
    },
    /// The connection was not established in time.
    #[error("timed out after {} ms connecting to {url}", .timeout.as_millis())]
    Timeout {
        /// The URL.
        url: String,
        /// The configured connection timeout.
        timeout: Duration,
    },
    /// No acknowledgement arrived in time.
    #[error("no acknowledgement for event {event:?} within {} ms", .timeout.as_millis())]
    AckTimeout {
        /// The event that asked for an ack.
        event: String,
        /// The ack timeout.
        timeout: Duration,
    },
    /// The socket was disconnected before the operation completed.
    #[error("the socket was disconnected ({0})")]
    Disconnected(&'static str),
    /// The client was closed (`Manager::close`, or every handle was dropped).
    #[error("the client is closed")]
    Closed,
    /// The connection failed after it was established (I/O error, server gone).
    #[error("transport error: {0}")]
    Transport(String),
    /// The server broke the protocol (unexpected or malformed packet).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Data could not be serialised, or a reply could not be deserialised
    /// into the requested type.
    #[error("could not (de)serialise event data: {0}")]
    Serde(#[source] Arc<serde_json::Error>),
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serde(Arc::new(e))
    }
}

impl Error {
    /// Whether the server was reached but refused us (a retry without a
    /// change would fail the same way).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. } | Error::Handshake { .. } | Error::ConnectRefused { .. }
        )
    }
}
