//! What a socket's packets travel over, below both the Socket.IO layer
//! (`io`) and the plain transports (`plain`), so neither imports the other:
//!
//! - [`Link`]: a socket's connection, an Engine.IO session or a plain one,
//!   and [`Transport`], its public name;
//! - [`Delivery`]: one broadcast event, encoded at most once per wire format
//!   and shared by its recipients (and kept in room history);
//! - [`PlainConn`]: one plain-transport connection's bounded outbound queue.

mod delivery;
mod link;
mod plain;

pub use delivery::{Delivery, Parts as DeliveryParts};
pub use link::Transport;
pub(crate) use link::{outgoing, Link};
pub use plain::PlainConn;
pub(crate) use plain::{envelopes, HelloInfo, PlainCtl, PlainOut};
