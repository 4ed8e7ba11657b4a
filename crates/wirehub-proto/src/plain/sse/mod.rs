//! Server-Sent Events framing: encoders for the server, and [`SseParser`]
//! (in [`parser`]) for our own clients and tests.
//!
//! Naming convention: an `event` envelope goes out with its event name as
//! the SSE `event:` field, every other envelope with one of the `wirehub.*`
//! names below; `data:` is always the whole envelope JSON, and `id:` its
//! room-history offset when it has one.

pub mod parser;

pub use parser::{SseError, SseEvent, SseParser};

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt::Write as _;

/// SSE event name of the `hello` envelope.
pub const HELLO: &str = "wirehub.hello";
/// SSE event name of `ack` envelopes.
pub const ACK: &str = "wirehub.ack";
/// SSE event name of `error` envelopes.
pub const ERROR: &str = "wirehub.error";
/// SSE event name of `pong` envelopes.
pub const PONG: &str = "wirehub.pong";
/// SSE event name of the `disconnect` envelope.
pub const DISCONNECT: &str = "wirehub.disconnect";

/// One event: `event: NAME\nid: N\ndata: ...\n\n`.
///
/// `data` is split at its line breaks into several `data:` lines (the
/// parser joins them back with `\n`). An `event` name that is empty or
/// holds a line break is left out, so the client sees a `message`.
pub fn sse_event(event: Option<&str>, id: Option<u64>, data: &[u8]) -> Bytes {
    let name = event.filter(|e| !e.is_empty() && !e.contains(['\r', '\n']));
    let mut out = BytesMut::with_capacity(data.len() + name.map_or(0, str::len) + 40);
    if let Some(name) = name {
        put_field(&mut out, "event", name.as_bytes());
    }
    if let Some(id) = id {
        let _ = writeln!(Writer(&mut out), "id: {id}");
    }
    for line in split_lines(data) {
        put_field(&mut out, "data", line);
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// A comment (`: text\n\n`), which clients ignore: the heartbeat.
pub fn sse_comment(text: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(text.len() + 4);
    for line in split_lines(text.as_bytes()) {
        out.put_slice(b": ");
        out.put_slice(line);
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// The client's reconnection delay: `retry: MS\n\n`.
pub fn sse_retry(ms: u64) -> Bytes {
    Bytes::from(format!("retry: {ms}\n\n"))
}

fn put_field(out: &mut BytesMut, name: &str, value: &[u8]) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_u8(b'\n');
}

/// Splits at `\r\n`, `\r` or `\n`; empty input is one empty line.
fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let data = rest?;
        match data.iter().position(|&b| b == b'\n' || b == b'\r') {
            None => rest = None,
            Some(i) => {
                let skip = if data[i..].starts_with(b"\r\n") { 2 } else { 1 };
                rest = Some(&data[i + skip..]);
                return Some(&data[..i]);
            }
        }
        Some(data)
    })
}

struct Writer<'a>(&'a mut BytesMut);

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_events() {
        let e = sse_event(Some("chat"), Some(17), br#"{"type":"event"}"#);
        assert_eq!(
            &e[..],
            b"event: chat\nid: 17\ndata: {\"type\":\"event\"}\n\n"
        );
        let e = sse_event(Some("a\nb"), None, b"x\r\ny\nz\r");
        assert_eq!(&e[..], b"data: x\ndata: y\ndata: z\ndata: \n\n");
        assert_eq!(&sse_event(None, None, b"")[..], b"data: \n\n");
    }

    #[test]
    fn comments_and_retry() {
        assert_eq!(&sse_comment("hb")[..], b": hb\n\n");
        assert_eq!(&sse_comment("a\nb")[..], b": a\n: b\n\n");
        assert_eq!(&sse_retry(3000)[..], b"retry: 3000\n\n");
    }

    #[test]
    fn parser_reads_what_the_encoder_writes() {
        let mut p = SseParser::new(1024);
        p.feed(&sse_retry(10)).unwrap();
        p.feed(&sse_comment("hb")).unwrap();
        p.feed(&sse_event(Some(HELLO), Some(3), b"one\ntwo"))
            .unwrap();
        let retry = p.next_event().unwrap();
        assert_eq!((retry.retry, retry.data.as_str()), (Some(10), ""));
        let e = p.next_event().unwrap();
        assert_eq!((e.event.as_str(), e.id.as_deref()), (HELLO, Some("3")));
        assert_eq!(e.data, "one\ntwo");
        assert_eq!(p.next_event(), None);
    }
}
