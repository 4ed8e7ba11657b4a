//! Sans-IO protocol core of wirehub: Engine.IO v4, Socket.IO v5 and the
//! plain envelope protocol.
//!
//! Nothing in this crate performs I/O or depends on an async runtime. Bytes go
//! in, typed packets and actions come out; the server and client crates drive
//! these types over real sockets.
//!
//! # Layout
//! - [`Str`]: a cheaply clonable UTF-8 buffer (`Bytes` known to be UTF-8).
//! - [`engineio`]: Engine.IO packets ([`engineio::Packet`]), transport frames
//!   ([`engineio::Frame`]), HTTP long-polling payloads, the handshake query and
//!   its error codes, the heartbeat timer and the per-session state machine.
//! - [`socketio`]: Socket.IO packets, the stateful decoder that reassembles
//!   binary attachments, the encoder, and the serde glue for binary arguments
//!   ([`socketio::Binary`]) and multi-argument events.
//! - [`plain`]: the plain envelope protocol (v1) of the non-Socket.IO
//!   transports: JSON envelopes both ways, NDJSON line framing and
//!   Server-Sent Events framing.
//! - [`cluster`]: messages between the nodes of a cluster, as Node's
//!   Socket.IO adapters write them (the classic and the sharded Redis
//!   adapter's protocols), so wirehub and Node nodes can share a cluster.
//! - [`websocket`]: WebSocket framing (RFC 6455), server side: the frame
//!   decoder, frame headers, control frames and the handshake's accept key.
//! - `fuzz_checks` (hidden): one fuzzing harness per decoder, shared by the
//!   `fuzz/` targets and the corpus replay test.

mod str;

pub mod cluster;
pub mod engineio;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod plain;
pub mod socketio;
pub mod websocket;

pub use crate::str::Str;
