//! SockJS (protocol 0.3, as `sockjs-client` 1.x speaks it) under the
//! configured prefix (`/sockjs` by default). A SockJS message carries one
//! plain envelope, so a SockJS client is a plain connection like `/ws`:
//! same hello, same namespaces and rooms (`?ns=` and `?auth=` on the
//! client's URL, which `sockjs-client` keeps on every request).
//!
//! - `GET <prefix>/info`: the client's transport hints.
//! - `<prefix>/<server>/<session>/`: `websocket` (framed SockJS over
//!   WebSocket, in `ws`), `xhr`, `xhr_streaming`, `eventsource` (the
//!   receivers) and `xhr_send` (in `http`).
//! - `GET <prefix>/websocket`: raw WebSocket, which is exactly the plain
//!   `/ws` endpoint (one envelope per text message).
//!
//! The iframe-based transports (`iframe.html`, `htmlfile`, `jsonp`) are
//! not served: `sockjs-client` falls back to the others.
//! Framing and session state live in `wirehub_proto::plain::sockjs`.

mod http;
mod session;
mod ws;

pub(crate) use session::Sessions;

use super::hub::PlainHub;
use super::reply::{self, Resp};
use ::http::header::{self, HeaderValue};
use ::http::{Method, Request, Response, StatusCode};
use std::sync::Arc;
use wirehub_proto::plain::sockjs::Receiver;

/// A SockJS endpoint below the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint<'a> {
    Welcome,
    Info,
    RawWebSocket,
    Session { id: &'a str, transport: Transport },
}

/// A per-session transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Receive(Receiver),
    Send,
}

/// The endpoint of `rest`, the path after the prefix.
fn endpoint(rest: &str) -> Option<Endpoint<'_>> {
    match rest {
        "" | "/" => return Some(Endpoint::Welcome),
        "/info" => return Some(Endpoint::Info),
        "/websocket" => return Some(Endpoint::RawWebSocket),
        _ => {}
    }
    let mut parts = rest.strip_prefix('/')?.split('/');
    let (server, id, name) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = |s: &str| !s.is_empty() && !s.contains('.');
    if parts.next().is_some() || !valid(server) || !valid(id) {
        return None;
    }
    let transport = match name {
        "websocket" => Transport::Receive(Receiver::WebSocket),
        "xhr" => Transport::Receive(Receiver::XhrPolling),
        "xhr_streaming" => Transport::Receive(Receiver::XhrStreaming),
        "eventsource" => Transport::Receive(Receiver::EventSource),
        "xhr_send" => Transport::Send,
        _ => return None,
    };
    Some(Endpoint::Session { id, transport })
}

/// Answers a request below the SockJS prefix (`rest`: the path after it).
pub(crate) async fn handle<B>(hub: &Arc<PlainHub>, req: Request<B>, rest: &str) -> Resp
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    let Some(endpoint) = endpoint(rest) else {
        return text(StatusCode::NOT_FOUND, "Not found.");
    };
    if method == Method::OPTIONS {
        return preflight(&endpoint);
    }
    match (endpoint, method) {
        (Endpoint::Welcome, Method::GET) => text(StatusCode::OK, "Welcome to SockJS!\n"),
        (Endpoint::Info, Method::GET) => info(),
        (Endpoint::RawWebSocket, Method::GET) => super::ws::upgrade(hub, req),
        (Endpoint::Session { id, transport }, method) => match (transport, method) {
            (Transport::Receive(Receiver::WebSocket), Method::GET) => ws::upgrade(hub, req),
            (Transport::Receive(kind @ Receiver::EventSource), Method::GET)
            | (
                Transport::Receive(kind @ (Receiver::XhrPolling | Receiver::XhrStreaming)),
                Method::POST,
            ) => http::receive(hub, req, id, kind).await,
            (Transport::Send, Method::POST) => http::send(hub, req, id).await,
            (transport, _) => not_allowed(
                if transport == Transport::Receive(Receiver::WebSocket)
                    || transport == Transport::Receive(Receiver::EventSource)
                {
                    "GET"
                } else {
                    "OPTIONS, POST"
                },
            ),
        },
        (Endpoint::Info, _) => not_allowed("OPTIONS, GET"),
        _ => not_allowed("GET"),
    }
}

/// 405 with the methods the endpoint takes.
fn not_allowed(methods: &'static str) -> Resp {
    let mut resp = reply::empty(StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(methods));
    resp
}

/// A CORS preflight of `/info` or an HTTP transport: 204, cacheable for a
/// year (the origin headers are the service's, as its CORS setting says).
fn preflight(endpoint: &Endpoint<'_>) -> Resp {
    let methods = match endpoint {
        Endpoint::Info => "OPTIONS, GET",
        Endpoint::Session {
            transport:
                Transport::Send | Transport::Receive(Receiver::XhrPolling | Receiver::XhrStreaming),
            ..
        } => "OPTIONS, POST",
        _ => return reply::empty(StatusCode::NOT_FOUND),
    };
    let mut resp = reply::empty(StatusCode::NO_CONTENT);
    let headers = resp.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("31536000"),
    );
    headers.insert(header::ALLOW, HeaderValue::from_static(methods));
    resp
}

/// `GET /info`: WebSocket is available, no sticky-session cookie is
/// needed, any origin, and some entropy for the client's ids.
fn info() -> Resp {
    let entropy = u32::from_str_radix(&crate::engine::random_id()[..6], 36).unwrap_or(0);
    let body = serde_json::json!({
        "websocket": true,
        "cookie_needed": false,
        "origins": ["*:*"],
        "entropy": entropy,
    });
    let mut resp = reply::value(StatusCode::OK, &body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    no_cache(&mut resp);
    resp
}

/// A `text/plain` response.
fn text(status: StatusCode, body: &'static str) -> Resp {
    let mut resp = Response::new(super::body::PlainBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    resp
}

/// The caching headers of every SockJS session response.
fn no_cache(resp: &mut Resp) {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, no-transform, must-revalidate, max-age=0"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(endpoint(""), Some(Endpoint::Welcome));
        assert_eq!(endpoint("/info"), Some(Endpoint::Info));
        assert_eq!(endpoint("/websocket"), Some(Endpoint::RawWebSocket));
        assert_eq!(
            endpoint("/000/abc/xhr_send"),
            Some(Endpoint::Session {
                id: "abc",
                transport: Transport::Send
            })
        );
        assert_eq!(
            endpoint("/1/a/xhr_streaming"),
            Some(Endpoint::Session {
                id: "a",
                transport: Transport::Receive(Receiver::XhrStreaming)
            })
        );
        for bad in [
            "/iframe.html",
            "/a.b/c/xhr",
            "/a/c.d/xhr",
            "//c/xhr",
            "/a/b/jsonp",
            "/a/b/xhr/x",
        ] {
            assert_eq!(endpoint(bad), None, "{bad}");
        }
    }
}
