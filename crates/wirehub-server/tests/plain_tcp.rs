//! The raw TCP gateway (NDJSON): `connect` or an implicit connection to
//! `/`, events, acks both ways, join/leave, ping, close; refused
//! namespaces; invalid lines closing only their client; lines over the
//! limit, a client that never ends its line (bounded memory), and the idle
//! timeout.

mod common;

use common::plain::{start_plain, Kind, PlainServer};
use serde_json::json;
use std::time::Duration;
use wirehub_server::SocketIo;

async fn server() -> PlainServer {
    start_plain(SocketIo::builder().config_with(|c| c.max_line(1000))).await
}

#[tokio::test]
async fn connect_events_acks_and_close() {
    let server = server().await;
    let mut c = server.client(Kind::Tcp, "/chat", &["r"]).await;
    assert_eq!(c.hello["ns"], "/chat");

    // \r\n line ends and blank lines are fine.
    c.write(b"\r\n\n{\"type\":\"emit\",\"event\":\"message\",\"data\":\"x\"}\r\n");
    assert_eq!(
        c.recv_env().await,
        json!({"type":"event","event":"message-back","data":"x"})
    );
    c.send(json!({"type":"emit","event":"message-with-ack","id":3}))
        .await;
    assert_eq!(c.recv_env().await, json!({"type":"ack","id":3}));

    c.send(json!({"type":"emit","event":"ask","data":[1]}))
        .await;
    let question = c.expect_type("event").await;
    let id = question["id"].as_u64().expect("id");
    c.send(json!({"type":"ack","id":id,"args":[2,3]})).await;
    assert_eq!(c.expect_type("event").await["data"], json!({"ok":[2,3]}));

    c.send(json!({"type":"leave","room":"r","id":4})).await;
    assert_eq!(
        c.recv_env().await,
        json!({"type":"ack","id":4,"data":{"rooms":[]}})
    );
    c.send(json!({"type":"ping"})).await;
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));
    c.send(json!({"type":"close"})).await;
    c.expect_closed().await;
    assert_eq!(server.reasons.wait(&c.sid).await, "transport close");
}

#[tokio::test]
async fn any_first_envelope_connects_to_the_main_namespace() {
    let server = server().await;
    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.send(json!({"type":"ping"})).await;
    c.read_hello("/").await;
    assert_eq!(c.expect_type("event").await["event"], "welcome");
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));
}

#[tokio::test]
async fn refused_connections_get_the_error_then_close() {
    let server = server().await;
    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.send(json!({"type":"connect","ns":"/nope"})).await;
    c.expect_error("unknown_namespace").await;
    c.expect_closed().await;

    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.send(json!({"type":"connect","ns":"/private","auth":{"token":"no"}}))
        .await;
    let err = c.expect_error("connect_refused").await;
    assert_eq!(err["data"], json!({"reason":"bad token"}));
    c.expect_closed().await;

    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.send(json!({"type":"connect","ns":"/private","auth":{"token":"ok"}}))
        .await;
    c.read_hello("/private").await;

    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.write(b"{\"type\":\"connect\",\"auth\":[1]}\n");
    c.expect_error("bad_field").await;
    c.expect_closed().await;
}

/// Sends `bad` after connecting; `code` comes back, the connection closes,
/// a client connected before keeps working.
async fn refused_line(server: &PlainServer, bad: &str, code: &str) {
    let mut bystander = server.client(Kind::Tcp, "/", &[]).await;
    let mut c = server.client(Kind::Tcp, "/", &[]).await;
    c.write(format!("{bad}\n").as_bytes());
    c.expect_error(code).await;
    c.expect_closed().await;
    assert_eq!(server.reasons.wait(&c.sid).await, "parse error", "{bad}");
    bystander.assert_alive().await;
}

#[tokio::test]
async fn invalid_lines_close_only_their_client() {
    let server = server().await;
    refused_line(&server, "not json", "bad_json").await;
    refused_line(&server, r#"{"type":"jump"}"#, "unknown_type").await;
    refused_line(&server, r#"{"type":"join","rooms":"a"}"#, "bad_field").await;
    refused_line(
        &server,
        r#"{"type":"emit","event":"connect_error"}"#,
        "reserved_event",
    )
    .await;
    refused_line(
        &server,
        r#"{"type":"connect","ns":"/chat"}"#,
        "bad_envelope",
    )
    .await;

    // Before any connection: the error, then close.
    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.write(b"[]\n");
    c.expect_error("bad_envelope").await;
    c.expect_closed().await;
}

#[tokio::test]
async fn a_line_over_the_limit_is_too_large() {
    let server = server().await;
    let mut bystander = server.client(Kind::Tcp, "/", &[]).await;
    let mut c = server.client(Kind::Tcp, "/", &[]).await;
    let line = format!(
        r#"{{"type":"emit","event":"message","data":"{}"}}"#,
        "x".repeat(1000)
    );
    c.write(format!("{line}\n").as_bytes());
    c.expect_error("too_large").await;
    c.expect_closed().await;
    bystander.assert_alive().await;
}

#[tokio::test]
async fn a_line_that_never_ends_is_cut_off() {
    let server = server().await;
    let mut c = server.client(Kind::Tcp, "/", &[]).await;
    // No newline ever: closed once the partial line passes the limit,
    // without waiting for the rest.
    for _ in 0..4 {
        c.write(&[b'x'; 400]);
    }
    c.expect_error("too_large").await;
    c.expect_closed().await;

    // The same as a first line.
    let mut c = server.open(Kind::Tcp, "", &[]).await.unwrap();
    c.write(&[b'{'; 1500]);
    c.expect_error("too_large").await;
    c.expect_closed().await;
}

#[tokio::test]
async fn idle_clients_are_dropped_and_pings_keep_them() {
    let idle = Duration::from_millis(400);
    let server = start_plain(SocketIo::builder().config_with(|c| c.plain_idle_timeout(idle))).await;
    let mut quiet = server.client(Kind::Tcp, "/", &[]).await;
    let mut busy = server.client(Kind::Tcp, "/", &[]).await;
    let mut silent = server.open(Kind::Tcp, "", &[]).await.unwrap();

    // `busy` pings every quarter of the timeout, for more than two timeouts.
    let mut ticker = tokio::time::interval(idle / 4);
    for _ in 0..10 {
        ticker.tick().await;
        busy.send(json!({"type":"ping"})).await;
        assert_eq!(busy.recv_env().await, json!({"type":"pong"}));
    }
    quiet.expect_error("idle_timeout").await;
    quiet.expect_closed().await;
    assert_eq!(server.reasons.wait(&quiet.sid).await, "ping timeout");
    silent.expect_error("idle_timeout").await;
    silent.expect_closed().await;
    busy.assert_alive().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_as_a_slow_consumer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start_plain(
        SocketIo::builder()
            .queue_capacity(8)
            .config_with(|c| c.body_timeout(Duration::from_millis(300))),
    )
    .await;
    let mut calm = server.client(Kind::Tcp, "/", &["calm"]).await;
    let mut slow = tokio::net::TcpStream::connect(server.tcp).await.unwrap();
    slow.write_all(b"{\"type\":\"join\",\"room\":\"flood\",\"id\":1}\n")
        .await
        .unwrap();
    // Read up to the join ack, for the sid; then never read again.
    let sid = common::within("the slow client's hello and ack", async {
        let mut text = String::new();
        loop {
            if text.contains(r#""type":"ack","id":1"#) {
                let start = text.find(r#""sid":""#).expect("hello first") + 7;
                let end = start + text[start..].find('"').expect("sid end");
                return text[start..end].to_owned();
            }
            let mut chunk = [0u8; 1024];
            let n = slow.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before the ack");
            text.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    })
    .await;
    let big = "x".repeat(64 * 1024);
    let reason = common::within("the slow client's disconnect", async {
        loop {
            if let Some(reason) = server.reasons.get(&sid) {
                return reason;
            }
            server.io.to("flood").emit("flood", &big).expect("emit");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert_eq!(reason, "slow consumer");
    calm.send(json!({"type":"ping"})).await;
    assert_eq!(calm.recv_env().await, json!({"type":"pong"}));
}
