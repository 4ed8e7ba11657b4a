//! Disconnect reasons seen by `on_disconnect` (client and server namespace
//! disconnect, transport close, ping timeout, parse error), `SocketIo::close`
//! ("server shutting down"), and the slow-consumer policy.

mod common;

use common::{echo_ns, register_echo, start, start_default, TestServer, WsClient};
use std::time::Duration;
use wirehub_server::io::{DisconnectReason, SocketRef};
use wirehub_server::SocketIo;

/// `/` with the echo handlers, `disconnect-me`, and a broadcast of every
/// disconnect to the room `watchers`.
fn watched(server: &TestServer) {
    let reasons = server.reasons.clone();
    server.io.ns("/", move |s: SocketRef| {
        let reasons = reasons.clone();
        async move {
            register_echo(&s, reasons.clone());
            s.on(
                "disconnect-me",
                |s: SocketRef| async move { s.disconnect() },
            );
            s.on("watch", |s: SocketRef| async move { s.join("watchers") });
            s.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
                let reasons = reasons.clone();
                async move {
                    reasons.record(s.id(), reason);
                    let watchers = s.namespace().to("watchers").unwrap();
                    let _ = watchers.emit_args("peer-disconnected", &(s.id(), reason));
                }
            });
        }
    });
}

/// A watcher connected to `/`.
async fn watcher(server: &TestServer) -> WsClient {
    let (mut w, _) = server.ws_connected().await;
    w.send(r#"42["watch"]"#);
    w.assert_echo().await;
    w
}

async fn expect_peer(w: &mut WsClient, id: &str, reason: &str) {
    w.expect(&format!(r#"42["peer-disconnected","{id}","{reason}"]"#))
        .await;
}

#[tokio::test]
async fn namespace_disconnects_by_client_and_server() {
    let server = start_default().await;
    watched(&server);
    echo_ns(&server.io, "/custom", &server.reasons);
    let mut w = watcher(&server).await;

    let (mut c, id) = server.ws_connected().await;
    c.send("41");
    assert_eq!(
        server.reasons.wait(&id).await,
        "client namespace disconnect"
    );
    expect_peer(&mut w, &id, "client namespace disconnect").await;

    let id = c.connect_ns("/", None).await;
    c.send(r#"42["disconnect-me"]"#);
    c.expect("41").await;
    assert_eq!(
        server.reasons.wait(&id).await,
        "server namespace disconnect"
    );
    expect_peer(&mut w, &id, "server namespace disconnect").await;

    // Another namespace: the DISCONNECT names it.
    let custom = c.connect_ns("/custom", None).await;
    server.socket("/custom", &custom).disconnect();
    c.expect("41/custom,").await;
    assert_eq!(
        server.reasons.wait(&custom).await,
        "server namespace disconnect"
    );
    // The connection itself stays.
    c.connect_ns("/", None).await;
    c.assert_echo().await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn transport_close_and_parse_error() {
    let server = start_default().await;
    watched(&server);
    let mut w = watcher(&server).await;

    let (c, id) = server.ws_connected().await;
    c.close();
    assert_eq!(server.reasons.wait(&id).await, "transport close");
    expect_peer(&mut w, &id, "transport close").await;

    let (mut c, id) = server.ws_connected().await;
    c.send("abc");
    c.expect_closed().await;
    assert_eq!(server.reasons.wait(&id).await, "parse error");
    expect_peer(&mut w, &id, "parse error").await;

    let p = server.polling().await;
    let id = p.connect_ns("/", None).await;
    p.send("1").await;
    assert_eq!(server.reasons.wait(&id).await, "transport close");
    expect_peer(&mut w, &id, "transport close").await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn abrupt_websocket_drop_is_transport_close() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let (c, id) = server.ws_connected().await;
    // No close frame: the TCP connection just ends (as the reference
    // server reports it: "transport close").
    drop(c);
    assert_eq!(server.reasons.wait(&id).await, "transport close");
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn ping_timeout_closes_silent_clients_only() {
    let server = start(
        SocketIo::builder()
            .ping_interval(Duration::from_millis(250))
            .ping_timeout(Duration::from_millis(400)),
    )
    .await;
    let (mut alive, alive_id) = server.ws_connected().await;
    let mut silent = WsClient::open_with(server.addr, &[], false).await;
    assert_eq!(silent.open["pingInterval"], 250);
    assert_eq!(silent.open["pingTimeout"], 400);
    let silent_id = silent.connect_ns("/", None).await;
    let never_polls = server.polling().await;
    let never_polls_id = never_polls.connect_ns("/", None).await;
    let answers = server.polling().await;
    answers.connect_ns("/", None).await;
    // This polling client answers every ping, several cycles long.
    let answering = tokio::spawn(async move {
        for _ in 0..5 {
            assert_eq!(answers.poll().await, ["2"]);
            answers.send("3").await;
        }
        answers
    });

    silent.expect("2").await;
    silent.expect_closed().await;
    assert_eq!(server.reasons.wait(&silent_id).await, "ping timeout");
    assert_eq!(server.reasons.wait(&never_polls_id).await, "ping timeout");
    never_polls.assert_gone().await;

    let answers = common::within("five ping cycles", answering)
        .await
        .expect("the answering client failed");
    alive.assert_echo().await;
    assert_eq!(server.reasons.get(&alive_id), None);
    answers.send(r#"42["message","p"]"#).await;
    let got = answers.poll().await;
    assert!(
        got == [r#"42["message-back","p"]"#] || got == ["2", r#"42["message-back","p"]"#],
        "{got:?}"
    );
    server.assert_healthy().await;
}

/// A GET sent as soon as the heartbeat has run out (ping interval + ping
/// timeout after the open packet, as the public protocol suite does) finds
/// the session gone, whether or not the server's timer has fired yet. The
/// pong deadline counts from when the ping was sent (as Node's does), and on
/// a loaded machine the ping timer can fire late: 50 ms of slack keep the
/// test about the session's own clock rather than about the scheduler.
#[tokio::test]
async fn poll_right_after_the_heartbeat_ran_out_is_refused() {
    let server = start(
        SocketIo::builder()
            .ping_interval(Duration::from_millis(60))
            .ping_timeout(Duration::from_millis(40)),
    )
    .await;
    for _ in 0..10 {
        let client = server.polling().await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        client
            .get()
            .await
            .assert_error(400, 1, "Session ID unknown");
    }
    server.assert_healthy().await;
}

#[tokio::test]
async fn close_disconnects_everyone_with_server_shutting_down() {
    let server = start_default().await;
    echo_ns(&server.io, "/custom", &server.reasons);
    let (mut ws, ws_id) = server.ws_connected().await;
    let custom_id = ws.connect_ns("/custom", None).await;
    let p = server.polling().await;
    let p_id = p.connect_ns("/", None).await;

    server.io.close();
    ws.expect_closed().await;
    p.assert_gone().await;
    for id in [&ws_id, &custom_id, &p_id] {
        assert_eq!(server.reasons.wait(id).await, "server shutting down");
    }
    assert!(server.io.fetch_sockets().await.unwrap().is_empty());
    common::assert_no_panic();
}

#[tokio::test]
async fn slow_consumer_is_disconnected_and_others_keep_receiving() {
    let server = start(SocketIo::builder().queue_capacity(4)).await;
    let (mut ws, ws_id) = server.ws_connected().await;
    let slow = server.polling().await;
    let slow_id = slow.connect_ns("/", None).await;
    let mut counts = Vec::new();
    for i in 0..10 {
        counts.push(server.io.emit("tick", &i).unwrap());
        ws.expect(&format!(r#"42["tick",{i}]"#)).await;
    }
    assert_eq!(counts, [2, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
    assert_eq!(server.reasons.wait(&slow_id).await, "slow consumer");
    slow.assert_gone().await;
    assert_eq!(server.reasons.get(&ws_id), None);
    ws.assert_echo().await;
    server.assert_healthy().await;
}

/// A WebSocket client (raw TCP, a 4 KiB receive buffer) that joins a room
/// and then never reads again, its connection left open: a burst of room
/// broadcasts still reaches every other member of the room in full and in
/// order, and the stalled one is closed as a slow consumer once the kernel
/// buffers and its queue are full. Only bounded waits, no timing checks.
#[tokio::test]
async fn stalled_websocket_client_in_a_room_does_not_hold_back_the_others() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start(SocketIo::builder().queue_capacity(8)).await;
    let mut others = Vec::new();
    for _ in 0..3 {
        let (ws, id) = server.ws_connected().await;
        server.socket("/", &id).join("room");
        others.push((ws, id));
    }
    // The stalled client: handshake and CONNECT read, then nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    let (mut stalled, _) = common::within(
        "the stalled client's WebSocket handshake",
        tokio_tungstenite::client_async(url, tcp),
    )
    .await
    .unwrap();
    let mut texts = Vec::new();
    for what in ["the open packet", "the CONNECT answer"] {
        match common::within(what, stalled.next()).await {
            Some(Ok(Message::Text(t))) => texts.push(t.as_str().to_owned()),
            other => panic!("stalled client: expected {what}, got {other:?}"),
        }
        if texts.len() == 1 {
            assert!(texts[0].starts_with('0'), "open packet first: {}", texts[0]);
            stalled.send(Message::text("40")).await.unwrap();
        }
    }
    let stalled_id = common::parse_connect_ok("/", &texts[1]);
    server.socket("/", &stalled_id).join("room");

    // The burst: until the stalled client is closed (bounded by `within`).
    let big = "x".repeat(16 * 1024);
    let sent = common::within("the stalled client's disconnect", async {
        let mut i = 0u32;
        loop {
            if server.reasons.get(&stalled_id).is_some() {
                return i;
            }
            let to = server.io.to("room").emit_args("burst", &(i, &big)).unwrap();
            assert!(to >= 3, "the others left the room: {to} recipients");
            i += 1;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(
        sent > 8,
        "closed after {sent} messages: before its queue was full"
    );
    assert_eq!(server.reasons.wait(&stalled_id).await, "slow consumer");
    for (ws, id) in &mut others {
        for i in 0..sent {
            ws.expect(&format!(r#"42["burst",{i},"{big}"]"#)).await;
        }
        ws.assert_echo().await;
        assert_eq!(server.reasons.get(id), None);
    }
    drop(stalled);
    server.assert_healthy().await;
}
