//! A tower service around a test server that counts the requests it holds:
//! those whose response future returned `Pending` at least once and has not
//! completed (a long poll waiting for a message, a polling GET waiting for
//! packets, a POST whose body is still arriving). A test that must act
//! only once the server holds a request waits on [`Probe::until_held`]
//! instead of sleeping and hoping.

use super::within;
use http::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::watch;
use tower_service::Service;

/// Counts held requests, by path, and how often a held request was woken
/// and went back to waiting.
#[derive(Clone)]
pub struct Probe {
    held: Arc<watch::Sender<Vec<String>>>,
    waits: Arc<watch::Sender<Vec<String>>>,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            held: Arc::new(watch::channel(Vec::new()).0),
            waits: Arc::new(watch::channel(Vec::new()).0),
        }
    }
}

impl Probe {
    /// `service`, with its held requests counted here.
    pub fn wrap<S>(&self, service: S) -> Probed<S> {
        Probed {
            inner: service,
            probe: self.clone(),
        }
    }

    /// How many requests to `path` the server holds now.
    pub fn held(&self, path: &str) -> usize {
        self.held.borrow().iter().filter(|p| *p == path).count()
    }

    /// How many times so far a request to `path` returned `Pending` (its
    /// first wait, and each wait again after a wake-up).
    pub fn waits(&self, path: &str) -> usize {
        self.waits.borrow().iter().filter(|p| *p == path).count()
    }

    /// Waits (at most `WAIT`) until requests to `path` waited more than
    /// `before` times in all: one was woken and went back to waiting.
    pub async fn until_waits_beyond(&self, path: &str, before: usize) {
        let mut rx = self.waits.subscribe();
        let what = format!("a request to {path} to be woken and wait again");
        within(&what, async {
            rx.wait_for(|waits| waits.iter().filter(|p| *p == path).count() > before)
                .await
                .expect("probe");
        })
        .await;
    }

    /// Waits (at most `WAIT`) until the server holds `n` requests to `path`.
    pub async fn until_held(&self, path: &str, n: usize) {
        let mut rx = self.held.subscribe();
        let what = format!("the server to hold {n} request(s) to {path}");
        within(&what, async {
            rx.wait_for(|held| held.iter().filter(|p| *p == path).count() == n)
                .await
                .expect("probe");
        })
        .await;
    }
}

/// A service whose held requests a [`Probe`] counts.
#[derive(Clone)]
pub struct Probed<S> {
    inner: S,
    probe: Probe,
}

impl<S, B, R> Service<Request<B>> for Probed<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let path = req.uri().path().to_owned();
        let fut = self.inner.call(req);
        Box::pin(Held {
            fut: Box::pin(fut),
            path,
            probe: self.probe.clone(),
            counted: false,
        })
    }
}

/// A response future that counts itself as held while it is pending.
struct Held<F> {
    fut: Pin<Box<F>>,
    path: String,
    probe: Probe,
    counted: bool,
}

impl<F> Held<F> {
    fn uncount(&mut self) {
        if std::mem::take(&mut self.counted) {
            let path = &self.path;
            self.probe.held.send_modify(|held| {
                if let Some(i) = held.iter().position(|p| p == path) {
                    held.remove(i);
                }
            });
        }
    }
}

impl<F: Future> Future for Held<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        match this.fut.as_mut().poll(cx) {
            Poll::Ready(out) => {
                this.uncount();
                Poll::Ready(out)
            }
            Poll::Pending => {
                if !this.counted {
                    this.counted = true;
                    let path = this.path.clone();
                    this.probe.held.send_modify(|held| held.push(path));
                }
                let path = this.path.clone();
                this.probe.waits.send_modify(|waits| waits.push(path));
                Poll::Pending
            }
        }
    }
}

impl<F> Drop for Held<F> {
    fn drop(&mut self) {
        self.uncount();
    }
}
