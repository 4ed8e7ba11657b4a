//! Room events for Socket.IO clients: what plain clients do with `join`,
//! `leave` and `emit`-with-rooms envelopes, offered to Socket.IO clients as
//! three events, so both kinds of client share rooms without server code:
//!
//! - `hub:join` (a room name or a list), acked with `{"rooms":[...]}`;
//! - `hub:leave` (same), acked likewise;
//! - `hub:publish` (`{"room" | "rooms", "event", "data" | "args"}`), acked
//!   with `{"delivered":N,"offset":K}` (`offset` null when not recorded).
//!
//! Invalid requests are acked with `{"error":{"code","message"}}`. They obey
//! [`crate::Config::plain_client_rooms`] like the plain envelopes.

use crate::io::{AckSender, Data, SocketRef};
use serde::Deserialize;
use serde_json::{json, Value};
use wirehub_proto::plain::{codes, MAX_NAME_LEN, MAX_ROOMS};
use wirehub_proto::socketio::decode::RESERVED_EVENTS;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// Registers `hub:join`, `hub:leave` and `hub:publish` on a socket (call it
/// from a namespace's connection handler).
pub fn install_room_events(socket: &SocketRef) {
    socket.on(
        "hub:join",
        |s: SocketRef, Data(rooms): Data<Value>, ack: AckSender| async move {
            let answer = match room_list(&s, &rooms) {
                Ok(rooms) => match s.try_join(rooms) {
                    Ok(()) => json!({ "rooms": own_rooms(&s) }),
                    Err(limit) => error(limit.plain_code(), &limit.to_string()),
                },
                Err(e) => e,
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        "hub:leave",
        |s: SocketRef, Data(rooms): Data<Value>, ack: AckSender| async move {
            let answer = match room_list(&s, &rooms) {
                Ok(rooms) => {
                    s.leave(rooms);
                    json!({ "rooms": own_rooms(&s) })
                }
                Err(e) => e,
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        "hub:publish",
        |s: SocketRef, Data(request): Data<Value>, ack: AckSender| async move {
            let _ = ack.send(&publish(&s, request).await);
        },
    );
}

#[derive(Deserialize)]
struct Publish {
    #[serde(default)]
    room: Option<Value>,
    #[serde(default)]
    rooms: Option<Value>,
    event: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    args: Option<Vec<Value>>,
}

async fn publish(s: &SocketRef, request: Value) -> Value {
    let request: Publish = match serde_json::from_value(request) {
        Ok(r) => r,
        Err(e) => return error(codes::BAD_FIELD, &e.to_string()),
    };
    let target = match (request.room, request.rooms) {
        (Some(room), None) => room,
        (None, Some(rooms)) => rooms,
        _ => return error(codes::BAD_FIELD, "give room or rooms"),
    };
    let rooms = match room_list(s, &target) {
        Ok(rooms) => rooms,
        Err(e) => return e,
    };
    let event = request.event;
    if event.is_empty() || event.len() > MAX_NAME_LEN {
        return error(codes::BAD_FIELD, "event: 1 to 256 bytes");
    }
    if RESERVED_EVENTS.contains(&event.as_str()) {
        return error(codes::RESERVED_EVENT, "event: reserved name");
    }
    let args = match (request.data, request.args) {
        (Some(_), Some(_)) => return error(codes::BAD_FIELD, "give data or args"),
        (Some(data), None) => Args::one(&data),
        (None, Some(args)) => Args::many(&args),
        (None, None) => Ok(Args::empty()),
    };
    let Ok(args) = args else {
        return error(codes::BAD_FIELD, "data: not serialisable");
    };
    match s.to(rooms).publish(&event, args) {
        Ok(published) => {
            let delivered = published.recipients;
            json!({ "delivered": delivered, "offset": published.offset().await })
        }
        Err(e) => error(codes::UNAVAILABLE, &e.to_string()),
    }
}

/// The rooms named by a string or a list of strings, within the limits.
fn room_list(s: &SocketRef, value: &Value) -> Result<Vec<Str>, Value> {
    if !s.config().plain_client_rooms {
        return Err(error(
            codes::NOT_ALLOWED,
            "this server does not let clients join or publish to rooms",
        ));
    }
    let names: Vec<&str> = match value {
        Value::String(room) => vec![room.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let valid = |r: &&str| !r.is_empty() && r.len() <= MAX_NAME_LEN;
    let count_ok = match value {
        Value::Array(list) => list.len() == names.len(),
        _ => true,
    };
    if names.is_empty() || names.len() > MAX_ROOMS || !count_ok || !names.iter().all(valid) {
        return Err(error(
            codes::BAD_FIELD,
            "rooms: 1 to 64 names of 1 to 256 bytes",
        ));
    }
    Ok(names.into_iter().map(|r| Str::from(r.to_owned())).collect())
}

/// The rooms a socket joined, without the one named after itself.
pub(crate) fn own_rooms(socket: &SocketRef) -> Vec<Str> {
    let mut rooms: Vec<Str> = socket
        .rooms()
        .into_iter()
        .filter(|r| r != socket.id())
        .collect();
    rooms.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    rooms
}

fn error(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message } })
}
