//! The UDP gateway: one envelope per datagram, a session per source
//! address opened by its first datagram, events and acks both ways,
//! refusals, oversized datagrams (answered, session kept), invalid
//! envelopes (session ended), oversized server envelopes (dropped), and
//! expiry after the idle timeout, and the cap on sessions.

mod common;

use common::plain::{start_plain, Kind, PlainServer};
use serde_json::json;
use std::time::Duration;
use wirehub_server::SocketIo;

async fn server() -> PlainServer {
    start_plain(SocketIo::builder().config_with(|c| c.max_datagram(1000))).await
}

#[tokio::test]
async fn sessions_events_acks_and_close() {
    let server = server().await;
    let mut c = server.client(Kind::Udp, "/chat", &["r"]).await;
    c.send(json!({"type":"emit","event":"message-with-ack","data":1,"id":1}))
        .await;
    assert_eq!(c.recv_env().await, json!({"type":"ack","id":1,"data":1}));
    c.send(json!({"type":"emit","event":"ask","data":"q"}))
        .await;
    let question = c.expect_type("event").await;
    let id = question["id"].as_u64().expect("id");
    c.send(json!({"type":"ack","id":id,"data":"a"})).await;
    assert_eq!(c.expect_type("event").await["data"], json!({"ok":"a"}));
    c.send(json!({"type":"join","room":"s","id":2})).await;
    assert_eq!(c.recv_env().await["data"], json!({"rooms":["r","s"]}));
    c.send(json!({"type":"ping"})).await;
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));

    c.send(json!({"type":"close"})).await;
    assert_eq!(server.reasons.wait(&c.sid).await, "transport close");
    // The next datagram opens a new session, implicitly on `/`.
    let old = c.sid.clone();
    c.send(json!({"type":"ping"})).await;
    c.read_hello("/").await;
    assert_ne!(c.sid, old);
    assert_eq!(c.expect_type("event").await["event"], "welcome");
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));
}

#[tokio::test]
async fn refusals_and_a_new_try() {
    let server = server().await;
    let mut c = server.open(Kind::Udp, "", &[]).await.unwrap();
    c.send(json!({"type":"connect","ns":"/nope"})).await;
    c.expect_error("unknown_namespace").await;
    c.send(json!({"type":"connect","ns":"/private","auth":{"token":1}}))
        .await;
    let err = c.expect_error("connect_refused").await;
    assert_eq!(err["data"], json!({"reason":"bad token"}));
    c.send(json!({"type":"connect","ns":"/private","auth":{"token":"ok"}}))
        .await;
    c.read_hello("/private").await;
}

#[tokio::test]
async fn an_oversized_datagram_is_answered_and_the_session_kept() {
    let server = server().await;
    let mut c = server.client(Kind::Udp, "/", &[]).await;
    let big = format!(
        r#"{{"type":"emit","event":"message","data":"{}"}}"#,
        "x".repeat(1000)
    );
    c.write(big.as_bytes());
    c.expect_error("too_large").await;
    c.assert_alive().await;
}

#[tokio::test]
async fn an_invalid_envelope_ends_the_session() {
    let server = server().await;
    let mut bystander = server.client(Kind::Udp, "/", &[]).await;
    let mut c = server.client(Kind::Udp, "/", &[]).await;
    c.write(b"{oops");
    c.expect_error("bad_json").await;
    assert_eq!(server.reasons.wait(&c.sid).await, "parse error");
    // An invalid first envelope opens no session.
    c.write(br#"{"type":"emit","event":"newListener"}"#);
    c.expect_error("reserved_event").await;
    c.send(json!({"type":"ping"})).await;
    c.read_hello("/").await;
    bystander.assert_alive().await;
}

#[tokio::test]
async fn server_envelopes_over_the_limit_are_dropped() {
    let server = server().await;
    let mut c = server.client(Kind::Udp, "/", &["r"]).await;
    server.io.to("r").emit("big", &"x".repeat(2000)).unwrap();
    server.io.to("r").emit("small", &1).unwrap();
    server.marker();
    let got = c.until_marker().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "small");
}

#[tokio::test]
async fn idle_sessions_expire_and_pings_keep_them() {
    let idle = Duration::from_millis(400);
    let server = start_plain(SocketIo::builder().config_with(|c| c.plain_idle_timeout(idle))).await;
    let mut quiet = server.client(Kind::Udp, "/", &[]).await;
    let mut busy = server.client(Kind::Udp, "/", &[]).await;
    let mut ticker = tokio::time::interval(idle / 4);
    for _ in 0..10 {
        ticker.tick().await;
        busy.send(json!({"type":"ping"})).await;
        assert_eq!(busy.recv_env().await, json!({"type":"pong"}));
    }
    quiet.expect_error("idle_timeout").await;
    assert_eq!(server.reasons.wait(&quiet.sid).await, "ping timeout");
    busy.assert_alive().await;
    // An expired client starts over with its next datagram.
    let old = quiet.sid.clone();
    quiet.send(json!({"type":"ping"})).await;
    quiet.read_hello("/").await;
    assert_ne!(quiet.sid, old);
}

#[tokio::test]
async fn sessions_are_capped() {
    let server = start_plain(SocketIo::builder().config_with(|c| c.max_udp_clients(1))).await;
    let mut first = server.client(Kind::Udp, "/", &[]).await;
    let second = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    second
        .send_to(br#"{"type":"ping"}"#, server.udp)
        .await
        .unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = common::within("the refusal", second.recv_from(&mut buf))
        .await
        .unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["code"], "not_allowed");
    first.assert_alive().await;
}
