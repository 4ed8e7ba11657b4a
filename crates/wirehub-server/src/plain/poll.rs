//! Plain HTTP polling over room history (`GET /poll`): no session, the
//! client keeps a cursor. `wait=0` (short polling) answers at once; a
//! positive `wait` (long polling, at most 60 s) holds the request until a
//! message is recorded in one of the rooms or the time is up. Without
//! `since`, only messages recorded from now on are returned.

use super::hub::PlainHub;
use super::query;
use super::reply::{self, Resp};
use bytes::{BufMut, BytesMut};
use http::{Request, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use wirehub_proto::plain::codes;
use wirehub_proto::Str;

/// Longest a long poll may hold, in seconds.
const MAX_WAIT: u64 = 60;
/// Most messages per response (the `next` cursor pages through the rest).
const MAX_MESSAGES: usize = 1000;

/// Answers one poll.
pub(crate) async fn poll<B>(hub: &Arc<PlainHub>, req: Request<B>) -> Resp {
    let q = match query::parse(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, &e),
    };
    if q.rooms.is_empty() {
        return reply::error(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "room: at least one is needed",
        );
    }
    let wait = q.wait.unwrap_or(0);
    if wait > MAX_WAIT {
        let message = format!("wait: at most {MAX_WAIT} seconds");
        return reply::error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, &message);
    }
    let ns_name = Str::from(q.ns());
    let Some(ns) = hub.io().0.namespace(&ns_name) else {
        let message = format!("unknown namespace {ns_name}");
        return reply::error(StatusCode::NOT_FOUND, codes::UNKNOWN_NAMESPACE, &message);
    };
    let history = ns.history();
    if !history.enabled() {
        return reply::error(
            StatusCode::NOT_FOUND,
            codes::NOT_ALLOWED,
            "room history is disabled on this server",
        );
    }
    let since = q.since.unwrap_or_else(|| history.latest());
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut changes = history.subscribe();
    loop {
        let read = history.read(&q.rooms, since, MAX_MESSAGES);
        let expired = Instant::now() >= deadline;
        if !read.messages.is_empty() || read.truncated || expired {
            let mut body = BytesMut::new();
            body.put_slice(b"{\"messages\":[");
            for (i, delivery) in read.messages.iter().enumerate() {
                if i > 0 {
                    body.put_u8(b',');
                }
                body.put_slice(delivery.plain());
            }
            let tail = format!(
                "],\"next\":{},\"truncated\":{}}}",
                read.next, read.truncated
            );
            body.put_slice(tail.as_bytes());
            ns.metrics().events_sent(read.messages.len());
            ns.metrics().server().sent(body.len());
            return reply::json(StatusCode::OK, body.freeze());
        }
        let woke = tokio::time::timeout_at(deadline, changes.changed()).await;
        if matches!(woke, Ok(Err(_))) {
            // The namespace is gone; answer with what there is.
            return reply::json(
                StatusCode::OK,
                format!("{{\"messages\":[],\"next\":{since},\"truncated\":false}}"),
            );
        }
    }
}
