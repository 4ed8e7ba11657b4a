//! Plain transports: clients that do not speak Socket.IO reach the same
//! namespaces and rooms with the plain envelope (see `docs/protocol.md`;
//! the codec is `wirehub_proto::plain`).
//!
//! - [`PlainHub`]: opens plain connections as sockets of a namespace.
//! - [`PlainConn`] (in `crate::conn`): one connection's bounded outbound queue.
//! - `session`: what an envelope does (join, leave, emit, publish, ack, ping).
//! - `driver`: the one loop every connection's driver runs, over each
//!   transport's `PlainIo` (in `ws`, `stream`, `tcp`, `udp`).
//! - `ws`, `stream` (SSE and NDJSON), `poll`, `send`, `api`: the HTTP
//!   endpoints, routed by [`PlainService`] / [`PlainLayer`] after `gate`
//!   (origin allowlist, JWT at the handshake).
//! - `sockjs`: SockJS clients (`sockjs-client`), the envelope as SockJS
//!   messages, under the configured prefix.
//! - `tcp`, `udp`: the raw TCP (NDJSON, plain or TLS) and UDP (datagram) gateways.
//! - [`install_room_events`]: the same room operations for Socket.IO clients.

mod api;
mod body;
mod driver;
mod gate;
mod hub;
mod poll;
mod query;
mod reply;
mod room_events;
mod send;
mod service;
mod session;
mod sockjs;
mod stream;
mod tcp;
mod udp;
mod ws;

pub use crate::conn::PlainConn;
pub use body::PlainBody;
pub use hub::{OpenError, PlainHub};
pub use room_events::install_room_events;
pub use service::{PlainLayer, PlainService};
pub use tcp::{serve_tcp, serve_tcp_tls};
pub use udp::serve_udp;

impl PlainHub {
    /// A tower layer serving this hub's HTTP endpoints.
    pub fn layer(self: &std::sync::Arc<Self>) -> PlainLayer {
        PlainLayer::new(self.clone())
    }
}
