//! The Socket.IO packet model and its encoder.
//!
//! Wire format: `<type>[<attachments>-][<namespace>,][<ack id>][<json>]`,
//! carried in an Engine.IO message (so every encoded text starts with `4`).

use super::args::Args;
use crate::engineio::Frame;
use crate::Str;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt::Write as _;

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: connect to a namespace (client) / connected (server).
    Connect = 0,
    /// `1`: leave a namespace.
    Disconnect = 1,
    /// `2`: an event.
    Event = 2,
    /// `3`: an acknowledgement.
    Ack = 3,
    /// `4`: the server refused a namespace connection.
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck = 6,
}

impl PacketType {
    /// Parses a type digit.
    pub fn from_digit(c: u8) -> Option<Self> {
        Some(match c {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }
}

/// What a packet carries.
#[derive(Debug, Clone, PartialEq)]
pub enum PacketKind {
    /// Connect: the client's auth object, or the server's `{"sid":...}`.
    Connect(Option<Str>),
    /// Leave the namespace.
    Disconnect,
    /// An event, with an ack id when the sender wants an answer.
    Event {
        /// The event name.
        name: Str,
        /// The arguments after the name.
        args: Args,
        /// The ack id, if an answer is requested.
        id: Option<u64>,
    },
    /// The answer to an event.
    Ack {
        /// The ack id being answered.
        id: u64,
        /// The answer's arguments.
        args: Args,
    },
    /// Connection refused: a JSON object `{"message":...,"data":...}` or string.
    ConnectError(Str),
}

/// One Socket.IO packet: a namespace and what it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The namespace, `/` for the main one.
    pub ns: Str,
    /// The payload.
    pub kind: PacketKind,
}

/// An encoded packet: one text frame, then its binary attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The Engine.IO text message, `4` prefix included.
    pub text: Str,
    /// Binary attachments, each sent as its own binary message.
    pub attachments: Vec<Bytes>,
}

impl Encoded {
    /// The transport frames, in order.
    pub fn frames(&self) -> impl Iterator<Item = Frame> + '_ {
        std::iter::once(Frame::Text(self.text.clone()))
            .chain(self.attachments.iter().cloned().map(Frame::Binary))
    }
}

impl Packet {
    /// A connect answer carrying the socket id (and, with connection-state
    /// recovery, the private session id).
    pub fn connect_ok(ns: Str, sid: &str, pid: Option<&str>) -> Self {
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        let body = match pid {
            Some(pid) => format!(r#"{{"sid":{},"pid":{}}}"#, quote(sid), quote(pid)),
            None => format!(r#"{{"sid":{}}}"#, quote(sid)),
        };
        Packet {
            ns,
            kind: PacketKind::Connect(Some(body.into())),
        }
    }

    /// A connect error with a message and optional extra data.
    pub fn connect_error(ns: Str, message: &str, data: Option<serde_json::Value>) -> Self {
        let mut body = serde_json::json!({ "message": message });
        if let Some(data) = data {
            body["data"] = data;
        }
        Packet {
            ns,
            kind: PacketKind::ConnectError(body.to_string().into()),
        }
    }

    /// A connect answer as Socket.IO protocol v4 (socket.io-client 2.x)
    /// has it: no payload (`0`, `0/ns,`).
    pub fn connect_ok_legacy(ns: Str) -> Self {
        Packet {
            ns,
            kind: PacketKind::Connect(None),
        }
    }

    /// A connect error as Socket.IO protocol v4 has it: the data if any,
    /// else the message, as a bare JSON value (`4"not allowed"`).
    pub fn connect_error_legacy(ns: Str, message: &str, data: Option<serde_json::Value>) -> Self {
        let body = data.unwrap_or_else(|| serde_json::Value::from(message));
        Packet {
            ns,
            kind: PacketKind::ConnectError(body.to_string().into()),
        }
    }

    /// A disconnect from `ns`.
    pub fn disconnect(ns: Str) -> Self {
        Packet {
            ns,
            kind: PacketKind::Disconnect,
        }
    }

    /// An event.
    pub fn event(ns: Str, name: Str, args: Args, id: Option<u64>) -> Self {
        Packet {
            ns,
            kind: PacketKind::Event { name, args, id },
        }
    }

    /// An acknowledgement.
    pub fn ack(ns: Str, id: u64, args: Args) -> Self {
        Packet {
            ns,
            kind: PacketKind::Ack { id, args },
        }
    }

    /// Encodes the packet into an Engine.IO message and its attachments.
    pub fn encode(&self) -> Encoded {
        let mut buf = BytesMut::with_capacity(self.size_hint());
        buf.put_u8(b'4');
        let attachments = match &self.kind {
            PacketKind::Event { args, .. } | PacketKind::Ack { args, .. } => args.attachments(),
            _ => &[],
        };
        let binary = !attachments.is_empty();
        let ty = match (&self.kind, binary) {
            (PacketKind::Connect(_), _) => PacketType::Connect,
            (PacketKind::Disconnect, _) => PacketType::Disconnect,
            (PacketKind::Event { .. }, false) => PacketType::Event,
            (PacketKind::Event { .. }, true) => PacketType::BinaryEvent,
            (PacketKind::Ack { .. }, false) => PacketType::Ack,
            (PacketKind::Ack { .. }, true) => PacketType::BinaryAck,
            (PacketKind::ConnectError(_), _) => PacketType::ConnectError,
        };
        buf.put_u8(b'0' + ty as u8);
        if binary {
            put_display(&mut buf, attachments.len());
            buf.put_u8(b'-');
        }
        if &*self.ns != "/" {
            buf.put_slice(self.ns.as_bytes());
            buf.put_u8(b',');
        }
        match &self.kind {
            PacketKind::Connect(body) => {
                if let Some(body) = body {
                    buf.put_slice(body.as_bytes());
                }
            }
            PacketKind::Disconnect => {}
            PacketKind::Event { name, args, id } => {
                if let Some(id) = id {
                    put_display(&mut buf, id);
                }
                buf.put_u8(b'[');
                put_json_string(&mut buf, name);
                for arg in args.raw() {
                    buf.put_u8(b',');
                    buf.put_slice(arg.as_bytes());
                }
                buf.put_u8(b']');
            }
            PacketKind::Ack { id, args } => {
                put_display(&mut buf, id);
                args.write_array(&mut buf);
            }
            PacketKind::ConnectError(body) => buf.put_slice(body.as_bytes()),
        }
        Encoded {
            text: Str::from_utf8(buf.freeze()).unwrap_or_default(),
            attachments: attachments.to_vec(),
        }
    }

    fn size_hint(&self) -> usize {
        let body = match &self.kind {
            PacketKind::Connect(b) => b.as_ref().map_or(0, |b| b.len()),
            PacketKind::ConnectError(b) => b.len(),
            PacketKind::Disconnect => 0,
            PacketKind::Event { name, args, .. } => name.len() + args.json_len() + 24,
            PacketKind::Ack { args, .. } => args.json_len() + 24,
        };
        body + self.ns.len() + 8
    }
}

fn put_display(buf: &mut BytesMut, n: impl std::fmt::Display) {
    let _ = write!(BufWriter(buf), "{n}");
}

/// Writes `s` as a JSON string literal.
fn put_json_string(buf: &mut BytesMut, s: &str) {
    let _ = serde_json::to_writer(buf.writer(), s);
}

struct BufWriter<'a>(&'a mut BytesMut);

impl std::fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: Packet) -> String {
        p.encode().text.to_string()
    }

    #[test]
    fn legacy_connect_packets() {
        assert_eq!(&*Packet::connect_ok_legacy("/".into()).encode().text, "40");
        assert_eq!(
            &*Packet::connect_ok_legacy("/c".into()).encode().text,
            "40/c,"
        );
        let refused = Packet::connect_error_legacy("/".into(), "no", None);
        assert_eq!(&*refused.encode().text, r#"44"no""#);
        let with_data =
            Packet::connect_error_legacy("/c".into(), "no", Some(serde_json::json!({"x": 1})));
        assert_eq!(&*with_data.encode().text, r#"44/c,{"x":1}"#);
    }

    #[test]
    fn encodes_connect_and_errors() {
        assert_eq!(
            text(Packet::connect_ok("/".into(), "abc", None)),
            r#"40{"sid":"abc"}"#
        );
        assert_eq!(
            text(Packet::connect_ok("/custom".into(), "abc", None)),
            r#"40/custom,{"sid":"abc"}"#
        );
        assert_eq!(
            text(Packet::connect_ok("/".into(), "abc", Some("p1"))),
            r#"40{"sid":"abc","pid":"p1"}"#
        );
        assert_eq!(
            text(Packet::connect_error(
                "/random".into(),
                "Invalid namespace",
                None
            )),
            r#"44/random,{"message":"Invalid namespace"}"#
        );
        assert_eq!(
            text(Packet::connect_error(
                "/".into(),
                "nope",
                Some(serde_json::json!({"why": 1}))
            )),
            r#"44{"data":{"why":1},"message":"nope"}"#
        );
        assert_eq!(text(Packet::disconnect("/x".into())), "41/x,");
    }

    #[test]
    fn encodes_events_and_acks() {
        let args = Args::from_raw(vec!["1".into(), r#""2""#.into()]);
        assert_eq!(
            text(Packet::event(
                "/".into(),
                "m\"x".into(),
                args.clone(),
                Some(12)
            )),
            r#"4212["m\"x",1,"2"]"#
        );
        assert_eq!(text(Packet::ack("/a".into(), 7, args)), r#"43/a,7[1,"2"]"#);
        assert_eq!(text(Packet::ack("/".into(), 1, Args::empty())), "431[]");
    }

    #[test]
    fn encodes_binary_with_attachment_count() {
        let args = Args::from_parts(
            vec![r#"{"_placeholder":true,"num":0}"#.into()],
            vec![Bytes::from_static(&[1, 2, 3])],
        );
        let enc = Packet::event("/".into(), "b".into(), args, None).encode();
        assert_eq!(&*enc.text, r#"451-["b",{"_placeholder":true,"num":0}]"#);
        assert_eq!(enc.frames().count(), 2);
    }
}
