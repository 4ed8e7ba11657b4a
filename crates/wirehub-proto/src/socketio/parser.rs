//! [`Parser`]: which Socket.IO packet encoding a connection speaks.
//!
//! Chosen once per server (as Node's `new Server({ parser })`) and per
//! client: both ends must agree, nothing on the wire says which one is used.

use std::fmt;
use std::str::FromStr;

/// A Socket.IO packet encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Parser {
    /// socket.io-parser, the default: a text message per packet, binary
    /// values as attachments sent as binary messages after it.
    #[default]
    Json,
    /// socket.io-msgpack-parser: one binary message per packet, the packet
    /// object `{type, data, nsp, id}` in MessagePack, binary values inline.
    MsgPack,
}

impl Parser {
    /// The name used by the CLI and the environment: `json` or `msgpack`.
    pub fn as_str(self) -> &'static str {
        match self {
            Parser::Json => "json",
            Parser::MsgPack => "msgpack",
        }
    }
}

impl fmt::Display for Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parser name that is neither `json` nor `msgpack`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown parser {0:?} (expected json or msgpack)")]
pub struct UnknownParser(pub String);

impl FromStr for Parser {
    type Err = UnknownParser;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" | "default" => Ok(Parser::Json),
            "msgpack" => Ok(Parser::MsgPack),
            _ => Err(UnknownParser(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in [Parser::Json, Parser::MsgPack] {
            assert_eq!(p.as_str().parse::<Parser>(), Ok(p));
        }
        assert_eq!("MsgPack".parse::<Parser>(), Ok(Parser::MsgPack));
        assert!("cbor".parse::<Parser>().is_err());
        assert_eq!(Parser::default(), Parser::Json);
    }
}
