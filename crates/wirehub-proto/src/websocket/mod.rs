//! WebSocket framing (RFC 6455), server side, sans-IO.
//!
//! - [`Decoder`]: client frames in (masked, possibly fragmented, control
//!   frames interleaved), [`Event`]s out; every rule a server must enforce
//!   fails with a [`FrameError`] that names the close code to send.
//! - [`FrameHead`]: the header of an unmasked server frame, for writers
//!   that send the payload beside it (vectored writes).
//! - [`control_frame`], [`close_frame`], [`close_payload`]: whole control
//!   frames (ping, pong, close) to send.
//! - [`accept_key`]: the handshake's `Sec-WebSocket-Accept` value.
//! - [`deflate`]: permessage-deflate (RFC 7692), negotiated per connection.
//!
//! The decoder keeps no buffer of its own: the caller appends what it read
//! to a `BytesMut` and calls [`Decoder::decode`] until it returns `None`.
//! Between messages its state is a few bytes, so an idle connection costs
//! only what its caller keeps.

mod decode;
pub mod deflate;
mod encode;
mod handshake;

pub use decode::{CloseFrame, Decoder, Event, FrameError};
pub use encode::{close_frame, close_payload, control_frame, FrameHead};
pub use handshake::accept_key;

/// RFC 6455 opcodes.
pub mod opcode {
    /// A continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// A text message (UTF-8).
    pub const TEXT: u8 = 0x1;
    /// A binary message.
    pub const BINARY: u8 = 0x2;
    /// The close handshake.
    pub const CLOSE: u8 = 0x8;
    /// A ping, answered by a pong with the same payload.
    pub const PING: u8 = 0x9;
    /// A pong.
    pub const PONG: u8 = 0xA;
}

/// Close codes (RFC 6455, section 7.4.1).
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The endpoint is going away (server shutdown, idle peer).
    pub const GOING_AWAY: u16 = 1001;
    /// A protocol error.
    pub const PROTOCOL: u16 = 1002;
    /// A data type the endpoint does not accept.
    pub const UNSUPPORTED: u16 = 1003;
    /// Text that is not UTF-8, or a message the endpoint cannot accept.
    pub const INVALID: u16 = 1007;
    /// A policy violation (a refused connection).
    pub const POLICY: u16 = 1008;
    /// A message over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// An internal error (a slow consumer).
    pub const INTERNAL: u16 = 1011;

    /// Whether a peer may send `code` in a close frame: the defined codes
    /// (1000-1003, 1007-1014) and the registered and private ranges
    /// (3000-4999). 1004-1006 and 1015 are reserved and never sent.
    pub fn is_sendable(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}
