//! The one CORS policy of every HTTP endpoint (Engine.IO and plain), from
//! [`Config::cors`] and [`Config::cors_credentials`]:
//!
//! - an allowed `Origin` gets `Access-Control-Allow-Origin`: `*` when any
//!   origin is allowed without credentials, else the origin echoed; always
//!   with `Vary: Origin`, plus `Access-Control-Allow-Credentials: true`
//!   when credentials are allowed;
//! - a preflight (`OPTIONS`) is answered 204 with the allowed methods and
//!   headers (those the browser asks for, else `Authorization`,
//!   `Content-Type`, `Last-Event-ID`);
//! - with an explicit list, a WebSocket upgrade or a plain stream from an
//!   `Origin` neither in it nor the server's own is refused ([`refuses`]):
//!   browsers do not apply CORS to WebSocket, and a stream's side effects
//!   (joins) happen before the browser would hide its body. Requests
//!   without `Origin` (non-browser clients) are never refused.

use crate::config::{Config, CorsOrigins};
use http::header::{self, HeaderMap, HeaderValue};

/// The methods a preflight allows.
const METHODS: &str = "GET, HEAD, PUT, PATCH, POST, DELETE";
/// The headers a preflight allows when the browser names none.
const HEADERS: &str = "Authorization, Content-Type, Last-Event-ID";

/// Adds the CORS headers for a request from `origin` to a response.
pub(crate) fn apply(config: &Config, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    let Some(origin) = origin else { return };
    if !origin.to_str().is_ok_and(|o| config.cors.allows(o)) {
        return;
    }
    let star = config.cors == CorsOrigins::Any && !config.cors_credentials;
    let value = match star {
        true => HeaderValue::from_static("*"),
        false => origin.clone(),
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if config.cors_credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// Adds what a preflight answer allows (methods, headers) to `headers`.
pub(crate) fn preflight(request: &HeaderMap, headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    let asked = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        asked.unwrap_or(HeaderValue::from_static(HEADERS)),
    );
}

/// Whether a request must be refused for its `Origin`: a list is
/// configured, the request has an `Origin`, and it is neither in the list
/// nor the server's own (same host and port as the `Host` header, e.g. the
/// page the server itself serves).
pub(crate) fn refuses(config: &Config, request: &HeaderMap) -> bool {
    let CorsOrigins::List(_) = &config.cors else {
        return false;
    };
    let Some(origin) = request.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    !config.cors.allows(origin) && !same_origin(origin, request)
}

/// Whether `origin` names the host (and port) the request was sent to.
fn same_origin(origin: &str, request: &HeaderMap) -> bool {
    let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
    let host = request.get(header::HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|host| !host.is_empty() && host.eq_ignore_ascii_case(authority))
}

/// The message of a refusal by [`refuses`].
pub(crate) const REFUSED: &str = "origin not allowed";

#[cfg(test)]
mod tests {
    use super::*;

    fn config(cors: CorsOrigins, credentials: bool) -> Config {
        Config::builder()
            .cors(cors)
            .cors_credentials(credentials)
            .build()
    }

    fn origin_header(config: &Config, origin: &'static str) -> Option<String> {
        let mut headers = HeaderMap::new();
        apply(
            config,
            Some(&HeaderValue::from_static(origin)),
            &mut headers,
        );
        headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn star_only_for_any_without_credentials() {
        let any = config(CorsOrigins::Any, false);
        assert_eq!(
            origin_header(&any, "http://a.example").as_deref(),
            Some("*")
        );
        let creds = config(CorsOrigins::Any, true);
        let echoed = origin_header(&creds, "http://a.example");
        assert_eq!(echoed.as_deref(), Some("http://a.example"));
        let none = config(CorsOrigins::None, false);
        assert_eq!(origin_header(&none, "http://a.example"), None);
    }

    #[test]
    fn only_a_list_refuses_foreign_origins() {
        let list = config(CorsOrigins::List(vec!["http://ok.example".into()]), false);
        let mut request = HeaderMap::new();
        assert!(!refuses(&list, &request), "no Origin: not a browser");
        request.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://ok.example"),
        );
        assert!(!refuses(&list, &request));
        request.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(refuses(&list, &request));
        request.insert(header::HOST, HeaderValue::from_static("evil.example"));
        assert!(!refuses(&list, &request), "the server's own origin");
        request.insert(header::HOST, HeaderValue::from_static("evil.example:8080"));
        assert!(refuses(&list, &request), "another port is another origin");
        assert!(!refuses(&config(CorsOrigins::Any, false), &request));
        assert!(!refuses(&config(CorsOrigins::None, false), &request));
    }

    #[test]
    fn preflight_allows_authorization_by_default() {
        let mut headers = HeaderMap::new();
        preflight(&HeaderMap::new(), &mut headers);
        let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap();
        assert!(allowed.contains("Authorization"), "{allowed}");
    }
}
