//! Extractors: the argument types a handler may ask for, as in the server.
//!
//! | extractor | gives |
//! |---|---|
//! | [`Socket`] | the socket the event arrived on |
//! | [`Data<T>`] | the first argument, deserialised |
//! | [`TryData<T>`] | the same, or the deserialisation error |
//! | [`Seq<T>`] | every argument as one sequence, e.g. a tuple |
//! | [`RawArgs`] | the arguments untouched (JSON and attachments) |
//! | [`Bin`] | the binary attachments |
//! | [`Event`] | the event name (useful in `on_any`) |
//! | [`AckSender`] | answers the server's ack request (no-op if none) |
//! | [`DisconnectReason`] | why the socket left (disconnect handlers) |
//! | [`Error`] | why the connection failed (connect-error handlers) |
//!
//! When an extractor fails (e.g. the data does not match `T`), the handler
//! is not called.

use crate::ack::AckSender;
use crate::error::Error;
use crate::reason::DisconnectReason;
use crate::socket::Socket;
use serde::de::DeserializeOwned;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// What a handler is called with; extractors read from it.
#[derive(Debug)]
pub struct HandlerCx<'a> {
    pub(crate) socket: &'a Socket,
    pub(crate) event: Option<&'a Str>,
    pub(crate) args: &'a Args,
    pub(crate) ack: Option<&'a AckSender>,
    pub(crate) reason: Option<DisconnectReason>,
    pub(crate) error: Option<&'a Error>,
}

/// Why an extractor failed; the handler is then not called.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The arguments did not deserialise into the requested type.
    #[error("could not deserialise the event data: {0}")]
    Deserialize(#[from] serde_json::Error),
    /// The extractor has no value in this kind of handler.
    #[error("{0} is not available in this handler")]
    Unavailable(&'static str),
}

/// A type a handler can take as an argument.
pub trait FromCx: Sized {
    /// Extracts the value from the call.
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError>;
}

pub use wirehub_proto::socketio::extract::{Bin, Data, Event, RawArgs, Seq, TryData};

impl FromCx for Socket {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(cx.socket.clone())
    }
}

impl<T: DeserializeOwned> FromCx for Data<T> {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(Data::from_args(cx.args)?)
    }
}

impl<T: DeserializeOwned> FromCx for TryData<T> {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(TryData::from_args(cx.args))
    }
}

impl<T: DeserializeOwned> FromCx for Seq<T> {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(Seq::from_args(cx.args)?)
    }
}

impl FromCx for RawArgs {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(RawArgs::from_args(cx.args))
    }
}

impl FromCx for Bin {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(Bin::from_args(cx.args))
    }
}

impl FromCx for Event {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        cx.event
            .cloned()
            .map(Event)
            .ok_or(ExtractError::Unavailable("Event"))
    }
}

impl FromCx for AckSender {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(cx
            .ack
            .cloned()
            .unwrap_or_else(|| AckSender::none(cx.socket.clone())))
    }
}

impl FromCx for DisconnectReason {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        cx.reason
            .ok_or(ExtractError::Unavailable("DisconnectReason"))
    }
}

impl FromCx for Error {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        cx.error.cloned().ok_or(ExtractError::Unavailable("Error"))
    }
}
