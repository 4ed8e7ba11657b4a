//! Manager-level events and their listeners.

use crate::error::Error;
use crate::handler::run_inline;
use std::future::Future;
use std::sync::Arc;

/// Something that happened to the connection as a whole.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// Reconnection attempt `n` (from 1) starts.
    ReconnectAttempt(u32),
    /// The connection is back, after `n` attempts.
    Reconnect(u32),
    /// A reconnection attempt failed.
    ReconnectError(Error),
    /// Reconnection gave up (the attempts limit was reached).
    ReconnectFailed,
}

/// A manager event listener.
pub(crate) type Listener = Arc<dyn Fn(&ManagerEvent) + Send + Sync>;

/// Wraps an async closure into a listener for the events `select` keeps.
pub(crate) fn listener<A, F, Fut>(
    select: impl Fn(&ManagerEvent) -> Option<A> + Send + Sync + 'static,
    f: F,
) -> Listener
where
    A: Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |event| {
        if let Some(arg) = select(event) {
            run_inline(f(arg));
        }
    })
}
