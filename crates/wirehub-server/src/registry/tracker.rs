//! Counts the driver tasks still running, so a shutdown can wait for them
//! to write their last frames (mini-redis's `shutdown_complete`, without
//! the channel).

use super::Connections;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug, Default)]
pub(super) struct Tracker {
    live: AtomicUsize,
}

impl Tracker {
    pub(super) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

/// Held by one driver task for its whole run.
pub(crate) struct TaskGuard {
    registry: Arc<Connections>,
}

impl TaskGuard {
    pub(super) fn new(registry: Arc<Connections>) -> Self {
        registry.tasks.live.fetch_add(1, Ordering::AcqRel);
        TaskGuard { registry }
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.registry.tasks.live.fetch_sub(1, Ordering::AcqRel);
        self.registry.changed.notify_waiters();
    }
}
