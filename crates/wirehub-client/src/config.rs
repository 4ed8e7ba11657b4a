//! The connection options a [`crate::ClientBuilder`] collects, shared by a
//! manager's driver and its transports.

use crate::backoff::Reconnection;
use crate::net::Tls;
use crate::url::ServerUrl;
use std::time::Duration;
use wirehub_proto::socketio::Parser;

/// Which Engine.IO transport(s) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// WebSocket only, from the start.
    WebSocket,
    /// HTTP long-polling only.
    Polling,
    /// The official client's default: open with long-polling, then upgrade
    /// to WebSocket (`2probe` / `3probe`, pause polling, `5`) when the
    /// server offers it.
    #[default]
    Upgrade,
}

impl Transport {
    /// Parses `websocket`/`ws`, `polling`, `upgrade`/`auto`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ws" | "websocket" => Some(Transport::WebSocket),
            "polling" => Some(Transport::Polling),
            "auto" | "upgrade" => Some(Transport::Upgrade),
            _ => None,
        }
    }
}

/// Everything the driver needs to open and keep a connection.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) url: ServerUrl,
    /// The Engine.IO path, with leading and trailing `/`.
    pub(crate) path: String,
    pub(crate) transport: Transport,
    pub(crate) headers: http::HeaderMap,
    /// Extra query pairs, already encoded (`a=1&b=2`), or empty.
    pub(crate) query: String,
    pub(crate) reconnection: Reconnection,
    pub(crate) connect_timeout: Duration,
    pub(crate) ack_timeout: Duration,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) buffer_emits: bool,
    pub(crate) max_attachments: usize,
    /// The Socket.IO packet encoding both ends speak.
    pub(crate) parser: Parser,
    pub(crate) tls: Tls,
}

impl Config {
    /// The path and query of an Engine.IO request.
    pub(crate) fn request_target(&self, transport: &str, sid: Option<&str>) -> String {
        let mut target = format!("{}?EIO=4&transport={transport}", self.path);
        if let Some(sid) = sid {
            target.push_str("&sid=");
            target.push_str(&crate::url::encode_component(sid));
        }
        for extra in [self.url.query.as_deref().unwrap_or(""), &self.query] {
            if !extra.is_empty() {
                target.push('&');
                target.push_str(extra);
            }
        }
        target
    }
}

/// Normalises a path option to `/x/`.
pub(crate) fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_transports() {
        assert_eq!(normalize_path("socket.io"), "/socket.io/");
        assert_eq!(normalize_path("/a/b"), "/a/b/");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(Transport::parse("ws"), Some(Transport::WebSocket));
        assert_eq!(Transport::parse("auto"), Some(Transport::Upgrade));
        assert_eq!(Transport::parse("x"), None);
    }
}
