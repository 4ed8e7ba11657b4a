//! The protocol of socket.io-adapter's `ClusterAdapter`: every message is
//! `{uid, nsp, type, data}`, JSON unless it may carry binary and does (then
//! MessagePack). `@socket.io/redis-adapter`'s sharded adapter
//! (`createShardedAdapter`) speaks it over Redis sharded pub/sub
//! (`{prefix}#{nsp}#` for everything, `{prefix}#{nsp}#{uid}#` for responses
//! to a node, and `{prefix}#{nsp}#{room}#` for broadcasts to one room);
//! wirehub's NATS adapter speaks it over NATS subjects, with the heartbeats
//! of `ClusterAdapterWithHeartbeat` to count the nodes.

use super::options::{event_and_args, event_data, EventPacket, WireOptions};
use super::value::{
    decode, get, get_opt_str, get_rooms, get_str, get_u64, has_binary, map, rooms_value, to_json,
    to_msgpack, DecodeError, Value,
};
use crate::socketio::Args;
use crate::Str;
use bytes::Bytes;

/// A message's type and data.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// 1: a node started; the others answer with a heartbeat.
    InitialHeartbeat,
    /// 2: a node is alive.
    Heartbeat,
    /// 3: a broadcast; with `request_id`, its recipients answer.
    Broadcast {
        /// Who it reaches.
        opts: WireOptions,
        /// The event.
        packet: EventPacket,
        /// Set when recipients answer.
        request_id: Option<Str>,
    },
    /// 4: sockets join rooms.
    SocketsJoin {
        /// Which sockets.
        opts: WireOptions,
        /// The rooms.
        rooms: Vec<Str>,
    },
    /// 5: sockets leave rooms.
    SocketsLeave {
        /// Which sockets.
        opts: WireOptions,
        /// The rooms.
        rooms: Vec<Str>,
    },
    /// 6: sockets are disconnected.
    DisconnectSockets {
        /// Which sockets.
        opts: WireOptions,
        /// Whether their whole connection closes.
        close: bool,
    },
    /// 7: describe sockets.
    FetchSockets {
        /// Which sockets.
        opts: WireOptions,
        /// Matches the answers.
        request_id: Str,
    },
    /// 8: sockets described.
    FetchSocketsResponse {
        /// The request answered.
        request_id: Str,
        /// `{id, handshake, rooms, data}` each.
        sockets: Vec<Value>,
    },
    /// 9: run a server-side handler (answer if `request_id`).
    ServerSideEmit {
        /// Set when the emitter wants answers.
        request_id: Option<Str>,
        /// The event.
        event: Str,
        /// Its arguments.
        args: Args,
    },
    /// 10: a node's answer to a server-side emit.
    ServerSideEmitResponse {
        /// The request answered.
        request_id: Str,
        /// The answer.
        packet: Value,
    },
    /// 11: a node's recipient count for a broadcast with acks.
    BroadcastClientCount {
        /// The request answered.
        request_id: Str,
        /// How many recipients.
        count: u64,
    },
    /// 12: one recipient's answer.
    BroadcastAck {
        /// The request answered.
        request_id: Str,
        /// The answer (its first argument).
        packet: Value,
    },
    /// 13: a node's adapter closed.
    AdapterClose,
}

/// One message between nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The sending adapter's id (16 hex digits in Node).
    pub uid: Str,
    /// The namespace.
    pub nsp: Str,
    /// What it says.
    pub kind: Kind,
}

impl Kind {
    /// The message type number (`MessageType` in socket.io-adapter).
    pub fn type_number(&self) -> u64 {
        match self {
            Kind::InitialHeartbeat => 1,
            Kind::Heartbeat => 2,
            Kind::Broadcast { .. } => 3,
            Kind::SocketsJoin { .. } => 4,
            Kind::SocketsLeave { .. } => 5,
            Kind::DisconnectSockets { .. } => 6,
            Kind::FetchSockets { .. } => 7,
            Kind::FetchSocketsResponse { .. } => 8,
            Kind::ServerSideEmit { .. } => 9,
            Kind::ServerSideEmitResponse { .. } => 10,
            Kind::BroadcastClientCount { .. } => 11,
            Kind::BroadcastAck { .. } => 12,
            Kind::AdapterClose => 13,
        }
    }

    /// Whether it is a response to one node's request.
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Kind::FetchSocketsResponse { .. }
                | Kind::ServerSideEmitResponse { .. }
                | Kind::BroadcastClientCount { .. }
                | Kind::BroadcastAck { .. }
        )
    }

    /// The message's `data` (none for heartbeats and `ADAPTER_CLOSE`).
    pub fn data(&self) -> Option<Value> {
        let id = |id: &Str| ("requestId", Value::from(id.as_str()));
        Some(match self {
            Kind::InitialHeartbeat | Kind::Heartbeat | Kind::AdapterClose => return None,
            Kind::Broadcast {
                opts,
                packet,
                request_id,
            } => {
                let mut e = vec![("opts", opts.to_value()), ("packet", packet.to_value())];
                e.extend(request_id.as_ref().map(id));
                map(e)
            }
            Kind::SocketsJoin { opts, rooms } | Kind::SocketsLeave { opts, rooms } => map(vec![
                ("opts", opts.to_value()),
                ("rooms", rooms_value(rooms)),
            ]),
            Kind::DisconnectSockets { opts, close } => map(vec![
                ("opts", opts.to_value()),
                ("close", Value::Boolean(*close)),
            ]),
            Kind::FetchSockets { opts, request_id } => {
                map(vec![("opts", opts.to_value()), id(request_id)])
            }
            Kind::FetchSocketsResponse {
                request_id,
                sockets,
            } => map(vec![
                id(request_id),
                ("sockets", Value::Array(sockets.clone())),
            ]),
            Kind::ServerSideEmit {
                request_id,
                event,
                args,
            } => {
                let mut e: Vec<_> = request_id.as_ref().map(id).into_iter().collect();
                e.push(("packet", event_data(event, args)));
                map(e)
            }
            Kind::ServerSideEmitResponse { request_id, packet }
            | Kind::BroadcastAck { request_id, packet } => {
                map(vec![id(request_id), ("packet", packet.clone())])
            }
            Kind::BroadcastClientCount { request_id, count } => {
                map(vec![id(request_id), ("clientCount", Value::from(*count))])
            }
        })
    }
}

impl Message {
    /// The message bytes: MessagePack when its data holds binary, else JSON
    /// (as Node's sharded adapter chooses).
    pub fn encode(&self) -> Bytes {
        let data = self.kind.data();
        let binary = data.as_ref().is_some_and(has_binary);
        let mut e = vec![
            ("uid", Value::from(self.uid.as_str())),
            ("nsp", Value::from(self.nsp.as_str())),
            ("type", Value::from(self.kind.type_number())),
        ];
        e.extend(data.map(|d| ("data", d)));
        let v = map(e);
        if binary {
            to_msgpack(&v)
        } else {
            to_json(&v)
        }
    }

    /// The message bytes as MessagePack, whatever it holds (as the Redis
    /// streams adapter publishes on pub/sub).
    pub fn encode_msgpack(&self) -> Bytes {
        let mut e = vec![
            ("uid", Value::from(self.uid.as_str())),
            ("nsp", Value::from(self.nsp.as_str())),
            ("type", Value::from(self.kind.type_number())),
        ];
        e.extend(self.kind.data().map(|d| ("data", d)));
        to_msgpack(&map(e))
    }

    /// Reads a message (JSON or MessagePack).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_value(&decode(bytes)?)
    }

    /// Reads a message from its value `{uid, nsp, type, data}`.
    pub fn from_value(v: &Value) -> Result<Self, DecodeError> {
        let uid = get_str(v, "uid")?;
        let nsp = get_str(v, "nsp")?;
        let data = get(v, "data").cloned().unwrap_or(Value::Nil);
        let d = &data;
        let opts = || WireOptions::from_value(get(d, "opts").ok_or(DecodeError::Field("opts"))?);
        let packet = || get(d, "packet").cloned().unwrap_or(Value::Nil);
        let kind = match get_u64(v, "type")? {
            1 => Kind::InitialHeartbeat,
            2 => Kind::Heartbeat,
            3 => Kind::Broadcast {
                opts: opts()?,
                packet: EventPacket::from_value(
                    get(d, "packet").ok_or(DecodeError::Field("packet"))?,
                )?,
                request_id: get_opt_str(d, "requestId")?,
            },
            4 => Kind::SocketsJoin {
                opts: opts()?,
                rooms: get_rooms(d, "rooms")?,
            },
            5 => Kind::SocketsLeave {
                opts: opts()?,
                rooms: get_rooms(d, "rooms")?,
            },
            6 => Kind::DisconnectSockets {
                opts: opts()?,
                close: get(d, "close").and_then(Value::as_bool).unwrap_or(false),
            },
            7 => Kind::FetchSockets {
                opts: opts()?,
                request_id: get_str(d, "requestId")?,
            },
            8 => Kind::FetchSocketsResponse {
                request_id: get_str(d, "requestId")?,
                sockets: match get(d, "sockets") {
                    Some(Value::Array(list)) => list.clone(),
                    _ => return Err(DecodeError::Field("sockets")),
                },
            },
            9 => {
                let Some(Value::Array(items)) = get(d, "packet") else {
                    return Err(DecodeError::Field("packet"));
                };
                let (event, args) = event_and_args(items)?;
                Kind::ServerSideEmit {
                    request_id: get_opt_str(d, "requestId")?,
                    event,
                    args,
                }
            }
            10 => Kind::ServerSideEmitResponse {
                request_id: get_str(d, "requestId")?,
                packet: packet(),
            },
            11 => Kind::BroadcastClientCount {
                request_id: get_str(d, "requestId")?,
                count: get_u64(d, "clientCount")?,
            },
            12 => Kind::BroadcastAck {
                request_id: get_str(d, "requestId")?,
                packet: packet(),
            },
            13 => Kind::AdapterClose,
            other => return Err(DecodeError::UnknownType(other)),
        };
        Ok(Message { uid, nsp, kind })
    }
}

/// The channel names of one namespace under a prefix.
#[derive(Debug, Clone)]
pub struct Channels {
    /// `{prefix}#{nsp}#`: every node listens.
    pub main: String,
}

impl Channels {
    /// The channels of namespace `nsp` under `prefix`.
    pub fn new(prefix: &str, nsp: &str) -> Self {
        Channels {
            main: format!("{prefix}#{nsp}#"),
        }
    }

    /// Where responses to node `uid` go: `{prefix}#{nsp}#{uid}#`.
    pub fn responses(&self, uid: &str) -> String {
        format!("{}{uid}#", self.main)
    }

    /// A room's own channel: `{prefix}#{nsp}#{room}#`.
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.main)
    }
}

/// Whether Node's sharded adapter (in its default `dynamic` mode) takes a
/// room for a socket id, and so never gives it a channel of its own.
pub fn looks_like_socket_id(room: &str) -> bool {
    room.len() == 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let opts = WireOptions {
            rooms: vec!["r".into()],
            ..WireOptions::default()
        };
        let packet = EventPacket {
            nsp: "/".into(),
            event: "e".into(),
            args: Args::one(&1).unwrap(),
        };
        for kind in [
            Kind::InitialHeartbeat,
            Kind::Heartbeat,
            Kind::Broadcast {
                opts: opts.clone(),
                packet: packet.clone(),
                request_id: None,
            },
            Kind::Broadcast {
                opts: opts.clone(),
                packet,
                request_id: Some("id".into()),
            },
            Kind::SocketsJoin {
                opts: opts.clone(),
                rooms: vec!["x".into()],
            },
            Kind::SocketsLeave {
                opts: opts.clone(),
                rooms: vec!["x".into()],
            },
            Kind::DisconnectSockets {
                opts: opts.clone(),
                close: true,
            },
            Kind::FetchSockets {
                opts,
                request_id: "id".into(),
            },
            Kind::FetchSocketsResponse {
                request_id: "id".into(),
                sockets: vec![],
            },
            Kind::ServerSideEmit {
                request_id: Some("id".into()),
                event: "p".into(),
                args: Args::empty(),
            },
            Kind::ServerSideEmitResponse {
                request_id: "id".into(),
                packet: Value::from("pong"),
            },
            Kind::BroadcastClientCount {
                request_id: "id".into(),
                count: 2,
            },
            Kind::BroadcastAck {
                request_id: "id".into(),
                packet: Value::Binary(vec![1]),
            },
            Kind::AdapterClose,
        ] {
            let m = Message {
                uid: "0123456789abcdef".into(),
                nsp: "/".into(),
                kind,
            };
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn binary_goes_as_msgpack_else_json() {
        let ack = |packet| Message {
            uid: "u".into(),
            nsp: "/".into(),
            kind: Kind::BroadcastAck {
                request_id: "i".into(),
                packet,
            },
        };
        assert_eq!(ack(Value::from(1u8)).encode()[0], b'{');
        assert_ne!(ack(Value::Binary(vec![1])).encode()[0], b'{');
    }
}
