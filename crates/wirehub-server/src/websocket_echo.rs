//! A bare WebSocket echo on the server's own WebSocket layer: every text or
//! binary message goes back as it came, on any path. It exists so the
//! Autobahn|Testsuite (`tests/autobahn`) can check that layer (our frame
//! decoder, control frames and vectored writes) against RFC 6455, with
//! nothing of Engine.IO in between.
//!
//! A connection that breaks the protocol is closed with 1002 (1007 for text
//! that is not UTF-8), one with a message over the limit with 1009. With
//! [`WebSocketEcho::with_deflate`], clients that offer permessage-deflate
//! get it (Autobahn's sections 12 and 13).

use crate::engine::ws::{negotiate_deflate, Source, WsConn, WsEnd};
use crate::engine::{upgrade_response, websocket_key, ResponseBody};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};
use tower_service::Service;

/// The echo service: upgrades every WebSocket request, answers anything
/// else with 400.
#[derive(Debug, Clone, Copy)]
pub struct WebSocketEcho {
    max_message: usize,
    deflate: Option<usize>,
}

impl WebSocketEcho {
    /// An echo whose connections fail with 1009 on messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        WebSocketEcho {
            max_message,
            deflate: None,
        }
    }

    /// Negotiates permessage-deflate with clients that offer it, and
    /// compresses echoes of at least `threshold` bytes.
    pub fn with_deflate(self, threshold: usize) -> Self {
        WebSocketEcho {
            deflate: Some(threshold),
            ..self
        }
    }
}

impl<B> Service<Request<B>> for WebSocketEcho {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let agreement = negotiate_deflate(&req, self.deflate.is_some());
        let threshold = agreement.and(self.deflate);
        let response = match websocket_key(&req).map(|key| upgrade_response(key, agreement)) {
            Some(Ok(response)) => response,
            _ => bad_request(),
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            let on_upgrade = hyper::upgrade::on(&mut req);
            let max_message = self.max_message;
            tokio::spawn(async move {
                if let Ok(upgraded) = on_upgrade.await {
                    echo(WsConn::accept(upgraded, max_message, threshold)).await;
                }
            });
        }
        ready(Ok(response))
    }
}

fn bad_request() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::new(Bytes::from_static(
        b"expected a WebSocket upgrade",
    )));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

async fn echo(mut ws: WsConn) {
    loop {
        match ws.recv().await {
            Ok(frame) => {
                if ws
                    .send(Source::Frames(std::slice::from_ref(&frame)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(WsEnd::Closed) => return ws.close().await,
            Err(WsEnd::TooBig) => return ws.close_with(1009, "message too big").await,
            Err(WsEnd::BadText) => return ws.close_with(1007, "text is not UTF-8").await,
            Err(WsEnd::Protocol) => return ws.close_with(1002, "protocol error").await,
            Err(WsEnd::Error) => return,
        }
    }
}
