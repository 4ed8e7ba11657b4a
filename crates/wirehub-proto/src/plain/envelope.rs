//! Client → server: [`ClientMsg`] and [`parse_client`], which turns one
//! whole message (WebSocket text, NDJSON line, POST body, UDP datagram)
//! into it. Argument JSON stays a slice of the message, never copied.

use super::fields::{self, RawEnvelope};
use super::EnvelopeError;
use crate::socketio::Args;
use crate::Str;
use bytes::Bytes;
use serde::de::IgnoredAny;

/// One envelope sent by a plain client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMsg {
    /// First message on TCP/UDP (optional): join namespace `ns` (default
    /// `/`) with the raw JSON object `auth`, presenting `token` (a JWT)
    /// when the server requires one.
    Connect {
        /// The namespace, starting with `/`.
        ns: Option<Str>,
        /// The auth object, raw JSON.
        auth: Option<Str>,
        /// A JSON Web Token, for servers that verify one at the handshake.
        token: Option<Str>,
    },
    /// Join rooms (at least one).
    Join {
        /// The rooms to join.
        rooms: Vec<Str>,
        /// Ack id: the server answers with an `ack` envelope.
        id: Option<u64>,
    },
    /// Leave rooms (at least one).
    Leave {
        /// The rooms to leave.
        rooms: Vec<Str>,
        /// Ack id: the server answers with an `ack` envelope.
        id: Option<u64>,
    },
    /// `rooms` empty → an event for the server's handlers; non-empty →
    /// publish to those rooms.
    Emit {
        /// The event name.
        event: Str,
        /// The arguments (`data` is one, `args` several).
        args: Args,
        /// Ack id: the server answers with an `ack` envelope.
        id: Option<u64>,
        /// The rooms to publish to, or none.
        rooms: Vec<Str>,
    },
    /// The answer to a server event that carried an `id`.
    Ack {
        /// The id being answered.
        id: u64,
        /// The answer's arguments.
        args: Args,
    },
    /// Keep-alive; the server answers `pong`.
    Ping,
    /// The client is leaving.
    Close,
}

/// Parses one client envelope. Never panics; unknown fields are ignored.
pub fn parse_client(msg: Bytes) -> Result<ClientMsg, EnvelopeError> {
    let msg = Str::from_utf8(msg).map_err(|_| EnvelopeError::BadJson)?;
    let env = raw_envelope(&msg)?;
    let ty = env
        .ty
        .ok_or(EnvelopeError::BadEnvelope("missing \"type\""))?;
    let ty = fields::string(&msg, ty, "type")
        .map_err(|_| EnvelopeError::BadEnvelope("\"type\" is not a string"))?;
    match &*ty {
        "connect" => Ok(ClientMsg::Connect {
            ns: fields::ns(&msg, env.ns)?,
            auth: fields::auth(&msg, env.auth)?,
            token: env
                .token
                .map(|raw| fields::string(&msg, raw, "token"))
                .transpose()?,
        }),
        "join" => Ok(ClientMsg::Join {
            rooms: some_rooms(&msg, &env)?,
            id: fields::id(env.id)?,
        }),
        "leave" => Ok(ClientMsg::Leave {
            rooms: some_rooms(&msg, &env)?,
            id: fields::id(env.id)?,
        }),
        "emit" => Ok(ClientMsg::Emit {
            event: fields::event(&msg, env.event)?,
            args: fields::args(&msg, &env)?,
            id: fields::id(env.id)?,
            rooms: fields::rooms(&msg, &env)?,
        }),
        "ack" => Ok(ClientMsg::Ack {
            id: fields::id(env.id)?.ok_or(EnvelopeError::field("id", "missing"))?,
            args: fields::args(&msg, &env)?,
        }),
        "ping" => Ok(ClientMsg::Ping),
        "close" => Ok(ClientMsg::Close),
        other => Err(EnvelopeError::unknown_type(other)),
    }
}

/// The top-level object with its fields still raw.
fn raw_envelope(msg: &Str) -> Result<RawEnvelope<'_>, EnvelopeError> {
    // Serde would also read a struct from a JSON array; only objects count.
    if !msg.trim_start().starts_with('{') {
        return match serde_json::from_str::<IgnoredAny>(msg) {
            Ok(_) => Err(EnvelopeError::BadEnvelope("not a JSON object")),
            Err(_) => Err(EnvelopeError::BadJson),
        };
    }
    serde_json::from_str(msg).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => EnvelopeError::BadEnvelope("duplicate field"),
        _ => EnvelopeError::BadJson,
    })
}

/// The rooms of a join or leave, which must name at least one.
fn some_rooms(msg: &Str, env: &RawEnvelope<'_>) -> Result<Vec<Str>, EnvelopeError> {
    let rooms = fields::rooms(msg, env)?;
    if rooms.is_empty() {
        return Err(EnvelopeError::field("rooms", "missing"));
    }
    Ok(rooms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &'static str) -> Result<ClientMsg, EnvelopeError> {
        parse_client(Bytes::from_static(s.as_bytes()))
    }

    fn code(s: &'static str) -> &'static str {
        parse(s).unwrap_err().code()
    }

    #[test]
    fn parses_every_type() {
        let ns = Some(Str::from("/chat"));
        let auth = Some(Str::from(r#"{"t":1}"#));
        let m = parse(r#"{"type":"connect","ns":"/chat","auth":{"t":1}}"#);
        let connect = ClientMsg::Connect {
            ns: ns.clone(),
            auth: auth.clone(),
            token: None,
        };
        assert_eq!(m, Ok(connect));
        let m = parse(r#"{"type":"connect","ns":"/chat","auth":{"t":1},"token":"a.b.c"}"#);
        let token = Some(Str::from("a.b.c"));
        assert_eq!(m, Ok(ClientMsg::Connect { ns, auth, token }));
        let bad = parse(r#"{"type":"connect","token":5}"#).unwrap_err();
        assert_eq!(bad.code(), "bad_field");
        let rooms = vec![Str::from("a"), Str::from("b")];
        let m = parse(r#"{"type":"join","rooms":["a","b"],"id":1}"#).unwrap();
        assert_eq!(m, ClientMsg::Join { rooms, id: Some(1) });
        let m = parse(r#"{"type":"leave","room":"a"}"#).unwrap();
        let rooms = vec![Str::from("a")];
        assert_eq!(m, ClientMsg::Leave { rooms, id: None });
        assert_eq!(parse(r#"{"type":"ping"}"#), Ok(ClientMsg::Ping));
        assert_eq!(parse("{\"type\":\"close\"}\r\n "), Ok(ClientMsg::Close));
    }

    #[test]
    fn emit_data_and_args() {
        let m = parse(r#"{"type":"emit","event":"chat","data":{"a":[1]},"id":7,"room":"lobby"}"#);
        let ClientMsg::Emit {
            event,
            args,
            id,
            rooms,
        } = m.unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (&*event, id, rooms),
            ("chat", Some(7), vec![Str::from("lobby")])
        );
        assert_eq!(args.raw(), &[Str::from(r#"{"a":[1]}"#)]);
        let m = parse(r#"{"type":"emit","event":"e","args":[1, "x" ,null]}"#).unwrap();
        let ClientMsg::Emit { args, rooms, .. } = m else {
            panic!()
        };
        let want: [Str; 3] = ["1".into(), r#""x""#.into(), "null".into()];
        assert_eq!(args.raw(), &want);
        assert!(rooms.is_empty());
        let m = parse(r#"{"type":"emit","event":"e","data":null}"#).unwrap();
        let ClientMsg::Emit { args, .. } = m else {
            panic!()
        };
        assert_eq!(args.raw(), &[Str::from("null")], "null is one argument");
        let m = parse(r#"{"type":"ack","id":3}"#).unwrap();
        assert_eq!(
            m,
            ClientMsg::Ack {
                id: 3,
                args: Args::empty()
            }
        );
    }

    #[test]
    fn arguments_are_slices_of_the_message() {
        let msg = Bytes::from_static(br#"{"type":"emit","event":"e","data":"hello"}"#);
        let ClientMsg::Emit { event, args, .. } = parse_client(msg.clone()).unwrap() else {
            panic!()
        };
        let inside = |s: &Str| msg.as_ptr_range().contains(&s.as_bytes().as_ptr());
        assert!(inside(&event) && inside(&args.raw()[0]));
        let m = parse(r#"{"type":"emit","event":"a\"b","unknown":[{}]}"#).unwrap();
        let ClientMsg::Emit { event, .. } = m else {
            panic!()
        };
        assert_eq!(&*event, "a\"b", "escaped names are decoded");
    }

    #[test]
    fn envelope_errors() {
        assert_eq!(code("{\"type\":"), "bad_json");
        assert_eq!(
            parse_client(Bytes::from_static(b"\xff"))
                .unwrap_err()
                .code(),
            "bad_json"
        );
        assert_eq!(code(r#"["ping"]"#), "bad_envelope");
        assert_eq!(code(r#"{"id":1}"#), "bad_envelope");
        assert_eq!(code(r#"{"type":5}"#), "bad_envelope");
        assert_eq!(code(r#"{"type":"ping","type":"ping"}"#), "bad_envelope");
        assert_eq!(
            parse(r#"{"type":"nope"}"#),
            Err(EnvelopeError::UnknownType("nope".into()))
        );
        assert_eq!(
            code(r#"{"type":"emit","event":"connect"}"#),
            "reserved_event"
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = parse_client(Bytes::from(bytes));
        }

        #[test]
        fn never_panics_on_json_like_text(s in r#"\{("(type|data|args|room|rooms|id|event|ns|auth)"|"(emit|join|ack|connect)"|[\[\]{}:,"\\ 0-9a-z.\-])*\}?"#) {
            let _ = parse_client(Bytes::from(s));
        }
    }
}
