//! Tower integration of the plain transports: [`PlainService`] answers
//! `/ws`, `/sse`, `/stream`, `/poll`, `/send`, `/api/v1/...` and the SockJS
//! endpoints (below the configured prefix, `/sockjs`) and passes
//! every other request to the inner service; [`PlainLayer`] wraps one.
//! Each request first passes `gate` (origin allowlist, JWT); cross-origin
//! requests follow the server's one CORS policy (`crate::cors`).

use super::body::PlainBody;
use super::hub::PlainHub;
use super::reply::{self, Resp};
use super::stream::Framing;
use super::{api, gate, poll, send, sockjs, stream, ws};
use crate::cors;
use http::header;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Either;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// Serves the plain endpoints; everything else goes to `inner`.
#[derive(Debug, Clone)]
pub struct PlainService<S> {
    hub: Arc<PlainHub>,
    inner: S,
}

/// Wraps services in a [`PlainService`].
#[derive(Debug, Clone)]
pub struct PlainLayer {
    hub: Arc<PlainHub>,
}

impl PlainLayer {
    /// A layer serving `hub`'s endpoints.
    pub fn new(hub: Arc<PlainHub>) -> Self {
        PlainLayer { hub }
    }
}

impl<S> tower_layer::Layer<S> for PlainLayer {
    type Service = PlainService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PlainService {
            hub: self.hub.clone(),
            inner,
        }
    }
}

/// A plain endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Ws,
    Sse,
    Stream,
    Poll,
    Send,
    Api,
    SockJs,
}

fn route(path: &str, sockjs_prefix: &str) -> Option<Route> {
    if is_below(path, sockjs_prefix) {
        return Some(Route::SockJs);
    }
    Some(match path {
        "/ws" => Route::Ws,
        "/sse" => Route::Sse,
        "/stream" => Route::Stream,
        "/poll" => Route::Poll,
        "/send" => Route::Send,
        p if p.starts_with(api::PREFIX) => Route::Api,
        _ => return None,
    })
}

/// Whether `path` is `prefix` or below it.
fn is_below(path: &str, prefix: &str) -> bool {
    !prefix.is_empty()
        && path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for PlainService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Either<PlainBody, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let Some(route) = route(req.uri().path(), &self.hub.config().sockjs_prefix) else {
            let fut = self.inner.call(req);
            return Box::pin(async move { fut.await.map(|r| r.map(Either::Right)) });
        };
        let hub = self.hub.clone();
        Box::pin(async move {
            let mut req = req;
            let origin = req.headers().get(header::ORIGIN).cloned();
            // SockJS answers its own preflights (with caching headers).
            let mut resp = if req.method() == Method::OPTIONS && route != Route::SockJs {
                let mut resp = reply::empty(StatusCode::NO_CONTENT);
                cors::preflight(req.headers(), resp.headers_mut());
                resp
            } else {
                match gate::refusal(&hub, route, &mut req) {
                    None => dispatch(&hub, route, req).await,
                    Some(refusal) => refusal,
                }
            };
            cors::apply(hub.config(), origin.as_ref(), resp.headers_mut());
            Ok(resp.map(Either::Left))
        })
    }
}

async fn dispatch<B>(hub: &Arc<PlainHub>, route: Route, req: Request<B>) -> Resp
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    match (route, method) {
        (Route::Ws, Method::GET) => ws::upgrade(hub, req),
        (Route::Sse, Method::GET) => stream::open(hub, req, Framing::Sse).await,
        (Route::Stream, Method::GET) => stream::open(hub, req, Framing::Ndjson).await,
        (Route::Poll, Method::GET) => poll::poll(hub, req).await,
        (Route::Send, Method::POST) => send::send(hub, req).await,
        (Route::Api, _) => api::handle(hub, req).await,
        (Route::SockJs, _) => {
            let path = req.uri().path().to_owned();
            let rest = &path[hub.config().sockjs_prefix.len()..];
            sockjs::handle(hub, req, rest).await
        }
        _ => reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            wirehub_proto::plain::codes::NOT_FOUND,
            "method not allowed on this endpoint",
        ),
    }
}
