//! [`Framing`]: how one transport of a session puts packets on the wire,
//! chosen from the handshake's protocol revision (and, for revision 3
//! polling, whether the client asked for base64 binary with `b64`).

use super::handshake::ProtocolVersion;
use super::packet::{DecodeError, Frame, Packet};
use super::{payload, v3};
use bytes::Bytes;
use std::borrow::Cow;

pub use v3::Payload;

/// The wire format of one transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// Revision 4: `0x1e`-separated payloads, raw binary frames.
    #[default]
    V4,
    /// Revision 3; `binary`: the client takes binary polling payloads (its
    /// handshake had no `b64`).
    V3 {
        /// Binary may go as bytes rather than base64.
        binary: bool,
    },
}

impl Framing {
    /// The framing of a transport opened with `version`; `b64` as the
    /// transport's request query says.
    pub fn new(version: ProtocolVersion, b64: bool) -> Self {
        match version {
            ProtocolVersion::V4 => Framing::V4,
            ProtocolVersion::V3 => Framing::V3 { binary: !b64 },
        }
    }

    /// The protocol revision.
    pub fn version(self) -> ProtocolVersion {
        match self {
            Framing::V4 => ProtocolVersion::V4,
            Framing::V3 { .. } => ProtocolVersion::V3,
        }
    }

    /// Joins frames into a polling response body.
    pub fn encode_payload(self, frames: &[Frame]) -> Payload {
        match self {
            Framing::V4 => Payload {
                body: payload::encode(frames),
                binary: false,
            },
            Framing::V3 { binary } => v3::encode_payload(frames, binary),
        }
    }

    /// Splits a polling POST body into client packets; `binary`: it was
    /// sent as `application/octet-stream` (revision 3 only: revision 4
    /// bodies are always text).
    pub fn decode_payload(self, body: Bytes, binary: bool) -> Result<Vec<Packet>, DecodeError> {
        match self {
            Framing::V3 { .. } if binary => v3::decode_binary_payload(body),
            Framing::V3 { .. } => v3::decode_text_payload(body),
            Framing::V4 => payload::decode(body),
        }
    }

    /// A frame as it goes on this transport's WebSocket.
    pub fn ws_frame(self, frame: &Frame) -> Cow<'_, Frame> {
        match (self, frame) {
            (Framing::V3 { .. }, Frame::Binary(_)) => Cow::Owned(v3::ws_frame(frame)),
            _ => Cow::Borrowed(frame),
        }
    }

    /// Decodes a WebSocket frame from the client.
    pub fn from_client_ws_frame(self, frame: Frame) -> Result<Packet, DecodeError> {
        match self {
            Framing::V4 => Packet::from_client_frame(frame),
            Framing::V3 { .. } => v3::from_client_ws_frame(frame),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_revision_keeps_its_own_format() {
        let frames = [
            Packet::text("hi").to_frame(),
            Packet::binary(vec![1u8]).to_frame(),
        ];
        let v4 = Framing::new(ProtocolVersion::V4, false).encode_payload(&frames);
        assert_eq!(&v4.body[..], b"4hi\x1ebAQ==");
        let b64 = Framing::new(ProtocolVersion::V3, true);
        assert_eq!(b64, Framing::V3 { binary: false });
        assert_eq!(&b64.encode_payload(&frames).body[..], b"3:4hi6:b4AQ==");
        let xhr2 = Framing::new(ProtocolVersion::V3, false).encode_payload(&frames);
        assert!(xhr2.binary);
        let v3 = Framing::V3 { binary: true };
        let bin = Frame::Binary(Bytes::from_static(&[1]));
        assert_eq!(
            v3.ws_frame(&bin).into_owned(),
            Frame::Binary(Bytes::from_static(&[4, 1]))
        );
        assert_eq!(Framing::V4.ws_frame(&bin).into_owned(), bin);
        assert_eq!(
            Framing::V4
                .decode_payload(Bytes::from_static(b"4a"), true)
                .unwrap(),
            vec![Packet::text("a")]
        );
        assert_eq!(
            v3.decode_payload(Bytes::from_static(b"2:4a"), false)
                .unwrap(),
            vec![Packet::text("a")]
        );
    }
}
