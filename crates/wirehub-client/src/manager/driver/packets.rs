//! Packets from the server: Engine.IO (ping, close, messages) and the
//! Socket.IO packets decoded from messages.

use super::{Conn, Driver};
use crate::error::Error;
use crate::handler::Lifecycle;
use crate::reason::DisconnectReason;
use crate::recovery::Recovery;
use tokio::time::Instant;
use wirehub_proto::engineio::{Frame, Packet as EioPacket};
use wirehub_proto::socketio::{Args, Packet, PacketKind, Parser};
use wirehub_proto::Str;

impl Driver {
    pub(super) fn on_engine_packet(&mut self, packet: EioPacket) {
        match packet {
            EioPacket::Ping => {
                if let Conn::Open(engine) = &mut self.conn {
                    engine.ping_deadline = Instant::now() + engine.ping_window;
                    engine.transport.send(EioPacket::Pong.to_frame());
                }
            }
            EioPacket::Close => self.lose(DisconnectReason::TransportClose),
            EioPacket::Message(message) => match self.decoder.decode(message) {
                Ok(Some(packet)) => self.on_packet(packet),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "invalid packet from the server");
                    self.lose(DisconnectReason::ParseError);
                }
            },
            _ => {}
        }
    }

    pub(super) fn on_packet(&mut self, packet: Packet) {
        let ns = packet.ns;
        let Some(n) = self.namespaces.get_mut(&ns) else {
            return;
        };
        match packet.kind {
            PacketKind::Connect(body) => {
                let data: serde_json::Value = body
                    .and_then(|b| serde_json::from_str(&b).ok())
                    .unwrap_or_default();
                let sid = data.get("sid").and_then(|s| s.as_str()).map(str::to_owned);
                let (early, buffered) = n.on_connected(sid, Recovery::pid_of(&data));
                // As the official client: the events received before the
                // answer (a restored session's missed ones), then the
                // buffered emits, then the `connect` handlers.
                for (name, args, id) in early {
                    self.deliver(&ns, &name, &args, id);
                }
                for packet in &buffered {
                    self.send_packet(packet);
                }
                // Handlers first: the waiter may drop the last handle at once.
                self.lifecycle(&ns, Lifecycle::Connect, None, None);
                if let Some(n) = self.namespaces.get_mut(&ns) {
                    n.wake();
                }
            }
            PacketKind::ConnectError(body) => {
                // Handlers first: the waiter may drop the last handle at once.
                let error = connect_error(&ns, &body);
                self.lifecycle(&ns, Lifecycle::ConnectError, None, Some(&error));
                if let Some(n) = self.namespaces.get_mut(&ns) {
                    n.give_up(&error);
                }
            }
            PacketKind::Disconnect => {
                let was = n.connected;
                let reason = DisconnectReason::IoServerDisconnect;
                n.recovery.forget();
                n.give_up(&Error::Disconnected(reason.as_str()));
                if was {
                    self.lifecycle(&ns, Lifecycle::Disconnect, Some(reason), None);
                }
            }
            PacketKind::Event { name, args, id } => {
                if n.connected {
                    self.deliver(&ns, &name, &args, id);
                } else if n.connecting {
                    n.receive_early((name, args, id));
                }
            }
            PacketKind::Ack { id, args } => n.resolve_ack(id, args),
        }
    }

    /// Hands an event to the handlers and notes its recovery offset.
    fn deliver(&mut self, ns: &Str, name: &Str, args: &Args, id: Option<u64>) {
        self.dispatch_event(ns, name, args, id);
        if let Some(n) = self.namespaces.get_mut(ns) {
            n.recovery.on_event(args, id.is_some());
        }
    }

    pub(super) fn send_packet(&self, packet: &Packet) {
        let Conn::Open(engine) = &self.conn else {
            return;
        };
        match self.config.parser {
            Parser::Json => {
                for frame in packet.encode().frames() {
                    engine.transport.send(frame);
                }
            }
            Parser::MsgPack => {
                engine
                    .transport
                    .send(Frame::Binary(packet.encode_msgpack()));
            }
        }
    }
}

/// A CONNECT_ERROR body (`{"message":..., "data":...}` or a string) as an error.
fn connect_error(ns: &Str, body: &Str) -> Error {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let (message, data) = match value {
        serde_json::Value::String(s) => (s, None),
        serde_json::Value::Object(mut map) => {
            let message = match map.remove("message") {
                Some(serde_json::Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => body.to_string(),
            };
            (message, map.remove("data"))
        }
        _ => (body.to_string(), None),
    };
    Error::ConnectRefused {
        ns: ns.to_string(),
        message,
        data,
    }
}
