//! [`ServerObserver`]: one optional listener on what happens in the server
//! (Engine.IO clients opening and closing, sockets connecting and leaving,
//! room changes, events in and out), for the admin UI. (`/metrics` counts
//! in atomics of its own, [`crate::metrics`]: it needs every delivery of a
//! broadcast and the bytes on the wire, which hooks here do not see.)
//!
//! The server holds at most one observer, set at build time
//! ([`crate::SocketIoBuilder::observer`]); with none, each hook site costs
//! one branch on an `Option`, no lock and no allocation. Hooks run on the
//! caller's thread with no server lock held, so an observer may emit or
//! look sockets up; it must not block.

use super::reason::DisconnectReason;
use super::rooms::Room;
use super::socket::{Socket, SocketRef};
use crate::engine::EngineConn;
use std::sync::Arc;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// A listener on server activity. Every method does nothing by default.
pub trait ServerObserver: Send + Sync + 'static {
    /// An Engine.IO client (a Socket.IO connection) opened.
    fn client_opened(&self, _conn: &Arc<EngineConn>) {}

    /// An Engine.IO client closed.
    fn client_closed(&self, _conn: &Arc<EngineConn>, _reason: CloseReason) {}

    /// A socket was accepted in its namespace (before its connect handler runs).
    fn socket_connected(&self, _socket: &SocketRef) {}

    /// A socket left its namespace; its rooms are already forgotten.
    fn socket_disconnected(&self, _socket: &Socket, _reason: DisconnectReason) {}

    /// Socket `sid` of namespace `ns` joined `room` on this node (its own
    /// room, which it is in from the start, is not reported).
    fn room_joined(&self, _ns: &Str, _room: &Room, _sid: &Str) {}

    /// Socket `sid` of namespace `ns` left `room` on this node.
    fn room_left(&self, _ns: &Str, _room: &Room, _sid: &Str) {}

    /// A socket received an event from its client.
    fn event_received(&self, _socket: &Socket, _event: &Str, _args: &Args) {}

    /// The server emitted an event to one socket (`Socket::emit*`; a
    /// broadcast is not reported per recipient).
    fn event_sent(&self, _socket: &Socket, _event: &str, _args: &Args) {}
}

/// The observer a server holds, if any.
pub(crate) type Observer = Option<Arc<dyn ServerObserver>>;

/// Several observers as one, called in order.
pub(crate) struct Fanout(pub(crate) Vec<Arc<dyn ServerObserver>>);

impl ServerObserver for Fanout {
    fn client_opened(&self, conn: &Arc<EngineConn>) {
        self.0.iter().for_each(|o| o.client_opened(conn));
    }
    fn client_closed(&self, conn: &Arc<EngineConn>, reason: CloseReason) {
        self.0.iter().for_each(|o| o.client_closed(conn, reason));
    }
    fn socket_connected(&self, socket: &SocketRef) {
        self.0.iter().for_each(|o| o.socket_connected(socket));
    }
    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        self.0
            .iter()
            .for_each(|o| o.socket_disconnected(socket, reason));
    }
    fn room_joined(&self, ns: &Str, room: &Room, sid: &Str) {
        self.0.iter().for_each(|o| o.room_joined(ns, room, sid));
    }
    fn room_left(&self, ns: &Str, room: &Room, sid: &Str) {
        self.0.iter().for_each(|o| o.room_left(ns, room, sid));
    }
    fn event_received(&self, socket: &Socket, event: &Str, args: &Args) {
        self.0
            .iter()
            .for_each(|o| o.event_received(socket, event, args));
    }
    fn event_sent(&self, socket: &Socket, event: &str, args: &Args) {
        self.0
            .iter()
            .for_each(|o| o.event_sent(socket, event, args));
    }
}

/// One observer for a list: none, the only one, or a [`Fanout`].
pub(crate) fn combine(mut list: Vec<Arc<dyn ServerObserver>>) -> Observer {
    match list.len() {
        0 => None,
        1 => list.pop(),
        _ => Some(Arc::new(Fanout(list))),
    }
}
