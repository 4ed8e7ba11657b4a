//! The value model of adapter messages: MessagePack values ([`Value`]),
//! decoded from either encoding Node's adapters use (JSON when the first
//! byte is `{`, MessagePack otherwise), and the conversions between event
//! arguments ([`Args`]: JSON texts plus binary attachments) and values
//! (binary inline as MessagePack `bin`).

use crate::socketio::{msgpack, Args};
use crate::Str;
use bytes::Bytes;
pub use rmpv::Value;
use serde_json::Value as Json;

/// Why an adapter message could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Neither valid JSON nor valid MessagePack.
    #[error("not JSON or MessagePack: {0}")]
    Syntax(String),
    /// A field is missing or of the wrong kind.
    #[error("bad field {0}")]
    Field(&'static str),
    /// A message type this protocol does not know.
    #[error("unknown message type {0}")]
    UnknownType(u64),
}

/// Most nesting accepted in a message (deeper ones are refused, not recursed).
const MAX_DEPTH: usize = 64;

/// Decodes a message: JSON if it starts with `{`, MessagePack otherwise.
pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    if bytes.first() == Some(&b'{') {
        let json: Json =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::Syntax(e.to_string()))?;
        Ok(from_json(&json))
    } else {
        let mut rd = bytes;
        let value = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
            .map_err(|e| DecodeError::Syntax(e.to_string()))?;
        if !rd.is_empty() {
            return Err(DecodeError::Syntax("trailing bytes".into()));
        }
        Ok(value)
    }
}

/// Encodes a value as MessagePack, as notepack.io writes it.
pub fn to_msgpack(value: &Value) -> Bytes {
    let mut out = Vec::with_capacity(64);
    // Writing to a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    Bytes::from(out)
}

/// Encodes a value as JSON (binary as Node's `Buffer.toJSON()` form).
pub fn to_json(value: &Value) -> Bytes {
    Bytes::from(to_json_value(value).to_string())
}

/// Whether a value holds binary anywhere (Node's `hasBinary`).
pub fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(entries) => entries.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// A map value with string keys, in order.
pub fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// The value of `key` in a map with string keys.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// A string field.
pub fn get_str(value: &Value, key: &'static str) -> Result<Str, DecodeError> {
    get(value, key)
        .and_then(Value::as_str)
        .map(|s| Str::from(s.to_owned()))
        .ok_or(DecodeError::Field(key))
}

/// An optional string field (absent or `nil` is `None`).
pub fn get_opt_str(value: &Value, key: &'static str) -> Result<Option<Str>, DecodeError> {
    match get(value, key) {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => v
            .as_str()
            .map(|s| Some(Str::from(s.to_owned())))
            .ok_or(DecodeError::Field(key)),
    }
}

/// A non-negative integer field (an integral float is accepted).
pub fn get_u64(value: &Value, key: &'static str) -> Result<u64, DecodeError> {
    get(value, key)
        .and_then(as_u64)
        .ok_or(DecodeError::Field(key))
}

/// A value as a non-negative integer (an integral float is accepted).
pub fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Integer(i) => i.as_u64(),
        Value::F64(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19 => Some(*f as u64),
        Value::F32(f) if f.fract() == 0.0 && *f >= 0.0 => Some(*f as u64),
        _ => None,
    }
}

/// A list of room names; Node allows numbers as rooms, which read as their
/// decimal text (`42`, `1.5`). Absent or `nil` is empty.
pub fn get_rooms(value: &Value, key: &'static str) -> Result<Vec<Str>, DecodeError> {
    match get(value, key) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| room_name(r).ok_or(DecodeError::Field(key)))
            .collect(),
        Some(_) => Err(DecodeError::Field(key)),
    }
}

fn room_name(v: &Value) -> Option<Str> {
    match v {
        Value::String(s) => s.as_str().map(|s| Str::from(s.to_owned())),
        Value::Integer(i) => Some(Str::from(i.to_string())),
        Value::F64(f) if f.is_finite() => Some(Str::from(js_number(*f))),
        Value::F32(f) if f.is_finite() => Some(Str::from(js_number(f64::from(*f)))),
        _ => None,
    }
}

/// A finite number as JavaScript's `String(n)` writes it (close enough for
/// room names: integral values without a fraction).
fn js_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// A list of room names as a value.
pub fn rooms_value(rooms: &[Str]) -> Value {
    Value::Array(rooms.iter().map(|r| Value::from(r.as_str())).collect())
}

/// A JSON value as a MessagePack value (integers as integers, other numbers
/// as float64, as notepack.io writes JavaScript numbers).
pub fn from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        Json::Object(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json(v)))
                .collect(),
        ),
    }
}

/// A MessagePack value as JSON: binary as `{"type":"Buffer","data":[...]}`,
/// non-finite floats as `null` (as `JSON.stringify` does), other map keys
/// as their text, extensions as `null`.
pub fn to_json_value(value: &Value) -> Json {
    match value {
        Value::Nil | Value::Ext(..) => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => Json::from(u),
            (None, Some(i)) => Json::from(i),
            _ => Json::Null,
        },
        Value::F32(f) => float(f64::from(*f)),
        Value::F64(f) => float(*f),
        Value::String(s) => Json::String(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Value::Binary(b) => serde_json::json!({ "type": "Buffer", "data": b }),
        Value::Array(items) => Json::Array(items.iter().map(to_json_value).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (key_text(k), to_json_value(v)))
                .collect(),
        ),
    }
}

fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => to_json_value(other).to_string(),
    }
}

/// Event arguments as values: placeholders of binary attachments become
/// `bin` values (the conversion of the MessagePack parser, which Node's
/// adapters share: both write with notepack.io).
pub fn args_to_values(args: &Args) -> Vec<Value> {
    msgpack::values::args_to_values(args)
}

/// Values as event arguments: `bin` values become attachments behind
/// placeholders.
pub fn values_to_args(values: &[Value]) -> Args {
    msgpack::values::values_to_args(values.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::Binary;

    #[test]
    fn args_round_trip_with_nested_binary() {
        let args = Args::many(&(
            "x",
            1,
            serde_json::json!({"a": [1.5, null]}),
            Binary::from(vec![1u8, 2, 3]),
        ))
        .unwrap();
        let values = args_to_values(&args);
        assert_eq!(values[3], Value::Binary(vec![1, 2, 3]));
        assert_eq!(values[1], Value::from(1u64));
        let back = values_to_args(&values);
        assert_eq!(back, args);
    }

    #[test]
    fn decodes_either_encoding() {
        let v = decode(br#"{"a":1,"b":[true,"x"]}"#).unwrap();
        assert_eq!(get_u64(&v, "a").unwrap(), 1);
        let packed = to_msgpack(&v);
        assert_eq!(decode(&packed).unwrap(), v);
        assert!(decode(b"{oops").is_err());
        assert!(decode(&[0x93, 0x01]).is_err(), "truncated msgpack");
        assert!(decode(&[0x01, 0x02]).is_err(), "trailing bytes");
    }

    #[test]
    fn rooms_may_be_numbers() {
        let v = from_json(&serde_json::json!({"rooms": ["a", 42, 1.5]}));
        assert_eq!(get_rooms(&v, "rooms").unwrap(), ["a", "42", "1.5"]);
        assert!(get_rooms(&from_json(&serde_json::json!({"rooms": [true]})), "rooms").is_err());
    }

    #[test]
    fn json_of_binary_is_nodes_buffer_form() {
        let v = Value::Array(vec![Value::Binary(vec![7]), Value::F64(f64::NAN)]);
        let json: Json = serde_json::from_slice(&to_json(&v)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"type": "Buffer", "data": [7]}, null])
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let mut bytes = vec![0x91; 100_000];
        bytes.push(0xc0);
        assert!(decode(&bytes).is_err());
    }
}
