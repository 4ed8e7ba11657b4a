//! Event and acknowledgement arguments.
//!
//! Arguments stay raw JSON slices of the received packet (no copy, no
//! re-serialisation when they are passed on) plus the binary attachments
//! their placeholders point to. Typed access goes through serde.

use super::binary;
use crate::Str;
use bytes::{BufMut, Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

/// The arguments of an event or an ack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    items: Vec<Str>,
    attachments: Vec<Bytes>,
}

impl Args {
    /// No arguments.
    pub fn empty() -> Self {
        Args::default()
    }

    /// Arguments from raw JSON texts (each must be valid JSON).
    pub fn from_raw(items: Vec<Str>) -> Self {
        Args {
            items,
            attachments: Vec::new(),
        }
    }

    /// Arguments from raw JSON texts and the attachments their placeholders name.
    pub fn from_parts(items: Vec<Str>, attachments: Vec<Bytes>) -> Self {
        Args { items, attachments }
    }

    /// One argument: `value` serialised, [`super::Binary`] values becoming attachments.
    pub fn one<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        let (json, attachments) = binary::collect(|| serde_json::to_vec(value))?;
        let item = Str::from_utf8(Bytes::from(json)).map_err(serde::ser::Error::custom)?;
        Ok(Args {
            items: vec![item],
            attachments,
        })
    }

    /// Several arguments: `values` must serialise to a JSON array (a tuple, a
    /// `Vec`, an array) whose elements become the arguments; `()` gives none.
    pub fn many<T: Serialize + ?Sized>(values: &T) -> Result<Self, serde_json::Error> {
        let (json, attachments) = binary::collect(|| serde_json::to_vec(values))?;
        let json = Str::from_utf8(Bytes::from(json)).map_err(serde::ser::Error::custom)?;
        if &*json == "null" {
            return Ok(Args::empty());
        }
        let parts: Vec<&RawValue> = serde_json::from_str(&json)?;
        let items = parts.iter().map(|raw| json.slice_ref(raw.get())).collect();
        Ok(Args { items, attachments })
    }

    /// The raw JSON text of each argument.
    pub fn raw(&self) -> &[Str] {
        &self.items
    }

    /// The binary attachments.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Removes and returns the first argument's raw JSON.
    pub fn shift(&mut self) -> Option<Str> {
        (!self.items.is_empty()).then(|| self.items.remove(0))
    }

    /// The total length of the arguments' JSON.
    pub fn json_len(&self) -> usize {
        self.items.iter().map(|i| i.len() + 1).sum::<usize>() + 1
    }

    /// Writes the arguments as one JSON array.
    pub fn write_array(&self, buf: &mut BytesMut) {
        buf.put_u8(b'[');
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                buf.put_u8(b',');
            }
            buf.put_slice(item.as_bytes());
        }
        buf.put_u8(b']');
    }

    /// All arguments as one sequence: a tuple, a `Vec`, or any type that
    /// deserialises from a JSON array. Placeholders resolve to attachments.
    pub fn to_seq<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let mut buf = BytesMut::with_capacity(self.json_len());
        self.write_array(&mut buf);
        binary::with_attachments(&self.attachments, || serde_json::from_slice(&buf))
    }

    /// Argument `index` as `T`; a missing argument deserialises from `null`
    /// (so `Option<T>` accepts it).
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, serde_json::Error> {
        let raw = self.items.get(index).map_or("null", |s| s.as_str());
        binary::with_attachments(&self.attachments, || serde_json::from_str(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::Binary;

    #[test]
    fn one_and_many() {
        let a = Args::one(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(a.raw(), &[Str::from(r#"{"a":1}"#)]);
        let m = Args::many(&(1, "two", [3])).unwrap();
        assert_eq!(m.raw().len(), 3);
        assert_eq!(&*m.raw()[1], r#""two""#);
        assert!(Args::many(&()).unwrap().is_empty());
        assert!(Args::many(&1).is_err(), "a scalar is not an argument list");
    }

    #[test]
    fn typed_access() {
        let m = Args::many(&(1, "two")).unwrap();
        let (a, b): (u8, String) = m.to_seq().unwrap();
        assert_eq!((a, b.as_str()), (1, "two"));
        assert_eq!(m.get::<u8>(0).unwrap(), 1);
        assert_eq!(m.get::<Option<u8>>(5).unwrap(), None);
        assert!(m.get::<u8>(1).is_err());
    }

    #[test]
    fn binary_round_trip_nested() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct File {
            name: String,
            data: Binary,
        }
        let f = File {
            name: "x".into(),
            data: Binary::from(vec![1u8, 2]),
        };
        let args = Args::many(&(1, &f)).unwrap();
        assert_eq!(args.attachments().len(), 1);
        assert_eq!(
            &*args.raw()[1],
            r#"{"name":"x","data":{"_placeholder":true,"num":0}}"#
        );
        let (_, back): (u8, File) = args.to_seq().unwrap();
        assert_eq!(back, f);
    }
}
