//! The HTTP API (`/api/v1/...`, bearer API key): publish to rooms, list
//! rooms and their members, disconnect a client, and the OpenAPI document
//! (`GET /api/v1/openapi.json`, no key needed). Errors are JSON
//! `{"error":{"code","message"}}` with a matching status.

use super::hub::PlainHub;
use super::reply::{self, Resp};
use super::send::bearer;
use crate::io::{BroadcastOptions, Room};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use std::sync::Arc;
use wirehub_proto::plain::codes;
use wirehub_proto::socketio::decode::RESERVED_EVENTS;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// The path prefix of the API.
pub(crate) const PREFIX: &str = "/api/v1/";

const OPENAPI: &str = include_str!("openapi.json");

/// Answers one API request.
pub(crate) async fn handle<B>(hub: &Arc<PlainHub>, req: Request<B>) -> Resp
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = req.uri().path()[PREFIX.len()..].to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments == ["openapi.json"] {
        return if req.method() == Method::GET {
            reply::json(StatusCode::OK, Bytes::from_static(OPENAPI.as_bytes()))
        } else {
            method_not_allowed()
        };
    }
    let Some(key) = hub.config().api_key.as_deref() else {
        return reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::API_DISABLED,
            "the HTTP API is disabled: start the server with an API key",
        );
    };
    if !bearer(&req).is_some_and(|t| same(t.as_bytes(), key.as_bytes())) {
        let mut resp = reply::error(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "missing or wrong API key (Authorization: Bearer <key>)",
        );
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    let query = match super::query::parse(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, &e),
    };
    let ns = query.ns();
    match (req.method().clone(), segments.as_slice()) {
        (Method::POST, ["publish"]) => publish(hub, req, &ns).await,
        (_, ["publish"]) => method_not_allowed(),
        (Method::GET, ["rooms"]) => rooms(hub, &ns),
        (_, ["rooms"]) => method_not_allowed(),
        (Method::GET, ["rooms", room, "members"]) => match decode_segment(room) {
            Some(room) => members(hub, &ns, &room),
            None => bad_segment(),
        },
        (_, ["rooms", _, "members"]) => method_not_allowed(),
        (Method::DELETE, ["clients", sid]) => match decode_segment(sid) {
            Some(sid) => disconnect(hub, &ns, &sid),
            None => bad_segment(),
        },
        (_, ["clients", _]) => method_not_allowed(),
        _ => reply::error(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such API route"),
    }
}

#[derive(Deserialize)]
struct Publish<'a> {
    #[serde(default)]
    ns: Option<String>,
    #[serde(default)]
    room: Option<String>,
    #[serde(default)]
    rooms: Vec<String>,
    event: String,
    /// Present (even as `null`) means one argument.
    #[serde(borrow, default, deserialize_with = "present")]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    args: Option<Vec<&'a RawValue>>,
}

/// A field that is present, `null` included (plain `Option` reads `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// `POST /publish`; the namespace is the body's `ns`, else the query's.
async fn publish<B>(hub: &Arc<PlainHub>, req: Request<B>, query_ns: &str) -> Resp
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let config = hub.config();
    let body = match reply::read_body(config, req.into_body()).await {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    let request: Publish<'_> = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, codes::BAD_JSON, &e.to_string()),
    };
    if request.event.is_empty() || RESERVED_EVENTS.contains(&request.event.as_str()) {
        return bad_request("event: a non-empty, non-reserved name is needed");
    }
    let args = match (request.data, request.args) {
        (Some(_), Some(_)) => return bad_request("data and args: give one or the other"),
        (Some(data), None) => vec![Str::from(data.get().to_owned())],
        (None, Some(args)) => args.iter().map(|a| Str::from(a.get().to_owned())).collect(),
        (None, None) => Vec::new(),
    };
    let mut rooms: Vec<Room> = request.rooms.into_iter().map(Str::from).collect();
    rooms.extend(request.room.map(Str::from));
    let ns = match request.ns {
        Some(ns) if !ns.starts_with('/') => format!("/{ns}"),
        Some(ns) => ns,
        None => query_ns.to_owned(),
    };
    let Some(operator) = hub.io().of(&ns).and_then(|n| n.broadcast()) else {
        return unknown_namespace(&ns);
    };
    let published = match operator
        .to(rooms)
        .publish(&request.event, Args::from_raw(args))
    {
        Ok(published) => published,
        Err(e) => {
            return reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                &e.to_string(),
            )
        }
    };
    let delivered = published.recipients;
    let offset = published.offset().await;
    reply::value(
        StatusCode::OK,
        &json!({ "delivered": delivered, "offset": offset }),
    )
}

fn rooms(hub: &Arc<PlainHub>, ns: &str) -> Resp {
    let Some(namespace) = hub.io().0.namespace(&Str::from(ns.to_owned())) else {
        return unknown_namespace(ns);
    };
    let local = namespace.adapter().local();
    let mut list: Vec<(Room, usize)> = local
        .rooms()
        .into_iter()
        .map(|room| {
            let members = local.sids(&BroadcastOptions::to(vec![room.clone()])).len();
            (room, members)
        })
        .collect();
    list.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let rooms: Vec<_> = list
        .into_iter()
        .map(|(room, members)| json!({ "room": room, "members": members }))
        .collect();
    reply::value(StatusCode::OK, &json!({ "rooms": rooms }))
}

fn members(hub: &Arc<PlainHub>, ns: &str, room: &str) -> Resp {
    let Some(namespace) = hub.io().0.namespace(&Str::from(ns.to_owned())) else {
        return unknown_namespace(ns);
    };
    let opts = BroadcastOptions::to(vec![Str::from(room.to_owned())]);
    let mut members: Vec<_> = namespace
        .adapter()
        .local()
        .sids(&opts)
        .iter()
        .filter_map(|sid| namespace.get_socket(sid))
        .map(|s| {
            let transport = s.transport().map(|t| t.as_str());
            json!({ "sid": s.id(), "transport": transport })
        })
        .collect();
    members.sort_by(|a, b| a["sid"].as_str().cmp(&b["sid"].as_str()));
    reply::value(StatusCode::OK, &json!({ "members": members }))
}

fn disconnect(hub: &Arc<PlainHub>, ns: &str, sid: &str) -> Resp {
    let Some(namespace) = hub.io().0.namespace(&Str::from(ns.to_owned())) else {
        return unknown_namespace(ns);
    };
    match namespace.get_socket(sid) {
        Some(socket) => {
            // A namespace disconnect: the client is told (a `disconnect`
            // envelope, a Socket.IO DISCONNECT packet, after which Socket.IO
            // clients do not reconnect on their own); a plain connection,
            // which holds only this socket, closes with it.
            socket.disconnect();
            reply::empty(StatusCode::NO_CONTENT)
        }
        None => reply::error(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such client"),
    }
}

fn decode_segment(segment: &str) -> Option<String> {
    let q = super::query::parse(&format!("room={segment}")).ok()?;
    q.rooms.first().map(|r| r.to_string())
}

/// Compares secrets without leaking where they differ through timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unknown_namespace(ns: &str) -> Resp {
    let message = format!("unknown namespace {ns}");
    reply::error(StatusCode::NOT_FOUND, codes::UNKNOWN_NAMESPACE, &message)
}

fn bad_request(message: &str) -> Resp {
    reply::error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
}

fn bad_segment() -> Resp {
    bad_request("bad percent-encoding in the path")
}

fn method_not_allowed() -> Resp {
    reply::error(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::NOT_FOUND,
        "method not allowed on this route",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_keys() {
        assert!(super::same(b"secret", b"secret"));
        assert!(!super::same(b"secret", b"secreT"));
        assert!(!super::same(b"secret", b"secret2"));
    }

    #[test]
    fn openapi_is_json() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
        for path in [
            "/publish",
            "/rooms",
            "/rooms/{room}/members",
            "/clients/{sid}",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path}");
        }
    }
}
