//! [`JsonObject`]: writes one compact JSON object straight into a buffer,
//! so the hot encoders need no intermediate `serde_json::Value`.

use bytes::{BufMut, BytesMut};
use std::fmt::Write as _;

/// An object being written; keys are static ASCII names needing no escapes.
pub(super) struct JsonObject {
    buf: BytesMut,
}

impl JsonObject {
    /// Starts `{"type":"<ty>"` with room for about `capacity` bytes.
    pub(super) fn new(ty: &'static str, capacity: usize) -> Self {
        let mut buf = BytesMut::with_capacity(capacity + 16);
        buf.put_slice(b"{\"type\":\"");
        buf.put_slice(ty.as_bytes());
        buf.put_u8(b'"');
        JsonObject { buf }
    }

    fn key(&mut self, key: &'static str) {
        self.buf.put_slice(b",\"");
        self.buf.put_slice(key.as_bytes());
        self.buf.put_slice(b"\":");
    }

    /// `"key":"value"`, the value escaped by serde_json.
    pub(super) fn str(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.key(key);
        // Writing a `&str` into a `BytesMut` cannot fail.
        let _ = serde_json::to_writer((&mut self.buf).writer(), value);
        self
    }

    /// `"key":"value"` when `value` is present.
    pub(super) fn opt_str(&mut self, key: &'static str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    /// `"key":N`.
    pub(super) fn num(&mut self, key: &'static str, value: u64) -> &mut Self {
        self.key(key);
        let _ = write!(Writer(&mut self.buf), "{value}");
        self
    }

    /// `"key":N` when `value` is present.
    pub(super) fn opt_num(&mut self, key: &'static str, value: Option<u64>) -> &mut Self {
        match value {
            Some(v) => self.num(key, v),
            None => self,
        }
    }

    /// `"key":<json>` with `json` copied as is (it must be valid JSON).
    pub(super) fn raw(&mut self, key: &'static str, json: &[u8]) -> &mut Self {
        self.key(key);
        self.put_raw(json);
        self
    }

    /// `"key":[<json>,...]`.
    pub(super) fn raw_array<'a>(
        &mut self,
        key: &'static str,
        items: impl IntoIterator<Item = &'a [u8]>,
    ) -> &mut Self {
        self.key(key);
        self.buf.put_u8(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.buf.put_u8(b',');
            }
            self.put_raw(item);
        }
        self.buf.put_u8(b']');
        self
    }

    /// Copies raw JSON, turning CR and LF into spaces: outside strings they
    /// can only be whitespace, and an envelope must stay on one line.
    fn put_raw(&mut self, json: &[u8]) {
        let start = self.buf.len();
        self.buf.put_slice(json);
        for b in &mut self.buf[start..] {
            if *b == b'\n' || *b == b'\r' {
                *b = b' ';
            }
        }
    }

    /// Closes the object.
    pub(super) fn finish(&mut self) -> bytes::Bytes {
        self.buf.put_u8(b'}');
        std::mem::take(&mut self.buf).freeze()
    }
}

struct Writer<'a>(&'a mut BytesMut);

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}
