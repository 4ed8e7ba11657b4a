//! The raw shape of a client envelope and the checks on each field.
//!
//! Every field is first borrowed as a `&RawValue` slice of the message, so
//! nothing is copied until a field is known to be needed; string values
//! without escapes then become [`Str`] slices of the message itself.

use super::EnvelopeError;
use crate::socketio::decode::RESERVED_EVENTS;
use crate::socketio::Args;
use crate::Str;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// Longest room or event name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Most rooms one envelope may name.
pub const MAX_ROOMS: usize = 64;
/// Largest `id` (2^53 - 1, the largest integer JavaScript holds exactly).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// An envelope with every known field still raw; unknown fields are skipped.
#[derive(Deserialize)]
pub(super) struct RawEnvelope<'a> {
    #[serde(rename = "type", default, borrow, deserialize_with = "present")]
    pub(super) ty: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) ns: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) auth: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) token: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) room: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) rooms: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) event: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) data: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) args: Option<&'a RawValue>,
}

/// A present field is `Some`, even when its value is `null` (plain
/// `Option` would turn `"data":null` into "no data").
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// A JSON string as a [`Str`]: a slice of `msg` unless it has escapes.
pub(super) fn string(msg: &Str, raw: &RawValue, field: &'static str) -> Result<Str, EnvelopeError> {
    let text = raw.get();
    if !text.starts_with('"') {
        return Err(EnvelopeError::field(field, "not a string"));
    }
    if text.contains('\\') {
        let s: String =
            serde_json::from_str(text).map_err(|_| EnvelopeError::field(field, "not a string"))?;
        return Ok(Str::from(s));
    }
    Ok(msg.slice_ref(&text[1..text.len() - 1]))
}

/// The optional `id`: an integer in `0..=MAX_ID`.
pub(super) fn id(raw: Option<&RawValue>) -> Result<Option<u64>, EnvelopeError> {
    raw.map(|raw| {
        serde_json::from_str::<u64>(raw.get())
            .ok()
            .filter(|&id| id <= MAX_ID)
            .ok_or(EnvelopeError::field("id", "not an integer in 0..=2^53-1"))
    })
    .transpose()
}

/// `room` (one name) or `rooms` (a list); empty when neither is present.
pub(super) fn rooms(msg: &Str, env: &RawEnvelope<'_>) -> Result<Vec<Str>, EnvelopeError> {
    let room = |raw| -> Result<Str, EnvelopeError> {
        let name = string(msg, raw, "rooms")?;
        check_name(&name, "rooms")?;
        Ok(name)
    };
    match (env.room, env.rooms) {
        (Some(_), Some(_)) => Err(EnvelopeError::field("rooms", "room and rooms both given")),
        (Some(one), None) => Ok(vec![room(one)?]),
        (None, Some(list)) => {
            let items: Vec<&RawValue> = serde_json::from_str(list.get())
                .map_err(|_| EnvelopeError::field("rooms", "not an array of strings"))?;
            if items.is_empty() {
                return Err(EnvelopeError::field("rooms", "empty list"));
            }
            if items.len() > MAX_ROOMS {
                return Err(EnvelopeError::field("rooms", "more than 64 rooms"));
            }
            items.into_iter().map(room).collect()
        }
        (None, None) => Ok(Vec::new()),
    }
}

/// The event name: a non-empty, unreserved string of at most 256 bytes.
pub(super) fn event(msg: &Str, raw: Option<&RawValue>) -> Result<Str, EnvelopeError> {
    let raw = raw.ok_or(EnvelopeError::field("event", "missing"))?;
    let name = string(msg, raw, "event")?;
    check_name(&name, "event")?;
    match RESERVED_EVENTS.iter().find(|r| **r == &*name) {
        Some(reserved) => Err(EnvelopeError::ReservedEvent(reserved)),
        None => Ok(name),
    }
}

fn check_name(name: &str, field: &'static str) -> Result<(), EnvelopeError> {
    match name.len() {
        0 => Err(EnvelopeError::field(field, "empty name")),
        n if n > MAX_NAME_LEN => Err(EnvelopeError::field(field, "name over 256 bytes")),
        _ => Ok(()),
    }
}

/// `data` (one argument) or `args` (an array of arguments); none when absent.
pub(super) fn args(msg: &Str, env: &RawEnvelope<'_>) -> Result<Args, EnvelopeError> {
    match (env.data, env.args) {
        (Some(_), Some(_)) => Err(EnvelopeError::field("data", "data and args both given")),
        (Some(one), None) => Ok(Args::from_raw(vec![msg.slice_ref(one.get())])),
        (None, Some(list)) => {
            let items: Vec<&RawValue> = serde_json::from_str(list.get())
                .map_err(|_| EnvelopeError::field("args", "not an array"))?;
            Ok(Args::from_raw(
                items.iter().map(|raw| msg.slice_ref(raw.get())).collect(),
            ))
        }
        (None, None) => Ok(Args::empty()),
    }
}

/// The `connect` namespace: a string starting with `/`.
pub(super) fn ns(msg: &Str, raw: Option<&RawValue>) -> Result<Option<Str>, EnvelopeError> {
    let Some(raw) = raw else { return Ok(None) };
    let ns = string(msg, raw, "ns")?;
    if !ns.starts_with('/') {
        return Err(EnvelopeError::field("ns", "does not start with '/'"));
    }
    Ok(Some(ns))
}

/// The `connect` auth payload: a JSON object, kept raw.
pub(super) fn auth(msg: &Str, raw: Option<&RawValue>) -> Result<Option<Str>, EnvelopeError> {
    let Some(raw) = raw else { return Ok(None) };
    if !raw.get().starts_with('{') {
        return Err(EnvelopeError::field("auth", "not an object"));
    }
    Ok(Some(msg.slice_ref(raw.get())))
}

#[cfg(test)]
mod tests {
    use super::super::{parse_client, ClientMsg};
    use super::*;
    use bytes::Bytes;

    fn parse(s: &'static str) -> Result<ClientMsg, EnvelopeError> {
        parse_client(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn field_errors() {
        let field = |s| match parse(s) {
            Err(EnvelopeError::BadField { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(r#"{"type":"join"}"#), "rooms");
        assert_eq!(field(r#"{"type":"join","rooms":[]}"#), "rooms");
        assert_eq!(field(r#"{"type":"join","room":""}"#), "rooms");
        assert_eq!(
            field(r#"{"type":"join","room":"a","rooms":["b"]}"#),
            "rooms"
        );
        assert_eq!(field(r#"{"type":"join","rooms":["a",1]}"#), "rooms");
        assert_eq!(field(r#"{"type":"join","room":"a","id":-1}"#), "id");
        assert_eq!(field(r#"{"type":"join","room":"a","id":1.5}"#), "id");
        assert_eq!(
            field(r#"{"type":"join","room":"a","id":9007199254740992}"#),
            "id"
        );
        assert_eq!(field(r#"{"type":"emit"}"#), "event");
        assert_eq!(field(r#"{"type":"emit","event":""}"#), "event");
        assert_eq!(
            field(r#"{"type":"emit","event":"e","data":1,"args":[]}"#),
            "data"
        );
        assert_eq!(field(r#"{"type":"emit","event":"e","args":{}}"#), "args");
        assert_eq!(field(r#"{"type":"ack","data":1}"#), "id");
        assert_eq!(field(r#"{"type":"connect","ns":"chat"}"#), "ns");
        assert_eq!(field(r#"{"type":"connect","auth":"x"}"#), "auth");
    }

    #[test]
    fn limits() {
        let ok = format!(r#"{{"type":"emit","event":"{}"}}"#, "e".repeat(256));
        assert!(parse_client(Bytes::from(ok)).is_ok());
        let long = format!(r#"{{"type":"emit","event":"{}"}}"#, "e".repeat(257));
        assert_eq!(
            parse_client(Bytes::from(long)).unwrap_err().code(),
            "bad_field"
        );
        let rooms = |n: usize| {
            let list = vec!["\"r\""; n].join(",");
            parse_client(Bytes::from(format!(
                r#"{{"type":"join","rooms":[{list}]}}"#
            )))
        };
        assert!(rooms(64).is_ok());
        assert_eq!(rooms(65).unwrap_err().code(), "bad_field");
        // Raw values are skipped without recursion: deep nesting cannot
        // overflow the stack (typed access later hits serde_json's limit).
        let (open, close) = ("[".repeat(100_000), "]".repeat(100_000));
        for field in ["x", "data"] {
            let deep = format!(r#"{{"type":"emit","event":"e","{field}":{open}{close}}}"#);
            assert!(parse_client(Bytes::from(deep)).is_ok());
        }
    }
}
