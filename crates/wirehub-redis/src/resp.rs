//! The replies and messages a subscribed Redis connection reads, as a
//! sans-IO RESP2 decoder: bytes in, [`Frame`]s out, with an explicit "need
//! more bytes" and limits on sizes and nesting. Commands are packed by the
//! `redis` crate.

use bytes::{Buf, Bytes, BytesMut};

/// Largest bulk string accepted (a message payload).
const MAX_BULK: usize = 512 * 1024 * 1024;
/// Most elements of one array.
const MAX_ITEMS: usize = 1024;
/// Deepest nesting of arrays.
const MAX_DEPTH: usize = 4;

/// One RESP2 value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame {
    /// `+OK`.
    Simple(String),
    /// `-ERR ...`.
    Error(String),
    /// `:1`.
    Integer(i64),
    /// `$3\r\nabc` (`None`: the null bulk string).
    Bulk(Option<Bytes>),
    /// `*2\r\n...` (`None`: the null array).
    Array(Option<Vec<Frame>>),
}

/// Why the stream cannot be read any further.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum RespError {
    /// Not RESP2, or over a limit.
    #[error("malformed reply: {0}")]
    Malformed(&'static str),
}

impl Frame {
    /// The frame as text (simple or bulk string).
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Frame::Simple(s) => Some(s),
            Frame::Bulk(Some(b)) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}

/// Decodes the next frame of `buf`, consuming it; `Ok(None)` until a whole
/// frame is there.
pub(crate) fn decode(buf: &mut BytesMut) -> Result<Option<Frame>, RespError> {
    let mut at = 0;
    match parse(buf, &mut at, 0)? {
        Some(frame) => {
            buf.advance(at);
            Ok(Some(frame))
        }
        None => Ok(None),
    }
}

fn parse(buf: &BytesMut, at: &mut usize, depth: usize) -> Result<Option<Frame>, RespError> {
    let Some(line) = line(buf, *at + 1) else {
        return Ok(None);
    };
    let Some(&kind) = buf.get(*at) else {
        return Ok(None);
    };
    let text =
        std::str::from_utf8(&buf[*at + 1..line]).map_err(|_| RespError::Malformed("not UTF-8"))?;
    let after = line + 2;
    let frame = match kind {
        b'+' => Frame::Simple(text.to_owned()),
        b'-' => Frame::Error(text.to_owned()),
        b':' => Frame::Integer(text.parse().map_err(|_| RespError::Malformed("integer"))?),
        b'$' => {
            let len: i64 = text
                .parse()
                .map_err(|_| RespError::Malformed("bulk length"))?;
            if len < 0 {
                *at = after;
                return Ok(Some(Frame::Bulk(None)));
            }
            let len = usize::try_from(len).map_err(|_| RespError::Malformed("bulk length"))?;
            if len > MAX_BULK {
                return Err(RespError::Malformed("bulk string too large"));
            }
            if buf.len() < after + len + 2 {
                return Ok(None);
            }
            if &buf[after + len..after + len + 2] != b"\r\n" {
                return Err(RespError::Malformed("bulk terminator"));
            }
            *at = after + len + 2;
            return Ok(Some(Frame::Bulk(Some(Bytes::copy_from_slice(
                &buf[after..after + len],
            )))));
        }
        b'*' => {
            let len: i64 = text
                .parse()
                .map_err(|_| RespError::Malformed("array length"))?;
            if len < 0 {
                *at = after;
                return Ok(Some(Frame::Array(None)));
            }
            if len as u64 > MAX_ITEMS as u64 || depth >= MAX_DEPTH {
                return Err(RespError::Malformed("array too large or too deep"));
            }
            let mut cursor = after;
            let mut items = Vec::with_capacity(len as usize);
            for _ in 0..len {
                match parse(buf, &mut cursor, depth + 1)? {
                    Some(item) => items.push(item),
                    None => return Ok(None),
                }
            }
            *at = cursor;
            return Ok(Some(Frame::Array(Some(items))));
        }
        _ => return Err(RespError::Malformed("unknown type")),
    };
    *at = after;
    Ok(Some(frame))
}

/// The index of the `\r` ending the line that starts at `from`.
fn line(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let cr = rest.windows(2).position(|w| w == b"\r\n")?;
    Some(from + cr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Frame> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(f) = decode(&mut buf).unwrap() {
            out.push(f);
        }
        assert!(buf.is_empty(), "left over: {buf:?}");
        out
    }

    #[test]
    fn decodes_subscription_traffic() {
        let frames = all(
            b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*4\r\n$8\r\npmessage\r\n$3\r\nch*\r\n$3\r\nch1\r\n$3\r\n\x93\x00\x01\r\n+PONG\r\n",
        );
        assert_eq!(frames.len(), 3);
        let Frame::Array(Some(items)) = &frames[1] else {
            panic!()
        };
        assert_eq!(items[0].text(), Some("pmessage"));
        assert_eq!(
            items[3],
            Frame::Bulk(Some(Bytes::from_static(b"\x93\x00\x01")))
        );
        assert_eq!(frames[2], Frame::Simple("PONG".into()));
    }

    #[test]
    fn waits_for_whole_frames_at_any_split() {
        let whole = b"*3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n:42\r\n$-1\r\n";
        for split in 0..whole.len() {
            let mut buf = BytesMut::from(&whole[..split]);
            let mut out = Vec::new();
            while let Some(f) = decode(&mut buf).unwrap() {
                out.push(f);
            }
            buf.extend_from_slice(&whole[split..]);
            while let Some(f) = decode(&mut buf).unwrap() {
                out.push(f);
            }
            assert_eq!(out.len(), 3, "split at {split}");
            assert_eq!(out[1], Frame::Integer(42));
            assert_eq!(out[2], Frame::Bulk(None));
        }
    }

    #[test]
    fn refuses_garbage_and_excess() {
        for bad in [
            &b"?x\r\n"[..],
            b":abc\r\n",
            b"$3\r\nabcde\r\n",
            b"*99999999\r\n",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ] {
            assert!(decode(&mut BytesMut::from(bad)).is_err(), "{bad:?}");
        }
    }
}
