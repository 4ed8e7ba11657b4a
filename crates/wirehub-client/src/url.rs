//! The server URL: scheme, authority, and the namespace in its path, as the
//! official client reads `io("http://host:3000/chat")`.

use crate::error::Error;
use http::Uri;

/// A parsed server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerUrl {
    /// Whether TLS is used (`https`, `wss`).
    pub(crate) secure: bool,
    /// The host, without IPv6 brackets.
    pub(crate) host: String,
    /// The port (default 80 / 443).
    pub(crate) port: u16,
    /// The namespace named by the URL's path (`/` when none).
    pub(crate) namespace: String,
    /// The URL's query string, passed on to every request.
    pub(crate) query: Option<String>,
    /// The URL as given, for messages.
    pub(crate) original: String,
}

impl ServerUrl {
    /// Parses `http`, `https`, `ws` and `wss` URLs.
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        let secure = match uri.scheme_str() {
            Some("http" | "ws") => false,
            Some("https" | "wss") => true,
            Some(_) => return Err(invalid("the scheme must be http, https, ws or wss")),
            None => return Err(invalid("missing scheme (e.g. http://127.0.0.1:3000)")),
        };
        let host = uri.host().ok_or_else(|| invalid("missing host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let path = uri.path().trim_end_matches('/');
        let namespace = if path.is_empty() { "/" } else { path }.to_owned();
        Ok(ServerUrl {
            secure,
            host,
            port,
            namespace,
            query: uri.query().filter(|q| !q.is_empty()).map(str::to_owned),
            original: url.to_owned(),
        })
    }

    /// `host:port`, brackets around IPv6 hosts.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The HTTP(S) base, e.g. `https://example.com:443`.
    pub(crate) fn http_base(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.authority())
    }

    /// The WebSocket base, e.g. `wss://example.com:443`.
    pub(crate) fn ws_base(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}", self.authority())
    }
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let u = ServerUrl::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!((u.secure, u.port, u.namespace.as_str()), (false, 3000, "/"));
        let u = ServerUrl::parse("wss://example.com/chat/?token=a").unwrap();
        assert_eq!(
            (u.secure, u.port, u.namespace.as_str()),
            (true, 443, "/chat")
        );
        assert_eq!(u.query.as_deref(), Some("token=a"));
        assert_eq!(u.ws_base(), "wss://example.com:443");
        let u = ServerUrl::parse("http://[::1]:8080/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.authority()),
            ("::1", "[::1]:8080".into())
        );
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in ["127.0.0.1:3000", "ftp://x", "http://", "not a url"] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_components() {
        assert_eq!(encode_component("a b&c=d~"), "a%20b%26c%3Dd~");
    }
}
