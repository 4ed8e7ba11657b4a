//! [`LocalEmitter`]: what the local adapter needs from its namespace, so
//! that it can hold socket ids instead of socket handles.

use super::acks::{AckSink, ServerAckReply};
use super::{BroadcastOptions, Message, RemoteSocketData};
use crate::conn::Delivery;
use crate::io::recovery::RecoveryStore;
use crate::io::rooms::Room;
use std::sync::Arc;
use wirehub_proto::Str;

/// The namespace's side of the local adapter: resolves socket ids to
/// sockets and acts on them, and keeps the namespace's room history.
///
/// Implemented by the server for each namespace; an adapter receives it in
/// its [`super::AdapterCx`].
pub trait LocalEmitter: Send + Sync + 'static {
    /// The namespace name.
    fn ns(&self) -> &Str;

    /// Who is told of room joins and leaves (none by default).
    fn observer(&self) -> Option<&dyn crate::io::ServerObserver> {
        None
    }

    /// Whether `sid` is a connected socket of the namespace (and so the
    /// name of a room only that socket is in).
    fn has_socket(&self, sid: &str) -> bool;

    /// The id of every connected socket.
    fn all_sids(&self) -> Vec<Str>;

    /// Queues a shared broadcast on each socket (in its wire format);
    /// returns how many sockets took it.
    fn deliver(&self, sids: &[Str], delivery: &Arc<Delivery>, volatile: bool) -> usize;

    /// Like [`Self::deliver`] for a delivery that asks for answers: each
    /// recipient's answer to the delivery's ack id goes to `sink`.
    fn deliver_with_ack(
        &self,
        sids: &[Str],
        delivery: &Arc<Delivery>,
        volatile: bool,
        sink: &AckSink,
    ) -> usize;

    /// A fresh ack id, unique in the namespace.
    fn next_ack_id(&self) -> u64;

    /// The rooms of `opts` whose history records this broadcast: none when
    /// history is off or the broadcast is volatile, and never socket-id rooms.
    fn recorded_rooms(&self, opts: &BroadcastOptions) -> Vec<Room>;

    /// The next offset of this node's own sequence (single node).
    fn next_offset(&self) -> u64;

    /// The highest offset this node's history has handed out or recorded
    /// (0 before the first): a cluster sequence must draw above it.
    fn latest_offset(&self) -> u64;

    /// Records a broadcast in the history of `rooms` under `offset`.
    fn record(&self, rooms: &[Room], offset: u64, delivery: &Arc<Delivery>);

    /// The namespace's connection-state recovery store, when recovery is
    /// on: replayable broadcasts are logged there, under their offset.
    fn recovery(&self) -> Option<Arc<RecoveryStore>>;

    /// Describes sockets for another node (`fetchSockets`).
    fn describe(&self, sids: &[Str]) -> Vec<RemoteSocketData>;

    /// Disconnects sockets; `close` closes their whole connection.
    fn disconnect(&self, sids: &[Str], close: bool);

    /// Runs the namespace's server-side handler of `msg.event` (an event
    /// another node emitted with `serverSideEmit`); `reply`, when the
    /// emitter asked for an answer, sends it back.
    fn server_event(&self, msg: Message, reply: Option<ServerAckReply>);
}
