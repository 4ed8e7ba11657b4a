//! The publishing side: one `redis` crate [`ConnectionManager`] (it
//! reconnects on its own) fed by one writer task, so a node's messages
//! leave in the order they were queued, several per round trip (a
//! pipeline of whatever queued up meanwhile). While Redis is down, what is
//! queued is dropped batch by batch, not kept for later: a broadcast
//! delayed by an outage would arrive out of its moment.

use crate::Mode;
use bytes::Bytes;
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Messages that may wait for the writer before a publish is refused.
pub(crate) const QUEUE: usize = 65_536;
/// Most messages sent in one pipeline.
const BATCH: usize = 256;

/// Counts of what left and what was lost.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent: AtomicU64,
    pub(crate) lost: AtomicU64,
}

/// The writer task: runs until every sender is gone.
pub(crate) async fn run(
    mut conn: ConnectionManager,
    mode: Mode,
    mut rx: mpsc::Receiver<(String, Bytes)>,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut failing = false;
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, payload) in &batch {
            pipe.cmd(mode.publish())
                .arg(channel)
                .arg(payload.as_ref())
                .ignore();
        }
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                counters
                    .sent
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                if failing {
                    tracing::info!("redis publishing resumed");
                    failing = false;
                }
            }
            Err(e) => {
                counters
                    .lost
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                if !failing {
                    tracing::warn!(error = %e, "redis publish failed; messages of the outage reach local sockets only");
                    failing = true;
                }
            }
        }
        batch.clear();
    }
}
