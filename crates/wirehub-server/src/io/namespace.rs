//! Namespaces: their sockets, connect handler, middlewares and adapter.

use super::adapter::{Adapter, BroadcastOptions};
use super::broadcast::{single_room, BroadcastOperator};
use super::delivery::Delivery;
use super::error::ConnectError;
use super::extract::HandlerCx;
use super::handler::{boxed_middleware, BoxedHandler, BoxedMiddleware, Middleware};
use super::history::RoomHistory;
use super::link::Link;
use super::rooms::IntoRooms;
use super::socket::{Socket, SocketRef};
use crate::config::Config;
use futures_util::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

/// One namespace.
pub(crate) struct Namespace {
    name: Str,
    config: Arc<Config>,
    adapter: Arc<dyn Adapter>,
    on_connect: BoxedHandler,
    middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
    sockets: RwLock<HashMap<Str, SocketRef>>,
    ack_ids: AtomicU64,
    history: RoomHistory,
}

impl Namespace {
    pub(crate) fn new(
        name: Str,
        config: Arc<Config>,
        adapter: Arc<dyn Adapter>,
        on_connect: BoxedHandler,
        middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
    ) -> Arc<Self> {
        let history = RoomHistory::new(
            config.history_size,
            config.history_ttl,
            config.history_max_rooms,
        );
        Arc::new(Namespace {
            name,
            history,
            config,
            adapter,
            on_connect,
            middlewares,
            sockets: RwLock::default(),
            ack_ids: AtomicU64::new(0),
        })
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

    /// Builds a broadcast event and, when it goes to rooms and is not
    /// volatile, records it in their history (socket-id rooms excluded).
    pub(crate) fn record(&self, opts: &BroadcastOptions, event: Str, args: Args) -> Arc<Delivery> {
        let rooms: Vec<_> = if self.history.enabled() && !opts.volatile {
            let sockets = self.sockets.read().ok();
            opts.rooms
                .iter()
                .filter(|r| !sockets.as_ref().is_some_and(|s| s.contains_key(r.as_str())))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let offset = (!rooms.is_empty()).then(|| self.history.reserve());
        let delivery = Arc::new(Delivery::new(
            self.name.clone(),
            event,
            args,
            None,
            single_room(&opts.rooms),
            offset,
        ));
        if let Some(offset) = offset {
            self.history.record(&rooms, offset, delivery.clone());
        }
        delivery
    }

    /// A fresh ack id, unique in the namespace, so one broadcast packet can
    /// carry the same id to every recipient.
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn get_socket(&self, sid: &str) -> Option<SocketRef> {
        self.sockets.read().ok()?.get(sid).cloned()
    }

    pub(crate) fn remove_socket(&self, sid: &str) {
        if let Ok(mut s) = self.sockets.write() {
            s.remove(sid);
        }
    }

    pub(crate) fn socket_count(&self) -> usize {
        self.sockets.read().map(|s| s.len()).unwrap_or(0)
    }

    fn middlewares(&self) -> Vec<BoxedMiddleware> {
        self.middlewares
            .read()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// Starts a client's connection: runs middlewares (possibly later, on a
    /// task), then accepts. Returns the socket, still connecting.
    pub(crate) fn connect(self: &Arc<Self>, link: Link, auth: Option<Str>) -> SocketRef {
        let socket = Socket::new(self.clone(), link, auth);
        let middlewares = self.middlewares();
        if middlewares.is_empty() {
            self.accept(&socket);
        } else {
            let ns = self.clone();
            let socket = socket.clone();
            tokio::spawn(async move {
                match ns.authorize(&socket, middlewares).await {
                    Ok(()) => ns.accept(&socket),
                    Err(refusal) => ns.reject(&socket, refusal),
                }
            });
        }
        socket
    }

    /// Connects a plain-transport client: middlewares run here, then the
    /// socket is accepted (its hello queued) or refused (its error queued).
    pub(crate) async fn connect_plain(
        self: &Arc<Self>,
        link: Link,
        auth: Option<Str>,
    ) -> Result<SocketRef, ConnectError> {
        let socket = Socket::new(self.clone(), link, auth);
        match self.authorize(&socket, self.middlewares()).await {
            Ok(()) => {
                self.accept(&socket);
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
                    tracing::error!(ns = %self.name, "a middleware panicked");
                    return Err(ConnectError::new("internal server error"));
                }
            }
        }
        Ok(())
    }

    fn reject(&self, socket: &SocketRef, error: ConnectError) {
        socket.set_rejected();
        let packet = Packet::connect_error(self.name.clone(), &error.message, error.data);
        let _ = socket.send_raw_packet(packet);
    }

    fn accept(&self, socket: &SocketRef) {
        if let Ok(mut s) = self.sockets.write() {
            s.insert(socket.id().clone(), socket.clone());
        }
        self.adapter.add_socket(socket);
        let _ = socket.send_connect_answer();
        if !socket.set_connected() {
            self.adapter.del_all(socket.id());
            self.remove_socket(socket.id());
            return;
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
}

/// A handle on a namespace: middlewares, broadcasts, bulk operations.
#[derive(Clone)]
pub struct NamespaceRef {
    pub(crate) ns: Option<Arc<Namespace>>,
    pub(crate) middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
}

impl std::fmt::Debug for NamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespaceRef")
            .field("name", &self.ns.as_ref().map(|n| n.name().clone()))
            .finish()
    }
}

impl NamespaceRef {
    /// Adds a middleware, run in order before each connection is accepted.
    pub fn use_middleware<M: Middleware<T>, T: 'static>(&self, middleware: M) -> &Self {
        if let Ok(mut m) = self.middlewares.write() {
            m.push(boxed_middleware(middleware));
        }
        self
    }

    /// The namespace name (`None` for a dynamic namespace pattern).
    pub fn name(&self) -> Option<&Str> {
        self.ns.as_ref().map(|n| n.name())
    }

    /// The number of connected sockets (0 for a dynamic namespace pattern).
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
