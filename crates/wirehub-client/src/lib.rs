//! wirehub client: a Socket.IO v5 / Engine.IO v4 client for Tokio, speaking
//! to any compliant server (the official Node server, wirehub's own).
//!
//! ```no_run
//! use wirehub_client::{ClientBuilder, Data, Transport};
//!
//! # async fn run() -> Result<(), wirehub_client::Error> {
//! let socket = ClientBuilder::new("http://127.0.0.1:3000")
//!     .transport(Transport::Upgrade) // polling first, then WebSocket (the default)
//!     .on("news", |Data(news): Data<serde_json::Value>| async move {
//!         println!("news: {news}");
//!     })
//!     .connect()
//!     .await?;
//! socket.emit("my other event", &serde_json::json!({ "my": "data" }))?;
//! let answer: String = socket.emit_with_ack("join", "lobby").await?;
//! socket.disconnect().await;
//! # Ok(()) }
//! ```
//!
//! # Model
//! As in the official client, a [`Manager`] is one Engine.IO connection
//! and [`Socket`]s are namespaces multiplexed on it
//! (`manager.socket("/admin")`). Handlers are async closures whose
//! arguments are extractors ([`Data`], [`Seq`], [`AckSender`], [`Event`],
//! [`DisconnectReason`], [`Error`]...), as in wirehub's server. A lost
//! connection is re-established with exponential backoff and jitter
//! ([`Reconnection`]); emits made meanwhile are buffered and sent once the
//! namespace is joined again, unless they are volatile. A server that stops
//! pinging is noticed after `pingInterval + pingTimeout`.
//!
//! Connection state recovery (Socket.IO 4.6+): when the server offers it,
//! a socket reconnecting after a lost connection asks for its session back
//! (the CONNECT carries the server's private session id and the offset of
//! the last event received); if the server restores it, the socket keeps
//! its id and rooms, the events missed meanwhile arrive first, and
//! [`Socket::recovered`] is true. The server appends the offset to the
//! events it stores, as the last argument: handlers see it, as in the
//! official client. A deliberate disconnect (either side) ends the session:
//! the next `connect()` starts a new one.
//!
//! The connection ends on [`Manager::close`], when its last socket
//! disconnects, or when every handle (manager, sockets, ack senders) is
//! dropped.
//!
//! # Layout
//! - `builder`: [`ClientBuilder`].
//! - `config`: the options the driver runs with; [`Transport`].
//! - `manager`: [`Manager`] and its driver task (connection state,
//!   reconnection, heartbeat, upgrade), per-namespace state.
//! - `socket`: [`Socket`], [`SocketBuilder`], [`Emitter`].
//! - `handler` / `extract`: async handlers and their extractors;
//!   `ack`: [`AckSender`].
//! - `engine`: Engine.IO sessions: handshake, long-polling, WebSocket,
//!   upgrade probe.
//! - `net`: TCP and TLS (rustls, `ring`, webpki roots).
//! - `recovery`: connection state recovery's bookkeeping (pid, offset).
//! - `backoff`, `url`, `reason`, `error`: small pieces with one job each.

mod ack;
mod backoff;
pub mod builder;
mod config;
mod engine;
mod error;
pub mod extract;
pub mod handler;
pub mod manager;
mod net;
mod reason;
mod recovery;
pub mod socket;
mod url;

pub use ack::AckSender;
pub use backoff::Reconnection;
pub use builder::ClientBuilder;
pub use config::Transport;
pub use error::Error;
pub use extract::{Bin, Data, Event, RawArgs, Seq, TryData};
pub use manager::{Manager, ManagerEvent};
pub use reason::DisconnectReason;
pub use socket::{Emitter, Socket, SocketBuilder};
pub use wirehub_proto::engineio::TransportKind;
pub use wirehub_proto::socketio::{Args, Binary, Parser};

/// The Rust samples of the repository's README (the client's and the
/// server library's), compiled by `cargo test --doc` so they cannot rot:
/// this crate has both the client and, as a dev-dependency, the server.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeSamples;
