//! Server → client, the reading side: [`parse_server`] turns an envelope
//! into an owned [`ServerMsg`], for our own clients and for tests. Not on
//! a hot path, so it goes through `serde_json::Value`.

use super::EnvelopeError;
use serde_json::{Map, Value};

/// One envelope sent by the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMsg {
    /// The session is open.
    Hello {
        /// The protocol version (`v`).
        version: u64,
        /// The session (socket) id.
        sid: String,
        /// The connected namespace.
        ns: String,
        /// The bearer token for `POST /send`, on SSE and streaming sessions.
        token: Option<String>,
        /// `pingInterval`, in milliseconds.
        ping_interval_ms: u64,
        /// `maxPayload`, in bytes.
        max_payload: u64,
    },
    /// An event.
    Event {
        /// The event name.
        event: String,
        /// The arguments (`data` as one, `args` as several, or none).
        args: Vec<Value>,
        /// Ack id: answer with an `ack` envelope.
        id: Option<u64>,
        /// The room it was published to.
        room: Option<String>,
        /// Its room-history offset.
        offset: Option<u64>,
    },
    /// The answer to a client envelope that carried an `id`.
    Ack {
        /// The id being answered.
        id: u64,
        /// The answer's arguments.
        args: Vec<Value>,
    },
    /// A refused envelope or a server-side failure.
    Error {
        /// One of [`super::codes`].
        code: String,
        /// A human-readable explanation.
        message: String,
        /// The `id` of the envelope that failed, if it had one.
        id: Option<u64>,
        /// Extra details.
        data: Option<Value>,
    },
    /// The answer to `ping`.
    Pong,
    /// The server ends the session.
    Disconnect {
        /// Why.
        reason: String,
    },
}

/// Parses one server envelope. Unknown fields are ignored.
pub fn parse_server(msg: &[u8]) -> Result<ServerMsg, EnvelopeError> {
    let value: Value = serde_json::from_slice(msg).map_err(|_| EnvelopeError::BadJson)?;
    let Value::Object(obj) = value else {
        return Err(EnvelopeError::BadEnvelope("not a JSON object"));
    };
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or(EnvelopeError::BadEnvelope("missing \"type\""))?;
    Ok(match ty {
        "hello" => ServerMsg::Hello {
            version: num(&obj, "v")?,
            sid: string(&obj, "sid")?,
            ns: string(&obj, "ns")?,
            token: opt_string(&obj, "token")?,
            ping_interval_ms: num(&obj, "pingInterval")?,
            max_payload: num(&obj, "maxPayload")?,
        },
        "event" => ServerMsg::Event {
            event: string(&obj, "event")?,
            args: args(&obj)?,
            id: opt_num(&obj, "id")?,
            room: opt_string(&obj, "room")?,
            offset: opt_num(&obj, "offset")?,
        },
        "ack" => ServerMsg::Ack {
            id: num(&obj, "id")?,
            args: args(&obj)?,
        },
        "error" => ServerMsg::Error {
            code: string(&obj, "code")?,
            message: opt_string(&obj, "message")?.unwrap_or_default(),
            id: opt_num(&obj, "id")?,
            data: obj.get("data").cloned(),
        },
        "pong" => ServerMsg::Pong,
        "disconnect" => ServerMsg::Disconnect {
            reason: opt_string(&obj, "reason")?.unwrap_or_default(),
        },
        other => return Err(EnvelopeError::unknown_type(other)),
    })
}

type Obj = Map<String, Value>;

fn opt_string(obj: &Obj, key: &'static str) -> Result<Option<String>, EnvelopeError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(EnvelopeError::field(key, "not a string")),
    }
}

fn string(obj: &Obj, key: &'static str) -> Result<String, EnvelopeError> {
    opt_string(obj, key)?.ok_or(EnvelopeError::field(key, "missing"))
}

fn opt_num(obj: &Obj, key: &'static str) -> Result<Option<u64>, EnvelopeError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or(EnvelopeError::field(key, "not an unsigned integer")),
    }
}

fn num(obj: &Obj, key: &'static str) -> Result<u64, EnvelopeError> {
    opt_num(obj, key)?.ok_or(EnvelopeError::field(key, "missing"))
}

/// The data/args rule, read back.
fn args(obj: &Obj) -> Result<Vec<Value>, EnvelopeError> {
    match (obj.get("data"), obj.get("args")) {
        (Some(_), Some(_)) => Err(EnvelopeError::field("data", "data and args both given")),
        (Some(one), None) => Ok(vec![one.clone()]),
        (None, Some(Value::Array(items))) => Ok(items.clone()),
        (None, Some(_)) => Err(EnvelopeError::field("args", "not an array")),
        (None, None) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plain::{encode_ack, encode_error, encode_event, encode_hello, EventMeta, Hello};
    use crate::plain::{encode_disconnect, encode_pong};
    use crate::socketio::Args;
    use bytes::Bytes;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_envelope() {
        let hello = Hello {
            sid: "s",
            ns: "/a",
            token: None,
            ping_interval_ms: 5,
            max_payload: 9,
        };
        let want = ServerMsg::Hello {
            version: 1,
            sid: "s".into(),
            ns: "/a".into(),
            token: None,
            ping_interval_ms: 5,
            max_payload: 9,
        };
        assert_eq!(parse_server(&encode_hello(&hello)), Ok(want));
        let args = Args::from_raw(vec!["1".into(), r#"{"x":[true]}"#.into()]);
        let ack = parse_server(&encode_ack(4, &args)).unwrap();
        assert_eq!(
            ack,
            ServerMsg::Ack {
                id: 4,
                args: vec![json!(1), json!({"x":[true]})]
            }
        );
        let err = parse_server(&encode_error("too_large", "big", Some(2), Some("[1]"))).unwrap();
        let want = ServerMsg::Error {
            code: "too_large".into(),
            message: "big".into(),
            id: Some(2),
            data: Some(json!([1])),
        };
        assert_eq!(err, want);
        assert_eq!(parse_server(&encode_pong()), Ok(ServerMsg::Pong));
        let bye = parse_server(&encode_disconnect("r")).unwrap();
        assert_eq!(bye, ServerMsg::Disconnect { reason: "r".into() });
    }

    #[test]
    fn refuses_malformed_envelopes() {
        assert_eq!(
            parse_server(b"[]"),
            Err(EnvelopeError::BadEnvelope("not a JSON object"))
        );
        assert_eq!(parse_server(b"{"), Err(EnvelopeError::BadJson));
        assert_eq!(
            parse_server(br#"{"type":"x"}"#).unwrap_err().code(),
            "unknown_type"
        );
        assert_eq!(
            parse_server(br#"{"type":"ack"}"#).unwrap_err().code(),
            "bad_field"
        );
    }

    proptest! {
        #[test]
        fn events_round_trip(
            event in "\\PC{1,12}",
            vals in proptest::collection::vec(any::<i64>(), 0..4),
            id in proptest::option::of(0u64..1 << 53),
            room in proptest::option::of("\\PC{1,8}"),
            offset in proptest::option::of(any::<u64>()),
        ) {
            let raw = vals.iter().map(|v| v.to_string().into()).collect();
            let meta = EventMeta { id, room: room.as_deref(), offset };
            let bytes: Bytes = encode_event(&meta, &event, &Args::from_raw(raw));
            let args = vals.iter().map(|v| json!(v)).collect();
            let want = ServerMsg::Event { event, args, id, room, offset };
            prop_assert_eq!(parse_server(&bytes), Ok(want));
        }
    }
}
