//! SockJS over real sockets: the framed WebSocket transport (open frame,
//! the hello as a message, heartbeats, broken JSON closing the session
//! with `c[3000,...]`), the raw WebSocket (the plain `/ws`), an oversized
//! `xhr_send` closing only its session, and the session timeout.

mod common;

use common::plain::{start_plain, PlainServer};
use common::{Msg, WsClient};
use serde_json::Value;
use std::time::Duration;
use wirehub_server::{SockJsConfig, SocketIo};

async fn server() -> PlainServer {
    let sockjs = SockJsConfig {
        heartbeat: Duration::from_millis(200),
        disconnect_delay: Duration::from_millis(200),
        ..SockJsConfig::default()
    };
    start_plain(
        SocketIo::builder()
            .max_payload(1000)
            .config_with(|c| c.sockjs(sockjs)),
    )
    .await
}

/// The envelopes of a message frame `a[...]`.
fn envelopes(frame: &str) -> Vec<Value> {
    let body = frame.strip_prefix('a').expect("a message frame");
    let messages: Vec<String> = serde_json::from_str(body).expect("a JSON array");
    messages
        .iter()
        .map(|m| serde_json::from_str(m).expect("an envelope"))
        .collect()
}

#[tokio::test]
async fn websocket_frames_heartbeats_and_broken_json() {
    let server = server().await;
    let url = format!("ws://{}/sockjs/000/ws1/websocket", server.addr);
    let mut ws = WsClient::raw_url(&url, &[], true).await.expect("handshake");
    assert_eq!(ws.recv_text().await, "o");
    let first = envelopes(&ws.recv_text().await);
    assert_eq!(first[0]["type"], "hello", "{first:?}");
    ws.send(r#"["{\"type\":\"ping\"}"]"#);
    loop {
        let frame = ws.recv_text().await;
        if frame != "h" && envelopes(&frame).iter().any(|e| e["type"] == "pong") {
            break;
        }
    }
    // Quiet for a while: heartbeats.
    assert_eq!(ws.recv_text().await, "h");
    ws.send(r#"["x"#);
    let mut last = String::new();
    loop {
        match ws.recv().await {
            Msg::Text(t) => last = t,
            Msg::Closed => break,
            Msg::Binary(_) => panic!("a binary message"),
        }
    }
    assert_eq!(last, r#"c[3000,"Go away!"]"#);
}

#[tokio::test]
async fn raw_websocket_is_the_plain_endpoint() {
    let server = server().await;
    let url = format!("ws://{}/sockjs/websocket?ns=/chat", server.addr);
    let mut ws = WsClient::raw_url(&url, &[], true).await.expect("handshake");
    let hello: Value = serde_json::from_str(&ws.recv_text().await).expect("JSON");
    assert_eq!(
        (hello["type"].as_str(), hello["ns"].as_str()),
        (Some("hello"), Some("/chat"))
    );
}

#[tokio::test]
async fn an_oversized_xhr_send_closes_only_its_session() {
    let server = server().await;
    let (a, b) = ("/sockjs/000/big", "/sockjs/000/small");
    for s in [a, b] {
        let xhr = format!("{s}/xhr");
        assert_eq!(server.http("POST", &xhr, &[], b"").await.text(), "o\n");
        assert!(server
            .http("POST", &xhr, &[], b"")
            .await
            .text()
            .starts_with("a["));
    }
    let big = format!(r#"["{}"]"#, "x".repeat(2000));
    let send = server
        .http("POST", &format!("{a}/xhr_send"), &[], big.as_bytes())
        .await;
    assert_eq!(send.status, 413);
    let mut frames = Vec::new();
    while !frames.last().is_some_and(|f: &String| f.starts_with('c')) {
        assert!(frames.len() < 20, "no close frame: {frames:?}");
        frames.push(
            server
                .http("POST", &format!("{a}/xhr"), &[], b"")
                .await
                .text(),
        );
    }
    assert_eq!(
        frames.last().map(String::as_str),
        Some("c[3000,\"Go away!\"]\n")
    );
    assert!(frames.iter().any(|f| f.contains("too_large")), "{frames:?}");
    // The other session goes on.
    let ping = br#"["{\"type\":\"ping\"}"]"#;
    assert_eq!(
        server
            .http("POST", &format!("{b}/xhr_send"), &[], ping)
            .await
            .status,
        204
    );
    let pong = server
        .http("POST", &format!("{b}/xhr"), &[], b"")
        .await
        .text();
    assert_eq!(pong, "a[\"{\\\"type\\\":\\\"pong\\\"}\"]\n");
}

#[tokio::test]
async fn a_session_without_a_receiver_times_out() {
    let server = server().await;
    let xhr = "/sockjs/000/gone/xhr";
    assert_eq!(server.http("POST", xhr, &[], b"").await.text(), "o\n");
    assert_eq!(server.hub.session_count(), 1);
    common::within("the session timeout", async {
        while server.hub.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let send = server
        .http("POST", "/sockjs/000/gone/xhr_send", &[], b"[]")
        .await;
    assert_eq!(send.status, 404);
}
