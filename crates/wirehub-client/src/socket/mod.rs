//! [`Socket`]: one namespace on a manager's connection — emit events (with
//! or without an acknowledgement), receive them through handlers, leave.
//!
//! - `builder`: [`SocketBuilder`] and the socket options it shares with
//!   [`crate::ClientBuilder`] (auth payload, handlers).
//! - `emitter`: [`Emitter`], the `volatile` / `timeout` emit operators.

mod builder;
mod emitter;

pub use builder::SocketBuilder;
pub(crate) use builder::SocketOptions;
pub use emitter::Emitter;

use crate::error::Error;
use crate::extract::FromCx;
use crate::handler::{boxed, Handler, HandlerSet, Lifecycle};
use crate::manager::{Command, Manager};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// A socket's state shared between its handles and the driver.
pub(crate) struct SocketShared {
    pub(crate) ns: Str,
    auth: Mutex<Option<Str>>,
    handlers: RwLock<HandlerSet>,
    state: Mutex<State>,
    next_ack: AtomicU64,
}

#[derive(Default)]
struct State {
    id: Option<String>,
    connected: bool,
    recovered: bool,
}

impl std::fmt::Debug for SocketShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketShared")
            .field("ns", &self.ns)
            .finish_non_exhaustive()
    }
}

impl SocketShared {
    pub(crate) fn new(ns: Str) -> Self {
        SocketShared {
            ns,
            auth: Mutex::new(None),
            handlers: RwLock::new(HandlerSet::default()),
            state: Mutex::new(State::default()),
            next_ack: AtomicU64::new(0),
        }
    }

    /// Sets the auth payload (if given) and adds handlers.
    pub(crate) fn update(&self, auth: Option<Str>, handlers: HandlerSet) {
        if auth.is_some() {
            *self.auth.lock().unwrap_or_else(|e| e.into_inner()) = auth;
        }
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .merge(handlers);
    }

    pub(crate) fn auth(&self) -> Option<Str> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` on the handlers (under a short read lock: clone what you need).
    pub(crate) fn with_handlers<R>(&self, f: impl FnOnce(&HandlerSet) -> R) -> R {
        f(&self.handlers.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn add_handlers(&self, f: impl FnOnce(&mut HandlerSet)) {
        f(&mut self.handlers.write().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn set_connected(&self, id: Option<String>, recovered: bool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.id = id;
        state.connected = true;
        state.recovered = recovered;
    }

    pub(crate) fn set_disconnected(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.id = None;
        state.connected = false;
    }

    fn next_ack_id(&self) -> u64 {
        self.next_ack.fetch_add(1, Ordering::Relaxed)
    }
}

/// A socket: one namespace on a [`Manager`]'s connection. Cheap to clone.
#[derive(Clone)]
pub struct Socket {
    manager: Manager,
    shared: Arc<SocketShared>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("ns", &self.shared.ns)
            .field("id", &self.id())
            .field("recovered", &self.recovered())
            .finish_non_exhaustive()
    }
}

impl Socket {
    pub(crate) fn new(manager: Manager, shared: Arc<SocketShared>) -> Self {
        Socket { manager, shared }
    }

    pub(crate) fn ns(&self) -> &Str {
        &self.shared.ns
    }

    /// The namespace, e.g. `/` or `/chat`.
    pub fn namespace(&self) -> &str {
        &self.shared.ns
    }

    /// The id the server gave this socket, while connected.
    pub fn id(&self) -> Option<String> {
        let state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.id.clone()
    }

    /// Whether the socket is connected to its namespace.
    pub fn connected(&self) -> bool {
        let state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.connected
    }

    /// Whether the server restored this socket's previous session on its
    /// latest connection to the namespace (connection state recovery,
    /// Socket.IO 4.6+): same id and rooms, and the events missed while away
    /// were delivered before the `connect` handlers ran. False on a first
    /// connection, on a new session, and with servers that do not offer
    /// recovery; kept after a disconnection until the next connection, as
    /// the official client's `socket.recovered`.
    pub fn recovered(&self) -> bool {
        let state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.recovered
    }

    /// The connection this socket lives on.
    pub fn manager(&self) -> &Manager {
        &self.manager
    }

    /// Adds a handler for server event `event`.
    pub fn on<H: Handler<T>, T: 'static>(&self, event: impl Into<String>, handler: H) {
        let event = event.into();
        self.shared
            .add_handlers(|h| h.events.entry(event).or_default().push(boxed(handler)));
    }

    /// Adds a handler called for every server event (take [`crate::Event`]
    /// for its name), before the event's own handlers.
    pub fn on_any<H: Handler<T>, T: 'static>(&self, handler: H) {
        self.shared.add_handlers(|h| h.any.push(boxed(handler)));
    }

    /// Adds a handler called on every (re)connection to the namespace.
    pub fn on_connect<H: Handler<T>, T: 'static>(&self, handler: H) {
        self.add_lifecycle(Lifecycle::Connect, handler);
    }

    /// Adds a handler called when the connection fails or the server refuses
    /// the namespace (take [`Error`] for why).
    pub fn on_connect_error<H: Handler<T>, T: 'static>(&self, handler: H) {
        self.add_lifecycle(Lifecycle::ConnectError, handler);
    }

    /// Adds a handler called when the socket is disconnected (take
    /// [`crate::DisconnectReason`] for why).
    pub fn on_disconnect<H: Handler<T>, T: 'static>(&self, handler: H) {
        self.add_lifecycle(Lifecycle::Disconnect, handler);
    }

    fn add_lifecycle<H: Handler<T>, T: 'static>(&self, which: Lifecycle, handler: H) {
        self.shared
            .add_handlers(|h| h.lifecycle_mut(which).push(boxed(handler)));
    }

    /// Emits `event` with one argument. Binary values
    /// ([`wirehub_proto::socketio::Binary`]) may sit anywhere inside `data`.
    ///
    /// `data` is one argument even when it is `()` (sent as `null`); for no
    /// argument at all use [`Self::emit_args`] with `&()`.
    ///
    /// While disconnected the emit is buffered and sent after reconnecting
    /// (unless buffering is off, see [`crate::ClientBuilder::buffer_emits`]).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.emitter().emit(event, data)
    }

    /// Emits `event` with several arguments: a tuple, a `Vec`, `()` for none.
    pub fn emit_args<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.emitter().emit_args(event, data)
    }

    /// Emits `event` with raw arguments.
    pub fn emit_raw(&self, event: &str, args: Args) -> Result<(), Error> {
        self.emitter().emit_raw(event, args)
    }

    /// Emits `event` with one argument and waits for the server's ack
    /// (at most the ack timeout, default 5 s): its first argument as `R`.
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static {
        self.emitter().emit_with_ack(event, data)
    }

    /// Emits `event` with several arguments and waits for the ack's first argument.
    pub fn emit_args_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static {
        self.emitter().emit_args_with_ack(event, data)
    }

    /// Emits `event` with raw arguments and waits for the ack's raw arguments.
    pub fn emit_raw_with_ack(
        &self,
        event: &str,
        args: Args,
    ) -> impl Future<Output = Result<Args, Error>> + Send + 'static {
        self.emitter().emit_raw_with_ack(event, args)
    }

    /// An emitter whose emits are dropped, not buffered, while disconnected.
    pub fn volatile(&self) -> Emitter<'_> {
        self.emitter().volatile()
    }

    /// An emitter whose acks wait at most `timeout`.
    pub fn timeout(&self, timeout: Duration) -> Emitter<'_> {
        self.emitter().timeout(timeout)
    }

    fn emitter(&self) -> Emitter<'_> {
        Emitter::new(self)
    }

    /// Joins the namespace again after [`Self::disconnect`] (or after the
    /// server disconnected the socket); resolves once connected.
    pub async fn connect(&self) -> Result<(), Error> {
        let (reply, connected) = oneshot::channel();
        self.manager.send(Command::Connect {
            socket: self.shared.clone(),
            reply,
        })?;
        let timeout = self.manager.config().connect_timeout;
        match tokio::time::timeout(timeout, connected).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(Error::Closed),
            Err(_) => {
                self.request_disconnect();
                Err(Error::Timeout {
                    url: self.manager.config().url.original.clone(),
                    timeout,
                })
            }
        }
    }

    /// Leaves the namespace (the `disconnect` handlers get
    /// [`crate::DisconnectReason::IoClientDisconnect`]); closes the
    /// connection when no other socket uses it. Resolves once done.
    pub async fn disconnect(&self) {
        let (reply, done) = oneshot::channel();
        let ns = self.shared.ns.clone();
        if self.manager.send(Command::Disconnect { ns, reply }).is_ok() {
            let _ = done.await;
        }
    }

    fn request_disconnect(&self) {
        let (reply, _) = oneshot::channel();
        let ns = self.shared.ns.clone();
        let _ = self.manager.send(Command::Disconnect { ns, reply });
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.shared.next_ack_id()
    }
}

impl FromCx for Manager {
    fn from_cx(cx: &crate::extract::HandlerCx<'_>) -> Result<Self, crate::extract::ExtractError> {
        Ok(cx.socket.manager.clone())
    }
}
