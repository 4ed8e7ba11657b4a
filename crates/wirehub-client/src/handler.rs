//! Handlers: any `Fn(extractors...) -> impl Future<Output = ()>` (an async
//! closure) is a handler; see [`crate::extract`] for the argument types.
//!
//! A handler's future is first polled in place, by the connection's driver,
//! so the synchronous part of every handler runs in the order the packets
//! arrived; only a future that is still pending is spawned as a task. Long
//! work should therefore `.await` (or spawn) rather than block.

use crate::extract::{FromCx, HandlerCx};
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Waker};

/// An event, connect, connect-error or disconnect handler taking extractors `T`.
pub trait Handler<T>: Clone + Send + Sync + 'static {
    /// Extracts the arguments and runs the handler.
    fn call(&self, cx: &HandlerCx<'_>);
}

/// Runs a handler future: polled once here, spawned only if still pending.
pub(crate) fn run_inline<F: Future<Output = ()> + Send + 'static>(fut: F) {
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    if fut.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(fut);
    }
}

pub(crate) trait ErasedHandler: Send + Sync {
    fn call(&self, cx: &HandlerCx<'_>);
}

/// A type-erased handler.
pub(crate) type BoxedHandler = Arc<dyn ErasedHandler>;

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: Handler<T>, T: 'static> ErasedHandler for Erased<H, T> {
    fn call(&self, cx: &HandlerCx<'_>) {
        self.0.call(cx)
    }
}

pub(crate) fn boxed<H: Handler<T>, T: 'static>(h: H) -> BoxedHandler {
    Arc::new(Erased(h, PhantomData))
}

macro_rules! impl_handlers {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> Handler<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromCx + Send + 'static,)*
        {
            fn call(&self, cx: &HandlerCx<'_>) {
                $(let $ty = match $ty::from_cx(cx) {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::debug!(event = ?cx.event, error = %e, "handler not called");
                        return;
                    }
                };)*
                run_inline((self)($($ty),*));
            }
        }
    };
}

impl_handlers!();
impl_handlers!(A1);
impl_handlers!(A1, A2);
impl_handlers!(A1, A2, A3);
impl_handlers!(A1, A2, A3, A4);
impl_handlers!(A1, A2, A3, A4, A5);

/// The handlers registered on one socket.
#[derive(Default, Clone)]
pub(crate) struct HandlerSet {
    pub(crate) events: HashMap<String, Vec<BoxedHandler>>,
    pub(crate) any: Vec<BoxedHandler>,
    pub(crate) connect: Vec<BoxedHandler>,
    pub(crate) connect_error: Vec<BoxedHandler>,
    pub(crate) disconnect: Vec<BoxedHandler>,
}

/// Which lifecycle list of a [`HandlerSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Connect,
    ConnectError,
    Disconnect,
}

impl HandlerSet {
    /// Adds every handler of `other`.
    pub(crate) fn merge(&mut self, other: HandlerSet) {
        for (event, list) in other.events {
            self.events.entry(event).or_default().extend(list);
        }
        self.any.extend(other.any);
        self.connect.extend(other.connect);
        self.connect_error.extend(other.connect_error);
        self.disconnect.extend(other.disconnect);
    }

    /// The catch-all handlers, then those of `event`.
    pub(crate) fn for_event(&self, event: &str) -> Vec<BoxedHandler> {
        let specific = self.events.get(event).into_iter().flatten();
        self.any.iter().chain(specific).cloned().collect()
    }

    /// The handlers of a lifecycle event.
    pub(crate) fn lifecycle(&self, which: Lifecycle) -> Vec<BoxedHandler> {
        match which {
            Lifecycle::Connect => self.connect.clone(),
            Lifecycle::ConnectError => self.connect_error.clone(),
            Lifecycle::Disconnect => self.disconnect.clone(),
        }
    }

    /// The list a lifecycle handler goes into.
    pub(crate) fn lifecycle_mut(&mut self, which: Lifecycle) -> &mut Vec<BoxedHandler> {
        match which {
            Lifecycle::Connect => &mut self.connect,
            Lifecycle::ConnectError => &mut self.connect_error,
            Lifecycle::Disconnect => &mut self.disconnect,
        }
    }
}
