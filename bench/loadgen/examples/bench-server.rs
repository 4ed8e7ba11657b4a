//! wirehub's benchmark server: the contract of `examples/conformance.rs` (the
//! Node contract in its doc comment, without the interop extensions), with
//! the engine timings taken from the environment so that all servers of the
//! benchmark run with the same settings. Everything else is the library's
//! default configuration.
//!
//! Environment: `PORT` (default 3000), `PING_INTERVAL_MS` (default 25000),
//! `PING_TIMEOUT_MS` (default 20000); `#[tokio::main]` honours
//! `TOKIO_WORKER_THREADS`. Listens on 127.0.0.1:$PORT.
//!
//! Build: `cargo build --release -p wirehub-loadgen --example bench-server`.
//! `bench/run.sh --heartbeat conformance` uses `examples/conformance.rs`
//! itself instead (its timings are fixed at 300 ms / 200 ms).

use serde_json::Value;
use std::time::Duration;
use wirehub_server::io::{AckSender, Data, RawArgs, SocketRef};
use wirehub_server::SocketIo;

fn env_ms(name: &str, default: u64) -> Duration {
    let ms = std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Duration::from_millis(ms)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let (service, io) = SocketIo::builder()
        .ping_interval(env_ms("PING_INTERVAL_MS", 25_000))
        .ping_timeout(env_ms("PING_TIMEOUT_MS", 20_000))
        .max_payload(1_000_000)
        .build_service();

    let server = io.clone();
    io.ns("/", move |socket: SocketRef, Data(auth): Data<Value>| {
        let io = server.clone();
        async move {
            let _ = socket.emit("auth", &auth);
            register_contract(&socket, io);
        }
    });

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("wirehub bench server listening on http://127.0.0.1:{port}");
    wirehub_server::serve(listener, service, std::future::pending()).await
}

/// Same handlers as `register_contract` in `examples/conformance.rs`.
fn register_contract(socket: &SocketRef, io: SocketIo) {
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
