//! The formats of `@socket.io/redis-streams-adapter` 0.3: socket.io-adapter's
//! `ClusterAdapter` messages ([`super::clustered`]) carried two ways.
//!
//! - **Stream entries** for what must reach every node in order and may be
//!   replayed (broadcasts without acks, room joins and leaves, disconnects):
//!   `XADD <stream> MAXLEN ~ <n> * uid <uid> nsp <nsp> type <n> data <data>`,
//!   where `type` is the message type in decimal and `data` is the JSON text
//!   of the message's data, or, when it holds binary, the base64 of its
//!   MessagePack ([`entry_fields`], [`decode_entry`]). An entry's id
//!   (`<ms>-<seq>`) is the broadcast's offset: the replay token Socket.IO
//!   clients echo when they reconnect ([`StreamId`]).
//! - **Pub/sub** for what is transient ([`is_ephemeral`]: broadcasts with
//!   acks, server-side emits, fetches) and for every response: MessagePack
//!   of `{uid, nsp, type, data}` on `<prefix>#<nsp>#` and, for the answers to
//!   one node, `<prefix>#<nsp>#<uid>#` ([`super::clustered::Channels`]).
//!
//! Sessions kept for connection-state recovery are
//! `SET <sessionKey> base64(msgpack({sid, pid, rooms, data})) PX <ms>`
//! ([`Session`], [`session_key`]).

use super::clustered::{Kind, Message};
use super::value::{self, decode as decode_value, get, get_rooms, get_str, map, DecodeError};
use super::Value;
use crate::Str;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use bytes::Bytes;

/// Standard base64, as Node's `Buffer` writes it; padding optional on read.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whether a message goes over pub/sub instead of the stream: a broadcast
/// with acks, a server-side emit, a fetch (the adapter's `isEphemeral`), or
/// any response.
pub fn is_ephemeral(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Broadcast {
            request_id: Some(_),
            ..
        } | Kind::ServerSideEmit { .. }
            | Kind::FetchSockets { .. }
    ) || kind.is_response()
}

/// The fields of a message's stream entry, in the adapter's order: `uid`,
/// `nsp`, `type` (decimal) and, when the message has data, `data` (JSON
/// text, or base64 MessagePack when the data holds binary).
pub fn entry_fields(msg: &Message) -> Vec<(&'static str, Bytes)> {
    let mut fields = vec![
        ("uid", Bytes::copy_from_slice(msg.uid.as_bytes())),
        ("nsp", Bytes::copy_from_slice(msg.nsp.as_bytes())),
        ("type", Bytes::from(msg.kind.type_number().to_string())),
    ];
    if let Some(data) = msg.kind.data() {
        let text = match value::has_binary(&data) {
            true => Bytes::from(BASE64.encode(value::to_msgpack(&data))),
            false => value::to_json(&data),
        };
        fields.push(("data", text));
    }
    fields
}

/// Reads a stream entry's fields (any order; unknown fields are ignored).
/// `data` is JSON when it starts with `{`, base64 MessagePack otherwise.
pub fn decode_entry<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    fields: &[(K, V)],
) -> Result<Message, DecodeError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.as_ref() == name.as_bytes())
            .map(|(_, v)| v.as_ref())
    };
    let text = |name: &'static str| {
        field(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .ok_or(DecodeError::Field(name))
    };
    let kind: u64 = text("type")?
        .trim()
        .parse()
        .map_err(|_| DecodeError::Field("type"))?;
    let mut entries = vec![
        ("uid", Value::from(text("uid")?)),
        ("nsp", Value::from(text("nsp")?)),
        ("type", Value::from(kind)),
    ];
    match field("data") {
        None | Some(b"") => {}
        Some(data) if data.first() == Some(&b'{') => entries.push(("data", decode_value(data)?)),
        Some(data) => {
            let packed = BASE64
                .decode(data)
                .map_err(|e| DecodeError::Syntax(format!("base64: {e}")))?;
            if packed.first() == Some(&b'{') {
                // Not MessagePack of a map: refuse rather than read it as JSON.
                return Err(DecodeError::Field("data"));
            }
            entries.push(("data", decode_value(&packed)?));
        }
    }
    Message::from_value(&map(entries))
}

/// Bits of an offset that hold the entry's sequence number within its
/// millisecond.
const SEQ_BITS: u32 = 12;
/// Bits that hold its millisecond, counted from [`EPOCH_MS`].
const MS_BITS: u32 = 41;
/// 2020-01-01T00:00:00Z: stream ids count milliseconds from here on.
pub const EPOCH_MS: u64 = 1_577_836_800_000;

/// A stream entry id, `<ms>-<seq>`.
///
/// As a room-history offset (a `u64`) it is `(ms - EPOCH_MS) << 12 | seq`:
/// reversible, increasing with the id, and below 2^53 so JavaScript clients
/// of the plain protocol read it exactly. It covers ids from 2020 to 2089
/// with up to 4,096 entries in one millisecond (one Redis stream takes far
/// fewer); an id outside has no offset ([`Self::offset`] is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds since the Unix epoch (Redis's clock when it was added).
    pub ms: u64,
    /// Its rank among the entries of that millisecond.
    pub seq: u64,
}

impl StreamId {
    /// Reads `<ms>-<seq>` (digits only, as the adapter's restore checks).
    pub fn parse(id: &str) -> Option<Self> {
        let (ms, seq) = id.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        Some(StreamId {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    /// The id as a room-history offset, if it is in range.
    pub fn offset(self) -> Option<u64> {
        let ms = self.ms.checked_sub(EPOCH_MS)?;
        if ms >= 1 << MS_BITS || self.seq >= 1 << SEQ_BITS {
            return None;
        }
        Some(ms << SEQ_BITS | self.seq)
    }

    /// The id an offset stands for.
    pub fn from_offset(offset: u64) -> Self {
        StreamId {
            ms: EPOCH_MS + (offset >> SEQ_BITS),
            seq: offset & ((1 << SEQ_BITS) - 1),
        }
    }

    /// The smallest id after this one in the same millisecond (the start of
    /// an exclusive range, as the adapter's `nextOffset`).
    pub fn next(self) -> Self {
        StreamId {
            ms: self.ms,
            seq: self.seq + 1,
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The key prefix of sessions when the adapter key is `socket.io` (the
/// adapter's `sessionKeyPrefix` default).
pub const DEFAULT_SESSION_PREFIX: &str = "sio:session:";

/// Where the session `pid` is kept: `sio:session:<pid>` under the default
/// key `socket.io` (the adapter's default), `<key>:session:<pid>` otherwise.
pub fn session_key(key: &str, pid: &str) -> String {
    match key {
        "socket.io" => format!("{DEFAULT_SESSION_PREFIX}{pid}"),
        key => format!("{key}:session:{pid}"),
    }
}

/// A disconnected socket's state, as `persistSession` stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The socket id.
    pub sid: Str,
    /// The private session id the client presents to recover.
    pub pid: Str,
    /// Its rooms, its own included.
    pub rooms: Vec<Str>,
    /// `socket.data`.
    pub data: Value,
}

impl Session {
    /// `base64(msgpack({sid, pid, rooms, data}))`, the stored value.
    pub fn encode(&self) -> String {
        let v = map(vec![
            ("sid", Value::from(self.sid.as_str())),
            ("pid", Value::from(self.pid.as_str())),
            ("rooms", value::rooms_value(&self.rooms)),
            ("data", self.data.clone()),
        ]);
        BASE64.encode(value::to_msgpack(&v))
    }

    /// Reads a stored value (fields other than these four are ignored).
    pub fn decode(stored: &[u8]) -> Result<Self, DecodeError> {
        let packed = BASE64
            .decode(stored)
            .map_err(|e| DecodeError::Syntax(format!("base64: {e}")))?;
        if packed.first() == Some(&b'{') {
            return Err(DecodeError::Syntax("not MessagePack".into()));
        }
        let v = decode_value(&packed)?;
        Ok(Session {
            sid: get_str(&v, "sid")?,
            pid: get_str(&v, "pid")?,
            rooms: get_rooms(&v, "rooms")?,
            data: get(&v, "data").cloned().unwrap_or(Value::Nil),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{EventPacket, WireOptions};
    use crate::socketio::{Args, Binary};

    fn broadcast(args: Args) -> Message {
        Message {
            uid: "0123456789abcdef".into(),
            nsp: "/".into(),
            kind: Kind::Broadcast {
                opts: WireOptions {
                    rooms: vec!["r".into()],
                    ..WireOptions::default()
                },
                packet: EventPacket {
                    nsp: "/".into(),
                    event: "e".into(),
                    args,
                },
                request_id: None,
            },
        }
    }

    fn text(fields: &[(&'static str, Bytes)], name: &str) -> String {
        let (_, v) = fields.iter().find(|(k, _)| *k == name).unwrap();
        String::from_utf8(v.to_vec()).unwrap()
    }

    #[test]
    fn entries_are_json_unless_binary_and_round_trip() {
        let plain = broadcast(Args::one(&"hi").unwrap());
        let fields = entry_fields(&plain);
        let names: Vec<_> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["uid", "nsp", "type", "data"]);
        assert_eq!(text(&fields, "type"), "3");
        let data: serde_json::Value = serde_json::from_str(&text(&fields, "data")).unwrap();
        assert_eq!(
            data,
            serde_json::json!({
                "opts": {"rooms": ["r"], "except": [], "flags": {}},
                "packet": {"type": 2, "data": ["e", "hi"], "nsp": "/"}
            })
        );
        assert_eq!(decode_entry(&fields).unwrap(), plain);

        let binary = broadcast(Args::one(&Binary::from(vec![1u8, 2])).unwrap());
        let fields = entry_fields(&binary);
        let data = text(&fields, "data");
        assert!(!data.starts_with('{'));
        assert!(BASE64.decode(&data).is_ok());
        assert_eq!(decode_entry(&fields).unwrap(), binary);
    }

    #[test]
    fn reads_node_entries() {
        // As the adapter writes a join: fields as strings, no flags set.
        let fields = [
            ("uid", "abc"),
            ("nsp", "/"),
            ("type", "4"),
            (
                "data",
                r#"{"opts":{"rooms":["a"],"except":[],"flags":{}},"rooms":["b"]}"#,
            ),
        ];
        let msg = decode_entry(&fields).unwrap();
        assert!(matches!(msg.kind, Kind::SocketsJoin { ref rooms, .. } if rooms == &["b"]));
        assert!(decode_entry(&[("uid", "a"), ("nsp", "/"), ("type", "x")]).is_err());
        assert!(decode_entry(&[("uid", "a"), ("type", "2")]).is_err());
        let heartbeat = decode_entry(&[("uid", "a"), ("nsp", "/"), ("type", "2")]).unwrap();
        assert_eq!(heartbeat.kind, Kind::Heartbeat);
    }

    #[test]
    fn transient_messages_are_ephemeral() {
        assert!(!is_ephemeral(&broadcast(Args::empty()).kind));
        let Kind::Broadcast { opts, packet, .. } = broadcast(Args::empty()).kind else {
            unreachable!()
        };
        assert!(is_ephemeral(&Kind::Broadcast {
            opts: opts.clone(),
            packet,
            request_id: Some("1".into())
        }));
        assert!(is_ephemeral(&Kind::FetchSockets {
            opts: opts.clone(),
            request_id: "1".into()
        }));
        assert!(is_ephemeral(&Kind::ServerSideEmit {
            request_id: None,
            event: "x".into(),
            args: Args::empty()
        }));
        assert!(!is_ephemeral(&Kind::SocketsJoin {
            opts,
            rooms: vec![]
        }));
    }

    #[test]
    fn stream_ids_map_to_offsets_and_back() {
        for id in ["1733356800000-0", "1733356800000-4095", "1577836800000-1"] {
            let parsed = StreamId::parse(id).unwrap();
            let offset = parsed.offset().unwrap();
            assert!(offset < 1 << 53);
            assert_eq!(StreamId::from_offset(offset).to_string(), id);
        }
        let a = StreamId::parse("1733356800000-7").unwrap().offset();
        let b = StreamId::parse("1733356800001-0").unwrap().offset();
        assert!(a < b, "increasing with the id");
        assert_eq!(
            StreamId::parse("1733356800000-4096").unwrap().offset(),
            None
        );
        assert_eq!(StreamId::parse("1-0").unwrap().offset(), None);
        assert_eq!(StreamId::parse("9999999999999-0").unwrap().offset(), None);
        for bad in [
            "",
            "1",
            "1-",
            "-1",
            "a-1",
            "1-2-3",
            "1-+2",
            "507f191e810c19729de860ea",
        ] {
            assert_eq!(StreamId::parse(bad), None, "{bad}");
        }
        assert_eq!(StreamId::parse("5-9").unwrap().next().to_string(), "5-10");
    }

    #[test]
    fn sessions_round_trip_under_their_keys() {
        let s = Session {
            sid: "sid".into(),
            pid: "pid".into(),
            rooms: vec!["sid".into(), "r".into()],
            data: Value::from(3u8),
        };
        assert_eq!(Session::decode(s.encode().as_bytes()).unwrap(), s);
        assert!(Session::decode(b"not base64!").is_err());
        assert_eq!(session_key("socket.io", "p"), "sio:session:p");
        assert_eq!(session_key("k", "p"), "k:session:p");
    }
}
