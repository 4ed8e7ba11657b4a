//! What a plain HTTP request must pass before any upgrade or stream
//! starts: the origin allowlist (WebSocket and streams: browsers do not
//! apply CORS to them) and, when the server verifies tokens, a JSON Web
//! Token as `Authorization: Bearer …` or `?token=` (`/ws`, `/sse`,
//! `/stream`, `/poll`, and every SockJS request that opens or receives on
//! a session: sockjs-client keeps the query of its URL on each request, so
//! `new SockJS(".../sockjs?token=…")` carries it). The verified claims
//! ride in the request's extensions to [`super::PlainHub`], which gives
//! them to the socket. `POST /send` and SockJS's `xhr_send` are not checked
//! here: they name a session that was admitted.

use super::hub::PlainHub;
use super::query;
use super::reply::{self, Resp};
use super::send::bearer;
use super::service::Route;
use crate::auth::JwtError;
use crate::cors;
use http::header::{self, HeaderValue};
use http::{Request, StatusCode};
use wirehub_proto::plain::codes;

/// Admits `req` to `route`, leaving its verified claims in its
/// extensions; or the refusal (403 for the origin, 401 for the token).
pub(super) fn refusal<B>(hub: &PlainHub, route: Route, req: &mut Request<B>) -> Option<Resp> {
    let opens = matches!(route, Route::Ws | Route::Sse | Route::Stream);
    if opens && cors::refuses(hub.config(), req.headers()) {
        return Some(reply::error(
            StatusCode::FORBIDDEN,
            codes::NOT_ALLOWED,
            cors::REFUSED,
        ));
    }
    let gate = hub.gate()?;
    if !(opens || route == Route::Poll || (route == Route::SockJs && sockjs_receives(req))) {
        return None;
    }
    let token = bearer(req).or_else(|| {
        query::parse(req.uri().query().unwrap_or(""))
            .ok()
            .and_then(|q| q.token)
    });
    match gate.check(token.as_deref()) {
        Ok(claims) => {
            req.extensions_mut().insert(claims);
            None
        }
        Err(e) => {
            tracing::debug!(error = %e, "token refused");
            let mut resp = reply::error(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                &e.to_string(),
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Some(resp)
        }
    }
}

/// Whether a SockJS request opens or receives on a session (not a
/// preflight, `/info` or `xhr_send`).
fn sockjs_receives<B>(req: &Request<B>) -> bool {
    let path = req.uri().path();
    req.method() != http::Method::OPTIONS
        && !path.ends_with("/info")
        && !path.ends_with("/xhr_send")
}

/// The JWT check of a TCP or UDP client's `connect` envelope (`token`:
/// what it presented, `None` if its first envelope was no `connect` or had
/// none), leaving the verified claims in `request`'s extensions.
pub(super) fn admit_token(
    hub: &PlainHub,
    token: Option<&str>,
    request: &mut http::request::Parts,
) -> Result<(), JwtError> {
    let Some(gate) = hub.gate() else {
        return Ok(());
    };
    let claims = gate.check(token).inspect_err(|e| {
        tracing::debug!(error = %e, "token refused");
    })?;
    request.extensions.insert(claims);
    Ok(())
}
