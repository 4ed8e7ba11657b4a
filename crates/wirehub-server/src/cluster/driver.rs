//! [`Driver`]: how a cluster adapter reaches the other nodes: publish to
//! named channels, receive what is published on the channels it subscribed
//! to, count a channel's subscribers, draw from a cluster-wide sequence.
//! Implemented over Redis (classic or sharded pub/sub), NATS, and an
//! in-process bus for tests ([`super::MemoryBus`]).

use crate::io::AdapterError;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// Receives the messages of a subscription: the channel and the payload.
/// Called on the driver's receiving task: it must not block.
pub type Handler = Arc<dyn Fn(&str, Bytes) + Send + Sync>;

/// A connection to the cluster's engine.
pub trait Driver: Send + Sync + 'static {
    /// Whether the connection to the engine is up now (`wirehub_adapter_up`).
    /// A driver that cannot tell says yes.
    fn is_up(&self) -> bool {
        true
    }

    /// Queues `payload` for `channel`. Never waits for the network: the
    /// message leaves in order with the node's other messages, or is lost
    /// if the engine is down (an error when it cannot even be queued).
    fn publish(&self, channel: &str, payload: Bytes) -> Result<(), AdapterError>;

    /// Subscribes `handler` to exact channels, and keeps the subscription
    /// across reconnections. Each channel counts once in [`Self::listeners`].
    fn subscribe(
        &self,
        channels: Vec<String>,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>>;

    /// Subscribes `handler` to every channel that starts with `prefix`
    /// (not counted by [`Self::listeners`]).
    fn subscribe_prefix(
        &self,
        prefix: String,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>>;

    /// Ends subscriptions (exact channels, or prefixes).
    fn unsubscribe(&self, channels: Vec<String>) -> BoxFuture<'static, Result<(), AdapterError>>;

    /// How many connections are subscribed to `channel`, across the
    /// cluster (Redis `PUBSUB NUMSUB` / `SHARDNUMSUB`).
    fn listeners(&self, channel: String) -> BoxFuture<'static, Result<usize, AdapterError>>;

    /// The next `count` numbers of the cluster-wide sequence `name` (which
    /// starts at 1), in increasing order: numbers no other call gets, all
    /// above `floor`. A sequence behind `floor` (the engine restarted without
    /// its data, while the caller's history went further) is first moved
    /// past it, so offsets never go back.
    fn next_in_sequence(
        &self,
        name: String,
        count: u64,
        floor: u64,
    ) -> BoxFuture<'static, Result<Vec<u64>, AdapterError>>;

    /// Stores `value` under `key` for `ttl` (the sessions of
    /// connection-state recovery, so another node can restore them). An
    /// engine without a key-value store answers [`AdapterError::Unavailable`]
    /// (sessions then stay on the node where they dropped).
    fn store(
        &self,
        _key: String,
        _value: Bytes,
        _ttl: Duration,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        Box::pin(async { Err(AdapterError::Unavailable("no key-value store".into())) })
    }

    /// Takes the value under `key`: returns it and deletes it (`GETDEL`),
    /// so a session is restored at most once across the cluster.
    fn take(&self, _key: String) -> BoxFuture<'static, Result<Option<Bytes>, AdapterError>> {
        Box::pin(async { Err(AdapterError::Unavailable("no key-value store".into())) })
    }
}

/// The fields of a stream entry, in order.
pub type Fields = Vec<(&'static str, Bytes)>;

/// One entry read from a stream: its id (`<ms>-<seq>`) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry id.
    pub id: String,
    /// Its fields, in order.
    pub fields: Vec<(Bytes, Bytes)>,
}

/// What the Redis streams adapter needs of its engine besides pub/sub and
/// the key-value store of [`Driver`]: an append-only stream every node
/// reads.
pub trait StreamLog: Send + Sync + 'static {
    /// Appends an entry to `stream`, trimmed to about `max_len` entries
    /// (`XADD stream MAXLEN ~ max_len * ...`); resolves to the entry id.
    /// The entry is queued when this is called, in order with this node's
    /// other appends, whether or not the future is awaited.
    fn append(
        &self,
        stream: &str,
        max_len: usize,
        fields: Fields,
    ) -> BoxFuture<'static, Result<String, AdapterError>>;

    /// At most `count` entries after id `after` (`$`: only entries added
    /// from now on), waiting up to `block` for the first (`XREAD BLOCK`);
    /// empty when none came.
    fn read(
        &self,
        stream: String,
        after: String,
        count: usize,
        block: std::time::Duration,
    ) -> BoxFuture<'static, Result<Vec<StreamEntry>, AdapterError>>;

    /// The entries from `start` to `end`, both included (`XRANGE`; `-` and
    /// `+` are the ends), at most `count`.
    fn range(
        &self,
        stream: String,
        start: String,
        end: String,
        count: usize,
    ) -> BoxFuture<'static, Result<Vec<StreamEntry>, AdapterError>>;

    /// The id of the stream's last entry, if it has one.
    fn last_id(&self, stream: String) -> BoxFuture<'static, Result<Option<String>, AdapterError>>;
}
