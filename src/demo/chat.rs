//! The chat demo's server side, on the main namespace.
//!
//! Events (client → server): `join {nick, room}` (ack), `chat {text}` (ack),
//! `typing bool`, `my other event` (logged). Server → client: `news`,
//! `rooms [{room, members}]`, `presence {room, members}`,
//! `chat {id, room, nick, text, ts}`, `typing {nick, typing}`.
//! On connection the server emits `news {"hello":"world"}`, as in the
//! classic Socket.IO example.

use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use wirehub_server::io::{AckSender, Data, SocketRef, TryData};
use wirehub_server::plain::install_room_events;
use wirehub_server::SocketIo;

const MAX_NICK: usize = 32;
const MAX_TEXT: usize = 2000;

/// Who is in which chat room, in join order.
#[derive(Default)]
struct ChatState {
    rooms: Mutex<BTreeMap<String, Vec<Member>>>,
    next_id: AtomicU64,
}

struct Member {
    sid: String,
    nick: String,
}

/// Stored on a socket once it joined a room.
#[derive(Clone)]
struct Joined {
    nick: String,
    room: String,
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

impl ChatState {
    fn members(&self, room: &str) -> Vec<String> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .get(room)
            .map(|m| m.iter().map(|m| m.nick.clone()).collect())
            .unwrap_or_default()
    }

    fn room_list(&self) -> Value {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .iter()
            .map(|(room, m)| json!({ "room": room, "members": m.len() }))
            .collect()
    }

    fn remove(&self, sid: &str, room: &str) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = rooms.get_mut(room) {
            members.retain(|m| m.sid != sid);
            if members.is_empty() {
                rooms.remove(room);
            }
        }
    }

    fn add(&self, sid: &str, room: &str, nick: &str) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let members = rooms.entry(room.to_owned()).or_default();
        members.retain(|m| m.sid != sid);
        members.push(Member {
            sid: sid.to_owned(),
            nick: nick.to_owned(),
        });
    }
}

/// Registers the chat on `io`'s main namespace.
pub(crate) fn register(io: &SocketIo) {
    let state = Arc::new(ChatState::default());
    let server = io.clone();
    io.ns("/", move |socket: SocketRef| {
        let state = state.clone();
        let io = server.clone();
        async move { on_connect(socket, io, state) }
    });
}

fn on_connect(socket: SocketRef, io: SocketIo, state: Arc<ChatState>) {
    install_room_events(&socket);
    let _ = socket.emit("news", &json!({ "hello": "world" }));
    let _ = socket.emit("rooms", &state.room_list());
    socket.on("my other event", |Data(data): Data<Value>| async move {
        tracing::info!(%data, "my other event");
    });
    let (st, server) = (state.clone(), io.clone());
    socket.on(
        "join",
        move |s: SocketRef, TryData(req): TryData<JoinRequest>, ack: AckSender| {
            let (state, io) = (st.clone(), server.clone());
            async move { join(&s, &io, &state, req.ok(), ack) }
        },
    );
    let st = state.clone();
    socket.on(
        "chat",
        move |s: SocketRef, TryData(req): TryData<ChatRequest>, ack: AckSender| {
            let state = st.clone();
            async move { chat(&s, &state, req.ok(), ack) }
        },
    );
    socket.on(
        "typing",
        |s: SocketRef, Data(typing): Data<Value>| async move {
            if let Some(me) = s.get::<Joined>() {
                let _ = s.to(me.room).volatile().emit(
                    "typing",
                    &json!({ "nick": me.nick, "typing": typing == Value::Bool(true) }),
                );
            }
        },
    );
    socket.on_disconnect(move |s: SocketRef| {
        let (state, io) = (state.clone(), io.clone());
        async move {
            if let Some(me) = s.remove::<Joined>() {
                state.remove(s.id(), &me.room);
                send_presence(&io, &state, &me.room);
                let _ = io.emit("rooms", &state.room_list());
            }
        }
    });
}

fn join(s: &SocketRef, io: &SocketIo, state: &ChatState, req: Option<JoinRequest>, ack: AckSender) {
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
    let previous = s.get::<Joined>();
    if let Some(prev) = &previous {
        state.remove(s.id(), &prev.room);
        s.leave(prev.room.clone());
    }
    state.add(s.id(), &room, &nick);
    s.join(room.clone());
    s.insert(Joined {
        nick,
        room: room.clone(),
    });
    let _ = ack.send(&json!({ "ok": true, "room": room, "members": state.members(&room) }));
    send_presence(io, state, &room);
    if let Some(prev) = previous.filter(|p| p.room != room) {
        send_presence(io, state, &prev.room);
    }
    let _ = io.emit("rooms", &state.room_list());
}

fn chat(s: &SocketRef, state: &ChatState, req: Option<ChatRequest>, ack: AckSender) {
    let Some(me) = s.get::<Joined>() else {
        let _ = ack.send(&json!({ "ok": false, "error": "join a room first" }));
        return;
    };
    let text = req.map(|r| r.text.trim().to_owned()).unwrap_or_default();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        let _ = ack.send(&json!({ "ok": false, "error": "text must be 1-2000 characters" }));
        return;
    }
    let id = state.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let message = json!({ "id": id, "room": me.room, "nick": me.nick, "text": text, "ts": ts });
    if let Some(room) = s.namespace().to(me.room) {
        let _ = room.emit("chat", &message);
    }
    let _ = ack.send(&json!({ "ok": true, "id": id }));
}

fn send_presence(io: &SocketIo, state: &ChatState, room: &str) {
    let members = state.members(room);
    let _ = io
        .to(room)
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
    fn membership_in_join_order() {
        let st = ChatState::default();
        st.add("s1", "r", "ann");
        st.add("s2", "r", "bob");
        st.add("s1", "r", "ann");
        assert_eq!(st.members("r"), ["bob", "ann"]);
        st.remove("s2", "r");
        st.remove("s1", "r");
        assert_eq!(st.room_list(), json!([]));
    }
}
