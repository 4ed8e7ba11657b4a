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
//!
//! Connection-state recovery as the adapter does it, so a client cut from a
//! Node node is recovered on a wirehub node and the other way round: a
//! dropped socket's session is `SET <key>:session:<pid>
//! base64(msgpack({sid, pid, rooms, data})) PX <window>` (`sio:session:`
//! under the default key); a restore takes it (`GETDEL`), checks that the
//! client's offset is still in the stream (`XRANGE s off off`), and replays
//! the namespace's broadcasts after it that the session's rooms admit,
//! each with its entry id as its replay token. Replay tokens are entry ids
//! (`<ms>-<seq>`), the offsets Node clients echo.

use super::driver::{Driver, Fields, StreamEntry, StreamLog};
use crate::conn::{Delivery, DeliveryParts};
use crate::io::adapter::OffsetFormat;
use crate::io::recovery::{admits, RestoredSession, SessionState};
use crate::io::{AdapterError, LocalAdapter};
use crate::sync::lock;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;
use wirehub_proto::cluster::clustered::{Kind, Message as Wire};
use wirehub_proto::cluster::streams::{decode_entry, session_key, Session, StreamId};
use wirehub_proto::cluster::value::{from_json, to_json_value};
use wirehub_proto::cluster::Value;
use wirehub_proto::Str;

/// Entries read per `XREAD` (the adapter's `readCount`).
const READ_COUNT: usize = 100;
/// How long one `XREAD` blocks (the adapter's `blockTimeInMs`).
const BLOCK: Duration = Duration::from_secs(5);
/// The pause after a failed read before the next.
const RETRY: Duration = Duration::from_millis(500);
/// How long a namespace's start waits for the reader to know where to start.
const START_TIMEOUT: Duration = Duration::from_secs(2);
/// Most `XRANGE` calls of one restore (the adapter's
/// `RESTORE_SESSION_MAX_XRANGE_CALLS`), and entries asked per call.
const RESTORE_CALLS: usize = 100;
const RESTORE_COUNT: usize = 1000;
/// How long a restore waits for this node's reader to have dispatched what
/// the restore read, so that the catch-up from the replay log continues
/// right after it.
const READER_CATCH_UP: Duration = Duration::from_secs(1);

/// Replay tokens are stream entry ids (`<ms>-<seq>`).
pub(crate) struct EntryIds;

impl OffsetFormat for EntryIds {
    fn token(&self, offset: u64) -> Str {
        Str::from(StreamId::from_offset(offset).to_string())
    }

    fn parse(&self, token: &str) -> Option<u64> {
        StreamId::parse(token)?.offset()
    }
}

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
    /// The last entry the reader dispatched.
    dispatched: watch::Sender<Option<StreamId>>,
}

impl Hub {
    pub(crate) fn new(log: Arc<dyn StreamLog>, options: StreamOptions) -> Arc<Self> {
        Arc::new(Hub {
            log,
            options,
            handlers: Mutex::default(),
            started: Mutex::default(),
            dispatched: watch::Sender::new(None),
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

    /// Waits (briefly) until the reader dispatched entry `id`.
    async fn read_past(&self, id: StreamId) {
        let mut dispatched = self.dispatched.subscribe();
        let past = dispatched.wait_for(|d| d.is_some_and(|d| d >= id));
        if tokio::time::timeout(READER_CATCH_UP, past).await.is_err() {
            tracing::debug!(%id, "stream reader behind a restore");
        }
    }

    /// Keeps a dropped socket's session in Redis for the recovery window,
    /// as the adapter's `persistSession` does.
    pub(crate) fn persist(&self, local: &LocalAdapter, driver: &dyn Driver, session: SessionState) {
        let Some(store) = local.emitter().recovery() else {
            return;
        };
        let data = match &session.data {
            // Node's `socket.data` starts as `{}`: never hand it a null.
            serde_json::Value::Null => Value::Map(Vec::new()),
            data => from_json(data),
        };
        let stored = Session {
            sid: session.sid,
            pid: session.pid,
            rooms: session.rooms,
            data,
        };
        let key = session_key(&self.options.stream, &stored.pid);
        let value = Bytes::from(stored.encode());
        let stored = driver.store(key, value, store.config().window);
        tokio::spawn(async move {
            if let Err(e) = stored.await {
                tracing::debug!(error = %e, "recovery session not stored in redis");
            }
        });
    }

    /// Finds a session again, as the adapter's `restoreSession` does: takes
    /// it from Redis, checks that the client's offset is still in the
    /// stream, and gathers the namespace's broadcasts after it that the
    /// session's rooms admit. `None` when it cannot be recovered.
    pub(crate) fn restore(
        self: &Arc<Self>,
        local: &LocalAdapter,
        driver: &dyn Driver,
        pid: Str,
        token: Str,
    ) -> BoxFuture<'static, Result<Option<RestoredSession>, AdapterError>> {
        let (Some(store), Some(from)) = (local.emitter().recovery(), StreamId::parse(&token))
        else {
            return Box::pin(async { Ok(None) });
        };
        let hub = self.clone();
        let ns = local.emitter().ns().clone();
        let stream = self.options.stream.clone();
        let taken = driver.take(session_key(&stream, &pid));
        let at = self
            .log
            .range(stream.clone(), token.to_string(), token.to_string(), 1);
        let cap = store.config().max_missed_packets;
        Box::pin(async move {
            let (taken, at) = futures_util::future::join(taken, at).await;
            let (Some(stored), false) = (taken?, at?.is_empty()) else {
                tracing::debug!(%token, "session or offset not found in redis");
                return Ok(None);
            };
            let stored = match Session::decode(&stored) {
                Ok(stored) => stored,
                Err(e) => {
                    tracing::debug!(error = %e, "undecodable session dropped");
                    return Ok(None);
                }
            };
            let session = SessionState {
                sid: stored.sid,
                pid: stored.pid,
                rooms: stored.rooms,
                data: match to_json_value(&stored.data) {
                    serde_json::Value::Object(map) if map.is_empty() => serde_json::Value::Null,
                    data => data,
                },
            };
            let mut missed = Vec::new();
            let mut last = from;
            for _ in 0..RESTORE_CALLS {
                let next = last.next().to_string();
                let entries = hub
                    .log
                    .range(stream.clone(), next, "+".into(), RESTORE_COUNT)
                    .await?;
                for entry in &entries {
                    let Some(id) = StreamId::parse(&entry.id) else {
                        continue;
                    };
                    last = id;
                    if let Some(delivery) = replayable(&ns, &session.rooms, entry) {
                        missed.push(delivery);
                    }
                }
                if missed.len() > cap {
                    tracing::debug!(
                        missed = missed.len(),
                        "session missed too much to be recovered"
                    );
                    return Ok(None);
                }
                if entries.len() < RESTORE_COUNT {
                    break;
                }
            }
            hub.read_past(last).await;
            Ok(Some(RestoredSession { session, missed }))
        })
    }
}

/// A stream entry as a missed packet of a session in `rooms`: a broadcast
/// of namespace `ns` (not volatile) that its rooms admit, with its entry id
/// as replay token.
fn replayable(ns: &str, rooms: &[Str], entry: &StreamEntry) -> Option<Arc<Delivery>> {
    let msg = decode_entry(&entry.fields).ok()?;
    let Kind::Broadcast {
        opts,
        packet,
        request_id: None,
    } = msg.kind
    else {
        return None;
    };
    if msg.nsp != ns || opts.volatile || !admits(rooms, &opts.rooms, &opts.except) {
        return None;
    }
    let offset = StreamId::parse(&entry.id).and_then(StreamId::offset);
    Some(Arc::new(Delivery::new(DeliveryParts {
        ns: msg.nsp,
        event: packet.event,
        args: packet.args,
        ack_id: None,
        room: match opts.rooms.as_slice() {
            [room] => Some(room.clone()),
            _ => None,
        },
        offset,
        replay: Some(Str::from(entry.id.clone())),
    })))
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
    if let Some(h) = hub.upgrade() {
        h.dispatched.send_replace(StreamId::parse(&after));
    }
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
                    if let Some(id) = StreamId::parse(&entry.id) {
                        after.clone_from(&entry.id);
                        h.dispatched.send_replace(Some(id));
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
