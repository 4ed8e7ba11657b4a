//! wirehub server: a Socket.IO v5 / Engine.IO v4 hub on hyper 1.
//!
//! ```no_run
//! use wirehub_server::{io::{AckSender, Data, RawArgs, SocketRef}, SocketIo};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (service, io) = SocketIo::builder().build_service();
//! io.ns("/", |socket: SocketRef, Data(auth): Data<serde_json::Value>| async move {
//!     let _ = socket.emit("auth", &auth);
//!     socket.on("message", |socket: SocketRef, RawArgs(args): RawArgs| async move {
//!         let _ = socket.emit_raw("message-back", args);
//!     });
//!     socket.on("ping", |ack: AckSender| async move { let _ = ack.send("pong"); });
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! wirehub_server::serve(listener, service, std::future::pending()).await
//! # }
//! ```
//!
//! # Layout
//! - [`admin`]: the `@socket.io/admin-ui` dashboard protocol on `/admin`.
//! - [`auth`]: JWT verification at the handshake of every transport.
//! - `cors`: the one CORS policy and origin allowlist of every HTTP endpoint.
//! - [`cluster`]: cluster adapters (Node's Redis adapter protocols over a
//!   [`cluster::Driver`]) so several nodes act as one server.
//! - [`conn`]: what a socket's packets travel over (an Engine.IO session or
//!   a plain connection) and the shared encoding of broadcasts.
//! - [`config`]: limits and timers ([`Config`], [`ConfigBuilder`]).
//! - [`registry`]: every live connection of every transport
//!   ([`registry::Connections`]): admission under the limits, counts per
//!   transport, the drain and graceful shutdown, readiness.
//! - [`limits`]: connection caps shared by every transport, the event-rate
//!   bucket, the room and namespace caps.
//! - [`engine`]: Engine.IO sessions over long-polling and WebSocket, driving
//!   the sans-IO state machine of `wirehub-proto`.
//! - [`io`]: Socket.IO: namespaces, sockets, handlers and extractors, acks,
//!   rooms, broadcasts, and the adapter seam.
//! - [`SocketIoBuilder`]: builds the server, as a tower [`SocketIoLayer`] to
//!   mount in an axum/hyper app or as a standalone [`EngineService`].
//! - [`health`]: `/healthz` and `/readyz` ([`health::HealthLayer`]).
//! - [`metrics`]: counters and histograms, and `/metrics` in the Prometheus
//!   text format ([`metrics::MetricsLayer`]).
//! - [`serve`]: a ready accept loop over any [`Listener`] (TCP_NODELAY,
//!   header timeouts, upgrades, graceful end).
//! - [`tls`]: HTTPS/WSS and TLS for the TCP gateway ([`tls::TlsListener`],
//!   [`tls::TlsConfig`] with certificate reload).
//! - [`plain`]: plain transports (WebSocket, SSE, HTTP streaming, polling,
//!   HTTP API, TCP, UDP) on the same namespaces and rooms.
//! - [`conformance`]: the Socket.IO conformance contract's handlers.
//! - [`websocket_echo`]: a bare WebSocket echo on the server's WebSocket
//!   layer, for the Autobahn|Testsuite.

pub mod admin;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod conformance;
pub mod conn;
pub mod engine;
pub mod health;
pub mod io;
pub mod limits;
pub mod metrics;
pub mod plain;
pub mod registry;
pub mod tls;
pub mod websocket_echo;

mod builder;
mod cors;
mod listener;
mod serve;
mod service;
mod sync;

pub use builder::SocketIoBuilder;
pub use config::{
    Config, ConfigBuilder, CorsOrigins, RecoveryConfig, SlowConsumerPolicy, SockJsConfig,
};
pub use io::SocketIo;
pub use listener::Listener;
pub use plain::{PlainHub, PlainLayer, PlainService};
pub use serve::{serve, RemoteAddr};
pub use service::{EngineLayer, EngineService, NotFound, SocketIoLayer, SocketIoService};
pub use wirehub_proto as proto;
