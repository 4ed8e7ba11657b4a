//! `/healthz` and `/readyz` for load balancers and orchestrators:
//! [`HealthService`] answers both and passes every other request to the
//! inner service. `/healthz` is 200 while the process serves at all;
//! `/readyz` is 200 while the server accepts connections and 503 once it
//! drains before shutting down ([`crate::registry::Connections::drain`]),
//! so a load balancer sends new clients to another node.

use crate::registry::Connections;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Full};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// The liveness path.
pub const HEALTHZ: &str = "/healthz";
/// The readiness path.
pub const READYZ: &str = "/readyz";

/// Wraps services in a [`HealthService`].
#[derive(Debug, Clone)]
pub struct HealthLayer {
    connections: Arc<Connections>,
}

impl HealthLayer {
    /// A layer reporting the readiness of `connections`' server.
    pub fn new(connections: Arc<Connections>) -> Self {
        HealthLayer { connections }
    }
}

impl<S> tower_layer::Layer<S> for HealthLayer {
    type Service = HealthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HealthService {
            connections: self.connections.clone(),
            inner,
        }
    }
}

/// Answers `/healthz` and `/readyz`; everything else goes to `inner`.
#[derive(Debug, Clone)]
pub struct HealthService<S> {
    connections: Arc<Connections>,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HealthService<S>
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
        let (status, body) = match req.uri().path() {
            HEALTHZ => (StatusCode::OK, "ok\n"),
            READYZ if self.connections.is_ready() => (StatusCode::OK, "ready\n"),
            READYZ => (StatusCode::SERVICE_UNAVAILABLE, "draining\n"),
            _ => {
                let fut = self.inner.call(req);
                return Box::pin(async move { fut.await.map(|r| r.map(Either::Right)) });
            }
        };
        let resp = answer(status, body);
        Box::pin(std::future::ready(Ok(resp.map(Either::Left))))
    }
}

fn answer(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
