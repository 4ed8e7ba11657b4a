//! The chat demo's server side, on the main namespace.
//!
//! Events (client → server): `join {nick, room}` (ack), `chat {text}` (ack),
//! `typing bool`, `my other event` (logged). Server → client: `news`,
//! `rooms [{room, members}]`, `presence {room, members}`,
//! `chat {id, room, nick, text, ts}`, `typing {nick, typing}`.
//! On connection the server emits `news {"hello":"world"}`, as in the
//! classic Socket.IO example.
//!
//! Who is in which room lives in each socket's serialisable data
//! (`{nick, room, since}`), and the member and room lists are read with
//! `fetch_sockets`, so with several nodes the demo shows everyone, whichever
//! node they are connected to.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wirehub_server::io::{AckSender, Data, RemoteSocket, SocketRef, TryData};
use wirehub_server::plain::install_room_events;
use wirehub_server::SocketIo;

const MAX_NICK: usize = 32;
const MAX_TEXT: usize = 2000;

/// Stored as a socket's data once it joined a room.
#[derive(Clone, Serialize, Deserialize)]
struct Joined {
    nick: String,
    room: String,
    /// When it joined (µs since the epoch): member lists are in join order.
    since: u64,
}

#[derive(Deserialize)]
struct JoinRequest {
    nick: String,
    room: String,
}

#[derive(Deserialize)]
struct ChatRequest {
    text: String,
}

/// Message ids: the sender's socket id and this counter, unique across nodes.
static MESSAGES: AtomicU64 = AtomicU64::new(0);

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn joined(data: &Value) -> Option<Joined> {
    serde_json::from_value(data.clone()).ok()
}

/// The sockets `op` selects on every node; those of the nodes that
/// answered if some did not (an engine outage: this node's alone).
async fn fetch(op: wirehub_server::io::BroadcastOperator) -> Vec<RemoteSocket> {
    match op.fetch_sockets().await {
        Ok(found) => found,
        Err(partial) => {
            tracing::warn!(error = %partial, "chat: member list from the nodes that answered");
            partial.items
        }
    }
}

/// The nicks in `room`, in join order, without socket `gone`.
async fn members(io: &SocketIo, room: &str, gone: Option<&str>) -> Vec<String> {
    let mut found: Vec<(u64, String, String)> = fetch(io.to(room.to_owned()))
        .await
        .iter()
        .filter(|s| Some(s.id().as_str()) != gone)
        .filter_map(|s| {
            let j = joined(s.data())?;
            (j.room == room).then(|| (j.since, s.id().to_string(), j.nick))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, _, nick)| nick).collect()
}

/// Every room with members, and how many, without socket `gone`.
async fn room_list(io: &SocketIo, gone: Option<&str>) -> Value {
    let mut rooms: BTreeMap<String, usize> = BTreeMap::new();
    for s in fetch(io.broadcast()).await {
        if Some(s.id().as_str()) == gone {
            continue;
        }
        if let Some(j) = joined(s.data()) {
            *rooms.entry(j.room).or_default() += 1;
        }
    }
    rooms
        .into_iter()
        .map(|(room, members)| json!({ "room": room, "members": members }))
        .collect()
}

/// Registers the chat on `io`'s main namespace.
pub(crate) fn register(io: &SocketIo) {
    let server = io.clone();
    io.ns("/", move |socket: SocketRef| {
        let io = server.clone();
        async move { on_connect(socket, io).await }
    });
}

async fn on_connect(socket: SocketRef, io: SocketIo) {
    install_room_events(&socket);
    let _ = socket.emit("news", &json!({ "hello": "world" }));
    socket.on("my other event", |Data(data): Data<Value>| async move {
        tracing::info!(%data, "my other event");
    });
    let server = io.clone();
    socket.on(
        "join",
        move |s: SocketRef, TryData(req): TryData<JoinRequest>, ack: AckSender| {
            let io = server.clone();
            async move { join(&s, &io, req.ok(), ack).await }
        },
    );
    socket.on(
        "chat",
        |s: SocketRef, TryData(req): TryData<ChatRequest>, ack: AckSender| async move {
            chat(&s, req.ok(), ack)
        },
    );
    socket.on(
        "typing",
        |s: SocketRef, Data(typing): Data<Value>| async move {
            if let Some(me) = joined(&s.data()) {
                let _ = s.to(me.room).volatile().emit(
                    "typing",
                    &json!({ "nick": me.nick, "typing": typing == Value::Bool(true) }),
                );
            }
        },
    );
    let server = io.clone();
    socket.on_disconnect(move |s: SocketRef| {
        let io = server.clone();
        async move {
            if let Some(me) = joined(&s.data()) {
                send_presence(&io, &me.room, Some(s.id())).await;
                let _ = io.emit("rooms", &room_list(&io, Some(s.id())).await);
            }
        }
    });
    let _ = socket.emit("rooms", &room_list(&io, None).await);
}

async fn join(s: &SocketRef, io: &SocketIo, req: Option<JoinRequest>, ack: AckSender) {
    let Some(req) = req else {
        let _ = ack.send(&json!({ "ok": false, "error": "expected {nick, room}" }));
        return;
    };
    let nick = req.nick.trim().to_owned();
    let room = req.room.trim().to_owned();
    if nick.is_empty() || nick.chars().count() > MAX_NICK {
        let _ = ack.send(&json!({ "ok": false, "error": "nick must be 1-32 characters" }));
        return;
    }
    if !valid_room(&room) {
        let _ = ack.send(
            &json!({ "ok": false, "error": "room must be 1-32 characters of A-Z a-z 0-9 _ -" }),
        );
        return;
    }
    let previous = joined(&s.data());
    if let Some(prev) = &previous {
        s.leave(prev.room.clone());
    }
    s.join(room.clone());
    let me = Joined {
        nick,
        room: room.clone(),
        since: since_epoch().as_micros() as u64,
    };
    if s.set_data(&me).is_err() {
        return;
    }
    let members = members(io, &room, None).await;
    let _ = ack.send(&json!({ "ok": true, "room": room, "members": members }));
    send_presence(io, &room, None).await;
    if let Some(prev) = previous.filter(|p| p.room != room) {
        send_presence(io, &prev.room, None).await;
    }
    let _ = io.emit("rooms", &room_list(io, None).await);
}

fn chat(s: &SocketRef, req: Option<ChatRequest>, ack: AckSender) {
    let Some(me) = joined(&s.data()) else {
        let _ = ack.send(&json!({ "ok": false, "error": "join a room first" }));
        return;
    };
    let text = req.map(|r| r.text.trim().to_owned()).unwrap_or_default();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        let _ = ack.send(&json!({ "ok": false, "error": "text must be 1-2000 characters" }));
        return;
    }
    let id = format!(
        "{}-{}",
        s.id(),
        MESSAGES.fetch_add(1, Ordering::Relaxed) + 1
    );
    let message = json!({ "id": id, "room": me.room, "nick": me.nick, "text": text, "ts": since_epoch().as_millis() as u64 });
    if let Some(room) = s.namespace().to(me.room) {
        let _ = room.emit("chat", &message);
    }
    let _ = ack.send(&json!({ "ok": true, "id": id }));
}

async fn send_presence(io: &SocketIo, room: &str, gone: Option<&str>) {
    let members = members(io, room, gone).await;
    let _ = io
        .to(room.to_owned())
        .emit("presence", &json!({ "room": room, "members": members }));
}

fn valid_room(room: &str) -> bool {
    (1..=32).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        assert!(valid_room("general"));
        assert!(valid_room("a-b_C9"));
        assert!(!valid_room(""));
        assert!(!valid_room("has space"));
        assert!(!valid_room(&"x".repeat(33)));
        assert!(!valid_room("é"));
    }

    #[test]
    fn joined_reads_only_its_shape() {
        let j = joined(&json!({"nick": "ann", "room": "r", "since": 1})).unwrap();
        assert_eq!((j.nick.as_str(), j.room.as_str()), ("ann", "r"));
        assert!(joined(&json!({})).is_none());
    }
}
