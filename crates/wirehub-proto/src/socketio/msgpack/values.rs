//! Event arguments ([`Args`]: JSON texts plus binary attachments behind
//! `{"_placeholder":true,"num":N}`) to and from MessagePack values, with
//! binary inline as `bin`.
//!
//! Both directions keep map keys in their order (a JavaScript object's
//! order survives a trip through the server) and map numbers as notepack.io
//! does (integers as integers, other numbers as float64). What JSON cannot
//! hold becomes what `JSON.stringify` would make of its JavaScript value:
//! notepack.io's `undefined` (extension 0 of one byte) and other extensions
//! become `null`; its `ArrayBuffer` (extension 0 of any other length) is
//! binary, like `bin`. A `Date` (extension 0 of eight bytes, written only by
//! notepack.io in Node) cannot be told from an eight-byte `ArrayBuffer` once
//! decoded and arrives as binary.

use crate::socketio::Args;
use crate::Str;
use bytes::Bytes;
use rmpv::Value;

/// Event arguments as values: placeholders of attachments become `bin`.
pub fn args_to_values(args: &Args) -> Vec<Value> {
    args.raw()
        .iter()
        .map(|raw| json_to_value(raw, args.attachments()))
        .collect()
}

/// One argument's JSON text as a value (invalid JSON, which [`Args`] never
/// holds, as `nil`).
pub fn json_to_value(raw: &str, attachments: &[Bytes]) -> Value {
    let mut value = serde_json::from_str(raw).unwrap_or(Value::Nil);
    resolve_placeholders(&mut value, attachments);
    value
}

/// Replaces every placeholder map by the attachment it names (a number out
/// of range gives `nil`).
fn resolve_placeholders(value: &mut Value, attachments: &[Bytes]) {
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| resolve_placeholders(i, attachments)),
        Value::Map(entries) => match placeholder_num(entries) {
            Some(n) => {
                *value = attachments
                    .get(n)
                    .map_or(Value::Nil, |b| Value::Binary(b.to_vec()))
            }
            None => entries
                .iter_mut()
                .for_each(|(_, v)| resolve_placeholders(v, attachments)),
        },
        _ => {}
    }
}

/// `Some(num)` for exactly `{"_placeholder": true, "num": <index>}`.
pub(super) fn placeholder_num(entries: &[(Value, Value)]) -> Option<usize> {
    if entries.len() != 2 {
        return None;
    }
    let field = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v)
    };
    if field("_placeholder")?.as_bool() != Some(true) {
        return None;
    }
    usize::try_from(field("num")?.as_u64()?).ok()
}

/// Values as event arguments: `bin` values (and ArrayBuffers) become
/// attachments behind placeholders, in order of appearance.
pub fn values_to_args(values: Vec<Value>) -> Args {
    let mut attachments = Vec::new();
    let items = values
        .into_iter()
        .map(|v| value_to_json(v, &mut attachments))
        .collect();
    Args::from_parts(items, attachments)
}

/// A value as JSON text; its binaries are moved to `attachments`.
pub fn value_to_json(mut value: Value, attachments: &mut Vec<Bytes>) -> Str {
    to_json_model(&mut value, attachments);
    // Once in the JSON model (string keys, UTF-8 strings, no binary, no
    // extension) a value always serialises.
    let json = serde_json::to_vec(&value).unwrap_or_else(|_| b"null".to_vec());
    Str::from_utf8(Bytes::from(json)).unwrap_or_else(|_| Str::from_static("null"))
}

/// Rewrites `value` in place into what JSON can hold (see the module doc).
fn to_json_model(value: &mut Value, attachments: &mut Vec<Bytes>) {
    match value {
        Value::Binary(b) => {
            attachments.push(Bytes::from(std::mem::take(b)));
            *value = placeholder(attachments.len() - 1);
        }
        Value::Ext(0, data) if data.len() != 1 => {
            attachments.push(Bytes::from(std::mem::take(data)));
            *value = placeholder(attachments.len() - 1);
        }
        Value::Ext(..) => *value = Value::Nil,
        Value::String(s) if s.as_str().is_none() => {
            *value = Value::from(String::from_utf8_lossy(s.as_bytes()).into_owned());
        }
        Value::Array(items) => items.iter_mut().for_each(|i| to_json_model(i, attachments)),
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                key_to_string(k);
                to_json_model(v, attachments);
            }
        }
        _ => {}
    }
}

/// A map key as a string: JSON object keys are strings (a number key
/// reads as its JSON text, as in JavaScript).
fn key_to_string(key: &mut Value) {
    if key.as_str().is_some() {
        return;
    }
    let text = match &mut *key {
        Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => {
            to_json_model(other, &mut Vec::new());
            serde_json::to_string(other).unwrap_or_else(|_| "null".into())
        }
    };
    *key = Value::from(text);
}

fn placeholder(num: usize) -> Value {
    Value::Map(vec![
        (Value::from("_placeholder"), Value::Boolean(true)),
        (Value::from("num"), Value::from(num)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::Binary;

    #[test]
    fn nested_binary_round_trips() {
        let args = Args::many(&(
            "x",
            1,
            serde_json::json!({"z": [1.5, null], "a": -2}),
            Binary::from(vec![1u8, 2, 3]),
        ))
        .unwrap();
        let values = args_to_values(&args);
        assert_eq!(values[3], Value::Binary(vec![1, 2, 3]));
        assert_eq!(values[1], Value::from(1u64));
        assert_eq!(values_to_args(values), args);
    }

    #[test]
    fn key_order_survives() {
        let args = Args::from_raw(vec![r#"{"z":1,"a":{"y":2,"b":3}}"#.into()]);
        let back = values_to_args(args_to_values(&args));
        assert_eq!(&*back.raw()[0], r#"{"z":1,"a":{"y":2,"b":3}}"#);
    }

    #[test]
    fn what_json_cannot_hold() {
        let values = vec![Value::Array(vec![
            Value::Ext(0, vec![0]),
            Value::Ext(0, vec![9, 8]),
            Value::Ext(5, vec![1, 2]),
            Value::F64(f64::NAN),
            Value::Map(vec![(Value::from(7), Value::from("seven"))]),
            rmpv::decode::read_value(&mut &[0xa2, 0xff, b'a'][..]).unwrap(),
        ])];
        let args = values_to_args(values);
        assert_eq!(
            &*args.raw()[0],
            r#"[null,{"_placeholder":true,"num":0},null,null,{"7":"seven"},"�a"]"#
        );
        assert_eq!(args.attachments(), &[Bytes::from_static(&[9, 8])]);
    }

    #[test]
    fn placeholder_out_of_range_is_nil() {
        let v = json_to_value(r#"{"_placeholder":true,"num":3}"#, &[]);
        assert_eq!(v, Value::Nil);
        let not_one = json_to_value(r#"{"_placeholder":false,"num":0}"#, &[Bytes::new()]);
        assert!(matches!(not_one, Value::Map(_)));
    }
}
