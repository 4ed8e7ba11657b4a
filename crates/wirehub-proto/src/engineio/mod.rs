//! Engine.IO v4 (and v3, for socket.io-client 2.x): the transport-level
//! protocol under Socket.IO.
//!
//! - [`packet`]: packet types, their text/binary encodings and transport frames.
//! - [`payload`]: HTTP long-polling payloads (packets joined by `0x1e`).
//! - [`v3`]: revision 3's payloads (`<length>:<packet>`, binary XHR2
//!   payloads) and binary WebSocket frames.
//! - [`framing`]: a transport's wire format, chosen by the handshake.
//! - [`handshake`]: the request query (`EIO`, `transport`, `sid`), the open
//!   packet, and the reference server's error codes.
//! - [`heartbeat`]: the ping/pong timer, driven by the caller's clock.
//! - [`session`]: the per-session state machine (heartbeat, upgrade, close),
//!   with the long-polling GET and what waits for it (`polling`).

pub mod framing;
pub mod handshake;
pub mod heartbeat;
pub mod packet;
pub mod payload;
mod polling;
pub mod session;
pub mod v3;

pub use framing::{Framing, Payload};
pub use handshake::{EngineError, HandshakeQuery, OpenPacket, ProtocolVersion, TransportKind};
pub use heartbeat::Heartbeat;
pub use packet::{DecodeError, Frame, Message, Packet};
pub use session::{CloseReason, Output, Session, SessionConfig, CLOSE_GRACE, UPGRADE_NOOP_DELAY};
