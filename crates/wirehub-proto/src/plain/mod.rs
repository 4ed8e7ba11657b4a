//! The plain envelope protocol, version 1: the wire format of wirehub's
//! non-Socket.IO transports. One JSON object per WebSocket text message,
//! SSE event, NDJSON line (TCP, HTTP streaming, `POST /send` bodies) or UDP
//! datagram; `docs/protocol.md` is the user-facing specification.
//!
//! - [`envelope`]: client → server, [`parse_client`] into [`ClientMsg`],
//!   with the field limits [`MAX_NAME_LEN`], [`MAX_ROOMS`] and [`MAX_ID`].
//! - [`encode`]: server → client, one encoder per envelope type; binary
//!   attachments become inline [`BINARY_KEY`] (`$binary`) objects.
//! - [`server_msg`]: [`parse_server`], the reverse of [`encode`], for
//!   clients and tests.
//! - [`error`] and [`codes`]: why an envelope was refused, and every error
//!   `code` of the plain transports (envelopes and HTTP error bodies).
//! - [`lines`]: NDJSON framing with a bounded line length.
//! - [`sse`]: Server-Sent Events framing and a parser.
//! - [`sockjs`]: SockJS framing, client messages and sessions, which
//!   carry the envelope to `sockjs-client` users.

mod binary;
pub mod codes;
pub mod encode;
pub mod envelope;
pub mod error;
mod fields;
mod json;
pub mod lines;
pub mod server_msg;
pub mod sockjs;
pub mod sse;

pub use binary::BINARY_KEY;
pub use encode::{
    encode_ack, encode_disconnect, encode_error, encode_event, encode_hello, encode_pong,
    EventMeta, Hello,
};
pub use envelope::{parse_client, ClientMsg};
pub use error::EnvelopeError;
pub use fields::{MAX_ID, MAX_NAME_LEN, MAX_ROOMS};
pub use lines::{frame_line, LineDecoder, LineError, KEEPALIVE};
pub use server_msg::{parse_server, ServerMsg};
pub use sse::{sse_comment, sse_event, sse_retry, SseError, SseEvent, SseParser};

/// The protocol version, sent as `v` in the `hello` envelope.
pub const VERSION: u32 = 1;
