//! [`SocketIo`]: the server handle users keep — namespaces (static and
//! dynamic), server-wide broadcasts, shutdown — and [`SocketIoHandler`],
//! which plugs the Socket.IO layer into the engine.

use super::adapter::AdapterFactory;
use super::adapter::{Partial, ServerAcks};
use super::broadcast::BroadcastOperator;
use super::client::Client;
use super::handler::{boxed, BoxedHandler, BoxedMiddleware, Handler};
use super::namespace::{Namespace, NamespaceRef};
use super::observer::Observer;
use super::remote::RemoteSocket;
use super::rooms::IntoRooms;
use super::server_event::ServerEventHandler;
use crate::auth::Gate;
use crate::config::Config;
use crate::engine::{EngineConn, EngineHandler};
use crate::limits::Limits;
use crate::registry::{Connections, DrainTimeout};
use crate::sync::{lock, read, write};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use wirehub_proto::engineio::{CloseReason, Message};
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

type NsPredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A dynamic namespace: any name the matcher accepts is created on demand.
struct DynamicNs {
    matches: NsPredicate,
    on_connect: BoxedHandler,
    middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
}

pub(crate) struct ServerInner {
    config: Arc<Config>,
    adapter: AdapterFactory,
    namespaces: RwLock<HashMap<Str, Arc<Namespace>>>,
    dynamic: RwLock<Vec<DynamicNs>>,
    /// Names of the namespaces dynamic patterns created, oldest first.
    created: Mutex<VecDeque<Str>>,
    /// Every live connection (and the limits), shared with the plain transports.
    pub(crate) connections: Arc<Connections>,
    /// Who is told of connections, rooms and events (the admin UI).
    observer: Observer,
    /// The JWT check of every handshake, when one is configured.
    gate: Option<Gate>,
}

impl ServerInner {
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The JWT check, when one is configured.
    pub(crate) fn gate(&self) -> Option<&Gate> {
        self.gate.as_ref()
    }

    /// Every namespace created so far (static and dynamic).
    pub(crate) fn namespaces(&self) -> Vec<Arc<Namespace>> {
        read(&self.namespaces).values().cloned().collect()
    }

    /// The namespace called `name`, creating a dynamic one if a pattern matches.
    pub(crate) fn namespace(&self, name: &Str) -> Option<Arc<Namespace>> {
        if let Some(ns) = read(&self.namespaces).get(name) {
            return Some(ns.clone());
        }
        let dynamic = read(&self.dynamic);
        let found = dynamic.iter().find(|d| (d.matches)(name))?;
        let mut all = write(&self.namespaces);
        if let Some(ns) = all.get(name) {
            return Some(ns.clone());
        }
        let mut created = lock(&self.created);
        if created.len() >= self.config.max_dynamic_namespaces {
            // Drop the oldest namespace nothing uses (no socket, no handle).
            let unused = created
                .iter()
                .position(|n| all.get(n).is_none_or(|ns| Arc::strong_count(ns) == 1))?;
            if let Some(gone) = created.remove(unused).and_then(|name| all.remove(&name)) {
                // Its cluster subscriptions go with it.
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(gone.adapter().close());
                }
            }
        }
        let ns = Namespace::new(
            name.clone(),
            self.config.clone(),
            &self.adapter,
            found.on_connect.clone(),
            found.middlewares.clone(),
            self.observer.clone(),
            self.connections.metrics().clone(),
        );
        all.insert(name.clone(), ns.clone());
        created.push_back(name.clone());
        Some(ns)
    }
}

/// The Socket.IO server handle. Cheap to clone.
#[derive(Clone)]
pub struct SocketIo(pub(crate) Arc<ServerInner>);

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SocketIo")
    }
}

impl SocketIo {
    pub(crate) fn new(
        config: Arc<Config>,
        adapter: AdapterFactory,
        observer: Observer,
        gate: Option<Gate>,
    ) -> Self {
        SocketIo(Arc::new(ServerInner {
            observer,
            gate,
            connections: Connections::new(Limits::new(&config)),
            config,
            adapter,
            namespaces: RwLock::default(),
            dynamic: RwLock::default(),
            created: Mutex::default(),
        }))
    }

    pub(crate) fn handler(&self) -> SocketIoHandler {
        SocketIoHandler(self.0.clone())
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The server's counters and histograms (see [`crate::metrics`]).
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        self.0.connections.metrics()
    }

    /// Connection counts (every transport) and limit counters, such as the
    /// events the rate limit dropped.
    pub fn limits(&self) -> &Limits {
        self.0.connections.limits()
    }

    /// Every live connection, every transport: counts, the drain and
    /// readiness.
    pub fn connections(&self) -> &Arc<Connections> {
        &self.0.connections
    }

    /// Registers a namespace; `handler` runs for each new connection.
    pub fn ns<H: Handler<T>, T: 'static>(
        &self,
        name: impl Into<String>,
        handler: H,
    ) -> NamespaceRef {
        let middlewares = Arc::new(RwLock::new(Vec::new()));
        let ns = self.register(name.into(), boxed(handler), middlewares.clone());
        NamespaceRef {
            ns: Some(ns),
            middlewares,
        }
    }

    fn register(
        &self,
        mut name: String,
        handler: BoxedHandler,
        middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
    ) -> Arc<Namespace> {
        if !name.starts_with('/') {
            name.insert(0, '/');
        }
        let name = Str::from(name);
        let ns = Namespace::new(
            name.clone(),
            self.0.config.clone(),
            &self.0.adapter,
            handler,
            middlewares,
            self.0.observer.clone(),
            self.0.connections.metrics().clone(),
        );
        write(&self.0.namespaces).insert(name, ns.clone());
        ns
    }

    /// Registers dynamic namespaces: every name matching the regular
    /// expression (anchored at both ends), e.g. `/room-\d+`.
    pub fn dyn_ns<H: Handler<T>, T: 'static>(
        &self,
        pattern: &str,
        handler: H,
    ) -> Result<NamespaceRef, regex_lite::Error> {
        let re = regex_lite::Regex::new(&format!("^(?:{pattern})$"))?;
        Ok(self.dyn_ns_fn(move |name| re.is_match(name), handler))
    }

    /// Registers dynamic namespaces: every name `matches` accepts.
    pub fn dyn_ns_fn<H: Handler<T>, T: 'static>(
        &self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        handler: H,
    ) -> NamespaceRef {
        let middlewares = Arc::new(RwLock::new(Vec::new()));
        write(&self.0.dynamic).push(DynamicNs {
            matches: Arc::new(matches),
            on_connect: boxed(handler),
            middlewares: middlewares.clone(),
        });
        NamespaceRef {
            ns: None,
            middlewares,
        }
    }

    /// The namespace called `name`, if it exists (or a dynamic pattern matches).
    pub fn of(&self, name: &str) -> Option<NamespaceRef> {
        let ns = self.0.namespace(&Str::from(name.to_owned()))?;
        Some(NamespaceRef::of(ns))
    }

    /// The main namespace `/` (created, with no connection handler, if it
    /// was not registered).
    pub fn main(&self) -> NamespaceRef {
        NamespaceRef::of(self.main_ns())
    }

    fn main_ns(&self) -> Arc<Namespace> {
        let main = Str::from_static("/");
        match self.0.namespace(&main) {
            Some(ns) => ns,
            None => self.register("/".into(), boxed(|| async {}), Arc::default()),
        }
    }

    /// Handles a server-side event of `/` emitted by another node (Node's
    /// `io.on(event, handler)` for `serverSideEmit`).
    pub fn on_server_event<H: ServerEventHandler>(&self, event: impl Into<String>, handler: H) {
        self.main().on_server_event(event, handler);
    }

    /// Emits a server-side event to `/` on the other nodes.
    pub fn server_side_emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), super::EmitError> {
        self.main().server_side_emit(event, data)
    }

    /// Emits a server-side event to `/` on the other nodes and gathers one
    /// answer per node (Node's `serverSideEmitWithAck`).
    pub async fn server_side_emit_with_ack(&self, event: &str, args: Args) -> ServerAcks {
        self.main().server_side_emit_with_ack(event, args).await
    }

    /// A broadcast operator over the main namespace `/` (created, with no
    /// connection handler, if it was not registered).
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.main_ns())
    }

    /// Emits to every socket of `/` (one argument).
    pub fn emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<usize, super::EmitError> {
        self.broadcast().emit(event, data)
    }

    /// A broadcast to rooms of `/`.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Same as [`Self::to`].
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// A broadcast to `/` excluding rooms.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// A broadcast with an ack timeout, over `/`.
    pub fn timeout(&self, timeout: std::time::Duration) -> BroadcastOperator {
        self.broadcast().timeout(timeout)
    }

    /// Every socket of `/`, on every node.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, Partial<RemoteSocket>> {
        self.broadcast().fetch_sockets().await
    }

    /// Waits until the adapter of every namespace registered so far has
    /// started (with a cluster adapter: subscribed to the other nodes, or
    /// failed to and serves local sockets). Call it before listening, so
    /// the first client finds the node in the cluster.
    pub async fn ready(&self) {
        let all: Vec<Arc<Namespace>> = read(&self.0.namespaces).values().cloned().collect();
        for ns in all {
            ns.started().await;
        }
    }

    /// Starts the drain: refuses new connections, stops the accept loops
    /// and closes every connection of every transport ("server shutting
    /// down"; Socket.IO clients see "transport close" and reconnect).
    /// Returns at once; [`SocketIo::shutdown`] also waits.
    pub fn close(&self) {
        self.0.connections.drain();
    }

    /// Drains (see [`SocketIo::close`]) and waits until every connection
    /// and its driver have ended, for at most `grace`.
    pub async fn shutdown(&self, grace: std::time::Duration) -> Result<(), DrainTimeout> {
        self.0.connections.shutdown(grace).await
    }
}

/// The engine handler running Socket.IO on each session.
pub struct SocketIoHandler(Arc<ServerInner>);

impl EngineHandler for SocketIoHandler {
    type Conn = Client;

    fn connections(&self) -> Option<Arc<Connections>> {
        Some(self.0.connections.clone())
    }

    fn on_open(&self, conn: &Arc<EngineConn>) -> Client {
        if let Some(observer) = &self.0.observer {
            observer.client_opened(conn);
        }
        Client::new(conn.clone(), self.0.clone())
    }

    fn on_message(&self, client: &mut Client, msg: Message) -> Result<(), CloseReason> {
        client.on_message(msg)
    }

    fn on_close(&self, client: Client, reason: CloseReason) {
        let conn = self.0.observer.as_ref().map(|_| client.conn().clone());
        client.on_close(reason);
        if let (Some(observer), Some(conn)) = (&self.0.observer, conn) {
            observer.client_closed(&conn, reason);
        }
    }

    fn deadline(&self, client: &Client) -> Option<Instant> {
        client.deadline()
    }

    fn on_deadline(&self, client: &mut Client, now: Instant) -> Result<(), CloseReason> {
        client.on_deadline(now)
    }
}
