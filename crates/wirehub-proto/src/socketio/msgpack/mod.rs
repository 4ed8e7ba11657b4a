//! The packet format of socket.io-msgpack-parser (3.x, over notepack.io):
//! every Socket.IO packet is one MessagePack map `{type, data, nsp, id}`
//! sent as one binary Engine.IO message. Binary values travel inline as
//! `bin`, so there are no attachment messages and no BINARY_EVENT/BINARY_ACK
//! types (`type` is 0 to 4). Keys other than those four (the JavaScript
//! client also sends `options`) are ignored.
//!
//! Packets keep the model of the JSON parser ([`Packet`] with [`Args`] as
//! JSON texts plus attachments), so everything above the codec (handlers,
//! rooms, acks, broadcasts, recovery, the plain transports) is the same
//! whichever parser a client speaks; [`values`] does the conversion.
//!
//! The checks are the parser's own (`checkPacket`): `type` an integer from
//! 0 to 4, `nsp` a string, `id` absent or an integer, and `data` absent or
//! an object for CONNECT, absent for DISCONNECT, a string or an object for
//! CONNECT_ERROR, an array otherwise. notepack.io writes `undefined` as an
//! extension, which counts as absent.

pub mod values;

use super::decode::{ParseError, RESERVED_EVENTS};
use super::packet::{Packet, PacketKind, PacketType};
use super::Args;
use crate::Str;
use bytes::Bytes;
use rmpv::Value;
use values::{args_to_values, json_to_value, value_to_json, values_to_args};

/// Most nesting accepted in a packet (deeper ones are refused, not recursed).
const MAX_DEPTH: usize = 128;

/// Decodes one binary Engine.IO message into a packet, refusing more than
/// `max_attachments` binary values.
pub fn decode(bytes: &[u8], max_attachments: usize) -> Result<Packet, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut rd = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|_| ParseError::InvalidMsgPack)?;
    if !rd.is_empty() {
        return Err(ParseError::InvalidMsgPack);
    }
    let Fields { ty, data, nsp, id } = Fields::of(value)?;
    let ty = ty.and_then(|t| as_u64(&t)).ok_or(ParseError::UnknownType)?;
    let ty = u8::try_from(ty)
        .ok()
        .filter(|t| *t <= PacketType::ConnectError as u8)
        .and_then(|t| PacketType::from_digit(b'0' + t))
        .ok_or(ParseError::UnknownType)?;
    let ns = match nsp {
        Some(Value::String(s)) => Str::from(s.into_str().ok_or(ParseError::InvalidPayload)?),
        _ => return Err(ParseError::InvalidPayload),
    };
    let id = match id {
        None => None,
        Some(v) => Some(as_u64(&v).ok_or(ParseError::InvalidAckId)?),
    };
    let kind = kind_from(ty, data, id)?;
    if let PacketKind::Event { args, .. } | PacketKind::Ack { args, .. } = &kind {
        if args.attachments().len() > max_attachments {
            return Err(ParseError::TooManyAttachments(args.attachments().len()));
        }
    }
    Ok(Packet { ns, kind })
}

/// The four fields of a packet map; an `undefined` value counts as absent.
struct Fields {
    ty: Option<Value>,
    data: Option<Value>,
    nsp: Option<Value>,
    id: Option<Value>,
}

impl Fields {
    fn of(value: Value) -> Result<Self, ParseError> {
        let Value::Map(entries) = value else {
            return Err(ParseError::InvalidPayload);
        };
        let mut fields = Fields {
            ty: None,
            data: None,
            nsp: None,
            id: None,
        };
        for (key, value) in entries {
            let slot = match key.as_str() {
                Some("type") => &mut fields.ty,
                Some("data") => &mut fields.data,
                Some("nsp") => &mut fields.nsp,
                Some("id") => &mut fields.id,
                _ => continue,
            };
            *slot = (!is_undefined(&value)).then_some(value);
        }
        Ok(fields)
    }
}

/// notepack.io's `undefined`: extension 0 of one byte.
fn is_undefined(value: &Value) -> bool {
    matches!(value, Value::Ext(0, data) if data.len() == 1)
}

/// A non-negative integer (an integral float is accepted, as JavaScript's
/// `Number.isInteger` does).
fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Integer(i) => i.as_u64(),
        Value::F64(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19 => Some(*f as u64),
        Value::F32(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19 => Some(*f as u64),
        _ => None,
    }
}

fn kind_from(
    ty: PacketType,
    data: Option<Value>,
    id: Option<u64>,
) -> Result<PacketKind, ParseError> {
    const BAD: ParseError = ParseError::InvalidPayload;
    Ok(match (ty, data) {
        (PacketType::Connect, None) => PacketKind::Connect(None),
        (PacketType::Connect, Some(auth @ Value::Map(_))) => {
            PacketKind::Connect(Some(json_body(auth)?))
        }
        (PacketType::Disconnect, None) => PacketKind::Disconnect,
        (PacketType::ConnectError, Some(body @ (Value::Map(_) | Value::String(_)))) => {
            PacketKind::ConnectError(json_body(body)?)
        }
        (PacketType::Event | PacketType::Ack, Some(data)) if spoofs_placeholder(&data) => {
            return Err(ParseError::IllegalAttachments)
        }
        (PacketType::Event, Some(Value::Array(mut items))) => {
            if items.is_empty() {
                return Err(BAD);
            }
            let name = event_name(items.remove(0))?;
            PacketKind::Event {
                name,
                args: values_to_args(items),
                id,
            }
        }
        (PacketType::Ack, Some(Value::Array(items))) => PacketKind::Ack {
            id: id.ok_or(ParseError::MissingAckId)?,
            args: values_to_args(items),
        },
        _ => return Err(BAD),
    })
}

/// A CONNECT or CONNECT_ERROR body as JSON; binary has no place there (the
/// JSON parser has no binary CONNECT either).
fn json_body(value: Value) -> Result<Str, ParseError> {
    let mut attachments = Vec::new();
    let json = value_to_json(value, &mut attachments);
    match attachments.is_empty() {
        true => Ok(json),
        false => Err(ParseError::InvalidPayload),
    }
}

/// Whether a map shaped like an attachment placeholder appears: binary is
/// inline in this format, so such a map would be taken for one of the
/// packet's binaries (or for `null`) once the arguments are in the JSON
/// model; it is refused instead.
fn spoofs_placeholder(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(spoofs_placeholder),
        Value::Map(entries) => {
            values::placeholder_num(entries).is_some()
                || entries.iter().any(|(_, v)| spoofs_placeholder(v))
        }
        _ => false,
    }
}

/// An event name: a string (not a reserved one) or a number, as with the
/// JSON parser.
fn event_name(value: Value) -> Result<Str, ParseError> {
    let name = match value {
        Value::String(s) => Str::from(s.into_str().ok_or(ParseError::InvalidPayload)?),
        n @ (Value::Integer(_) | Value::F32(_) | Value::F64(_)) => {
            value_to_json(n, &mut Vec::new())
        }
        _ => return Err(ParseError::InvalidPayload),
    };
    if RESERVED_EVENTS.contains(&name.as_str()) {
        return Err(ParseError::InvalidPayload);
    }
    Ok(name)
}

impl Packet {
    /// Encodes the packet as socket.io-msgpack-parser does: one binary
    /// Engine.IO message, binary arguments inline.
    pub fn encode_msgpack(&self) -> Bytes {
        let (ty, data, id) = match &self.kind {
            PacketKind::Connect(body) => (PacketType::Connect, body.as_deref().map(json), None),
            PacketKind::Disconnect => (PacketType::Disconnect, None, None),
            PacketKind::Event { name, args, id } => {
                let mut items = Vec::with_capacity(args.len() + 1);
                items.push(Value::from(name.as_str()));
                items.extend(args_to_values(args));
                (PacketType::Event, Some(Value::Array(items)), *id)
            }
            PacketKind::Ack { id, args } => (
                PacketType::Ack,
                Some(Value::Array(args_to_values(args))),
                Some(*id),
            ),
            PacketKind::ConnectError(body) => (PacketType::ConnectError, Some(json(body)), None),
        };
        let mut entries = Vec::with_capacity(4);
        entries.push((Value::from("type"), Value::from(ty as u8)));
        if let Some(data) = data {
            entries.push((Value::from("data"), data));
        }
        entries.push((Value::from("nsp"), Value::from(self.ns.as_str())));
        if let Some(id) = id {
            entries.push((Value::from("id"), Value::from(id)));
        }
        let mut out = Vec::with_capacity(self.msgpack_size_hint());
        // Writing to a Vec cannot fail.
        let _ = rmpv::encode::write_value(&mut out, &Value::Map(entries));
        Bytes::from(out)
    }

    fn msgpack_size_hint(&self) -> usize {
        let args = match &self.kind {
            PacketKind::Event { name, args, .. } => name.len() + args_len(args),
            PacketKind::Ack { args, .. } => args_len(args),
            PacketKind::Connect(b) => b.as_ref().map_or(0, |b| b.len()),
            PacketKind::ConnectError(b) => b.len(),
            PacketKind::Disconnect => 0,
        };
        args + self.ns.len() + 32
    }
}

fn args_len(args: &Args) -> usize {
    args.json_len() + args.attachments().iter().map(Bytes::len).sum::<usize>()
}

/// A JSON body (connect auth, connect error) as a value.
fn json(body: &str) -> Value {
    json_to_value(body, &[])
}

#[cfg(test)]
mod tests;
