//! wirehub's benchmark server: the contract of `examples/conformance.rs` (the
//! Node contract in its doc comment, without the interop extensions), with
//! the engine timings taken from the environment so that all servers of the
//! benchmark run with the same settings. Everything else is the library's
//! default configuration.
//!
//! The plain transports are served too (`/sse`, `/ws`, ... and the TCP
//! gateway on `PORT + 1`), for `fanout --via sse|tcp`.
//!
//! Environment: `PORT` (default 3000), `PING_INTERVAL_MS` (default 25000),
//! `PING_TIMEOUT_MS` (default 20000), `WIREHUB_PARSER` (`json`, the default, or
//! `msgpack`: the echo scenario's `--parser msgpack`), `WIREHUB_RECOVERY_WINDOW` (seconds of
//! connection-state recovery, default 0: off, as the Node peer reads it);
//! `#[tokio::main]` honours `TOKIO_WORKER_THREADS`. Listens on
//! 127.0.0.1:$PORT.
//!
//! Clustering (the `cluster` scenario), as `examples/conformance.rs`:
//! `WIREHUB_ADAPTER` (`memory`, the default; `redis://HOST:PORT`,
//! `redis-sharded://HOST:PORT`, `nats://HOST:PORT`) and
//! `WIREHUB_ADAPTER_KEY` (default `socket.io`), through
//! `wirehub::adapters::from_env`. The node does not join the node directory
//! (no `WIREHUB_ADVERTISE`): the benchmark's clients connect over WebSocket
//! straight to their node, so no request needs forwarding. It listens only
//! once the adapter is subscribed (`io.ready()`).
//!
//! Build: `cargo build --release -p wirehub-loadgen --example bench-server`.
//! `bench/run.sh --heartbeat conformance` uses `examples/conformance.rs`
//! itself instead (its timings are fixed at 300 ms / 200 ms).

use std::time::Duration;
use tower_layer::Layer;
use wirehub_server::plain::serve_tcp;
use wirehub_server::{conformance, NotFound, PlainHub, SocketIo};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(env_u64(name, default))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let adapter = wirehub::adapters::from_env()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let (layer, io) = SocketIo::builder()
        .adapter(adapter.factory.clone())
        .ping_interval(env_ms("PING_INTERVAL_MS", 25_000))
        .ping_timeout(env_ms("PING_TIMEOUT_MS", 20_000))
        .recovery_window(Duration::from_secs(env_u64("WIREHUB_RECOVERY_WINDOW", 0)))
        .max_payload(1_000_000)
        .parser(
            std::env::var("WIREHUB_PARSER")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or_default(),
        )
        .build_layer();

    conformance::register(&io, false);
    io.ready().await;
    let hub = PlainHub::new(io);
    let service = layer.layer(hub.layer().layer(NotFound));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port + 1)).await?;
    let adapter_url = std::env::var("WIREHUB_ADAPTER").unwrap_or_else(|_| "memory".into());
    eprintln!(
        "wirehub bench server listening on http://127.0.0.1:{port} (plain TCP on {}; adapter {adapter_url})",
        port + 1
    );
    tokio::spawn(serve_tcp(hub, tcp, std::future::pending()));
    wirehub_server::serve(listener, service, std::future::pending()).await
}
