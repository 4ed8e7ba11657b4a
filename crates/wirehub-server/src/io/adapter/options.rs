//! [`BroadcastOptions`]: who a broadcast or a bulk operation reaches, and how.

use crate::io::rooms::Room;
use std::time::Duration;

/// Who a broadcast (or a bulk operation) reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Only sockets in at least one of these rooms; empty means every socket.
    pub rooms: Vec<Room>,
    /// Never sockets in any of these rooms.
    pub except: Vec<Room>,
    /// Drop instead of queueing when a recipient's queue is full.
    pub volatile: bool,
    /// This node only (no cluster fan-out).
    pub local: bool,
    /// Whether WebSockets with permessage-deflate may compress the frames
    /// (default true; carried to other nodes).
    pub compress: bool,
    /// How long to wait for acknowledgements.
    pub timeout: Option<Duration>,
}

impl Default for BroadcastOptions {
    fn default() -> Self {
        BroadcastOptions {
            rooms: Vec::new(),
            except: Vec::new(),
            volatile: false,
            local: false,
            compress: true,
            timeout: None,
        }
    }
}

impl BroadcastOptions {
    /// Options selecting the sockets in `rooms`.
    pub fn to(rooms: Vec<Room>) -> Self {
        BroadcastOptions {
            rooms,
            ..BroadcastOptions::default()
        }
    }

    /// The room a broadcast targets, when exactly one (told to plain clients).
    pub fn single_room(&self) -> Option<&Room> {
        match self.rooms.as_slice() {
            [room] => Some(room),
            _ => None,
        }
    }
}
