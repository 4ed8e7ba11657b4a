//! Engine.IO revision 3 wire formats (engine.io-parser 2.x, spoken by
//! socket.io-client 2.x):
//!
//! - text polling payloads: `<length>:<packet>` records, the length in
//!   UTF-16 code units (JavaScript's `string.length`), a binary message
//!   written `b4` + base64;
//! - binary polling payloads (XHR2): per packet `0x00` (text) or `0x01`
//!   (binary), the length's decimal digits as bytes `0..=9`, `0xFF`, then
//!   the packet: text as UTF-8, binary as the type byte `4` and the data;
//! - WebSocket binary frames: the type byte `4`, then the data.

use super::packet::{DecodeError, Frame, Packet};
use crate::Str;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

/// The type of a message packet, as a byte in binary encodings.
const MESSAGE: u8 = 4;
/// Ends the length digits of a binary payload record.
const LENGTH_END: u8 = 0xff;
/// Most length digits of a binary payload record (engine.io-parser's bound).
const MAX_DIGITS: usize = 310;

/// A polling response body and how it is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The body.
    pub body: Bytes,
    /// Whether it is a binary payload (`application/octet-stream`).
    pub binary: bool,
}

/// Joins frames into a revision 3 polling body: a binary payload when the
/// client takes binary (`binary_ok`, no `b64` in its handshake) and a frame
/// is binary, else a text payload.
pub fn encode_payload(frames: &[Frame], binary_ok: bool) -> Payload {
    if binary_ok && frames.iter().any(|f| matches!(f, Frame::Binary(_))) {
        return Payload {
            body: encode_binary_payload(frames),
            binary: true,
        };
    }
    let mut out = BytesMut::new();
    for frame in frames {
        match frame {
            Frame::Text(t) => {
                let units = t.encode_utf16().count();
                out.put_slice(format!("{units}:").as_bytes());
                out.put_slice(t.as_bytes());
            }
            Frame::Binary(b) => {
                let encoded = BASE64.encode(b);
                out.put_slice(format!("{}:b4", encoded.len() + 2).as_bytes());
                out.put_slice(encoded.as_bytes());
            }
        }
    }
    Payload {
        body: out.freeze(),
        binary: false,
    }
}

fn encode_binary_payload(frames: &[Frame]) -> Bytes {
    let mut out = BytesMut::new();
    for frame in frames {
        let (kind, len, prefix, data): (u8, usize, &[u8], &[u8]) = match frame {
            Frame::Text(t) => (0, t.len(), &[], t.as_bytes()),
            Frame::Binary(b) => (1, b.len() + 1, &[MESSAGE], b),
        };
        out.put_u8(kind);
        out.extend(len.to_string().bytes().map(|d| d - b'0'));
        out.put_u8(LENGTH_END);
        out.put_slice(prefix);
        out.put_slice(data);
    }
    out.freeze()
}

/// Splits a text polling body (`<length>:<packet>...`) into client packets.
pub fn decode_text_payload(body: Bytes) -> Result<Vec<Packet>, DecodeError> {
    let text = Str::from_utf8(body).map_err(|_| DecodeError::InvalidUtf8)?;
    if text.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut packets = Vec::new();
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let (digits, after) = rest.split_once(':').ok_or(DecodeError::BadLength)?;
        let units: usize = parse_length(digits.as_bytes().iter().map(|&b| b.wrapping_sub(b'0')))?;
        let end = utf16_prefix(after, units).ok_or(DecodeError::BadLength)?;
        let (record, tail) = after.split_at(end);
        if !record.is_empty() {
            packets.push(decode_text_record(text.slice_ref(record))?);
        }
        rest = tail;
    }
    Ok(packets)
}

/// One text record: a packet, or `b4` + base64 for a binary message.
fn decode_text_record(record: Str) -> Result<Packet, DecodeError> {
    match record.strip_prefix('b') {
        Some(b64) => {
            let b64 = b64.strip_prefix('4').ok_or(DecodeError::BadLength)?;
            let data = BASE64.decode(b64).map_err(|_| DecodeError::InvalidBase64)?;
            Ok(Packet::binary(data))
        }
        None => Packet::decode_from_client(record),
    }
}

/// Splits a binary polling body (XHR2) into client packets.
pub fn decode_binary_payload(body: Bytes) -> Result<Vec<Packet>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut packets = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let is_text = match body[at] {
            0 => true,
            1 => false,
            _ => return Err(DecodeError::BadLength),
        };
        let digits_end = body[at + 1..]
            .iter()
            .take(MAX_DIGITS + 1)
            .position(|&b| b == LENGTH_END)
            .ok_or(DecodeError::BadLength)?
            + at
            + 1;
        let len = parse_length(body[at + 1..digits_end].iter().copied())?;
        let start = digits_end + 1;
        let end = start.checked_add(len).ok_or(DecodeError::BadLength)?;
        if end > body.len() {
            return Err(DecodeError::BadLength);
        }
        let record = body.slice(start..end);
        packets.push(if is_text {
            let text = Str::from_utf8(record).map_err(|_| DecodeError::InvalidUtf8)?;
            Packet::decode_from_client(text)?
        } else {
            binary_message(record)?
        });
        at = end;
    }
    Ok(packets)
}

/// Encodes a frame for a revision 3 WebSocket: a binary message gets its
/// type byte; text is unchanged.
pub fn ws_frame(frame: &Frame) -> Frame {
    match frame {
        Frame::Text(t) => Frame::Text(t.clone()),
        Frame::Binary(b) => {
            let mut out = BytesMut::with_capacity(b.len() + 1);
            out.put_u8(MESSAGE);
            out.put_slice(b);
            Frame::Binary(out.freeze())
        }
    }
}

/// Decodes a frame a revision 3 client sent on a WebSocket.
pub fn from_client_ws_frame(frame: Frame) -> Result<Packet, DecodeError> {
    match frame {
        Frame::Text(t) => decode_text_record(t),
        Frame::Binary(b) => binary_message(b),
    }
}

/// A binary packet: the type byte (only a message is accepted), then data.
fn binary_message(record: Bytes) -> Result<Packet, DecodeError> {
    match record.first() {
        Some(&MESSAGE) => Ok(Packet::binary(record.slice(1..))),
        Some(&other) => Err(DecodeError::UnknownType(char::from(
            b'0'.wrapping_add(other),
        ))),
        None => Err(DecodeError::Empty),
    }
}

/// A length from its decimal digits (values `0..=9`); at least one digit.
fn parse_length(digits: impl Iterator<Item = u8>) -> Result<usize, DecodeError> {
    let mut len: usize = 0;
    let mut any = false;
    for d in digits {
        if d > 9 {
            return Err(DecodeError::BadLength);
        }
        any = true;
        len = len
            .checked_mul(10)
            .and_then(|l| l.checked_add(usize::from(d)))
            .ok_or(DecodeError::BadLength)?;
    }
    if any {
        Ok(len)
    } else {
        Err(DecodeError::BadLength)
    }
}

/// The byte length of the first `units` UTF-16 code units of `s`, if `s`
/// has that many and they do not end inside a surrogate pair.
fn utf16_prefix(s: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (i, c) in s.char_indices() {
        if counted == units {
            return Some(i);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(frames: &[Frame]) -> Bytes {
        let p = encode_payload(frames, false);
        assert!(!p.binary);
        p.body
    }

    #[test]
    fn text_lengths_count_utf16_units() {
        let frames = [
            Packet::text("hé").to_frame(),
            Packet::text("😀").to_frame(),
            Packet::Pong.to_frame(),
        ];
        // "4hé" is 3 units (4 bytes); "4😀" is 3 units (a surrogate pair, 5 bytes).
        assert_eq!(&text(&frames)[..], "3:4hé3:4😀1:3".as_bytes());
        assert_eq!(
            decode_text_payload(text(&frames)).unwrap(),
            vec![Packet::text("hé"), Packet::text("😀"), Packet::Pong]
        );
    }

    #[test]
    fn binary_goes_base64_in_text_payloads() {
        let frames = [
            Packet::binary(vec![1u8, 2, 3, 4]).to_frame(),
            Packet::text("x").to_frame(),
        ];
        assert_eq!(&text(&frames)[..], b"10:b4AQIDBA==2:4x");
        assert_eq!(
            decode_text_payload(Bytes::from_static(b"10:b4AQIDBA==1:2")).unwrap(),
            vec![Packet::binary(vec![1u8, 2, 3, 4]), Packet::Ping]
        );
    }

    #[test]
    fn binary_payload_framing() {
        let frames = [
            Packet::text("hé").to_frame(),
            Packet::binary(vec![9u8; 12]).to_frame(),
        ];
        let p = encode_payload(&frames, true);
        assert!(p.binary);
        let mut want = vec![0u8, 4, 0xff];
        want.extend_from_slice("4hé".as_bytes());
        want.extend_from_slice(&[1, 1, 3, 0xff, 4]);
        want.extend_from_slice(&[9; 12]);
        assert_eq!(&p.body[..], &want[..]);
        assert_eq!(
            decode_binary_payload(p.body).unwrap(),
            vec![Packet::text("hé"), Packet::binary(vec![9u8; 12])]
        );
        // Text only: a text payload even when binary is allowed.
        let only_text = encode_payload(&[Packet::Noop.to_frame()], true);
        assert_eq!(
            only_text,
            Payload {
                body: Bytes::from_static(b"1:6"),
                binary: false
            }
        );
    }

    #[test]
    fn websocket_binary_frames_carry_the_type_byte() {
        let frame = ws_frame(&Packet::binary(vec![7u8, 8]).to_frame());
        assert_eq!(frame, Frame::Binary(Bytes::from_static(&[4, 7, 8])));
        assert_eq!(
            from_client_ws_frame(frame).unwrap(),
            Packet::binary(vec![7u8, 8])
        );
        assert_eq!(ws_frame(&Packet::Ping.to_frame()), Packet::Ping.to_frame());
        assert_eq!(
            from_client_ws_frame(Frame::Text("b4AQI=".into())).unwrap(),
            Packet::binary(vec![1u8, 2])
        );
        assert_eq!(
            from_client_ws_frame(Frame::Binary(Bytes::from_static(&[2, 1]))),
            Err(DecodeError::UnknownType('2'))
        );
        assert_eq!(
            from_client_ws_frame(Frame::Binary(Bytes::new())),
            Err(DecodeError::Empty)
        );
    }

    #[test]
    fn rejects_malformed_payloads() {
        let bad = |b: &'static [u8]| decode_text_payload(Bytes::from_static(b));
        assert_eq!(bad(b""), Err(DecodeError::Empty));
        assert_eq!(bad(b"4hello"), Err(DecodeError::BadLength));
        assert_eq!(bad(b":4"), Err(DecodeError::BadLength));
        assert_eq!(bad(b"5:4hi"), Err(DecodeError::BadLength));
        assert_eq!(bad(b"x:4"), Err(DecodeError::BadLength));
        assert_eq!(bad(b"2:4h1"), Err(DecodeError::BadLength));
        assert_eq!(bad(b"1:\xf0\x9f\x98\x80"), Err(DecodeError::BadLength));
        assert_eq!(bad(b"2:9x"), Err(DecodeError::UnknownType('9')));
        let bin = |b: &'static [u8]| decode_binary_payload(Bytes::from_static(b));
        assert_eq!(bin(b""), Err(DecodeError::Empty));
        assert_eq!(bin(&[2, 1, 0xff, b'2']), Err(DecodeError::BadLength));
        assert_eq!(bin(&[0, 5, 0xff, b'2']), Err(DecodeError::BadLength));
        assert_eq!(bin(&[0, 1]), Err(DecodeError::BadLength));
        assert_eq!(bin(&[0, 0xff]), Err(DecodeError::BadLength));
        assert_eq!(bin(&[0, 12, 0xff]), Err(DecodeError::BadLength));
        assert_eq!(bin(&[1, 1, 0xff, 3]), Err(DecodeError::UnknownType('3')));
        // An empty text record is skipped, as engine.io-parser does.
        assert_eq!(bad(b"0:1:2").unwrap(), vec![Packet::Ping]);
    }

    proptest! {
        #[test]
        fn round_trips(binary_ok: bool, msgs in proptest::collection::vec(
            prop_oneof![
                "\\PC{1,20}".prop_map(Packet::text),
                proptest::collection::vec(any::<u8>(), 0..40).prop_map(Packet::binary),
            ], 1..8)) {
            let frames: Vec<Frame> = msgs.iter().map(Packet::to_frame).collect();
            let p = encode_payload(&frames, binary_ok);
            let got = if p.binary {
                decode_binary_payload(p.body)
            } else {
                decode_text_payload(p.body)
            };
            prop_assert_eq!(got.unwrap(), msgs);
        }

        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_text_payload(Bytes::from(body.clone()));
            let _ = decode_binary_payload(Bytes::from(body));
        }
    }
}
