//! JSON responses of the plain HTTP endpoints, errors included:
//! `{"error":{"code":"...","message":"..."}}` with a matching status.

use super::body::PlainBody;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use wirehub_proto::plain::codes;

pub(crate) type Resp = Response<PlainBody>;

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(PlainBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A JSON value as a response.
pub(crate) fn value(status: StatusCode, value: &serde_json::Value) -> Resp {
    json(status, value.to_string())
}

/// An error response.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Resp {
    value(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

/// The refusal of a connection past a limit: 503 naming the limit.
pub(crate) fn limit(limit: crate::limits::LimitError) -> Resp {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        limit.plain_code(),
        &limit.to_string(),
    )
}

/// An error response carrying the data a middleware refused a connection with.
pub(crate) fn refusal(message: &str, data: Option<&serde_json::Value>) -> Resp {
    let mut body = json!({ "error": { "code": "connect_refused", "message": message } });
    if let Some(data) = data {
        body["error"]["data"] = data.clone();
    }
    value(StatusCode::FORBIDDEN, &body)
}

/// Reads a whole request body within the server's size and time limits;
/// `Err` is the response to give instead (413 or 400).
pub(crate) async fn read_body<B>(config: &crate::Config, body: B) -> Result<Bytes, Resp>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limited = Limited::new(body, config.max_payload);
    match tokio::time::timeout(config.body_timeout, limited.collect()).await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            let message = format!("body over {} bytes", config.max_payload);
            Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::TOO_LARGE,
                &message,
            ))
        }
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "could not read the body",
        )),
    }
}

/// An empty response.
pub(crate) fn empty(status: StatusCode) -> Resp {
    let mut resp = Response::new(PlainBody::empty());
    *resp.status_mut() = status;
    resp
}
