//! Slow clients: partial request heads and trickling polling bodies do not
//! block other clients or the session's other requests; a body that never
//! completes is cut after `body_timeout` and closes its session.

mod common;

use common::{request_head, start, start_default, within, POLLING};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirehub_server::{Config, SocketIo};

const PARTIAL_HEAD: &[u8] = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n";

#[tokio::test]
async fn partial_request_heads_do_not_block_other_clients() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(server.addr).await.expect("connect");
        s.write_all(PARTIAL_HEAD).await.expect("write");
        slow.push(s);
    }
    // Served while the slow heads wait (each step bounded by `WAIT`).
    w.assert_echo().await;
    let (mut fresh, _) = server.ws_connected().await;
    fresh.assert_echo().await;
    let session = server.polling().await;
    session.connect_ns("/", None).await;
    // The slow connections are still waiting: no response was sent.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_millis(100), slow[0].read(&mut byte)).await;
    assert!(read.is_err(), "a partial head got an answer: {read:?}");
    server.assert_healthy().await;
}

/// Waits for the 10 s header read timeout of `wirehub_server::serve`.
#[tokio::test]
async fn partial_request_head_is_dropped_after_the_header_timeout() {
    let server = start_default().await;
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(PARTIAL_HEAD).await.expect("write");
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf)).await;
    let n = read.expect("still open after 15 s").unwrap_or(0);
    // Dropped, possibly with a 408 first.
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text:?}");
    assert!(started.elapsed() >= Duration::from_secs(9));
    server.assert_healthy().await;
}

/// A POST to `target` announcing 1000 body bytes, of which only `sent` go out.
async fn start_trickle(addr: std::net::SocketAddr, target: &str, sent: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let head = request_head("POST", target, &[], Some(1000));
    s.write_all(head.as_bytes()).await.expect("write head");
    s.write_all(sent).await.expect("write body start");
    s
}

#[tokio::test]
async fn trickling_post_body_is_cut_after_body_timeout() {
    let body_timeout = Duration::from_millis(800);
    let config = Config::builder().body_timeout(body_timeout).build();
    let server = start(SocketIo::builder().config(config)).await;
    let (mut w, _) = server.ws_connected().await;
    let other = server.polling().await;
    other.connect_ns("/", None).await;
    let victim = server.polling().await;
    let id = victim.connect_ns("/", None).await;

    let started = Instant::now();
    let mut post = start_trickle(server.addr, &victim.target(), br#"42["mess"#).await;
    // The session's GET is served while its POST body trickles in.
    server.socket("/", &id).emit("hello", "world").unwrap();
    assert_eq!(victim.poll().await, [r#"42["hello","world"]"#]);
    for byte in b"age" {
        tokio::time::sleep(Duration::from_millis(50)).await;
        post.write_all(&[*byte]).await.expect("trickle");
    }
    // Other clients are not blocked either.
    w.assert_echo().await;

    let resp = within("the cut POST", common::read_response(&mut post)).await;
    let elapsed = started.elapsed();
    resp.assert_error(400, 3, "Bad request");
    assert!(
        elapsed >= body_timeout - Duration::from_millis(50),
        "cut after {elapsed:?}"
    );
    victim.assert_gone().await;
    assert_eq!(server.reasons.wait(&id).await, "transport error");

    other.send(r#"42["message","p"]"#).await;
    assert_eq!(other.poll().await, [r#"42["message-back","p"]"#]);
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn overlapping_post_closes_the_session() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    let victim = server.polling().await;
    let id = victim.connect_ns("/", None).await;
    let mut first = start_trickle(server.addr, &victim.target(), b"4").await;
    // The first POST is being read (held: its body is incomplete) before
    // the second one comes.
    server.probe.until_held("/socket.io/", 1).await;

    let resp = victim.post(br#"42["message","x"]"#).await;
    assert_eq!(resp.status, 400, "{}", resp.text());
    victim.assert_gone().await;
    assert_eq!(server.reasons.wait(&id).await, "transport error");
    first.shutdown().await.ok();
    drop(first);
    w.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn half_sent_handshake_then_close_is_harmless() {
    let server = start_default().await;
    let (mut w, _) = server.ws_connected().await;
    for cut in [10, PARTIAL_HEAD.len()] {
        let mut s = TcpStream::connect(server.addr).await.expect("connect");
        s.write_all(&PARTIAL_HEAD[..cut]).await.expect("write");
        drop(s);
    }
    // A POST whose connection goes away mid-body.
    let victim = server.polling().await;
    let id = victim.connect_ns("/", None).await;
    let s = start_trickle(server.addr, &victim.target(), b"42[").await;
    drop(s);
    victim.assert_gone().await;
    assert_eq!(server.reasons.wait(&id).await, "transport error");
    let resp = server.get(POLLING).await;
    assert_eq!(resp.status, 200);
    w.assert_echo().await;
    server.assert_healthy().await;
}
