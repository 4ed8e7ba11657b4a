//! SockJS protocol 0.3 (as `sockjs-client` 1.x speaks it), sans-IO: the
//! frames a server writes, the client messages it reads and the session
//! that outlives each HTTP request. A SockJS message carries one plain
//! envelope (JSON text), so SockJS clients join the same namespaces and
//! rooms as every other transport.
//!
//! - [`frame`]: `o`, `h`, `a[...]`, `c[code,"reason"]`, the string
//!   escaping of the protocol, and each receiving transport's wrapping
//!   ([`Receiver`]).
//! - [`decode`]: `xhr_send` bodies and WebSocket messages ([`decode_send`],
//!   [`decode_ws`]).
//! - [`session`]: the per-session state machine ([`Session`]).

pub mod decode;
pub mod frame;
pub mod session;

pub use decode::{decode_send, decode_ws, DecodeError};
pub use frame::{close_frame, messages_frame, quote, CloseCode, Receiver};
pub use session::{Attach, Overflow, ReceiverId, Session, SessionConfig, Transmit};
