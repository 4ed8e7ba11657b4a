//! Engine.IO packets and the frames that carry them.
//!
//! A text packet is one ASCII digit (the type) followed by its data; a binary
//! message travels as a raw binary frame on WebSocket and as `b` + base64
//! inside a long-polling payload (see [`super::payload`]).

use crate::Str;
use bytes::{BufMut, Bytes, BytesMut};

/// A message's body: text or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (`4...`).
    Text(Str),
    /// A binary message (a binary WebSocket frame, or `b<base64>` in polling).
    Binary(Bytes),
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0{json}`: the handshake, server to client.
    Open(Str),
    /// `1`: close the session.
    Close,
    /// `2`: heartbeat ping.
    Ping,
    /// `3`: heartbeat pong.
    Pong,
    /// `2probe`: upgrade probe from the client on the new transport.
    PingProbe,
    /// `3probe`: the server's answer to [`Packet::PingProbe`].
    PongProbe,
    /// `4...` or binary: application data.
    Message(Message),
    /// `5`: the client completes the upgrade.
    Upgrade,
    /// `6`: no operation (used to end a pending long-polling GET).
    Noop,
}

/// A packet ready to go on the wire: the unit queued per connection.
///
/// Text frames hold the whole packet text (type digit included); binary frames
/// hold raw message bytes. Both are refcounted, so one encoded broadcast is
/// shared by every recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text packet, e.g. `2` or `42["event"]`.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

impl Frame {
    /// Number of payload bytes this frame carries.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(s) => s.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Whether the frame carries no bytes (never true for an encoded packet).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why bytes could not be decoded into a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty text packet.
    #[error("empty packet")]
    Empty,
    /// The first character is not a known packet type.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// The packet type does not carry data, yet data followed.
    #[error("unexpected data after packet type {0}")]
    UnexpectedData(char),
    /// A polling payload was not valid UTF-8.
    #[error("payload is not valid UTF-8")]
    InvalidUtf8,
    /// A `b`-prefixed polling packet held invalid base64.
    #[error("invalid base64 in binary packet")]
    InvalidBase64,
    /// A revision 3 payload record has a malformed length (or type byte),
    /// or is shorter than its length.
    #[error("malformed payload record length")]
    BadLength,
    /// The client sent a packet only a server may send (e.g. `open`).
    #[error("packet type {0} is not accepted from a client")]
    NotFromClient(char),
}

impl Packet {
    /// Shorthand for a text message packet.
    pub fn text(s: impl Into<Str>) -> Self {
        Packet::Message(Message::Text(s.into()))
    }

    /// Shorthand for a binary message packet.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Packet::Message(Message::Binary(b.into()))
    }

    /// Decodes one text packet (a WebSocket text frame or one polling record).
    pub fn decode_text(text: Str) -> Result<Packet, DecodeError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(DecodeError::Empty)?;
        let rest = &text[kind.len_utf8()..];
        let no_data = |p: Packet| {
            if rest.is_empty() {
                Ok(p)
            } else {
                Err(DecodeError::UnexpectedData(kind))
            }
        };
        match kind {
            '0' => Ok(Packet::Open(text.slice(1..text.len()))),
            '1' => no_data(Packet::Close),
            '2' if rest == "probe" => Ok(Packet::PingProbe),
            '3' if rest == "probe" => Ok(Packet::PongProbe),
            '2' => no_data(Packet::Ping),
            '3' => no_data(Packet::Pong),
            '4' => Ok(Packet::text(text.slice(1..text.len()))),
            '5' => no_data(Packet::Upgrade),
            '6' => no_data(Packet::Noop),
            other => Err(DecodeError::UnknownType(other)),
        }
    }

    /// Decodes a packet received from a client, refusing server-only types.
    pub fn decode_from_client(text: Str) -> Result<Packet, DecodeError> {
        match Packet::decode_text(text)? {
            Packet::Open(_) => Err(DecodeError::NotFromClient('0')),
            Packet::PongProbe => Err(DecodeError::NotFromClient('3')),
            p => Ok(p),
        }
    }

    /// Encodes the packet as a transport frame.
    pub fn to_frame(&self) -> Frame {
        let fixed = |s: &'static str| Frame::Text(Str::from_static(s));
        match self {
            Packet::Open(json) => Frame::Text(prefixed(b'0', json)),
            Packet::Close => fixed("1"),
            Packet::Ping => fixed("2"),
            Packet::Pong => fixed("3"),
            Packet::PingProbe => fixed("2probe"),
            Packet::PongProbe => fixed("3probe"),
            Packet::Message(Message::Text(t)) => Frame::Text(prefixed(b'4', t)),
            Packet::Message(Message::Binary(b)) => Frame::Binary(b.clone()),
            Packet::Upgrade => fixed("5"),
            Packet::Noop => fixed("6"),
        }
    }

    /// Decodes a transport frame (text or binary) received from a client.
    pub fn from_client_frame(frame: Frame) -> Result<Packet, DecodeError> {
        match frame {
            Frame::Text(t) => Packet::decode_from_client(t),
            Frame::Binary(b) => Ok(Packet::binary(b)),
        }
    }
}

/// `prefix` followed by `text`, in one fresh buffer.
fn prefixed(prefix: u8, text: &str) -> Str {
    let mut buf = BytesMut::with_capacity(text.len() + 1);
    buf.put_u8(prefix);
    buf.put_slice(text.as_bytes());
    Str::from_utf8(buf.freeze()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &'static str) -> Result<Packet, DecodeError> {
        Packet::decode_text(Str::from_static(s))
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(dec("0{}").unwrap(), Packet::Open(Str::from_static("{}")));
        assert_eq!(dec("1").unwrap(), Packet::Close);
        assert_eq!(dec("2").unwrap(), Packet::Ping);
        assert_eq!(dec("3").unwrap(), Packet::Pong);
        assert_eq!(dec("2probe").unwrap(), Packet::PingProbe);
        assert_eq!(dec("3probe").unwrap(), Packet::PongProbe);
        assert_eq!(dec("4hello").unwrap(), Packet::text("hello"));
        assert_eq!(dec("4").unwrap(), Packet::text(""));
        assert_eq!(dec("5").unwrap(), Packet::Upgrade);
        assert_eq!(dec("6").unwrap(), Packet::Noop);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(dec(""), Err(DecodeError::Empty));
        assert_eq!(dec("abc"), Err(DecodeError::UnknownType('a')));
        assert_eq!(dec("7"), Err(DecodeError::UnknownType('7')));
        assert_eq!(dec("é"), Err(DecodeError::UnknownType('é')));
        assert_eq!(dec("1x"), Err(DecodeError::UnexpectedData('1')));
        assert_eq!(dec("2prob"), Err(DecodeError::UnexpectedData('2')));
        assert_eq!(dec("5a"), Err(DecodeError::UnexpectedData('5')));
    }

    #[test]
    fn client_may_not_send_server_packets() {
        let open = Packet::decode_from_client(Str::from_static("0{}"));
        assert_eq!(open, Err(DecodeError::NotFromClient('0')));
        let probe = Packet::decode_from_client(Str::from_static("3probe"));
        assert_eq!(probe, Err(DecodeError::NotFromClient('3')));
    }

    #[test]
    fn frames_round_trip() {
        for p in [
            Packet::Close,
            Packet::Ping,
            Packet::Pong,
            Packet::PingProbe,
            Packet::text("héllo"),
            Packet::binary(vec![1u8, 2, 3]),
            Packet::Upgrade,
            Packet::Noop,
        ] {
            assert_eq!(Packet::from_client_frame(p.to_frame()).unwrap(), p);
        }
        assert_eq!(Packet::text("x").to_frame(), Frame::Text("4x".into()));
    }
}
