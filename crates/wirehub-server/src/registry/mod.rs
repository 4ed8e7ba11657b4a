//! [`Connections`]: the one registry of every live connection, whatever
//! its transport (Engine.IO polling or WebSocket, plain WebSocket, SSE,
//! HTTP streaming, TCP, UDP).
//!
//! It owns what every transport shares at the door and on the way out:
//! - admission: each connection takes a [`ConnectionSlot`] at its accept
//!   or handshake, through the server's [`Limits`] (the caps);
//! - counts per transport, in atomics, so a gauge reads them without a lock,
//!   and the server's other counters ([`Metrics`]);
//! - what each connection is (transport, when it opened, peer address) and
//!   a handle to close it;
//! - the drain: [`Connections::drain`] refuses new connections, tells every
//!   accept loop to stop ([`Connections::draining`]), and closes every
//!   connection with [`CloseReason::ServerShutdown`] (WebSocket close code
//!   1001, an Engine.IO `close` packet, the end of a stream, EOF on TCP);
//! - a task tracker in the style of mini-redis's `shutdown_complete`:
//!   every driver holds a [`TaskGuard`], and [`Connections::shutdown`]
//!   waits until no connection and no driver is left, up to a deadline.
//!
//! The engine's and the plain hub's own maps stay: they find a session by
//! its id or token. This registry is what counts, closes and waits.

mod slot;
mod tracker;

pub use slot::ConnectionSlot;
pub(crate) use tracker::TaskGuard;

use crate::conn::Transport;
use crate::limits::{LimitError, Limits};
use crate::metrics::{ErrorKind, Metrics};
use crate::sync::lock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tracker::Tracker;
use wirehub_proto::engineio::CloseReason;

/// What closes one connection: its driver's handle.
pub(crate) trait Closer: Send + Sync {
    /// Asks the driver to close the connection for `reason`.
    fn close(&self, reason: CloseReason);
}

/// One live connection as the registry sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Its transport (an Engine.IO session upgraded to WebSocket says so).
    pub transport: Transport,
    /// When it was admitted (to the second: the registry keeps 4 bytes).
    pub opened: Instant,
    /// The client's address, when known.
    pub peer: Option<IpAddr>,
}

/// What the registry keeps of a connection: 48 bytes with its key, in a
/// map with an entry for every connection (so the admission time is
/// seconds since the registry began, not an `Instant`).
struct Entry {
    /// Set once the connection has a driver handle to close it with.
    closer: Option<Weak<dyn Closer>>,
    peer: Option<IpAddr>,
    transport: Transport,
    opened_secs: u32,
}

/// The drain did not finish before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{connections} connections and {tasks} drivers still open at the shutdown deadline")]
pub struct DrainTimeout {
    /// Connections still registered.
    pub connections: usize,
    /// Driver tasks still running.
    pub tasks: usize,
}

/// Every live connection of a server. Shared by all transports; read it
/// with [`crate::SocketIo::connections`].
pub struct Connections {
    limits: Arc<Limits>,
    by_transport: [AtomicUsize; Transport::ALL.len()],
    entries: Mutex<HashMap<u64, Entry>>,
    /// When the registry began: the origin of each entry's `opened_secs`.
    began: Instant,
    next_id: AtomicU64,
    draining: AtomicBool,
    /// Tells accept loops to stop; `true` once the drain started.
    drain_signal: watch::Sender<bool>,
    tasks: Tracker,
    /// Woken whenever a connection or a driver ends.
    changed: Notify,
    /// The server's counters (`/metrics`), shared by every transport.
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("total", &self.total())
            .field("draining", &self.is_draining())
            .finish()
    }
}

impl Connections {
    /// An empty registry admitting connections under `limits`.
    pub fn new(limits: Arc<Limits>) -> Arc<Self> {
        Arc::new(Connections {
            limits,
            by_transport: Default::default(),
            entries: Mutex::default(),
            began: Instant::now(),
            next_id: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            drain_signal: watch::Sender::new(false),
            tasks: Tracker::default(),
            changed: Notify::new(),
            metrics: Arc::default(),
        })
    }

    /// The connection caps and limit counters.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The server's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The limits, shared (the event-rate buckets count into them).
    pub(crate) fn shared_limits(&self) -> &Arc<Limits> {
        &self.limits
    }

    /// Open connections of `transport` (no lock: one atomic load).
    pub fn count(&self, transport: Transport) -> usize {
        self.by_transport[transport.index()].load(Ordering::Acquire)
    }

    /// Open connections, every transport counted.
    pub fn total(&self) -> usize {
        Transport::ALL.iter().map(|t| self.count(*t)).sum()
    }

    /// Driver tasks still running.
    pub fn tasks(&self) -> usize {
        self.tasks.live()
    }

    /// Every open connection.
    pub fn list(&self) -> Vec<ConnectionInfo> {
        lock(&self.entries)
            .values()
            .map(|e| ConnectionInfo {
                transport: e.transport,
                opened: self.began + Duration::from_secs(e.opened_secs.into()),
                peer: e.peer,
            })
            .collect()
    }

    /// Whether the server accepts connections (`/readyz`): false once the
    /// drain started.
    pub fn is_ready(&self) -> bool {
        !self.is_draining()
    }

    /// Whether the drain started.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Completes when the drain starts (at once if it has): the shutdown
    /// signal of accept loops ([`crate::serve`], the TCP and UDP gateways).
    pub fn draining(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.drain_signal.subscribe();
        async move {
            let _ = rx.wait_for(|d| *d).await;
        }
    }

    /// Completes once the drain started and every connection and driver
    /// has ended: the shutdown signal of the HTTP accept loop, which keeps
    /// serving the requests of sessions still closing (a polling client's
    /// last GET gets its close packet) while new handshakes are refused.
    pub fn drained(self: &Arc<Self>) -> impl std::future::Future<Output = ()> + Send + 'static {
        let this = self.clone();
        async move {
            this.draining().await;
            this.idle().await;
        }
    }

    /// Starts the drain: new connections are refused, accept loops stop and
    /// every connection is asked to close as the server shuts down. Returns
    /// at once; [`Connections::shutdown`] also waits.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.drain_signal.send_replace(true);
        // Taken under the lock, closed after it: a close may re-enter.
        let closers: Vec<_> = lock(&self.entries)
            .values()
            .filter_map(|e| e.closer.as_ref()?.upgrade())
            .collect();
        tracing::info!(connections = closers.len(), "draining connections");
        for closer in closers {
            closer.close(CloseReason::ServerShutdown);
        }
    }

    /// Drains (see [`Connections::drain`]) and waits until every connection
    /// and every driver has ended, for at most `grace`.
    pub async fn shutdown(&self, grace: Duration) -> Result<(), DrainTimeout> {
        self.drain();
        match tokio::time::timeout(grace, self.idle()).await {
            Ok(()) => Ok(()),
            Err(_) => Err(DrainTimeout {
                connections: self.total(),
                tasks: self.tasks(),
            }),
        }
    }

    /// Completes once no connection is open and no driver runs.
    pub async fn idle(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.total() == 0 && self.tasks() == 0 {
                return;
            }
            changed.await;
        }
    }

    /// Admits a connection of `transport` from `ip` (if known), or says
    /// which limit refuses it (during the drain, every one is refused).
    pub(crate) fn acquire(
        self: &Arc<Self>,
        transport: Transport,
        ip: Option<IpAddr>,
    ) -> Result<ConnectionSlot, LimitError> {
        if self.is_draining() {
            self.metrics.error(ErrorKind::Refused);
            return Err(LimitError::ShuttingDown);
        }
        self.limits.admit(ip).inspect_err(|_| {
            self.metrics.error(ErrorKind::Refused);
        })?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let opened_secs = u32::try_from(self.began.elapsed().as_secs()).unwrap_or(u32::MAX);
        let entry = Entry {
            closer: None,
            peer: ip,
            transport,
            opened_secs,
        };
        // Counted before it is listed: `idle` never sees a listed
        // connection missing from the counts.
        self.by_transport[transport.index()].fetch_add(1, Ordering::AcqRel);
        lock(&self.entries).insert(id, entry);
        Ok(ConnectionSlot::new(self.clone(), id))
    }

    /// A guard that keeps [`Connections::shutdown`] waiting while it lives:
    /// each connection's driver task holds one.
    pub(crate) fn track(self: &Arc<Self>) -> TaskGuard {
        TaskGuard::new(self.clone())
    }

    /// Gives connection `id` its close handle; a connection that gets it
    /// after the drain started is closed at once.
    fn attach(&self, id: u64, closer: Weak<dyn Closer>) {
        let late = {
            let mut entries = lock(&self.entries);
            if let Some(entry) = entries.get_mut(&id) {
                entry.closer = Some(closer.clone());
            }
            // Read under the lock: `drain` sets the flag before it takes
            // the lock, so a closer it did not see is closed here.
            self.is_draining()
        };
        if let Some(closer) = late.then(|| closer.upgrade()).flatten() {
            closer.close(CloseReason::ServerShutdown);
        }
    }

    /// Counts connection `id` under `transport` from now on.
    fn retag(&self, id: u64, transport: Transport) {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get_mut(&id) {
            let from = std::mem::replace(&mut entry.transport, transport);
            self.by_transport[from.index()].fetch_sub(1, Ordering::AcqRel);
            self.by_transport[transport.index()].fetch_add(1, Ordering::AcqRel);
        }
    }

    fn release(&self, id: u64) {
        let gone = lock(&self.entries).remove(&id);
        if let Some(entry) = gone {
            self.by_transport[entry.transport.index()].fetch_sub(1, Ordering::AcqRel);
            // The limits' count goes after the registry's entry (the entry
            // keeps the address, so a slot holds no copy of it).
            self.limits.release(entry.peer);
        }
        self.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection has an entry: guard its size in the map.
    #[test]
    fn an_entry_with_its_key_takes_48_bytes() {
        assert_eq!(std::mem::size_of::<(u64, Entry)>(), 48);
    }

    #[test]
    fn the_list_reports_each_connection_with_its_admission_time() {
        let registry = Connections::new(Limits::new(&crate::Config::default()));
        let before = Instant::now();
        let peer: IpAddr = "10.0.0.9".parse().unwrap();
        let _slot = registry.acquire(Transport::Sse, Some(peer)).unwrap();
        let list = registry.list();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].transport, list[0].peer),
            (Transport::Sse, Some(peer))
        );
        assert!(list[0].opened <= before + Duration::from_secs(1));
        drop(_slot);
        assert!(registry.list().is_empty());
        assert_eq!(registry.limits().connections(), 0);
    }
}
