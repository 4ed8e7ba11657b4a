//! [`Emitter`]: emit operators — `volatile` (dropped, not buffered, while
//! disconnected) and `timeout` (how long an ack may take).

use super::Socket;
use crate::error::Error;
use crate::manager::Command;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use tokio::sync::oneshot;
use wirehub_proto::socketio::decode::RESERVED_EVENTS;
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

/// Emits with options; from [`Socket::volatile`] or [`Socket::timeout`].
#[derive(Debug, Clone)]
pub struct Emitter<'a> {
    socket: &'a Socket,
    volatile: bool,
    timeout: Option<Duration>,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(socket: &'a Socket) -> Self {
        Emitter {
            socket,
            volatile: false,
            timeout: None,
        }
    }

    /// Drops the emit instead of buffering it while disconnected.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Waits at most `timeout` for acks.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Emits `event` with one argument.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.emit_raw(event, Args::one(data)?)
    }

    /// Emits `event` with several arguments (a tuple, a `Vec`, `()` for none).
    pub fn emit_args<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.emit_raw(event, Args::many(data)?)
    }

    /// Emits `event` with raw arguments.
    pub fn emit_raw(&self, event: &str, args: Args) -> Result<(), Error> {
        self.send(event, args, None)
    }

    /// Emits `event` with one argument; resolves to the ack's first argument.
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static {
        first_arg(self.ack_future(event, Args::one(data).map_err(Error::from)))
    }

    /// Emits `event` with several arguments; resolves to the ack's first argument.
    pub fn emit_args_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static {
        first_arg(self.ack_future(event, Args::many(data).map_err(Error::from)))
    }

    /// Emits `event` with raw arguments; resolves to the ack's arguments.
    pub fn emit_raw_with_ack(
        &self,
        event: &str,
        args: Args,
    ) -> impl Future<Output = Result<Args, Error>> + Send + 'static {
        self.ack_future(event, Ok(args))
    }

    fn ack_future(
        &self,
        event: &str,
        args: Result<Args, Error>,
    ) -> impl Future<Output = Result<Args, Error>> + Send + 'static {
        let timeout = self
            .timeout
            .unwrap_or(self.socket.manager().config().ack_timeout);
        let manager = self.socket.manager().clone();
        let ns = self.socket.ns().clone();
        let event = event.to_owned();
        let id = self.socket.next_ack_id();
        let (reply, answer) = oneshot::channel();
        let sent = args.and_then(|args| self.send(&event, args, Some((id, reply))));
        async move {
            sent?;
            match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(Error::Closed),
                Err(_) => {
                    let _ = manager.send(Command::ForgetAck { ns, id });
                    Err(Error::AckTimeout { event, timeout })
                }
            }
        }
    }

    fn send(
        &self,
        event: &str,
        args: Args,
        ack: Option<(u64, oneshot::Sender<Result<Args, Error>>)>,
    ) -> Result<(), Error> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(Error::InvalidOption(format!(
                "{event:?} is a reserved event name"
            )));
        }
        let ns = self.socket.ns().clone();
        let id = ack.as_ref().map(|(id, _)| *id);
        let packet = Packet::event(ns.clone(), Str::from(event.to_owned()), args, id);
        self.socket.manager().send(Command::Emit {
            ns,
            packet,
            volatile: self.volatile,
            ack,
        })
    }
}

async fn first_arg<R: DeserializeOwned + 'static>(
    args: impl Future<Output = Result<Args, Error>>,
) -> Result<R, Error> {
    Ok(args.await?.get(0)?)
}
