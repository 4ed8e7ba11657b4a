//! The classic adapter: the protocol of `@socket.io/redis-adapter`'s
//! `createAdapter` (see `wirehub_proto::cluster::classic`), over any
//! [`Driver`] that counts subscribers (Redis, or the in-process bus).
//!
//! As Node's adapter, it counts the other nodes by the subscribers of the
//! namespace's request channel (so it holds exactly one subscription to
//! it), ignores its own broadcasts by `uid`, and answers every request of
//! the others. Unlike Node's, it applies its own `sockets_join`,
//! `sockets_leave` and `disconnect_sockets` to its sockets at once (Node's
//! waits for its request to come back from Redis) and ignores the echo.

use super::common::{
    self, answer_args, first_arg, local_options, message, packet, relay_acks, socket_from_value,
    socket_value, wire_options, Relay,
};
use super::driver::{Driver, Handler};
use super::ordered::{history_floor, Ordered};
use super::pending::{request_id, Expect, Table};
use super::sessions::Sessions;
use super::ClusterOptions;
use crate::io::adapter::{
    AckAnswer, AckEvent, AckSink, AckStream, Adapter, AdapterCx, AdapterError, BroadcastOptions,
    LocalAdapter, Message, Partial, Published, RemoteSocketData, ServerAckReply, ServerAcks,
};
use crate::io::recovery::{RestoredSession, SessionState};
use crate::io::rooms::Room;
use crate::sync::lock;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use wirehub_proto::cluster::classic::{
    Broadcast, Channels, Request, RequestKind, Response, ResponseKind, Target,
};
use wirehub_proto::cluster::WireOptions;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// A namespace's classic cluster adapter.
pub(crate) struct ClassicAdapter {
    inner: Arc<Inner>,
}

struct Inner {
    local: LocalAdapter,
    ns: Str,
    uid: Str,
    driver: Arc<dyn Driver>,
    channels: Channels,
    specific_response: String,
    requests_timeout: Duration,
    fetches: Table<RemoteSocketData>,
    rooms: Table<Room>,
    server_acks: Table<Args>,
    acks: Mutex<HashMap<Str, AckSink>>,
    ordered: Ordered,
    sessions: Sessions,
}

impl ClassicAdapter {
    pub(crate) fn new(cx: AdapterCx, driver: Arc<dyn Driver>, options: &ClusterOptions) -> Self {
        let channels = Channels::new(&options.key, &cx.ns);
        let uid = request_id();
        let sequence = format!("{}-offset#{}#", options.key, cx.ns);
        let floor = history_floor(&cx.emitter);
        ClassicAdapter {
            inner: Arc::new(Inner {
                local: LocalAdapter::new(cx.emitter),
                specific_response: channels.specific_response(&uid),
                ns: cx.ns,
                uid,
                ordered: Ordered::new(driver.clone(), sequence, floor),
                sessions: Sessions::new(driver.clone(), &options.key),
                driver,
                channels,
                requests_timeout: options.requests_timeout,
                fetches: Table::default(),
                rooms: Table::default(),
                server_acks: Table::default(),
                acks: Mutex::default(),
            }),
        }
    }
}

impl Inner {
    fn publish_request(
        &self,
        request_id: Option<Str>,
        kind: RequestKind,
    ) -> Result<(), AdapterError> {
        let request = Request {
            uid: Some(self.uid.clone()),
            request_id,
            kind,
        };
        self.driver
            .publish(&self.channels.request, request.encode())
    }

    fn respond(&self, request_id: Str, kind: ResponseKind) {
        let response = Response { request_id, kind };
        if let Err(e) = self
            .driver
            .publish(&self.channels.response, response.encode())
        {
            tracing::debug!(ns = %self.ns, error = %e, "response not sent");
        }
    }

    /// Answers a request that asked for an answer.
    fn respond_if(&self, request_id: Option<Str>, kind: ResponseKind) {
        if let Some(id) = request_id {
            self.respond(id, kind);
        }
    }

    fn publish_broadcast(&self, msg: &Message, opts: &BroadcastOptions, offset: Option<u64>) {
        let broadcast = Broadcast {
            uid: self.uid.clone(),
            packet: packet(&self.ns, msg),
            opts: wire_options(opts, offset),
        };
        let channel = self.channels.for_rooms(&opts.rooms);
        if let Err(e) = self.driver.publish(&channel, broadcast.encode()) {
            tracing::debug!(ns = %self.ns, error = %e, "broadcast reached this node only");
        }
    }

    /// Whether `id` names a request this node made (its echo is ignored).
    fn is_own_request(&self, id: &str) -> bool {
        self.fetches.contains(id) || self.rooms.contains(id) || self.server_acks.contains(id)
    }

    fn on_broadcast(&self, channel: &str, payload: &[u8]) {
        if self.channels.room_of(channel).is_none() {
            return;
        }
        let broadcast = match Broadcast::decode(payload) {
            Ok(b) => b,
            Err(e) => return tracing::debug!(ns = %self.ns, error = %e, "bad broadcast dropped"),
        };
        if broadcast.uid == self.uid || broadcast.packet.nsp != self.ns {
            return;
        }
        let opts = local_options(&broadcast.opts);
        let offset = broadcast.opts.offset;
        let recorded = match offset {
            Some(_) => self.local.emitter().recorded_rooms(&opts),
            None => Vec::new(),
        };
        self.local
            .broadcast_recorded(message(broadcast.packet), &opts, &recorded, offset);
    }

    fn on_request(self: &Arc<Self>, payload: &[u8]) {
        let request = match Request::decode(payload) {
            Ok(r) => r,
            Err(e) => return tracing::debug!(ns = %self.ns, error = %e, "bad request dropped"),
        };
        let own = request.uid.as_deref() == Some(self.uid.as_str());
        let id = request.request_id;
        if own || id.as_deref().is_some_and(|id| self.is_own_request(id)) {
            return;
        }
        match request.kind {
            RequestKind::Sockets { rooms } => {
                let sids = self.local.sids(&BroadcastOptions::to(rooms));
                let list = sids.iter().map(|s| s.as_str().into()).collect();
                self.respond_if(id, ResponseKind::Sockets(list));
            }
            RequestKind::AllRooms => self.respond_if(id, ResponseKind::Rooms(self.local.rooms())),
            RequestKind::Join { target, rooms } => match target {
                Target::Select(opts) => self.local.add_sockets(&local_options(&opts), &rooms),
                Target::Socket(sid) => {
                    self.on_socket(id, &sid, |local| local.add_all(&sid, &rooms))
                }
            },
            RequestKind::Leave { target, rooms } => match target {
                Target::Select(opts) => self.local.del_sockets(&local_options(&opts), &rooms),
                Target::Socket(sid) => self.on_socket(id, &sid, |local| {
                    rooms.iter().for_each(|room| local.del(&sid, room))
                }),
            },
            RequestKind::Disconnect { target, close } => match target {
                Target::Select(opts) => self.local.disconnect_sockets(&local_options(&opts), close),
                Target::Socket(sid) => self.on_socket(id, &sid, |local| {
                    local
                        .emitter()
                        .disconnect(std::slice::from_ref(&sid), close)
                }),
            },
            RequestKind::Fetch { opts } => {
                let found = self.local.fetch_sockets(&local_options(&opts));
                let list = found.iter().map(socket_value).collect();
                self.respond_if(id, ResponseKind::Sockets(list));
            }
            RequestKind::ServerSideEmit { event, args } => {
                let reply = id.map(|id| {
                    let inner = Arc::downgrade(self);
                    ServerAckReply::new(move |answer| {
                        if let Some(inner) = inner.upgrade() {
                            inner.respond(id, ResponseKind::ServerSideEmit(first_arg(&answer)));
                        }
                    })
                });
                self.local
                    .emitter()
                    .server_event(Message { event, args }, reply);
            }
            RequestKind::BroadcastWithAck { packet, opts } => {
                let Some(id) = id else { return };
                if lock(&self.acks).contains_key(&id) {
                    return;
                }
                // As Node's adapter: rooms and except only, flags dropped.
                let selected = BroadcastOptions {
                    rooms: opts.rooms,
                    except: opts.except,
                    local: true,
                    ..BroadcastOptions::default()
                };
                let timeout = opts
                    .timeout
                    .map_or(self.requests_timeout, Duration::from_millis);
                let inner = Arc::downgrade(self);
                relay_acks(
                    &self.local,
                    message(packet),
                    &selected,
                    timeout,
                    move |relay| {
                        if let Some(inner) = inner.upgrade() {
                            let kind = match relay {
                                Relay::Count(n) => ResponseKind::ClientCount(n),
                                Relay::Answer(v) => ResponseKind::Ack(v),
                            };
                            inner.respond(id.clone(), kind);
                        }
                    },
                );
            }
        }
    }

    /// A legacy per-socket request: done by the node that has the socket,
    /// which answers if asked.
    fn on_socket(&self, id: Option<Str>, sid: &str, act: impl FnOnce(&LocalAdapter)) {
        if self.local.emitter().has_socket(sid) {
            act(&self.local);
            if let Some(id) = id {
                self.respond(id, ResponseKind::Done);
            }
        }
    }

    fn on_response(&self, payload: &[u8]) {
        let response = match Response::decode(payload) {
            Ok(r) => r,
            Err(e) => return tracing::debug!(ns = %self.ns, error = %e, "bad response dropped"),
        };
        let id = response.request_id;
        match response.kind {
            ResponseKind::ClientCount(n) => {
                if let Some(sink) = lock(&self.acks).get(&id) {
                    sink.send(AckEvent::Count(n as usize));
                }
            }
            ResponseKind::Ack(value) => {
                if let Some(sink) = lock(&self.acks).get(&id) {
                    sink.send(AckEvent::Answer(AckAnswer {
                        sid: None,
                        args: answer_args(value),
                    }));
                }
            }
            ResponseKind::Sockets(list) => {
                let sockets = list.iter().filter_map(socket_from_value).collect();
                self.fetches.answer(&id, None, sockets);
            }
            ResponseKind::Rooms(rooms) => {
                self.rooms.answer(&id, None, rooms);
            }
            ResponseKind::ServerSideEmit(value) => {
                self.server_acks.answer(&id, None, vec![answer_args(value)]);
            }
            ResponseKind::Done => {}
        }
    }

    async fn others(&self) -> Result<usize, AdapterError> {
        let listeners = self.driver.listeners(self.channels.request.clone()).await?;
        Ok(listeners.saturating_sub(1))
    }
}

/// A fetch's result: every answer, or what arrived and why not all did.
pub(super) fn gathered_sockets(
    gathered: super::pending::Gathered<RemoteSocketData>,
    failed: Option<AdapterError>,
) -> Result<Vec<RemoteSocketData>, Partial<RemoteSocketData>> {
    if gathered.complete {
        return Ok(gathered.items);
    }
    let error = failed.unwrap_or(AdapterError::Timeout {
        received: gathered.received,
        expected: gathered.expected,
    });
    Err(Partial {
        items: gathered.items,
        error,
    })
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
        let kind = RequestKind::BroadcastWithAck {
            packet: packet(&self.ns, msg),
            opts,
        };
        self.publish_request(Some(id), kind)
    }

    fn count_servers(self: Arc<Self>) -> BoxFuture<'static, Result<usize, AdapterError>> {
        Box::pin(async move { Ok(self.others().await? + 1) })
    }
}

fn handler(inner: &Arc<Inner>, on: fn(&Arc<Inner>, &str, Bytes)) -> Handler {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    Arc::new(move |channel, payload| {
        if let Some(inner) = weak.upgrade() {
            on(&inner, channel, payload);
        }
    })
}

impl Adapter for ClassicAdapter {
    fn local(&self) -> &LocalAdapter {
        &self.inner.local
    }

    fn init(self: Arc<Self>) -> BoxFuture<'static, Result<(), AdapterError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let on_broadcast = handler(&inner, |inner, channel, payload| {
                inner.on_broadcast(channel, &payload)
            });
            let on_request = handler(&inner, |inner, channel, payload| {
                if channel == inner.channels.request {
                    inner.on_request(&payload);
                } else {
                    inner.on_response(&payload);
                }
            });
            let driver = &inner.driver;
            driver
                .subscribe_prefix(inner.channels.broadcast.clone(), on_broadcast)
                .await?;
            let channels = vec![
                inner.channels.request.clone(),
                inner.channels.response.clone(),
                inner.specific_response.clone(),
            ];
            driver.subscribe(channels, on_request).await
        })
    }

    fn close(&self) -> BoxFuture<'static, Result<(), AdapterError>> {
        let inner = &self.inner;
        inner.driver.unsubscribe(vec![
            inner.channels.broadcast.clone(),
            inner.channels.request.clone(),
            inner.channels.response.clone(),
            inner.specific_response.clone(),
        ])
    }

    fn server_count(&self) -> BoxFuture<'static, Result<usize, AdapterError>> {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(inner.others().await? + 1) })
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
        Box::pin(async move {
            if local {
                return Ok(found);
            }
            let others = match inner.others().await {
                Ok(others) => others,
                Err(error) => {
                    return Err(Partial {
                        items: found,
                        error,
                    })
                }
            };
            if others == 0 {
                return Ok(found);
            }
            let id = request_id();
            let rx = inner.fetches.open(id.clone(), Expect::Count(others), found);
            let sent = inner.publish_request(Some(id.clone()), RequestKind::Fetch { opts: wire });
            let timeout = if sent.is_ok() {
                inner.requests_timeout
            } else {
                Duration::ZERO
            };
            let gathered = inner.fetches.wait(&id, rx, timeout).await;
            gathered_sockets(gathered, sent.err())
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.inner.local.add_sockets(opts, rooms);
        if opts.local {
            return Ok(());
        }
        let target = Target::Select(wire_options(opts, None));
        let rooms = rooms.to_vec();
        self.inner
            .publish_request(None, RequestKind::Join { target, rooms })
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.inner.local.del_sockets(opts, rooms);
        if opts.local {
            return Ok(());
        }
        let target = Target::Select(wire_options(opts, None));
        let rooms = rooms.to_vec();
        self.inner
            .publish_request(None, RequestKind::Leave { target, rooms })
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        let published = match opts.local {
            true => Ok(()),
            false => {
                let target = Target::Select(wire_options(opts, None));
                self.inner
                    .publish_request(None, RequestKind::Disconnect { target, close })
            }
        };
        self.inner.local.disconnect_sockets(opts, close);
        published
    }

    fn all_rooms(&self) -> BoxFuture<'static, Result<Vec<Room>, AdapterError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let mine = inner.local.rooms();
            let others = inner.others().await?;
            if others == 0 {
                return Ok(mine);
            }
            let id = request_id();
            let rx = inner.rooms.open(id.clone(), Expect::Count(others), mine);
            inner.publish_request(Some(id.clone()), RequestKind::AllRooms)?;
            let gathered = inner.rooms.wait(&id, rx, inner.requests_timeout).await;
            if !gathered.complete {
                return Err(AdapterError::Timeout {
                    received: gathered.received,
                    expected: gathered.expected,
                });
            }
            let mut rooms = gathered.items;
            rooms.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
            rooms.dedup();
            Ok(rooms)
        })
    }

    fn server_side_emit(&self, msg: Message) -> Result<(), AdapterError> {
        let kind = RequestKind::ServerSideEmit {
            event: msg.event,
            args: msg.args,
        };
        self.inner.publish_request(None, kind)
    }

    fn server_side_emit_with_ack(&self, msg: Message) -> BoxFuture<'static, ServerAcks> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let others = match inner.others().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::debug!(ns = %inner.ns, error = %e, "server-side emit: no server count");
                    return ServerAcks {
                        timed_out: true,
                        ..ServerAcks::default()
                    };
                }
            };
            if others == 0 {
                return ServerAcks::default();
            }
            let id = request_id();
            let rx = inner
                .server_acks
                .open(id.clone(), Expect::Count(others), Vec::new());
            let kind = RequestKind::ServerSideEmit {
                event: msg.event,
                args: msg.args,
            };
            let sent = inner.publish_request(Some(id.clone()), kind);
            let timeout = match sent {
                Ok(()) => inner.requests_timeout,
                Err(_) => Duration::ZERO,
            };
            let gathered = inner.server_acks.wait(&id, rx, timeout).await;
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
