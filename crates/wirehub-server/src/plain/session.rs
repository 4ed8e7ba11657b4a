//! What a plain client's envelopes do once its socket is connected: join
//! and leave rooms, emit to the server's handlers or publish to rooms,
//! answer acks, ping. Shared by every plain transport's driver and by
//! `POST /send`.

use super::room_events::own_rooms;
use crate::conn::PlainConn;
use crate::io::adapter::OffsetReceipt;
use crate::io::SocketRef;
use crate::limits::{EventBudget, Verdict};
use crate::metrics::ErrorKind;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::{codes, encode_pong, parse_client, ClientMsg, EnvelopeError};
use wirehub_proto::Str;

/// Why an envelope ended the connection.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The envelope was invalid (an error envelope was queued).
    Invalid(EnvelopeError),
    /// The client asked to close.
    Closed,
    /// The client stayed over the event rate (a `rate_limited` error was queued).
    RateLimited,
}

impl Refusal {
    pub(crate) fn reason(&self) -> CloseReason {
        match self {
            Refusal::Invalid(_) => CloseReason::ParseError,
            Refusal::Closed => CloseReason::TransportClose,
            Refusal::RateLimited => CloseReason::RateLimited,
        }
    }
}

/// Decodes one envelope and acts on it. An invalid envelope queues an
/// `error` envelope and returns [`Refusal::Invalid`]: the caller closes
/// the connection after flushing.
pub(crate) fn on_envelope(
    socket: &SocketRef,
    conn: &Arc<PlainConn>,
    msg: Bytes,
) -> Result<(), Refusal> {
    match parse_client(msg) {
        Ok(msg) => on_message(socket, conn, msg),
        Err(e) => {
            socket.metrics().server().error(ErrorKind::Parse);
            conn.send_error(e.code(), &e.to_string(), None);
            Err(Refusal::Invalid(e))
        }
    }
}

/// Acts on one decoded envelope.
pub(crate) fn on_message(
    socket: &SocketRef,
    conn: &Arc<PlainConn>,
    msg: ClientMsg,
) -> Result<(), Refusal> {
    let client_rooms = socket.config().plain_client_rooms;
    if matches!(
        msg,
        ClientMsg::Join { .. } | ClientMsg::Leave { .. } | ClientMsg::Emit { .. }
    ) {
        match conn.check_rate() {
            Verdict::Admit => {}
            Verdict::Drop => return Ok(()),
            Verdict::Disconnect => {
                let reason = EventBudget::reason(socket.config());
                conn.send_error(codes::RATE_LIMITED, &reason, None);
                return Err(Refusal::RateLimited);
            }
        }
    }
    match msg {
        ClientMsg::Connect { .. } => {
            conn.send_error(codes::BAD_ENVELOPE, "already connected", None);
            return Err(Refusal::Invalid(EnvelopeError::BadEnvelope(
                "already connected",
            )));
        }
        ClientMsg::Join { id, .. } | ClientMsg::Leave { id, .. } if !client_rooms => {
            refuse_rooms(conn, id);
        }
        ClientMsg::Join { rooms, id } => match socket.try_join(rooms) {
            Ok(()) => {
                if let Some(id) = id {
                    conn.send_ack(id, &json!({ "rooms": own_rooms(socket) }));
                }
            }
            Err(limit) => conn.send_error(limit.plain_code(), &limit.to_string(), id),
        },
        ClientMsg::Leave { rooms, id } => {
            socket.leave(rooms);
            if let Some(id) = id {
                conn.send_ack(id, &json!({ "rooms": own_rooms(socket) }));
            }
        }
        ClientMsg::Emit {
            event,
            args,
            id,
            rooms,
        } if rooms.is_empty() => socket.on_event(&event, &args, id),
        ClientMsg::Emit { id, .. } if !client_rooms => refuse_rooms(conn, id),
        ClientMsg::Emit {
            event,
            args,
            id,
            rooms,
        } => {
            socket.metrics().event_received();
            let published = match socket.to(rooms).publish(&event, args) {
                Ok(published) => published,
                Err(e) => {
                    conn.send_error(codes::UNAVAILABLE, &e.to_string(), id);
                    return Ok(());
                }
            };
            if let Some(id) = id {
                let delivered = published.recipients;
                match published.offset {
                    OffsetReceipt::Ready(offset) => {
                        conn.send_ack(id, &json!({ "delivered": delivered, "offset": offset }));
                    }
                    pending => {
                        let conn = conn.clone();
                        tokio::spawn(async move {
                            let offset = pending.get().await;
                            conn.send_ack(id, &json!({ "delivered": delivered, "offset": offset }));
                        });
                    }
                }
            }
        }
        ClientMsg::Ack { id, args } => socket.on_ack(id, args),
        ClientMsg::Ping => {
            let _ = conn.send(
                encode_pong(),
                Str::from_static(wirehub_proto::plain::sse::PONG),
                false,
            );
        }
        ClientMsg::Close => return Err(Refusal::Closed),
    }
    Ok(())
}

fn refuse_rooms(conn: &PlainConn, id: Option<u64>) {
    conn.send_error(
        codes::NOT_ALLOWED,
        "this server does not let clients join or publish to rooms",
        id,
    );
}
