//! The plain WebSocket endpoint (`/ws`): hello, the connection handler's
//! emits, events to server handlers and their acks, the server's
//! `emit_with_ack`, join/leave acks, ping, close; namespaces and refusals
//! (1008); bad envelopes (1007), binary messages (1003), oversized messages
//! (1009), each closing only the offending client; rooms switched off; the
//! server's pings, and the close of a peer that does not answer them.

mod common;

use common::plain::{start_plain, Kind, PlainServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use wirehub_server::SocketIo;

async fn server() -> PlainServer {
    start_plain(SocketIo::builder()).await
}

#[tokio::test]
async fn hello_welcome_events_acks_and_ping() {
    let server = server().await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    assert_eq!(c.hello["pingInterval"], 25_000);
    assert_eq!(c.hello["maxPayload"], 1_000_000);
    assert!(c.hello.get("token").is_none());

    c.send(json!({"type":"emit","event":"message","args":[1,"two"]}))
        .await;
    let back = c.expect_type("event").await;
    assert_eq!(
        back,
        json!({"type":"event","event":"message-back","args":[1,"two"]})
    );

    c.send(json!({"type":"emit","event":"message-with-ack","data":{"x":null},"id":4}))
        .await;
    assert_eq!(
        c.expect_type("ack").await,
        json!({"type":"ack","id":4,"data":{"x":null}})
    );

    c.send(json!({"type":"ping"})).await;
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));
}

#[tokio::test]
async fn server_emit_with_ack_is_answered_by_an_ack_envelope() {
    let server = server().await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    c.send(json!({"type":"emit","event":"ask","data":"why?"}))
        .await;
    let question = c.expect_type("event").await;
    assert_eq!(question["event"], "question");
    assert_eq!(question["data"], "why?");
    let id = question["id"]
        .as_u64()
        .expect("the question asks for an ack");
    c.send(json!({"type":"ack","id":id,"data":"because"})).await;
    let answer = c.expect_type("event").await;
    assert_eq!(answer["event"], "answer");
    assert_eq!(answer["data"], json!({"ok":"because"}));
}

#[tokio::test]
async fn join_and_leave_are_acked_with_the_sorted_rooms() {
    let server = server().await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    c.send(json!({"type":"join","rooms":["b","a"],"id":1}))
        .await;
    assert_eq!(
        c.expect_type("ack").await,
        json!({"type":"ack","id":1,"data":{"rooms":["a","b"]}})
    );
    c.send(json!({"type":"leave","room":"a","id":2})).await;
    assert_eq!(
        c.expect_type("ack").await,
        json!({"type":"ack","id":2,"data":{"rooms":["b"]}})
    );
    // Without an id, no ack: the pong comes next.
    c.send(json!({"type":"join","room":"c"})).await;
    c.send(json!({"type":"ping"})).await;
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));
}

#[tokio::test]
async fn close_envelope_ends_the_session_normally() {
    let server = server().await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    c.send(json!({"type":"close"})).await;
    assert_eq!(c.expect_closed().await, Some(1000));
    let reason = server.reasons.wait(&c.sid).await;
    assert_eq!(reason, "transport close");
}

#[tokio::test]
async fn namespaces_by_query() {
    let server = server().await;
    let mut chat = server.client(Kind::Ws, "/chat", &[]).await;
    chat.assert_alive().await;
    let mut bare = server.open(Kind::Ws, "ns=chat", &[]).await.unwrap();
    bare.read_hello("/chat").await;

    let mut unknown = server.open(Kind::Ws, "ns=/nope", &[]).await.unwrap();
    let err = unknown.expect_error("unknown_namespace").await;
    assert!(err["message"].as_str().unwrap().contains("/nope"), "{err}");
    assert_eq!(unknown.expect_closed().await, Some(1008));
}

#[tokio::test]
async fn middleware_refusal_is_connect_refused_with_its_data() {
    let server = server().await;
    let mut refused = server
        .open(
            Kind::Ws,
            "ns=/private&auth=%7B%22token%22%3A%22no%22%7D",
            &[],
        )
        .await
        .unwrap();
    let err = refused.expect_error("connect_refused").await;
    assert_eq!(err["message"], "unauthorized");
    assert_eq!(err["data"], json!({"reason":"bad token"}));
    assert_eq!(refused.expect_closed().await, Some(1008));

    let query = "ns=/private&auth=%7B%22token%22%3A%22ok%22%7D";
    let mut ok = server.open(Kind::Ws, query, &[]).await.unwrap();
    ok.read_hello("/private").await;
}

/// Sends `bad`; the client gets `code` and close code 1007, the bystander
/// connected before keeps working.
async fn refused_envelope(bad: &str, code: &str) {
    let server = server().await;
    let mut bystander = server.client(Kind::Ws, "/", &[]).await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    c.write(bad.as_bytes());
    c.expect_error(code).await;
    assert_eq!(c.expect_closed().await, Some(1007), "after {bad}");
    assert_eq!(server.reasons.wait(&c.sid).await, "parse error");
    bystander.assert_alive().await;
}

#[tokio::test]
async fn invalid_json_closes_with_1007() {
    refused_envelope(r#"{"type":"emit""#, "bad_json").await;
}

#[tokio::test]
async fn unknown_type_closes_with_1007() {
    refused_envelope(r#"{"type":"shout"}"#, "unknown_type").await;
}

#[tokio::test]
async fn bad_fields_close_with_1007() {
    refused_envelope(r#"{"type":"join","rooms":[]}"#, "bad_field").await;
    refused_envelope(
        r#"{"type":"emit","event":"x","data":1,"args":[1]}"#,
        "bad_field",
    )
    .await;
    refused_envelope(r#"{"type":"emit","event":"x","id":-1}"#, "bad_field").await;
}

#[tokio::test]
async fn bad_envelopes_close_with_1007() {
    refused_envelope(r#"[1,2]"#, "bad_envelope").await;
    refused_envelope(r#"{"type":"ping","type":"ping"}"#, "bad_envelope").await;
    refused_envelope(r#"{"type":"connect"}"#, "bad_envelope").await;
}

#[tokio::test]
async fn reserved_event_names_close_with_1007() {
    refused_envelope(r#"{"type":"emit","event":"disconnect"}"#, "reserved_event").await;
}

#[tokio::test]
async fn binary_message_closes_with_1003() {
    let server = server().await;
    let mut bystander = server.client(Kind::Ws, "/", &[]).await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    c.send_binary(b"\x01\x02");
    c.expect_error("bad_envelope").await;
    assert_eq!(c.expect_closed().await, Some(1003));
    bystander.assert_alive().await;
}

#[tokio::test]
async fn oversized_message_closes_with_1009() {
    let server = start_plain(SocketIo::builder().max_payload(1000)).await;
    let mut bystander = server.client(Kind::Ws, "/", &[]).await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    assert_eq!(c.hello["maxPayload"], 1000);
    let big = format!(
        r#"{{"type":"emit","event":"message","data":"{}"}}"#,
        "x".repeat(2000)
    );
    c.write(big.as_bytes());
    c.expect_error("too_large").await;
    assert_eq!(c.expect_closed().await, Some(1009));
    bystander.assert_alive().await;
}

#[tokio::test]
async fn rooms_switched_off_answer_not_allowed_and_keep_the_client() {
    let server =
        start_plain(SocketIo::builder().config_with(|c| c.plain_client_rooms(false))).await;
    let mut c = server.client(Kind::Ws, "/", &[]).await;
    c.send(json!({"type":"join","room":"a","id":3})).await;
    let err = c.expect_error("not_allowed").await;
    assert_eq!(err["id"], 3);
    c.send(json!({"type":"emit","event":"chat","room":"a","data":1,"id":4}))
        .await;
    assert_eq!(c.expect_error("not_allowed").await["id"], 4);
    c.assert_alive().await;
}

/// The README's `/ws` keep-alive: the server sends a WebSocket ping every
/// ping interval; a peer that answers (any WebSocket client that reads:
/// tungstenite answers each ping with a pong) stays, a silent one is dropped
/// after an interval without an answer, with close code 1001 and reason
/// "ping timeout".
#[tokio::test]
async fn server_pings_and_drops_a_silent_peer() {
    let server =
        start_plain(SocketIo::builder().ping_interval(std::time::Duration::from_millis(100))).await;
    let url = format!("ws://{}/ws?ns=/", server.addr);

    let (mut alive, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    let mut pings = 0;
    while pings < 3 {
        match next(&mut alive).await {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Text(_))) => {} // hello, welcome
            other => panic!("expected pings, got {other:?}"),
        }
    }
    // Three intervals later it is still served.
    alive
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .expect("send");
    loop {
        match next(&mut alive).await {
            Some(Ok(Message::Text(t))) => {
                assert_eq!(t.as_str(), r#"{"type":"pong"}"#);
                break;
            }
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("expected the pong, got {other:?}"),
        }
    }

    drop(alive);

    // This one reads its hello, then nothing more: no pong ever goes back.
    let (mut silent, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    let hello = match next(&mut silent).await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<serde_json::Value>(&t).expect("JSON"),
        other => panic!("expected the hello, got {other:?}"),
    };
    let sid = hello["sid"].as_str().expect("sid").to_owned();
    assert_eq!(server.reasons.wait(&sid).await, "ping timeout");
    let close = loop {
        match next(&mut silent).await {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close code"),
            Some(Ok(Message::Ping(_) | Message::Text(_))) => {}
            other => panic!("expected the close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1001);
    assert_eq!(close.reason.as_str(), "ping timeout");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame (at most `WAIT`).
async fn next(ws: &mut Ws) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    common::within("a frame", ws.next()).await
}
