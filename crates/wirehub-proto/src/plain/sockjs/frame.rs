//! SockJS frames (protocol 0.3), server → client: `o` (open), `h`
//! (heartbeat), `a[...]` (messages, a JSON array of strings) and
//! `c[code,"reason"]` (close), and how each receiving transport wraps them
//! on the wire.

use bytes::{BufMut, Bytes, BytesMut};

/// The open frame.
pub const OPEN: &[u8] = b"o";
/// The heartbeat frame.
pub const HEARTBEAT: &[u8] = b"h";
/// `xhr_streaming` starts with 2048 `h` and a newline, so that browsers
/// which buffer the first bytes of a response pass the frames on at once.
pub const XHR_STREAMING_PRELUDE_LEN: usize = 2048;

/// Why a session was closed, as a close frame says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseCode {
    /// The code (`3000`, `2010`, ...).
    pub code: u16,
    /// The reason, a short ASCII phrase.
    pub reason: &'static str,
}

impl CloseCode {
    /// The server ended the session (`c[3000,"Go away!"]`).
    pub const GO_AWAY: CloseCode = CloseCode {
        code: 3000,
        reason: "Go away!",
    };
    /// A second receiving request while one is open (`c[2010,...]`).
    pub const ANOTHER_CONNECTION: CloseCode = CloseCode {
        code: 2010,
        reason: "Another connection still open",
    };
    /// The session was interrupted: its receiving request went away
    /// mid-response (`c[1002,...]`).
    pub const INTERRUPTED: CloseCode = CloseCode {
        code: 1002,
        reason: "Connection interrupted",
    };
}

/// A close frame: `c[3000,"Go away!"]`.
pub fn close_frame(close: CloseCode) -> Bytes {
    let mut buf = BytesMut::with_capacity(close.reason.len() + 12);
    buf.put_slice(b"c[");
    buf.put_slice(close.code.to_string().as_bytes());
    buf.put_u8(b',');
    quote_into(close.reason, &mut buf);
    buf.put_u8(b']');
    buf.freeze()
}

/// A message frame carrying `messages`, each already quoted by [`quote`]
/// (so a broadcast is quoted once for every SockJS recipient).
pub fn messages_frame<'a>(messages: impl IntoIterator<Item = &'a [u8]>) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_slice(b"a[");
    for (i, m) in messages.into_iter().enumerate() {
        if i > 0 {
            buf.put_u8(b',');
        }
        buf.put_slice(m);
    }
    buf.put_u8(b']');
    buf.freeze()
}

/// `text` as a JSON string, escaped as SockJS servers must: besides `"`,
/// `\` and the control characters, the characters some browsers drop or
/// mangle in a response (U+200C–U+200F, U+2028–U+202F, U+2060–U+206F,
/// U+FFF0–U+FFFF) are written as `\uXXXX`.
pub fn quote(text: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(text.len() + 2);
    quote_into(text, &mut buf);
    buf.freeze()
}

fn quote_into(text: &str, buf: &mut BytesMut) {
    buf.put_u8(b'"');
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let escape: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            c if must_escape(c) => None,
            _ => continue,
        };
        buf.put_slice(&text.as_bytes()[start..i]);
        match escape {
            Some(e) => buf.put_slice(e),
            None => buf.put_slice(format!("\\u{:04x}", c as u32).as_bytes()),
        }
        start = i + c.len_utf8();
    }
    buf.put_slice(&text.as_bytes()[start..]);
    buf.put_u8(b'"');
}

/// The characters a SockJS server writes as `\uXXXX`.
fn must_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{200c}'..='\u{200f}'
        | '\u{2028}'..='\u{202f}'
        | '\u{2060}'..='\u{206f}'
        | '\u{fff0}'..='\u{ffff}')
}

/// How a receiving transport puts frames on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    /// `xhr`: one frame per response, newline-terminated.
    XhrPolling,
    /// `xhr_streaming`: a prelude, then newline-terminated frames until the
    /// response byte limit.
    XhrStreaming,
    /// `eventsource`: each frame is one `data:` event.
    EventSource,
    /// `websocket`: each frame is one text message, for the whole session.
    WebSocket,
}

impl Receiver {
    /// Whether the response ends after one frame.
    pub fn is_polling(self) -> bool {
        self == Receiver::XhrPolling
    }

    /// What the response starts with, before any frame.
    pub fn prelude(self) -> Bytes {
        match self {
            Receiver::XhrStreaming => {
                let mut buf = BytesMut::with_capacity(XHR_STREAMING_PRELUDE_LEN + 1);
                buf.put_bytes(b'h', XHR_STREAMING_PRELUDE_LEN);
                buf.put_u8(b'\n');
                buf.freeze()
            }
            Receiver::EventSource => Bytes::from_static(b"\r\n"),
            Receiver::XhrPolling | Receiver::WebSocket => Bytes::new(),
        }
    }

    /// One frame as this transport writes it.
    pub fn wrap(self, frame: &[u8]) -> Bytes {
        let mut buf = BytesMut::with_capacity(frame.len() + 10);
        match self {
            Receiver::XhrPolling | Receiver::XhrStreaming => {
                buf.put_slice(frame);
                buf.put_u8(b'\n');
            }
            Receiver::EventSource => {
                buf.put_slice(b"data: ");
                buf.put_slice(frame);
                buf.put_slice(b"\r\n\r\n");
            }
            Receiver::WebSocket => buf.put_slice(frame),
        }
        buf.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(
            &close_frame(CloseCode::GO_AWAY)[..],
            b"c[3000,\"Go away!\"]"
        );
        assert_eq!(
            &close_frame(CloseCode::ANOTHER_CONNECTION)[..],
            b"c[2010,\"Another connection still open\"]"
        );
        let a = quote("x");
        let b = quote("y\"z");
        assert_eq!(
            &messages_frame([&a[..], &b[..]])[..],
            b"a[\"x\",\"y\\\"z\"]"
        );
        assert_eq!(&messages_frame([])[..], b"a[]");
    }

    #[test]
    fn escapes_what_browsers_mangle() {
        assert_eq!(&quote("a\nb\\")[..], b"\"a\\u000ab\\\\\"");
        assert_eq!(
            &quote("\u{2028}\u{feff}\u{ffff}")[..],
            "\"\\u2028\u{feff}\\uffff\"".as_bytes()
        );
        assert_eq!(
            &quote("caf\u{e9} \u{1f600}")[..],
            "\"caf\u{e9} \u{1f600}\"".as_bytes()
        );
        // Every quoted string is JSON that reads back as itself.
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let back: String = serde_json::from_slice(&quote(&all)).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn wrapping() {
        assert_eq!(&Receiver::XhrPolling.wrap(b"o")[..], b"o\n");
        assert_eq!(&Receiver::EventSource.wrap(b"h")[..], b"data: h\r\n\r\n");
        assert_eq!(&Receiver::WebSocket.wrap(b"a[]")[..], b"a[]");
        let prelude = Receiver::XhrStreaming.prelude();
        assert_eq!(prelude.len(), 2049);
        assert!(prelude[..2048].iter().all(|b| *b == b'h'));
        assert!(Receiver::XhrPolling.prelude().is_empty());
    }
}
