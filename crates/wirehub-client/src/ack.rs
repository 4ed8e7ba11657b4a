//! [`AckSender`]: answers an event the server sent with an ack request.

use crate::error::Error;
use crate::manager::Command;
use crate::socket::Socket;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wirehub_proto::socketio::Args;

/// Answers the server's acknowledgement request of one event.
///
/// Only the first answer is sent (every handler of the event gets a clone);
/// when the server asked for no ack, sending does nothing.
#[derive(Debug, Clone)]
pub struct AckSender {
    socket: Socket,
    id: Option<u64>,
    sent: Arc<AtomicBool>,
}

impl AckSender {
    pub(crate) fn new(socket: Socket, id: Option<u64>) -> Self {
        AckSender {
            socket,
            id,
            sent: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn none(socket: Socket) -> Self {
        AckSender::new(socket, None)
    }

    /// Whether the server asked for an answer.
    pub fn is_requested(&self) -> bool {
        self.id.is_some()
    }

    /// The ack id, if the server asked for an answer.
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// Answers with one argument.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), Error> {
        self.send_raw(Args::one(data)?)
    }

    /// Answers with several arguments (a tuple, a `Vec`, `()` for none).
    pub fn send_args<T: Serialize + ?Sized>(self, data: &T) -> Result<(), Error> {
        self.send_raw(Args::many(data)?)
    }

    /// Answers with raw arguments.
    pub fn send_raw(self, args: Args) -> Result<(), Error> {
        let Some(id) = self.id else { return Ok(()) };
        if self.sent.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.socket.manager().send(Command::Ack {
            ns: self.socket.ns().clone(),
            id,
            args,
        })
    }
}
