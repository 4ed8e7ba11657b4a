//! The request head a connection keeps for its whole life (its handlers
//! read the handshake's URI and headers), copied out of hyper's read
//! buffer: the parsed head's URI and header values are slices of that
//! 8 KiB buffer, and keeping them would keep the whole buffer alive for
//! every idle connection.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::Uri;

/// `parts` with its URI and headers in allocations of their own.
pub(crate) fn detach(mut parts: Parts) -> Parts {
    if let Ok(uri) = parts.uri.to_string().parse::<Uri>() {
        parts.uri = uri;
    }
    let mut headers = HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        let copied_name = HeaderName::from_bytes(name.as_str().as_bytes());
        let copied_value = HeaderValue::from_bytes(value.as_bytes());
        if let (Ok(name), Ok(mut copied)) = (copied_name, copied_value) {
            copied.set_sensitive(value.is_sensitive());
            headers.append(name, copied);
        }
    }
    parts.headers = headers;
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_but_shares_nothing() {
        let (parts, ()) = http::Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket")
            .header("x-custom", "a")
            .header("x-custom", "b")
            .header("cookie", "k=v")
            .extension(7u8)
            .body(())
            .unwrap()
            .into_parts();
        let copy = detach(parts.clone());
        assert_eq!(copy.uri, parts.uri);
        assert_eq!(copy.headers, parts.headers);
        assert_eq!(copy.extensions.get::<u8>(), Some(&7));
        let values: Vec<_> = copy.headers.get_all("x-custom").iter().collect();
        assert_eq!(values, ["a", "b"]);
    }
}
