//! The echo scenario's Socket.IO packets in either parser's format: the
//! `message-with-ack` request, and the check that a message is its ack.
//! JSON packets are text (`42<id>[...]` / `43<id>[...]`); MessagePack ones
//! (socket.io-msgpack-parser) are binary, made and read by `wirehub-proto`.

use tokio_tungstenite::tungstenite::Message;
use wirehub_proto::socketio::{msgpack, Args, Packet, PacketKind, Parser};
use wirehub_proto::Str;

/// The `message-with-ack` request with ack id `id` and a `payload`-byte
/// string argument.
pub(crate) fn request(parser: Parser, id: u64, event_json: &str, payload: &str) -> Message {
    match parser {
        Parser::Json => Message::text(format!("42{id}{event_json}")),
        Parser::MsgPack => {
            let arg = Args::from_raw(vec![Str::from(super::quoted(payload))]);
            let p = Packet::event(
                Str::from_static("/"),
                Str::from_static("message-with-ack"),
                arg,
                Some(id),
            );
            Message::binary(p.encode_msgpack())
        }
    }
}

/// Whether `m` is the ack of request `id`, and if so whether its one
/// argument is the `payload`-byte string.
pub(crate) fn ack_of(parser: Parser, m: &Message, id: u64, payload: usize) -> Option<bool> {
    match (parser, m) {
        (Parser::Json, Message::Text(t)) => {
            let prefix = format!("43{id}[");
            // `43<id>["<payload>"]`
            t.starts_with(&prefix)
                .then(|| t.len() == prefix.len() - 1 + payload + 4)
        }
        (Parser::MsgPack, Message::Binary(b)) => match msgpack::decode(b, 0).ok()?.kind {
            PacketKind::Ack { id: got, args } if got == id => {
                Some(args.len() == 1 && args.raw()[0].len() == payload + 2)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The Socket.IO CONNECT to `/`.
pub(crate) fn connect(parser: Parser) -> Message {
    match parser {
        Parser::Json => Message::text("40"),
        Parser::MsgPack => {
            let connect = Packet {
                ns: Str::from_static("/"),
                kind: PacketKind::Connect(None),
            };
            Message::binary(connect.encode_msgpack())
        }
    }
}

/// Whether `m` answers the CONNECT: `Some(true)` accepted, `Some(false)` refused.
pub(crate) fn connect_answer(parser: Parser, m: &Message) -> Option<bool> {
    match (parser, m) {
        (Parser::Json, Message::Text(t)) if t.starts_with("40") => Some(true),
        (Parser::Json, Message::Text(t)) if t.starts_with("44") => Some(false),
        (Parser::MsgPack, Message::Binary(b)) => match msgpack::decode(b, 0).ok()?.kind {
            PacketKind::Connect(_) => Some(true),
            PacketKind::ConnectError(_) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The WebSocket payload bytes of a message.
pub(crate) fn len(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}
