//! The clustered adapter: the protocol of socket.io-adapter's
//! `ClusterAdapter` (see `wirehub_proto::cluster::clustered`), as Node's
//! sharded Redis adapter speaks it, over any [`Driver`].
//!
//! Every node listens on the namespace's channel `{prefix}#{nsp}#` and on
//! its own response channel `{prefix}#{nsp}#{uid}#`; with
//! [`RoomChannels::Dynamic`], also on `{prefix}#{nsp}#{room}#` for each
//! room it has members in (not socket-id rooms), where one-room broadcasts
//! go. The nodes are counted by the namespace channel's subscribers
//! ([`Counting::Subscribers`], Redis `SHARDNUMSUB`) or by heartbeats
//! ([`Counting::Heartbeats`], as `ClusterAdapterWithHeartbeat`).

use super::common::{
    self, answer_args, first_arg, local_options, message, packet, relay_acks, socket_from_value,
    socket_value, wire_options, Relay,
};
use super::driver::{Driver, Handler};
use super::ordered::{history_floor, Ordered};
use super::pending::{Expect, Table};
use super::sessions::Sessions;
use super::{ClusterOptions, Counting, RoomChannels};
use crate::io::adapter::{
    AckAnswer, AckEvent, AckSink, AckStream, Adapter, AdapterCx, AdapterError, BroadcastOptions,
    LocalAdapter, Message, Partial, Published, RemoteSocketData, ServerAckReply, ServerAcks,
};
use crate::io::recovery::{RestoredSession, SessionState};
use crate::io::rooms::Room;
use crate::sync::lock;
use futures_util::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wirehub_proto::cluster::clustered::{looks_like_socket_id, Channels, Kind, Message as Wire};
use wirehub_proto::cluster::WireOptions;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// A namespace's clustered adapter.
pub(crate) struct ClusteredAdapter {
    inner: Arc<Inner>,
}

struct Inner {
    local: LocalAdapter,
    ns: Str,
    uid: Str,
    driver: Arc<dyn Driver>,
    channels: Channels,
    own_responses: String,
    counting: Counting,
    room_channels: RoomChannels,
    options: ClusterOptions,
    /// Other nodes heard from, and when (heartbeat counting).
    nodes: Mutex<HashMap<Str, Instant>>,
    fetches: Table<RemoteSocketData>,
    server_acks: Table<Args>,
    acks: Mutex<HashMap<Str, AckSink>>,
    ordered: Ordered,
    sessions: Sessions,
    /// Rooms created or emptied here, for their channel subscriptions.
    room_events: Mutex<Option<mpsc::UnboundedReceiver<(Room, bool)>>>,
}

/// A 16-hex-digit node id, as Node's `randomBytes(8).toString("hex")`.
fn hex_id() -> Str {
    let id = crate::engine::random_id();
    let hex: String = id.bytes().take(8).map(|b| format!("{b:02x}")).collect();
    Str::from(hex)
}

impl ClusteredAdapter {
    pub(crate) fn new(
        cx: AdapterCx,
        driver: Arc<dyn Driver>,
        options: &ClusterOptions,
        counting: Counting,
        room_channels: RoomChannels,
    ) -> Arc<Self> {
        let channels = Channels::new(&options.key, &cx.ns);
        let uid = hex_id();
        let (watcher, rx) = mpsc::unbounded_channel();
        let floor = history_floor(&cx.emitter);
        let local = match room_channels {
            RoomChannels::Dynamic => LocalAdapter::with_room_watcher(
                cx.emitter,
                Arc::new(move |room: &Room, created| {
                    let _ = watcher.send((room.clone(), created));
                }),
            ),
            RoomChannels::Static => LocalAdapter::new(cx.emitter),
        };
        let sequence = format!("{}-offset#{}#", options.key, cx.ns);
        Arc::new(ClusteredAdapter {
            inner: Arc::new(Inner {
                local,
                own_responses: channels.responses(&uid),
                ns: cx.ns,
                uid,
                ordered: Ordered::new(driver.clone(), sequence, floor),
                sessions: Sessions::new(driver.clone(), &options.key),
                driver,
                channels,
                counting,
                room_channels,
                options: options.clone(),
                nodes: Mutex::default(),
                fetches: Table::default(),
                server_acks: Table::default(),
                acks: Mutex::default(),
                room_events: Mutex::new(Some(rx)),
            }),
        })
    }
}

impl Inner {
    fn wire(&self, kind: Kind) -> Wire {
        Wire {
            uid: self.uid.clone(),
            nsp: self.ns.clone(),
            kind,
        }
    }

    fn publish(&self, kind: Kind) -> Result<(), AdapterError> {
        let channel = self.channel_for(&kind);
        self.driver.publish(&channel, self.wire(kind).encode())
    }

    /// The channel of a message: a one-room broadcast without acks goes to
    /// the room's channel (dynamic mode, not a socket id), the rest to the
    /// namespace's. So does a broadcast recorded in room history (it has an
    /// offset): every node records it, members of the room or not.
    fn channel_for(&self, kind: &Kind) -> String {
        if let (
            RoomChannels::Dynamic,
            Kind::Broadcast {
                opts,
                request_id: None,
                ..
            },
        ) = (self.room_channels, kind)
        {
            if opts.offset.is_some() {
                return self.channels.main.clone();
            }
            if let [room] = opts.rooms.as_slice() {
                if !looks_like_socket_id(room) {
                    return self.channels.room(room);
                }
            }
        }
        self.channels.main.clone()
    }

    fn respond(&self, to: &str, kind: Kind) {
        let channel = self.channels.responses(to);
        if let Err(e) = self.driver.publish(&channel, self.wire(kind).encode()) {
            tracing::debug!(ns = %self.ns, error = %e, "response not sent");
        }
    }

    fn publish_broadcast(&self, msg: &Message, opts: &BroadcastOptions, offset: Option<u64>) {
        let kind = Kind::Broadcast {
            opts: wire_options(opts, offset),
            packet: packet(&self.ns, msg),
            request_id: None,
        };
        if let Err(e) = self.publish(kind) {
            tracing::debug!(ns = %self.ns, error = %e, "broadcast reached this node only");
        }
    }

    fn on_message(self: &Arc<Self>, payload: &[u8]) {
        let msg = match Wire::decode(payload) {
            Ok(m) => m,
            Err(e) => return tracing::debug!(ns = %self.ns, error = %e, "bad message dropped"),
        };
        if msg.uid == self.uid || msg.nsp != self.ns {
            return;
        }
        if self.counting == Counting::Heartbeats && msg.uid != "emitter" {
            lock(&self.nodes).insert(msg.uid.clone(), Instant::now());
        }
        let from = msg.uid;
        match msg.kind {
            Kind::InitialHeartbeat => {
                if self.counting == Counting::Heartbeats {
                    let _ = self.publish(Kind::Heartbeat);
                }
            }
            Kind::Heartbeat => {}
            Kind::AdapterClose => {
                lock(&self.nodes).remove(&from);
            }
            Kind::Broadcast {
                opts,
                packet,
                request_id: None,
            } => self.on_broadcast(&opts, message(packet)),
            Kind::Broadcast {
                opts,
                packet,
                request_id: Some(id),
            } => self.on_broadcast_with_ack(from, id, opts, message(packet)),
            Kind::SocketsJoin { opts, rooms } => {
                self.local.add_sockets(&local_options(&opts), &rooms)
            }
            Kind::SocketsLeave { opts, rooms } => {
                self.local.del_sockets(&local_options(&opts), &rooms)
            }
            Kind::DisconnectSockets { opts, close } => {
                self.local.disconnect_sockets(&local_options(&opts), close)
            }
            Kind::FetchSockets { opts, request_id } => {
                let found = self.local.fetch_sockets(&local_options(&opts));
                let sockets = found.iter().map(socket_value).collect();
                self.respond(
                    &from,
                    Kind::FetchSocketsResponse {
                        request_id,
                        sockets,
                    },
                );
            }
            Kind::ServerSideEmit {
                request_id,
                event,
                args,
            } => {
                let reply = request_id.map(|request_id| {
                    let inner = Arc::downgrade(self);
                    ServerAckReply::new(move |answer| {
                        if let Some(inner) = inner.upgrade() {
                            let packet = first_arg(&answer);
                            inner.respond(
                                &from,
                                Kind::ServerSideEmitResponse { request_id, packet },
                            );
                        }
                    })
                });
                self.local
                    .emitter()
                    .server_event(Message { event, args }, reply);
            }
            response => self.on_response(&from, response),
        }
    }

    fn on_broadcast(&self, opts: &WireOptions, msg: Message) {
        let local = local_options(opts);
        let recorded = match opts.offset {
            Some(_) => self.local.emitter().recorded_rooms(&local),
            None => Vec::new(),
        };
        self.local
            .broadcast_recorded(msg, &local, &recorded, opts.offset);
    }

    fn on_broadcast_with_ack(
        self: &Arc<Self>,
        from: Str,
        id: Str,
        opts: WireOptions,
        msg: Message,
    ) {
        let timeout = opts
            .timeout
            .map_or(self.options.requests_timeout, Duration::from_millis);
        let inner = Arc::downgrade(self);
        relay_acks(
            &self.local,
            msg,
            &local_options(&opts),
            timeout,
            move |relay| {
                if let Some(inner) = inner.upgrade() {
                    let request_id = id.clone();
                    let kind = match relay {
                        Relay::Count(count) => Kind::BroadcastClientCount { request_id, count },
                        Relay::Answer(packet) => Kind::BroadcastAck { request_id, packet },
                    };
                    inner.respond(&from, kind);
                }
            },
        );
    }

    fn on_response(&self, from: &str, kind: Kind) {
        match kind {
            Kind::BroadcastClientCount { request_id, count } => {
                if let Some(sink) = lock(&self.acks).get(&request_id) {
                    sink.send(AckEvent::Count(count as usize));
                }
            }
            Kind::BroadcastAck { request_id, packet } => {
                if let Some(sink) = lock(&self.acks).get(&request_id) {
                    sink.send(AckEvent::Answer(AckAnswer {
                        sid: None,
                        args: answer_args(packet),
                    }));
                }
            }
            Kind::FetchSocketsResponse {
                request_id,
                sockets,
            } => {
                let sockets = sockets.iter().filter_map(socket_from_value).collect();
                self.fetches.answer(&request_id, Some(from), sockets);
            }
            Kind::ServerSideEmitResponse { request_id, packet } => {
                self.server_acks
                    .answer(&request_id, Some(from), vec![answer_args(packet)]);
            }
            _ => {}
        }
    }

    /// Who must answer a request: a count of the other nodes, or the set
    /// of nodes heard from.
    async fn expected(&self) -> Result<Expect, AdapterError> {
        match self.counting {
            Counting::Subscribers => {
                let n = self.driver.listeners(self.channels.main.clone()).await?;
                Ok(Expect::Count(n.saturating_sub(1)))
            }
            Counting::Heartbeats => Ok(Expect::Nodes(self.live_nodes().into_iter().collect())),
        }
    }

    fn live_nodes(&self) -> HashSet<Str> {
        let timeout = self.options.heartbeat_timeout;
        let mut nodes = lock(&self.nodes);
        nodes.retain(|_, seen| seen.elapsed() <= timeout);
        nodes.keys().cloned().collect()
    }

    async fn server_count(&self) -> Result<usize, AdapterError> {
        match self.expected().await? {
            Expect::Count(others) => Ok(others + 1),
            Expect::Nodes(nodes) => Ok(nodes.len() + 1),
        }
    }
}

impl common::Node for Inner {
    fn local(&self) -> &LocalAdapter {
        &self.local
    }

    fn ordered(&self) -> &Ordered {
        &self.ordered
    }

    fn acks(&self) -> &Mutex<HashMap<Str, AckSink>> {
        &self.acks
    }

    fn publish_broadcast(&self, msg: &Message, opts: &BroadcastOptions, offset: Option<u64>) {
        Inner::publish_broadcast(self, msg, opts, offset)
    }

    fn publish_with_ack(
        &self,
        id: Str,
        msg: &Message,
        opts: WireOptions,
    ) -> Result<(), AdapterError> {
        self.publish(Kind::Broadcast {
            opts,
            packet: packet(&self.ns, msg),
            request_id: Some(id),
        })
    }

    fn count_servers(self: Arc<Self>) -> BoxFuture<'static, Result<usize, AdapterError>> {
        Box::pin(async move { self.server_count().await })
    }
}

fn is_empty(expect: &Expect) -> bool {
    match expect {
        Expect::Count(n) => *n == 0,
        Expect::Nodes(nodes) => nodes.is_empty(),
    }
}

fn handler(inner: &Arc<Inner>) -> Handler {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    Arc::new(move |_channel, payload| {
        if let Some(inner) = weak.upgrade() {
            inner.on_message(&payload);
        }
    })
}

/// Keeps the channel subscriptions of the rooms this node has members in.
async fn follow_rooms(inner: Weak<Inner>, mut events: mpsc::UnboundedReceiver<(Room, bool)>) {
    while let Some((room, created)) = events.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        if inner.local.emitter().has_socket(&room) {
            continue;
        }
        let channel = inner.channels.room(&room);
        let done = match created {
            true => inner.driver.subscribe(vec![channel], handler(&inner)).await,
            false => inner.driver.unsubscribe(vec![channel]).await,
        };
        if let Err(e) = done {
            tracing::warn!(ns = %inner.ns, %room, error = %e, "room channel subscription failed");
        }
    }
}

/// Says this node is alive every heartbeat interval.
async fn heartbeat(inner: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let _ = inner.publish(Kind::Heartbeat);
    }
}

impl Adapter for ClusteredAdapter {
    fn local(&self) -> &LocalAdapter {
        &self.inner.local
    }

    fn init(self: Arc<Self>) -> BoxFuture<'static, Result<(), AdapterError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let channels = vec![inner.channels.main.clone(), inner.own_responses.clone()];
            inner.driver.subscribe(channels, handler(&inner)).await?;
            if let Some(events) = lock(&inner.room_events).take() {
                tokio::spawn(follow_rooms(Arc::downgrade(&inner), events));
            }
            if inner.counting == Counting::Heartbeats {
                tokio::spawn(heartbeat(
                    Arc::downgrade(&inner),
                    inner.options.heartbeat_interval,
                ));
                inner.publish(Kind::InitialHeartbeat)?;
            }
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'static, Result<(), AdapterError>> {
        let inner = &self.inner;
        if inner.counting == Counting::Heartbeats {
            let _ = inner.publish(Kind::AdapterClose);
        }
        let mut channels = vec![inner.channels.main.clone(), inner.own_responses.clone()];
        if inner.room_channels == RoomChannels::Dynamic {
            channels.extend(inner.local.rooms().iter().map(|r| inner.channels.room(r)));
        }
        inner.driver.unsubscribe(channels)
    }

    fn server_count(&self) -> BoxFuture<'static, Result<usize, AdapterError>> {
        let inner = self.inner.clone();
        Box::pin(async move { inner.server_count().await })
    }

    fn broadcast(&self, msg: Message, opts: &BroadcastOptions) -> Result<Published, AdapterError> {
        Ok(common::broadcast(&self.inner, msg, opts))
    }

    fn broadcast_with_ack(
        &self,
        msg: Message,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> AckStream {
        common::broadcast_with_ack(&self.inner, msg, opts, timeout)
    }

    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<RemoteSocketData>, Partial<RemoteSocketData>>> {
        let inner = self.inner.clone();
        let found = inner.local.fetch_sockets(opts);
        let (local, wire) = (opts.local, wire_options(opts, None));
        let timeout = opts.timeout.unwrap_or(inner.options.requests_timeout);
        Box::pin(async move {
            if local {
                return Ok(found);
            }
            let expect = match inner.expected().await {
                Ok(expect) => expect,
                Err(error) => {
                    return Err(Partial {
                        items: found,
                        error,
                    })
                }
            };
            if is_empty(&expect) {
                return Ok(found);
            }
            let request_id = super::pending::request_id();
            let rx = inner.fetches.open(request_id.clone(), expect, found);
            let sent = inner.publish(Kind::FetchSockets {
                opts: wire,
                request_id: request_id.clone(),
            });
            let timeout = if sent.is_ok() {
                timeout
            } else {
                Duration::ZERO
            };
            let gathered = inner.fetches.wait(&request_id, rx, timeout).await;
            super::classic::gathered_sockets(gathered, sent.err())
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.inner.local.add_sockets(opts, rooms);
        if opts.local {
            return Ok(());
        }
        self.inner.publish(Kind::SocketsJoin {
            opts: wire_options(opts, None),
            rooms: rooms.to_vec(),
        })
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.inner.local.del_sockets(opts, rooms);
        if opts.local {
            return Ok(());
        }
        self.inner.publish(Kind::SocketsLeave {
            opts: wire_options(opts, None),
            rooms: rooms.to_vec(),
        })
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        let published = match opts.local {
            true => Ok(()),
            false => self.inner.publish(Kind::DisconnectSockets {
                opts: wire_options(opts, None),
                close,
            }),
        };
        self.inner.local.disconnect_sockets(opts, close);
        published
    }

    fn server_side_emit(&self, msg: Message) -> Result<(), AdapterError> {
        self.inner.publish(Kind::ServerSideEmit {
            request_id: None,
            event: msg.event,
            args: msg.args,
        })
    }

    fn server_side_emit_with_ack(&self, msg: Message) -> BoxFuture<'static, ServerAcks> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let expect = match inner.expected().await {
                Ok(expect) => expect,
                Err(e) => {
                    tracing::debug!(ns = %inner.ns, error = %e, "server-side emit: no server count");
                    return ServerAcks {
                        timed_out: true,
                        ..ServerAcks::default()
                    };
                }
            };
            if is_empty(&expect) {
                return ServerAcks::default();
            }
            let request_id = super::pending::request_id();
            let rx = inner
                .server_acks
                .open(request_id.clone(), expect, Vec::new());
            let sent = inner.publish(Kind::ServerSideEmit {
                request_id: Some(request_id.clone()),
                event: msg.event,
                args: msg.args,
            });
            let timeout = match sent {
                Ok(()) => inner.options.requests_timeout,
                Err(_) => Duration::ZERO,
            };
            let gathered = inner.server_acks.wait(&request_id, rx, timeout).await;
            ServerAcks {
                responses: gathered.items,
                expected: gathered.expected,
                timed_out: !gathered.complete,
            }
        })
    }

    fn persist_session(&self, session: SessionState) {
        self.inner.sessions.persist(&self.inner.local, session);
    }

    fn restore_session(
        &self,
        pid: Str,
        offset: Str,
    ) -> BoxFuture<'static, Result<Option<RestoredSession>, AdapterError>> {
        self.inner.sessions.restore(&self.inner.local, pid, offset)
    }
}
