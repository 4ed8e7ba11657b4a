//! Fuzzing harnesses, one per decoder: each takes arbitrary bytes, feeds them
//! to the decoder the way a server would, and panics only when the decoder
//! panics or a property that holds for every input is broken (a decoded
//! packet re-encodes to itself; a streaming decoder gives the same result
//! whether the bytes come in one piece or two).
//!
//! Written once here and used twice: by the `fuzz/` targets (one line each,
//! on the nightly toolchain) and by `tests/fuzz_corpora.rs`, which replays the
//! seed corpora and every crash input kept as a regression on stable. Not
//! part of the crate's API.

use crate::engineio::{self, payload, EngineError, Frame, HandshakeQuery, Message, TransportKind};
use crate::plain::{self, ClientMsg, LineDecoder, SseParser, MAX_ID, MAX_NAME_LEN, MAX_ROOMS};
use crate::socketio::{self, decode::RESERVED_EVENTS};
use crate::websocket;
use crate::Str;
use bytes::{Bytes, BytesMut};

/// The attachment limit of the Socket.IO harness.
const MAX_ATTACHMENTS: usize = 10;
/// The message limit of the WebSocket harness: small, so that inputs of a
/// few KB reach it and a length field cannot make the harness reserve much.
const MAX_WS_MESSAGE: usize = 1024;
/// The line limit of the NDJSON harness.
const MAX_LINE: usize = 256;
/// The event limit of the SSE harness.
const MAX_SSE: usize = 1024;

/// One Engine.IO text packet (a WebSocket text frame or a polling record):
/// a decoded packet re-encodes to the very same text, and the client-side
/// decoder agrees with the plain one except for server-only packets.
pub fn engineio_packet(data: &[u8]) {
    let binary = engineio::Packet::from_client_frame(Frame::Binary(Bytes::copy_from_slice(data)));
    assert_eq!(binary, Ok(engineio::Packet::binary(data.to_vec())));
    let Ok(text) = Str::from_utf8(Bytes::copy_from_slice(data)) else {
        return;
    };
    let decoded = engineio::Packet::decode_text(text.clone());
    let from_client = engineio::Packet::decode_from_client(text.clone());
    match &decoded {
        Ok(packet) => {
            assert_eq!(packet.to_frame(), Frame::Text(text), "re-encoding");
            match packet {
                engineio::Packet::Open(_) | engineio::Packet::PongProbe => {
                    assert!(from_client.is_err(), "a server-only packet from a client")
                }
                _ => assert_eq!(&from_client, &decoded),
            }
        }
        Err(_) => assert_eq!(from_client, decoded),
    }
}

/// An HTTP long-polling request body: the packets it holds, encoded as a
/// response body, decode to the same packets.
pub fn engineio_payload(data: &[u8]) {
    let Ok(packets) = payload::decode(Bytes::copy_from_slice(data)) else {
        return;
    };
    let frames: Vec<Frame> = packets.iter().map(engineio::Packet::to_frame).collect();
    assert_eq!(payload::decode(payload::encode(&frames)), Ok(packets));
}

/// A revision 3 long-polling request body, as text (first byte even) or as
/// a binary XHR2 payload (first byte odd) after that byte: the packets it
/// holds, encoded as a response body of the same kind, decode to the same
/// packets.
pub fn engineio_v3_payload(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let binary = mode % 2 == 1;
    let body = Bytes::copy_from_slice(body);
    let decoded = if binary {
        engineio::v3::decode_binary_payload(body)
    } else {
        engineio::v3::decode_text_payload(body)
    };
    let Ok(packets) = decoded else {
        return;
    };
    if packets.is_empty() {
        return;
    }
    let frames: Vec<Frame> = packets.iter().map(engineio::Packet::to_frame).collect();
    let encoded = engineio::v3::encode_payload(&frames, binary);
    let again = if encoded.binary {
        engineio::v3::decode_binary_payload(encoded.body)
    } else {
        engineio::v3::decode_text_payload(encoded.body)
    };
    assert_eq!(again, Ok(packets));
}

/// A run of Engine.IO messages into one connection's Socket.IO decoder.
///
/// The input is split at `0x1e` into messages, as in a polling payload: a
/// message starting with `b` is binary (the bytes after the `b`), any other
/// is text (invalid UTF-8 replaced). Messages are fed until the decoder
/// refuses one (the connection would close); every packet it completes
/// re-encodes, attachments included, to a packet that decodes to itself.
pub fn socketio_packet(data: &[u8]) {
    let mut decoder = socketio::Decoder::new(MAX_ATTACHMENTS);
    for record in data.split(|&b| b == payload::SEPARATOR) {
        let message = match record.strip_prefix(b"b") {
            Some(bin) => Message::Binary(Bytes::copy_from_slice(bin)),
            None => Message::Text(Str::from(String::from_utf8_lossy(record).into_owned())),
        };
        match decoder.decode(message) {
            Err(_) => return,
            Ok(None) => {}
            Ok(Some(packet)) => socketio_round_trip(&packet),
        }
    }
}

fn socketio_round_trip(packet: &socketio::Packet) {
    let encoded = packet.encode();
    assert!(encoded.text.starts_with('4'), "an Engine.IO message");
    let mut decoder = socketio::Decoder::new(MAX_ATTACHMENTS);
    let text = encoded.text.slice(1..encoded.text.len());
    let mut got = decoder.decode(Message::Text(text));
    for attachment in &encoded.attachments {
        assert_eq!(got, Ok(None), "complete before its attachments");
        got = decoder.decode(Message::Binary(attachment.clone()));
    }
    assert_eq!(got, Ok(Some(packet.clone())), "re-encoded as {encoded:?}");
}

/// One binary Engine.IO message into a MessagePack-parser decoder: a packet
/// it accepts re-encodes to bytes that decode to the same packet.
pub fn socketio_msgpack(data: &[u8]) {
    let mut decoder = socketio::Decoder::with_parser(socketio::Parser::MsgPack, MAX_ATTACHMENTS);
    let message = Message::Binary(Bytes::copy_from_slice(data));
    let Ok(Some(packet)) = decoder.decode(message) else {
        return;
    };
    let encoded = packet.encode_msgpack();
    let again = socketio::msgpack::decode(&encoded, MAX_ATTACHMENTS);
    assert_eq!(again, Ok(packet), "re-encoded as {encoded:?}");
}

/// Client bytes on a WebSocket connection: the events (and the first error)
/// are the same whether the bytes arrive at once or in two reads.
pub fn websocket_frames(data: &[u8]) {
    let whole = websocket_events(&[data]);
    let (head, tail) = data.split_at(data.len() / 2);
    assert_eq!(websocket_events(&[head, tail]), whole, "split in two");
}

/// The events decoded from `reads`, then the error or the bytes left over.
fn websocket_events(
    reads: &[&[u8]],
) -> (
    Vec<websocket::Event>,
    Result<BytesMut, websocket::FrameError>,
) {
    let mut decoder = websocket::Decoder::new(MAX_WS_MESSAGE);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => return (events, Err(e)),
            }
        }
    }
    (events, Ok(buf))
}

/// One plain envelope from a client (and, for the client side, from a
/// server): whatever parses respects the documented field limits.
pub fn plain_envelope(data: &[u8]) {
    let _ = plain::parse_server(data);
    let Ok(msg) = plain::parse_client(Bytes::copy_from_slice(data)) else {
        return;
    };
    let name_ok = |name: &Str| (1..=MAX_NAME_LEN).contains(&name.len());
    let rooms_ok = |rooms: &[Str]| rooms.len() <= MAX_ROOMS && rooms.iter().all(name_ok);
    let id_ok = |id: &Option<u64>| id.is_none_or(|id| id <= MAX_ID);
    match &msg {
        ClientMsg::Connect { ns, auth, .. } => {
            assert!(ns.as_ref().is_none_or(|ns| ns.starts_with('/')));
            assert!(auth.as_ref().is_none_or(|auth| auth.starts_with('{')));
        }
        ClientMsg::Join { rooms, id } | ClientMsg::Leave { rooms, id } => {
            assert!(!rooms.is_empty() && rooms_ok(rooms) && id_ok(id));
        }
        ClientMsg::Emit {
            event, id, rooms, ..
        } => {
            assert!(name_ok(event) && !RESERVED_EVENTS.contains(&event.as_str()));
            assert!(rooms_ok(rooms) && id_ok(id));
        }
        ClientMsg::Ack { id, .. } => assert!(*id <= MAX_ID),
        ClientMsg::Ping | ClientMsg::Close => {}
    }
}

/// An NDJSON stream (raw TCP, HTTP streaming, `POST /send`): the same lines
/// whether the bytes arrive at once or in two reads, none over the limit,
/// the buffer bounded after each read; each line goes to the envelope parser.
pub fn ndjson_lines(data: &[u8]) {
    let whole = ndjson_split(&[data]);
    let (head, tail) = data.split_at(data.len() / 2);
    assert_eq!(ndjson_split(&[head, tail]), whole, "split in two");
    for line in whole.iter().flatten() {
        assert!(line.len() <= MAX_LINE && !line.contains(&b'\n'));
        let _ = plain::parse_client(line.clone());
    }
}

fn ndjson_split(reads: &[&[u8]]) -> Vec<Result<Bytes, plain::LineError>> {
    let mut decoder = LineDecoder::new(MAX_LINE);
    let mut lines = Vec::new();
    for read in reads {
        decoder.feed(read);
        lines.extend(std::iter::from_fn(|| decoder.next_line()));
        assert!(decoder.buffered() <= MAX_LINE + 1, "buffer bounded");
    }
    lines
}

/// A `text/event-stream`: when it parses without error, it gives the same
/// events whether the bytes arrive at once or in two reads.
pub fn sse_parser(data: &[u8]) {
    let Ok(whole) = sse_events(&[data]) else {
        return;
    };
    let (head, tail) = data.split_at(data.len() / 2);
    assert_eq!(sse_events(&[head, tail]), Ok(whole), "split in two");
}

fn sse_events(reads: &[&[u8]]) -> Result<Vec<plain::SseEvent>, plain::SseError> {
    let mut parser = SseParser::new(MAX_SSE);
    let mut events = Vec::new();
    for read in reads {
        parser.feed(read)?;
        events.extend(std::iter::from_fn(|| parser.next_event()));
    }
    Ok(events)
}

/// The query string of an Engine.IO request (invalid UTF-8 replaced), and
/// the same bytes as a `Sec-WebSocket-Key`: a parsed query names a known
/// transport and a non-empty `sid`, parses again from its canonical form,
/// and its handshake checks follow the reference server's order.
pub fn handshake_query(data: &[u8]) {
    assert_eq!(websocket::accept_key(data).len(), 28, "base64 of a SHA-1");
    let query = String::from_utf8_lossy(data);
    let Ok(parsed) = HandshakeQuery::parse(&query) else {
        return;
    };
    let transport = parsed.transport;
    assert_eq!(TransportKind::parse(transport.as_str()), Some(transport));
    assert_ne!(parsed.sid.as_deref(), Some(""));
    let eio = match parsed.version {
        engineio::ProtocolVersion::V4 => "4",
        engineio::ProtocolVersion::V3 => "3",
    };
    let mut canonical = format!("EIO={eio}&transport={transport}");
    if parsed.b64 {
        canonical.push_str("&b64=1");
    }
    if let Some(sid) = &parsed.sid {
        canonical.push_str("&sid=");
        canonical.push_str(sid);
    }
    assert_eq!(HandshakeQuery::parse(&canonical).as_ref(), Ok(&parsed));
    assert_eq!(
        parsed.check_handshake(false, true),
        Err(EngineError::BadHandshakeMethod)
    );
    let version = parsed.check_handshake(true, false);
    assert_eq!(
        version.is_ok(),
        parsed.version == engineio::ProtocolVersion::V4
    );
    assert_eq!(parsed.check_handshake(true, true), Ok(()));
}

/// One SockJS client body, as `xhr_send` and as a WebSocket message: every
/// message decoded, quoted into a message frame the way the server sends
/// it, reads back as the same strings.
pub fn sockjs_messages(data: &[u8]) {
    use crate::plain::sockjs::{decode_send, decode_ws, messages_frame, quote};
    let send = decode_send(data);
    let ws = decode_ws(data);
    if data.trim_ascii_start().starts_with(b"[") {
        assert_eq!(send, ws, "an array reads the same both ways");
    }
    for messages in [send, ws].into_iter().flatten() {
        let quoted: Vec<Bytes> = messages.iter().map(|m| quote(m)).collect();
        let frame = messages_frame(quoted.iter().map(|q| &q[..]));
        assert!(frame.starts_with(b"a["));
        let back: Vec<String> = serde_json::from_slice(&frame[1..]).expect("a frame is JSON");
        assert_eq!(back, messages);
    }
}
