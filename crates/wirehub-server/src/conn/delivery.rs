//! [`Delivery`]: one broadcast event, encoded lazily and at most once per
//! wire format (Socket.IO frames in JSON or MessagePack, plain envelope, SSE
//! event), then shared by every
//! recipient of that format — and kept in room history for replay.

use super::link::outgoing;
use crate::engine::Outgoing;
use bytes::Bytes;
use std::sync::OnceLock;
use wirehub_proto::plain::{encode_event, sse_event, EventMeta};
use wirehub_proto::socketio::{Args, Packet, Parser};
use wirehub_proto::Str as Room;
use wirehub_proto::Str;

/// One broadcast event.
#[derive(Debug)]
pub struct Delivery {
    ns: Str,
    event: Str,
    args: Args,
    ack_id: Option<u64>,
    room: Option<Room>,
    offset: Option<u64>,
    replay: Option<Str>,
    /// Whether WebSockets with permessage-deflate may compress it.
    compress: bool,
    socketio: OnceLock<Outgoing>,
    msgpack: OnceLock<Outgoing>,
    plain: OnceLock<Bytes>,
    sse: OnceLock<Bytes>,
}

/// What a [`Delivery`] is made of.
#[derive(Debug, Clone)]
pub struct Parts {
    /// The namespace.
    pub ns: Str,
    /// The event name.
    pub event: Str,
    /// The arguments.
    pub args: Args,
    /// The ack id every recipient answers to, for a broadcast with acks.
    pub ack_id: Option<u64>,
    /// The room it was published to, when exactly one (told to plain clients).
    pub room: Option<Room>,
    /// Its room-history position (told to plain clients).
    pub offset: Option<u64>,
    /// Its replay token, appended to the Socket.IO arguments when the event
    /// can be replayed by connection-state recovery (Node's offset).
    pub replay: Option<Str>,
}

impl Delivery {
    /// A broadcast event, not encoded yet.
    pub fn new(parts: Parts) -> Self {
        let Parts {
            ns,
            event,
            args,
            ack_id,
            room,
            offset,
            replay,
        } = parts;
        Delivery {
            ns,
            event,
            args,
            ack_id,
            room,
            offset,
            replay,
            compress: true,
            socketio: OnceLock::new(),
            msgpack: OnceLock::new(),
            plain: OnceLock::new(),
            sse: OnceLock::new(),
        }
    }

    /// The same event, sent uncompressed when `compress` is false (an emit
    /// flagged `compress(false)`); compressible by default.
    pub fn with_compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// The namespace.
    pub fn ns(&self) -> &Str {
        &self.ns
    }

    /// The ack id recipients answer to, if the broadcast asks for answers.
    pub fn ack_id(&self) -> Option<u64> {
        self.ack_id
    }

    /// The event name.
    pub fn event(&self) -> &Str {
        &self.event
    }

    /// The arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The room-history offset, if the event was recorded.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The room it was published to, when exactly one.
    pub fn room(&self) -> Option<&Room> {
        self.room.as_ref()
    }

    /// The replay token Socket.IO recipients get as the last argument.
    pub fn replay(&self) -> Option<&Str> {
        self.replay.as_ref()
    }

    /// The Socket.IO frames in `parser`'s format (encoded on first use).
    pub fn socketio(&self, parser: Parser) -> &Outgoing {
        let cache = match parser {
            Parser::Json => &self.socketio,
            Parser::MsgPack => &self.msgpack,
        };
        cache.get_or_init(|| {
            let out = outgoing(&self.packet(), parser);
            if self.compress {
                out
            } else {
                Outgoing::Uncompressed(out.frames().into())
            }
        })
    }

    /// The Socket.IO event packet, the replay token appended.
    fn packet(&self) -> Packet {
        let args = match &self.replay {
            Some(token) => with_last(&self.args, token),
            None => self.args.clone(),
        };
        Packet::event(self.ns.clone(), self.event.clone(), args, self.ack_id)
    }

    /// The plain envelope (encoded on first use).
    pub fn plain(&self) -> &Bytes {
        self.plain.get_or_init(|| {
            let meta = EventMeta {
                id: self.ack_id,
                room: self.room.as_deref(),
                offset: self.offset,
            };
            encode_event(&meta, &self.event, &self.args)
        })
    }

    /// The plain envelope as one Server-Sent Event (encoded on first use):
    /// named after the event, with the offset as its id.
    pub fn sse(&self) -> &Bytes {
        self.sse
            .get_or_init(|| sse_event(Some(&self.event), self.offset, self.plain()))
    }
}

/// `args` with the JSON string `token` appended (Node's offset argument).
fn with_last(args: &Args, token: &str) -> Args {
    let mut items = args.raw().to_vec();
    items.push(Str::from(
        serde_json::to_string(token).expect("a string serialises"),
    ));
    Args::from_parts(items, args.attachments().to_vec())
}
