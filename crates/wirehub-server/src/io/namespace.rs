//! Namespaces: their sockets, connect handler, middlewares, server-side
//! event handlers, room history and adapter.

use super::adapter::{
    AckSink, Adapter, AdapterCx, AdapterError, AdapterFactory, BroadcastOptions, LocalEmitter,
    Message, RemoteSocketData, ServerAckReply, ServerAcks,
};
use super::broadcast::BroadcastOperator;
use super::error::ConnectError;
use super::error::EmitError;
use super::extract::HandlerCx;
use super::handler::{boxed_middleware, BoxedHandler, BoxedMiddleware, Middleware};
use super::history::{HistoryRead, RoomHistory};
use super::observer::{Observer, ServerObserver};
use super::recovery::{RecoveryStore, RestoredSession};
use super::rooms::{IntoRooms, Room};
use super::server_event::{BoxedServerHandler, ServerAck, ServerEventHandler};
use super::socket::{Socket, SocketRef};
use crate::auth::VerifiedClaims;
use crate::config::Config;
use crate::conn::Delivery;
use crate::conn::Link;
use crate::metrics::{ErrorKind, Metrics, NsMetrics};
use crate::sync::{lock, read, write};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Instant;
use tokio::sync::watch;
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

/// The middlewares of a namespace (or of a dynamic namespace pattern),
/// shared with every handle on it.
pub(crate) type Middlewares = Arc<RwLock<Vec<BoxedMiddleware>>>;

/// One namespace.
pub(crate) struct Namespace {
    name: Str,
    config: Arc<Config>,
    adapter: Arc<dyn Adapter>,
    on_connect: BoxedHandler,
    middlewares: Middlewares,
    server_handlers: RwLock<Vec<(Str, BoxedServerHandler)>>,
    sockets: RwLock<HashMap<Str, SocketRef>>,
    ack_ids: AtomicU64,
    history: RoomHistory,
    /// Connection-state recovery (present when it is on).
    recovery: Option<Arc<RecoveryStore>>,
    /// Whether the adapter finished starting (its subscriptions are up, or
    /// it failed and the namespace serves local sockets).
    started: watch::Sender<bool>,
    /// The adapter's start, until a runtime runs it.
    init: Mutex<Option<BoxFuture<'static, Result<(), AdapterError>>>>,
    /// The server's observer, if any.
    observer: Observer,
    /// This namespace's counters (and the server's).
    metrics: Arc<NsMetrics>,
}

impl Namespace {
    /// A namespace whose adapter `factory` builds; the adapter is started
    /// on the current runtime (if any).
    pub(crate) fn new(
        name: Str,
        config: Arc<Config>,
        factory: &AdapterFactory,
        on_connect: BoxedHandler,
        middlewares: Middlewares,
        observer: Observer,
        server_metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let metrics = Arc::new(NsMetrics::new(server_metrics));
        let history = RoomHistory::new(
            config.history_size,
            config.history_ttl,
            config.history_max_rooms,
        );
        let recovery = config
            .recovery
            .enabled()
            .then(|| Arc::new(RecoveryStore::new(name.clone(), config.recovery.clone())));
        let ns = Arc::new_cyclic(|weak: &Weak<Namespace>| {
            let emitter = Arc::new(NsEmitter {
                name: name.clone(),
                ns: weak.clone(),
                observer: observer.clone(),
                metrics: metrics.clone(),
            });
            let adapter = factory(AdapterCx {
                ns: name.clone(),
                emitter,
                ack_timeout: config.ack_timeout,
            });
            Namespace {
                name,
                history,
                recovery,
                config,
                init: Mutex::new(Some(adapter.clone().init())),
                adapter,
                on_connect,
                middlewares,
                server_handlers: RwLock::default(),
                sockets: RwLock::default(),
                ack_ids: AtomicU64::new(0),
                started: watch::channel(false).0,
                observer,
                metrics,
            }
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            ns.start();
        }
        ns
    }

    /// Starts the adapter on the current runtime, once.
    pub(crate) fn start(&self) {
        let Some(init) = lock(&self.init).take() else {
            return;
        };
        let (name, started) = (self.name.clone(), self.started.clone());
        tokio::spawn(async move {
            if let Err(e) = init.await {
                tracing::warn!(ns = %name, error = %e, "adapter did not start; serving local sockets only");
            }
            started.send_replace(true);
        });
    }

    /// Waits until the adapter started (or failed to).
    pub(crate) async fn started(&self) {
        self.start();
        let mut rx = self.started.subscribe();
        let _ = rx.wait_for(|started| *started).await;
    }

    pub(crate) fn name(&self) -> &Str {
        &self.name
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn adapter(&self) -> &dyn Adapter {
        &*self.adapter
    }

    pub(crate) fn history(&self) -> &RoomHistory {
        &self.history
    }

    /// The server's observer, if any.
    pub(crate) fn observer(&self) -> Option<&dyn ServerObserver> {
        self.observer.as_deref()
    }

    /// This namespace's counters (and, through them, the server's).
    pub(crate) fn metrics(&self) -> &NsMetrics {
        &self.metrics
    }

    /// The sockets connected here.
    pub(crate) fn sockets(&self) -> Vec<SocketRef> {
        read(&self.sockets).values().cloned().collect()
    }

    /// The recovery store, when connection-state recovery is on.
    pub(crate) fn recovery(&self) -> Option<&Arc<RecoveryStore>> {
        self.recovery.as_ref()
    }

    /// The `pid` and `offset` a reconnecting client sent with its CONNECT,
    /// when recovery is on and both are strings (as Node requires).
    pub(crate) fn recovery_claim(&self, auth: Option<&Str>) -> Option<(Str, Str)> {
        self.recovery.as_ref()?;
        #[derive(serde::Deserialize)]
        struct Claim {
            pid: String,
            offset: String,
        }
        let claim: Claim = serde_json::from_str(auth?).ok()?;
        Some((claim.pid.into(), claim.offset.into()))
    }

    pub(crate) fn middlewares(&self) -> &Middlewares {
        &self.middlewares
    }

    /// A fresh ack id, unique in the namespace, so one broadcast packet can
    /// carry the same id to every recipient.
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn get_socket(&self, sid: &str) -> Option<SocketRef> {
        read(&self.sockets).get(sid).cloned()
    }

    pub(crate) fn remove_socket(&self, sid: &str) {
        write(&self.sockets).remove(sid);
    }

    pub(crate) fn socket_count(&self) -> usize {
        read(&self.sockets).len()
    }

    /// The sockets of `sids` that are connected here.
    fn resolve(&self, sids: &[Str]) -> Vec<SocketRef> {
        let sockets = read(&self.sockets);
        sids.iter()
            .filter_map(|s| sockets.get(s).cloned())
            .collect()
    }

    fn on_server_event(&self, event: impl Into<String>, handler: BoxedServerHandler) {
        let event = Str::from(event.into());
        let mut handlers = write(&self.server_handlers);
        handlers.retain(|(name, _)| *name != event);
        handlers.push((event, handler));
    }

    fn middleware_list(&self) -> Vec<BoxedMiddleware> {
        read(&self.middlewares).clone()
    }

    /// Starts a client's connection: runs middlewares (possibly later, on a
    /// task), then accepts. Returns the socket, still connecting.
    pub(crate) fn connect(
        self: &Arc<Self>,
        link: Link,
        auth: Option<Str>,
        claims: Option<VerifiedClaims>,
    ) -> SocketRef {
        let socket = Socket::new(self.clone(), link, auth, claims);
        self.admit(&socket, None);
        socket
    }

    /// Admits a socket: runs middlewares (on a task if there are any; not
    /// for a recovered socket when recovery skips them), then accepts it,
    /// giving a recovered socket its rooms, data and missed packets.
    pub(crate) fn admit(self: &Arc<Self>, socket: &SocketRef, restored: Option<Restoring>) {
        let skip = restored.is_some() && self.config.recovery.skip_middlewares;
        let middlewares = match skip {
            true => Vec::new(),
            false => self.middleware_list(),
        };
        if middlewares.is_empty() {
            self.accept(socket, restored);
        } else {
            let ns = self.clone();
            let socket = socket.clone();
            tokio::spawn(async move {
                match ns.authorize(&socket, middlewares).await {
                    Ok(()) => ns.accept(&socket, restored),
                    Err(refusal) => ns.reject(&socket, refusal),
                }
            });
        }
    }

    /// Connects a plain-transport client: middlewares run here, then the
    /// socket is accepted (its hello queued) or refused (its error queued).
    pub(crate) async fn connect_plain(
        self: &Arc<Self>,
        link: Link,
        auth: Option<Str>,
        claims: Option<VerifiedClaims>,
    ) -> Result<SocketRef, ConnectError> {
        let socket = Socket::new(self.clone(), link, auth, claims);
        match self.authorize(&socket, self.middleware_list()).await {
            Ok(()) => {
                self.accept(&socket, None);
                Ok(socket)
            }
            Err(refusal) => {
                self.reject(&socket, refusal.clone());
                Err(refusal)
            }
        }
    }

    async fn authorize(
        &self,
        socket: &SocketRef,
        middlewares: Vec<BoxedMiddleware>,
    ) -> Result<(), ConnectError> {
        let auth = Args::from_raw(vec![socket.auth_raw().clone()]);
        for mw in middlewares {
            let fut = mw.call(&HandlerCx {
                socket,
                event: &Str::from_static("connect"),
                args: &auth,
                ack_id: None,
                reason: None,
            });
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    self.metrics.server().error(ErrorKind::HandlerPanic);
                    tracing::error!(ns = %self.name, "a middleware panicked");
                    return Err(ConnectError::new("internal server error"));
                }
            }
        }
        Ok(())
    }

    fn reject(&self, socket: &SocketRef, error: ConnectError) {
        self.metrics.server().error(ErrorKind::ConnectRefused);
        socket.set_rejected();
        let (name, message, data) = (self.name.clone(), &error.message, error.data);
        let packet = if socket.link().is_legacy() {
            Packet::connect_error_legacy(name, message, data)
        } else {
            Packet::connect_error(name, message, data)
        };
        let _ = socket.send_raw_packet(packet);
    }

    fn accept(&self, socket: &SocketRef, restored: Option<Restoring>) {
        match restored {
            // As Node: the missed packets, then the CONNECT answer (the
            // client holds them until connected and hands them out first).
            Some(restoring) => self.register_recovered(socket, restoring),
            None => self.register(socket),
        }
        let _ = socket.send_connect_answer();
        if !socket.set_connected() {
            self.remove_socket(socket.id());
            self.adapter.local().forget(socket.id());
            return;
        }
        if let Some(observer) = &self.observer {
            observer.socket_connected(socket);
        }
        let auth = Args::from_raw(vec![socket.auth_raw().clone()]);
        self.on_connect.call(&HandlerCx {
            socket,
            event: &Str::from_static("connect"),
            args: &auth,
            ack_id: None,
            reason: None,
        });
    }

    fn register(&self, socket: &SocketRef) {
        write(&self.sockets).insert(socket.id().clone(), socket.clone());
    }

    /// Registers a recovered socket with its rooms and data, and queues
    /// what it missed: the packets its restore found, then those logged
    /// since, under the replay log's lock so that every later packet
    /// reaches it live, after them (see [`RecoveryStore::catch_up`]).
    fn register_recovered(&self, socket: &SocketRef, restoring: Restoring) {
        let Restoring { restored, offset } = restoring;
        let RestoredSession { session, missed } = restored;
        if !session.data.is_null() {
            let _ = socket.set_data(&session.data);
        }
        let queue = |packets: &[Arc<Delivery>]| {
            let sent = packets
                .iter()
                .filter(|p| socket.deliver(p, false).is_ok())
                .count();
            self.metrics.events_sent(sent);
        };
        let Some(store) = &self.recovery else {
            self.register(socket);
            self.adapter.local().add_all(socket.id(), &session.rooms);
            return queue(&missed);
        };
        let seen: HashSet<u64> = missed.iter().filter_map(|d| d.offset()).collect();
        let after = missed.last().and_then(|d| d.offset()).unwrap_or(offset);
        store.catch_up(&session.rooms, after, &seen, |extra| {
            self.register(socket);
            self.adapter.local().add_all(socket.id(), &session.rooms);
            queue(&missed);
            queue(&extra);
        });
    }
}

/// A session being recovered: what its restore found, and the offset the
/// client said it got last.
#[derive(Debug)]
pub(crate) struct Restoring {
    pub(crate) restored: RestoredSession,
    pub(crate) offset: u64,
}

/// The namespace's side of its local adapter. It holds the namespace
/// weakly: the namespace owns the adapter, which owns this.
struct NsEmitter {
    name: Str,
    ns: Weak<Namespace>,
    observer: Observer,
    metrics: Arc<NsMetrics>,
}

impl NsEmitter {
    fn with<R: Default>(&self, f: impl FnOnce(&Namespace) -> R) -> R {
        self.ns.upgrade().map(|ns| f(&ns)).unwrap_or_default()
    }
}

impl LocalEmitter for NsEmitter {
    fn ns(&self) -> &Str {
        &self.name
    }

    fn observer(&self) -> Option<&dyn ServerObserver> {
        self.observer.as_deref()
    }

    fn has_socket(&self, sid: &str) -> bool {
        self.with(|ns| read(&ns.sockets).contains_key(sid))
    }

    fn all_sids(&self) -> Vec<Str> {
        self.with(|ns| read(&ns.sockets).keys().cloned().collect())
    }

    fn deliver(&self, sids: &[Str], delivery: &Arc<Delivery>, volatile: bool) -> usize {
        // Resolved under the lock, delivered outside it: a full queue may
        // close its socket, which takes the lock to leave the namespace.
        let start = Instant::now();
        let sockets = self.with(|ns| ns.resolve(sids));
        let sent = sockets
            .iter()
            .filter(|s| s.deliver(delivery, volatile).is_ok())
            .count();
        self.metrics.events_sent(sent);
        self.metrics.server().broadcast(start.elapsed());
        sent
    }

    fn deliver_with_ack(
        &self,
        sids: &[Str],
        delivery: &Arc<Delivery>,
        volatile: bool,
        sink: &AckSink,
    ) -> usize {
        let Some(id) = delivery.ack_id() else {
            return self.deliver(sids, delivery, volatile);
        };
        let start = Instant::now();
        let sockets = self.with(|ns| ns.resolve(sids));
        let mut sent = 0;
        for socket in sockets {
            socket.register_ack(id, super::ack::AckSink::Many(sink.clone()));
            if socket.deliver(delivery, volatile).is_ok() {
                sent += 1;
            } else {
                socket.forget_ack(id);
            }
        }
        self.metrics.events_sent(sent);
        self.metrics.server().broadcast(start.elapsed());
        sent
    }

    fn next_ack_id(&self) -> u64 {
        self.with(|ns| ns.next_ack_id())
    }

    fn recorded_rooms(&self, opts: &BroadcastOptions) -> Vec<Room> {
        self.with(|ns| {
            if !ns.history.enabled() || opts.volatile {
                return Vec::new();
            }
            let sockets = read(&ns.sockets);
            opts.rooms
                .iter()
                .filter(|r| !sockets.contains_key(r.as_str()))
                .cloned()
                .collect()
        })
    }

    fn next_offset(&self) -> u64 {
        self.with(|ns| ns.history.reserve())
    }

    fn latest_offset(&self) -> u64 {
        self.with(|ns| ns.history.latest())
    }

    fn record(&self, rooms: &[Room], offset: u64, delivery: &Arc<Delivery>) {
        self.with(|ns| ns.history.record(rooms, offset, delivery.clone()))
    }

    fn recovery(&self) -> Option<Arc<RecoveryStore>> {
        self.with(|ns| ns.recovery.clone())
    }

    fn describe(&self, sids: &[Str]) -> Vec<RemoteSocketData> {
        let sockets = self.with(|ns| ns.resolve(sids));
        sockets.iter().map(|s| s.describe()).collect()
    }

    fn disconnect(&self, sids: &[Str], close: bool) {
        for socket in self.with(|ns| ns.resolve(sids)) {
            socket.disconnect_with(close);
        }
    }

    fn server_event(&self, msg: Message, reply: Option<ServerAckReply>) {
        let handler = self.with(|ns| {
            read(&ns.server_handlers)
                .iter()
                .find(|(name, _)| *name == msg.event)
                .map(|(_, h)| h.clone())
        });
        match handler {
            Some(h) => h.call(msg.args, ServerAck::new(reply)),
            None => tracing::trace!(ns = %self.name, event = %msg.event, "no server-side handler"),
        }
    }
}

/// A handle on a namespace: middlewares, server-side events, broadcasts and
/// bulk operations.
#[derive(Clone)]
pub struct NamespaceRef {
    pub(crate) ns: Option<Arc<Namespace>>,
    pub(crate) middlewares: Middlewares,
}

impl std::fmt::Debug for NamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespaceRef")
            .field("name", &self.ns.as_ref().map(|n| n.name().clone()))
            .finish()
    }
}

impl NamespaceRef {
    /// A handle on an existing namespace (its own middleware list).
    pub(crate) fn of(ns: Arc<Namespace>) -> Self {
        NamespaceRef {
            middlewares: ns.middlewares().clone(),
            ns: Some(ns),
        }
    }

    /// Adds a middleware, run in order before each connection is accepted.
    pub fn use_middleware<M: Middleware<T>, T: 'static>(&self, middleware: M) -> &Self {
        write(&self.middlewares).push(boxed_middleware(middleware));
        self
    }

    /// Handles a server-side event that another node emitted
    /// (`server_side_emit`), as Node's `io.of(ns).on(event, handler)`.
    /// Does nothing on a dynamic namespace pattern.
    pub fn on_server_event<H: ServerEventHandler>(
        &self,
        event: impl Into<String>,
        handler: H,
    ) -> &Self {
        if let Some(ns) = &self.ns {
            ns.on_server_event(event, Arc::new(handler));
        }
        self
    }

    /// Emits an event to this namespace's server-side handlers on the other
    /// nodes (Node's `serverSideEmit`); nothing on a pattern or a single node.
    pub fn server_side_emit_raw(&self, event: &str, args: Args) -> Result<(), EmitError> {
        let Some(ns) = &self.ns else {
            return Ok(());
        };
        let msg = Message {
            event: Str::from(event.to_owned()),
            args,
        };
        Ok(ns.adapter().server_side_emit(msg)?)
    }

    /// [`Self::server_side_emit_raw`] with one argument.
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitError> {
        self.server_side_emit_raw(event, Args::one(data)?)
    }

    /// Emits a server-side event and gathers one answer per other node
    /// (Node's `serverSideEmitWithAck`), within the adapter's request timeout.
    pub async fn server_side_emit_with_ack(&self, event: &str, args: Args) -> ServerAcks {
        let Some(ns) = &self.ns else {
            return ServerAcks::default();
        };
        let msg = Message {
            event: Str::from(event.to_owned()),
            args,
        };
        ns.adapter().server_side_emit_with_ack(msg).await
    }

    /// The number of servers serving this namespace, this one included.
    pub async fn server_count(&self) -> Result<usize, AdapterError> {
        match &self.ns {
            Some(ns) => ns.adapter().server_count().await,
            None => Ok(1),
        }
    }

    /// The messages this node's room history holds for `rooms` after offset
    /// `since` (at most `max`); empty for a dynamic namespace pattern.
    pub fn read_history(&self, rooms: &[Room], since: u64, max: usize) -> HistoryRead {
        match &self.ns {
            Some(ns) => ns.history().read(rooms, since, max),
            None => HistoryRead::default(),
        }
    }

    /// The namespace name (`None` for a dynamic namespace pattern).
    pub fn name(&self) -> Option<&Str> {
        self.ns.as_ref().map(|n| n.name())
    }

    /// The number of sockets connected to this node (0 for a dynamic
    /// namespace pattern).
    pub fn socket_count(&self) -> usize {
        self.ns.as_ref().map_or(0, |n| n.socket_count())
    }

    /// A broadcast operator over the whole namespace (`None` for a pattern).
    pub fn broadcast(&self) -> Option<BroadcastOperator> {
        self.ns.clone().map(BroadcastOperator::new)
    }

    /// A broadcast to rooms of this namespace (`None` for a pattern).
    pub fn to(&self, rooms: impl IntoRooms) -> Option<BroadcastOperator> {
        self.broadcast().map(|b| b.to(rooms))
    }
}
