//! The stream side of the Redis streams adapter
//! (`@socket.io/redis-streams-adapter` 0.3): one reader per node follows
//! the stream (`XREAD BLOCK 5000 COUNT 100 STREAMS <stream> <last id>`) and
//! hands each entry to its namespace's adapter with the entry id, which is
//! the offset of a broadcast. The adapters themselves are clustered
//! adapters (`super::clustered`) whose transport is this [`Hub`]: what must
//! reach every node in order is appended to the stream, the rest goes over
//! pub/sub.
//!
//! The reader starts after the stream's last entry at the time the first
//! namespace starts (Node starts at `$`; a concrete id also keeps what is
//! added between two reads that came back empty), and after an error it
//! reads on from the last entry it saw, so a Redis blip loses nothing that
//! the stream still holds.

use super::driver::{Fields, StreamEntry, StreamLog};
use crate::io::AdapterError;
use crate::sync::lock;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;
use wirehub_proto::cluster::clustered::Message as Wire;
use wirehub_proto::cluster::streams::{decode_entry, StreamId};
use wirehub_proto::Str;

/// Entries read per `XREAD` (the adapter's `readCount`).
const READ_COUNT: usize = 100;
/// How long one `XREAD` blocks (the adapter's `blockTimeInMs`).
const BLOCK: Duration = Duration::from_secs(5);
/// The pause after a failed read before the next.
const RETRY: Duration = Duration::from_millis(500);
/// How long a namespace's start waits for the reader to know where to start.
const START_TIMEOUT: Duration = Duration::from_secs(2);

/// Receives a namespace's entries: the message and the entry id.
pub(crate) type EntryHandler = Arc<dyn Fn(Wire, &str) + Send + Sync>;

/// Settings of the streams adapter.
#[derive(Debug, Clone)]
pub(crate) struct StreamOptions {
    /// The stream (the adapter's `streamName`).
    pub(crate) stream: String,
    /// About how many entries it keeps (`maxLen`, 10,000).
    pub(crate) max_len: usize,
}

/// One node's side of the stream, shared by its namespaces.
pub(crate) struct Hub {
    pub(crate) log: Arc<dyn StreamLog>,
    pub(crate) options: StreamOptions,
    handlers: Mutex<HashMap<Str, EntryHandler>>,
    /// `Some(true)` once the reader knows where to start.
    started: Mutex<Option<watch::Receiver<bool>>>,
}

impl Hub {
    pub(crate) fn new(log: Arc<dyn StreamLog>, options: StreamOptions) -> Arc<Self> {
        Arc::new(Hub {
            log,
            options,
            handlers: Mutex::default(),
            started: Mutex::default(),
        })
    }

    /// Appends an entry (queued now, in order with this node's others).
    pub(crate) fn append(
        &self,
        fields: Fields,
    ) -> BoxFuture<'static, Result<String, AdapterError>> {
        self.log
            .append(&self.options.stream, self.options.max_len, fields)
    }

    /// Hands namespace `ns`'s entries to `handler` from now on, starting
    /// the reader if it is not running; waits (briefly) until the reader
    /// knows where to start, so nothing appended after this returns is
    /// missed.
    pub(crate) fn register(
        self: &Arc<Self>,
        ns: Str,
        handler: EntryHandler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        lock(&self.handlers).insert(ns, handler);
        let mut started = lock(&self.started)
            .get_or_insert_with(|| {
                let (tx, rx) = watch::channel(false);
                tokio::spawn(read(Arc::downgrade(self), tx));
                rx
            })
            .clone();
        Box::pin(async move {
            let ready = tokio::time::timeout(START_TIMEOUT, started.wait_for(|s| *s)).await;
            match ready {
                Ok(Ok(_)) => Ok(()),
                _ => Err(AdapterError::Unavailable(
                    "redis stream not reachable yet (read once redis answers)".into(),
                )),
            }
        })
    }

    /// Stops handing `ns`'s entries.
    pub(crate) fn unregister(&self, ns: &str) {
        lock(&self.handlers).remove(ns);
    }

    fn dispatch(&self, entry: &StreamEntry) {
        let msg = match decode_entry(&entry.fields) {
            Ok(msg) => msg,
            Err(e) => {
                return tracing::debug!(id = %entry.id, error = %e, "bad stream entry dropped")
            }
        };
        let handler = lock(&self.handlers).get(msg.nsp.as_str()).cloned();
        if let Some(handler) = handler {
            handler(msg, &entry.id);
        }
    }
}

/// The reader: from the stream's last entry on, until the hub is gone.
async fn read(hub: Weak<Hub>, started: watch::Sender<bool>) {
    let mut after = loop {
        let Some(h) = hub.upgrade() else { return };
        let (log, stream) = (h.log.clone(), h.options.stream.clone());
        drop(h);
        match log.last_id(stream).await {
            Ok(last) => break last.unwrap_or_else(|| "0-0".to_owned()),
            Err(e) => {
                tracing::debug!(error = %e, "stream reader: no start yet");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    let _ = started.send(true);
    let mut failing = false;
    loop {
        let Some(h) = hub.upgrade() else { return };
        let (log, stream) = (h.log.clone(), h.options.stream.clone());
        drop(h);
        match log.read(stream, after.clone(), READ_COUNT, BLOCK).await {
            Ok(entries) => {
                if failing {
                    tracing::info!(%after, "stream reading resumed");
                    failing = false;
                }
                let Some(h) = hub.upgrade() else { return };
                for entry in &entries {
                    h.dispatch(entry);
                    if StreamId::parse(&entry.id).is_some() {
                        after.clone_from(&entry.id);
                    }
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, %after, "stream read failed; reading on from the last entry seen once redis answers");
                    failing = true;
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
