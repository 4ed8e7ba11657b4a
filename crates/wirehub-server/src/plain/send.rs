//! `POST /send`: how SSE and HTTP-streaming clients talk back. The bearer
//! token from their hello names the connection; the body holds one
//! envelope or several NDJSON lines. Answers (acks, errors, events) go out
//! on the client's stream; the response says how many envelopes were
//! accepted. An invalid envelope is refused with 400 and, as on every
//! transport, closes that client's connection.

use super::hub::PlainHub;
use super::reply::{self, Resp};
use super::session::{on_envelope, Refusal};
use crate::limits::EventBudget;
use http::{header, Request, StatusCode};
use serde_json::json;
use std::sync::Arc;
use wirehub_proto::plain::{codes, LineDecoder, LineError};

/// Handles one `POST /send`.
pub(crate) async fn send<B>(hub: &Arc<PlainHub>, req: Request<B>) -> Resp
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let token = bearer(&req).or_else(|| {
        super::query::parse(req.uri().query().unwrap_or(""))
            .ok()
            .and_then(|q| q.token)
    });
    let Some((socket, conn)) = token.as_deref().and_then(|t| hub.by_token(t)) else {
        return reply::error(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "missing or unknown session token",
        );
    };
    let config = hub.config();
    let body = match reply::read_body(config, req.into_body()).await {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    hub.io().metrics().received(body.len());
    let mut lines = LineDecoder::new(config.max_line);
    lines.feed(&body);
    lines.feed(b"\n");
    let mut accepted = 0;
    while let Some(line) = lines.next_line() {
        let line = match line {
            Ok(line) => line,
            Err(LineError::TooLong { max }) => {
                let message = format!("line over {max} bytes");
                conn.send_error(codes::TOO_LARGE, &message, None);
                conn.close(wirehub_proto::engineio::CloseReason::ParseError);
                return reply::error(StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE, &message);
            }
        };
        match on_envelope(&socket, &conn, line) {
            Ok(()) => accepted += 1,
            Err(refusal) => {
                conn.close(refusal.reason());
                return match refusal {
                    Refusal::Closed => {
                        reply::value(StatusCode::OK, &json!({ "accepted": accepted + 1 }))
                    }
                    Refusal::Invalid(e) => {
                        reply::error(StatusCode::BAD_REQUEST, e.code(), &e.to_string())
                    }
                    Refusal::RateLimited => {
                        let message = EventBudget::reason(config);
                        reply::error(StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED, &message)
                    }
                };
            }
        }
    }
    reply::value(StatusCode::OK, &json!({ "accepted": accepted }))
}

/// The token of an `Authorization: Bearer ...` header.
pub(crate) fn bearer<B>(req: &Request<B>) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}
