//! Binary attachments on the plain transports: the placeholders
//! `{"_placeholder":true,"num":N}` that Socket.IO arguments carry become
//! inline `{"$binary":"<standard base64>"}` objects. A rare path, so it may
//! go through `serde_json::Value`.

use crate::socketio::Args;
use base64::Engine as _;
use serde_json::Value;
use std::borrow::Cow;

/// The field name of an inline binary object.
pub const BINARY_KEY: &str = "$binary";

/// Each argument's JSON with its placeholders replaced by inline binaries;
/// arguments without placeholders are borrowed unchanged.
pub(super) fn inline_attachments(args: &Args) -> Vec<Cow<'_, str>> {
    args.raw()
        .iter()
        .map(|raw| {
            if !raw.contains("\"_placeholder\"") {
                return Cow::Borrowed(raw.as_str());
            }
            match serde_json::from_str::<Value>(raw) {
                Ok(mut value) => {
                    replace(&mut value, args.attachments());
                    Cow::Owned(value.to_string())
                }
                Err(_) => Cow::Borrowed(raw.as_str()),
            }
        })
        .collect()
}

/// Replaces every placeholder naming an existing attachment, in place.
fn replace(value: &mut Value, attachments: &[bytes::Bytes]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| replace(v, attachments)),
        Value::Object(map) => {
            if let Some(bytes) = placeholder(map).and_then(|n| attachments.get(n)) {
                let text = base64::engine::general_purpose::STANDARD.encode(bytes);
                *value = serde_json::json!({ BINARY_KEY: text });
            } else {
                map.values_mut().for_each(|v| replace(v, attachments));
            }
        }
        _ => {}
    }
}

/// The attachment index of a `{"_placeholder":true,"num":N}` object.
fn placeholder(map: &serde_json::Map<String, Value>) -> Option<usize> {
    if map.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    map.get("num")?
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn replaces_nested_placeholders() {
        let args = Args::from_parts(
            vec![
                "1".into(),
                r#"{"f":{"_placeholder":true,"num":1},"g":[{"_placeholder":true,"num":0}]}"#.into(),
                r#"{"_placeholder":true,"num":9}"#.into(),
            ],
            vec![Bytes::from_static(b"hi"), Bytes::from_static(&[0, 255])],
        );
        let out = inline_attachments(&args);
        assert!(matches!(out[0], Cow::Borrowed("1")));
        assert_eq!(
            out[1],
            r#"{"f":{"$binary":"AP8="},"g":[{"$binary":"aGk="}]}"#
        );
        assert_eq!(
            out[2], r#"{"_placeholder":true,"num":9}"#,
            "unknown index kept"
        );
    }
}
