//! Socket.IO v5: namespaces, events, acknowledgements and binary attachments
//! on top of Engine.IO messages.
//!
//! - [`packet`]: the packet model and its encoder.
//! - [`decode`]: the text parser and the stateful [`Decoder`] that collects a
//!   binary packet's attachments.
//! - [`msgpack`]: the packet format of socket.io-msgpack-parser (one
//!   MessagePack map per packet, binary inline), over the same model.
//! - [`parser`]: [`Parser`], which of the two formats a connection speaks.
//! - [`args`]: event arguments as raw JSON slices, with serde in and out.
//! - [`binary`]: [`Binary`], which (de)serialises to attachment placeholders.
//! - [`extract`]: the argument types handlers take (`Data`, `Seq`, ...), on
//!   the server and the client alike.

pub mod args;
pub mod binary;
pub mod decode;
pub mod extract;
pub mod msgpack;
pub mod packet;
pub mod parser;

pub use args::Args;
pub use binary::Binary;
pub use decode::{Decoder, ParseError};
pub use packet::{Encoded, Packet, PacketKind, PacketType};
pub use parser::{Parser, UnknownParser};
