//! Handler traits: any `Fn(extractors...) -> impl Future` is a handler.
//!
//! A handler's future is first polled in place: the synchronous part (for
//! example registering event handlers in a connect handler) completes before
//! the next packet of that connection is read, as in the Node server. Only a
//! future that is still pending is spawned as a task.

use super::error::ConnectError;
use super::extract::{FromCx, HandlerCx};
use crate::metrics::{ErrorKind, Metrics};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};

/// An event, connect or disconnect handler taking extractors `T`.
pub trait Handler<T>: Clone + Send + Sync + 'static {
    /// Extracts the arguments and runs the handler.
    fn call(&self, cx: &HandlerCx<'_>);
}

/// A boxed future of a middleware.
pub type MiddlewareFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send>>;

/// A namespace middleware: runs before a connection is accepted, taking
/// extractors `T`; an error refuses the connection with a CONNECT_ERROR.
pub trait Middleware<T>: Clone + Send + Sync + 'static {
    /// Extracts the arguments and starts the middleware.
    fn call(&self, cx: &HandlerCx<'_>) -> MiddlewareFuture;
}

/// Runs a handler future: polled once here, spawned only if still pending.
///
/// A panic in the handler's first poll is caught and logged, so it cannot
/// take the connection's session task down with it (a panic after that is
/// confined to the spawned task by the runtime); it counts in `metrics`,
/// when given.
pub(crate) fn run_inline<F: Future<Output = ()> + Send + 'static>(
    metrics: Option<&Metrics>,
    start: impl FnOnce() -> F,
) {
    let first = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut fut = Box::pin(start());
        let mut cx = Context::from_waker(Waker::noop());
        fut.as_mut().poll(&mut cx).is_pending().then_some(fut)
    }));
    match first {
        Ok(Some(pending)) => {
            tokio::spawn(pending);
        }
        Ok(None) => {}
        Err(_) => {
            if let Some(metrics) = metrics {
                metrics.error(ErrorKind::HandlerPanic);
            }
            tracing::error!("an event handler panicked; the event was dropped")
        }
    }
}

pub(crate) trait ErasedHandler: Send + Sync {
    fn call(&self, cx: &HandlerCx<'_>);
}

pub(crate) trait ErasedMiddleware: Send + Sync {
    fn call(&self, cx: &HandlerCx<'_>) -> MiddlewareFuture;
}

pub(crate) type BoxedHandler = Arc<dyn ErasedHandler>;
pub(crate) type BoxedMiddleware = Arc<dyn ErasedMiddleware>;

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: Handler<T>, T: 'static> ErasedHandler for Erased<H, T> {
    fn call(&self, cx: &HandlerCx<'_>) {
        self.0.call(cx)
    }
}

impl<H: Middleware<T>, T: 'static> ErasedMiddleware for Erased<H, T> {
    fn call(&self, cx: &HandlerCx<'_>) -> MiddlewareFuture {
        self.0.call(cx)
    }
}

pub(crate) fn boxed<H: Handler<T>, T: 'static>(h: H) -> BoxedHandler {
    Arc::new(Erased(h, PhantomData))
}

pub(crate) fn boxed_middleware<M: Middleware<T>, T: 'static>(m: M) -> BoxedMiddleware {
    Arc::new(Erased(m, PhantomData))
}

macro_rules! extract_or_return {
    ($cx:ident, $ty:ident, $ret:expr) => {
        match $ty::from_cx($cx) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(event = %$cx.event, error = %e, "handler not called");
                return $ret;
            }
        }
    };
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
                $(let $ty = extract_or_return!(cx, $ty, ());)*
                run_inline(Some(cx.socket.metrics().server()), || (self)($($ty),*));
            }
        }

        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> Middleware<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
            $($ty: FromCx + Send + 'static,)*
        {
            fn call(&self, cx: &HandlerCx<'_>) -> MiddlewareFuture {
                $(let $ty = extract_or_return!(
                    cx, $ty,
                    Box::pin(std::future::ready(Err(ConnectError::new("invalid connect payload"))))
                );)*
                Box::pin((self)($($ty),*))
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
impl_handlers!(A1, A2, A3, A4, A5, A6);
