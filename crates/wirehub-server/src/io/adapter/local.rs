//! [`LocalAdapter`]: this node's room index for one namespace, keyed by
//! socket id, and the local half of every adapter operation.
//!
//! Room and socket maps are split into shards, each under its own short
//! read/write lock, never held while delivering. A socket that joined no
//! room but its own is not stored at all: the room named after a socket id
//! and "every socket" are answered by the namespace ([`LocalEmitter`]),
//! which spares every idle connection an entry here.

use super::acks::{AckEvent, AckSink};
use super::{BroadcastOptions, LocalEmitter, Message, OffsetReceipt, Published, RemoteSocketData};
use crate::conn::Delivery;
use crate::io::rooms::Room;
use crate::sync::{read, write};
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock, RwLock};
use wirehub_proto::Str;

/// How an offset is written as the replay token appended to Socket.IO
/// events, and read back from a reconnecting client (decimal unless the
/// adapter says otherwise, e.g. Redis stream ids).
pub trait OffsetFormat: Send + Sync + 'static {
    /// The token of `offset`.
    fn token(&self, offset: u64) -> Str;
    /// The offset of `token`, if it is one.
    fn parse(&self, token: &str) -> Option<u64>;
}

const SHARDS: usize = 16;

/// Room → its members (socket-id rooms are not stored).
type RoomShard = RwLock<HashMap<Room, HashSet<Str>>>;
/// Socket → the rooms it joined besides its own.
type SocketShard = RwLock<HashMap<Str, Vec<Room>>>;

/// Told when a room gets its first member here (`true`) or loses its last
/// (`false`); called outside the index's locks.
pub type RoomWatcher = Arc<dyn Fn(&Room, bool) + Send + Sync>;

/// This node's rooms of one namespace, and the local half of each operation.
pub struct LocalAdapter {
    emitter: Arc<dyn LocalEmitter>,
    watcher: Option<RoomWatcher>,
    hasher: RandomState,
    rooms: Box<[RoomShard]>,
    sockets: Box<[SocketShard]>,
    /// Sockets that left the room named after themselves (rare).
    left_own: RwLock<HashSet<Str>>,
    offset_format: OnceLock<Arc<dyn OffsetFormat>>,
}

impl std::fmt::Debug for LocalAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAdapter")
            .field("ns", self.emitter.ns())
            .finish()
    }
}

impl LocalAdapter {
    /// An empty index acting on sockets through `emitter`.
    pub fn new(emitter: Arc<dyn LocalEmitter>) -> Self {
        Self::build(emitter, None)
    }

    /// An empty index that tells `watcher` when rooms appear and disappear
    /// (socket-id rooms excepted), e.g. to subscribe to their channels.
    pub fn with_room_watcher(emitter: Arc<dyn LocalEmitter>, watcher: RoomWatcher) -> Self {
        Self::build(emitter, Some(watcher))
    }

    fn build(emitter: Arc<dyn LocalEmitter>, watcher: Option<RoomWatcher>) -> Self {
        LocalAdapter {
            emitter,
            watcher,
            hasher: RandomState::new(),
            rooms: (0..SHARDS).map(|_| RwLock::default()).collect(),
            sockets: (0..SHARDS).map(|_| RwLock::default()).collect(),
            left_own: RwLock::default(),
            offset_format: OnceLock::new(),
        }
    }

    /// Sets how offsets are written as replay tokens (once; e.g. as Redis
    /// stream ids). Returns false if it was already set.
    pub fn set_offset_format(&self, format: Arc<dyn OffsetFormat>) -> bool {
        self.offset_format.set(format).is_ok()
    }

    /// The replay token of `offset`.
    pub fn offset_token(&self, offset: u64) -> Str {
        match self.offset_format.get() {
            Some(format) => format.token(offset),
            None => Str::from(offset.to_string()),
        }
    }

    /// The offset a replay token stands for.
    pub fn parse_offset(&self, token: &str) -> Option<u64> {
        match self.offset_format.get() {
            Some(format) => format.parse(token),
            None => token.parse().ok(),
        }
    }

    /// Whether a broadcast needs an offset: it is recorded in room history
    /// (`recorded` non-empty), or it can be replayed by connection-state
    /// recovery (recovery on, not volatile).
    pub fn needs_offset(&self, opts: &BroadcastOptions, recorded: &[Room]) -> bool {
        !recorded.is_empty() || (!opts.volatile && self.emitter.recovery().is_some())
    }

    /// The namespace's side.
    pub fn emitter(&self) -> &Arc<dyn LocalEmitter> {
        &self.emitter
    }

    fn shard(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    /// Adds a socket to rooms (its own room needs no entry).
    pub fn add_all(&self, sid: &Str, rooms: &[Room]) {
        if rooms.contains(sid) && !read(&self.left_own).is_empty() {
            write(&self.left_own).remove(sid);
        }
        let rooms: Vec<&Room> = rooms.iter().filter(|r| *r != sid).collect();
        if rooms.is_empty() {
            return;
        }
        let observer = self.emitter.observer();
        for room in rooms.iter().copied() {
            let (created, joined) = {
                let mut shard = write(&self.rooms[self.shard(room)]);
                match shard.get_mut(room) {
                    Some(members) => (false, members.insert(sid.clone())),
                    None => {
                        shard.insert(room.clone(), HashSet::from([sid.clone()]));
                        (true, true)
                    }
                }
            };
            if let (true, Some(watch)) = (created, &self.watcher) {
                watch(room, true);
            }
            if let (true, Some(observer)) = (joined, observer) {
                observer.room_joined(self.emitter.ns(), room, sid);
            }
        }
        let mut shard = write(&self.sockets[self.shard(sid)]);
        let joined = shard.entry(sid.clone()).or_default();
        for room in rooms {
            if !joined.contains(room) {
                joined.push(room.clone());
            }
        }
    }

    /// Removes a socket from one room (its own included: `to(id)` then no
    /// longer reaches it).
    pub fn del(&self, sid: &str, room: &str) {
        if sid == room {
            let sid = Str::from(sid.to_owned());
            let left = write(&self.left_own).insert(sid.clone());
            if let (true, Some(observer)) = (left, self.emitter.observer()) {
                observer.room_left(self.emitter.ns(), &sid, &sid);
            }
            return;
        }
        self.leave_room(sid, room);
        let mut shard = write(&self.sockets[self.shard(sid)]);
        if let Some(joined) = shard.get_mut(sid) {
            joined.retain(|r| &**r != room);
            if joined.is_empty() {
                shard.remove(sid);
            }
        }
    }

    /// Removes a socket from every room, its own included. It stays in the
    /// namespace: broadcasts to the whole namespace still reach it.
    pub fn del_all(&self, sid: &str) {
        self.forget(sid);
        let sid = Str::from(sid.to_owned());
        let left = write(&self.left_own).insert(sid.clone());
        if let (true, Some(observer)) = (left, self.emitter.observer()) {
            observer.room_left(self.emitter.ns(), &sid, &sid);
        }
    }

    /// Forgets a socket that left the namespace.
    pub fn forget(&self, sid: &str) {
        let joined = write(&self.sockets[self.shard(sid)]).remove(sid);
        for room in joined.unwrap_or_default() {
            self.leave_room(sid, &room);
        }
        if !read(&self.left_own).is_empty() {
            write(&self.left_own).remove(sid);
        }
    }

    /// Whether `room` is the room of a connected socket still in it.
    fn is_own_room(&self, room: &str) -> bool {
        self.emitter.has_socket(room) && !read(&self.left_own).contains(room)
    }

    fn leave_room(&self, sid: &str, room: &str) {
        let (left, emptied) = {
            let mut shard = write(&self.rooms[self.shard(room)]);
            match shard.get_mut(room) {
                Some(members) => {
                    let left = members.remove(sid);
                    (
                        left,
                        members.is_empty() && shard.remove_entry(room).is_some(),
                    )
                }
                None => (false, false),
            }
        };
        if let (true, Some(watch)) = (emptied, &self.watcher) {
            watch(&Str::from(room.to_owned()), false);
        }
        if let (true, Some(observer)) = (left, self.emitter.observer()) {
            let (room, sid) = (Str::from(room.to_owned()), Str::from(sid.to_owned()));
            observer.room_left(self.emitter.ns(), &room, &sid);
        }
    }

    /// The rooms a socket is in, its own first (empty if it is not connected).
    pub fn socket_rooms(&self, sid: &str) -> Vec<Room> {
        let shard = read(&self.sockets[self.shard(sid)]);
        let joined = shard.get(sid).map_or(&[][..], |j| j.as_slice());
        let mut all = Vec::with_capacity(joined.len() + 1);
        if self.is_own_room(sid) {
            all.push(Str::from(sid.to_owned()));
        }
        all.extend(joined.iter().cloned());
        all
    }

    /// Every non-empty room (socket-id rooms excluded).
    pub fn rooms(&self) -> Vec<Room> {
        let mut all = Vec::new();
        for shard in self.rooms.iter() {
            all.extend(read(shard).keys().cloned());
        }
        all
    }

    fn room_members(&self, room: &Room, out: &mut Vec<Str>) {
        if let Some(members) = read(&self.rooms[self.shard(room)]).get(room) {
            out.extend(members.iter().cloned());
            return;
        }
        if self.is_own_room(room) {
            out.push(room.clone());
        }
    }

    /// The ids of this node's sockets `opts` selects.
    pub fn sids(&self, opts: &BroadcastOptions) -> Vec<Str> {
        let mut out = Vec::new();
        if opts.rooms.is_empty() {
            out = self.emitter.all_sids();
        } else {
            for room in &opts.rooms {
                self.room_members(room, &mut out);
            }
            if opts.rooms.len() > 1 {
                let mut seen = HashSet::with_capacity(out.len());
                out.retain(|s| seen.insert(s.clone()));
            }
        }
        if !opts.except.is_empty() {
            let mut excluded = Vec::new();
            for room in &opts.except {
                self.room_members(room, &mut excluded);
            }
            let excluded: HashSet<Str> = excluded.into_iter().collect();
            out.retain(|s| !excluded.contains(s));
        }
        out
    }

    /// Delivers a broadcast to this node's sockets, recording it in room
    /// history under the next offset of this node's own sequence.
    pub fn broadcast(&self, msg: Message, opts: &BroadcastOptions) -> Published {
        let recorded = self.emitter.recorded_rooms(opts);
        let offset = self
            .needs_offset(opts, &recorded)
            .then(|| self.emitter.next_offset());
        let recipients = self.broadcast_recorded(msg, opts, &recorded, offset);
        Published {
            recipients,
            offset: OffsetReceipt::Ready(offset),
        }
    }

    /// Delivers a broadcast to this node's sockets and records it in the
    /// history of `recorded` under `offset` (when given) and, when recovery
    /// is on and it is not volatile, in the replay log (its Socket.IO
    /// recipients then get the offset's token as the last argument);
    /// returns how many sockets took it. Cluster adapters call it with the
    /// cluster's offset, and with a message from another node.
    pub fn broadcast_recorded(
        &self,
        msg: Message,
        opts: &BroadcastOptions,
        recorded: &[Room],
        offset: Option<u64>,
    ) -> usize {
        let replay = match (offset, opts.volatile) {
            (Some(offset), false) => self.emitter.recovery().map(|store| (store, offset)),
            _ => None,
        };
        let delivery = Arc::new(
            Delivery::new(crate::conn::DeliveryParts {
                ns: self.emitter.ns().clone(),
                event: msg.event,
                args: msg.args,
                ack_id: None,
                room: opts.single_room().cloned(),
                offset,
                replay: replay
                    .as_ref()
                    .map(|(_, offset)| self.offset_token(*offset)),
            })
            .with_compress(opts.compress),
        );
        if let Some(offset) = offset {
            if !recorded.is_empty() {
                self.emitter.record(recorded, offset, &delivery);
            }
        }
        let sids = match replay {
            Some((store, offset)) => {
                store.keep(offset, &opts.rooms, &opts.except, &delivery, || {
                    self.sids(opts)
                })
            }
            None => self.sids(opts),
        };
        self.emitter.deliver(&sids, &delivery, opts.volatile)
    }

    /// Delivers a broadcast asking every recipient for an answer: sends this
    /// node's recipient count, then each answer, to `sink`.
    pub fn broadcast_with_ack(&self, msg: Message, opts: &BroadcastOptions, sink: &AckSink) {
        let delivery = Arc::new(Delivery::new(crate::conn::DeliveryParts {
            ns: self.emitter.ns().clone(),
            event: msg.event,
            args: msg.args,
            ack_id: Some(self.emitter.next_ack_id()),
            room: opts.single_room().cloned(),
            offset: None,
            replay: None,
        }));
        let sids = self.sids(opts);
        let sent = self
            .emitter
            .deliver_with_ack(&sids, &delivery, opts.volatile, sink);
        sink.send(AckEvent::Count(sent));
    }

    /// Describes this node's sockets `opts` selects.
    pub fn fetch_sockets(&self, opts: &BroadcastOptions) -> Vec<RemoteSocketData> {
        self.emitter.describe(&self.sids(opts))
    }

    /// Makes this node's sockets `opts` selects join rooms.
    pub fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for sid in self.sids(opts) {
            self.add_all(&sid, rooms);
        }
    }

    /// Makes this node's sockets `opts` selects leave rooms.
    pub fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for sid in self.sids(opts) {
            for room in rooms {
                self.del(&sid, room);
            }
        }
    }

    /// Disconnects this node's sockets `opts` selects.
    pub fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.emitter.disconnect(&self.sids(opts), close);
    }
}
