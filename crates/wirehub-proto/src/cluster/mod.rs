//! Messages between the nodes of a cluster, as Node's Socket.IO adapters
//! write them, so wirehub nodes and Node nodes can share one cluster.
//!
//! - [`value`]: the value model (MessagePack values, JSON or MessagePack on
//!   the wire) and event arguments as values.
//! - [`options`]: broadcast options as they travel (`rooms`, `except`,
//!   `flags`), and the event packet (`{type, data, nsp}`).
//! - [`classic`]: the protocol of `@socket.io/redis-adapter`'s
//!   `createAdapter` (broadcast channels plus requests and responses).
//! - [`clustered`]: the protocol of socket.io-adapter's `ClusterAdapter`
//!   (`{uid, nsp, type, data}`), which the sharded Redis adapter speaks and
//!   wirehub's NATS adapter uses too.
//! - [`streams`]: how `@socket.io/redis-streams-adapter` carries those
//!   messages (stream entries and pub/sub), its offsets and sessions.
//!
//! Decoding never panics on any input: a malformed message is an error the
//! caller drops (as Node's adapters do).

pub mod classic;
pub mod clustered;
pub mod options;
pub mod streams;
pub mod value;

pub use options::{EventPacket, WireOptions};
pub use value::{DecodeError, Value};
