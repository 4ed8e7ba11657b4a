//! The adapter seam: room membership and broadcast delivery.
//!
//! The in-memory [`MemoryAdapter`] is the default. A cluster adapter (Redis,
//! NATS) wraps one for local delivery and overrides the fan-out methods to
//! also publish to other nodes; handlers never see the difference.

use super::delivery::Delivery;
use super::rooms::Room;
use super::socket::SocketRef;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wirehub_proto::Str;

/// Who a broadcast (or a bulk operation) reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Only sockets in at least one of these rooms; empty means every socket.
    pub rooms: Vec<Room>,
    /// Never sockets in any of these rooms.
    pub except: Vec<Room>,
    /// Drop instead of queueing when a recipient's queue is full.
    pub volatile: bool,
    /// This node only (no cluster fan-out).
    pub local: bool,
    /// Whether compression may be used (kept for API parity; frames are not compressed).
    pub compress: bool,
    /// How long to wait for acknowledgements.
    pub timeout: Option<Duration>,
}

/// Builds the adapter of each namespace.
pub type AdapterFactory = Arc<dyn Fn(&str) -> Arc<dyn Adapter> + Send + Sync>;

/// Room membership and delivery for one namespace.
///
/// Methods are synchronous and never block on I/O: delivery only queues
/// frames on each recipient's bounded queue.
pub trait Adapter: Send + Sync + 'static {
    /// Registers a newly connected socket, in the room named after its id
    /// (and no other).
    fn add_socket(&self, socket: &SocketRef) {
        self.add_all(socket, &[socket.id().clone()]);
    }
    /// Adds a socket to rooms.
    fn add_all(&self, socket: &SocketRef, rooms: &[Room]);
    /// Removes a socket from one room.
    fn del(&self, sid: &str, room: &str);
    /// Removes a socket from every room (it disconnected).
    fn del_all(&self, sid: &str);
    /// The rooms a socket is in.
    fn socket_rooms(&self, sid: &str) -> Vec<Room>;
    /// Every non-empty room (the memory adapter does not list the rooms
    /// named after socket ids).
    fn rooms(&self) -> Vec<Room>;
    /// The local sockets `opts` selects.
    fn sockets(&self, opts: &BroadcastOptions) -> Vec<SocketRef>;

    /// Delivers one event to every socket `opts` selects (each wire format
    /// encoded once, on first use); returns how many it was queued for.
    fn broadcast(&self, delivery: &Arc<Delivery>, opts: &BroadcastOptions) -> usize {
        let mut sent = 0;
        for socket in self.sockets(opts) {
            if socket.deliver(delivery, opts.volatile).is_ok() {
                sent += 1;
            }
        }
        sent
    }

    /// Adds the selected sockets to rooms.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for socket in self.sockets(opts) {
            self.add_all(&socket, rooms);
        }
    }

    /// Removes the selected sockets from rooms.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for socket in self.sockets(opts) {
            for room in rooms {
                self.del(socket.id(), room);
            }
        }
    }

    /// Disconnects the selected sockets; `close` closes their whole connection.
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        for socket in self.sockets(opts) {
            socket.disconnect_with(close);
        }
    }
}

const SHARDS: usize = 16;

type Members = HashMap<Str, SocketRef>;

/// A socket and the rooms it is in.
type Membership = (SocketRef, Vec<Room>);

/// The in-memory adapter: room and socket maps split into shards, each under
/// its own short read/write lock (never held while delivering). The room
/// named after a socket's id is not stored: the socket map answers for it,
/// which spares every connection a one-member room.
pub struct MemoryAdapter {
    hasher: RandomState,
    rooms: Box<[RwLock<HashMap<Room, Members>>]>,
    sockets: Box<[RwLock<HashMap<Str, Membership>>]>,
}

impl Default for MemoryAdapter {
    fn default() -> Self {
        MemoryAdapter {
            hasher: RandomState::new(),
            rooms: (0..SHARDS).map(|_| RwLock::default()).collect(),
            sockets: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }
}

impl std::fmt::Debug for MemoryAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryAdapter")
    }
}

impl MemoryAdapter {
    /// A factory giving each namespace its own in-memory adapter.
    pub fn factory() -> AdapterFactory {
        Arc::new(|_ns| Arc::new(MemoryAdapter::default()))
    }

    fn shard(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn room_members(&self, room: &str, out: &mut Vec<SocketRef>) {
        if let Ok(shard) = self.rooms[self.shard(room)].read() {
            if let Some(members) = shard.get(room) {
                out.extend(members.values().cloned());
                return;
            }
        }
        // A socket's own room.
        if let Ok(shard) = self.sockets[self.shard(room)].read() {
            if let Some((socket, _)) = shard.get(room) {
                out.push(socket.clone());
            }
        }
    }

    fn excluded(&self, except: &[Room]) -> HashSet<Str> {
        let mut sockets = Vec::new();
        for room in except {
            self.room_members(room, &mut sockets);
        }
        sockets.iter().map(|s| s.id().clone()).collect()
    }
}

impl Adapter for MemoryAdapter {
    fn add_socket(&self, socket: &SocketRef) {
        if let Ok(mut shard) = self.sockets[self.shard(socket.id())].write() {
            shard
                .entry(socket.id().clone())
                .or_insert_with(|| (socket.clone(), Vec::new()));
        }
    }

    fn add_all(&self, socket: &SocketRef, rooms: &[Room]) {
        let sid = socket.id();
        let rooms: Vec<&Room> = rooms.iter().filter(|r| *r != sid).collect();
        for room in rooms.iter().copied() {
            if let Ok(mut shard) = self.rooms[self.shard(room)].write() {
                shard
                    .entry(room.clone())
                    .or_default()
                    .insert(sid.clone(), socket.clone());
            }
        }
        if let Ok(mut shard) = self.sockets[self.shard(sid)].write() {
            let entry = shard
                .entry(sid.clone())
                .or_insert_with(|| (socket.clone(), Vec::new()));
            for room in rooms {
                if !entry.1.contains(room) {
                    entry.1.push((*room).clone());
                }
            }
        }
    }

    fn del(&self, sid: &str, room: &str) {
        if let Ok(mut shard) = self.rooms[self.shard(room)].write() {
            if let Some(members) = shard.get_mut(room) {
                members.remove(sid);
                if members.is_empty() {
                    shard.remove(room);
                }
            }
        }
        if let Ok(mut shard) = self.sockets[self.shard(sid)].write() {
            if let Some(entry) = shard.get_mut(sid) {
                entry.1.retain(|r| &**r != room);
            }
        }
    }

    fn del_all(&self, sid: &str) {
        let rooms = match self.sockets[self.shard(sid)].write() {
            Ok(mut shard) => shard
                .remove(sid)
                .map(|(_, rooms)| rooms)
                .unwrap_or_default(),
            Err(_) => return,
        };
        for room in rooms {
            if let Ok(mut shard) = self.rooms[self.shard(&room)].write() {
                if let Some(members) = shard.get_mut(&room) {
                    members.remove(sid);
                    if members.is_empty() {
                        shard.remove(&room);
                    }
                }
            }
        }
    }

    fn socket_rooms(&self, sid: &str) -> Vec<Room> {
        self.sockets[self.shard(sid)]
            .read()
            .ok()
            .and_then(|s| {
                s.get(sid).map(|(socket, rooms)| {
                    let mut all = Vec::with_capacity(rooms.len() + 1);
                    all.push(socket.id().clone());
                    all.extend(rooms.iter().cloned());
                    all
                })
            })
            .unwrap_or_default()
    }

    fn rooms(&self) -> Vec<Room> {
        let mut all = Vec::new();
        for shard in self.rooms.iter() {
            if let Ok(shard) = shard.read() {
                all.extend(shard.keys().cloned());
            }
        }
        all
    }

    fn sockets(&self, opts: &BroadcastOptions) -> Vec<SocketRef> {
        let mut out = Vec::new();
        if opts.rooms.is_empty() {
            for shard in self.sockets.iter() {
                if let Ok(shard) = shard.read() {
                    out.extend(shard.values().map(|(s, _)| s.clone()));
                }
            }
        } else {
            for room in &opts.rooms {
                self.room_members(room, &mut out);
            }
            if opts.rooms.len() > 1 {
                let mut seen = HashSet::with_capacity(out.len());
                out.retain(|s| seen.insert(s.id().clone()));
            }
        }
        if !opts.except.is_empty() {
            let excluded = self.excluded(&opts.except);
            out.retain(|s| !excluded.contains(s.id()));
        }
        out
    }
}
