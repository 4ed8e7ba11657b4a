//! Binary arguments: [`Binary`] serialises to a `{"_placeholder":true,"num":N}`
//! object while its bytes go out as attachment N, and deserialises back from
//! such a placeholder. The attachments travel beside serde through a
//! thread-local slot that [`collect`] and [`with_attachments`] set for the
//! duration of one (de)serialisation.

use bytes::Bytes;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;

thread_local! {
    static OUTGOING: RefCell<Option<Vec<Bytes>>> = const { RefCell::new(None) };
    static INCOMING: RefCell<Option<Vec<Bytes>>> = const { RefCell::new(None) };
}

/// A binary argument (or part of one), sent as a Socket.IO attachment.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Binary(pub Bytes);

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Binary({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Binary {
    fn from(v: Vec<u8>) -> Self {
        Binary(Bytes::from(v))
    }
}

impl From<Bytes> for Binary {
    fn from(b: Bytes) -> Self {
        Binary(b)
    }
}

impl From<&'static [u8]> for Binary {
    fn from(b: &'static [u8]) -> Self {
        Binary(Bytes::from_static(b))
    }
}

impl std::ops::Deref for Binary {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Runs a serialisation, returning its result and the attachments that
/// [`Binary`] values pushed while it ran.
pub(crate) fn collect<T, E>(f: impl FnOnce() -> Result<T, E>) -> Result<(T, Vec<Bytes>), E> {
    let previous = OUTGOING.with(|o| o.replace(Some(Vec::new())));
    let result = f();
    let attachments = OUTGOING.with(|o| o.replace(previous)).unwrap_or_default();
    result.map(|v| (v, attachments))
}

/// Runs a deserialisation during which placeholders resolve to `attachments`.
pub(crate) fn with_attachments<T>(attachments: &[Bytes], f: impl FnOnce() -> T) -> T {
    let previous = INCOMING.with(|i| i.replace(Some(attachments.to_vec())));
    let result = f();
    INCOMING.with(|i| i.replace(previous));
    result
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let num = OUTGOING.with(|o| {
            o.borrow_mut().as_mut().map(|list| {
                list.push(self.0.clone());
                list.len() - 1
            })
        });
        match num {
            Some(num) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("_placeholder", &true)?;
                map.serialize_entry("num", &num)?;
                map.end()
            }
            // Outside an emit (e.g. logging), fall back to a plain byte list.
            None => serializer.serialize_bytes(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BinaryVisitor)
    }
}

struct BinaryVisitor;

impl<'de> Visitor<'de> for BinaryVisitor {
    type Value = Binary;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a binary attachment placeholder or a byte array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Binary, A::Error> {
        let (mut placeholder, mut num) = (false, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "_placeholder" => placeholder = map.next_value()?,
                "num" => num = Some(map.next_value::<usize>()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let num = num
            .filter(|_| placeholder)
            .ok_or_else(|| de::Error::custom("expected {\"_placeholder\":true,\"num\":N}"))?;
        INCOMING
            .with(|i| i.borrow().as_ref().and_then(|list| list.get(num).cloned()))
            .map(Binary)
            .ok_or_else(|| de::Error::custom(format!("no attachment #{num}")))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Binary, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Binary::from(out))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Binary, E> {
        Ok(Binary(Bytes::copy_from_slice(v)))
    }
}

/// Checks that every placeholder in `json` names an existing attachment
/// (index below `count`), as the reference parser does.
pub(crate) fn placeholders_valid(json: &serde_json::Value, count: usize) -> bool {
    match json {
        serde_json::Value::Array(items) => items.iter().all(|v| placeholders_valid(v, count)),
        serde_json::Value::Object(map) => {
            if map.get("_placeholder") == Some(&serde_json::Value::Bool(true)) {
                return map
                    .get("num")
                    .and_then(serde_json::Value::as_u64)
                    .is_some_and(|n| (n as usize) < count);
            }
            map.values().all(|v| placeholders_valid(v, count))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_placeholder_inside_collect() {
        let (json, atts) =
            collect(|| serde_json::to_string(&vec![Binary::from(vec![9u8]); 2])).unwrap();
        assert_eq!(
            json,
            r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(atts.len(), 2);
        assert_eq!(
            serde_json::to_string(&Binary::from(vec![1u8])).unwrap(),
            "[1]"
        );
    }

    #[test]
    fn deserialise_needs_a_valid_index() {
        let atts = [Bytes::from_static(b"ab")];
        let ok: Binary = with_attachments(&atts, || {
            serde_json::from_str(r#"{"_placeholder":true,"num":0}"#)
        })
        .unwrap();
        assert_eq!(&ok[..], b"ab");
        let bad: Result<Binary, _> = with_attachments(&atts, || {
            serde_json::from_str(r#"{"_placeholder":true,"num":1}"#)
        });
        assert!(bad.is_err());
        let not: Result<Binary, _> = serde_json::from_str(r#"{"num":0}"#);
        assert!(not.is_err());
    }

    #[test]
    fn validates_placeholders() {
        let v = serde_json::json!([{"a": {"_placeholder": true, "num": 1}}]);
        assert!(placeholders_valid(&v, 2));
        assert!(!placeholders_valid(&v, 1));
        let neg = serde_json::json!({"_placeholder": true, "num": -1});
        assert!(!placeholders_valid(&neg, 5));
    }
}
