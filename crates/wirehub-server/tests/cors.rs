//! One CORS policy for Engine.IO and the plain endpoints: preflights and
//! simple requests answered alike, and, with an origin list, WebSocket
//! upgrades and plain streams from a foreign `Origin` refused with 403
//! (requests without `Origin` stay allowed).

mod common;

use common::plain::{start_plain, PlainServer};
use common::{HttpResponse, WsClient};
use tokio_tungstenite::tungstenite::Error as WsError;
use wirehub_server::{CorsOrigins, SocketIo, SocketIoBuilder};

const OK: &str = "http://ok.example";
const EVIL: &str = "http://evil.example";

async fn server(builder: SocketIoBuilder) -> PlainServer {
    start_plain(builder).await
}

fn listed() -> SocketIoBuilder {
    SocketIo::builder().cors(CorsOrigins::List(vec![OK.to_owned()]))
}

/// The CORS headers of a response, sorted.
fn cors_headers(resp: &HttpResponse) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "vary",
    ]
    .iter()
    .filter_map(|name| Some((name.to_string(), resp.header(name)?.to_owned())))
    .collect();
    found.sort();
    found
}

#[tokio::test]
async fn preflight_and_simple_requests_agree_across_endpoints() {
    for (builder, origin) in [
        (SocketIo::builder().cors(CorsOrigins::Any), OK),
        (
            SocketIo::builder()
                .cors(CorsOrigins::Any)
                .cors_credentials(true),
            OK,
        ),
        (listed(), OK),
        (listed(), EVIL),
    ] {
        let server = server(builder).await;
        let preflight = [("Origin", origin), ("Access-Control-Request-Method", "GET")];
        let engine = server
            .http(
                "OPTIONS",
                "/socket.io/?EIO=4&transport=polling",
                &preflight,
                b"",
            )
            .await;
        let plain = server.http("OPTIONS", "/sse", &preflight, b"").await;
        assert_eq!((engine.status, plain.status), (204, 204));
        assert_eq!(cors_headers(&engine), cors_headers(&plain), "{origin}");
        let methods = engine.header("access-control-allow-methods").unwrap_or("");
        assert!(
            methods.contains("POST") && methods.contains("DELETE"),
            "{methods}"
        );
        let headers = engine.header("access-control-allow-headers").unwrap_or("");
        assert!(headers.contains("Authorization"), "{headers}");
        let simple = [("Origin", origin)];
        let engine = server
            .http("GET", "/socket.io/?EIO=4&transport=polling", &simple, b"")
            .await;
        let plain = server.http("GET", "/poll?room=a", &simple, b"").await;
        assert_eq!(
            (engine.status, plain.status),
            (200, 200),
            "polling is not refused"
        );
        assert_eq!(cors_headers(&engine), cors_headers(&plain), "{origin}");
        let allowed = engine.header("access-control-allow-origin");
        assert_eq!(allowed.is_some(), origin == OK, "{origin}: {allowed:?}");
    }
}

#[tokio::test]
async fn a_foreign_origin_cannot_open_a_websocket_or_a_stream() {
    let server = server(listed()).await;
    let engine = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    let plain = format!("ws://{}/ws", server.addr);
    for url in [&engine, &plain] {
        match WsClient::raw_url(url, &[("Origin", EVIL)], true).await {
            Err(WsError::Http(resp)) => assert_eq!(resp.status(), 403, "{url}"),
            Err(e) => panic!("{url}: {e}"),
            Ok(_) => panic!("{url}: a foreign origin was let in"),
        }
        WsClient::raw_url(url, &[("Origin", OK)], true)
            .await
            .expect("listed origin");
        WsClient::raw_url(url, &[], true)
            .await
            .expect("no Origin: not a browser");
        let own = format!("http://{}", server.addr);
        WsClient::raw_url(url, &[("Origin", &own)], true)
            .await
            .expect("the server's own origin");
    }
    for target in ["/sse", "/stream"] {
        let resp = server.http("GET", target, &[("Origin", EVIL)], b"").await;
        assert_eq!(resp.status, 403, "{target}");
        assert_eq!(resp.json()["error"]["code"], "not_allowed", "{target}");
    }
    // Without a list (any origin, or same-origin only) nothing is refused.
    let open = server_any().await;
    let url = format!("ws://{}/ws", open.addr);
    WsClient::raw_url(&url, &[("Origin", EVIL)], true)
        .await
        .expect("any origin");
}

async fn server_any() -> PlainServer {
    server(SocketIo::builder().cors(CorsOrigins::Any)).await
}
