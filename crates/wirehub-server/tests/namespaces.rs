//! Namespaces: several on one connection, the auth payload and handshake in
//! the connect handler, middlewares refusing with CONNECT_ERROR data, and
//! dynamic namespaces.

mod common;

use common::{echo_ns, register_echo, start_default, WsClient};
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_server::io::{ConnectError, Data, SocketRef};

/// Parses a CONNECT_ERROR `44/ns,{...}` into its JSON.
fn connect_error(ns: &str, text: &str) -> Value {
    let json = text
        .strip_prefix(&format!("44{}", common::ns_prefix(ns)))
        .unwrap_or_else(|| panic!("expected a CONNECT_ERROR for {ns}, got {text:?}"));
    serde_json::from_str(json).expect("CONNECT_ERROR JSON")
}

#[tokio::test]
async fn namespaces_are_multiplexed_on_one_connection() {
    let server = start_default().await;
    echo_ns(&server.io, "/custom", &server.reasons);
    let mut ws = server.ws().await;
    let main = ws.connect_ns("/", None).await;
    let custom = ws.connect_ns("/custom", None).await;
    assert_ne!(main, custom);
    ws.assert_echo_on("/custom").await;
    ws.assert_echo_on("/").await;
    ws.send(r#"42/custom,["message","c"]"#);
    ws.send(r#"42["message","m"]"#);
    ws.expect(r#"42/custom,["message-back","c"]"#).await;
    ws.expect(r#"42["message-back","m"]"#).await;
    assert_eq!(server.io.of("/custom").unwrap().socket_count(), 1);

    // Leaving one namespace keeps the other and the connection.
    ws.send("41/custom,");
    assert_eq!(
        server.reasons.wait(&custom).await,
        "client namespace disconnect"
    );
    assert_eq!(server.io.of("/custom").unwrap().socket_count(), 0);
    ws.assert_echo().await;
    // And it can be joined again, as a new socket.
    let again = ws.connect_ns("/custom", None).await;
    assert_ne!(again, custom);
    ws.assert_echo_on("/custom").await;
    assert_eq!(server.reasons.get(&main), None);

    // Over polling, two CONNECTs in one payload.
    let p = server.polling().await;
    p.send("40\u{1e}40/custom,").await;
    let answers = p.poll().await;
    assert_eq!(answers.len(), 2, "{answers:?}");
    common::parse_connect_ok("/", &answers[0]);
    common::parse_connect_ok("/custom", &answers[1]);
    server.assert_healthy().await;
}

#[tokio::test]
async fn auth_and_handshake_reach_the_connect_handler() {
    let server = start_default().await;
    server.io.ns(
        "/auth",
        |s: SocketRef, Data(auth): Data<Value>| async move {
            let query = s.handshake().uri.query().unwrap_or("").to_owned();
            let header = s
                .handshake()
                .headers
                .get("x-client")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let _ = s.emit("auth", &auth);
            let _ = s.emit("raw", s.auth_raw().as_str());
            let _ = s.emit_args("handshake", &(query.contains("foo=bar"), header));
        },
    );
    let query = "EIO=4&transport=websocket&foo=bar";
    let headers = [("x-client", "tests")];
    let mut ws = WsClient::raw(server.addr, query, &headers, true)
        .await
        .unwrap();
    assert!(ws.recv_text().await.starts_with("0{"));
    ws.connect_ns("/auth", Some(r#"{"token":"abc","n":[1,2]}"#))
        .await;
    assert_eq!(
        ws.recv_json("42/auth,").await,
        json!(["auth", {"token": "abc", "n": [1, 2]}])
    );
    ws.expect(r#"42/auth,["raw","{\"token\":\"abc\",\"n\":[1,2]}"]"#)
        .await;
    ws.expect(r#"42/auth,["handshake",true,"tests"]"#).await;

    // Without auth, the payload is an empty object.
    let mut ws = server.ws().await;
    ws.connect_ns("/auth", None).await;
    ws.expect(r#"42/auth,["auth",{}]"#).await;
    ws.expect(r#"42/auth,["raw","{}"]"#).await;
    ws.expect(r#"42/auth,["handshake",false,null]"#).await;
    server.assert_healthy().await;
}

#[derive(Clone)]
struct Tag(&'static str);

#[tokio::test]
async fn middleware_refuses_with_connect_error_and_data() {
    let server = start_default().await;
    let reasons = server.reasons.clone();
    let private = server.io.ns("/private", move |s: SocketRef| {
        let reasons = reasons.clone();
        async move {
            let tag = s.get::<Tag>().map(|t| t.0);
            let _ = s.emit("tag", &tag);
            register_echo(&s, reasons);
        }
    });
    private
        .use_middleware(|s: SocketRef| async move {
            // Asynchronous on purpose: refusals may come later.
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.insert(Tag("first"));
            Ok(())
        })
        .use_middleware(|s: SocketRef, Data(auth): Data<Value>| async move {
            if s.get::<Tag>().is_none() {
                return Err(ConnectError::new("middlewares out of order"));
            }
            if auth["token"] == "ok" {
                Ok(())
            } else {
                Err(ConnectError::new("unauthorized").with_data(json!({"reason": "bad token"})))
            }
        });

    let (mut ws, _) = server.ws_connected().await;
    ws.send(r#"40/private,{"token":"nope"}"#);
    let refusal = ws.recv_text().await;
    assert_eq!(
        connect_error("/private", &refusal),
        json!({"message": "unauthorized", "data": {"reason": "bad token"}})
    );
    assert_eq!(private.socket_count(), 0);
    // The connection stays, and the namespace can be retried.
    ws.assert_echo().await;
    let id = ws.connect_ns("/private", Some(r#"{"token":"ok"}"#)).await;
    ws.expect(r#"42/private,["tag","first"]"#).await;
    ws.assert_echo_on("/private").await;
    assert_eq!(private.socket_count(), 1);
    server.socket("/private", &id);

    // Over polling.
    let p = server.polling().await;
    p.send("40/private,").await;
    let refusal = p.poll().await;
    assert_eq!(refusal.len(), 1);
    assert_eq!(
        connect_error("/private", &refusal[0]),
        json!({"message": "unauthorized", "data": {"reason": "bad token"}})
    );
    server.assert_healthy().await;
}

#[tokio::test]
async fn dynamic_namespaces_match_a_pattern() {
    let server = start_default().await;
    let reasons = server.reasons.clone();
    let rooms = server
        .io
        .dyn_ns(r"/room-\d+", move |s: SocketRef| {
            let reasons = reasons.clone();
            async move {
                let _ = s.emit("welcome", s.ns_name().as_str());
                register_echo(&s, reasons);
            }
        })
        .expect("valid pattern");
    assert_eq!(rooms.name(), None);
    rooms.use_middleware(|Data(auth): Data<Value>| async move {
        match auth.get("banned") {
            Some(_) => Err(ConnectError::new("banned")),
            None => Ok(()),
        }
    });

    let (mut a, _) = server.ws_connected().await;
    a.connect_ns("/room-12", None).await;
    a.expect(r#"42/room-12,["welcome","/room-12"]"#).await;
    a.assert_echo_on("/room-12").await;
    let mut b = server.ws().await;
    b.connect_ns("/room-12", None).await;
    b.expect(r#"42/room-12,["welcome","/room-12"]"#).await;
    b.connect_ns("/room-7", None).await;
    b.expect(r#"42/room-7,["welcome","/room-7"]"#).await;

    // Both sockets share the namespace /room-12.
    let ns = server.io.of("/room-12").expect("created on demand");
    assert_eq!(ns.socket_count(), 2);
    assert_eq!(ns.broadcast().unwrap().emit("hi", &1).unwrap(), 2);
    a.expect(r#"42/room-12,["hi",1]"#).await;
    b.expect(r#"42/room-12,["hi",1]"#).await;

    for refused in ["/room-x", "/room-", "/room-12x", "/xroom-1", "/room-1/2"] {
        a.send(&format!("40{refused},"));
        a.expect(&format!(r#"44{refused},{{"message":"Invalid namespace"}}"#))
            .await;
    }
    a.send(r#"40/room-3,{"banned":true}"#);
    let refusal = a.recv_text().await;
    assert_eq!(
        connect_error("/room-3", &refusal),
        json!({"message": "banned"})
    );
    a.assert_echo().await;
    a.assert_echo_on("/room-12").await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn dynamic_namespaces_are_capped_and_unused_ones_make_room() {
    let server = common::start(
        wirehub_server::SocketIo::builder().config_with(|c| c.max_dynamic_namespaces(2)),
    )
    .await;
    server
        .io
        .dyn_ns(r"/d-\d+", |s: SocketRef| async move {
            let _ = s.emit("welcome", s.ns_name().as_str());
        })
        .expect("valid pattern");
    let (mut a, _) = server.ws_connected().await;
    a.connect_ns("/d-1", None).await;
    a.expect(r#"42/d-1,["welcome","/d-1"]"#).await;
    a.connect_ns("/d-2", None).await;
    a.expect(r#"42/d-2,["welcome","/d-2"]"#).await;
    // Both in use: a third one is refused.
    a.send("40/d-3,");
    a.expect(r#"44/d-3,{"message":"Invalid namespace"}"#).await;
    // Once /d-1 is unused, /d-3 takes its place; /d-2 keeps its socket.
    a.send("41/d-1,");
    let mut b = server.ws().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        b.send("40/d-3,");
        let answer = b.recv_text().await;
        if answer.starts_with("40/d-3,") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.expect(r#"42/d-3,["welcome","/d-3"]"#).await;
    assert_eq!(server.io.of("/d-2").expect("kept").socket_count(), 1);
    server.assert_healthy().await;
}
