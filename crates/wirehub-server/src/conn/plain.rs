//! [`PlainConn`]: the shared handle of one plain-transport connection (plain
//! WebSocket, SSE, HTTP streaming, TCP, UDP). Its socket, broadcasts and the
//! HTTP `POST /send` endpoint queue envelopes on it; the transport's driver
//! task drains them to the wire.

use super::{Delivery, Transport};
use crate::config::SlowConsumerPolicy;
use crate::engine::mailbox::Mailbox;
use crate::engine::StoredRequest;
use crate::engine::{queue, SendError};
use crate::limits::{EventBudget, Verdict};
use bytes::Bytes;
use std::sync::Arc;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::sse as names;
use wirehub_proto::plain::{
    encode_ack, encode_disconnect, encode_error, encode_event, encode_hello,
};
use wirehub_proto::plain::{sse_event, EventMeta, Hello};
use wirehub_proto::socketio::{Args, Packet, PacketKind};
use wirehub_proto::Str;

/// Commands for a plain connection's driver.
#[derive(Debug)]
pub(crate) enum PlainCtl {
    /// Flush what is queued, then close.
    Close(CloseReason),
}

/// One queued envelope.
#[derive(Debug, Clone)]
pub(crate) enum PlainOut {
    /// This connection's own envelope, with its SSE event name.
    Own { envelope: Bytes, name: Str },
    /// A broadcast shared with other recipients (carries its history offset,
    /// so a resuming stream can skip what it already replayed).
    Shared(Arc<Delivery>),
}

impl PlainOut {
    /// The envelope JSON.
    pub(crate) fn envelope(&self) -> &Bytes {
        match self {
            PlainOut::Own { envelope, .. } => envelope,
            PlainOut::Shared(d) => d.plain(),
        }
    }

    /// The room-history offset, if any.
    pub(crate) fn offset(&self) -> Option<u64> {
        match self {
            PlainOut::Own { .. } => None,
            PlainOut::Shared(d) => d.offset(),
        }
    }

    /// The envelope as one Server-Sent Event.
    pub(crate) fn sse(&self) -> Bytes {
        match self {
            PlainOut::Own { envelope, name } => sse_event(Some(name), None, envelope),
            PlainOut::Shared(d) => d.sse().clone(),
        }
    }
}

/// The envelopes of a batch.
pub(crate) fn envelopes(batch: &[PlainOut]) -> Vec<Bytes> {
    batch.iter().map(|o| o.envelope().clone()).collect()
}

/// Settings a plain connection tells its client in the hello.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HelloInfo {
    pub(crate) ping_interval_ms: u64,
    pub(crate) max_payload: usize,
}

/// The shared handle of one plain-transport connection.
pub struct PlainConn {
    token: Str,
    transport: Transport,
    pub(crate) mailbox: Mailbox<PlainOut, PlainCtl>,
    policy: SlowConsumerPolicy,
    request: StoredRequest,
    hello: HelloInfo,
    /// The inbound event-rate bucket, when the rate is limited.
    budget: Option<Box<EventBudget>>,
}

impl std::fmt::Debug for PlainConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainConn")
            .field("transport", &self.transport)
            .finish()
    }
}

impl PlainConn {
    pub(crate) fn new(
        transport: Transport,
        capacity: usize,
        policy: SlowConsumerPolicy,
        request: http::request::Parts,
        hello: HelloInfo,
        budget: Option<Box<EventBudget>>,
    ) -> Self {
        PlainConn {
            token: crate::engine::random_id(),
            transport,
            mailbox: Mailbox::new(capacity),
            policy,
            request: StoredRequest::new(request),
            hello,
            budget,
        }
    }

    /// Takes an inbound event's token from the rate bucket.
    pub(crate) fn check_rate(&self) -> Verdict {
        self.budget.as_ref().map_or(Verdict::Admit, |b| b.check())
    }

    /// The secret that authorises `POST /send` for this connection.
    pub fn token(&self) -> &Str {
        &self.token
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The opening request's head (for TCP and UDP: a synthetic one whose
    /// extensions hold the peer address).
    pub fn request(&self) -> &http::request::Parts {
        self.request.parts()
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.mailbox.is_closed()
    }

    /// Asks the driver to flush and close.
    pub fn close(&self, reason: CloseReason) {
        self.mailbox.push_ctl(PlainCtl::Close(reason));
    }

    /// Queues one of this connection's own envelopes (`name`: its SSE event name).
    pub(crate) fn send(&self, envelope: Bytes, name: Str, volatile: bool) -> Result<(), SendError> {
        self.push(PlainOut::Own { envelope, name }, volatile)
    }

    /// Queues an entry; on a full queue applies the slow-consumer policy
    /// (volatile sends are simply dropped).
    pub(crate) fn push(&self, out: PlainOut, volatile: bool) -> Result<(), SendError> {
        queue(&self.mailbox, out, volatile, self.policy, || {
            tracing::warn!(transport = %self.transport, "outbound queue full, closing slow consumer");
            self.close(CloseReason::SlowConsumer);
        })
    }

    /// Queues an `error` envelope.
    pub(crate) fn send_error(&self, code: &str, message: &str, id: Option<u64>) {
        let envelope = encode_error(code, message, id, None);
        let _ = self.send(envelope, Str::from_static(names::ERROR), false);
    }

    /// Queues an `ack` envelope with one argument.
    pub(crate) fn send_ack<T: serde::Serialize>(&self, id: u64, value: &T) {
        if let Ok(args) = Args::one(value) {
            let envelope = encode_ack(id, &args);
            let _ = self.send(envelope, Str::from_static(names::ACK), false);
        }
    }

    /// Queues the `hello` envelope that confirms the namespace connection.
    pub(crate) fn send_hello(&self, ns: &str, sid: &str) -> Result<(), SendError> {
        let token = matches!(self.transport, Transport::Sse | Transport::HttpStream)
            .then_some(self.token.as_str());
        let hello = Hello {
            sid,
            ns,
            token,
            ping_interval_ms: self.hello.ping_interval_ms,
            max_payload: self.hello.max_payload,
        };
        self.send(encode_hello(&hello), Str::from_static(names::HELLO), false)
    }

    /// Encodes a Socket.IO packet as the matching envelope and queues it.
    pub(crate) fn send_packet(&self, packet: &Packet, volatile: bool) -> Result<(), SendError> {
        let (envelope, name) = match &packet.kind {
            PacketKind::Event { name, args, id } => {
                let meta = EventMeta {
                    id: *id,
                    room: None,
                    offset: None,
                };
                (encode_event(&meta, name, args), name.clone())
            }
            PacketKind::Ack { id, args } => (encode_ack(*id, args), names::ACK.into()),
            PacketKind::Disconnect => (
                encode_disconnect("server namespace disconnect"),
                names::DISCONNECT.into(),
            ),
            PacketKind::ConnectError(raw) => (connect_refusal(raw), names::ERROR.into()),
            // A plain connection's CONNECT answer is its hello.
            PacketKind::Connect(_) => return Ok(()),
        };
        self.send(envelope, name, volatile)
    }
}

/// The `error` envelope for a refused connection, from the Socket.IO
/// CONNECT_ERROR payload `{"message":...,"data":...}`.
fn connect_refusal(raw: &str) -> Bytes {
    let value: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
    let message = value
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or("connection refused");
    let data = value.get("data").map(|d| d.to_string());
    encode_error(
        wirehub_proto::plain::codes::CONNECT_REFUSED,
        message,
        None,
        data.as_deref(),
    )
}

impl crate::registry::Closer for PlainConn {
    fn close(&self, reason: CloseReason) {
        PlainConn::close(self, reason);
    }
}
