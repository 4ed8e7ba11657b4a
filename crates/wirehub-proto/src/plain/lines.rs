//! NDJSON framing: one envelope per line, for raw TCP, HTTP streaming and
//! `POST /send` bodies. [`LineDecoder`] splits a byte stream into lines
//! with a bounded buffer; [`frame_line`] adds the newline on the way out.

use bytes::{BufMut, Bytes, BytesMut};

/// The keep-alive line of HTTP streaming: an empty line, which NDJSON
/// readers skip.
pub const KEEPALIVE: &[u8] = b"\n";

/// Why the line decoder refused input. Exhaustive on purpose: length is
/// the only thing a line decoder checks (content is the envelope parser's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// A line is longer than `max` bytes. The decoder drops it up to its
    /// newline and goes on; a server usually answers `too_large` and closes.
    #[error("line longer than {max} bytes")]
    TooLong {
        /// The configured maximum.
        max: usize,
    },
}

/// Splits a byte stream into lines (without `\n` or `\r\n`), skipping
/// blank ones.
///
/// Memory stays bounded: call [`LineDecoder::next_line`] until it returns
/// `None` after each read, and the buffer never holds more than
/// `max_len + 1` bytes of a partial line plus that read.
#[derive(Debug)]
pub struct LineDecoder {
    buf: BytesMut,
    max_len: usize,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    /// Dropping the rest of a too-long line, up to its newline.
    skipping: bool,
}

impl LineDecoder {
    /// A decoder for lines of at most `max_len` bytes (terminator excluded).
    pub fn new(max_len: usize) -> Self {
        LineDecoder {
            buf: BytesMut::new(),
            max_len,
            scanned: 0,
            skipping: false,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.put_slice(data);
    }

    /// The buffer itself, for a reader to read straight into (e.g.
    /// `AsyncReadExt::read_buf`); only append to it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes buffered and not yet returned as lines.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete, non-blank line; `None` when more bytes are needed.
    pub fn next_line(&mut self) -> Option<Result<Bytes, LineError>> {
        loop {
            if self.skipping && !self.skip_rest() {
                return None;
            }
            let Some(pos) = self.find_newline() else {
                return self.check_partial();
            };
            let mut line = self.buf.split_to(pos + 1).freeze();
            self.scanned = 0;
            line.truncate(pos);
            if line.last() == Some(&b'\r') {
                line.truncate(pos - 1);
            }
            if line.len() > self.max_len {
                return Some(Err(LineError::TooLong { max: self.max_len }));
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some(Ok(line));
            }
        }
    }

    fn find_newline(&mut self) -> Option<usize> {
        let found = self.buf[self.scanned..].iter().position(|&b| b == b'\n');
        match found {
            Some(i) => Some(self.scanned + i),
            None => {
                self.scanned = self.buf.len();
                None
            }
        }
    }

    /// A partial line can exceed `max_len` by one byte: a `\r` awaiting `\n`.
    fn check_partial(&mut self) -> Option<Result<Bytes, LineError>> {
        if self.buf.len() <= self.max_len + 1 {
            return None;
        }
        self.buf.clear();
        self.scanned = 0;
        self.skipping = true;
        Some(Err(LineError::TooLong { max: self.max_len }))
    }

    /// Drops bytes up to and including the next newline; false if none yet.
    fn skip_rest(&mut self) -> bool {
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let _ = self.buf.split_to(i + 1);
                self.skipping = false;
                true
            }
            None => {
                self.buf.clear();
                false
            }
        }
    }
}

/// `json` followed by `\n`, ready to write to an NDJSON stream.
pub fn frame_line(json: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(json.len() + 1);
    out.put_slice(json);
    out.put_u8(b'\n');
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(d: &mut LineDecoder) -> Vec<Result<String, LineError>> {
        std::iter::from_fn(|| d.next_line())
            .map(|r| r.map(|l| String::from_utf8(l.to_vec()).unwrap()))
            .collect()
    }

    const INPUT: &[u8] = b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}\n";

    #[test]
    fn many_lines_in_one_feed() {
        let mut d = LineDecoder::new(64);
        d.feed(INPUT);
        let want = [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#].map(|s| Ok(s.to_owned()));
        assert_eq!(drain(&mut d), want);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn split_at_every_byte_boundary() {
        for cut in 0..=INPUT.len() {
            let mut d = LineDecoder::new(64);
            d.feed(&INPUT[..cut]);
            let mut got = drain(&mut d);
            d.feed(&INPUT[cut..]);
            got.extend(drain(&mut d));
            assert_eq!(got.len(), 3, "cut at {cut}");
            assert!(got
                .iter()
                .all(|l| l.as_ref().is_ok_and(|l| !l.ends_with('\r'))));
        }
    }

    #[test]
    fn byte_by_byte_stays_bounded() {
        let mut d = LineDecoder::new(4);
        let mut got = Vec::new();
        for b in b"abcd\r\nabcdefgh\nxy\n" {
            d.feed(&[*b]);
            got.extend(drain(&mut d));
            assert!(d.buffered() <= 6);
        }
        let too_long = Err(LineError::TooLong { max: 4 });
        assert_eq!(got, [Ok("abcd".into()), too_long, Ok("xy".into())]);
    }

    #[test]
    fn too_long_complete_line_in_one_feed() {
        let mut d = LineDecoder::new(3);
        d.buffer_mut().extend_from_slice(b"abcd\nabc\r\n");
        assert_eq!(
            drain(&mut d),
            [Err(LineError::TooLong { max: 3 }), Ok("abc".into())]
        );
    }

    #[test]
    fn frames_with_a_newline() {
        assert_eq!(&frame_line(b"{}")[..], b"{}\n");
    }
}
