//! Cluster adapters: several wirehub nodes (and Node socket.io nodes) act
//! as one server over a shared engine. Each namespace's adapter applies
//! every operation to its own sockets and publishes it to the others, in
//! the protocols of Node's adapters (`wirehub_proto::cluster`), so a
//! wirehub node and a Node node on the same engine and key prefix form one
//! cluster.
//!
//! - [`Driver`]: the engine connection an adapter publishes and subscribes
//!   through (Redis in `wirehub-redis`, NATS in `wirehub-nats`,
//!   [`MemoryBus`] in process).
//! - `classic`: the protocol of `@socket.io/redis-adapter`'s `createAdapter`
//!   ([`classic`] builds the factory).
//! - `clustered`: the protocol of socket.io-adapter's `ClusterAdapter`, as
//!   the sharded Redis adapter speaks it, or with heartbeats where the
//!   engine cannot count subscribers ([`clustered`] builds the factory).
//! - `ordered`: broadcasts recorded in room history take their offset from
//!   the cluster-wide sequence, in order.
//! - `pending`: requests waiting for the other nodes' answers.
//! - `sessions`: connection-state recovery sessions kept in the engine, so
//!   a client cut from one node is recovered on another.
//! - [`NodeDirectory`]: where each node is, so a request for a session that
//!   another node owns is forwarded there (no sticky sessions).
//!
//! Delivery guarantee: a broadcast reaches the other nodes' sockets at most
//! once. While the engine is unreachable, each node keeps serving its own
//! sockets; what is published meanwhile reaches only the publishing node's
//! sockets (not queued for later), and requests that need answers (fetch,
//! server-side emits with acks) fail or time out. The drivers reconnect
//! and resubscribe on their own.

mod classic;
mod clustered;
mod common;
mod directory;
mod driver;
mod memory_bus;
mod ordered;
mod pending;
mod sessions;

pub use directory::NodeDirectory;
pub use driver::{Driver, Handler};
pub use memory_bus::{MemoryBus, MemoryDriver};

use crate::io::adapter::AdapterFactory;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the cluster adapters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterOptions {
    /// Prefix of every channel (`socket.io`, as Node's adapters).
    pub key: String,
    /// How long a request waits for the other nodes' answers
    /// (`fetch_sockets`, `all_rooms`, server-side emits with acks); Node's
    /// `requestsTimeout`, 5 s.
    pub requests_timeout: Duration,
    /// How often a node says it is alive, where nodes count each other by
    /// heartbeats (5 s, as Node's `ClusterAdapterWithHeartbeat`).
    pub heartbeat_interval: Duration,
    /// How long without a message before a node is taken for gone (10 s).
    pub heartbeat_timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            key: "socket.io".into(),
            requests_timeout: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(10),
        }
    }
}

impl ClusterOptions {
    /// Options with the key prefix `key`.
    pub fn with_key(key: impl Into<String>) -> Self {
        ClusterOptions {
            key: key.into(),
            ..ClusterOptions::default()
        }
    }

    /// Sets the request timeout.
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.requests_timeout = timeout;
        self
    }

    /// Sets the heartbeat interval and timeout.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat_interval = interval;
        self.heartbeat_timeout = timeout;
        self
    }
}

/// The factory of classic adapters (`@socket.io/redis-adapter`'s
/// `createAdapter` protocol) over `driver`, which must count subscribers.
pub fn classic(driver: Arc<dyn Driver>, options: ClusterOptions) -> AdapterFactory {
    Arc::new(move |cx| Arc::new(classic::ClassicAdapter::new(cx, driver.clone(), &options)))
}

/// How a clustered adapter counts the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Counting {
    /// By the subscribers of the namespace's channel (Redis `SHARDNUMSUB`),
    /// as Node's sharded adapter.
    Subscribers,
    /// By heartbeats: the nodes heard from within the heartbeat timeout, as
    /// Node's `ClusterAdapterWithHeartbeat` (engines that cannot count).
    Heartbeats,
}

/// Whether broadcasts to one room use that room's own channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoomChannels {
    /// Yes, for rooms that are not socket ids: a node subscribes to the
    /// channels of the rooms it has (Node's sharded adapter default,
    /// `dynamic`).
    Dynamic,
    /// No: everything on the namespace's channel (`static`).
    Static,
}

/// The factory of clustered adapters (socket.io-adapter's `ClusterAdapter`
/// protocol, as Node's sharded Redis adapter) over `driver`.
pub fn clustered(
    driver: Arc<dyn Driver>,
    options: ClusterOptions,
    counting: Counting,
    rooms: RoomChannels,
) -> AdapterFactory {
    Arc::new(move |cx| {
        clustered::ClusteredAdapter::new(cx, driver.clone(), &options, counting, rooms)
    })
}
