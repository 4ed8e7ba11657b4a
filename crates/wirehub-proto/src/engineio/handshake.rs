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

/// The Engine.IO protocol revision a client speaks (the `EIO` query value).
///
/// As in the reference server, anything but `EIO=4` (a missing value
/// included) is revision 3, which is served only when the server allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtocolVersion {
    /// Revision 3 (socket.io-client 2.x): the client pings, polling
    /// payloads are `<length>:<packet>` records, binary WebSocket frames
    /// carry the packet type byte.
    V3,
    /// Revision 4 (socket.io-client 3.x and later).
    #[default]
    V4,
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
    /// Code 5: `EIO` is not `4`, and revision 3 is not allowed.
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
    /// The protocol revision (`EIO=4`: 4, anything else: 3).
    pub version: ProtocolVersion,
    /// Whether `b64` was given: the client takes binary only as base64 text
    /// (revision 3 polling).
    pub b64: bool,
}

impl HandshakeQuery {
    /// Parses `EIO`, `transport` and `sid` out of a raw query string.
    ///
    /// Checks in the reference server's order: transport first; the protocol
    /// version only matters for a handshake (no `sid`), see [`Self::check_handshake`].
    pub fn parse(query: &str) -> Result<Self, EngineError> {
        let (mut eio, mut transport, mut sid, mut b64) = (None, None, None, false);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "EIO" => eio = Some(value),
                "transport" => transport = Some(value),
                "sid" if !value.is_empty() => sid = Some(value.to_owned()),
                "b64" => b64 = true,
                _ => {}
            }
        }
        let transport = transport
            .and_then(TransportKind::parse)
            .ok_or(EngineError::UnknownTransport)?;
        Ok(HandshakeQuery {
            transport,
            sid,
            version: if eio == Some("4") {
                ProtocolVersion::V4
            } else {
                ProtocolVersion::V3
            },
            b64,
        })
    }

    /// Checks a handshake request (no `sid`): protocol version and method.
    /// Revision 3 passes only with `allow_eio3` (Node's `allowEIO3`).
    pub fn check_handshake(&self, is_get: bool, allow_eio3: bool) -> Result<(), EngineError> {
        if !is_get {
            return Err(EngineError::BadHandshakeMethod);
        }
        if self.version == ProtocolVersion::V3 && !allow_eio3 {
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
        assert_eq!(q.version, ProtocolVersion::V4);
        assert!(!q.b64);
        let q = HandshakeQuery::parse("transport=websocket&EIO=3&b64=1").unwrap();
        assert_eq!(q.transport, TransportKind::WebSocket);
        assert_eq!(q.version, ProtocolVersion::V3);
        assert!(q.b64);
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
            q.check_handshake(true, false),
            Err(EngineError::UnsupportedProtocolVersion)
        );
        let q = HandshakeQuery::parse("EIO=4&transport=polling").unwrap();
        assert_eq!(
            q.check_handshake(false, false),
            Err(EngineError::BadHandshakeMethod)
        );
        assert_eq!(q.check_handshake(true, false), Ok(()));
    }

    #[test]
    fn revision_3_needs_allow_eio3() {
        for query in ["EIO=3&transport=polling", "transport=polling"] {
            let q = HandshakeQuery::parse(query).unwrap();
            assert_eq!(q.version, ProtocolVersion::V3);
            assert_eq!(
                q.check_handshake(true, false),
                Err(EngineError::UnsupportedProtocolVersion)
            );
            assert_eq!(q.check_handshake(true, true), Ok(()));
            assert_eq!(
                q.check_handshake(false, true),
                Err(EngineError::BadHandshakeMethod)
            );
        }
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
