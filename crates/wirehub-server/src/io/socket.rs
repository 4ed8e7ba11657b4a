//! One socket: a client's connection to one namespace.

use super::ack::{await_one, AckArgs, AckError, AckSink};
use super::adapter::{AckAnswer, AckEvent, BroadcastOptions, Message, RemoteSocketData};
use super::broadcast::BroadcastOperator;
use super::error::EmitError;
use super::extract::HandlerCx;
use super::handler::{boxed, BoxedHandler, Handler};
use super::namespace::{Namespace, NamespaceRef};
use super::reason::DisconnectReason;
use super::recovery::SessionState;
use super::rooms::{IntoRooms, Room};
use crate::auth::VerifiedClaims;
use crate::conn::Delivery;
use crate::conn::{Link, Transport};
use crate::engine::SendError;
use crate::sync::{lock, read, write};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

/// A shared reference to a socket; handlers take it as an extractor.
pub type SocketRef = Arc<Socket>;

const CONNECTING: u8 = 0;
const CONNECTED: u8 = 1;
const DISCONNECTED: u8 = 2;

/// A client's connection to one namespace.
pub struct Socket {
    id: Str,
    ns: Arc<Namespace>,
    link: Link,
    auth: Str,
    /// The verified JWT claims, when the server checks tokens (one pointer).
    claims: Option<VerifiedClaims>,
    state: AtomicU8,
    /// Event handlers; a short list is smaller than a map and as fast.
    handlers: RwLock<Vec<(Str, BoxedHandler)>>,
    on_disconnect: Mutex<Option<BoxedHandler>>,
    acks: Mutex<HashMap<u64, AckSink>>,
    extensions: Mutex<Extensions>,
    /// When it connected, in milliseconds since the Unix epoch.
    issued: u64,
    /// Its private session id, when connection-state recovery is on (and it
    /// is a Socket.IO client): what the client presents to come back.
    pid: Option<Str>,
    /// Whether it is a dropped socket come back (same id, rooms, data).
    recovered: bool,
}

/// What users store on a socket: typed values, and serialisable `data`
/// that other nodes can read (`fetch_sockets`). A short list is smaller
/// than a map, and sockets hold few values.
#[derive(Default)]
struct Extensions {
    typed: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
    data: Option<Box<serde_json::Value>>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("ns", self.ns.name())
            .finish()
    }
}

impl Socket {
    pub(crate) fn new(
        ns: Arc<Namespace>,
        link: Link,
        auth: Option<Str>,
        claims: Option<VerifiedClaims>,
    ) -> SocketRef {
        let recoverable = ns.recovery().is_some() && matches!(link, Link::Engine(..));
        let pid = recoverable.then(crate::engine::random_id);
        // As Node for socket.io-client 2.x: the session id, prefixed with the
        // namespace outside `/` (the id that client computes for itself).
        let id = match link.engine_sid().filter(|_| link.is_legacy()) {
            Some(sid) if &**ns.name() == "/" => sid.clone(),
            Some(sid) => Str::from(format!("{}#{sid}", ns.name())),
            None => crate::engine::random_id(),
        };
        Self::build(ns, link, (auth, claims), id, pid, false)
    }

    /// A dropped socket come back: its id and private id (its rooms and
    /// data are given back when it is accepted).
    pub(crate) fn resumed(
        ns: Arc<Namespace>,
        link: Link,
        auth: Option<Str>,
        claims: Option<VerifiedClaims>,
        session: &SessionState,
    ) -> SocketRef {
        let (id, pid) = (session.sid.clone(), Some(session.pid.clone()));
        Self::build(ns, link, (auth, claims), id, pid, true)
    }

    fn build(
        ns: Arc<Namespace>,
        link: Link,
        (auth, claims): (Option<Str>, Option<VerifiedClaims>),
        id: Str,
        pid: Option<Str>,
        recovered: bool,
    ) -> SocketRef {
        Arc::new(Socket {
            id,
            ns,
            link,
            auth: auth.unwrap_or_else(|| Str::from_static("{}")),
            claims,
            state: AtomicU8::new(CONNECTING),
            handlers: RwLock::default(),
            on_disconnect: Mutex::default(),
            acks: Mutex::default(),
            extensions: Mutex::default(),
            issued: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            pid,
            recovered,
        })
    }

    /// Whether this socket is a dropped one come back by connection-state
    /// recovery (Node's `socket.recovered`): same id, rooms and data, and
    /// the events it missed were sent to it.
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// The connection this socket's packets travel over.
    pub(crate) fn link(&self) -> &Link {
        &self.link
    }

    /// The socket id (also the name of the room only this socket is in).
    pub fn id(&self) -> &Str {
        &self.id
    }

    /// The namespace name.
    pub fn ns_name(&self) -> &Str {
        self.ns.name()
    }

    /// The auth payload the client sent with CONNECT (`{}` if none), as JSON.
    pub fn auth_raw(&self) -> &Str {
        &self.auth
    }

    /// The auth payload, deserialised.
    pub fn auth<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.auth)
    }

    /// The claims of the JSON Web Token this socket was admitted with
    /// (`None` when the server verifies no tokens, or for the admin UI's
    /// namespace). Handlers can take them as [`super::Claims`].
    pub fn claims_raw(&self) -> Option<&serde_json::Value> {
        self.claims.as_ref().map(|c| &*c.0)
    }

    /// The handshake request's head: URI (with query), headers, extensions.
    pub fn handshake(&self) -> &http::request::Parts {
        self.link.request()
    }

    /// The underlying transport, `None` once closed.
    pub fn transport(&self) -> Option<Transport> {
        self.link.transport()
    }

    pub(crate) fn history(&self) -> &super::history::RoomHistory {
        self.ns.history()
    }

    pub(crate) fn config(&self) -> &crate::config::Config {
        self.ns.config()
    }

    /// Whether the socket is connected to its namespace.
    pub fn connected(&self) -> bool {
        self.state.load(Ordering::Acquire) == CONNECTED
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.state.load(Ordering::Acquire) == DISCONNECTED
    }

    pub(crate) fn set_connected(&self) -> bool {
        self.state
            .compare_exchange(CONNECTING, CONNECTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn set_rejected(&self) {
        self.state.store(DISCONNECTED, Ordering::Release);
    }

    /// Registers the handler of `event` (replacing any previous one).
    pub fn on<H: Handler<T>, T: 'static>(&self, event: impl Into<String>, handler: H) {
        let event = Str::from(event.into());
        let mut list = write(&self.handlers);
        let handler = boxed(handler);
        match list.iter_mut().find(|(name, _)| *name == event) {
            Some(slot) => slot.1 = handler,
            None => {
                list.reserve_exact(1);
                list.push((event, handler));
            }
        }
    }

    /// Registers the disconnect handler; it can take [`DisconnectReason`].
    pub fn on_disconnect<H: Handler<T>, T: 'static>(&self, handler: H) {
        *lock(&self.on_disconnect) = Some(boxed(handler));
    }

    /// Sets whether what is emitted through the returned operator may be
    /// compressed (Node's `socket.compress(false).emit(...)`): an operator
    /// reaching only this socket, on this node.
    pub fn compress(&self, compress: bool) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone())
            .to(self.id.clone())
            .local()
            .compress(compress)
    }

    /// Emits `event` with one argument.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_raw(event, Args::one(data)?)
    }

    /// Emits `event` with several arguments (`data` serialises to a list, e.g. a tuple).
    pub fn emit_args<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_raw(event, Args::many(data)?)
    }

    /// Emits `event` with arguments as they are (e.g. received ones).
    ///
    /// With connection-state recovery on, the event goes through the
    /// adapter as a broadcast to the socket's own room (as Node does), so it
    /// gets an offset and is replayed if the client drops before getting it.
    pub fn emit_raw(&self, event: &str, args: Args) -> Result<(), EmitError> {
        if let Some(observer) = self.ns.observer() {
            observer.event_sent(self, event, &args);
        }
        if self.pid.is_some() {
            if self.is_disconnected() {
                return Err(EmitError::Disconnected);
            }
            let msg = Message {
                event: Str::from(event.to_owned()),
                args,
            };
            let opts = BroadcastOptions::to(vec![self.id.clone()]);
            self.ns.adapter().broadcast(msg, &opts)?;
            return Ok(());
        }
        let packet = Packet::event(
            self.ns_name().clone(),
            Str::from(event.to_owned()),
            args,
            None,
        );
        self.send_packet(packet, false)?;
        self.ns.metrics().events_sent(1);
        Ok(())
    }

    /// Emits `event` with one argument and awaits the client's answer
    /// (within the configured ack timeout). A one-argument answer
    /// deserialises as `R`; a longer one as a sequence (e.g. a tuple).
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        self: &Arc<Self>,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<R, AckError>> + Send + 'static {
        let timeout = self.ns.config().ack_timeout;
        let args = Args::one(data);
        let pending = args.map(|args| self.emit_raw_with_ack(event, args, timeout));
        async move {
            let answer = pending.map_err(EmitError::from)?.await?;
            Ok(answer.to_seq_or_first()?)
        }
    }

    /// Emits `event` with arguments as they are and awaits the raw answer
    /// for at most `timeout`.
    pub fn emit_raw_with_ack(
        self: &Arc<Self>,
        event: &str,
        args: Args,
        timeout: Duration,
    ) -> impl Future<Output = Result<Args, AckError>> + Send + 'static {
        if let Some(observer) = self.ns.observer() {
            observer.event_sent(self, event, &args);
        }
        let socket = self.clone();
        let event = Str::from(event.to_owned());
        async move {
            let id = socket.ns.next_ack_id();
            let (tx, rx) = oneshot::channel();
            socket.register_ack(id, AckSink::One(tx));
            let packet = Packet::event(socket.ns_name().clone(), event, args, Some(id));
            if let Err(e) = socket.send_packet(packet, false) {
                socket.forget_ack(id);
                return Err(e.into());
            }
            socket.ns.metrics().events_sent(1);
            await_one(socket, id, rx, timeout).await
        }
    }

    /// Joins rooms (on this node: the socket's rooms live where it is
    /// connected). A join that would put the socket in more rooms than
    /// [`crate::Config::max_rooms_per_socket`] joins none of them and logs a
    /// warning; [`Self::try_join`] returns that error instead.
    pub fn join(&self, rooms: impl IntoRooms) {
        if let Err(e) = self.try_join(rooms) {
            tracing::warn!(socket = %self.id, error = %e, "join refused");
        }
    }

    /// Joins rooms, or none of them if the socket would then be in more
    /// rooms than [`crate::Config::max_rooms_per_socket`] (its own room not
    /// counted).
    pub fn try_join(&self, rooms: impl IntoRooms) -> Result<(), crate::limits::LimitError> {
        let rooms = rooms.into_rooms();
        let local = self.ns.adapter().local();
        let max = self.config().max_rooms_per_socket;
        if max > 0 {
            let current = local.socket_rooms(&self.id);
            crate::limits::check_rooms(max, &self.id, &current, &rooms)?;
        }
        local.add_all(&self.id, &rooms);
        Ok(())
    }

    /// Leaves rooms.
    pub fn leave(&self, rooms: impl IntoRooms) {
        for room in rooms.into_rooms() {
            self.ns.adapter().local().del(&self.id, &room);
        }
    }

    /// Leaves every room, its own id's included (it stays in the namespace:
    /// broadcasts to the whole namespace still reach it).
    pub fn leave_all(&self) {
        self.ns.adapter().local().del_all(&self.id);
    }

    /// The rooms this socket is in, its own id first.
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.adapter().local().socket_rooms(&self.id)
    }

    /// A handle on this socket's namespace (broadcasts including this socket).
    pub fn namespace(&self) -> NamespaceRef {
        NamespaceRef::of(self.ns.clone())
    }

    /// Broadcast to these rooms, excluding this socket.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Broadcast to every socket of the namespace except this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).except(self.id.clone())
    }

    /// Broadcast excluding sockets in these rooms (and this socket).
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// Removes the socket from its namespace ("server namespace disconnect").
    pub fn disconnect(&self) {
        self.disconnect_with(false)
    }

    /// Like [`Self::disconnect`]; with `close`, closes the whole connection
    /// (every namespace of this client).
    pub fn disconnect_with(&self, close: bool) {
        if close {
            self.link.close(CloseReason::ForcedClose);
            self.close(DisconnectReason::ForcedServerClose);
            return;
        }
        if self.connected() {
            let _ = self.send_packet(Packet::disconnect(self.ns_name().clone()), false);
        }
        self.close(DisconnectReason::ServerNamespaceDisconnect);
        if self.link.closes_with_socket() {
            self.link.close(CloseReason::ForcedClose);
        }
    }

    /// Stores a value of type `T` on the socket (replacing any previous
    /// one). It stays on this node; see [`Self::set_data`] for data that
    /// other nodes can read.
    pub fn insert<T: Any + Send + Sync>(&self, value: T) {
        let mut ext = lock(&self.extensions);
        let id = TypeId::of::<T>();
        match ext.typed.iter_mut().find(|(t, _)| *t == id) {
            Some(slot) => slot.1 = Box::new(value),
            None => ext.typed.push((id, Box::new(value))),
        }
    }

    /// A clone of the stored value of type `T`.
    pub fn get<T: Any + Send + Sync + Clone>(&self) -> Option<T> {
        let ext = lock(&self.extensions);
        let id = TypeId::of::<T>();
        let (_, value) = ext.typed.iter().find(|(t, _)| *t == id)?;
        value.downcast_ref::<T>().cloned()
    }

    /// Removes and returns the stored value of type `T`.
    pub fn remove<T: Any + Send + Sync>(&self) -> Option<T> {
        let mut ext = lock(&self.extensions);
        let id = TypeId::of::<T>();
        let at = ext.typed.iter().position(|(t, _)| *t == id)?;
        ext.typed.swap_remove(at).1.downcast::<T>().ok().map(|b| *b)
    }

    /// Sets the socket's serialisable data (Node's `socket.data`), which
    /// other nodes see in `fetch_sockets`.
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(data)?;
        lock(&self.extensions).data = Some(Box::new(value));
        Ok(())
    }

    /// The socket's serialisable data (`{}` if never set, as in Node).
    pub fn data(&self) -> serde_json::Value {
        match &lock(&self.extensions).data {
            Some(value) => (**value).clone(),
            None => serde_json::Value::Object(Default::default()),
        }
    }

    /// The socket as another node sees it: id, handshake, rooms, data.
    pub fn describe(&self) -> RemoteSocketData {
        RemoteSocketData {
            id: self.id.clone(),
            handshake: super::handshake::describe(self.handshake(), &self.auth, self.issued),
            rooms: self.rooms(),
            data: self.data(),
        }
    }

    /// Encodes and queues a packet.
    pub(crate) fn send_packet(&self, packet: Packet, volatile: bool) -> Result<(), EmitError> {
        if self.is_disconnected() {
            return Err(EmitError::Disconnected);
        }
        let sent = self.link.send_packet(&packet, volatile);
        Ok(self.count_drop(sent)?)
    }

    /// Counts a message a full queue dropped.
    fn count_drop(&self, sent: Result<(), SendError>) -> Result<(), SendError> {
        if sent == Err(SendError::Full) {
            self.ns.metrics().server().queue_drop();
        }
        sent
    }

    /// Queues a packet whatever the socket's state (connect refusals).
    pub(crate) fn send_raw_packet(&self, packet: Packet) -> Result<(), EmitError> {
        Ok(self.link.send_packet(&packet, false)?)
    }

    /// Queues the CONNECT answer (for Socket.IO, written on its own: see
    /// [`crate::engine::Outgoing::Paced`]).
    pub(crate) fn send_connect_answer(&self) -> Result<(), EmitError> {
        let pid = self.pid.as_deref();
        Ok(self
            .link
            .send_connect_answer(self.ns_name(), &self.id, pid)?)
    }

    /// Queues a shared broadcast in this socket's wire format.
    pub(crate) fn deliver(
        &self,
        delivery: &Arc<Delivery>,
        volatile: bool,
    ) -> Result<(), EmitError> {
        if self.is_disconnected() {
            return Err(EmitError::Disconnected);
        }
        let sent = self.link.deliver(delivery, volatile);
        Ok(self.count_drop(sent)?)
    }

    pub(crate) fn register_ack(&self, id: u64, sink: AckSink) {
        lock(&self.acks).insert(id, sink);
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        lock(&self.acks).remove(&id);
    }

    /// A client event: runs its handler, if one is registered.
    pub(crate) fn on_event(self: &Arc<Self>, event: &Str, args: &Args, ack_id: Option<u64>) {
        self.ns.metrics().event_received();
        if let Some(observer) = self.ns.observer() {
            observer.event_received(self, event, args);
        }
        let handler = read(&self.handlers)
            .iter()
            .find(|(name, _)| name == event)
            .map(|(_, h)| h.clone());
        match handler {
            Some(h) => h.call(&HandlerCx {
                socket: self,
                event,
                args,
                ack_id,
                reason: None,
            }),
            None => tracing::trace!(socket = %self.id, %event, "no handler"),
        }
    }

    /// A client ack: hands the answer to whoever awaits it.
    pub(crate) fn on_ack(&self, id: u64, args: Args) {
        let sink = lock(&self.acks).remove(&id);
        match sink {
            Some(AckSink::One(tx)) => {
                let _ = tx.send(args);
            }
            Some(AckSink::Many(sink)) => {
                sink.send(AckEvent::Answer(AckAnswer {
                    sid: Some(self.id.clone()),
                    args,
                }));
            }
            None => tracing::trace!(socket = %self.id, id, "ack for unknown id"),
        }
    }

    /// Leaves the namespace for `reason`: once only; runs the disconnect handler.
    pub(crate) fn close(self: &Socket, reason: DisconnectReason) {
        let was = self.state.swap(DISCONNECTED, Ordering::AcqRel);
        if was != CONNECTED {
            return;
        }
        lock(&self.acks).clear();
        if let (Some(pid), true) = (&self.pid, reason.is_recoverable()) {
            self.ns.adapter().persist_session(SessionState {
                sid: self.id.clone(),
                pid: pid.clone(),
                rooms: self.rooms(),
                data: self.data(),
            });
        }
        let handler = lock(&self.on_disconnect).take();
        if let Some(socket) = self.ns.get_socket(&self.id) {
            if let Some(h) = handler {
                h.call(&HandlerCx {
                    socket: &socket,
                    event: &Str::from_static("disconnect"),
                    args: &Args::empty(),
                    ack_id: None,
                    reason: Some(reason),
                });
            }
        }
        self.ns.remove_socket(&self.id);
        self.ns.adapter().local().forget(&self.id);
        *write(&self.handlers) = Vec::new();
        self.ns.metrics().server().disconnect(reason);
        if let Some(observer) = self.ns.observer() {
            observer.socket_disconnected(self, reason);
        }
    }

    /// The server's counters (with this socket's namespace's).
    pub(crate) fn metrics(&self) -> &crate::metrics::NsMetrics {
        self.ns.metrics()
    }

    /// The Engine.IO session id of its connection (Node's `socket.client.id`),
    /// or the plain connection's token.
    pub fn client_id(&self) -> &Str {
        self.link.client_id()
    }

    /// When it connected, in milliseconds since the Unix epoch.
    pub fn issued_ms(&self) -> u64 {
        self.issued
    }
}
