//! `<prefix>/<server>/<session>/websocket`: a SockJS session over one
//! WebSocket. Frames (`o`, `h`, `a[...]`, `c[...]`) are text messages;
//! the client's messages are JSON arrays of strings (or one string). The
//! session lives and dies with the WebSocket, so it is not registered for
//! `xhr_send`.

use super::super::driver::{drive, Ending, Input, PlainIo};
use super::super::hub::PlainHub;
use super::super::query;
use super::super::reply::Resp;
use super::session::sleep_until;
use crate::conn::{PlainConn, PlainOut};
use crate::engine::ws::{Source, WsConn, WsEnd};
use crate::io::Transport;
use crate::registry::ConnectionSlot;
use bytes::Bytes;
use http::Request;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;
use wirehub_proto::engineio::{CloseReason, Frame};
use wirehub_proto::plain::sockjs::{close_frame, decode_ws, quote, CloseCode, Receiver, Session};

/// Answers the upgrade request and spawns the session's driver.
pub(super) fn upgrade<B>(hub: &Arc<PlainHub>, req: Request<B>) -> Resp {
    super::super::ws::upgrade_with(hub, req, Transport::SockJs, run)
}

async fn run(
    hub: Arc<PlainHub>,
    mut ws: WsConn,
    slot: ConnectionSlot,
    parts: http::request::Parts,
    q: query::PlainQuery,
) {
    let ns = q.ns();
    let opened = hub
        .open(Transport::SockJs, slot, parts, &ns, q.auth.clone())
        .await;
    let session = match opened {
        Ok(session) => session,
        Err((e, _)) => {
            let close = match e {
                super::super::hub::OpenError::UnknownNamespace(_) => CloseCode {
                    code: 4404,
                    reason: "Unknown namespace",
                },
                super::super::hub::OpenError::Refused(_) => CloseCode {
                    code: 4403,
                    reason: "Connection refused",
                },
            };
            let frames = [Bytes::from_static(b"o"), close_frame(close)];
            let _ = ws.send(Source::Texts(&frames)).await;
            ws.close_with(1000, close.reason).await;
            return;
        }
    };
    let mut proto = Session::new(Instant::now(), hub.config().sockjs);
    let _ = proto.attach(Instant::now(), Receiver::WebSocket);
    let mut io = WsIo {
        ws,
        proto,
        inbox: VecDeque::new(),
    };
    // The open frame goes before the hello the session queued.
    if io.flush().await.is_ok() {
        drive(session, io, None).await;
    }
}

/// A SockJS WebSocket: frames out, arrays of messages in.
struct WsIo {
    ws: WsConn,
    proto: Session,
    /// Messages of the last WebSocket message not handed on yet.
    inbox: VecDeque<String>,
}

impl WsIo {
    async fn flush(&mut self) -> Result<(), CloseReason> {
        let now = Instant::now();
        let frames: Vec<Bytes> = std::iter::from_fn(|| self.proto.poll_transmit(now))
            .map(|t| t.data)
            .collect();
        if frames.is_empty() {
            return Ok(());
        }
        self.ws
            .send(Source::Texts(&frames))
            .await
            .map_err(|_| CloseReason::TransportError)
    }
}

impl PlainIo for WsIo {
    async fn read(&mut self, _conn: &PlainConn) -> Input {
        loop {
            if let Some(message) = self.inbox.pop_front() {
                return Input::Envelope(Bytes::from(message));
            }
            let read = tokio::select! {
                biased;
                read = self.ws.recv() => read,
                () = sleep_until(self.proto.poll_timeout()) => return Input::Heartbeat,
            };
            let (reason, code) = match read {
                Ok(Frame::Text(text)) => match decode_ws(text.as_bytes()) {
                    Ok(messages) => {
                        self.inbox.extend(messages);
                        continue;
                    }
                    Err(_) => (CloseReason::ParseError, None),
                },
                Ok(Frame::Binary(_)) => (CloseReason::ParseError, None),
                Err(WsEnd::Closed) => (CloseReason::TransportClose, None),
                Err(WsEnd::TooBig | WsEnd::BadText) => (CloseReason::ParseError, None),
                Err(WsEnd::Protocol | WsEnd::Error) => (CloseReason::TransportError, None),
            };
            return Input::End(Ending { reason, code });
        }
    }

    async fn write(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        for out in batch {
            let text = String::from_utf8_lossy(out.envelope());
            self.proto
                .push(quote(&text))
                .map_err(|_| CloseReason::SlowConsumer)?;
        }
        self.flush().await
    }

    async fn heartbeat(&mut self) -> Result<(), Ending> {
        self.proto.handle_timeout(Instant::now());
        self.flush().await.map_err(Ending::quiet)
    }

    async fn finish(mut self, rest: Vec<PlainOut>, ending: Ending) {
        if ending.reason == CloseReason::TransportClose {
            // The peer closed: answer its close frame.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.ws.close()).await;
            return;
        }
        if ending.code.is_some() {
            let _ = self.write(&rest).await;
        }
        self.proto.close(Instant::now(), CloseCode::GO_AWAY);
        let _ = self.flush().await;
        self.ws.close_with(1000, CloseCode::GO_AWAY.reason).await;
    }
}
