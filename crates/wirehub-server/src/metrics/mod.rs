//! Server metrics in the Prometheus text format ([`render`], served by
//! [`MetricsLayer`] at `/metrics`).
//!
//! Counting costs the hot path no lock and no allocation:
//! - server-wide counters ([`Metrics`]) are atomics owned by the connection
//!   registry; a counter with a label of a fixed set (disconnect reason,
//!   error kind, recovery result) is an array of atomics indexed by an enum;
//! - per-namespace counters ([`NsMetrics`]) are made once, with their
//!   namespace, and reached through it;
//! - a broadcast counts its deliveries with one `fetch_add` of the number
//!   of recipients; bytes are counted with one `fetch_add` per batch read or
//!   written;
//! - connection counts are the registry's own per-transport atomics.
//!
//! Rendering walks the namespaces when scraped (a short read lock each).

mod histogram;
mod labels;
mod render;
mod service;
mod text;

pub use histogram::{Histogram, Snapshot};
pub use labels::{ErrorKind, RecoveryResult};
pub use render::render;
pub use service::{MetricsLayer, MetricsService, METRICS};
pub use text::CONTENT_TYPE;

use crate::io::DisconnectReason;
use histogram::{BROADCAST_BOUNDS, HANDSHAKE_BOUNDS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Tells whether the cluster adapter is connected to its engine.
pub type AdapterProbe = Box<dyn Fn() -> bool + Send + Sync>;

/// The server-wide counters; read them with [`crate::SocketIo::metrics`].
pub struct Metrics {
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    queue_drops: AtomicU64,
    disconnects: [AtomicU64; DisconnectReason::ALL.len()],
    errors: [AtomicU64; ErrorKind::ALL.len()],
    recovery: [AtomicU64; RecoveryResult::ALL.len()],
    handshake: Histogram,
    broadcast: Histogram,
    adapter: OnceLock<AdapterProbe>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("bytes_received", &self.bytes_received())
            .field("bytes_sent", &self.bytes_sent())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            bytes_received: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            queue_drops: AtomicU64::new(0),
            disconnects: Default::default(),
            errors: Default::default(),
            recovery: Default::default(),
            handshake: Histogram::new(HANDSHAKE_BOUNDS),
            broadcast: Histogram::new(BROADCAST_BOUNDS),
            adapter: OnceLock::new(),
        }
    }
}

fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// Counts `n` bytes read from clients.
    pub(crate) fn received(&self, n: usize) {
        bump(&self.bytes_received, n as u64);
    }

    /// Counts `n` bytes written to clients.
    pub(crate) fn sent(&self, n: usize) {
        bump(&self.bytes_sent, n as u64);
    }

    /// Counts a message dropped because its connection's queue was full.
    pub(crate) fn queue_drop(&self) {
        bump(&self.queue_drops, 1);
    }

    /// Counts a socket leaving its namespace.
    pub(crate) fn disconnect(&self, reason: DisconnectReason) {
        bump(&self.disconnects[reason.index()], 1);
    }

    /// Counts an error.
    pub(crate) fn error(&self, kind: ErrorKind) {
        bump(&self.errors[kind.index()], 1);
    }

    /// Counts a connection-state recovery attempt.
    pub(crate) fn recovery(&self, result: RecoveryResult) {
        bump(&self.recovery[result.index()], 1);
    }

    /// Records how long a handshake took.
    pub(crate) fn handshake(&self, elapsed: Duration) {
        self.handshake.observe(elapsed);
    }

    /// Records how long a broadcast took to reach its local recipients' queues.
    pub(crate) fn broadcast(&self, elapsed: Duration) {
        self.broadcast.observe(elapsed);
    }

    /// Sets what `wirehub_adapter_up` reports (once; `false` if it was set).
    /// Without a probe the adapter counts as up (the in-memory adapter).
    pub fn set_adapter_probe(&self, probe: AdapterProbe) -> bool {
        self.adapter.set(probe).is_ok()
    }

    /// Whether the cluster adapter is connected (always for memory).
    pub fn adapter_up(&self) -> bool {
        self.adapter.get().is_none_or(|probe| probe())
    }

    /// Bytes read from clients.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    /// Bytes written to clients.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes_sent.load(Ordering::Relaxed)
    }

    /// Messages dropped on full queues.
    pub fn queue_drops(&self) -> u64 {
        self.queue_drops.load(Ordering::Relaxed)
    }

    /// Sockets that left their namespace for `reason`.
    pub fn disconnects(&self, reason: DisconnectReason) -> u64 {
        self.disconnects[reason.index()].load(Ordering::Relaxed)
    }

    /// Errors of `kind`.
    pub fn errors(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()].load(Ordering::Relaxed)
    }

    /// Recovery attempts that ended with `result`.
    pub fn recoveries(&self, result: RecoveryResult) -> u64 {
        self.recovery[result.index()].load(Ordering::Relaxed)
    }

    /// The handshake latency histogram.
    pub fn handshakes(&self) -> Snapshot {
        self.handshake.snapshot()
    }

    /// The broadcast latency histogram.
    pub fn broadcasts(&self) -> Snapshot {
        self.broadcast.snapshot()
    }
}

/// One namespace's counters, made with the namespace.
#[derive(Debug)]
pub(crate) struct NsMetrics {
    events_received: AtomicU64,
    events_sent: AtomicU64,
    server: Arc<Metrics>,
}

impl NsMetrics {
    pub(crate) fn new(server: Arc<Metrics>) -> Self {
        NsMetrics {
            events_received: AtomicU64::new(0),
            events_sent: AtomicU64::new(0),
            server,
        }
    }

    /// The server-wide counters.
    pub(crate) fn server(&self) -> &Metrics {
        &self.server
    }

    /// Counts an event from a client.
    pub(crate) fn event_received(&self) {
        bump(&self.events_received, 1);
    }

    /// Counts `n` deliveries of events to sockets.
    pub(crate) fn events_sent(&self, n: usize) {
        if n > 0 {
            bump(&self.events_sent, n as u64);
        }
    }

    pub(crate) fn received_total(&self) -> u64 {
        self.events_received.load(Ordering::Relaxed)
    }

    pub(crate) fn sent_total(&self) -> u64 {
        self.events_sent.load(Ordering::Relaxed)
    }
}
