//! The built-in chat demo: its page, script and style, embedded in the
//! binary and served at `/`, and the chat's Socket.IO handlers ([`chat`]).

pub(crate) mod chat;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use std::convert::Infallible;
use std::task::{Context, Poll};

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/demo/index.html"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/demo/app.js"),
    },
    Asset {
        path: "/wirehub-client.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/demo/wirehub-client.js"),
    },
    Asset {
        path: "/plain-client.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/demo/plain-client.js"),
    },
    Asset {
        path: "/sockjs-client.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/demo/sockjs-client.js"),
    },
    Asset {
        path: "/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/demo/style.css"),
    },
];

/// Serves the demo files (or only 404s when the demo is off).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Assets {
    enabled: bool,
}

impl Assets {
    pub(crate) fn new(enabled: bool) -> Self {
        Assets { enabled }
    }

    fn respond(&self, path: &str) -> Response<Full<Bytes>> {
        let path = if path == "/index.html" { "/" } else { path };
        let found = self
            .enabled
            .then(|| ASSETS.iter().find(|a| a.path == path))
            .flatten();
        let Some(asset) = found else {
            let mut resp = Response::new(Full::new(Bytes::from_static(b"Not Found")));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            return resp;
        };
        let mut resp = Response::new(Full::new(Bytes::from_static(asset.body.as_bytes())));
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; connect-src 'self'",
            ),
        );
        resp
    }
}

impl<B> tower_service::Service<Request<B>> for Assets {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        std::future::ready(Ok(self.respond(req.uri().path())))
    }
}
