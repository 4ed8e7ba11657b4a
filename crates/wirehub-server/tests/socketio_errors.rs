//! Socket.IO bad input: invalid packets and payloads, reserved event names,
//! broken binary packets, packets for namespaces not connected, unknown
//! namespaces and the connect timeout. Each closes only the offending
//! connection (or none, for an unknown namespace).

mod common;

use common::{start, start_default, Msg, TestServer, WsClient};
use std::time::{Duration, Instant};
use wirehub_server::SocketIo;

const P0: &str = r#"{"_placeholder":true,"num":0}"#;
const P1: &str = r#"{"_placeholder":true,"num":1}"#;
const P2: &str = r#"{"_placeholder":true,"num":2}"#;

/// A connection on `/` sends `frames` (text, or binary when `Err`); the
/// server must close it without answering, and nothing else, with the
/// socket's disconnect reason "parse error".
async fn assert_closes(server: &TestServer, frames: &[Result<&str, &[u8]>]) {
    assert_closes_with(server, frames, "parse error").await;
}

/// [`assert_closes`] with disconnect reason `reason`.
async fn assert_closes_with(server: &TestServer, frames: &[Result<&str, &[u8]>], reason: &str) {
    let (mut victim, id) = server.ws_connected().await;
    for frame in frames {
        match frame {
            Ok(text) => victim.send(text),
            Err(bytes) => victim.send_bin(bytes),
        }
    }
    let got = victim.recv().await;
    assert_eq!(got, Msg::Closed, "after {frames:?}");
    let got = server.reasons.wait(&id).await;
    assert_eq!(got, reason, "the disconnect reason after {frames:?}");
}

#[tokio::test]
async fn invalid_packets_close_only_that_connection() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let other = server.polling().await;
    other.connect_ns("/", None).await;
    let cases = [
        "4",
        "49",
        "4x",
        r#"42[bad"#,
        r#"42{}"#,
        r#"42"message""#,
        r#"42[]"#,
        r#"42[{}]"#,
        r#"42[null,1]"#,
        r#"42abc["message","x"]"#,
        r#"421a["message","x"]"#,
        r#"431{}"#,
        r#"41["x"]"#,
        r#"40/x,[1]"#,
    ];
    for case in cases {
        assert_closes(&server, &[Ok(case)]).await;
    }
    // A CONNECT_ERROR is the server's to send: from a client it is a packet
    // in the wrong state, not a malformed one.
    assert_closes_with(&server, &[Ok(r#"44{"message":1}"#)], "forced close").await;
    w.assert_echo().await;
    other.send(r#"42["message","p"]"#).await;
    assert_eq!(other.poll().await, [r#"42["message-back","p"]"#]);
    server.assert_healthy().await;
}

#[tokio::test]
async fn reserved_event_names_close_the_connection() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert_closes(&server, &[Ok(&format!(r#"42["{name}","x"]"#))]).await;
    }
    // A name that only starts like a reserved one is fine.
    w.send(r#"42["connected"]"#);
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn broken_binary_packets_close_the_connection() {
    let server = start(SocketIo::builder().max_attachments(2)).await;
    let (mut w, _) = server.ws_connected().await;
    let bytes: &[u8] = &[1, 2, 3];
    // A placeholder pointing past the announced attachments (the reference
    // notices once the attachments arrived, so they are sent).
    let past = r#"451-["m",{"_placeholder":true,"num":3}]"#;
    assert_closes(&server, &[Ok(past), Err(bytes)]).await;
    let past = format!(r#"452-["m",{P0},{P2}]"#);
    assert_closes(&server, &[Ok(&past), Err(bytes), Err(bytes)]).await;
    // Malformed attachment counts.
    assert_closes(&server, &[Ok(r#"45["m"]"#)]).await;
    assert_closes(&server, &[Ok(r#"45x-["m"]"#)]).await;
    // An attachment nobody announced.
    assert_closes(&server, &[Err(bytes)]).await;
    // One attachment too many.
    let one = format!(r#"451-["m",{P0}]"#);
    assert_closes(&server, &[Ok(&one), Err(bytes), Err(bytes)]).await;
    // Text while attachments are pending.
    let text = r#"42["message","x"]"#;
    assert_closes(&server, &[Ok(&one), Ok(text)]).await;
    // More attachments than max_attachments (2).
    let three = format!(r#"453-["m",{P0},{P1},{P2}]"#);
    assert_closes(&server, &[Ok(&three)]).await;

    // Exactly max_attachments is accepted and echoed with its attachments.
    w.send(&format!(r#"452-["message",{P0},{P1}]"#));
    w.send_bin(&[1]);
    w.send_bin(&[2, 2]);
    w.expect(&format!(r#"452-["message-back",{P0},{P1}]"#))
        .await;
    w.expect_bin(&[1]).await;
    w.expect_bin(&[2, 2]).await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn packets_for_a_namespace_not_connected_close_the_connection() {
    let server = start_default().await;
    common::echo_ns(&server.io, "/custom", &server.reasons);
    let (mut w, _) = server.ws_connected().await;
    for packet in [
        r#"42/custom,["message","x"]"#,
        r#"42/nope,["message","x"]"#,
        r#"43/custom,1[]"#,
        r#"41/custom,"#,
        // A second CONNECT to a namespace already connected.
        r#"40"#,
    ] {
        let (mut victim, id) = server.ws_connected().await;
        victim.send(packet);
        victim.expect_closed().await;
        assert_eq!(server.reasons.wait(&id).await, "forced close", "{packet}");
    }
    // An event before any CONNECT.
    let mut victim = server.ws().await;
    victim.send(r#"42["message","x"]"#);
    victim.expect_closed().await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn unknown_namespace_is_refused_and_the_connection_stays() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    w.send("40/nope,");
    w.expect(r#"44/nope,{"message":"Invalid namespace"}"#).await;
    w.send(r#"40/nope,{"token":"x"}"#);
    w.expect(r#"44/nope,{"message":"Invalid namespace"}"#).await;
    w.assert_echo().await;

    // As the first packet of a connection, then a valid CONNECT.
    let mut c = server.ws().await;
    c.send("40/nope,");
    c.expect(r#"44/nope,{"message":"Invalid namespace"}"#).await;
    c.connect_ns("/", None).await;
    c.assert_echo().await;

    // Over polling.
    let p = server.polling().await;
    p.send("40/nope,").await;
    assert_eq!(
        p.poll().await,
        [r#"44/nope,{"message":"Invalid namespace"}"#]
    );
    p.connect_ns("/", None).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn no_connect_within_connect_timeout_closes() {
    let timeout = Duration::from_millis(500);
    let server = start(SocketIo::builder().connect_timeout(timeout)).await;
    let (mut w, _) = server.ws_connected().await;
    let started = Instant::now();
    let mut idle = server.ws().await;
    let mut refused_only = server.ws().await;
    refused_only.send("40/nope,");
    refused_only
        .expect(r#"44/nope,{"message":"Invalid namespace"}"#)
        .await;
    let polling = server.polling().await;

    idle.expect_closed().await;
    assert!(
        started.elapsed() >= timeout - Duration::from_millis(20),
        "closed after {:?}",
        started.elapsed()
    );
    refused_only.expect_closed().await;
    polling.assert_gone().await;

    // Connected in time: still open well after the timeout.
    tokio::time::sleep(timeout).await;
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn handshake_with_a_late_connect_is_accepted_before_the_timeout() {
    let timeout = Duration::from_millis(800);
    let server = start(SocketIo::builder().connect_timeout(timeout)).await;
    let mut c = WsClient::open(server.addr).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.connect_ns("/", None).await;
    tokio::time::sleep(timeout).await;
    c.assert_echo().await;
    server.assert_healthy().await;
}
