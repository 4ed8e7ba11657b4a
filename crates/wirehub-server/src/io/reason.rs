//! Why a socket left its namespace, named as Socket.IO names it.

use std::fmt;
use wirehub_proto::engineio::CloseReason;

/// A socket's disconnect reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The connection was closed by the client or the network.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client sent an invalid packet.
    ParseError,
    /// The server closed the connection (e.g. connect timeout, invalid state).
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The server closed the whole connection with `disconnect(true)`.
    ForcedServerClose,
    /// The client left the namespace.
    ClientNamespaceDisconnect,
    /// The server removed the socket from the namespace.
    ServerNamespaceDisconnect,
    /// The client read too slowly and its queue overflowed.
    SlowConsumer,
    /// The client stayed over the inbound event-rate limit.
    RateLimited,
}

impl DisconnectReason {
    /// Every reason, in the order of [`DisconnectReason::index`].
    pub const ALL: [DisconnectReason; 11] = [
        DisconnectReason::TransportClose,
        DisconnectReason::TransportError,
        DisconnectReason::PingTimeout,
        DisconnectReason::ParseError,
        DisconnectReason::ForcedClose,
        DisconnectReason::ServerShuttingDown,
        DisconnectReason::ForcedServerClose,
        DisconnectReason::ClientNamespaceDisconnect,
        DisconnectReason::ServerNamespaceDisconnect,
        DisconnectReason::SlowConsumer,
        DisconnectReason::RateLimited,
    ];

    /// The reason's position in [`DisconnectReason::ALL`] (an array index
    /// for per-reason counters).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether a socket that left for this reason may come back by
    /// connection-state recovery (Node's `RECOVERABLE_DISCONNECT_REASONS`):
    /// the connection was lost or closed by the server, not left on purpose.
    pub fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportError
                | DisconnectReason::TransportClose
                | DisconnectReason::ForcedClose
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShuttingDown
                | DisconnectReason::ForcedServerClose
        )
    }

    /// The reason's Socket.IO name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::RateLimited => "rate limited",
        }
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ForcedClose => DisconnectReason::ForcedClose,
            CloseReason::SlowConsumer => DisconnectReason::SlowConsumer,
            CloseReason::ServerShutdown => DisconnectReason::ServerShuttingDown,
            CloseReason::RateLimited => DisconnectReason::RateLimited,
        }
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

#[cfg(test)]
mod tests {
    use super::DisconnectReason;

    #[test]
    fn indexes_follow_all() {
        for (i, r) in DisconnectReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
