//! The Socket.IO conformance contract: the handlers of the Node reference
//! server that the public socket.io-protocol test suite runs against, so any
//! wirehub server (our `conformance` example, the benchmark server, tests)
//! can serve it from one definition.
//!
//! ```js
//! io.on("connection", (socket) => {
//!   socket.emit("auth", socket.handshake.auth);
//!   socket.on("message", (...args) => socket.emit("message-back", ...args));
//!   socket.on("message-with-ack", (...args) => { const ack = args.pop(); ack(...args); });
//!   socket.on("join", (room, ack) => { socket.join(room); ack && ack("joined"); });
//!   socket.on("leave", (room, ack) => { socket.leave(room); ack && ack("left"); });
//!   socket.on("to-room", (room, ...args) => socket.to(room).emit("room-message", ...args));
//!   socket.on("broadcast", (...args) => io.emit("broadcast-message", ...args));
//! });
//! io.of("/custom").on("connection", (socket) => { socket.emit("auth", socket.handshake.auth); });
//! ```
//!
//! [`interop_extensions`] adds events used only by our interop suites
//! (`server-ack`, `collect-acks`, `disconnect-me`, `watch-disconnects`,
//! `socket-count`; see
//! `tests/interop/reference/server.mjs` for their Node equivalent), and
//! [`cluster_contract`] the events of the cluster suites (see
//! `tests/cluster/node-server.mjs`):
//!
//! ```js
//! socket.on("room-size", async (room, ack) => ack((await io.in(room).fetchSockets()).length));
//! socket.on("to-room-except", (room, except, ...args) => io.to(room).except(except).emit("room-message", ...args));
//! socket.on("make-join", (from, to, ack) => { io.in(from).socketsJoin(to); ack("ok"); });
//! socket.on("make-leave", (from, room, ack) => { io.in(from).socketsLeave(room); ack("ok"); });
//! socket.on("kick-room", (room, ack) => { ack("ok"); io.in(room).disconnectSockets(); });
//! socket.on("nodes-ping", async (ack) => ack((await io.serverSideEmitWithAck("node-ping")).length));
//! io.on("node-ping", (cb) => cb("pong"));
//! ```

use crate::io::{AckSender, Data, DisconnectReason, RawArgs, Seq, ServerAck, SocketRef};
use crate::proto::socketio::Args;
use crate::SocketIo;
use serde_json::{json, Value};
use std::time::Duration;

/// Registers `/` (auth echo + [`contract`], and [`interop_extensions`]
/// and [`cluster_contract`] when asked) and `/custom` (auth echo) on `io`.
pub fn register(io: &SocketIo, with_extensions: bool) {
    let server = io.clone();
    io.ns("/", move |socket: SocketRef, Data(auth): Data<Value>| {
        let io = server.clone();
        async move {
            let _ = socket.emit("auth", &auth);
            contract(&socket, io.clone());
            if with_extensions {
                interop_extensions(&socket);
                cluster_contract(&socket, io);
            }
        }
    });
    if with_extensions {
        io.on_server_event("node-ping", |_: Args, ack: ServerAck| async move {
            let _ = ack.send("pong");
        });
    }
    io.ns(
        "/custom",
        |socket: SocketRef, Data(auth): Data<Value>| async move {
            let _ = socket.emit("auth", &auth);
        },
    );
}

/// The contract's events on one socket.
pub fn contract(socket: &SocketRef, io: SocketIo) {
    socket.on(
        "message",
        |s: SocketRef, RawArgs(args): RawArgs| async move {
            let _ = s.emit_raw("message-back", args);
        },
    );
    socket.on(
        "message-with-ack",
        |RawArgs(args): RawArgs, ack: AckSender| async move {
            let _ = ack.send_raw(args);
        },
    );
    socket.on(
        "join",
        |s: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
            s.join(room);
            let _ = ack.send("joined");
        },
    );
    socket.on(
        "leave",
        |s: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
            s.leave(room);
            let _ = ack.send("left");
        },
    );
    socket.on(
        "to-room",
        |s: SocketRef, RawArgs(mut args): RawArgs| async move {
            let Some(room) = args
                .shift()
                .and_then(|r| serde_json::from_str::<String>(&r).ok())
            else {
                return;
            };
            let _ = s.to(room).emit_raw("room-message", args);
        },
    );
    socket.on("broadcast", move |RawArgs(args): RawArgs| {
        let io = io.clone();
        async move {
            let _ = io.broadcast().emit_raw("broadcast-message", args);
        }
    });
}

/// The cluster suites' events on one socket: operations on the sockets of
/// every node.
pub fn cluster_contract(socket: &SocketRef, io: SocketIo) {
    let server = io.clone();
    socket.on(
        "room-size",
        move |Data(room): Data<String>, ack: AckSender| {
            let io = server.clone();
            async move {
                let _ = match io.to(room).fetch_sockets().await {
                    Ok(found) => ack.send(&found.len()),
                    Err(e) => ack.send(&json!({ "error": e.to_string() })),
                };
            }
        },
    );
    let server = io.clone();
    socket.on("to-room-except", move |RawArgs(mut args): RawArgs| {
        let io = server.clone();
        async move {
            let (Some(room), Some(except)) = (string_arg(&mut args), string_arg(&mut args)) else {
                return;
            };
            let _ = io.to(room).except(except).emit_raw("room-message", args);
        }
    });
    let server = io.clone();
    socket.on(
        "make-join",
        move |Seq((from, to)): Seq<(String, String)>, ack: AckSender| {
            let io = server.clone();
            async move {
                let _ = io.to(from).sockets_join(to);
                let _ = ack.send("ok");
            }
        },
    );
    let server = io.clone();
    socket.on(
        "make-leave",
        move |Seq((from, room)): Seq<(String, String)>, ack: AckSender| {
            let io = server.clone();
            async move {
                let _ = io.to(from).sockets_leave(room);
                let _ = ack.send("ok");
            }
        },
    );
    let server = io.clone();
    socket.on(
        "kick-room",
        move |Data(room): Data<String>, ack: AckSender| {
            let io = server.clone();
            async move {
                let _ = ack.send("ok");
                let _ = io.to(room).disconnect_sockets(false);
            }
        },
    );
    socket.on("nodes-ping", move |ack: AckSender| {
        let io = io.clone();
        async move {
            let answers = io
                .server_side_emit_with_ack("node-ping", Args::empty())
                .await;
            let _ = ack.send(&answers.responses.len());
        }
    });
}

/// Takes the first argument off `args` if it is a string.
fn string_arg(args: &mut Args) -> Option<String> {
    args.shift()
        .and_then(|r| serde_json::from_str::<String>(&r).ok())
}

/// The interop suites' additional events on one socket.
pub fn interop_extensions(socket: &SocketRef) {
    socket.on(
        "server-ack",
        |s: SocketRef, RawArgs(args): RawArgs| async move {
            let answer = s
                .emit_raw_with_ack("server-ack-request", args, Duration::from_millis(1000))
                .await;
            // `{"reply":[...answer]}`, keeping the answer's binary attachments.
            let result = match answer {
                Ok(a) => {
                    let items: Vec<&str> = a.raw().iter().map(|r| r.as_str()).collect();
                    let reply = format!("{{\"reply\":[{}]}}", items.join(","));
                    Args::from_parts(vec![reply.into()], a.attachments().to_vec())
                }
                Err(_) => Args::from_raw(vec![json!({ "error": "timeout" }).to_string().into()]),
            };
            let _ = s.emit_raw("server-ack-result", result);
        },
    );
    socket.on("collect-acks", |s: SocketRef, ack: AckSender| async move {
        let Some(all) = s.namespace().broadcast() else {
            return;
        };
        let all = all.timeout(Duration::from_millis(1000));
        let answers = all.emit_raw_with_ack("collect", Args::empty()).await;
        let responses = answers.first_args::<Value>().unwrap_or_default();
        let _ = ack.send(&json!({ "timedOut": answers.timed_out, "responses": responses }));
    });
    socket.on(
        "disconnect-me",
        |s: SocketRef| async move { s.disconnect() },
    );
    socket.on(
        "watch-disconnects",
        |s: SocketRef, ack: AckSender| async move {
            s.join("watchers");
            let _ = ack.send("watching");
        },
    );
    // How many sockets the namespace has: the suites wait on it instead of
    // sleeping until earlier tests' sockets are gone.
    socket.on("socket-count", |s: SocketRef, ack: AckSender| async move {
        let _ = ack.send(&s.namespace().socket_count());
    });
    socket.on_disconnect(|s: SocketRef, reason: DisconnectReason| async move {
        if let Some(watchers) = s.namespace().to("watchers") {
            let _ = watchers.emit_args("peer-disconnected", &(s.id(), reason));
        }
    });
}
