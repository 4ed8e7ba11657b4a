//! Broadcast operators: pick recipients (`to`, `except`, `local`), set
//! delivery flags (`volatile`, `compress`, `timeout`), then emit once —
//! the packet is encoded a single time and its frames shared by every
//! recipient — or act on the selected sockets in bulk. Every operation goes
//! through the namespace's adapter, so with a cluster adapter it reaches
//! the sockets of every node (unless [`BroadcastOperator::local`]).

use super::adapter::{
    AckResponses, AdapterError, BroadcastOptions, Message, Partial, Published, RemoteSocketData,
};
use super::error::EmitError;
use super::namespace::Namespace;
use super::remote::RemoteSocket;
use super::rooms::IntoRooms;
use super::socket::SocketRef;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// Selects recipients and emits to them.
#[derive(Clone)]
pub struct BroadcastOperator {
    ns: Arc<Namespace>,
    opts: BroadcastOptions,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", self.ns.name())
            .field("opts", &self.opts)
            .finish()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
        }
    }

    /// Only sockets in these rooms (added to any rooms already selected).
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.rooms.extend(rooms.into_rooms());
        self
    }

    /// Same as [`Self::to`].
    pub fn within(self, rooms: impl IntoRooms) -> Self {
        self.to(rooms)
    }

    /// Never sockets in these rooms.
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.except.extend(rooms.into_rooms());
        self
    }

    /// This node only: with a cluster adapter, nothing is published to the
    /// other nodes (on a single node it changes nothing).
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// Drop the message for recipients whose queue is full.
    pub fn volatile(mut self) -> Self {
        self.opts.volatile = true;
        self
    }

    /// Whether the message may be compressed (default true): with
    /// `false`, WebSockets that negotiated permessage-deflate send it as it
    /// is, whatever its size. Carried to other nodes.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.compress = compress;
        self
    }

    /// How long [`Self::emit_with_ack`] waits for answers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(timeout);
        self
    }

    /// The options selected so far.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    /// Emits `event` with one argument; returns the number of recipients
    /// on this node.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<usize, EmitError> {
        self.emit_raw(event, Args::one(data)?)
    }

    /// Emits `event` with several arguments (`data` serialises to a list).
    pub fn emit_args<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<usize, EmitError> {
        self.emit_raw(event, Args::many(data)?)
    }

    /// Emits `event` with arguments as they are; returns the number of
    /// recipients on this node.
    pub fn emit_raw(&self, event: &str, args: Args) -> Result<usize, EmitError> {
        Ok(self.publish(event, args)?.recipients)
    }

    /// Like [`Self::emit_raw`], and also tells the room-history offset the
    /// message was recorded under (room broadcasts that are not volatile,
    /// when history is enabled): at once on a single node, once the cluster
    /// sequence gave it with a cluster adapter.
    pub fn publish(&self, event: &str, args: Args) -> Result<Published, EmitError> {
        let msg = Message {
            event: Str::from(event.to_owned()),
            args,
        };
        match self.ns.adapter().broadcast(msg, &self.opts) {
            Ok(published) => Ok(published),
            Err(e) => {
                self.ns
                    .metrics()
                    .server()
                    .error(crate::metrics::ErrorKind::Adapter);
                Err(EmitError::Adapter(e))
            }
        }
    }

    /// Emits `event` with one argument and collects every recipient's
    /// answer, on every node, until all answered or the timeout (default:
    /// the ack timeout) passed.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<AckResponses, EmitError> {
        Ok(self.emit_raw_with_ack(event, Args::one(data)?).await)
    }

    /// Emits `event` with arguments as they are and collects the answers.
    pub async fn emit_raw_with_ack(&self, event: &str, args: Args) -> AckResponses {
        let msg = Message {
            event: Str::from(event.to_owned()),
            args,
        };
        let timeout = self.opts.timeout.unwrap_or(self.ns.config().ack_timeout);
        let mut opts = self.opts.clone();
        opts.timeout = Some(timeout);
        self.ns
            .adapter()
            .broadcast_with_ack(msg, &opts, timeout)
            .collect()
            .await
    }

    /// The selected sockets connected to this node.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.ns
            .adapter()
            .local()
            .sids(&self.opts)
            .iter()
            .filter_map(|sid| self.ns.get_socket(sid))
            .collect()
    }

    /// The selected sockets on every node (Node's `fetchSockets`). If some
    /// node did not answer within the adapter's request timeout (a node
    /// that died mid-request, an engine outage), the error carries the
    /// sockets that were found (`.unwrap_or_else(|p| p.items)` takes them).
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, Partial<RemoteSocket>> {
        let wrap = |found: Vec<RemoteSocketData>| -> Vec<RemoteSocket> {
            found
                .into_iter()
                .map(|data| RemoteSocket::new(self.ns.clone(), data))
                .collect()
        };
        match self.ns.adapter().fetch_sockets(&self.opts).await {
            Ok(found) => Ok(wrap(found)),
            Err(partial) => Err(Partial {
                items: wrap(partial.items),
                error: partial.error,
            }),
        }
    }

    /// Makes the selected sockets, on every node, join rooms (Node's
    /// `socketsJoin`). The sockets of this node have joined when it returns.
    pub fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.ns
            .adapter()
            .add_sockets(&self.opts, &rooms.into_rooms())
    }

    /// Makes the selected sockets, on every node, leave rooms (Node's
    /// `socketsLeave`).
    pub fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.ns
            .adapter()
            .del_sockets(&self.opts, &rooms.into_rooms())
    }

    /// Disconnects the selected sockets, on every node; `close` closes
    /// their connections (Node's `disconnectSockets`).
    pub fn disconnect_sockets(&self, close: bool) -> Result<(), AdapterError> {
        self.ns.adapter().disconnect_sockets(&self.opts, close)
    }
}
