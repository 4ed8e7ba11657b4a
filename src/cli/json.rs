//! Event arguments as JSON for the command line: binary attachments are
//! written `{"$binary": "<base64>"}`, and such objects in the input are sent
//! as binary.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};
use wirehub_client::{Args, Binary};

/// The arguments as a JSON array, attachments inlined as `{"$binary": ...}`.
pub(super) fn args_to_json(args: &Args) -> Value {
    let items = args
        .raw()
        .iter()
        .map(|raw| {
            let value = serde_json::from_str(raw).unwrap_or(Value::Null);
            inline_binary(value, args)
        })
        .collect();
    Value::Array(items)
}

fn inline_binary(value: Value, args: &Args) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| inline_binary(v, args)).collect())
        }
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true)) {
                let data = map
                    .get("num")
                    .and_then(Value::as_u64)
                    .and_then(|n| args.attachments().get(n as usize));
                if let Some(data) = data {
                    let mut out = Map::new();
                    out.insert("$binary".into(), Value::String(BASE64.encode(data)));
                    return Value::Object(out);
                }
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, inline_binary(v, args)))
                    .collect(),
            )
        }
        other => other,
    }
}

/// Arguments from JSON values, `{"$binary": base64}` objects becoming binary.
pub(super) fn json_to_args(values: &[Value]) -> anyhow::Result<Args> {
    for value in values {
        check_binary(value)?;
    }
    let wrapped: Vec<Input<'_>> = values.iter().map(Input).collect();
    Ok(Args::many(&wrapped)?)
}

/// Fails on a `{"$binary": ...}` whose text is not base64.
fn check_binary(value: &Value) -> anyhow::Result<()> {
    match value {
        Value::Array(items) => items.iter().try_for_each(check_binary),
        Value::Object(map) => match binary_text(map) {
            Some(text) => BASE64
                .decode(text)
                .map(drop)
                .map_err(|e| anyhow::anyhow!("invalid base64 in $binary: {e}")),
            None => map.values().try_for_each(check_binary),
        },
        _ => Ok(()),
    }
}

fn binary_text(map: &Map<String, Value>) -> Option<&str> {
    match (map.len(), map.get("$binary")) {
        (1, Some(Value::String(text))) => Some(text),
        _ => None,
    }
}

/// Serialises a JSON value, turning `{"$binary": ...}` into [`Binary`].
struct Input<'a>(&'a Value);

impl Serialize for Input<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Input(item))?;
                }
                seq.end()
            }
            Value::Object(map) => {
                if let Some(text) = binary_text(map) {
                    let data = BASE64.decode(text).unwrap_or_default();
                    return Binary::from(data).serialize(s);
                }
                let mut out = s.serialize_map(Some(map.len()))?;
                for (key, value) in map {
                    out.serialize_entry(key, &Input(value))?;
                }
                out.end()
            }
            other => other.serialize(s),
        }
    }
}

/// A command-line argument: JSON if it parses, else the text as a string.
pub(super) fn loose(arg: &str) -> Value {
    serde_json::from_str(arg).unwrap_or_else(|_| Value::String(arg.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binary_round_trip() {
        let input = vec![json!({"file": {"$binary": "AQID"}, "n": 1}), json!("x")];
        let args = json_to_args(&input).unwrap();
        assert_eq!(args.attachments().len(), 1);
        assert_eq!(&args.attachments()[0][..], &[1, 2, 3]);
        assert_eq!(args_to_json(&args), Value::Array(input));
        assert!(json_to_args(&[json!({"$binary": "!!"})]).is_err());
    }

    #[test]
    fn loose_arguments() {
        assert_eq!(loose("42"), json!(42));
        assert_eq!(loose("{\"a\":1}"), json!({"a": 1}));
        assert_eq!(loose("hello world"), json!("hello world"));
    }
}
