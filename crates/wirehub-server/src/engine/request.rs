//! The request head a connection keeps for its whole life (its handlers
//! may read the handshake's URI and headers), stored small:
//!
//! - copied out of hyper's read buffer: the parsed head's URI and header
//!   values are slices of that 8 KiB buffer, and keeping them would keep
//!   the whole buffer alive for every idle connection;
//! - method, URI and headers packed into one allocation: a `HeaderMap` of a
//!   handful of headers takes about 700 bytes in a dozen allocations, an
//!   empty one still 96 bytes inline, and a `Uri` about 90 bytes plus its
//!   own allocation; most connections never look at any of them. The head
//!   is rebuilt on first access;
//! - the peer address ([`RemoteAddr`]) kept beside the extensions, not in
//!   them: an extensions map holding only it costs about 180 bytes in two
//!   allocations. It is put back when the head is rebuilt.

use crate::RemoteAddr;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Extensions, Method, Uri, Version};
use std::sync::OnceLock;

/// A connection's request head.
pub(crate) struct StoredRequest {
    /// Method, URI and headers, packed (see [`pack`]).
    packed: Box<[u8]>,
    version: Version,
    /// The extensions, but for [`RemoteAddr`].
    extensions: Extensions,
    /// The peer address, taken out of the extensions.
    remote: Option<RemoteAddr>,
    /// The whole head, built on first access.
    full: OnceLock<Box<Parts>>,
}

impl StoredRequest {
    /// Stores `parts`, sharing nothing with the buffer it was parsed from.
    pub(crate) fn new(parts: Parts) -> Self {
        let mut extensions = parts.extensions;
        let remote = extensions.remove::<RemoteAddr>();
        if extensions.is_empty() {
            // Release the emptied map's table.
            extensions = Extensions::new();
        }
        StoredRequest {
            packed: pack(&parts.method, &parts.uri, &parts.headers),
            version: parts.version,
            extensions,
            remote,
            full: OnceLock::new(),
        }
    }

    /// The head with its headers.
    pub(crate) fn parts(&self) -> &Parts {
        self.full.get_or_init(|| {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            unpack(&self.packed, &mut parts);
            parts.version = self.version;
            parts.extensions = self.extensions.clone();
            if let Some(remote) = self.remote {
                parts.extensions.insert(remote);
            }
            Box::new(parts)
        })
    }
}

/// The method, the URI, then per header the name, the value and a
/// sensitivity flag byte; each string preceded by its length (u32,
/// little-endian).
fn pack(method: &Method, uri: &Uri, headers: &HeaderMap) -> Box<[u8]> {
    let uri = uri.to_string();
    let size = 8
        + method.as_str().len()
        + uri.len()
        + headers
            .iter()
            .map(|(n, v)| 9 + n.as_str().len() + v.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    let field = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    field(&mut out, method.as_str().as_bytes());
    field(&mut out, uri.as_bytes());
    for (name, value) in headers {
        field(&mut out, name.as_str().as_bytes());
        field(&mut out, value.as_bytes());
        out.push(u8::from(value.is_sensitive()));
    }
    out.into_boxed_slice()
}

/// Fills the method, URI and headers of `parts` from `packed`.
fn unpack(mut packed: &[u8], parts: &mut Parts) {
    fn field<'a>(packed: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (len, rest) = packed.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (field, rest) = rest.split_at_checked(len)?;
        *packed = rest;
        Some(field)
    }
    // All were valid when packed.
    if let Some(Ok(method)) = field(&mut packed).map(Method::from_bytes) {
        parts.method = method;
    }
    if let Some(Ok(uri)) = field(&mut packed).map(Uri::try_from) {
        parts.uri = uri;
    }
    while let (Some(name), Some(value)) = (field(&mut packed), field(&mut packed)) {
        let Some((&sensitive, rest)) = packed.split_first() else {
            break;
        };
        packed = rest;
        if let (Ok(name), Ok(mut value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            value.set_sensitive(sensitive == 1);
            parts.headers.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_but_shares_nothing() {
        let (parts, ()) = http::Request::builder()
            .method("POST")
            .version(http::Version::HTTP_10)
            .uri("/socket.io/?EIO=4&transport=websocket")
            .header("x-custom", "a")
            .header("x-custom", "b")
            .header("cookie", "k=v")
            .header("x-long", "v".repeat(70_000))
            .extension(7u8)
            .extension(RemoteAddr(([127, 0, 0, 9], 4321).into()))
            .body(())
            .unwrap()
            .into_parts();
        let mut sensitive = parts.clone();
        let mut auth = HeaderValue::from_static("Bearer t");
        auth.set_sensitive(true);
        sensitive.headers.insert("authorization", auth);

        let stored = StoredRequest::new(sensitive.clone());
        let copy = stored.parts();
        assert_eq!(copy.method, parts.method);
        assert_eq!(copy.uri, parts.uri);
        assert_eq!(copy.version, parts.version);
        assert_eq!(copy.headers, sensitive.headers);
        assert_eq!(copy.extensions.get::<u8>(), Some(&7));
        assert_eq!(
            copy.extensions.get::<RemoteAddr>(),
            Some(&RemoteAddr(([127, 0, 0, 9], 4321).into()))
        );
        let values: Vec<_> = copy.headers.get_all("x-custom").iter().collect();
        assert_eq!(values, ["a", "b"]);
        assert!(copy.headers["authorization"].is_sensitive());
        assert!(!copy.headers["cookie"].is_sensitive());
        // The second access returns the same head.
        assert!(std::ptr::eq(stored.parts(), copy));
    }

    #[test]
    fn an_address_alone_needs_no_extensions_map() {
        let (parts, ()) = http::Request::builder()
            .extension(RemoteAddr(([127, 0, 0, 1], 80).into()))
            .body(())
            .unwrap()
            .into_parts();
        let stored = StoredRequest::new(parts);
        assert!(stored.extensions.is_empty());
        assert_eq!(stored.parts().extensions.len(), 1);
    }

    #[test]
    fn no_headers() {
        let (parts, ()) = http::Request::new(()).into_parts();
        assert!(StoredRequest::new(parts).parts().headers.is_empty());
    }
}
