//! The adapter seam: room membership, broadcasts and bulk operations of one
//! namespace, on this node and, for a cluster adapter, on every node.
//!
//! - [`LocalAdapter`]: this node's room index, keyed by socket id. It acts on
//!   sockets only through the namespace's [`LocalEmitter`] (deliver, register
//!   acks, record history, describe and disconnect sockets), so it holds no
//!   socket handle and can be driven by a message from another node as well
//!   as by a local call.
//! - [`Adapter`]: what every namespace operation goes through. The default,
//!   [`MemoryAdapter`], is a local adapter and nothing else. A cluster adapter
//!   (Redis, NATS: see [`crate::cluster`]) applies each operation locally and
//!   publishes it to the other nodes.
//!
//! Publishing never waits on the network: like Node's adapters, a cluster
//! adapter queues what it publishes on its connection (fire and forget), so
//! [`Adapter::broadcast`], the bulk room operations and server-side emits are
//! synchronous and fail only when they cannot even be queued. What needs the
//! other nodes' answers ([`Adapter::fetch_sockets`], the server count,
//! server-side emits with acks, broadcast acks) is asynchronous and bounded
//! by a timeout.

mod acks;
mod emitter;
mod local;
mod options;
mod remote;

pub use acks::{AckAnswer, AckEvent, AckResponses, AckSink, AckStream, ServerAckReply, ServerAcks};
pub use emitter::LocalEmitter;
pub use local::{LocalAdapter, OffsetFormat, RoomWatcher};
pub use options::BroadcastOptions;
pub use remote::RemoteSocketData;

use super::recovery::{RestoredSession, SessionState};
use super::rooms::Room;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// Why a cluster operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The connection to the cluster's engine (Redis, NATS) is down or the
    /// message could not be queued; local sockets were still served.
    #[error("cluster engine unavailable: {0}")]
    Unavailable(String),
    /// Not every node answered in time; the answers that came are dropped
    /// (as Node's `fetchSockets` rejects on timeout).
    #[error("timeout reached: only {received} responses received out of {expected}")]
    Timeout {
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The adapter was closed.
    #[error("the adapter is closed")]
    Closed,
}

/// What a request that did not fully succeed still got (the answers of the
/// nodes that answered, this node's included), and why it is incomplete.
#[derive(Debug, Clone)]
pub struct Partial<T> {
    /// What arrived.
    pub items: Vec<T>,
    /// Why not everything did.
    pub error: AdapterError,
}

impl<T> std::fmt::Display for Partial<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} results arrived)", self.error, self.items.len())
    }
}

impl<T: std::fmt::Debug> std::error::Error for Partial<T> {}

/// One event to broadcast: its name and arguments.
#[derive(Debug, Clone)]
pub struct Message {
    /// The event name.
    pub event: Str,
    /// The arguments (JSON plus binary attachments).
    pub args: Args,
}

/// What [`Adapter::broadcast`] did on this node.
#[derive(Debug)]
pub struct Published {
    /// How many local sockets the event goes to.
    pub recipients: usize,
    /// Its room-history offset.
    pub offset: OffsetReceipt,
}

/// The room-history offset of a broadcast: known at once, or once a cluster
/// adapter got it from the cluster's sequence (its local delivery then waits
/// for it, in order with the namespace's other broadcasts).
#[derive(Debug)]
pub enum OffsetReceipt {
    /// Known: `None` when the broadcast was not recorded.
    Ready(Option<u64>),
    /// Known once the broadcast has been delivered on this node.
    Pending(oneshot::Receiver<Option<u64>>),
}

impl Published {
    /// The room-history offset, waiting for the cluster's sequence if needed.
    pub async fn offset(self) -> Option<u64> {
        self.offset.get().await
    }
}

impl OffsetReceipt {
    /// The offset, waiting for it if needed (`None`: not recorded).
    pub async fn get(self) -> Option<u64> {
        match self {
            OffsetReceipt::Ready(offset) => offset,
            OffsetReceipt::Pending(rx) => rx.await.ok().flatten(),
        }
    }
}

/// What a namespace's adapter is built from.
#[derive(Clone)]
pub struct AdapterCx {
    /// The namespace name (`/`, `/chat`).
    pub ns: Str,
    /// The namespace's side of the local adapter.
    pub emitter: Arc<dyn LocalEmitter>,
    /// The default timeout of acknowledgements.
    pub ack_timeout: Duration,
}

impl std::fmt::Debug for AdapterCx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterCx").field("ns", &self.ns).finish()
    }
}

/// Builds the adapter of each namespace.
pub type AdapterFactory = Arc<dyn Fn(AdapterCx) -> Arc<dyn Adapter> + Send + Sync>;

/// Room membership, broadcasts and bulk operations of one namespace.
///
/// Every operation honours [`BroadcastOptions::local`]: with it, only this
/// node's sockets are concerned and nothing is published.
pub trait Adapter: Send + Sync + 'static {
    /// This node's room index.
    fn local(&self) -> &LocalAdapter;

    /// Starts the adapter (subscriptions); called once, when the namespace is
    /// created. A failure is logged and the namespace serves local sockets.
    fn init(self: Arc<Self>) -> BoxFuture<'static, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// Stops the adapter (unsubscribes).
    fn close(&self) -> BoxFuture<'static, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }

    /// How many servers serve this namespace, this one included.
    fn server_count(&self) -> BoxFuture<'static, Result<usize, AdapterError>> {
        Box::pin(async { Ok(1) })
    }

    /// Delivers an event to every socket `opts` selects, on every node.
    fn broadcast(&self, msg: Message, opts: &BroadcastOptions) -> Result<Published, AdapterError> {
        Ok(self.local().broadcast(msg, opts))
    }

    /// Delivers an event asking each recipient for an answer; the stream
    /// yields every node's recipient count and every answer.
    fn broadcast_with_ack(
        &self,
        msg: Message,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> AckStream {
        let (stream, tx) = AckStream::new(timeout);
        let _ = tx.send(AckEvent::Servers(1));
        self.local().broadcast_with_ack(msg, opts, &tx);
        stream
    }

    /// Describes the sockets `opts` selects, on every node. If some node
    /// did not answer within the request timeout (or the engine is down),
    /// the error carries what did arrive.
    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<RemoteSocketData>, Partial<RemoteSocketData>>> {
        let sockets = self.local().fetch_sockets(opts);
        Box::pin(async move { Ok(sockets) })
    }

    /// Makes the sockets `opts` selects join `rooms`, on every node.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.local().add_sockets(opts, rooms);
        Ok(())
    }

    /// Makes the sockets `opts` selects leave `rooms`, on every node.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.local().del_sockets(opts, rooms);
        Ok(())
    }

    /// Disconnects the sockets `opts` selects, on every node; `close` closes
    /// their whole connection.
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        self.local().disconnect_sockets(opts, close);
        Ok(())
    }

    /// Every room of the namespace, on every node (socket-id rooms excluded).
    fn all_rooms(&self) -> BoxFuture<'static, Result<Vec<Room>, AdapterError>> {
        let rooms = self.local().rooms();
        Box::pin(async move { Ok(rooms) })
    }

    /// Emits an event to the namespace's server-side handlers of the *other*
    /// nodes (Node's `serverSideEmit`).
    fn server_side_emit(&self, _msg: Message) -> Result<(), AdapterError> {
        Ok(())
    }

    /// Like [`Self::server_side_emit`], and gathers one answer per other
    /// node, within the adapter's request timeout.
    fn server_side_emit_with_ack(&self, _msg: Message) -> BoxFuture<'static, ServerAcks> {
        Box::pin(async { ServerAcks::default() })
    }

    /// Keeps the session of a socket that dropped for a recoverable reason,
    /// for the recovery window (Node's `persistSession`). Called only when
    /// recovery is on. The default keeps it in this node's memory.
    fn persist_session(&self, session: SessionState) {
        if let Some(store) = self.local().emitter().recovery() {
            store.persist(session);
        }
    }

    /// Finds the session `pid` again, with the replayable packets after the
    /// replay token `offset` that its rooms admit (Node's `restoreSession`);
    /// `None` when it cannot be recovered (the client then gets a fresh
    /// session). The default reads this node's memory.
    fn restore_session(
        &self,
        pid: Str,
        offset: Str,
    ) -> BoxFuture<'static, Result<Option<RestoredSession>, AdapterError>> {
        let found = restore_locally(self.local(), &pid, &offset);
        Box::pin(async move { Ok(found) })
    }
}

/// Restores a session from this node's recovery store: the session itself
/// and the packets after the replay token `offset` that it missed.
pub fn restore_locally(local: &LocalAdapter, pid: &str, offset: &str) -> Option<RestoredSession> {
    let store = local.emitter().recovery()?;
    let offset = local.parse_offset(offset)?;
    match store.restore(pid, offset) {
        Ok(restored) => Some(restored),
        Err(miss) => {
            tracing::debug!(ns = %local.emitter().ns(), ?miss, "session not recovered");
            None
        }
    }
}

/// The in-memory adapter: a [`LocalAdapter`] and nothing else, for a single
/// node.
#[derive(Debug)]
pub struct MemoryAdapter {
    local: LocalAdapter,
}

impl MemoryAdapter {
    /// A memory adapter for the namespace `cx` describes.
    pub fn new(cx: AdapterCx) -> Self {
        MemoryAdapter {
            local: LocalAdapter::new(cx.emitter),
        }
    }

    /// A factory giving each namespace its own in-memory adapter.
    pub fn factory() -> AdapterFactory {
        Arc::new(|cx| Arc::new(MemoryAdapter::new(cx)))
    }
}

impl Adapter for MemoryAdapter {
    fn local(&self) -> &LocalAdapter {
        &self.local
    }
}
