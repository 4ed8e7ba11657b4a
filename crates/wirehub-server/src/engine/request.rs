//! The request head a connection keeps for its whole life (its handlers
//! may read the handshake's URI and headers), stored small:
//!
//! - copied out of hyper's read buffer: the parsed head's URI and header
//!   values are slices of that 8 KiB buffer, and keeping them would keep
//!   the whole buffer alive for every idle connection;
//! - the headers packed into one allocation: a `HeaderMap` of a handful of
//!   headers takes about 700 bytes in a dozen allocations, and most
//!   connections never look at it. The map is rebuilt on first access;
//! - the peer address ([`RemoteAddr`]) kept beside the extensions, not in
//!   them: an extensions map holding only it costs about 180 bytes in two
//!   allocations. It is put back when the head is rebuilt.

use crate::RemoteAddr;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Extensions, Uri};
use std::sync::OnceLock;

/// A connection's request head.
pub(crate) struct StoredRequest {
    /// Method, URI, version and extensions; no headers, no [`RemoteAddr`].
    head: Parts,
    /// The headers, packed (see [`pack`]).
    packed: Box<[u8]>,
    /// The peer address, taken out of the extensions.
    remote: Option<RemoteAddr>,
    /// The whole head, built on first access.
    full: OnceLock<Box<Parts>>,
}

impl StoredRequest {
    /// Stores `parts`, sharing nothing with the buffer it was parsed from.
    pub(crate) fn new(mut parts: Parts) -> Self {
        if let Ok(uri) = parts.uri.to_string().parse::<Uri>() {
            parts.uri = uri;
        }
        let packed = pack(&std::mem::take(&mut parts.headers));
        let remote = parts.extensions.remove::<RemoteAddr>();
        if parts.extensions.is_empty() {
            // Release the emptied map's table.
            parts.extensions = Extensions::new();
        }
        StoredRequest {
            head: parts,
            packed,
            remote,
            full: OnceLock::new(),
        }
    }

    /// The head with its headers.
    pub(crate) fn parts(&self) -> &Parts {
        self.full.get_or_init(|| {
            let mut parts = self.head.clone();
            parts.headers = unpack(&self.packed);
            if let Some(remote) = self.remote {
                parts.extensions.insert(remote);
            }
            Box::new(parts)
        })
    }
}

/// Per header: name length (u32, little-endian), name, value length,
/// value, and a sensitivity flag byte.
fn pack(headers: &HeaderMap) -> Box<[u8]> {
    let size: usize = headers
        .iter()
        .map(|(n, v)| 9 + n.as_str().len() + v.len())
        .sum();
    let mut out = Vec::with_capacity(size);
    for (name, value) in headers {
        for field in [name.as_str().as_bytes(), value.as_bytes()] {
            out.extend_from_slice(&(field.len() as u32).to_le_bytes());
            out.extend_from_slice(field);
        }
        out.push(u8::from(value.is_sensitive()));
    }
    out.into_boxed_slice()
}

fn unpack(mut packed: &[u8]) -> HeaderMap {
    fn field<'a>(packed: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (len, rest) = packed.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (field, rest) = rest.split_at_checked(len)?;
        *packed = rest;
        Some(field)
    }
    let mut headers = HeaderMap::new();
    while let (Some(name), Some(value)) = (field(&mut packed), field(&mut packed)) {
        let Some((&sensitive, rest)) = packed.split_first() else {
            break;
        };
        packed = rest;
        // Both were a valid name and value when packed.
        if let (Ok(name), Ok(mut value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            value.set_sensitive(sensitive == 1);
            headers.append(name, value);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_but_shares_nothing() {
        let (parts, ()) = http::Request::builder()
            .method("POST")
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
        assert!(stored.head.extensions.is_empty());
        assert_eq!(stored.parts().extensions.len(), 1);
    }

    #[test]
    fn no_headers() {
        let (parts, ()) = http::Request::new(()).into_parts();
        assert!(StoredRequest::new(parts).parts().headers.is_empty());
    }
}
