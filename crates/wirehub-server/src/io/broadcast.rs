//! Broadcast operators: pick recipients (`to`, `except`, `local`), set
//! delivery flags (`volatile`, `compress`, `timeout`), then emit once —
//! the packet is encoded a single time and its frames shared by every
//! recipient — or act on the selected sockets in bulk.

use super::ack::{collect_many, AckResponses, AckSink};
use super::adapter::BroadcastOptions;
use super::delivery::Delivery;
use super::error::EmitError;
use super::namespace::Namespace;
use super::rooms::IntoRooms;
use super::socket::SocketRef;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
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
            opts: BroadcastOptions {
                compress: true,
                ..BroadcastOptions::default()
            },
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

    /// This node only.
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// Drop the message for recipients whose queue is full.
    pub fn volatile(mut self) -> Self {
        self.opts.volatile = true;
        self
    }

    /// Whether compression may be used.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.compress = compress;
        self
    }

    /// How long [`Self::emit_with_ack`] waits for answers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(timeout);
        self
    }

    /// Emits `event` with one argument; returns the number of recipients.
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

    /// Emits `event` with arguments as they are; returns the number of recipients.
    pub fn emit_raw(&self, event: &str, args: Args) -> Result<usize, EmitError> {
        Ok(self.publish(event, args).0)
    }

    /// Like [`Self::emit_raw`], and also returns the room-history offset the
    /// message was recorded under (room broadcasts that are not volatile,
    /// when history is enabled).
    pub fn publish(&self, event: &str, args: Args) -> (usize, Option<u64>) {
        let event = Str::from(event.to_owned());
        let delivery = self.ns.record(&self.opts, event, args);
        let sent = self.ns.adapter().broadcast(&delivery, &self.opts);
        (sent, delivery.offset())
    }

    /// Emits `event` with one argument and collects every recipient's answer
    /// until all answered or the timeout (default: the ack timeout) passed.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<AckResponses, EmitError> {
        Ok(self.emit_raw_with_ack(event, Args::one(data)?).await)
    }

    /// Emits `event` with arguments as they are and collects the answers.
    pub async fn emit_raw_with_ack(&self, event: &str, args: Args) -> AckResponses {
        let id = self.ns.next_ack_id();
        let delivery = Arc::new(Delivery::new(
            self.ns.name().clone(),
            Str::from(event.to_owned()),
            args,
            Some(id),
            single_room(&self.opts.rooms),
            None,
        ));
        let (tx, rx) = mpsc::unbounded_channel();
        let mut expected = 0;
        for socket in self.ns.adapter().sockets(&self.opts) {
            socket.register_ack(id, AckSink::Many(tx.clone()));
            if socket.deliver(&delivery, self.opts.volatile).is_ok() {
                expected += 1;
            } else {
                socket.forget_ack(id);
            }
        }
        drop(tx);
        let timeout = self.opts.timeout.unwrap_or(self.ns.config().ack_timeout);
        collect_many(rx, expected, timeout).await
    }

    /// The selected sockets.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.ns.adapter().sockets(&self.opts)
    }

    /// The selected sockets (Node's `fetchSockets`).
    pub async fn fetch_sockets(&self) -> Vec<SocketRef> {
        self.sockets()
    }

    /// Makes the selected sockets join rooms (Node's `socketsJoin`).
    pub fn sockets_join(&self, rooms: impl IntoRooms) {
        self.ns
            .adapter()
            .add_sockets(&self.opts, &rooms.into_rooms());
    }

    /// Makes the selected sockets leave rooms (Node's `socketsLeave`).
    pub fn sockets_leave(&self, rooms: impl IntoRooms) {
        self.ns
            .adapter()
            .del_sockets(&self.opts, &rooms.into_rooms());
    }

    /// Disconnects the selected sockets; `close` closes their connections
    /// (Node's `disconnectSockets`).
    pub fn disconnect_sockets(&self, close: bool) {
        self.ns.adapter().disconnect_sockets(&self.opts, close);
    }
}

/// The room a broadcast targets, when exactly one (told to plain clients).
pub(crate) fn single_room(rooms: &[super::rooms::Room]) -> Option<super::rooms::Room> {
    match rooms {
        [room] => Some(room.clone()),
        _ => None,
    }
}
