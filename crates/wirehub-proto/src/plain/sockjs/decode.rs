//! SockJS client → server messages: an `xhr_send` body is a JSON array of
//! strings; a `websocket` text message is such an array or one JSON
//! string. Each string is one message (for wirehub, one plain envelope).

/// Why a body was refused. The `Display` text is the body of the HTTP 500
/// answer the protocol specifies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body was empty: answer 500, keep the session.
    #[error("Payload expected.")]
    Empty,
    /// The body was not a JSON array of strings (or one string, over
    /// WebSocket): answer 500 (or close the WebSocket).
    #[error("Broken JSON encoding.")]
    BrokenJson,
}

/// The messages of an `xhr_send` body: a JSON array of strings.
pub fn decode_send(body: &[u8]) -> Result<Vec<String>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    serde_json::from_slice(body).map_err(|_| DecodeError::BrokenJson)
}

/// The messages of one WebSocket text message: a JSON array of strings or
/// one JSON string. An empty message carries none.
pub fn decode_ws(text: &[u8]) -> Result<Vec<String>, DecodeError> {
    let trimmed = skip_json_whitespace(text);
    match trimmed.first() {
        None => Ok(Vec::new()),
        Some(b'[') => serde_json::from_slice(trimmed).map_err(|_| DecodeError::BrokenJson),
        Some(_) => serde_json::from_slice::<String>(trimmed)
            .map(|m| vec![m])
            .map_err(|_| DecodeError::BrokenJson),
    }
}

/// `text` without its leading JSON whitespace (space, tab, CR, LF), so
/// that a body reads the same here as in `decode_send`. Not
/// `trim_ascii_start`, which also drops a form feed: JSON does not, and the
/// `sockjs_messages` fuzz target found the difference.
fn skip_json_whitespace(text: &[u8]) -> &[u8] {
    let blank = text
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    &text[blank..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_feed_is_not_json_whitespace_either_way() {
        assert_eq!(decode_ws(b"\x0c[]"), Err(DecodeError::BrokenJson));
        assert_eq!(decode_send(b"\x0c[]"), Err(DecodeError::BrokenJson));
        assert_eq!(decode_ws(b" \t\r\n[\"a\"]").unwrap(), ["a"]);
    }

    #[test]
    fn send_bodies() {
        assert_eq!(decode_send(b"[\"a\",\"b\\u0000\"]").unwrap(), ["a", "b\0"]);
        assert_eq!(decode_send(b" [ ] ").unwrap(), Vec::<String>::new());
        assert_eq!(decode_send(b""), Err(DecodeError::Empty));
        assert_eq!(decode_send(b"[\"x\""), Err(DecodeError::BrokenJson));
        assert_eq!(decode_send(b"[1]"), Err(DecodeError::BrokenJson));
        assert_eq!(decode_send(b"\"x\""), Err(DecodeError::BrokenJson));
        assert_eq!(DecodeError::BrokenJson.to_string(), "Broken JSON encoding.");
        assert_eq!(DecodeError::Empty.to_string(), "Payload expected.");
    }

    #[test]
    fn websocket_messages() {
        assert_eq!(decode_ws(b"[\"a\",\"b\"]").unwrap(), ["a", "b"]);
        assert_eq!(decode_ws(b"\"a\"").unwrap(), ["a"]);
        assert_eq!(decode_ws(b"").unwrap(), Vec::<String>::new());
        assert_eq!(decode_ws(b"[\"a\""), Err(DecodeError::BrokenJson));
        assert_eq!(decode_ws(b"{}"), Err(DecodeError::BrokenJson));
    }
}
