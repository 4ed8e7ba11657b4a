//! The label values of the counters that have a fixed set of them: each is
//! an enum indexing an array of atomics, so counting takes no lock and no
//! allocation.

/// What went wrong, for `wirehub_errors_total{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A client sent a packet, payload or envelope that does not decode.
    Parse,
    /// A new connection was refused by a connection limit or the drain.
    Refused,
    /// A namespace connection was refused: a middleware said no, or the
    /// namespace does not exist.
    ConnectRefused,
    /// An event handler or middleware panicked.
    HandlerPanic,
    /// The cluster adapter could not publish a broadcast.
    Adapter,
}

impl ErrorKind {
    /// Every kind, in the order of [`ErrorKind::index`].
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Parse,
        ErrorKind::Refused,
        ErrorKind::ConnectRefused,
        ErrorKind::HandlerPanic,
        ErrorKind::Adapter,
    ];

    /// The kind's position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::Refused => "refused",
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::HandlerPanic => "handler_panic",
            ErrorKind::Adapter => "adapter",
        }
    }
}

/// How a connection-state recovery attempt ended, for
/// `wirehub_recovery_total{result}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryResult {
    /// The socket came back with its id, rooms and missed packets.
    Recovered,
    /// The session could not be restored; the client got a fresh socket.
    Failed,
}

impl RecoveryResult {
    /// Every result, in the order of [`RecoveryResult::index`].
    pub const ALL: [RecoveryResult; 2] = [RecoveryResult::Recovered, RecoveryResult::Failed];

    /// The result's position in [`RecoveryResult::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryResult::Recovered => "recovered",
            RecoveryResult::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_follow_all() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        for (i, r) in RecoveryResult::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
