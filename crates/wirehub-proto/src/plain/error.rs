//! [`EnvelopeError`]: why a plain envelope was refused.

use super::codes;

/// Why an envelope was refused. A server answers with an `error` envelope
/// carrying [`EnvelopeError::code`] and the `Display` text as its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not UTF-8, or not JSON.
    #[error("invalid JSON")]
    BadJson,
    /// JSON, but not an object with a string `type`.
    #[error("bad envelope: {0}")]
    BadEnvelope(&'static str),
    /// A `type` this protocol version does not define (cut to 64 bytes).
    #[error("unknown type {0:?}")]
    UnknownType(String),
    /// A field has the wrong JSON type or breaks a limit.
    #[error("invalid field `{field}`: {reason}")]
    BadField {
        /// The field's name in the envelope.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The event name is one of [`crate::socketio::decode::RESERVED_EVENTS`].
    #[error("reserved event name {0:?}")]
    ReservedEvent(&'static str),
}

impl EnvelopeError {
    /// The wire code for the `error` envelope (one of [`codes`]).
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::BadJson => codes::BAD_JSON,
            EnvelopeError::BadEnvelope(_) => codes::BAD_ENVELOPE,
            EnvelopeError::UnknownType(_) => codes::UNKNOWN_TYPE,
            EnvelopeError::BadField { .. } => codes::BAD_FIELD,
            EnvelopeError::ReservedEvent(_) => codes::RESERVED_EVENT,
        }
    }

    pub(super) fn field(field: &'static str, reason: &'static str) -> Self {
        EnvelopeError::BadField { field, reason }
    }

    /// An `UnknownType` holding at most 64 bytes of the offending name.
    pub(super) fn unknown_type(name: &str) -> Self {
        let mut end = name.len().min(64);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        EnvelopeError::UnknownType(name[..end].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let e = EnvelopeError::field("rooms", "too many rooms");
        assert_eq!(e.code(), "bad_field");
        assert_eq!(e.to_string(), "invalid field `rooms`: too many rooms");
        assert_eq!(EnvelopeError::BadJson.code(), "bad_json");
        assert_eq!(
            EnvelopeError::ReservedEvent("connect").code(),
            "reserved_event"
        );
    }

    #[test]
    fn unknown_type_is_cut_on_a_char_boundary() {
        let long = "é".repeat(40);
        let EnvelopeError::UnknownType(kept) = EnvelopeError::unknown_type(&long) else {
            panic!()
        };
        assert_eq!(kept.len(), 64);
        assert_eq!(EnvelopeError::unknown_type("x").code(), "unknown_type");
    }
}
