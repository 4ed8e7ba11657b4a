//! Mounting in axum, as the README says the server library does: the
//! Socket.IO layer (`build_layer`) on an axum `Router`, served by
//! `axum::serve`. The router's own routes and its 404 answer as before;
//! Socket.IO works on its path over long-polling, WebSocket and the upgrade
//! from one to the other.

mod common;

use axum::routing::get;
use axum::Router;
use common::{echo_ns, http, PanicCheck, Polling, Reasons, WsClient};
use wirehub_server::SocketIo;

#[tokio::test]
async fn socketio_layer_on_an_axum_router() {
    let _panics = PanicCheck::new();
    let (layer, io) = SocketIo::builder().build_layer();
    let reasons = Reasons::default();
    echo_ns(&io, "/", &reasons);
    let app = Router::new()
        .route("/hello", get(|| async { "hello from axum" }))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The router's routes, and its 404 elsewhere.
    let hello = http(addr, "GET", "/hello", &[], b"").await;
    assert_eq!(
        (hello.status, hello.text().as_str()),
        (200, "hello from axum")
    );
    assert_eq!(http(addr, "GET", "/nowhere", &[], b"").await.status, 404);

    // Long-polling.
    let polling = Polling::open(addr).await;
    polling.connect_ns("/", None).await;
    polling.send(r#"42["message","over polling"]"#).await;
    assert_eq!(
        polling.poll().await,
        [r#"42["message-back","over polling"]"#]
    );

    // WebSocket.
    let mut ws = WsClient::open(addr).await;
    ws.connect_ns("/", None).await;
    ws.assert_echo().await;

    // Long-polling, then the upgrade.
    let upgrading = Polling::open(addr).await;
    let id = upgrading.connect_ns("/", None).await;
    let mut upgraded = WsClient::upgrade(addr, &upgrading.sid).await;
    upgraded.assert_echo().await;
    assert_eq!(io.of("/").map(|ns| ns.socket_count()), Some(3));

    // Engine.IO errors are the layer's, not the router's.
    let bad = http(addr, "GET", "/socket.io/?EIO=4&transport=nope", &[], b"").await;
    bad.assert_error(400, 0, "Transport unknown");
    drop(upgraded);
    assert_eq!(reasons.wait(&id).await, "transport close");
}
