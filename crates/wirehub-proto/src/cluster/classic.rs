//! The protocol of `@socket.io/redis-adapter` 8.x's classic adapter
//! (`createAdapter`), per namespace `{nsp}` under a key prefix `{key}`:
//!
//! - broadcasts: MessagePack `[uid, packet, opts]` on `{key}#{nsp}#`, or on
//!   `{key}#{nsp}#{room}#` when they target exactly one room; every node
//!   listens with the pattern `{key}#{nsp}#*` and drops its own (`uid`);
//! - requests on `{key}-request#{nsp}#` (JSON, but broadcasts with acks in
//!   MessagePack), each of the types of [`RequestKind`];
//! - responses on `{key}-response#{nsp}#` (or the requester's own
//!   `{key}-response#{nsp}#{uid}#`), matched by `requestId`.
//!
//! A node counts the others by the subscribers of the request channel, so
//! it must hold exactly one subscription to it.

use super::options::{event_and_args, event_data, EventPacket, WireOptions};
use super::value::{
    decode, get, get_opt_str, get_rooms, get_str, get_u64, map, rooms_value, to_json, to_msgpack,
    DecodeError, Value,
};
use crate::socketio::Args;
use crate::Str;
use bytes::Bytes;

/// The channel names of one namespace.
#[derive(Debug, Clone)]
pub struct Channels {
    /// `{key}#{nsp}#`: broadcasts to no room or several.
    pub broadcast: String,
    /// `{key}-request#{nsp}#`.
    pub request: String,
    /// `{key}-response#{nsp}#`.
    pub response: String,
}

impl Channels {
    /// The channels of namespace `nsp` under `key`.
    pub fn new(key: &str, nsp: &str) -> Self {
        Channels {
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// The pattern every node listens to broadcasts with.
    pub fn pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// A node's own response channel, `{key}-response#{nsp}#{uid}#`.
    pub fn specific_response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// The channel of a broadcast to exactly `rooms` (one room: its own
    /// channel, else the namespace's).
    pub fn for_rooms(&self, rooms: &[Str]) -> String {
        match rooms {
            [room] => format!("{}{room}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }

    /// The room a broadcast channel names (`""` for the namespace's own),
    /// `None` if the channel is not one of this namespace's.
    pub fn room_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        let rest = channel.strip_prefix(self.broadcast.as_str())?;
        if rest.is_empty() {
            Some("")
        } else {
            rest.strip_suffix('#')
        }
    }
}

/// A broadcast: `[uid, packet, opts]` in MessagePack.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The publishing adapter's id.
    pub uid: Str,
    /// The event.
    pub packet: EventPacket,
    /// Who it reaches.
    pub opts: WireOptions,
}

impl Broadcast {
    /// The message bytes.
    pub fn encode(&self) -> Bytes {
        to_msgpack(&Value::Array(vec![
            Value::from(self.uid.as_str()),
            self.packet.to_value(),
            self.opts.to_value(),
        ]))
    }

    /// Reads a broadcast.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let Value::Array(parts) = decode(bytes)? else {
            return Err(DecodeError::Field("broadcast"));
        };
        let [uid, packet, opts] = parts.as_slice() else {
            return Err(DecodeError::Field("broadcast"));
        };
        Ok(Broadcast {
            uid: uid
                .as_str()
                .map(|s| Str::from(s.to_owned()))
                .ok_or(DecodeError::Field("uid"))?,
            packet: EventPacket::from_value(packet)?,
            opts: WireOptions::from_value(opts)?,
        })
    }
}

/// Which sockets a join, leave or disconnect request concerns.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Those `opts` selects (the 8.x form).
    Select(WireOptions),
    /// One socket, wherever it is (the legacy per-socket form, answered by
    /// the node that has it).
    Socket(Str),
}

/// A request's type and fields.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestKind {
    /// 0: the ids of the sockets in `rooms` (legacy `allSockets`).
    Sockets {
        /// The rooms.
        rooms: Vec<Str>,
    },
    /// 1: every room.
    AllRooms,
    /// 2: sockets join `rooms`.
    Join {
        /// Which sockets.
        target: Target,
        /// The rooms.
        rooms: Vec<Str>,
    },
    /// 3: sockets leave `rooms`.
    Leave {
        /// Which sockets.
        target: Target,
        /// The rooms.
        rooms: Vec<Str>,
    },
    /// 4: sockets are disconnected.
    Disconnect {
        /// Which sockets.
        target: Target,
        /// Whether their whole connection closes.
        close: bool,
    },
    /// 5: describe the selected sockets.
    Fetch {
        /// Which sockets.
        opts: WireOptions,
    },
    /// 6: run the server-side handler of an event (answer once if
    /// `request_id` is set).
    ServerSideEmit {
        /// The event.
        event: Str,
        /// Its arguments.
        args: Args,
    },
    /// 7: a broadcast whose recipients answer (MessagePack).
    BroadcastWithAck {
        /// The event (without ack id: each node gives its own).
        packet: EventPacket,
        /// Who it reaches.
        opts: WireOptions,
    },
}

/// A request between nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The requesting adapter's id (absent in some legacy forms).
    pub uid: Option<Str>,
    /// Matches responses to the request; absent when none is expected.
    pub request_id: Option<Str>,
    /// What is asked.
    pub kind: RequestKind,
}

const SOCKETS: u64 = 0;
const ALL_ROOMS: u64 = 1;
const REMOTE_JOIN: u64 = 2;
const REMOTE_LEAVE: u64 = 3;
const REMOTE_DISCONNECT: u64 = 4;
const REMOTE_FETCH: u64 = 5;
const SERVER_SIDE_EMIT: u64 = 6;
const BROADCAST: u64 = 7;
const BROADCAST_CLIENT_COUNT: u64 = 8;
const BROADCAST_ACK: u64 = 9;

impl Request {
    /// The message bytes: JSON, except a broadcast with acks (MessagePack).
    pub fn encode(&self) -> Bytes {
        let mut e: Vec<(&str, Value)> = Vec::with_capacity(6);
        if let Some(uid) = &self.uid {
            e.push(("uid", Value::from(uid.as_str())));
        }
        if let Some(id) = &self.request_id {
            e.push(("requestId", Value::from(id.as_str())));
        }
        let target =
            |e: &mut Vec<(&str, Value)>, target: &Target, rooms: Option<&[Str]>| match target {
                Target::Select(opts) => {
                    e.push(("opts", opts.to_selector_value()));
                    if let Some(rooms) = rooms {
                        e.push(("rooms", rooms_value(rooms)));
                    }
                }
                Target::Socket(sid) => {
                    e.push(("sid", Value::from(sid.as_str())));
                    if let Some(room) = rooms.and_then(|r| r.first()) {
                        e.push(("room", Value::from(room.as_str())));
                    }
                }
            };
        match &self.kind {
            RequestKind::Sockets { rooms } => {
                e.push(("type", Value::from(SOCKETS)));
                e.push(("rooms", rooms_value(rooms)));
            }
            RequestKind::AllRooms => e.push(("type", Value::from(ALL_ROOMS))),
            RequestKind::Join { target: t, rooms } => {
                e.push(("type", Value::from(REMOTE_JOIN)));
                target(&mut e, t, Some(rooms));
            }
            RequestKind::Leave { target: t, rooms } => {
                e.push(("type", Value::from(REMOTE_LEAVE)));
                target(&mut e, t, Some(rooms));
            }
            RequestKind::Disconnect { target: t, close } => {
                e.push(("type", Value::from(REMOTE_DISCONNECT)));
                target(&mut e, t, None);
                e.push(("close", Value::Boolean(*close)));
            }
            RequestKind::Fetch { opts } => {
                e.push(("type", Value::from(REMOTE_FETCH)));
                e.push(("opts", opts.to_selector_value()));
            }
            RequestKind::ServerSideEmit { event, args } => {
                e.push(("type", Value::from(SERVER_SIDE_EMIT)));
                e.push(("data", event_data(event, args)));
            }
            RequestKind::BroadcastWithAck { packet, opts } => {
                e.push(("type", Value::from(BROADCAST)));
                e.push(("packet", packet.to_value()));
                e.push(("opts", opts.to_value()));
                return to_msgpack(&map(e));
            }
        }
        to_json(&map(e))
    }

    /// Reads a request (JSON or MessagePack).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let v = decode(bytes)?;
        let uid = get_opt_str(&v, "uid")?;
        let request_id = get_opt_str(&v, "requestId")?;
        let target = || -> Result<Target, DecodeError> {
            match get(&v, "opts") {
                Some(opts) if !opts.is_nil() => Ok(Target::Select(WireOptions::from_value(opts)?)),
                _ => Ok(Target::Socket(get_str(&v, "sid")?)),
            }
        };
        let rooms = || -> Result<Vec<Str>, DecodeError> {
            match get(&v, "opts") {
                Some(opts) if !opts.is_nil() => get_rooms(&v, "rooms"),
                _ => Ok(vec![get_str(&v, "room")?]),
            }
        };
        let kind = match get_u64(&v, "type")? {
            SOCKETS => RequestKind::Sockets {
                rooms: get_rooms(&v, "rooms")?,
            },
            ALL_ROOMS => RequestKind::AllRooms,
            REMOTE_JOIN => RequestKind::Join {
                target: target()?,
                rooms: rooms()?,
            },
            REMOTE_LEAVE => RequestKind::Leave {
                target: target()?,
                rooms: rooms()?,
            },
            REMOTE_DISCONNECT => RequestKind::Disconnect {
                target: target()?,
                close: get(&v, "close").and_then(Value::as_bool).unwrap_or(false),
            },
            REMOTE_FETCH => RequestKind::Fetch {
                opts: WireOptions::from_value(get(&v, "opts").ok_or(DecodeError::Field("opts"))?)?,
            },
            SERVER_SIDE_EMIT => {
                let Some(Value::Array(data)) = get(&v, "data") else {
                    return Err(DecodeError::Field("data"));
                };
                let (event, args) = event_and_args(data)?;
                RequestKind::ServerSideEmit { event, args }
            }
            BROADCAST => RequestKind::BroadcastWithAck {
                packet: EventPacket::from_value(
                    get(&v, "packet").ok_or(DecodeError::Field("packet"))?,
                )?,
                opts: WireOptions::from_value(get(&v, "opts").ok_or(DecodeError::Field("opts"))?)?,
            },
            other => return Err(DecodeError::UnknownType(other)),
        };
        Ok(Request {
            uid,
            request_id,
            kind,
        })
    }
}

/// What a response carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseKind {
    /// Sockets: ids (to a `Sockets` request) or descriptions (to `Fetch`).
    Sockets(Vec<Value>),
    /// Rooms (to `AllRooms`).
    Rooms(Vec<Str>),
    /// A node's answer to a server-side emit (type 6).
    ServerSideEmit(Value),
    /// A node's recipient count for a broadcast with acks (type 8).
    ClientCount(u64),
    /// One recipient's answer to a broadcast with acks (type 9, MessagePack).
    Ack(Value),
    /// A legacy per-socket join, leave or disconnect was done.
    Done,
}

/// A response to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request it answers.
    pub request_id: Str,
    /// What it carries.
    pub kind: ResponseKind,
}

impl Response {
    /// The message bytes: JSON, except an ack (MessagePack).
    pub fn encode(&self) -> Bytes {
        let id = ("requestId", Value::from(self.request_id.as_str()));
        match &self.kind {
            ResponseKind::Sockets(list) => {
                to_json(&map(vec![id, ("sockets", Value::Array(list.clone()))]))
            }
            ResponseKind::Rooms(rooms) => to_json(&map(vec![id, ("rooms", rooms_value(rooms))])),
            ResponseKind::ServerSideEmit(data) => to_json(&map(vec![
                ("type", Value::from(SERVER_SIDE_EMIT)),
                id,
                ("data", data.clone()),
            ])),
            ResponseKind::ClientCount(n) => to_json(&map(vec![
                ("type", Value::from(BROADCAST_CLIENT_COUNT)),
                id,
                ("clientCount", Value::from(*n)),
            ])),
            ResponseKind::Ack(packet) => to_msgpack(&map(vec![
                ("type", Value::from(BROADCAST_ACK)),
                id,
                ("packet", packet.clone()),
            ])),
            ResponseKind::Done => to_json(&map(vec![id])),
        }
    }

    /// Reads a response (JSON or MessagePack).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let v = decode(bytes)?;
        let request_id = get_str(&v, "requestId")?;
        let kind = match get(&v, "type").and_then(super::value::as_u64) {
            Some(SERVER_SIDE_EMIT) => {
                ResponseKind::ServerSideEmit(get(&v, "data").cloned().unwrap_or(Value::Nil))
            }
            Some(BROADCAST_CLIENT_COUNT) => ResponseKind::ClientCount(get_u64(&v, "clientCount")?),
            Some(BROADCAST_ACK) => {
                ResponseKind::Ack(get(&v, "packet").cloned().unwrap_or(Value::Nil))
            }
            Some(other) => return Err(DecodeError::UnknownType(other)),
            None => match (get(&v, "sockets"), get(&v, "rooms")) {
                (Some(Value::Array(list)), _) => ResponseKind::Sockets(list.clone()),
                (Some(_), _) => return Err(DecodeError::Field("sockets")),
                (None, Some(_)) => ResponseKind::Rooms(get_rooms(&v, "rooms")?),
                (None, None) => ResponseKind::Done,
            },
        };
        Ok(Response { request_id, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(r: Request) {
        assert_eq!(Request::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn requests_round_trip() {
        let opts = WireOptions {
            rooms: vec!["r1".into()],
            ..WireOptions::default()
        };
        let uid = Some(Str::from("sRo3B5"));
        let id = Some(Str::from("n2O3q4"));
        for kind in [
            RequestKind::Sockets {
                rooms: vec!["a".into()],
            },
            RequestKind::AllRooms,
            RequestKind::Join {
                target: Target::Select(opts.clone()),
                rooms: vec!["r3".into()],
            },
            RequestKind::Leave {
                target: Target::Select(opts.clone()),
                rooms: vec!["r3".into()],
            },
            RequestKind::Disconnect {
                target: Target::Select(opts.clone()),
                close: true,
            },
            RequestKind::Join {
                target: Target::Socket("s".into()),
                rooms: vec!["r".into()],
            },
            RequestKind::Disconnect {
                target: Target::Socket("s".into()),
                close: false,
            },
            RequestKind::Fetch { opts: opts.clone() },
            RequestKind::ServerSideEmit {
                event: "node-ping".into(),
                args: Args::one(&1).unwrap(),
            },
        ] {
            round_trip(Request {
                uid: uid.clone(),
                request_id: id.clone(),
                kind,
            });
        }
        let ack = Request {
            uid,
            request_id: id,
            kind: RequestKind::BroadcastWithAck {
                packet: EventPacket {
                    nsp: "/".into(),
                    event: "collect".into(),
                    args: Args::empty(),
                },
                opts: WireOptions {
                    timeout: Some(1000),
                    ..WireOptions::default()
                },
            },
        };
        let bytes = ack.encode();
        assert_ne!(bytes[0], b'{', "broadcasts with acks are MessagePack");
        round_trip(ack);
    }

    #[test]
    fn reads_nodes_captured_requests() {
        let fetch = br#"{"uid":"sRo3B5","requestId":"n2O3q4","type":5,"opts":{"rooms":["r1"],"except":[]}}"#;
        let r = Request::decode(fetch).unwrap();
        assert!(matches!(r.kind, RequestKind::Fetch { ref opts } if opts.rooms == ["r1"]));
        let join =
            br#"{"uid":"sRo3B5","type":2,"opts":{"rooms":["r1"],"except":[]},"rooms":["r3"]}"#;
        let r = Request::decode(join).unwrap();
        assert_eq!(r.request_id, None);
        assert!(matches!(r.kind, RequestKind::Join { ref rooms, .. } if rooms == &["r3"]));
        let emit = br#"{"uid":"sRo3B5","requestId":"-2ZruW","type":6,"data":["node-ping"]}"#;
        let r = Request::decode(emit).unwrap();
        assert!(
            matches!(r.kind, RequestKind::ServerSideEmit { ref event, ref args } if event == "node-ping" && args.is_empty())
        );
        assert!(matches!(
            Request::decode(br#"{"type":99}"#),
            Err(DecodeError::UnknownType(99))
        ));
    }

    #[test]
    fn responses_round_trip_and_read_nodes_forms() {
        for kind in [
            ResponseKind::Sockets(vec![Value::from("sid")]),
            ResponseKind::Rooms(vec!["a".into()]),
            ResponseKind::ServerSideEmit(Value::from("pong")),
            ResponseKind::ClientCount(3),
            ResponseKind::Ack(Value::Binary(vec![1])),
            ResponseKind::Done,
        ] {
            let r = Response {
                request_id: "x".into(),
                kind,
            };
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
        let count =
            Response::decode(br#"{"type":8,"requestId":"pGoSVW","clientCount":1}"#).unwrap();
        assert_eq!(count.kind, ResponseKind::ClientCount(1));
    }

    #[test]
    fn channels() {
        let c = Channels::new("socket.io", "/");
        assert_eq!(c.broadcast, "socket.io#/#");
        assert_eq!(c.request, "socket.io-request#/#");
        assert_eq!(c.for_rooms(&["r1".into()]), "socket.io#/#r1#");
        assert_eq!(c.room_of("socket.io#/#r1#"), Some("r1"));
        assert_eq!(c.room_of("socket.io#/#"), Some(""));
        assert_eq!(c.room_of("socket.io#/chat#"), None);
        assert_eq!(c.specific_response("abc"), "socket.io-response#/#abc#");
    }
}
