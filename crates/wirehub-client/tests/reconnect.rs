//! Reconnection: servers killed and restarted on the same port (ours and
//! the Node reference), emits buffered meanwhile (volatile ones dropped),
//! the attempts limit, and heartbeat timeouts.

mod common;

use common::fake::SilentServer;
use common::node::NodeServer;
use common::ours::OurServer;
use common::record::{recorder, tap_client, Recorder};
use common::wait_until;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wirehub_client::{ClientBuilder, Error, ManagerEvent, Reconnection, Socket, Transport};

fn fast() -> Reconnection {
    Reconnection::default()
        .delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(400))
}

/// Records the socket and manager events of a client.
fn recorded(url: &str, transport: Transport, policy: Reconnection) -> (ClientBuilder, Recorder) {
    let (tap, rec) = recorder();
    let manager_tap = tap.clone();
    let builder = ClientBuilder::new(url)
        .transport(transport)
        .reconnection(policy)
        .on_manager_event(move |event: ManagerEvent| {
            let name = match event {
                ManagerEvent::ReconnectAttempt(_) => "reconnect_attempt",
                ManagerEvent::Reconnect(_) => "reconnect",
                ManagerEvent::ReconnectError(_) => "reconnect_error",
                ManagerEvent::ReconnectFailed => "reconnect_failed",
                _ => "other",
            };
            manager_tap.push_public(name);
            async {}
        });
    (tap_client(builder, &tap), rec)
}

/// Kill, emit while down (one buffered, one volatile, one with an ack),
/// restart, and check what arrives after the reconnection, and that the
/// server answering is the restarted one (`instance`).
async fn survives_restart(
    url: String,
    transport: Transport,
    kill: impl FnOnce(),
    restart: impl FnOnce() -> String,
) {
    let (builder, mut rec) = recorded(&url, transport, fast());
    let socket = builder.connect().await.unwrap();
    rec.expect("connect").await;
    let first_id = socket.id().unwrap();
    kill();
    let reason = rec.expect_disconnect().await;
    assert!(
        ["transport close", "transport error"].contains(&reason.as_str()),
        "{reason}"
    );
    rec.expect("reconnect_attempt").await;
    rec.expect("reconnect_error").await;
    socket.volatile().emit("message", "volatile").unwrap();
    socket.emit("message", "buffered").unwrap();
    let acked = socket.emit_with_ack::<_, String>("message-with-ack", "ack me");
    let acked = tokio::spawn(acked);
    let instance = restart();
    rec.expect("reconnect").await;
    rec.expect("connect").await;
    assert!(socket.connected());
    assert_ne!(
        socket.id().unwrap(),
        first_id,
        "no state recovery: a new session"
    );
    let back = rec.expect("message-back").await;
    assert_eq!(back.json(), json!(["buffered"]));
    assert_eq!(acked.await.unwrap().unwrap(), "ack me");
    assert!(
        !rec.sees("message-back", Duration::from_millis(300)).await,
        "volatile was dropped"
    );
    socket.emit("message", "after").unwrap();
    assert_eq!(rec.expect("message-back").await.json(), json!(["after"]));
    let answering: String = socket.emit_args_with_ack("instance", &()).await.unwrap();
    assert_eq!(answering, instance, "the restarted server answers");
    socket.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_restart_websocket() {
    let server = OurServer::start();
    let url = server.url();
    let server = std::sync::Mutex::new(server);
    survives_restart(
        url,
        Transport::WebSocket,
        || server.lock().unwrap().kill(),
        || {
            let mut server = server.lock().unwrap();
            server.restart();
            server.instance.clone()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_restart_polling() {
    let server = OurServer::start();
    let url = server.url();
    let server = std::sync::Mutex::new(server);
    survives_restart(
        url,
        Transport::Polling,
        || server.lock().unwrap().kill(),
        || {
            let mut server = server.lock().unwrap();
            server.restart();
            server.instance.clone()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_restart_upgrade() {
    let Some(server) = NodeServer::start_or_skip() else {
        return;
    };
    let url = server.url();
    let server = std::sync::Mutex::new(server);
    survives_restart(
        url,
        Transport::Upgrade,
        || server.lock().unwrap().kill(),
        || {
            let mut server = server.lock().unwrap();
            server.restart();
            server.instance.clone()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_restart_polling() {
    let Some(server) = NodeServer::start_or_skip() else {
        return;
    };
    let url = server.url();
    let server = std::sync::Mutex::new(server);
    survives_restart(
        url,
        Transport::Polling,
        || server.lock().unwrap().kill(),
        || {
            let mut server = server.lock().unwrap();
            server.restart();
            server.instance.clone()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_the_attempts_limit() {
    let mut server = OurServer::start();
    let policy = fast().attempts(2).randomization_factor(0.0);
    let (builder, mut rec) = recorded(&server.url(), Transport::WebSocket, policy);
    let socket = builder.connect().await.unwrap();
    server.kill();
    rec.expect_disconnect().await;
    let pending = tokio::spawn(socket.emit_with_ack::<_, String>("message-with-ack", "x"));
    for _ in 0..2 {
        rec.expect("reconnect_attempt").await;
        rec.expect("reconnect_error").await;
    }
    rec.expect("reconnect_failed").await;
    let failed = pending.await.unwrap();
    assert!(matches!(failed, Err(Error::Transport(_))), "{failed:?}");
    assert!(!socket.connected());
    // Joining again starts afresh once the server is back.
    server.restart();
    socket.connect().await.unwrap();
    let answering: String = socket.emit_args_with_ack("instance", &()).await.unwrap();
    assert_eq!(answering, server.instance, "the restarted server answers");
    socket.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_buffering_emits_while_down_are_dropped() {
    let server = OurServer::start();
    let url = server.url();
    let server = std::sync::Mutex::new(server);
    let (builder, mut rec) = recorded(&url, Transport::WebSocket, fast());
    let socket = builder.buffer_emits(false).connect().await.unwrap();
    server.lock().unwrap().kill();
    rec.expect_disconnect().await;
    socket.emit("message", "lost").unwrap();
    let ack = socket
        .emit_with_ack::<_, String>("message-with-ack", "lost")
        .await;
    assert!(matches!(ack, Err(Error::Disconnected(_))), "{ack:?}");
    server.lock().unwrap().restart();
    rec.expect("connect").await;
    assert!(!rec.sees("message-back", Duration::from_millis(300)).await);
    let answering: String = socket.emit_args_with_ack("instance", &()).await.unwrap();
    let instance = server.lock().unwrap().instance.clone();
    assert_eq!(answering, instance, "the restarted server answers");
    socket.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_means_ping_timeout_then_reconnect() {
    let server = SilentServer::start().await;
    let (builder, mut rec) = recorded(&server.url(), Transport::WebSocket, fast());
    let started = std::time::Instant::now();
    let socket: Socket = builder.connect().await.unwrap();
    assert_eq!(rec.expect_disconnect().await, "ping timeout");
    // pingInterval 100 + pingTimeout 100: noticed after ~200 ms.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(180), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    rec.expect("reconnect_attempt").await;
    rec.expect("reconnect").await;
    rec.expect("connect").await;
    let sessions = server.sessions.clone();
    assert!(
        wait_until(Duration::from_secs(2), || sessions.load(Ordering::SeqCst)
            >= 2)
        .await
    );
    socket.manager().close().await;
}
