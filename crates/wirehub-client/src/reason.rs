//! Why a socket was disconnected, named as the official client names it.

use std::fmt;

/// A socket's disconnect reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server removed the socket from the namespace (no reconnection).
    IoServerDisconnect,
    /// This client called `disconnect()` or closed the manager.
    IoClientDisconnect,
    /// No ping from the server within `pingInterval + pingTimeout`.
    PingTimeout,
    /// The server or the network closed the connection.
    TransportClose,
    /// The connection failed (I/O or HTTP error).
    TransportError,
    /// The server sent something that could not be decoded.
    ParseError,
}

impl DisconnectReason {
    /// The reason's Socket.IO name, e.g. `"io server disconnect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::IoServerDisconnect => "io server disconnect",
            DisconnectReason::IoClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
        }
    }

    /// Whether the manager reconnects after it (when reconnection is on):
    /// every reason but an explicit disconnect by either side.
    pub fn reconnects(self) -> bool {
        !matches!(
            self,
            DisconnectReason::IoServerDisconnect | DisconnectReason::IoClientDisconnect
        )
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for DisconnectReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
