//! HTTP long-polling payloads: several packets in one body, separated by the
//! record separator `0x1e`; binary messages are written `b` + base64.

use super::packet::{DecodeError, Frame, Packet};
use crate::Str;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

/// The record separator between packets of one payload.
pub const SEPARATOR: u8 = 0x1e;

/// Joins frames into one long-polling response body.
pub fn encode<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Bytes {
    let mut out = BytesMut::new();
    for (i, frame) in frames.into_iter().enumerate() {
        if i > 0 {
            out.put_u8(SEPARATOR);
        }
        match frame {
            Frame::Text(t) => out.put_slice(t.as_bytes()),
            Frame::Binary(b) => {
                out.put_u8(b'b');
                let start = out.len();
                out.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
                let written = BASE64.encode_slice(b, &mut out[start..]).unwrap_or(0);
                out.truncate(start + written);
            }
        }
    }
    out.freeze()
}

/// Splits a long-polling request body into client packets.
///
/// Fails on the first malformed record; the caller closes the session.
pub fn decode(body: Bytes) -> Result<Vec<Packet>, DecodeError> {
    let text = Str::from_utf8(body).map_err(|_| DecodeError::InvalidUtf8)?;
    let mut packets = Vec::new();
    for record in text.split('\u{1e}') {
        if let Some(b64) = record.strip_prefix('b') {
            let data = BASE64.decode(b64).map_err(|_| DecodeError::InvalidBase64)?;
            packets.push(Packet::binary(data));
        } else {
            packets.push(Packet::decode_from_client(text.slice_ref(record))?);
        }
    }
    Ok(packets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_text_and_binary() {
        let frames = [
            Packet::text("hello").to_frame(),
            Packet::binary(vec![1u8, 2, 3, 4]).to_frame(),
        ];
        assert_eq!(&encode(&frames)[..], b"4hello\x1ebAQIDBA==");
        assert_eq!(&encode(&[Packet::Noop.to_frame()])[..], b"6");
        assert!(encode(&[]).is_empty());
    }

    #[test]
    fn decodes_mixed_payload() {
        let got = decode(Bytes::from_static(b"4hello\x1ebAQIDBA==\x1e3")).unwrap();
        assert_eq!(
            got,
            vec![
                Packet::text("hello"),
                Packet::binary(vec![1u8, 2, 3, 4]),
                Packet::Pong
            ]
        );
    }

    #[test]
    fn rejects_bad_records() {
        assert_eq!(
            decode(Bytes::from_static(b"abc")),
            Err(DecodeError::UnknownType('a'))
        );
        assert_eq!(
            decode(Bytes::from_static(b"4ok\x1e")),
            Err(DecodeError::Empty)
        );
        assert_eq!(
            decode(Bytes::from_static(b"b!!!")),
            Err(DecodeError::InvalidBase64)
        );
        assert_eq!(
            decode(Bytes::from_static(b"4\xff")),
            Err(DecodeError::InvalidUtf8)
        );
        assert_eq!(decode(Bytes::new()), Err(DecodeError::Empty));
    }

    proptest! {
        #[test]
        fn round_trips(msgs in proptest::collection::vec(
            prop_oneof![
                "[^\u{1e}]{0,40}".prop_map(Packet::text),
                proptest::collection::vec(any::<u8>(), 0..40).prop_map(Packet::binary),
            ], 1..8)) {
            let frames: Vec<Frame> = msgs.iter().map(Packet::to_frame).collect();
            prop_assert_eq!(decode(encode(&frames)).unwrap(), msgs);
        }

        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(Bytes::from(body));
        }
    }
}
