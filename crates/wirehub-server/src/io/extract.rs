//! Extractors: the argument types a handler may ask for.
//!
//! | extractor | gives |
//! |---|---|
//! | [`SocketRef`] | the socket |
//! | [`Data<T>`] | the first argument (the auth payload in a connect handler) |
//! | [`TryData<T>`] | the same, or the deserialisation error |
//! | [`Seq<T>`] | every argument as one sequence, e.g. a tuple |
//! | [`RawArgs`] | the arguments untouched (JSON and attachments), to pass on |
//! | [`Bin`] | the binary attachments |
//! | [`AckSender`] | answers the client's ack request (no-op if none) |
//! | [`Event`] | the event name |
//! | [`DisconnectReason`] | why the socket left (disconnect handlers) |
//! | [`Claims<T>`] | the verified JWT claims the socket was admitted with |

use super::ack::AckSender;
use super::reason::DisconnectReason;
use super::socket::SocketRef;
use serde::de::DeserializeOwned;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// What a handler is called with; extractors read from it.
#[derive(Debug)]
pub struct HandlerCx<'a> {
    pub(crate) socket: &'a SocketRef,
    pub(crate) event: &'a Str,
    pub(crate) args: &'a Args,
    pub(crate) ack_id: Option<u64>,
    pub(crate) reason: Option<DisconnectReason>,
}

/// Why an extractor failed; the handler is then not called.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The arguments did not deserialise into the requested type.
    #[error("could not deserialise the event data: {0}")]
    Deserialize(#[from] serde_json::Error),
    /// The extractor is not available in this kind of handler.
    #[error("{0} is only available in disconnect handlers")]
    Unavailable(&'static str),
    /// The socket has no verified claims: the server verifies no tokens
    /// (see [`crate::SocketIoBuilder::jwt`]), or its namespace is exempt.
    #[error("the socket was admitted without a verified token")]
    NoClaims,
}

/// The claims of the JSON Web Token the socket was admitted with,
/// deserialised into `T` (e.g. a struct with `sub`, or
/// `serde_json::Value`). Each call reads the claims stored once on the
/// socket; a server without a JWT verifier gives [`ExtractError::NoClaims`].
///
/// ```
/// use serde::Deserialize;
/// use wirehub_server::io::{Claims, SocketRef};
///
/// #[derive(Deserialize)]
/// struct User {
///     sub: String,
/// }
///
/// async fn on_connect(socket: SocketRef, Claims(user): Claims<User>) {
///     socket.join(format!("user:{}", user.sub));
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Claims<T>(pub T);

impl<T: DeserializeOwned> FromCx for Claims<T> {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        let claims = cx.socket.claims_raw().ok_or(ExtractError::NoClaims)?;
        Ok(Claims(T::deserialize(claims)?))
    }
}

/// A type a handler can take as an argument.
pub trait FromCx: Sized {
    /// Extracts the value from the call.
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError>;
}

pub use wirehub_proto::socketio::extract::{Bin, Data, Event, RawArgs, Seq, TryData};

impl FromCx for SocketRef {
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
        Ok(Event(cx.event.clone()))
    }
}

impl FromCx for AckSender {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        Ok(AckSender::new(cx.socket.clone(), cx.ack_id))
    }
}

impl FromCx for DisconnectReason {
    fn from_cx(cx: &HandlerCx<'_>) -> Result<Self, ExtractError> {
        cx.reason
            .ok_or(ExtractError::Unavailable("DisconnectReason"))
    }
}
