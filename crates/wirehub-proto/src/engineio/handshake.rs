//! The Engine.IO request query, the open packet, and the error codes the
//! reference server answers with (`{"code":N,"message":...}`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The two Engine.IO transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }

    /// Parses a `transport` query value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            _ => None,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error codes of the reference Engine.IO server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Code 0: the `transport` parameter is missing, unknown or disabled.
    #[error("Transport unknown")]
    UnknownTransport,
    /// Code 1: no session has this `sid` (never existed, closed, or expired).
    #[error("Session ID unknown")]
    UnknownSid,
    /// Code 2: a handshake (no `sid`) that is not a GET.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// Code 3: anything else malformed: transport mismatch, a second
    /// pending poll, a body over `maxPayload`, an invalid packet.
    #[error("Bad request")]
    BadRequest,
    /// Code 4: refused by the application's `allow_request` hook.
    #[error("Forbidden")]
    Forbidden,
    /// Code 5: `EIO` is missing or not `4`.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
}

impl EngineError {
    /// The numeric code sent to the client.
    pub fn code(self) -> u8 {
        match self {
            EngineError::UnknownTransport => 0,
            EngineError::UnknownSid => 1,
            EngineError::BadHandshakeMethod => 2,
            EngineError::BadRequest => 3,
            EngineError::Forbidden => 4,
            EngineError::UnsupportedProtocolVersion => 5,
        }
    }

    /// The HTTP status the reference server uses: 403 for `Forbidden`, else 400.
    pub fn http_status(self) -> u16 {
        match self {
            EngineError::Forbidden => 403,
            _ => 400,
        }
    }

    /// The JSON body `{"code":N,"message":"..."}`, with an optional custom message.
    pub fn to_json(self, message: Option<&str>) -> String {
        let msg = message
            .map(str::to_owned)
            .unwrap_or_else(|| self.to_string());
        serde_json::json!({ "code": self.code(), "message": msg }).to_string()
    }
}

/// The Engine.IO part of a request's query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeQuery {
    /// The requested transport.
    pub transport: TransportKind,
    /// The session id, absent on a handshake.
    pub sid: Option<String>,
    /// Whether `EIO=4` was given.
    pub eio4: bool,
}

impl HandshakeQuery {
    /// Parses `EIO`, `transport` and `sid` out of a raw query string.
    ///
    /// Checks in the reference server's order: transport first; the protocol
    /// version only matters for a handshake (no `sid`), see [`Self::check_handshake`].
    pub fn parse(query: &str) -> Result<Self, EngineError> {
        let (mut eio, mut transport, mut sid) = (None, None, None);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "EIO" => eio = Some(value),
                "transport" => transport = Some(value),
                "sid" if !value.is_empty() => sid = Some(value.to_owned()),
                _ => {}
            }
        }
        let transport = transport
            .and_then(TransportKind::parse)
            .ok_or(EngineError::UnknownTransport)?;
        Ok(HandshakeQuery {
            transport,
            sid,
            eio4: eio == Some("4"),
        })
    }

    /// Checks a handshake request (no `sid`): protocol version and method.
    pub fn check_handshake(&self, is_get: bool) -> Result<(), EngineError> {
        if !is_get {
            return Err(EngineError::BadHandshakeMethod);
        }
        if !self.eio4 {
            return Err(EngineError::UnsupportedProtocolVersion);
        }
        Ok(())
    }
}

/// The open packet's JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPacket {
    /// The session id.
    pub sid: String,
    /// Transports the client may upgrade to.
    pub upgrades: Vec<String>,
    /// Milliseconds between server pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong.
    pub ping_timeout: u64,
    /// Largest accepted payload, in bytes.
    pub max_payload: u64,
}

impl OpenPacket {
    /// The JSON text of the packet (without the `0` type prefix).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_query() {
        let q = HandshakeQuery::parse("EIO=4&transport=polling&t=abc&sid=xyz").unwrap();
        assert_eq!(q.transport, TransportKind::Polling);
        assert_eq!(q.sid.as_deref(), Some("xyz"));
        assert!(q.eio4);
        let q = HandshakeQuery::parse("transport=websocket&EIO=3").unwrap();
        assert_eq!(q.transport, TransportKind::WebSocket);
        assert!(!q.eio4);
        assert_eq!(q.sid, None);
    }

    #[test]
    fn rejects_bad_transport_and_version() {
        assert_eq!(
            HandshakeQuery::parse("EIO=4"),
            Err(EngineError::UnknownTransport)
        );
        assert_eq!(
            HandshakeQuery::parse("EIO=4&transport=abc"),
            Err(EngineError::UnknownTransport)
        );
        let q = HandshakeQuery::parse("EIO=abc&transport=polling").unwrap();
        assert_eq!(
            q.check_handshake(true),
            Err(EngineError::UnsupportedProtocolVersion)
        );
        let q = HandshakeQuery::parse("EIO=4&transport=polling").unwrap();
        assert_eq!(
            q.check_handshake(false),
            Err(EngineError::BadHandshakeMethod)
        );
        assert_eq!(q.check_handshake(true), Ok(()));
    }

    #[test]
    fn error_bodies_match_reference() {
        assert_eq!(
            EngineError::UnknownSid.to_json(None),
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        assert_eq!(EngineError::Forbidden.http_status(), 403);
        assert_eq!(EngineError::BadRequest.http_status(), 400);
        assert_eq!(
            EngineError::Forbidden.to_json(Some("no")),
            r#"{"code":4,"message":"no"}"#
        );
    }

    #[test]
    fn open_packet_json_uses_camel_case() {
        let p = OpenPacket {
            sid: "s".into(),
            upgrades: vec!["websocket".into()],
            ping_interval: 300,
            ping_timeout: 200,
            max_payload: 1_000_000,
        };
        assert_eq!(
            p.to_json(),
            r#"{"sid":"s","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        );
    }
}
