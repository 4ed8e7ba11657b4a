//! [`RemoteSocket`]: a socket found by `fetch_sockets`, on this node or
//! another, described by data and acted on through the adapter (Node's
//! `RemoteSocket`).

use super::adapter::{AdapterError, RemoteSocketData};
use super::broadcast::BroadcastOperator;
use super::error::EmitError;
use super::namespace::Namespace;
use super::rooms::{IntoRooms, Room};
use serde::Serialize;
use std::sync::Arc;
use wirehub_proto::Str;

/// A socket of the namespace, on any node.
#[derive(Clone)]
pub struct RemoteSocket {
    ns: Arc<Namespace>,
    data: RemoteSocketData,
}

impl std::fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("id", &self.data.id)
            .field("rooms", &self.data.rooms)
            .finish()
    }
}

impl RemoteSocket {
    pub(crate) fn new(ns: Arc<Namespace>, data: RemoteSocketData) -> Self {
        RemoteSocket { ns, data }
    }

    /// The socket id.
    pub fn id(&self) -> &Str {
        &self.data.id
    }

    /// The rooms it was in when fetched, its own id included.
    pub fn rooms(&self) -> &[Room] {
        &self.data.rooms
    }

    /// Its handshake, as Node describes it (`headers`, `address`, `query`,
    /// `auth`, `issued`...).
    pub fn handshake(&self) -> &serde_json::Value {
        &self.data.handshake
    }

    /// Its serialisable data when fetched.
    pub fn data(&self) -> &serde_json::Value {
        &self.data.data
    }

    /// The description it was fetched as.
    pub fn into_data(self) -> RemoteSocketData {
        self.data
    }

    fn only_this(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).to(self.data.id.clone())
    }

    /// Emits `event` with one argument to this socket, wherever it is.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.only_this().emit(event, data).map(|_| ())
    }

    /// Makes it join rooms, wherever it is.
    pub fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.only_this().sockets_join(rooms)
    }

    /// Makes it leave rooms, wherever it is.
    pub fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.only_this().sockets_leave(rooms)
    }

    /// Disconnects it; `close` closes its whole connection.
    pub fn disconnect(&self, close: bool) -> Result<(), AdapterError> {
        self.only_this().disconnect_sockets(close)
    }
}
