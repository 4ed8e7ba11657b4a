//! The plain WebSocket endpoint (`GET /ws?ns=/&auth=...`): one envelope
//! per text message both ways, WebSocket ping frames every ping interval
//! (a peer silent for a whole interval after a ping is dropped), and a
//! close handshake whose code says why (1000 normal, 1002 broken
//! WebSocket framing, 1003 binary data, 1007 bad envelope or text that is
//! not UTF-8, 1008 refused, 1009 too big, 1011 slow consumer).

use super::hub::{OpenError, PlainHub};
use super::query;
use super::reply::{self, Resp};
use super::session::{on_envelope, Refusal};
use crate::conn::{envelopes, PlainCtl};
use crate::engine::mailbox::Taken;
use crate::engine::ws::{Source, WsConn, WsEnd};
use crate::engine::{upgrade_response, websocket_key};
use crate::io::Transport;
use crate::limits::peer_ip;
use crate::registry::ConnectionSlot;
use http::{Request, StatusCode};
use std::sync::Arc;
use wirehub_proto::engineio::{CloseReason, Frame};
use wirehub_proto::plain::codes;

const BATCH: usize = 64;

/// Answers the upgrade request and spawns the connection's driver.
pub(crate) fn upgrade<B>(hub: &Arc<PlainHub>, mut req: Request<B>) -> Resp {
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
    let slot = match hub.acquire(Transport::PlainWebSocket, peer_ip(req.extensions())) {
        Ok(slot) => slot,
        Err(limit) => return reply::limit(limit),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (parts, _) = req.into_parts();
    let hub = hub.clone();
    let task = hub.track();
    tokio::spawn(async move {
        let _task = task;
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "plain websocket upgrade failed");
                return;
            }
        };
        let ws = WsConn::accept(upgraded, hub.config().max_payload);
        run(hub, ws, slot, parts, q).await;
    });
    match upgrade_response(key) {
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
    let conn = session.conn.clone();
    let socket = session.socket.clone();
    let mut ticker = tokio::time::interval(hub.config().ping_interval);
    ticker.tick().await;
    let mut pinged = false;
    let (reason, code) = loop {
        tokio::select! {
            biased;
            taken = conn.mailbox.next(true, BATCH) => match taken {
                Taken::Out(batch) => {
                    if ws.send(Source::Texts(&envelopes(&batch))).await.is_err() {
                        break (CloseReason::TransportError, None);
                    }
                }
                Taken::Ctl(PlainCtl::Close(reason)) => break (reason, Some(close_code(reason))),
                Taken::Closed => break (CloseReason::ForcedClose, Some(1000)),
            },
            read = ws.recv() => match read {
                Ok(Frame::Text(text)) => {
                    if let Err(refusal) = on_envelope(&socket, &conn, text.into_bytes()) {
                        let code = match refusal {
                            Refusal::Closed => 1000,
                            Refusal::Invalid(_) => 1007,
                            Refusal::RateLimited => 1008,
                        };
                        break (refusal.reason(), Some(code));
                    }
                }
                Ok(Frame::Binary(_)) => {
                    conn.send_error(codes::BAD_ENVELOPE, "binary messages are not supported", None);
                    break (CloseReason::ParseError, Some(1003));
                }
                Err(WsEnd::Closed) => break (CloseReason::TransportClose, None),
                Err(WsEnd::TooBig) => {
                    let max = hub.config().max_payload;
                    let message = format!("message over {max} bytes");
                    conn.send_error(codes::TOO_LARGE, &message, None);
                    break (CloseReason::ParseError, Some(1009));
                }
                Err(WsEnd::BadText) => break (CloseReason::ParseError, Some(1007)),
                Err(WsEnd::Protocol) => break (CloseReason::TransportError, Some(1002)),
                Err(WsEnd::Error) => break (CloseReason::TransportError, None),
            },
            _ = ticker.tick() => {
                if !ws.take_activity() && pinged {
                    break (CloseReason::PingTimeout, Some(1001));
                }
                if ws.ping().await.is_err() {
                    break (CloseReason::TransportError, None);
                }
                pinged = true;
            }
        }
    };
    session.finish(reason);
    if let Some(code) = code {
        // Flush what is still queued (an error envelope, a disconnect).
        let rest = conn.mailbox.take_out(usize::MAX);
        let _ = ws.send(Source::Texts(&envelopes(&rest))).await;
        ws.close_with(code, reason.as_str()).await;
    } else if reason == CloseReason::TransportClose {
        // The peer closed: answer its close frame (RFC 6455, section 5.5.1).
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), ws.close()).await;
    }
}

fn close_code(reason: CloseReason) -> u16 {
    match reason {
        CloseReason::SlowConsumer => 1011,
        CloseReason::ServerShutdown => 1001,
        CloseReason::ParseError => 1007,
        CloseReason::RateLimited => 1008,
        _ => 1000,
    }
}
