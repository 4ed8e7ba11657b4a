//! Benchmark peer: the conformance contract (the Node contract documented in
//! examples/conformance.rs of the wirehub repository) on socketioxide with
//! axum, its recommended setup. Engine timings come from the environment so
//! that every server of the benchmark runs with the same settings; the rest is
//! socketioxide's defaults, but for the 1 MB max payload of the others.
//! Handlers follow socketioxide's README idiom (`Data<serde_json::Value>` in,
//! `emit`/`ack.send` out).
//!
//! Usage: PORT=3402 socketioxide-bench-peer. Listens on 127.0.0.1:$PORT.
//! Environment: PING_INTERVAL_MS (default 25000), PING_TIMEOUT_MS (default
//! 20000); `#[tokio::main]` honours TOKIO_WORKER_THREADS.

use std::time::Duration;

use serde_json::Value;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

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
    let (layer, io) = SocketIo::builder()
        .ping_interval(env_ms("PING_INTERVAL_MS", 25_000))
        .ping_timeout(env_ms("PING_TIMEOUT_MS", 20_000))
        .max_payload(1_000_000)
        .build_layer();

    io.ns("/", async |socket: SocketRef, Data(auth): Data<Value>| {
        socket.emit("auth", &auth).ok();

        socket.on(
            "message",
            async |s: SocketRef, Data(data): Data<Value>| {
                s.emit("message-back", &data).ok();
            },
        );
        socket.on(
            "message-with-ack",
            async |Data(data): Data<Value>, ack: AckSender| {
                ack.send(&data).ok();
            },
        );
        socket.on(
            "join",
            async |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
                s.join(room);
                ack.send("joined").ok();
            },
        );
        socket.on(
            "leave",
            async |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
                s.leave(room);
                ack.send("left").ok();
            },
        );
        socket.on(
            "to-room",
            async |s: SocketRef, Data((room, data)): Data<(String, Value)>| {
                s.to(room).emit("room-message", &data).await.ok();
            },
        );
        socket.on(
            "broadcast",
            async |io: SocketIo, Data(data): Data<Value>| {
                io.emit("broadcast-message", &data).await.ok();
            },
        );
    });

    let app = axum::Router::new()
        .route("/", axum::routing::get(async || "ok"))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("socketioxide peer listening on 127.0.0.1:{port}");
    axum::serve(listener, app).await
}
