//! What travels with every broadcast and bulk operation: the options
//! (`{rooms, except, flags}`) and the event packet (`{type, data, nsp}`).

use super::value::{
    args_to_values, as_u64, get, get_rooms, get_str, map, rooms_value, values_to_args, DecodeError,
    Value,
};
use crate::socketio::Args;
use crate::Str;

/// Broadcast options as adapters send them: `{rooms, except, flags}`.
///
/// wirehub adds one field Node ignores, `wirehubOffset`: the cluster-wide
/// room-history offset of a recorded broadcast, so every wirehub node
/// records it under the same number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireOptions {
    /// Only sockets in one of these rooms (empty: every socket).
    pub rooms: Vec<Str>,
    /// Never sockets in these rooms.
    pub except: Vec<Str>,
    /// `flags.volatile`.
    pub volatile: bool,
    /// `flags.compress` when set.
    pub compress: Option<bool>,
    /// `flags.timeout` (milliseconds) when set.
    pub timeout: Option<u64>,
    /// The cluster-wide room-history offset (wirehub nodes only).
    pub offset: Option<u64>,
}

impl WireOptions {
    /// The value, with `flags` as Node's `BroadcastFlags` (only what is set).
    pub fn to_value(&self) -> Value {
        let mut flags = Vec::new();
        if self.volatile {
            flags.push(("volatile", Value::Boolean(true)));
        }
        if let Some(compress) = self.compress {
            flags.push(("compress", Value::Boolean(compress)));
        }
        if let Some(timeout) = self.timeout {
            flags.push(("timeout", Value::from(timeout)));
        }
        let mut entries = vec![
            ("rooms", rooms_value(&self.rooms)),
            ("except", rooms_value(&self.except)),
            ("flags", map(flags)),
        ];
        if let Some(offset) = self.offset {
            entries.push(("wirehubOffset", Value::from(offset)));
        }
        map(entries)
    }

    /// Only `{rooms, except}`, as requests other than broadcasts carry them.
    pub fn to_selector_value(&self) -> Value {
        map(vec![
            ("rooms", rooms_value(&self.rooms)),
            ("except", rooms_value(&self.except)),
        ])
    }

    /// Reads options; missing lists are empty, unknown flags are ignored.
    pub fn from_value(v: &Value) -> Result<Self, DecodeError> {
        if !matches!(v, Value::Map(_)) {
            return Err(DecodeError::Field("opts"));
        }
        let flags = get(v, "flags");
        let flag = |name| flags.and_then(|f| get(f, name));
        Ok(WireOptions {
            rooms: get_rooms(v, "rooms")?,
            except: get_rooms(v, "except")?,
            volatile: flag("volatile").is_some_and(truthy),
            compress: flag("compress").and_then(Value::as_bool),
            timeout: flag("timeout").and_then(as_u64),
            offset: get(v, "wirehubOffset").and_then(as_u64),
        })
    }
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Boolean(false))
}

/// An EVENT packet as adapters carry it: `{type: 2, data: [event, ...args], nsp}`.
///
/// The type stays 2 even when arguments hold binary (Node's parser turns it
/// into a BINARY_EVENT when it encodes for a client); 5 is read as well.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPacket {
    /// The namespace.
    pub nsp: Str,
    /// The event name.
    pub event: Str,
    /// The arguments.
    pub args: Args,
}

impl EventPacket {
    /// The packet as a value, binary inline.
    pub fn to_value(&self) -> Value {
        let mut data = Vec::with_capacity(self.args.len() + 1);
        data.push(Value::from(self.event.as_str()));
        data.extend(args_to_values(&self.args));
        map(vec![
            ("type", Value::from(2u8)),
            ("data", Value::Array(data)),
            ("nsp", Value::from(self.nsp.as_str())),
        ])
    }

    /// Reads a packet; a missing `nsp` is `/`, as in Node.
    pub fn from_value(v: &Value) -> Result<Self, DecodeError> {
        match get(v, "type").and_then(as_u64) {
            Some(2 | 5) => {}
            _ => return Err(DecodeError::Field("packet.type")),
        }
        let nsp = match get(v, "nsp") {
            None | Some(Value::Nil) => Str::from_static("/"),
            Some(_) => get_str(v, "nsp")?,
        };
        let Some(Value::Array(data)) = get(v, "data") else {
            return Err(DecodeError::Field("packet.data"));
        };
        let (event, args) = event_and_args(data)?;
        Ok(EventPacket { nsp, event, args })
    }
}

/// `[event, ...args]` split into the event name and its arguments.
pub fn event_and_args(data: &[Value]) -> Result<(Str, Args), DecodeError> {
    let Some((first, rest)) = data.split_first() else {
        return Err(DecodeError::Field("data"));
    };
    let event = first.as_str().ok_or(DecodeError::Field("data[0]"))?;
    Ok((Str::from(event.to_owned()), values_to_args(rest)))
}

/// An event name and its arguments as `[event, ...args]`.
pub fn event_data(event: &str, args: &Args) -> Value {
    let mut data = vec![Value::from(event)];
    data.extend(args_to_values(args));
    Value::Array(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::value::{decode, to_msgpack};
    use crate::socketio::Binary;

    #[test]
    fn nodes_captured_broadcast_decodes() {
        // ["sRo3B5", {type:2, data:["broadcast-message","hi",1], nsp:"/"},
        //  {rooms:[], except:[], flags:{}}] as notepack.io wrote it.
        let mut bytes = vec![0x93, 0xa6];
        bytes.extend(b"sRo3B5");
        bytes.extend([0x83, 0xa4]);
        bytes.extend(b"type");
        bytes.extend([0x02, 0xa4]);
        bytes.extend(b"data");
        bytes.extend([0x93, 0xb1]);
        bytes.extend(b"broadcast-message");
        bytes.extend([0xa2]);
        bytes.extend(b"hi");
        bytes.extend([0x01, 0xa3]);
        bytes.extend(b"nsp");
        bytes.extend([0xa1, b'/', 0x83, 0xa5]);
        bytes.extend(b"rooms");
        bytes.extend([0x90, 0xa6]);
        bytes.extend(b"except");
        bytes.extend([0x90, 0xa5]);
        bytes.extend(b"flags");
        bytes.push(0x80);
        let v = decode(&bytes).unwrap();
        let Value::Array(parts) = v else { panic!() };
        let packet = EventPacket::from_value(&parts[1]).unwrap();
        assert_eq!(packet.event, "broadcast-message");
        assert_eq!(packet.args.raw(), &[Str::from("\"hi\""), Str::from("1")]);
        let opts = WireOptions::from_value(&parts[2]).unwrap();
        assert_eq!(opts, WireOptions::default());
        // And we write the same bytes.
        let again = Value::Array(vec![
            Value::from("sRo3B5"),
            packet.to_value(),
            WireOptions::default().to_value(),
        ]);
        assert_eq!(&to_msgpack(&again)[..], &bytes[..]);
    }

    #[test]
    fn options_round_trip() {
        let opts = WireOptions {
            rooms: vec!["a".into()],
            except: vec!["b".into()],
            volatile: true,
            compress: Some(false),
            timeout: Some(1000),
            offset: Some(7),
        };
        assert_eq!(WireOptions::from_value(&opts.to_value()).unwrap(), opts);
    }

    #[test]
    fn binary_packets_stay_type_2_with_bin_inline() {
        let p = EventPacket {
            nsp: "/".into(),
            event: "e".into(),
            args: Args::one(&Binary::from(vec![1u8, 2])).unwrap(),
        };
        let v = p.to_value();
        assert_eq!(get(&v, "type"), Some(&Value::from(2u8)));
        assert_eq!(EventPacket::from_value(&v).unwrap(), p);
    }
}
