//! Socket.IO decoding: [`parse_text`] turns one text message into a packet,
//! and the [`Decoder`] holds a binary packet until its attachments arrived.

use super::args::Args;
use super::binary::placeholders_valid;
use super::packet::{Packet, PacketKind, PacketType};
use super::{msgpack, Parser};
use crate::engineio::Message;
use crate::Str;
use bytes::Bytes;
use serde_json::value::RawValue;

/// Event names a client may not use (they are the library's own events).
pub const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Why a Socket.IO packet was refused. Any of these closes the connection
/// with reason "parse error", as the reference server does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The message was empty.
    #[error("empty packet")]
    Empty,
    /// The type digit is unknown.
    #[error("unknown packet type")]
    UnknownType,
    /// The attachment count of a binary packet is malformed.
    #[error("illegal attachments")]
    IllegalAttachments,
    /// More attachments than the configured limit.
    #[error("too many attachments ({0})")]
    TooManyAttachments(usize),
    /// The ack id is not a number that fits in 64 bits.
    #[error("invalid ack id")]
    InvalidAckId,
    /// An ack packet without an id.
    #[error("ack without id")]
    MissingAckId,
    /// The JSON payload is malformed or of the wrong shape for the type.
    #[error("invalid payload")]
    InvalidPayload,
    /// A binary message arrived while no binary packet was being assembled.
    #[error("unexpected binary message")]
    UnexpectedBinary,
    /// A text message arrived while attachments were still expected, or
    /// at all with the MessagePack parser.
    #[error("got plaintext data when reconstructing a packet")]
    UnexpectedText,
    /// With the MessagePack parser: the message is not one MessagePack
    /// value (truncated, followed by trailing bytes, or nested
    /// deeper than the decoder follows).
    #[error("invalid MessagePack")]
    InvalidMsgPack,
}

/// Parses the text of one Socket.IO packet (the Engine.IO message data).
///
/// For a binary packet, returns it with no attachments yet and the number
/// of attachments that must follow.
pub fn parse_text(text: &Str) -> Result<(Packet, usize), ParseError> {
    let bytes = text.as_bytes();
    let ty = PacketType::from_digit(*bytes.first().ok_or(ParseError::Empty)?)
        .ok_or(ParseError::UnknownType)?;
    let mut i = 1;
    let mut attachments = 0;
    if matches!(ty, PacketType::BinaryEvent | PacketType::BinaryAck) {
        let dash = bytes[i..]
            .iter()
            .position(|&b| b == b'-')
            .ok_or(ParseError::IllegalAttachments)?;
        attachments = parse_digits(&bytes[i..i + dash]).ok_or(ParseError::IllegalAttachments)?;
        i += dash + 1;
    }
    let ns = if bytes.get(i) == Some(&b'/') {
        let end = bytes[i..]
            .iter()
            .position(|&b| b == b',')
            .map_or(bytes.len(), |p| i + p);
        let ns = text.slice(i..end);
        i = (end + 1).min(bytes.len());
        ns
    } else {
        Str::from_static("/")
    };
    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let id = if digits > 0 {
        let id = parse_digits(&bytes[i..i + digits]).ok_or(ParseError::InvalidAckId)?;
        i += digits;
        Some(id as u64)
    } else {
        None
    };
    let payload = (i < bytes.len()).then(|| text.slice(i..bytes.len()));
    let kind = kind_from(ty, id, payload)?;
    Ok((Packet { ns, kind }, attachments))
}

fn parse_digits(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn kind_from(
    ty: PacketType,
    id: Option<u64>,
    payload: Option<Str>,
) -> Result<PacketKind, ParseError> {
    const BAD: ParseError = ParseError::InvalidPayload;
    let bad = BAD;
    Ok(match ty {
        PacketType::Connect => match payload {
            None => PacketKind::Connect(None),
            Some(p) if is_json_object(&p) => PacketKind::Connect(Some(p)),
            Some(_) => return Err(bad),
        },
        PacketType::Disconnect if payload.is_none() => PacketKind::Disconnect,
        PacketType::Disconnect => return Err(bad),
        PacketType::Event | PacketType::BinaryEvent => {
            let (name, args) = split_event(&payload.ok_or(bad)?)?;
            PacketKind::Event { name, args, id }
        }
        PacketType::Ack | PacketType::BinaryAck => {
            let id = id.ok_or(ParseError::MissingAckId)?;
            let args = split_array(&payload.ok_or(bad)?)?;
            PacketKind::Ack {
                id,
                args: Args::from_raw(args),
            }
        }
        PacketType::ConnectError => {
            let p = payload.ok_or(bad)?;
            let value: serde_json::Value = serde_json::from_str(&p).map_err(|_| BAD)?;
            if !(value.is_object() || value.is_string()) {
                return Err(ParseError::InvalidPayload);
            }
            PacketKind::ConnectError(p)
        }
    })
}

fn is_json_object(p: &str) -> bool {
    p.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(p).is_ok()
}

/// Splits a JSON array into the raw text of each element.
fn split_array(json: &Str) -> Result<Vec<Str>, ParseError> {
    if !json.starts_with('[') {
        return Err(ParseError::InvalidPayload);
    }
    let parts: Vec<&RawValue> =
        serde_json::from_str(json).map_err(|_| ParseError::InvalidPayload)?;
    Ok(parts.iter().map(|raw| json.slice_ref(raw.get())).collect())
}

/// Splits `["name", args...]`; the name is a string (not reserved) or a number.
fn split_event(json: &Str) -> Result<(Str, Args), ParseError> {
    let mut items = split_array(json)?;
    if items.is_empty() {
        return Err(ParseError::InvalidPayload);
    }
    let raw_name = items.remove(0);
    let name = if raw_name.starts_with('"') {
        if raw_name.contains('\\') {
            let s: String =
                serde_json::from_str(&raw_name).map_err(|_| ParseError::InvalidPayload)?;
            Str::from(s)
        } else {
            raw_name.slice(1..raw_name.len() - 1)
        }
    } else if raw_name.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        raw_name
    } else {
        return Err(ParseError::InvalidPayload);
    };
    if RESERVED_EVENTS.contains(&name.as_str()) {
        return Err(ParseError::InvalidPayload);
    }
    Ok((name, Args::from_raw(items)))
}

/// Reassembles packets from Engine.IO messages, one connection's worth.
#[derive(Debug)]
pub struct Decoder {
    /// A binary packet waiting for its attachments (boxed: rare, and every
    /// connection keeps a decoder for its whole life).
    partial: Option<Box<(Packet, usize, Vec<Bytes>)>>,
    max_attachments: usize,
    parser: Parser,
}

impl Decoder {
    /// A JSON-parser decoder accepting at most `max_attachments` per binary
    /// packet.
    pub fn new(max_attachments: usize) -> Self {
        Decoder::with_parser(Parser::Json, max_attachments)
    }

    /// A decoder for `parser`'s packets: with [`Parser::MsgPack`], every
    /// packet is one binary message and a text message is refused.
    pub fn with_parser(parser: Parser, max_attachments: usize) -> Self {
        Decoder {
            partial: None,
            max_attachments,
            parser,
        }
    }

    /// Feeds one message; returns a packet once it is complete.
    pub fn decode(&mut self, message: Message) -> Result<Option<Packet>, ParseError> {
        if self.parser == Parser::MsgPack {
            return match message {
                Message::Binary(data) => msgpack::decode(&data, self.max_attachments).map(Some),
                Message::Text(_) => Err(ParseError::UnexpectedText),
            };
        }
        match message {
            Message::Text(text) => {
                if self.partial.is_some() {
                    return Err(ParseError::UnexpectedText);
                }
                let (packet, count) = parse_text(&text)?;
                if count == 0 {
                    return Ok(Some(packet));
                }
                if count > self.max_attachments {
                    return Err(ParseError::TooManyAttachments(count));
                }
                check_placeholders(&packet, count)?;
                self.partial = Some(Box::new((packet, count, Vec::with_capacity(count))));
                Ok(None)
            }
            Message::Binary(data) => {
                let (_, expected, got) =
                    &mut **self.partial.as_mut().ok_or(ParseError::UnexpectedBinary)?;
                got.push(data);
                if got.len() < *expected {
                    return Ok(None);
                }
                let (mut packet, _, got) =
                    *self.partial.take().ok_or(ParseError::UnexpectedBinary)?;
                if let PacketKind::Event { args, .. } | PacketKind::Ack { args, .. } =
                    &mut packet.kind
                {
                    *args = Args::from_parts(args.raw().to_vec(), got);
                }
                Ok(Some(packet))
            }
        }
    }
}

fn check_placeholders(packet: &Packet, count: usize) -> Result<(), ParseError> {
    let args = match &packet.kind {
        PacketKind::Event { args, .. } | PacketKind::Ack { args, .. } => args,
        _ => return Ok(()),
    };
    for raw in args.raw() {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|_| ParseError::InvalidPayload)?;
        if !placeholders_valid(&value, count) {
            return Err(ParseError::IllegalAttachments);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &'static str) -> Result<Packet, ParseError> {
        parse_text(&Str::from_static(s)).map(|(p, _)| p)
    }

    #[test]
    fn parses_connect_variants() {
        assert_eq!(
            parse("0").unwrap(),
            Packet {
                ns: "/".into(),
                kind: PacketKind::Connect(None)
            }
        );
        let p = parse(r#"0/custom,{"token":"abc"}"#).unwrap();
        assert_eq!(&*p.ns, "/custom");
        assert_eq!(
            p.kind,
            PacketKind::Connect(Some(r#"{"token":"abc"}"#.into()))
        );
        assert_eq!(&*parse("0/random").unwrap().ns, "/random");
        assert_eq!(&*parse("0/custom,").unwrap().ns, "/custom");
        assert_eq!(parse("0[1]"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("0{bad"), Err(ParseError::InvalidPayload));
    }

    #[test]
    fn parses_events_with_ids() {
        let p = parse(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#).unwrap();
        let PacketKind::Event { name, args, id } = p.kind else {
            panic!()
        };
        assert_eq!((&*name, id, args.len()), ("message-with-ack", Some(456), 3));
        assert_eq!(&*args.raw()[2], r#"{"3":[false]}"#);
        let p = parse(r#"2/chat,["a\"b"]"#).unwrap();
        let PacketKind::Event { name, .. } = p.kind else {
            panic!()
        };
        assert_eq!(&*name, "a\"b");
        let p = parse(r#"2[42,true]"#).unwrap();
        let PacketKind::Event { name, .. } = p.kind else {
            panic!()
        };
        assert_eq!(&*name, "42");
    }

    #[test]
    fn rejects_invalid_packets() {
        assert_eq!(parse(""), Err(ParseError::Empty));
        assert_eq!(parse("abc"), Err(ParseError::UnknownType));
        assert_eq!(parse("2{}"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("2abc[\"x\"]"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("2[]"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("2[{}]"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("2[\"connect\"]"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("2[\"x\""), Err(ParseError::InvalidPayload));
        assert_eq!(parse("1[1]"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("3[1]"), Err(ParseError::MissingAckId));
        assert_eq!(parse("31{}"), Err(ParseError::InvalidPayload));
        assert_eq!(
            parse("299999999999999999999999[\"x\"]"),
            Err(ParseError::InvalidAckId)
        );
        assert_eq!(parse("5[\"x\"]"), Err(ParseError::IllegalAttachments));
        assert_eq!(parse("5a-[\"x\"]"), Err(ParseError::IllegalAttachments));
        assert_eq!(parse("2"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("4"), Err(ParseError::InvalidPayload));
        assert_eq!(parse("4[1]"), Err(ParseError::InvalidPayload));
    }

    #[test]
    fn decoder_collects_attachments() {
        let mut d = Decoder::new(10);
        let text = r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(d.decode(Message::Text(text.into())), Ok(None));
        assert_eq!(
            d.decode(Message::Binary(Bytes::from_static(&[1, 2, 3]))),
            Ok(None)
        );
        let p = d
            .decode(Message::Binary(Bytes::from_static(&[4])))
            .unwrap()
            .unwrap();
        let PacketKind::Event { args, id, .. } = p.kind else {
            panic!()
        };
        assert_eq!(id, Some(789));
        assert_eq!(args.attachments().len(), 2);
        let re = Packet::event("/".into(), "x".into(), args, None).encode();
        assert!(re.text.starts_with("452-[\"x\","));
    }

    #[test]
    fn decoder_rejects_out_of_order_messages() {
        let mut d = Decoder::new(10);
        assert_eq!(
            d.decode(Message::Binary(Bytes::new())),
            Err(ParseError::UnexpectedBinary)
        );
        let text = r#"51-["m",{"_placeholder":true,"num":0}]"#;
        d.decode(Message::Text(text.into())).unwrap();
        assert_eq!(
            d.decode(Message::Text("2[\"m\"]".into())),
            Err(ParseError::UnexpectedText)
        );
        let mut d = Decoder::new(1);
        assert_eq!(
            d.decode(Message::Text(r#"52-["m"]"#.into())),
            Err(ParseError::TooManyAttachments(2))
        );
        let bad_index = r#"51-["m",{"_placeholder":true,"num":3}]"#;
        assert_eq!(
            d.decode(Message::Text(bad_index.into())),
            Err(ParseError::IllegalAttachments)
        );
        let empty_binary = Decoder::new(4).decode(Message::Text(r#"50-["m"]"#.into()));
        assert!(empty_binary.unwrap().is_some());
    }

    proptest! {
        #[test]
        fn event_round_trip(ns in "/[a-z]{0,6}", name in "[^\u{0}]{1,12}", id in proptest::option::of(0u64..1_000_000),
                            vals in proptest::collection::vec(any::<i64>(), 0..4)) {
            prop_assume!(!RESERVED_EVENTS.contains(&name.as_str()));
            let args = Args::many(&vals).unwrap();
            let p = Packet::event(Str::from(ns), Str::from(name), args, id);
            let enc = p.encode();
            let (back, n) = parse_text(&enc.text.slice(1..enc.text.len())).unwrap();
            prop_assert_eq!(n, 0);
            prop_assert_eq!(back, p);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = parse_text(&Str::from(s));
        }

        #[test]
        fn parser_never_panics_on_protocolish(s in "[0-6][0-9-]{0,3}(/[a-z]{0,3},)?[0-9]{0,3}[\\[\\]{}\",:a-z0-9]{0,20}") {
            let _ = parse_text(&Str::from(s));
        }
    }
}
