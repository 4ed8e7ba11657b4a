//! [`Link`]: what a socket's packets travel over — an Engine.IO session
//! (Socket.IO clients) or a plain-transport connection (WebSocket, SSE,
//! HTTP streaming, TCP, UDP clients speaking the plain envelope) — and
//! [`Transport`], its public name.
//!
//! Each link encodes a packet in its own wire format (an Engine.IO link in
//! its server's Socket.IO parser, JSON or MessagePack); a broadcast
//! ([`Delivery`]) is encoded at most once per format and shared.

use super::delivery::Delivery;
use super::plain::{PlainConn, PlainOut};
use crate::engine::{EngineConn, Outgoing, SendError};
use std::sync::Arc;
use wirehub_proto::engineio::{CloseReason, Frame, ProtocolVersion, TransportKind};
use wirehub_proto::socketio::{Packet, Parser};
use wirehub_proto::Str;

/// The transport a socket's client is connected with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Socket.IO over HTTP long-polling.
    Polling,
    /// Socket.IO over WebSocket.
    WebSocket,
    /// Plain envelope over WebSocket (`/ws`).
    PlainWebSocket,
    /// Plain envelope over Server-Sent Events (`/sse`).
    Sse,
    /// Plain envelope over chunked NDJSON (`/stream`).
    HttpStream,
    /// Plain envelope over a raw TCP stream (NDJSON).
    Tcp,
    /// Plain envelope over UDP datagrams.
    Udp,
    /// Plain envelope as SockJS messages (any SockJS transport).
    SockJs,
}

impl Transport {
    /// Every transport, in the order of [`Transport::index`].
    pub const ALL: [Transport; 8] = [
        Transport::Polling,
        Transport::WebSocket,
        Transport::PlainWebSocket,
        Transport::Sse,
        Transport::HttpStream,
        Transport::Tcp,
        Transport::Udp,
        Transport::SockJs,
    ];

    /// The transport's position in [`Transport::ALL`] (an array index for
    /// per-transport counters).
    pub fn index(self) -> usize {
        self as usize
    }

    /// A short lowercase name (`polling`, `websocket`, `ws`, `sse`, `stream`, `tcp`, `udp`, `sockjs`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
            Transport::PlainWebSocket => "ws",
            Transport::Sse => "sse",
            Transport::HttpStream => "stream",
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::SockJs => "sockjs",
        }
    }

    /// Whether this is a Socket.IO (Engine.IO) transport.
    pub fn is_socketio(self) -> bool {
        matches!(self, Transport::Polling | Transport::WebSocket)
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A socket's connection.
#[derive(Debug, Clone)]
pub(crate) enum Link {
    /// A Socket.IO client, and the packet encoding it speaks.
    Engine(Arc<EngineConn>, Parser),
    Plain(Arc<PlainConn>),
}

impl Link {
    pub(crate) fn request(&self) -> &http::request::Parts {
        match self {
            Link::Engine(c, _) => c.request(),
            Link::Plain(c) => c.request(),
        }
    }

    /// The Engine.IO session id, or the plain connection's token.
    pub(crate) fn client_id(&self) -> &Str {
        match self {
            Link::Engine(c, _) => c.sid(),
            Link::Plain(c) => c.token(),
        }
    }

    pub(crate) fn transport(&self) -> Option<Transport> {
        match self {
            Link::Engine(c, _) => c.transport().map(|t| match t {
                TransportKind::Polling => Transport::Polling,
                TransportKind::WebSocket => Transport::WebSocket,
            }),
            Link::Plain(c) => (!c.is_closed()).then(|| c.transport()),
        }
    }

    /// Whether the client speaks Socket.IO protocol v4 over Engine.IO
    /// revision 3 (socket.io-client 2.x): CONNECT answers carry no payload,
    /// CONNECT errors are a bare value, socket ids are the session's.
    pub(crate) fn is_legacy(&self) -> bool {
        matches!(self, Link::Engine(c, _) if c.protocol() == ProtocolVersion::V3)
    }

    /// The Engine.IO session id, for an Engine.IO link.
    pub(crate) fn engine_sid(&self) -> Option<&wirehub_proto::Str> {
        match self {
            Link::Engine(c, _) => Some(c.sid()),
            Link::Plain(_) => None,
        }
    }

    pub(crate) fn close(&self, reason: CloseReason) {
        match self {
            Link::Engine(c, _) => c.close(reason),
            Link::Plain(c) => c.close(reason),
        }
    }

    /// Encodes and queues one packet.
    pub(crate) fn send_packet(&self, packet: &Packet, volatile: bool) -> Result<(), SendError> {
        match self {
            Link::Engine(c, parser) => c.send(outgoing(packet, *parser), volatile),
            Link::Plain(c) => c.send_packet(packet, volatile),
        }
    }

    /// Queues a shared broadcast, in this link's format.
    pub(crate) fn deliver(
        &self,
        delivery: &Arc<Delivery>,
        volatile: bool,
    ) -> Result<(), SendError> {
        match self {
            Link::Engine(c, parser) => c.send(delivery.socketio(*parser).clone(), volatile),
            Link::Plain(c) => c.push(PlainOut::Shared(delivery.clone()), volatile),
        }
    }

    /// Queues the answer to a namespace CONNECT.
    /// With connection-state recovery, it carries the private id `pid`.
    pub(crate) fn send_connect_answer(
        &self,
        ns: &str,
        sid: &str,
        pid: Option<&str>,
    ) -> Result<(), SendError> {
        match self {
            Link::Engine(c, parser) => {
                let packet = if c.protocol() == ProtocolVersion::V3 {
                    Packet::connect_ok_legacy(ns.to_owned().into())
                } else {
                    Packet::connect_ok(ns.to_owned().into(), sid, pid)
                };
                let frame = match parser {
                    Parser::Json => Frame::Text(packet.encode().text),
                    Parser::MsgPack => Frame::Binary(packet.encode_msgpack()),
                };
                c.send(Outgoing::Paced(frame), false)
            }
            Link::Plain(c) => c.send_hello(ns, sid),
        }
    }

    /// Whether a namespace DISCONNECT also ends the connection (a plain
    /// connection holds exactly one socket).
    pub(crate) fn closes_with_socket(&self) -> bool {
        matches!(self, Link::Plain(_))
    }
}

/// Encodes a Socket.IO packet into one queue entry, in `parser`'s format.
pub(crate) fn outgoing(packet: &Packet, parser: Parser) -> Outgoing {
    if parser == Parser::MsgPack {
        return Outgoing::One(Frame::Binary(packet.encode_msgpack()));
    }
    let encoded = packet.encode();
    if encoded.attachments.is_empty() {
        Outgoing::One(Frame::Text(encoded.text))
    } else {
        Outgoing::Many(encoded.frames().collect())
    }
}
