//! Engine.IO bad payloads: invalid polling bodies, overlapping GETs,
//! oversized polling bodies and WebSocket messages, invalid WebSocket
//! frames and client pings. Each closes only the offending session (or,
//! for an oversized polling body, nothing), and other clients keep working.

mod common;

use common::{start, start_default, Polling, TestServer, WsClient};
use wirehub_server::SocketIo;

/// A polling session connected to `/`, and its socket id.
async fn polling_connected(server: &TestServer) -> (Polling, String) {
    let session = server.polling().await;
    let id = session.connect_ns("/", None).await;
    (session, id)
}

/// The echo round trip over long-polling.
async fn polling_echo(session: &Polling) {
    session.send(r#"42["message","poll",2]"#).await;
    assert_eq!(session.poll().await, [r#"42["message-back","poll",2]"#]);
}

#[tokio::test]
async fn invalid_polling_bodies_are_400_and_close_only_that_session() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let (other, _) = polling_connected(&server).await;
    let bodies: [&[u8]; 8] = [
        b"abc",
        b"b!!!",
        b"4\xff\xfe",
        b"",
        b"4ok\x1e",
        b"0{}",
        b"1x",
        b"42[\"message\",\"x\"]\x1e9",
    ];
    for body in bodies {
        let (victim, id) = polling_connected(&server).await;
        let resp = victim.post(body).await;
        let shown = String::from_utf8_lossy(body);
        assert_eq!(resp.status, 400, "{shown:?} accepted: {}", resp.text());
        resp.assert_error(400, 3, "Bad request");
        victim.assert_gone().await;
        assert_eq!(server.reasons.wait(&id).await, "parse error", "{shown:?}");
    }
    polling_echo(&other).await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn two_concurrent_gets_close_the_session() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let (other, _) = polling_connected(&server).await;
    let (victim, id) = polling_connected(&server).await;
    let first = tokio::spawn({
        let victim = victim.clone();
        async move { victim.get().await }
    });
    // The first GET is held by the session before the second one comes.
    server.probe.until_held("/socket.io/", 1).await;
    let second = victim.get().await;
    let first = common::within("the first GET", first).await.expect("task");
    let mut results = [(first.status, first.text()), (second.status, second.text())];
    results.sort();
    assert_eq!(results[0].0, 200, "{results:?}");
    assert_eq!(results[0].1, "1", "the pending GET gets the close packet");
    assert_eq!(results[1].0, 400, "the overlapping GET is refused");
    victim.assert_gone().await;
    assert_eq!(server.reasons.wait(&id).await, "transport error");
    polling_echo(&other).await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn oversized_polling_body_is_413_and_keeps_the_session() {
    let server = start(SocketIo::builder().max_payload(1000)).await;
    let (mut w, _) = server.ws_connected().await;
    let (victim, id) = polling_connected(&server).await;

    // Exactly max_payload bytes is accepted.
    let filler = "x".repeat(1000 - r#"42["message",""]"#.len());
    let exact = format!(r#"42["message","{filler}"]"#);
    assert_eq!(exact.len(), 1000);
    victim.send(&exact).await;
    assert_eq!(
        victim.poll().await,
        [format!(r#"42["message-back","{filler}"]"#)]
    );

    // One byte more is refused with 413...
    let over = format!(r#"42["message","{filler}x"]"#);
    let resp = victim.post(over.as_bytes()).await;
    assert_eq!(resp.status, 413, "{}", resp.text());
    let resp = victim.post(&vec![b'4'; 5000]).await;
    assert_eq!(resp.status, 413, "{}", resp.text());

    // ...and the session is not closed by it (as the reference server).
    polling_echo(&victim).await;
    assert_eq!(server.reasons.get(&id), None);
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn oversized_websocket_message_closes_that_websocket() {
    let server = start(SocketIo::builder().max_payload(1000)).await;
    let (mut w, _) = server.ws_connected().await;
    let (mut victim, id) = server.ws_connected().await;

    let filler = "x".repeat(1000 - r#"42["message",""]"#.len());
    victim.send(&format!(r#"42["message","{filler}"]"#));
    victim
        .expect(&format!(r#"42["message-back","{filler}"]"#))
        .await;

    victim.send(&format!(r#"42["message","{filler}x"]"#));
    victim.expect_closed().await;
    assert_eq!(server.reasons.wait(&id).await, "transport error");

    // A binary message over the limit as well.
    let (mut victim, id) = server.ws_connected().await;
    victim.send_bin(&[7u8; 1001]);
    victim.expect_closed().await;
    assert_eq!(server.reasons.wait(&id).await, "transport error");

    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn invalid_websocket_text_closes_that_websocket() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let (other, _) = polling_connected(&server).await;
    for bad in ["abc", "", "0{}", "3probe", "1x"] {
        let (mut victim, id) = server.ws_connected().await;
        victim.send(bad);
        victim.expect_closed().await;
        assert_eq!(server.reasons.wait(&id).await, "parse error", "{bad:?}");
    }
    // Before any Socket.IO connect, too.
    let mut victim = server.ws().await;
    victim.send("abc");
    victim.expect_closed().await;
    polling_echo(&other).await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn client_ping_is_a_protocol_error() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;

    let (mut victim, id) = server.ws_connected().await;
    victim.send("2");
    victim.expect_closed().await;
    server.reasons.wait(&id).await;

    // Over polling: the POST itself is read (200 ok), the session closes.
    let (victim, id) = polling_connected(&server).await;
    let resp = victim.post(b"2").await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
    victim.assert_gone().await;
    server.reasons.wait(&id).await;

    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn client_close_packet_ends_the_session() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let (mut victim, id) = server.ws_connected().await;
    victim.send("1");
    victim.expect_closed().await;
    assert_eq!(server.reasons.wait(&id).await, "transport close");

    let (victim, id) = polling_connected(&server).await;
    victim.send("1").await;
    victim.assert_gone().await;
    assert_eq!(server.reasons.wait(&id).await, "transport close");
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn websocket_upgrade_of_a_websocket_session_is_closed_at_once() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let query = format!("EIO=4&transport=websocket&sid={}", w.sid);
    let mut extra = WsClient::raw(server.addr, &query, &[], true)
        .await
        .expect("the reference accepts, then closes");
    extra.send("2probe");
    extra.expect_closed().await;
    w.assert_echo().await;
    server.assert_healthy().await;
}
