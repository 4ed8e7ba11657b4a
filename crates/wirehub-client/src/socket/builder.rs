//! [`SocketBuilder`]: a socket's options (auth payload, handlers registered
//! before the connection so no early event is missed), then `connect`.

use super::Socket;
use crate::error::Error;
use crate::handler::{boxed, Handler, HandlerSet, Lifecycle};
use crate::manager::Manager;
use serde::Serialize;
use wirehub_proto::Str;

/// Options of one socket, shared by [`SocketBuilder`] and [`crate::ClientBuilder`].
#[derive(Default, Clone)]
pub(crate) struct SocketOptions {
    auth: Option<Result<Str, Error>>,
    pub(crate) handlers: HandlerSet,
}

impl SocketOptions {
    pub(crate) fn auth<T: Serialize + ?Sized>(&mut self, auth: &T) {
        let json = serde_json::to_value(auth)
            .map_err(Error::from)
            .and_then(|v| {
                if v.is_object() {
                    Ok(Str::from(v.to_string()))
                } else {
                    Err(Error::InvalidOption(
                        "the auth payload must serialise to a JSON object".into(),
                    ))
                }
            });
        self.auth = Some(json);
    }

    pub(crate) fn on<H: Handler<T>, T: 'static>(&mut self, event: String, handler: H) {
        self.handlers
            .events
            .entry(event)
            .or_default()
            .push(boxed(handler));
    }

    pub(crate) fn on_any<H: Handler<T>, T: 'static>(&mut self, handler: H) {
        self.handlers.any.push(boxed(handler));
    }

    pub(crate) fn lifecycle<H: Handler<T>, T: 'static>(&mut self, which: Lifecycle, handler: H) {
        self.handlers.lifecycle_mut(which).push(boxed(handler));
    }

    /// Registers the socket of `ns` on `manager` and connects it.
    pub(crate) async fn connect(self, manager: Manager, ns: Str) -> Result<Socket, Error> {
        let auth = self.auth.transpose()?;
        let shared = manager.register(ns, auth, self.handlers);
        let socket = Socket::new(manager, shared);
        socket.connect().await?;
        Ok(socket)
    }
}

/// Builds the socket of one namespace; from [`Manager::socket`].
///
/// ```no_run
/// # async fn run(manager: wirehub_client::Manager) -> Result<(), wirehub_client::Error> {
/// use wirehub_client::{Data, DisconnectReason};
/// let chat = manager
///     .socket("/chat")
///     .auth(&serde_json::json!({ "token": "abc" }))
///     .on("message", |Data(text): Data<String>| async move { println!("{text}") })
///     .on_disconnect(|reason: DisconnectReason| async move { eprintln!("left: {reason}") })
///     .connect()
///     .await?;
/// chat.emit("message", "hello")?;
/// # Ok(()) }
/// ```
pub struct SocketBuilder {
    manager: Manager,
    ns: Str,
    options: SocketOptions,
}

impl std::fmt::Debug for SocketBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketBuilder")
            .field("ns", &self.ns)
            .finish_non_exhaustive()
    }
}

impl SocketBuilder {
    pub(crate) fn new(manager: Manager, ns: Str) -> Self {
        SocketBuilder {
            manager,
            ns,
            options: SocketOptions::default(),
        }
    }

    /// Sets the auth payload sent with the CONNECT packet (a JSON object);
    /// the server sees it as `socket.handshake.auth`.
    pub fn auth<T: Serialize + ?Sized>(mut self, auth: &T) -> Self {
        self.options.auth(auth);
        self
    }

    /// Adds a handler for server event `event`.
    pub fn on<H: Handler<T>, T: 'static>(mut self, event: impl Into<String>, handler: H) -> Self {
        self.options.on(event.into(), handler);
        self
    }

    /// Adds a handler for every server event (see [`Socket::on_any`]).
    pub fn on_any<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.options.on_any(handler);
        self
    }

    /// Adds a handler called on every (re)connection.
    pub fn on_connect<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.options.lifecycle(Lifecycle::Connect, handler);
        self
    }

    /// Adds a handler called when connecting fails (take [`Error`]).
    pub fn on_connect_error<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.options.lifecycle(Lifecycle::ConnectError, handler);
        self
    }

    /// Adds a handler called on disconnection (take [`crate::DisconnectReason`]).
    pub fn on_disconnect<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.options.lifecycle(Lifecycle::Disconnect, handler);
        self
    }

    /// Joins the namespace (opening the connection if needed); resolves once
    /// the server accepted, or with the reason it did not.
    pub async fn connect(self) -> Result<Socket, Error> {
        self.options.connect(self.manager, self.ns).await
    }
}
