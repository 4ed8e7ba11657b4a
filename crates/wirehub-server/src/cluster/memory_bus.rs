//! [`MemoryBus`]: an in-process cluster engine, so several servers in one
//! process form a cluster (tests, examples). Each [`MemoryBus::driver`] is
//! one node's connection; messages are delivered in publish order, on a
//! task of their own, as a network engine would.

use super::driver::{Driver, Handler};
use crate::io::AdapterError;
use crate::sync::lock;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The shared bus.
#[derive(Default)]
pub struct MemoryBus {
    inner: Arc<BusInner>,
}

#[derive(Default)]
struct BusInner {
    /// Every node's connection: its subscriptions and its inbox.
    nodes: Mutex<Vec<Arc<NodeConn>>>,
    sequences: Mutex<HashMap<String, u64>>,
    /// The key-value store (recovery sessions), with each value's expiry.
    values: Mutex<HashMap<String, (Bytes, Instant)>>,
    next_id: AtomicUsize,
}

struct NodeConn {
    id: usize,
    channels: Mutex<HashMap<String, Handler>>,
    prefixes: Mutex<Vec<(String, Handler)>>,
    inbox: mpsc::UnboundedSender<(String, Bytes)>,
    /// Messages published while the node is cut off, dropped (fault tests).
    cut: AtomicU64,
}

impl std::fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryBus")
    }
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Self {
        MemoryBus::default()
    }

    /// A new node's connection to the bus (call inside a tokio runtime).
    pub fn driver(&self) -> Arc<MemoryDriver> {
        let (tx, mut rx) = mpsc::unbounded_channel::<(String, Bytes)>();
        let conn = Arc::new(NodeConn {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            channels: Mutex::default(),
            prefixes: Mutex::default(),
            inbox: tx,
            cut: AtomicU64::new(0),
        });
        lock(&self.inner.nodes).push(conn.clone());
        let receiver = Arc::downgrade(&conn);
        tokio::spawn(async move {
            while let Some((channel, payload)) = rx.recv().await {
                let Some(conn) = receiver.upgrade() else {
                    return;
                };
                for handler in conn.handlers(&channel) {
                    handler(&channel, payload.clone());
                }
            }
        });
        Arc::new(MemoryDriver {
            bus: self.inner.clone(),
            conn,
        })
    }
}

impl NodeConn {
    fn handlers(&self, channel: &str) -> Vec<Handler> {
        let mut out: Vec<Handler> = lock(&self.channels)
            .get(channel)
            .cloned()
            .into_iter()
            .collect();
        out.extend(
            lock(&self.prefixes)
                .iter()
                .filter(|(p, _)| channel.starts_with(p.as_str()))
                .map(|(_, h)| h.clone()),
        );
        out
    }

    fn wants(&self, channel: &str) -> bool {
        lock(&self.channels).contains_key(channel)
            || lock(&self.prefixes)
                .iter()
                .any(|(p, _)| channel.starts_with(p.as_str()))
    }
}

/// One node's connection to a [`MemoryBus`].
pub struct MemoryDriver {
    bus: Arc<BusInner>,
    conn: Arc<NodeConn>,
}

impl std::fmt::Debug for MemoryDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryDriver")
            .field("id", &self.conn.id)
            .finish()
    }
}

impl MemoryDriver {
    /// Cuts this node off the bus (`true`) or back on: while cut, what it
    /// publishes and what is published to it is lost, as in an outage.
    pub fn set_cut(&self, cut: bool) {
        self.conn.cut.store(u64::from(cut), Ordering::Relaxed);
    }

    /// Leaves the bus for good (a node that died): it neither sends nor
    /// receives any more, and no longer counts as a subscriber.
    pub fn leave(&self) {
        self.set_cut(true);
        lock(&self.bus.nodes).retain(|n| n.id != self.conn.id);
    }

    fn is_cut(&self) -> bool {
        self.conn.cut.load(Ordering::Relaxed) != 0
    }
}

fn ready<T: Send + 'static>(v: T) -> BoxFuture<'static, T> {
    Box::pin(async move { v })
}

impl Driver for MemoryDriver {
    fn publish(&self, channel: &str, payload: Bytes) -> Result<(), AdapterError> {
        if self.is_cut() {
            return Err(AdapterError::Unavailable("cut off the bus".into()));
        }
        for node in lock(&self.bus.nodes).iter() {
            if node.cut.load(Ordering::Relaxed) == 0 && node.wants(channel) {
                let _ = node.inbox.send((channel.to_owned(), payload.clone()));
            }
        }
        Ok(())
    }

    fn subscribe(
        &self,
        channels: Vec<String>,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        let mut own = lock(&self.conn.channels);
        for channel in channels {
            own.insert(channel, handler.clone());
        }
        ready(Ok(()))
    }

    fn subscribe_prefix(
        &self,
        prefix: String,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        lock(&self.conn.prefixes).push((prefix, handler));
        ready(Ok(()))
    }

    fn unsubscribe(&self, channels: Vec<String>) -> BoxFuture<'static, Result<(), AdapterError>> {
        let mut own = lock(&self.conn.channels);
        let mut prefixes = lock(&self.conn.prefixes);
        for channel in &channels {
            own.remove(channel);
            prefixes.retain(|(p, _)| p != channel);
        }
        ready(Ok(()))
    }

    fn listeners(&self, channel: String) -> BoxFuture<'static, Result<usize, AdapterError>> {
        if self.is_cut() {
            return ready(Err(AdapterError::Unavailable("cut off the bus".into())));
        }
        let n = lock(&self.bus.nodes)
            .iter()
            .filter(|n| lock(&n.channels).contains_key(&channel))
            .count();
        ready(Ok(n))
    }

    fn next_in_sequence(
        &self,
        name: String,
        count: u64,
        floor: u64,
    ) -> BoxFuture<'static, Result<Vec<u64>, AdapterError>> {
        if self.is_cut() {
            return ready(Err(AdapterError::Unavailable("cut off the bus".into())));
        }
        let mut sequences = lock(&self.bus.sequences);
        let n = sequences.entry(name).or_insert(0);
        *n = (*n).max(floor);
        let first = *n + 1;
        *n += count;
        ready(Ok((first..=*n).collect()))
    }

    fn store(
        &self,
        key: String,
        value: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        if self.is_cut() {
            return ready(Err(AdapterError::Unavailable("cut off the bus".into())));
        }
        let expiry = Instant::now() + ttl;
        lock(&self.bus.values).insert(key, (value, expiry));
        ready(Ok(()))
    }

    fn take(&self, key: String) -> BoxFuture<'static, Result<Option<Bytes>, AdapterError>> {
        if self.is_cut() {
            return ready(Err(AdapterError::Unavailable("cut off the bus".into())));
        }
        let taken = lock(&self.bus.values).remove(&key);
        let live = taken.filter(|(_, expiry)| *expiry > Instant::now());
        ready(Ok(live.map(|(value, _)| value)))
    }
}
