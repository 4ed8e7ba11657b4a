//! Errors of the Socket.IO layer.

use crate::engine::SendError;

/// Why an emit did not go out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The data could not be serialised (or was not a list, for `emit_args`).
    #[error("could not serialise the event data: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The socket is disconnected.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The connection's queue was full (see the slow-consumer policy).
    #[error("the connection's outbound queue is full")]
    QueueFull,
    /// The adapter could not take the broadcast (see [`super::adapter::AdapterError`]).
    #[error(transparent)]
    Adapter(#[from] super::adapter::AdapterError),
}

impl From<SendError> for EmitError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Closed => EmitError::Disconnected,
            SendError::Full => EmitError::QueueFull,
        }
    }
}

/// A middleware's refusal of a namespace connection, sent to the client as
/// a CONNECT_ERROR packet `{"message":...,"data":...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The message (`err.message` on the client).
    pub message: String,
    /// Extra data (`err.data` on the client).
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data for the client.
    pub fn with_data(mut self, data: impl serde::Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}
