//! Server → client: encoders for every envelope the server sends.
//!
//! Each returns one compact JSON object as [`Bytes`], with no trailing
//! newline (the transport adds its framing) and never a raw CR or LF
//! inside, so NDJSON and SSE framing can wrap it as is. Events are built
//! straight into a buffer: a broadcast is encoded once and shared.

use super::binary::inline_attachments;
use super::json::JsonObject;
use super::VERSION;
use crate::socketio::Args;
use bytes::Bytes;

/// The `hello` envelope: the session is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello<'a> {
    /// The session (socket) id.
    pub sid: &'a str,
    /// The namespace the client is connected to.
    pub ns: &'a str,
    /// The bearer token for `POST /send` (SSE and streaming sessions).
    pub token: Option<&'a str>,
    /// How often the client should show signs of life, in milliseconds.
    pub ping_interval_ms: u64,
    /// The largest envelope the server accepts, in bytes.
    pub max_payload: usize,
}

/// The optional fields of an `event` envelope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventMeta<'a> {
    /// Ack id: the client should answer with an `ack` envelope.
    pub id: Option<u64>,
    /// The room the event was published to.
    pub room: Option<&'a str>,
    /// The event's room-history offset.
    pub offset: Option<u64>,
}

/// `{"type":"hello","v":1,"sid":..,"ns":..,"token":..,"pingInterval":..,"maxPayload":..}`.
pub fn encode_hello(hello: &Hello<'_>) -> Bytes {
    JsonObject::new("hello", 96 + hello.sid.len() + hello.ns.len())
        .num("v", u64::from(VERSION))
        .str("sid", hello.sid)
        .str("ns", hello.ns)
        .opt_str("token", hello.token)
        .num("pingInterval", hello.ping_interval_ms)
        .num("maxPayload", hello.max_payload as u64)
        .finish()
}

/// `{"type":"event","event":..,"data"|"args":..,"id":..,"room":..,"offset":..}`.
///
/// Binary attachments are inlined as `{"$binary":"<base64>"}` objects.
pub fn encode_event(meta: &EventMeta<'_>, event: &str, args: &Args) -> Bytes {
    let room_len = meta.room.map_or(0, str::len);
    let mut obj = JsonObject::new("event", 64 + event.len() + room_len + args.json_len());
    obj.str("event", event);
    put_args(&mut obj, args);
    obj.opt_num("id", meta.id)
        .opt_str("room", meta.room)
        .opt_num("offset", meta.offset)
        .finish()
}

/// `{"type":"ack","id":..,"data"|"args":..}`.
pub fn encode_ack(id: u64, args: &Args) -> Bytes {
    let mut obj = JsonObject::new("ack", 32 + args.json_len());
    obj.num("id", id);
    put_args(&mut obj, args);
    obj.finish()
}

/// `{"type":"error","code":..,"message":..,"id":..,"data":..}`; `data`
/// is raw JSON, copied as is (the caller guarantees it is valid).
pub fn encode_error(code: &str, message: &str, id: Option<u64>, data: Option<&str>) -> Bytes {
    let size = 48 + code.len() + message.len() + data.map_or(0, str::len);
    let mut obj = JsonObject::new("error", size);
    obj.str("code", code)
        .str("message", message)
        .opt_num("id", id);
    if let Some(data) = data {
        obj.raw("data", data.as_bytes());
    }
    obj.finish()
}

/// `{"type":"pong"}`.
pub fn encode_pong() -> Bytes {
    Bytes::from_static(br#"{"type":"pong"}"#)
}

/// `{"type":"disconnect","reason":..}`.
pub fn encode_disconnect(reason: &str) -> Bytes {
    JsonObject::new("disconnect", 16 + reason.len())
        .str("reason", reason)
        .finish()
}

/// The data/args rule: one argument → `data`, several → `args`, none → neither.
fn put_args(obj: &mut JsonObject, args: &Args) {
    if !args.attachments().is_empty() {
        let items = inline_attachments(args);
        return put_items(obj, items.iter().map(|s| s.as_bytes()));
    }
    put_items(obj, args.raw().iter().map(|s| s.as_bytes().as_ref()));
}

fn put_items<'a>(obj: &mut JsonObject, mut items: impl ExactSizeIterator<Item = &'a [u8]>) {
    if items.len() > 1 {
        obj.raw_array("args", items);
    } else if let Some(one) = items.next() {
        obj.raw("data", one);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Str;

    fn text(b: Bytes) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn hello() {
        let mut h = Hello {
            sid: "s1",
            ns: "/",
            token: Some("t"),
            ping_interval_ms: 25_000,
            max_payload: 1_000_000,
        };
        let want = r#"{"type":"hello","v":1,"sid":"s1","ns":"/","token":"t","pingInterval":25000,"maxPayload":1000000}"#;
        assert_eq!(text(encode_hello(&h)), want);
        h.token = None;
        assert!(!text(encode_hello(&h)).contains("token"));
    }

    #[test]
    fn events_follow_the_data_args_rule() {
        let meta = EventMeta {
            id: Some(3),
            room: Some("lobby"),
            offset: Some(17),
        };
        let one = Args::from_raw(vec![r#"{"a":1}"#.into()]);
        assert_eq!(
            text(encode_event(&meta, "chat", &one)),
            r#"{"type":"event","event":"chat","data":{"a":1},"id":3,"room":"lobby","offset":17}"#
        );
        let none = EventMeta::default();
        assert_eq!(
            text(encode_event(&none, "e\"", &Args::empty())),
            r#"{"type":"event","event":"e\""}"#
        );
        let two = Args::from_raw(vec!["1".into(), "null".into()]);
        assert_eq!(
            text(encode_event(&none, "e", &two)),
            r#"{"type":"event","event":"e","args":[1,null]}"#
        );
        assert_eq!(
            text(encode_ack(7, &two)),
            r#"{"type":"ack","id":7,"args":[1,null]}"#
        );
        assert_eq!(
            text(encode_ack(7, &Args::empty())),
            r#"{"type":"ack","id":7}"#
        );
    }

    #[test]
    fn attachments_are_inlined() {
        let args = Args::from_parts(
            vec![r#"{"_placeholder":true,"num":0}"#.into()],
            vec![Bytes::from_static(b"hi")],
        );
        let got = text(encode_event(&EventMeta::default(), "b", &args));
        assert_eq!(
            got,
            r#"{"type":"event","event":"b","data":{"$binary":"aGk="}}"#
        );
    }

    #[test]
    fn raw_newlines_never_reach_the_wire() {
        let args = Args::from_raw(vec![Str::from("{\r\n\"a\":\"x\\ny\"}")]);
        let got = text(encode_ack(1, &args));
        assert!(!got.contains(['\n', '\r']), "{got}");
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["data"]["a"], "x\ny");
        assert!(!text(encode_disconnect("a\nb")).contains('\n'));
    }

    #[test]
    fn errors_pong_disconnect() {
        assert_eq!(
            text(encode_error(
                "bad_json",
                "invalid JSON",
                Some(7),
                Some(r#"{"x":1}"#)
            )),
            r#"{"type":"error","code":"bad_json","message":"invalid JSON","id":7,"data":{"x":1}}"#
        );
        assert_eq!(
            text(encode_error("c", "m", None, None)),
            r#"{"type":"error","code":"c","message":"m"}"#
        );
        assert_eq!(text(encode_pong()), r#"{"type":"pong"}"#);
        assert_eq!(
            text(encode_disconnect("server namespace disconnect")),
            r#"{"type":"disconnect","reason":"server namespace disconnect"}"#
        );
    }
}
