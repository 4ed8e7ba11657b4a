//! [`MetricsService`]: answers `GET` on the metrics path with
//! [`super::render`] and passes every other request to the inner service,
//! like [`crate::health::HealthService`].

use super::text::CONTENT_TYPE;
use crate::io::SocketIo;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// The default metrics path.
pub const METRICS: &str = "/metrics";

/// Wraps services in a [`MetricsService`].
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    io: SocketIo,
    /// `None`: metrics are off, every request goes on.
    path: Option<Arc<str>>,
}

impl MetricsLayer {
    /// A layer serving `io`'s metrics at `path` (e.g. [`METRICS`]).
    pub fn new(io: SocketIo, path: impl Into<Arc<str>>) -> Self {
        MetricsLayer {
            io,
            path: Some(path.into()),
        }
    }

    /// With `false`, the layer serves nothing and passes every request on
    /// (a server run with metrics off keeps the same service type).
    pub fn enabled(mut self, enabled: bool) -> Self {
        if !enabled {
            self.path = None;
        }
        self
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            io: self.io.clone(),
            path: self.path.clone(),
            inner,
        }
    }
}

/// Answers the metrics path; everything else goes to `inner`.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    io: SocketIo,
    path: Option<Arc<str>>,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MetricsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.path.as_deref() != Some(req.uri().path()) {
            let fut = self.inner.call(req);
            return Box::pin(async move { fut.await.map(|r| r.map(Either::Right)) });
        }
        let resp = match *req.method() {
            Method::GET | Method::HEAD => exposition(&self.io),
            _ => method_not_allowed(),
        };
        Box::pin(std::future::ready(Ok(resp.map(Either::Left))))
    }
}

fn exposition(io: &SocketIo) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(super::render(io))));
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn method_not_allowed() -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"GET only\n")));
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    resp
}
