//! Broadcasts in order, behind the cluster's sequence: a broadcast that is
//! recorded in room history takes its offset from the cluster-wide
//! sequence (one round trip to the engine), so its local delivery waits for
//! it; every later broadcast of the namespace waits its turn behind it, so
//! this node's recipients see the namespace's broadcasts in the order they
//! were made. When nothing waits, a broadcast that needs no offset goes out
//! at once.
//!
//! Broadcasts that queued up meanwhile draw their offsets together (one
//! round trip for the lot: `INCRBY n` on Redis), and go out back to back.
//! Offsets are drawn above the highest one the node's history knows, so a
//! sequence that lost its count (an engine restarted without its data)
//! never hands out offsets behind what readers already hold.
//!
//! If the sequence cannot be reached (engine down), a broadcast goes out
//! without an offset (not recorded), and the sequence is not asked again
//! for a second, so an outage does not slow every broadcast down.
//!
//! Over a stream (the Redis streams adapter) there is no separate sequence:
//! publishing a broadcast appends it to the stream, and the entry id is its
//! offset ([`Draw::Append`]); the appends of a batch leave in one pipeline,
//! and each broadcast is delivered here once its id is known, in order. An
//! append that fails leaves the broadcast without an offset (delivered
//! here, not recorded), as Node's adapter does.

use super::driver::{Driver, Fields, StreamLog};
use crate::io::LocalEmitter;
use crate::sync::lock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use wirehub_proto::cluster::streams::StreamId;

/// How long a broadcast waits for its offset before going without.
const SEQUENCE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the sequence is left alone after it failed.
const SEQUENCE_BACKOFF: Duration = Duration::from_secs(1);
/// Most broadcasts taken (and offsets drawn) at once.
const BATCH: usize = 256;

type Run = Box<dyn FnOnce(Option<u64>) + Send>;

/// The highest offset the node's history knows: offsets are drawn above it.
pub(crate) type Floor = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Where a queued broadcast's offset comes from.
pub(crate) enum Draw {
    /// It needs none.
    Nothing,
    /// The next number of the cluster's sequence.
    Sequence,
    /// The id of the stream entry these fields are appended as (the
    /// broadcast is published by being appended).
    Append(Fields),
}

struct Job {
    draw: Draw,
    run: Run,
    reply: oneshot::Sender<Option<u64>>,
}

/// The stream a queue appends to.
#[derive(Clone)]
pub(crate) struct Stream {
    /// The engine.
    pub(crate) log: Arc<dyn StreamLog>,
    /// The stream's name.
    pub(crate) name: String,
    /// About how many entries it keeps.
    pub(crate) max_len: usize,
}

/// One namespace's queue of broadcasts waiting for their turn.
pub(crate) struct Ordered {
    driver: Arc<dyn Driver>,
    sequence: String,
    stream: Option<Stream>,
    floor: Floor,
    queued: Arc<AtomicUsize>,
    tx: OnceLock<mpsc::UnboundedSender<Job>>,
    down_until: Arc<Mutex<Option<Instant>>>,
}

/// The floor of a namespace's queue: the highest offset its history knows.
pub(crate) fn history_floor(emitter: &Arc<dyn LocalEmitter>) -> Floor {
    let emitter = emitter.clone();
    Arc::new(move || emitter.latest_offset())
}

impl Ordered {
    /// A queue drawing offsets from the sequence `sequence` of `driver`,
    /// above what `floor` says the node's history holds.
    pub(crate) fn new(driver: Arc<dyn Driver>, sequence: String, floor: Floor) -> Self {
        Ordered {
            driver,
            sequence,
            stream: None,
            floor,
            queued: Arc::default(),
            tx: OnceLock::new(),
            down_until: Arc::default(),
        }
    }

    /// A queue whose broadcasts are appended to `stream`, their entry ids
    /// being their offsets.
    pub(crate) fn over_stream(driver: Arc<dyn Driver>, stream: Stream, floor: Floor) -> Self {
        Ordered {
            stream: Some(stream),
            ..Ordered::new(driver, String::new(), floor)
        }
    }

    /// Whether broadcasts are published by being appended to a stream.
    pub(crate) fn streamed(&self) -> bool {
        self.stream.is_some()
    }

    /// Whether no broadcast is waiting.
    pub(crate) fn idle(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0
    }

    /// Queues a broadcast: `run` delivers (and publishes, unless it was
    /// appended) it with the offset `draw` gives. The receiver gets the
    /// offset once it ran.
    pub(crate) fn push(
        &self,
        draw: Draw,
        run: impl FnOnce(Option<u64>) + Send + 'static,
    ) -> oneshot::Receiver<Option<u64>> {
        let (reply, rx) = oneshot::channel();
        self.queued.fetch_add(1, Ordering::AcqRel);
        let job = Job {
            draw,
            run: Box::new(run),
            reply,
        };
        if let Err(mpsc::error::SendError(job)) = self.sender().send(job) {
            // The worker is gone (runtime shutting down): run it here.
            self.queued.fetch_sub(1, Ordering::AcqRel);
            (job.run)(None);
        }
        rx
    }

    fn sender(&self) -> &mpsc::UnboundedSender<Job> {
        self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(work(
                rx,
                self.driver.clone(),
                self.sequence.clone(),
                self.stream.clone(),
                self.floor.clone(),
                self.queued.clone(),
                self.down_until.clone(),
            ));
            tx
        })
    }
}

async fn work(
    mut rx: mpsc::UnboundedReceiver<Job>,
    driver: Arc<dyn Driver>,
    sequence: String,
    stream: Option<Stream>,
    floor: Floor,
    queued: Arc<AtomicUsize>,
    down_until: Arc<Mutex<Option<Instant>>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let wanted = batch
            .iter()
            .filter(|j| matches!(j.draw, Draw::Sequence))
            .count();
        let mut offsets = match wanted {
            0 => Vec::new(),
            n => next_offsets(&*driver, &sequence, n, floor(), &down_until).await,
        }
        .into_iter();
        // Every append of the batch is queued before the first is awaited,
        // so they share round trips.
        let appends: Vec<_> = batch
            .iter_mut()
            .map(|job| {
                let Draw::Append(fields) = &mut job.draw else {
                    return None;
                };
                let s = stream.as_ref()?;
                Some(s.log.append(&s.name, s.max_len, std::mem::take(fields)))
            })
            .collect();
        for (job, append) in batch.drain(..).zip(appends) {
            let offset = match (append, &job.draw) {
                (Some(append), _) => appended_offset(append.await),
                (None, Draw::Sequence) => offsets.next(),
                (None, _) => None,
            };
            (job.run)(offset);
            let _ = job.reply.send(offset);
            queued.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The offset of an appended entry: its id, if the append succeeded and the
/// id maps to an offset.
fn appended_offset(appended: Result<String, crate::io::AdapterError>) -> Option<u64> {
    match appended {
        Ok(id) => {
            let offset = StreamId::parse(&id).and_then(StreamId::offset);
            if offset.is_none() {
                tracing::warn!(%id, "stream entry id out of the offset range: broadcast not recorded");
            }
            offset
        }
        Err(e) => {
            tracing::debug!(error = %e, "stream append failed: broadcast reached this node only");
            None
        }
    }
}

/// `count` offsets from the sequence, or none if it cannot be reached.
async fn next_offsets(
    driver: &dyn Driver,
    sequence: &str,
    count: usize,
    floor: u64,
    down_until: &Mutex<Option<Instant>>,
) -> Vec<u64> {
    if lock(down_until).is_some_and(|until| Instant::now() < until) {
        return Vec::new();
    }
    let drawn = driver.next_in_sequence(sequence.to_owned(), count as u64, floor);
    let failure = match tokio::time::timeout(SEQUENCE_TIMEOUT, drawn).await {
        Ok(Ok(offsets)) if offsets.len() == count && offsets[0] > floor => return offsets,
        Ok(Ok(offsets)) if offsets.len() == count => {
            format!("offset {} not above {floor}", offsets[0])
        }
        Ok(Ok(offsets)) => format!("{} offsets for {count} broadcasts", offsets.len()),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    tracing::warn!(%sequence, error = %failure, "no room-history offsets: broadcasts not recorded");
    *lock(down_until) = Some(Instant::now() + SEQUENCE_BACKOFF);
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::driver::Handler;
    use crate::io::AdapterError;
    use bytes::Bytes;
    use futures_util::future::BoxFuture;
    use std::sync::atomic::AtomicU64;

    /// A sequence that counts how often it is asked.
    #[derive(Default)]
    struct Sequence {
        next: AtomicU64,
        calls: AtomicU64,
    }

    impl Driver for Sequence {
        fn publish(&self, _: &str, _: Bytes) -> Result<(), AdapterError> {
            Ok(())
        }
        fn subscribe(
            &self,
            _: Vec<String>,
            _: Handler,
        ) -> BoxFuture<'static, Result<(), AdapterError>> {
            Box::pin(async { Ok(()) })
        }
        fn subscribe_prefix(
            &self,
            _: String,
            _: Handler,
        ) -> BoxFuture<'static, Result<(), AdapterError>> {
            Box::pin(async { Ok(()) })
        }
        fn unsubscribe(&self, _: Vec<String>) -> BoxFuture<'static, Result<(), AdapterError>> {
            Box::pin(async { Ok(()) })
        }
        fn listeners(&self, _: String) -> BoxFuture<'static, Result<usize, AdapterError>> {
            Box::pin(async { Ok(1) })
        }
        fn next_in_sequence(
            &self,
            _: String,
            count: u64,
            floor: u64,
        ) -> BoxFuture<'static, Result<Vec<u64>, AdapterError>> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let last = self.next.fetch_max(floor, Ordering::Relaxed).max(floor);
            let first = last + 1;
            self.next.store(last + count, Ordering::Relaxed);
            Box::pin(async move { Ok((first..first + count).collect()) })
        }
    }

    #[tokio::test]
    async fn queued_broadcasts_run_in_order_and_draw_their_offsets_together() {
        let sequence = Arc::new(Sequence::default());
        let ordered = Ordered::new(sequence.clone(), "s".into(), Arc::new(|| 0));
        let ran = Arc::new(Mutex::new(Vec::new()));
        let mut receipts = Vec::new();
        for i in 0..100u64 {
            let ran = ran.clone();
            // Every third needs no offset: it waits its turn all the same.
            let draw = match i % 3 {
                0 => Draw::Nothing,
                _ => Draw::Sequence,
            };
            receipts.push(ordered.push(draw, move |offset| lock(&ran).push((i, offset))));
        }
        let mut offsets = Vec::new();
        for r in receipts {
            offsets.push(r.await.unwrap());
        }
        let ran = lock(&ran).clone();
        assert_eq!(
            ran.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..100).collect::<Vec<_>>()
        );
        let drawn: Vec<u64> = offsets.iter().flatten().copied().collect();
        assert_eq!(
            drawn,
            (1..=66).collect::<Vec<_>>(),
            "increasing, one per recorded broadcast"
        );
        assert!(offsets.iter().step_by(3).all(Option::is_none));
        assert!(
            sequence.calls.load(Ordering::Relaxed) < 10,
            "drawn in batches"
        );
        assert!(ordered.idle());
    }

    #[tokio::test]
    async fn offsets_never_go_back_when_the_sequence_loses_its_count() {
        let sequence = Arc::new(Sequence::default());
        let history = Arc::new(AtomicU64::new(0));
        let floor = history.clone();
        let ordered = Ordered::new(
            sequence.clone(),
            "s".into(),
            Arc::new(move || floor.load(Ordering::Relaxed)),
        );
        let first = ordered.push(Draw::Sequence, |_| {}).await.unwrap();
        assert_eq!(first, Some(1));
        // The engine restarts without its data while the node's history
        // holds offsets up to 500.
        sequence.next.store(0, Ordering::Relaxed);
        history.store(500, Ordering::Relaxed);
        let after = ordered.push(Draw::Sequence, |_| {}).await.unwrap();
        assert_eq!(after, Some(501), "drawn above the history");
    }
}
