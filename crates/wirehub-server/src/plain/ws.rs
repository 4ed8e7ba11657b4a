//! The plain WebSocket endpoint (`GET /ws?ns=/&auth=...`): one envelope
//! per text message both ways, WebSocket ping frames every ping interval
//! (a peer silent for a whole interval after a ping is dropped), and a
//! close handshake whose code says why (1000 normal, 1002 broken
//! WebSocket framing, 1003 binary data, 1007 bad envelope or text that is
//! not UTF-8, 1008 refused, 1009 too big, 1011 slow consumer).

use super::driver::{drive, Ending, Input, PlainIo, BATCH};
use super::hub::{OpenError, PlainHub};
use super::query;
use super::reply::{self, Resp};
use crate::conn::{envelopes, PlainConn, PlainOut};
use crate::engine::ws::{negotiate_deflate, Source, WsConn, WsEnd};
use crate::engine::{upgrade_response, websocket_key};
use crate::io::Transport;
use crate::limits::peer_ip;
use crate::registry::ConnectionSlot;
use http::{Request, StatusCode};
use std::sync::Arc;
use wirehub_proto::engineio::{CloseReason, Frame};
use wirehub_proto::plain::codes;

/// Answers the upgrade request and spawns the connection's driver.
pub(crate) fn upgrade<B>(hub: &Arc<PlainHub>, req: Request<B>) -> Resp {
    upgrade_with(hub, req, Transport::PlainWebSocket, run)
}

/// Answers a WebSocket upgrade for a plain connection of `transport`: takes
/// its place in the registry and spawns `run` over the upgraded connection
/// (the plain `/ws` driver, or SockJS's).
pub(super) fn upgrade_with<B, F, Fut>(
    hub: &Arc<PlainHub>,
    mut req: Request<B>,
    transport: Transport,
    run: F,
) -> Resp
where
    F: FnOnce(
            Arc<PlainHub>,
            WsConn,
            ConnectionSlot,
            http::request::Parts,
            query::PlainQuery,
        ) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let Some(key) = websocket_key(&req) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "expected a WebSocket upgrade",
        );
    };
    let q = match query::parse(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, &e),
    };
    let slot = match hub.acquire(transport, peer_ip(req.extensions())) {
        Ok(slot) => slot,
        Err(limit) => return reply::limit(limit),
    };
    let deflate = negotiate_deflate(&req, hub.config().ws_deflate);
    let threshold = deflate.map(|_| hub.config().ws_deflate_threshold);
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (parts, _) = req.into_parts();
    let hub = hub.clone();
    let task = hub.track();
    tokio::spawn(async move {
        let _task = task;
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, %transport, "websocket upgrade failed");
                return;
            }
        };
        let ws = WsConn::accept(upgraded, hub.config().max_payload, threshold);
        run(hub, ws, slot, parts, q).await;
    });
    match upgrade_response(key, deflate) {
        Ok(resp) => resp.map(|_| super::body::PlainBody::empty()),
        Err(_) => reply::empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn run(
    hub: Arc<PlainHub>,
    mut ws: WsConn,
    slot: ConnectionSlot,
    parts: http::request::Parts,
    q: query::PlainQuery,
) {
    let session = match hub
        .open(
            Transport::PlainWebSocket,
            slot,
            parts,
            &q.ns(),
            q.auth.clone(),
        )
        .await
    {
        Ok(session) => session,
        Err((e, conn)) => {
            let queued: Vec<_> = conn.mailbox.take_out(BATCH);
            let _ = ws.send(Source::Texts(&envelopes(&queued))).await;
            let reason = match &e {
                OpenError::UnknownNamespace(_) => "unknown namespace",
                OpenError::Refused(_) => "connection refused",
            };
            ws.close_with(1008, reason).await;
            return;
        }
    };
    let mut ticker = tokio::time::interval(hub.config().ping_interval);
    ticker.tick().await;
    let io = WsIo {
        ws,
        ticker,
        pinged: false,
        max_payload: hub.config().max_payload,
    };
    drive(session, io, None).await;
}

/// A plain WebSocket: one envelope per text message, a ping every
/// interval (a peer silent for a whole interval after one is dropped).
struct WsIo {
    ws: WsConn,
    ticker: tokio::time::Interval,
    pinged: bool,
    max_payload: usize,
}

impl PlainIo for WsIo {
    async fn read(&mut self, conn: &PlainConn) -> Input {
        let read = tokio::select! {
            biased;
            read = self.ws.recv() => read,
            _ = self.ticker.tick() => return Input::Heartbeat,
        };
        let (reason, code) = match read {
            Ok(Frame::Text(text)) => return Input::Envelope(text.into_bytes()),
            Ok(Frame::Binary(_)) => {
                conn.send_error(
                    codes::BAD_ENVELOPE,
                    "binary messages are not supported",
                    None,
                );
                (CloseReason::ParseError, Some(1003))
            }
            Err(WsEnd::Closed) => (CloseReason::TransportClose, None),
            Err(WsEnd::TooBig) => {
                let message = format!("message over {} bytes", self.max_payload);
                conn.send_error(codes::TOO_LARGE, &message, None);
                (CloseReason::ParseError, Some(1009))
            }
            Err(WsEnd::BadText) => (CloseReason::ParseError, Some(1007)),
            Err(WsEnd::Protocol) => (CloseReason::TransportError, Some(1002)),
            Err(WsEnd::Error) => (CloseReason::TransportError, None),
        };
        Input::End(Ending { reason, code })
    }

    async fn write(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        let texts = envelopes(batch);
        self.ws
            .send(Source::Texts(&texts))
            .await
            .map_err(|_| CloseReason::TransportError)
    }

    async fn heartbeat(&mut self) -> Result<(), Ending> {
        if !self.ws.take_activity() && self.pinged {
            return Err(Ending {
                reason: CloseReason::PingTimeout,
                code: Some(1001),
            });
        }
        self.ws
            .ping()
            .await
            .map_err(|_| Ending::quiet(CloseReason::TransportError))?;
        self.pinged = true;
        Ok(())
    }

    async fn finish(mut self, rest: Vec<PlainOut>, ending: Ending) {
        if let Some(code) = ending.code {
            // Flush what is still queued (an error envelope, a disconnect).
            let _ = self.ws.send(Source::Texts(&envelopes(&rest))).await;
            self.ws.close_with(code, ending.reason.as_str()).await;
        } else if ending.reason == CloseReason::TransportClose {
            // The peer closed: answer its close frame (RFC 6455, section 5.5.1).
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.ws.close()).await;
        }
    }
}
