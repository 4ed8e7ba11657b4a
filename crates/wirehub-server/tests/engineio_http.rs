//! Engine.IO request errors (codes 0-5 with the reference server's status and
//! JSON body), the `allow_request` hook, and CORS headers — each bad request
//! leaving other sessions working and the server answering.

mod common;

use common::{start, start_default, HttpResponse, TestServer, WsClient, POLLING};
use wirehub_server::{CorsOrigins, SocketIo};

/// The headers of a WebSocket upgrade request.
const UPGRADE: [(&str, &str); 4] = [
    ("Connection", "Upgrade"),
    ("Upgrade", "websocket"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

/// A refused WebSocket upgrade. The reference answers every refused upgrade
/// 400 with the bare message as a text body (`abortUpgrade`), where polling
/// requests get the JSON body: accept either body, as long as it carries
/// the message.
fn assert_upgrade_refused(resp: &HttpResponse, status: u16, message: &str) {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert!(resp.text().contains(message), "{}", resp.text());
}

async fn witness(server: &TestServer) -> WsClient {
    server.ws_connected().await.0
}

#[tokio::test]
async fn unknown_transport_is_code_0() {
    let server = start_default().await;
    let mut w = witness(&server).await;
    for target in [
        "/socket.io/?EIO=4&transport=udp",
        "/socket.io/?EIO=4",
        "/socket.io/?EIO=4&transport=",
        "/socket.io/?EIO=4&transport=Polling",
    ] {
        let resp = server.get(target).await;
        resp.assert_error(400, 0, "Transport unknown");
    }
    // On an existing session too, and the session is left alone.
    let session = server.polling().await;
    let target = format!("/socket.io/?EIO=4&transport=flash&sid={}", session.sid);
    server
        .get(&target)
        .await
        .assert_error(400, 0, "Transport unknown");
    session.connect_ns("/", None).await;
    // A disabled transport is unknown as well.
    let polling_only = start(SocketIo::builder().transports(vec![
        wirehub_server::proto::engineio::TransportKind::Polling,
    ]))
    .await;
    let resp = polling_only
        .http(
            "GET",
            "/socket.io/?EIO=4&transport=websocket",
            &UPGRADE,
            b"",
        )
        .await;
    assert_upgrade_refused(&resp, 400, "Transport unknown");
    polling_only.assert_healthy().await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn unknown_sid_is_code_1() {
    let server = start_default().await;
    let mut w = witness(&server).await;
    let target = format!("{POLLING}&sid=nope");
    server
        .get(&target)
        .await
        .assert_error(400, 1, "Session ID unknown");
    let resp = server.http("POST", &target, &[], b"4hello").await;
    resp.assert_error(400, 1, "Session ID unknown");
    // An upgrade to an unknown session.
    let ws_target = "/socket.io/?EIO=4&transport=websocket&sid=nope";
    let resp = server.http("GET", ws_target, &UPGRADE, b"").await;
    assert_upgrade_refused(&resp, 400, "Session ID unknown");
    // The sid of a WebSocket session is not a polling session's.
    let target = format!("{POLLING}&sid={}", w.sid);
    server
        .get(&target)
        .await
        .assert_error(400, 3, "Bad request");
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn post_handshake_is_code_2() {
    let server = start_default().await;
    let mut w = witness(&server).await;
    let resp = server.http("POST", POLLING, &[], b"40").await;
    resp.assert_error(400, 2, "Bad handshake method");
    let resp = server.http("PUT", POLLING, &[], b"").await;
    resp.assert_error(400, 2, "Bad handshake method");
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn missing_or_invalid_eio_is_code_5() {
    let server = start_default().await;
    let mut w = witness(&server).await;
    for target in [
        "/socket.io/?transport=polling",
        "/socket.io/?EIO=3&transport=polling",
        "/socket.io/?EIO=abc&transport=polling",
        "/socket.io/?EIO=&transport=polling",
    ] {
        let resp = server.get(target).await;
        resp.assert_error(400, 5, "Unsupported protocol version");
    }
    let resp = server
        .http(
            "GET",
            "/socket.io/?EIO=3&transport=websocket",
            &UPGRADE,
            b"",
        )
        .await;
    assert_upgrade_refused(&resp, 400, "Unsupported protocol version");
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn polling_after_upgrade_is_code_3_and_keeps_the_session() {
    let server = start_default().await;
    let mut w = witness(&server).await;
    let session = server.polling().await;
    session.connect_ns("/", None).await;
    let mut ws = WsClient::upgrade(server.addr, &session.sid).await;
    // The echo comes back on the WebSocket: the upgrade is complete.
    ws.assert_echo().await;
    session.get().await.assert_error(400, 3, "Bad request");
    let resp = session.post(br#"42["message","x"]"#).await;
    resp.assert_error(400, 3, "Bad request");
    // The refused requests did not close the upgraded session.
    ws.assert_echo().await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn allow_request_refuses_with_403_code_4() {
    let server = start(SocketIo::builder().allow_request(|parts| {
        match parts.headers.get("x-token").map(|v| v.as_bytes()) {
            Some(b"letmein") => Ok(()),
            _ => Err("go away".to_owned()),
        }
    }))
    .await;
    let mut w = WsClient::open_with(server.addr, &[("x-token", "letmein")], true).await;
    w.connect_ns("/", None).await;

    server.get(POLLING).await.assert_error(403, 4, "go away");
    let wrong = [("x-token", "nope")];
    server
        .http("GET", POLLING, &wrong, b"")
        .await
        .assert_error(403, 4, "go away");
    let resp = server
        .http(
            "GET",
            "/socket.io/?EIO=4&transport=websocket",
            &UPGRADE,
            b"",
        )
        .await;
    // The reference answers 400 here (every refused upgrade); 403 as for
    // polling is accepted too.
    let status = if resp.status == 403 { 403 } else { 400 };
    assert_upgrade_refused(&resp, status, "go away");

    let ok = server
        .http("GET", POLLING, &[("x-token", "letmein")], b"")
        .await;
    assert_eq!(ok.status, 200);
    assert!(ok.text().starts_with("0{\"sid\":"), "{}", ok.text());
    // Requests with a sid are not handshakes: the hook is not asked again.
    let sid = serde_json::from_str::<serde_json::Value>(&ok.text()[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = format!("{POLLING}&sid={sid}");
    let resp = server.http("POST", &target, &[], b"40").await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
    w.assert_echo().await;
    assert_eq!(
        server.get(POLLING).await.status,
        403,
        "server still answering"
    );
    common::assert_no_panic();
}

#[tokio::test]
async fn cors_any_answers_star() {
    let server = start(SocketIo::builder().cors(CorsOrigins::Any)).await;
    let origin = [("Origin", "http://a.example")];
    let resp = server.http("GET", POLLING, &origin, b"").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    assert_eq!(resp.header("access-control-allow-credentials"), None);
    // Error responses carry the header too.
    let resp = server
        .http("GET", "/socket.io/?EIO=3&transport=polling", &origin, b"")
        .await;
    resp.assert_error(400, 5, "Unsupported protocol version");
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    // No Origin header, no CORS header.
    let resp = server.get(POLLING).await;
    assert_eq!(resp.header("access-control-allow-origin"), None);
    server.assert_healthy().await;
}

#[tokio::test]
async fn cors_with_credentials_echoes_the_origin() {
    let server = start(
        SocketIo::builder()
            .cors(CorsOrigins::Any)
            .cors_credentials(true),
    )
    .await;
    let resp = server
        .http("GET", POLLING, &[("Origin", "http://a.example")], b"")
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://a.example")
    );
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        Some("true")
    );
    server.assert_healthy().await;
}

#[tokio::test]
async fn cors_list_echoes_allowed_origins_only() {
    let list = CorsOrigins::List(vec![
        "http://ok.example".to_owned(),
        "https://also.example".to_owned(),
    ]);
    let server = start(SocketIo::builder().cors(list)).await;
    for allowed in ["http://ok.example", "https://also.example"] {
        let resp = server
            .http("GET", POLLING, &[("Origin", allowed)], b"")
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("access-control-allow-origin"), Some(allowed));
        assert_eq!(resp.header("vary"), Some("Origin"));
    }
    for refused in ["http://evil.example", "http://ok.example.evil", "null"] {
        let resp = server
            .http("GET", POLLING, &[("Origin", refused)], b"")
            .await;
        assert_eq!(resp.status, 200, "CORS does not refuse the request itself");
        assert_eq!(
            resp.header("access-control-allow-origin"),
            None,
            "{refused}"
        );
    }
    server.assert_healthy().await;
}

#[tokio::test]
async fn cors_preflight_is_204() {
    let server = start(SocketIo::builder().cors(CorsOrigins::Any)).await;
    let headers = [
        ("Origin", "http://a.example"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "content-type,x-custom"),
    ];
    let resp = server.http("OPTIONS", POLLING, &headers, b"").await;
    assert_eq!(resp.status, 204);
    assert!(resp.body.is_empty());
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    let methods = resp.header("access-control-allow-methods").unwrap_or("");
    for m in ["GET", "POST"] {
        assert!(methods.split(',').any(|x| x.trim() == m), "{methods}");
    }
    assert_eq!(
        resp.header("access-control-allow-headers"),
        Some("content-type,x-custom")
    );
    // A preflight for a session URL does not touch the session.
    let session = server.polling().await;
    let resp = server
        .http("OPTIONS", &session.target(), &headers, b"")
        .await;
    assert_eq!(resp.status, 204);
    session.connect_ns("/", None).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn cors_none_by_default() {
    let server = start_default().await;
    let resp = server
        .http("GET", POLLING, &[("Origin", "http://a.example")], b"")
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("access-control-allow-origin"), None);
    server.assert_healthy().await;
}
