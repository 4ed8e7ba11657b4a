//! permessage-deflate (RFC 7692), sans-IO.
//!
//! - [`negotiate`]: the client's `Sec-WebSocket-Extensions` offers in, an
//!   [`Agreement`] (its answer header) or nothing out.
//! - [`compress`] and [`inflate`]: one message's payload, either way.
//!   The [`Decoder`](super::Decoder) inflates received messages itself when
//!   made with [`Decoder::with_deflate`](super::Decoder::with_deflate);
//!   writers compress what they send and set RSV1 with
//!   [`FrameHead::compressed`](super::FrameHead::compressed).
//!
//! Neither side keeps its window between messages (the agreement always
//! says `no_context_takeover` both ways), so the deflate state is per
//! thread, not per connection: an idle connection with compression on
//! costs what one without it does.

mod codec;
mod negotiate;

pub use codec::{compress, inflate, InflateError};
pub use negotiate::{negotiate, Agreement};
