//! The HTTP transports of a SockJS session: the receivers (`xhr` polls,
//! `xhr_streaming` and `eventsource` streams), whose first request opens
//! the session, and `xhr_send`, which carries the client's messages.

use super::super::body::PlainBody;
use super::super::hub::{OpenError, PlainHub};
use super::super::query;
use super::super::reply::{self, Resp};
use super::super::session::on_envelope;
use super::session::{self, Shared};
use super::{no_cache, text};
use crate::io::Transport;
use crate::limits::peer_ip;
use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use std::sync::Arc;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::codes;
use wirehub_proto::plain::sockjs::{close_frame, decode_send, CloseCode, Receiver};

/// A receiving request: attaches to session `id`, opening it first if new.
pub(super) async fn receive<B>(
    hub: &Arc<PlainHub>,
    req: Request<B>,
    id: &str,
    kind: Receiver,
) -> Resp {
    let shared = match hub.sockjs.get(id) {
        Some(shared) => shared,
        None => match open(hub, req, id).await {
            Ok(shared) => shared,
            Err(close) => return receiver_response(kind, refused(kind, close)),
        },
    };
    let body = match shared.attach(kind) {
        Ok(rx) => PlainBody::Stream(rx),
        Err(answer) => PlainBody::full(answer),
    };
    receiver_response(kind, body)
}

/// Opens the plain connection of a new session; `Err` is the close frame
/// a refused one is answered with.
async fn open<B>(hub: &Arc<PlainHub>, req: Request<B>, id: &str) -> Result<Arc<Shared>, CloseCode> {
    let q = query::parse(req.uri().query().unwrap_or("")).map_err(|_| BAD_QUERY)?;
    let slot = hub
        .acquire(Transport::SockJs, peer_ip(req.extensions()))
        .map_err(|_| UNAVAILABLE)?;
    let (parts, _) = req.into_parts();
    let session = match hub
        .open(Transport::SockJs, slot, parts, &q.ns(), q.auth.clone())
        .await
    {
        Ok(session) => session,
        Err((OpenError::UnknownNamespace(_), _)) => return Err(UNKNOWN_NAMESPACE),
        Err((OpenError::Refused(_), _)) => return Err(REFUSED),
    };
    let config = hub.config().sockjs;
    Ok(session::start(
        &hub.sockjs,
        id,
        session,
        config,
        hub.track(),
    ))
}

/// The close frames of a session that could not open.
const BAD_QUERY: CloseCode = CloseCode {
    code: 4400,
    reason: "Bad query",
};
const UNKNOWN_NAMESPACE: CloseCode = CloseCode {
    code: 4404,
    reason: "Unknown namespace",
};
const REFUSED: CloseCode = CloseCode {
    code: 4403,
    reason: "Connection refused",
};
const UNAVAILABLE: CloseCode = CloseCode {
    code: 4503,
    reason: "Server busy",
};

/// The whole answer of a refused receiver: its prelude and a close frame.
fn refused(kind: Receiver, close: CloseCode) -> PlainBody {
    let mut answer = BytesMut::from(&kind.prelude()[..]);
    answer.extend_from_slice(&kind.wrap(&close_frame(close)));
    PlainBody::full(answer.freeze())
}

fn receiver_response(kind: Receiver, body: PlainBody) -> Resp {
    let mut resp = Response::new(body);
    let content_type = match kind {
        Receiver::EventSource => "text/event-stream",
        _ => "application/javascript; charset=UTF-8",
    };
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    no_cache(&mut resp);
    resp
}

/// `xhr_send`: a JSON array of messages, each one envelope. An unknown or
/// closed session is 404; a body that is not such an array is 500 (the
/// protocol's answer; the session stays); an envelope the session refuses
/// closes it, as on every plain transport.
pub(super) async fn send<B>(hub: &Arc<PlainHub>, req: Request<B>, id: &str) -> Resp
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(shared) = hub.sockjs.get(id).filter(|s| !s.is_closed()) else {
        return text(StatusCode::NOT_FOUND, "Not found.");
    };
    let body = match reply::read_body(hub.config(), req.into_body()).await {
        Ok(body) => body,
        Err(resp) => {
            if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
                let message = format!("body over {} bytes", hub.config().max_payload);
                shared.conn.send_error(codes::TOO_LARGE, &message, None);
                shared.conn.close(CloseReason::ParseError);
            }
            return resp;
        }
    };
    let messages = match decode_send(&body) {
        Ok(messages) => messages,
        Err(e) => {
            let mut resp = Response::new(PlainBody::full(e.to_string()));
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return resp;
        }
    };
    for message in messages {
        if let Err(refusal) = on_envelope(&shared.socket, &shared.conn, Bytes::from(message)) {
            shared.conn.close(refusal.reason());
            break;
        }
    }
    let mut resp = text(StatusCode::NO_CONTENT, "");
    no_cache(&mut resp);
    resp
}
