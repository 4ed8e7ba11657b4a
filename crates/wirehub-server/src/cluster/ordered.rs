//! Broadcasts in order, behind the cluster's sequence: a broadcast that is
//! recorded in room history takes its offset from the cluster-wide
//! sequence (one round trip to the engine), so its local delivery waits for
//! it; every later broadcast of the namespace waits its turn behind it, so
//! this node's recipients see the namespace's broadcasts in the order they
//! were made. When nothing waits, a broadcast that needs no offset goes out
//! at once.
//!
//! If the sequence cannot be reached (engine down), a broadcast goes out
//! without an offset (not recorded), and the sequence is not asked again
//! for a second, so an outage does not slow every broadcast down.

use super::driver::Driver;
use crate::sync::lock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a broadcast waits for its offset before going without.
const SEQUENCE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the sequence is left alone after it failed.
const SEQUENCE_BACKOFF: Duration = Duration::from_secs(1);

type Run = Box<dyn FnOnce(Option<u64>) + Send>;

struct Job {
    needs_offset: bool,
    run: Run,
    reply: oneshot::Sender<Option<u64>>,
}

/// One namespace's queue of broadcasts waiting for their turn.
pub(crate) struct Ordered {
    driver: Arc<dyn Driver>,
    sequence: String,
    queued: Arc<AtomicUsize>,
    tx: OnceLock<mpsc::UnboundedSender<Job>>,
    down_until: Arc<Mutex<Option<Instant>>>,
}

impl Ordered {
    /// A queue drawing offsets from the sequence `sequence` of `driver`.
    pub(crate) fn new(driver: Arc<dyn Driver>, sequence: String) -> Self {
        Ordered {
            driver,
            sequence,
            queued: Arc::default(),
            tx: OnceLock::new(),
            down_until: Arc::default(),
        }
    }

    /// Whether no broadcast is waiting.
    pub(crate) fn idle(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0
    }

    /// Queues a broadcast: `run` delivers and publishes it with its offset
    /// (drawn from the sequence if `needs_offset`). The receiver gets the
    /// offset once it ran.
    pub(crate) fn push(
        &self,
        needs_offset: bool,
        run: impl FnOnce(Option<u64>) + Send + 'static,
    ) -> oneshot::Receiver<Option<u64>> {
        let (reply, rx) = oneshot::channel();
        self.queued.fetch_add(1, Ordering::AcqRel);
        let job = Job {
            needs_offset,
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
    queued: Arc<AtomicUsize>,
    down_until: Arc<Mutex<Option<Instant>>>,
) {
    while let Some(job) = rx.recv().await {
        let offset = if job.needs_offset {
            next_offset(&*driver, &sequence, &down_until).await
        } else {
            None
        };
        (job.run)(offset);
        let _ = job.reply.send(offset);
        queued.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn next_offset(
    driver: &dyn Driver,
    sequence: &str,
    down_until: &Mutex<Option<Instant>>,
) -> Option<u64> {
    if lock(down_until).is_some_and(|until| Instant::now() < until) {
        return None;
    }
    let drawn = tokio::time::timeout(
        SEQUENCE_TIMEOUT,
        driver.next_in_sequence(sequence.to_owned()),
    )
    .await;
    match drawn {
        Ok(Ok(offset)) => Some(offset),
        Ok(Err(e)) => {
            tracing::warn!(%sequence, error = %e, "no room-history offset: broadcast not recorded");
            *lock(down_until) = Some(Instant::now() + SEQUENCE_BACKOFF);
            None
        }
        Err(_) => {
            tracing::warn!(%sequence, "room-history offset timed out: broadcast not recorded");
            *lock(down_until) = Some(Instant::now() + SEQUENCE_BACKOFF);
            None
        }
    }
}
