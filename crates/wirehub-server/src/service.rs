//! Tower integration: [`EngineService`] answers requests on the engine's
//! path and passes every other request to the inner service, so the server
//! mounts next to an application's own routes. [`EngineLayer`] wraps a
//! service in one.

use crate::engine::{Engine, EngineHandler, ResponseBody};
use crate::io::SocketIoHandler;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Full};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// The Socket.IO service around an inner service `S`.
pub type SocketIoService<S> = EngineService<SocketIoHandler, S>;
/// The Socket.IO layer.
pub type SocketIoLayer = EngineLayer<SocketIoHandler>;

/// Serves the engine's path; everything else goes to `inner`.
pub struct EngineService<H: EngineHandler, S> {
    engine: Arc<Engine<H>>,
    inner: S,
}

impl<H: EngineHandler, S: Clone> Clone for EngineService<H, S> {
    fn clone(&self) -> Self {
        EngineService {
            engine: self.engine.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<H: EngineHandler, S> EngineService<H, S> {
    /// The engine behind the service.
    pub fn engine(&self) -> &Arc<Engine<H>> {
        &self.engine
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<H, S, ReqBody, ResBody> Service<Request<ReqBody>> for EngineService<H, S>
where
    H: EngineHandler,
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Either<ResponseBody, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.engine.matches_path(req.uri().path()) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(req).await.map(Either::Left)) })
        } else {
            let fut = self.inner.call(req);
            Box::pin(async move { fut.await.map(|r| r.map(Either::Right)) })
        }
    }
}

/// Wraps services in an [`EngineService`].
pub struct EngineLayer<H: EngineHandler> {
    engine: Arc<Engine<H>>,
}

impl<H: EngineHandler> Clone for EngineLayer<H> {
    fn clone(&self) -> Self {
        EngineLayer {
            engine: self.engine.clone(),
        }
    }
}

impl<H: EngineHandler> EngineLayer<H> {
    /// A layer serving `engine`.
    pub fn new(engine: Arc<Engine<H>>) -> Self {
        EngineLayer { engine }
    }
}

impl<H: EngineHandler, S> tower_layer::Layer<S> for EngineLayer<H> {
    type Service = EngineService<H, S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// Answers 404 to everything: the inner service of a standalone server.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        let mut resp = Response::new(Full::new(Bytes::from_static(b"Not Found")));
        *resp.status_mut() = StatusCode::NOT_FOUND;
        std::future::ready(Ok(resp))
    }
}
