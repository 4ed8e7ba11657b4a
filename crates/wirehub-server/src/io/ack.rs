//! Acknowledgements: answering a client's ack request ([`AckSender`]) and
//! awaiting the client's answers to ours (one socket here; every recipient
//! of a broadcast: [`super::adapter::AckStream`]).

use super::error::EmitError;
use super::socket::SocketRef;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::oneshot;
use wirehub_proto::socketio::{Args, Packet};

/// Why an awaited acknowledgement did not arrive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the timeout.
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected first.
    #[error("the socket disconnected before acknowledging")]
    Disconnected,
    /// The answer did not deserialise into the expected type.
    #[error("could not deserialise the acknowledgement: {0}")]
    Deserialize(#[from] serde_json::Error),
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// Where a client's ack answer goes.
#[derive(Debug)]
pub(crate) enum AckSink {
    /// A single emit awaits it.
    One(oneshot::Sender<Args>),
    /// A broadcast collects answers from every recipient.
    Many(super::adapter::AckSink),
}

/// Answers the client's acknowledgement request for the current event.
///
/// If the client did not ask for an answer, sending does nothing.
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    id: Option<u64>,
}

impl AckSender {
    pub(crate) fn new(socket: SocketRef, id: Option<u64>) -> Self {
        AckSender { socket, id }
    }

    /// Whether the client asked for an answer.
    pub fn is_requested(&self) -> bool {
        self.id.is_some()
    }

    /// Answers with one argument.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), EmitError> {
        self.send_raw(Args::one(data)?)
    }

    /// Answers with several arguments (`data` serialises to a list, e.g. a tuple).
    pub fn send_args<T: Serialize + ?Sized>(self, data: &T) -> Result<(), EmitError> {
        self.send_raw(Args::many(data)?)
    }

    /// Answers with arguments as they are (e.g. received ones, attachments included).
    pub fn send_raw(self, args: Args) -> Result<(), EmitError> {
        match self.id {
            Some(id) => self
                .socket
                .send_packet(Packet::ack(self.socket.ns_name().clone(), id, args), false),
            None => Ok(()),
        }
    }
}

/// Awaits one socket's answer, cleaning up its pending entry on timeout.
pub(crate) async fn await_one(
    socket: SocketRef,
    id: u64,
    rx: oneshot::Receiver<Args>,
    timeout: std::time::Duration,
) -> Result<Args, AckError> {
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(args)) => Ok(args),
        Ok(Err(_)) => Err(AckError::Disconnected),
        Err(_) => {
            socket.forget_ack(id);
            Err(AckError::Timeout)
        }
    }
}

/// Helpers turning ack arguments into the caller's type.
pub(crate) trait AckArgs {
    /// One argument deserialises as itself; several as a sequence.
    fn to_seq_or_first<R: DeserializeOwned>(&self) -> Result<R, serde_json::Error>;
}

impl AckArgs for Args {
    fn to_seq_or_first<R: DeserializeOwned>(&self) -> Result<R, serde_json::Error> {
        if self.len() == 1 {
            self.get(0)
        } else {
            self.to_seq()
        }
    }
}
