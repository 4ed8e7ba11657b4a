//! Mounting as a tower layer: requests outside the Engine.IO path reach the
//! inner service (with their method, path and body), Socket.IO works next
//! to it on the default or a custom path, and the standalone service
//! answers 404 elsewhere.

mod common;

use common::{echo_ns, http, start_default, PanicCheck, Polling, Reasons, WsClient};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_layer::Layer;
use tower_service::Service;
use wirehub_server::SocketIo;

/// The application the Socket.IO layer wraps: answers `inner <method> <path> <body>`.
#[derive(Clone, Copy)]
struct App;

impl Service<http::Request<Incoming>> for App {
    type Response = http::Response<String>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Incoming>) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let text = format!(
                "inner {} {} {}",
                parts.method,
                parts.uri,
                String::from_utf8_lossy(&body)
            );
            let mut resp = http::Response::new(text);
            *resp.status_mut() = http::StatusCode::IM_A_TEAPOT;
            Ok(resp)
        })
    }
}

/// Serves `App` wrapped in a Socket.IO layer built from `builder`; the
/// last item fails the test when dropped if a server task panicked.
async fn serve_app(
    builder: wirehub_server::SocketIoBuilder,
) -> (
    SocketAddr,
    SocketIo,
    Reasons,
    oneshot::Sender<()>,
    PanicCheck,
) {
    let panics = PanicCheck::new();
    let (layer, io) = builder.build_layer();
    let reasons = Reasons::default();
    echo_ns(&io, "/", &reasons);
    let service = layer.layer(App);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        wirehub_server::serve(listener, service, shutdown)
            .await
            .unwrap();
    });
    (addr, io, reasons, stop, panics)
}

#[tokio::test]
async fn other_paths_reach_the_inner_service() {
    let (addr, _io, _reasons, _stop, _panics) = serve_app(SocketIo::builder()).await;
    let resp = http(addr, "GET", "/hello?x=1", &[], b"").await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (418, "inner GET /hello?x=1 ")
    );
    let resp = http(addr, "POST", "/api/items", &[], b"payload").await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (418, "inner POST /api/items payload")
    );
    // Only the exact Engine.IO path is the layer's.
    for path in ["/socket.iox/", "/socket.io/x", "/", "/socket"] {
        let resp = http(addr, "GET", path, &[], b"").await;
        assert_eq!(resp.status, 418, "{path}");
    }

    // Socket.IO next to it, with and without the trailing slash.
    let p = Polling::open(addr).await;
    p.connect_ns("/", None).await;
    let resp = http(addr, "GET", "/socket.io?EIO=4&transport=polling", &[], b"").await;
    assert_eq!(resp.status, 200);
    assert!(resp.text().starts_with("0{"), "{}", resp.text());
    let mut ws = WsClient::open(addr).await;
    ws.connect_ns("/", None).await;
    ws.assert_echo().await;
    // Engine.IO errors stay the layer's.
    let resp = http(addr, "GET", "/socket.io/?EIO=4&transport=nope", &[], b"").await;
    resp.assert_error(400, 0, "Transport unknown");
}

#[tokio::test]
async fn custom_path_leaves_the_default_one_to_the_inner_service() {
    let (addr, _io, _reasons, _stop, _panics) = serve_app(SocketIo::builder().path("rt")).await;
    let resp = http(addr, "GET", "/socket.io/?EIO=4&transport=polling", &[], b"").await;
    assert_eq!(resp.status, 418);
    assert_eq!(
        resp.text(),
        "inner GET /socket.io/?EIO=4&transport=polling "
    );
    let resp = http(addr, "GET", "/rt/?EIO=4&transport=polling", &[], b"").await;
    assert_eq!(resp.status, 200);
    let open: serde_json::Value = serde_json::from_str(&resp.text()[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap();
    let target = format!("/rt/?EIO=4&transport=polling&sid={sid}");
    let resp = http(addr, "POST", &target, &[], b"40").await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
    let resp = http(addr, "GET", &target, &[], b"").await;
    common::parse_connect_ok("/", &resp.text());
    let default_ws = WsClient::raw(addr, "EIO=4&transport=websocket", &[], true).await;
    assert!(default_ws.is_err(), "no WebSocket on the default path");
    let url = format!("ws://{addr}/rt/?EIO=4&transport=websocket");
    let mut ws = WsClient::open_url(&url, &[], true).await;
    ws.connect_ns("/", None).await;
    ws.assert_echo().await;
}

#[tokio::test]
async fn standalone_service_answers_404_elsewhere() {
    let server = start_default().await;
    let resp = server.get("/elsewhere").await;
    assert_eq!((resp.status, resp.text().as_str()), (404, "Not Found"));
    let resp = server.http("POST", "/", &[], b"x").await;
    assert_eq!(resp.status, 404);
    server.assert_healthy().await;
}
