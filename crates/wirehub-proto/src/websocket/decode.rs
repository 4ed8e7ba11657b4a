//! Decoding client frames (RFC 6455, section 5) into messages and control
//! events, enforcing what a server must: masked frames, no reserved bits or
//! opcodes, short unfragmented control frames, continuations only inside a
//! fragmented message, UTF-8 text (checked fragment by fragment, so bad text
//! fails at once), valid close codes, and a message size limit checked from
//! the frame header, before the payload is buffered.
//!
//! With permessage-deflate negotiated ([`Decoder::with_deflate`]), RSV1 is
//! legal on the first frame of a data message and marks it compressed: the
//! whole message is inflated (up to the same size limit) once its last
//! frame is in, and its text checked then.

use super::deflate::{inflate, InflateError};
use super::{close_code, opcode};
use crate::Str;
use bytes::{Buf, Bytes, BytesMut};

/// What a run of client frames amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole text message.
    Text(Str),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping; answer with a pong carrying the same payload.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// The peer started (or answered) the close handshake.
    Close(Option<CloseFrame>),
}

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close code.
    pub code: u16,
    /// The reason (UTF-8, at most 123 bytes).
    pub reason: String,
}

/// A frame the server must fail the connection for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A broken rule of RFC 6455; close with 1002.
    #[error("websocket protocol error: {0}")]
    Protocol(&'static str),
    /// Text (or a close reason) that is not UTF-8; close with 1007.
    #[error("websocket text is not UTF-8")]
    NotUtf8,
    /// A message over the size limit; close with 1009.
    #[error("websocket message over {0} bytes")]
    TooBig(usize),
    /// A close frame with a bad payload (one byte, a code no peer may send,
    /// a reason that is not UTF-8): the peer has closed; answer its close
    /// with this code (1002 or 1007).
    #[error("websocket close frame refused (answered with {0})")]
    BadClose(u16),
}

impl FrameError {
    /// The close code to send for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            FrameError::Protocol(_) => close_code::PROTOCOL,
            FrameError::NotUtf8 => close_code::INVALID,
            FrameError::TooBig(_) => close_code::TOO_BIG,
            FrameError::BadClose(code) => *code,
        }
    }
}

/// A fragmented message being put together.
#[derive(Debug)]
struct Partial {
    text: bool,
    /// Compressed (RSV1): UTF-8 is checked after inflating.
    compressed: bool,
    data: BytesMut,
    /// How much of `data` is known to be UTF-8 (text only).
    valid: usize,
}

/// The decoder's state between calls: only a fragmented message in
/// progress, boxed, so an idle connection's decoder is two words.
#[derive(Debug)]
pub struct Decoder {
    /// The size limit (a `u32`, so the flag beside it keeps the decoder at
    /// two words).
    max_message: u32,
    /// permessage-deflate was negotiated: RSV1 marks compressed messages.
    deflate: bool,
    partial: Option<Box<Partial>>,
}

/// A parsed frame header.
struct Head {
    fin: bool,
    opcode: u8,
    /// RSV1 on the first frame of a message, with deflate negotiated.
    compressed: bool,
    mask: [u8; 4],
    /// Header length, mask included.
    len: usize,
    payload: usize,
}

impl Decoder {
    /// A decoder failing messages over `max_message` bytes (at most
    /// `u32::MAX`), refusing every reserved bit.
    pub fn new(max_message: usize) -> Self {
        Decoder {
            max_message: u32::try_from(max_message).unwrap_or(u32::MAX),
            deflate: false,
            partial: None,
        }
    }

    /// A decoder for a connection that negotiated permessage-deflate:
    /// compressed messages are inflated, and fail with
    /// [`FrameError::TooBig`] once inflated past `max_message` bytes.
    pub fn with_deflate(max_message: usize) -> Self {
        Decoder {
            deflate: true,
            ..Decoder::new(max_message)
        }
    }

    fn max(&self) -> usize {
        self.max_message as usize
    }

    /// Takes whole frames off the front of `buf` until one completes an
    /// event; `Ok(None)` when `buf` holds no whole frame (append more bytes
    /// and call again). After an error the connection must be failed.
    ///
    /// When a frame's header has arrived but not its payload, `buf` is
    /// reserved to the frame's size.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, FrameError> {
        loop {
            let Some(head) = self.head(buf)? else {
                return Ok(None);
            };
            let total = head.len + head.payload;
            if buf.len() < total {
                buf.reserve(total - buf.len());
                return Ok(None);
            }
            buf.advance(head.len);
            let mut payload = buf.split_to(head.payload);
            unmask(&mut payload, head.mask);
            if let Some(event) = self.frame(&head, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// Parses and checks the header at the front of `buf`, if whole.
    fn head(&self, buf: &[u8]) -> Result<Option<Head>, FrameError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        let compressed =
            b0 & 0x70 == 0x40 && self.deflate && matches!(opcode, opcode::TEXT | opcode::BINARY);
        if b0 & 0x70 != 0 && !compressed {
            return Err(FrameError::Protocol("reserved bits set"));
        }
        if b1 & 0x80 == 0 {
            return Err(FrameError::Protocol("unmasked client frame"));
        }
        let (extra, short) = match b1 & 0x7f {
            126 => (2, None),
            127 => (8, None),
            n => (0, Some(usize::from(n))),
        };
        let len = 2 + extra + 4;
        if buf.len() < len {
            return Ok(None);
        }
        let payload = match short {
            Some(n) => n as u64,
            None if extra == 2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            None => {
                let mut be = [0; 8];
                be.copy_from_slice(&buf[2..10]);
                u64::from_be_bytes(be)
            }
        };
        if payload >> 63 != 0 {
            return Err(FrameError::Protocol("frame length over 2^63"));
        }
        if opcode & 0x8 != 0 {
            if !matches!(opcode, opcode::CLOSE | opcode::PING | opcode::PONG) {
                return Err(FrameError::Protocol("unknown control opcode"));
            }
            if !fin || payload > 125 {
                // A bad close frame still closes.
                if opcode == opcode::CLOSE {
                    return Err(FrameError::BadClose(close_code::PROTOCOL));
                }
                let why = if fin {
                    "control frame over 125 bytes"
                } else {
                    "fragmented control frame"
                };
                return Err(FrameError::Protocol(why));
            }
        } else {
            match (opcode, &self.partial) {
                (opcode::CONTINUATION, None) => {
                    return Err(FrameError::Protocol("continuation outside a message"))
                }
                (opcode::TEXT | opcode::BINARY, Some(_)) => {
                    return Err(FrameError::Protocol("new message inside a fragmented one"))
                }
                (opcode::CONTINUATION | opcode::TEXT | opcode::BINARY, _) => {}
                _ => return Err(FrameError::Protocol("unknown data opcode")),
            }
            let so_far = self.partial.as_ref().map_or(0, |p| p.data.len()) as u64;
            if so_far + payload > u64::from(self.max_message) {
                return Err(FrameError::TooBig(self.max()));
            }
        }
        let mut mask = [0; 4];
        mask.copy_from_slice(&buf[len - 4..len]);
        Ok(Some(Head {
            fin,
            opcode,
            compressed,
            mask,
            len,
            // At most `max_message` (data) or 125 (control): fits a usize.
            payload: payload as usize,
        }))
    }

    /// Handles one whole, unmasked frame.
    fn frame(&mut self, head: &Head, payload: BytesMut) -> Result<Option<Event>, FrameError> {
        let (fin, op) = (head.fin, head.opcode);
        match op {
            opcode::PING => Ok(Some(Event::Ping(payload.freeze()))),
            opcode::PONG => Ok(Some(Event::Pong)),
            opcode::CLOSE => close(&payload).map(|c| Some(Event::Close(c))),
            opcode::TEXT | opcode::BINARY if fin => self
                .message(op == opcode::TEXT, head.compressed, payload.freeze())
                .map(Some),
            opcode::TEXT | opcode::BINARY => {
                let mut partial = Box::new(Partial {
                    text: op == opcode::TEXT,
                    compressed: head.compressed,
                    data: payload,
                    valid: 0,
                });
                partial.check_utf8()?;
                self.partial = Some(partial);
                Ok(None)
            }
            _ => {
                let Some(partial) = self.partial.as_mut() else {
                    return Err(FrameError::Protocol("continuation outside a message"));
                };
                partial.data.extend_from_slice(&payload);
                partial.check_utf8()?;
                if !fin {
                    return Ok(None);
                }
                let Some(done) = self.partial.take() else {
                    return Ok(None);
                };
                self.message(done.text, done.compressed, done.data.freeze())
                    .map(Some)
            }
        }
    }

    /// A whole message's event, inflated first if compressed.
    fn message(&self, text: bool, compressed: bool, data: Bytes) -> Result<Event, FrameError> {
        let data = if compressed {
            match inflate(&data, self.max()) {
                Ok(inflated) => Bytes::from(inflated),
                Err(InflateError::TooBig) => return Err(FrameError::TooBig(self.max())),
                Err(InflateError::Corrupt) => {
                    return Err(FrameError::Protocol("bad compressed data"))
                }
            }
        } else {
            data
        };
        message(text, data)
    }
}

impl Partial {
    /// Checks the text received so far; an incomplete character at the end
    /// may still be completed by the next fragment.
    fn check_utf8(&mut self) -> Result<(), FrameError> {
        if !self.text || self.compressed {
            return Ok(());
        }
        match std::str::from_utf8(&self.data[self.valid..]) {
            Ok(_) => self.valid = self.data.len(),
            Err(e) if e.error_len().is_none() => self.valid += e.valid_up_to(),
            Err(_) => return Err(FrameError::NotUtf8),
        }
        Ok(())
    }
}

fn message(text: bool, data: Bytes) -> Result<Event, FrameError> {
    if text {
        Str::from_utf8(data)
            .map(Event::Text)
            .map_err(|_| FrameError::NotUtf8)
    } else {
        Ok(Event::Binary(data))
    }
}

/// A close frame's payload: empty, or a valid code and a UTF-8 reason.
fn close(payload: &[u8]) -> Result<Option<CloseFrame>, FrameError> {
    match payload {
        [] => Ok(None),
        [_] => Err(FrameError::BadClose(close_code::PROTOCOL)),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !close_code::is_sendable(code) {
                return Err(FrameError::BadClose(close_code::PROTOCOL));
            }
            let reason = std::str::from_utf8(reason)
                .map_err(|_| FrameError::BadClose(close_code::INVALID))?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

/// XORs `data` with the frame's mask, eight bytes at a time.
fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A masked client frame.
    fn frame(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(u8::from(fin) << 7) | op];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        out
    }

    fn decode_all(bytes: &[u8], max: usize) -> Result<Vec<Event>, FrameError> {
        let mut d = Decoder::new(max);
        let mut buf = BytesMut::from(bytes);
        let mut events = Vec::new();
        while let Some(e) = d.decode(&mut buf)? {
            events.push(e);
        }
        Ok(events)
    }

    #[test]
    fn the_rfc_examples() {
        // Section 5.7: a masked "Hello", and "Hel" + "lo" fragmented.
        let hello = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(
            decode_all(&hello, 100),
            Ok(vec![Event::Text(Str::from("Hello"))])
        );
        let mut fragmented = frame(false, opcode::TEXT, b"Hel");
        fragmented.extend(frame(true, opcode::CONTINUATION, b"lo"));
        assert_eq!(
            decode_all(&fragmented, 100),
            Ok(vec![Event::Text(Str::from("Hello"))])
        );
    }

    #[test]
    fn every_length_encoding_and_any_split_point() {
        for len in [0, 1, 125, 126, 1000, 65_535, 65_536, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let bytes = frame(true, opcode::BINARY, &payload);
            let mut d = Decoder::new(1 << 20);
            let mut buf = BytesMut::new();
            let mut got = None;
            for piece in bytes.chunks(997) {
                assert!(got.is_none());
                buf.extend_from_slice(piece);
                got = d.decode(&mut buf).unwrap();
            }
            assert_eq!(got, Some(Event::Binary(Bytes::from(payload))), "len {len}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn control_frames_between_fragments() {
        let mut bytes = frame(false, opcode::BINARY, b"ab");
        bytes.extend(frame(true, opcode::PING, b"p"));
        bytes.extend(frame(false, opcode::CONTINUATION, b"cd"));
        bytes.extend(frame(true, opcode::PONG, b""));
        bytes.extend(frame(true, opcode::CONTINUATION, b"e"));
        assert_eq!(
            decode_all(&bytes, 100),
            Ok(vec![
                Event::Ping(Bytes::from_static(b"p")),
                Event::Pong,
                Event::Binary(Bytes::from_static(b"abcde")),
            ])
        );
    }

    #[test]
    fn close_frames() {
        assert_eq!(
            decode_all(&frame(true, opcode::CLOSE, b""), 10),
            Ok(vec![Event::Close(None)])
        );
        assert_eq!(
            decode_all(&frame(true, opcode::CLOSE, b"\x03\xe8bye"), 10),
            Ok(vec![Event::Close(Some(CloseFrame {
                code: 1000,
                reason: "bye".into()
            }))])
        );
        for bad in [&b"\x03"[..], b"\x03\xed", b"\x00\x00", b"\x13\x88"] {
            assert_eq!(
                decode_all(&frame(true, opcode::CLOSE, bad), 10),
                Err(FrameError::BadClose(close_code::PROTOCOL))
            );
        }
        assert_eq!(
            decode_all(&frame(true, opcode::CLOSE, b"\x03\xe8\xff"), 10),
            Err(FrameError::BadClose(close_code::INVALID))
        );
        let too_long = [&b"\x03\xe8"[..], &[b'a'; 124]].concat();
        assert_eq!(
            decode_all(&frame(true, opcode::CLOSE, &too_long), 10),
            Err(FrameError::BadClose(close_code::PROTOCOL))
        );
    }

    #[test]
    fn protocol_errors() {
        let unmasked = [0x81, 0x01, b'a'];
        let reserved = {
            let mut f = frame(true, opcode::TEXT, b"a");
            f[0] |= 0x40;
            f
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (unmasked.to_vec(), "unmasked client frame"),
            (reserved, "reserved bits set"),
            (frame(true, 0x3, b""), "unknown data opcode"),
            (frame(true, 0xb, b""), "unknown control opcode"),
            (frame(false, opcode::PING, b""), "fragmented control frame"),
            (
                frame(true, opcode::PING, &[0; 126]),
                "control frame over 125 bytes",
            ),
            (
                frame(true, opcode::CONTINUATION, b"x"),
                "continuation outside a message",
            ),
            (
                [
                    frame(false, opcode::TEXT, b"a"),
                    frame(true, opcode::TEXT, b"b"),
                ]
                .concat(),
                "new message inside a fragmented one",
            ),
        ];
        for (bytes, why) in cases {
            assert_eq!(decode_all(&bytes, 100), Err(FrameError::Protocol(why)));
        }
        assert_eq!(FrameError::Protocol("x").close_code(), close_code::PROTOCOL);
    }

    #[test]
    fn bad_text_fails_at_the_first_bad_fragment() {
        // "κόσμε" split inside a character, then a bad byte in a fragment
        // before the last one.
        let text = "κόσμε".as_bytes();
        let mut ok = frame(false, opcode::TEXT, &text[..3]);
        ok.extend(frame(true, opcode::CONTINUATION, &text[3..]));
        assert_eq!(
            decode_all(&ok, 100),
            Ok(vec![Event::Text(Str::from("κόσμε"))])
        );
        let mut d = Decoder::new(100);
        let mut buf = BytesMut::from(&frame(false, opcode::TEXT, b"a\xff")[..]);
        assert_eq!(d.decode(&mut buf), Err(FrameError::NotUtf8));
        assert_eq!(
            decode_all(&frame(true, opcode::TEXT, b"\xce"), 100),
            Err(FrameError::NotUtf8)
        );
        assert_eq!(FrameError::NotUtf8.close_code(), close_code::INVALID);
    }

    #[test]
    fn size_limit_is_checked_from_the_header() {
        // Only the header of a 1 MiB frame: refused before its payload.
        let big = frame(true, opcode::BINARY, &vec![0; 1 << 20]);
        assert_eq!(decode_all(&big[..14], 1000), Err(FrameError::TooBig(1000)));
        // Fragments that add up past the limit.
        let mut parts = frame(false, opcode::BINARY, &[0; 600]);
        parts.extend(frame(true, opcode::CONTINUATION, &[0; 600]));
        assert_eq!(decode_all(&parts, 1000), Err(FrameError::TooBig(1000)));
        assert_eq!(decode_all(&parts, 1200).map(|e| e.len()), Ok(1));
    }

    /// A masked client frame with RSV1 set (a compressed message's first).
    fn compressed_frame(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = frame(fin, op, payload);
        f[0] |= 0x40;
        f
    }

    fn chat(len: usize) -> String {
        "{\"user\":\"ada\",\"text\":\"hello, world\"}"
            .chars()
            .cycle()
            .take(len)
            .collect()
    }

    #[test]
    fn compressed_messages_whole_and_fragmented() {
        let text = chat(5000);
        let packed = crate::websocket::deflate::compress(text.as_bytes()).unwrap();
        let whole = compressed_frame(true, opcode::TEXT, &packed);
        let mut d = Decoder::with_deflate(10_000);
        let mut buf = BytesMut::from(&whole[..]);
        assert_eq!(
            d.decode(&mut buf),
            Ok(Some(Event::Text(Str::from(text.clone()))))
        );
        // Fragments: RSV1 on the first only, a ping between them, a plain
        // message after on the same decoder.
        let (a, b) = packed.split_at(packed.len() / 3);
        let mut wire = compressed_frame(false, opcode::BINARY, a);
        wire.extend(frame(true, opcode::PING, b""));
        wire.extend(frame(true, opcode::CONTINUATION, b));
        wire.extend(frame(true, opcode::TEXT, b"plain"));
        let mut buf = BytesMut::from(&wire[..]);
        let mut got = Vec::new();
        while let Some(e) = d.decode(&mut buf).unwrap() {
            got.push(e);
        }
        assert_eq!(
            got,
            vec![
                Event::Ping(Bytes::new()),
                Event::Binary(Bytes::from(text.into_bytes())),
                Event::Text(Str::from("plain")),
            ]
        );
    }

    #[test]
    fn rsv1_only_where_deflate_allows_it() {
        let packed = crate::websocket::deflate::compress(chat(500).as_bytes()).unwrap();
        let first = compressed_frame(true, opcode::TEXT, &packed);
        let reserved = Err(FrameError::Protocol("reserved bits set"));
        // Not negotiated: refused as before.
        assert_eq!(decode_all(&first, 1000), reserved);
        let mut d = Decoder::with_deflate(1000);
        let mut buf = BytesMut::from(&first[..]);
        assert!(d.decode(&mut buf).unwrap().is_some());
        // Never on a continuation or a control frame, never RSV2/RSV3.
        let mut on_continuation = frame(false, opcode::TEXT, b"a");
        on_continuation.extend(compressed_frame(true, opcode::CONTINUATION, b"b"));
        let mut rsv2 = frame(true, opcode::TEXT, b"a");
        rsv2[0] |= 0x20;
        for bad in [
            on_continuation,
            compressed_frame(true, opcode::PING, b""),
            rsv2,
        ] {
            let mut d = Decoder::with_deflate(1000);
            let mut buf = BytesMut::from(&bad[..]);
            let got = loop {
                match d.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    other => break other,
                }
            };
            assert_eq!(got, Err(FrameError::Protocol("reserved bits set")));
        }
    }

    #[test]
    fn compressed_bombs_and_bad_text() {
        // 10 MB of zeros in about 10 KB: refused at the 1 MB limit.
        let bomb = crate::websocket::deflate::compress(&vec![0; 10_000_000]).unwrap();
        let mut d = Decoder::with_deflate(1_000_000);
        let mut buf = BytesMut::from(&compressed_frame(true, opcode::BINARY, &bomb)[..]);
        assert_eq!(d.decode(&mut buf), Err(FrameError::TooBig(1_000_000)));
        // Text is checked once inflated.
        let bad = crate::websocket::deflate::compress(&[b'a', 0xff].repeat(100)).unwrap();
        let mut d = Decoder::with_deflate(1000);
        let mut buf = BytesMut::from(&compressed_frame(true, opcode::TEXT, &bad)[..]);
        assert_eq!(d.decode(&mut buf), Err(FrameError::NotUtf8));
        let mut d = Decoder::with_deflate(1000);
        let mut buf = BytesMut::from(&compressed_frame(true, opcode::TEXT, &[0xff; 8])[..]);
        assert_eq!(
            d.decode(&mut buf),
            Err(FrameError::Protocol("bad compressed data"))
        );
    }

    #[test]
    fn unmask_matches_bytewise_xor() {
        for len in 0..40 {
            let mut data: Vec<u8> = (0..len as u8).collect();
            let want: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ MASK[i % 4])
                .collect();
            unmask(&mut data, MASK);
            assert_eq!(data, want);
        }
    }

    #[test]
    fn an_idle_decoder_is_small() {
        assert!(std::mem::size_of::<Decoder>() <= 16);
    }

    /// Messages as (text?, payload, fragment sizes).
    fn messages() -> impl Strategy<Value = Vec<(bool, Vec<u8>, Vec<usize>)>> {
        proptest::collection::vec(
            (
                any::<bool>(),
                proptest::collection::vec(any::<u8>(), 0..300),
                proptest::collection::vec(1usize..100, 0..4),
            ),
            1..6,
        )
    }

    proptest! {
        /// Any messages, fragmented anyhow, with pings between fragments and
        /// the bytes arriving in pieces of any size, come out whole.
        #[test]
        fn fragmented_messages_in_any_pieces(msgs in messages(), piece in 1usize..64) {
            let mut wire = Vec::new();
            let mut want = Vec::new();
            for (text, payload, cuts) in msgs {
                let payload = if text {
                    String::from_utf8_lossy(&payload).into_owned().into_bytes()
                } else {
                    payload
                };
                let mut rest = &payload[..];
                let mut op = if text { opcode::TEXT } else { opcode::BINARY };
                for cut in cuts {
                    let (head, tail) = rest.split_at(cut.min(rest.len()));
                    wire.extend(frame(false, op, head));
                    wire.extend(frame(true, opcode::PING, b"p"));
                    want.push(Event::Ping(Bytes::from_static(b"p")));
                    op = opcode::CONTINUATION;
                    rest = tail;
                }
                wire.extend(frame(true, op, rest));
                want.push(if text {
                    Event::Text(Str::from(String::from_utf8(payload).unwrap()))
                } else {
                    Event::Binary(Bytes::from(payload))
                });
            }
            let mut d = Decoder::new(1 << 16);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(piece) {
                buf.extend_from_slice(chunk);
                while let Some(e) = d.decode(&mut buf).unwrap() {
                    got.push(e);
                }
            }
            prop_assert_eq!(got, want);
            prop_assert!(buf.is_empty());
        }

        /// Arbitrary bytes never panic the decoder; it either waits for
        /// more, yields events, or refuses.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut d = Decoder::new(256);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = d.decode(&mut buf) {}
        }
    }
}
