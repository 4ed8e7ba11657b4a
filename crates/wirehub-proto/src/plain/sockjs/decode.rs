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
    let trimmed = text.trim_ascii_start();
    match trimmed.first() {
        None => Ok(Vec::new()),
        Some(b'[') => serde_json::from_slice(trimmed).map_err(|_| DecodeError::BrokenJson),
        Some(_) => serde_json::from_slice::<String>(trimmed)
            .map(|m| vec![m])
            .map_err(|_| DecodeError::BrokenJson),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
