//! Acknowledgements: answering a client's ack request ([`AckSender`]) and
//! awaiting the client's answers to ours (one socket, or every recipient of
//! a broadcast: [`AckResponses`]).

use super::error::EmitError;
use super::socket::SocketRef;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

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
    Many(mpsc::UnboundedSender<(Str, Args)>),
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

/// The answers to a broadcast with acknowledgement.
#[derive(Debug, Clone, Default)]
pub struct AckResponses {
    /// Each answering socket's id and answer, in arrival order.
    pub responses: Vec<(Str, Args)>,
    /// How many sockets the event was sent to.
    pub expected: usize,
    /// Whether the timeout passed before every recipient answered.
    pub timed_out: bool,
}

impl AckResponses {
    /// The first argument of every answer, deserialised.
    pub fn first_args<T: DeserializeOwned>(&self) -> Result<Vec<T>, serde_json::Error> {
        self.responses.iter().map(|(_, args)| args.get(0)).collect()
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

/// Collects broadcast answers until every recipient answered or time is up.
pub(crate) async fn collect_many(
    mut rx: mpsc::UnboundedReceiver<(Str, Args)>,
    expected: usize,
    timeout: std::time::Duration,
) -> AckResponses {
    let mut out = AckResponses {
        responses: Vec::with_capacity(expected),
        expected,
        timed_out: false,
    };
    let deadline = tokio::time::Instant::now() + timeout;
    while out.responses.len() < expected {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(answer)) => out.responses.push(answer),
            Ok(None) => {
                // Every pending recipient disconnected: the set is incomplete.
                out.timed_out = true;
                break;
            }
            Err(_) => {
                out.timed_out = true;
                break;
            }
        }
    }
    out
}
