//! Connection state recovery (Socket.IO 4.6+) against the Node reference
//! server (socket.io 4.8.4) started with `RECOVERY_MS` (recovery on,
//! `skipMiddlewares`), and against wirehub's own server. The server's `cut-transport` closes the Engine.IO
//! connection under the socket (a recoverable `forced close`) and emits
//! `missed` 1..n to it while it is away; its `auth` event echoes the
//! CONNECT packet's data, so the tests see what the client asked for.
//!
//! - A cut shorter than the window: the session is restored (same id,
//!   `recovered()`), the missed events arrive in order, once (before
//!   `connect` from Node, which sends them before its CONNECT answer), and the CONNECT carried `{pid, offset, ...auth}` with the
//!   offset of the last event received.
//! - A cut longer than the window: a new session (new id, nothing replayed).
//! - A deliberate `disconnect()` ends the session: the next `connect()`
//!   asks for nothing and gets a new one.
//! - A server without recovery: no pid in any CONNECT, nothing recovered.
//!
//! Every sequence is checked strictly (`next_is`): an event out of place
//! or twice fails the test.

mod common;

use common::node::NodeServer;
use common::ours::OurServer;
use common::record::{recorder, tap_client, Received, Recorder};
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_client::{ClientBuilder, Reconnection, Socket, Transport};

/// Reconnects after exactly `ms` (no jitter).
fn after(ms: u64) -> Reconnection {
    let delay = Duration::from_millis(ms);
    Reconnection::default()
        .delay(delay)
        .max_delay(delay)
        .randomization_factor(0.0)
}

/// A recorded client with auth `{"token":"t"}`, reconnecting after `delay_ms`.
async fn client(url: &str, transport: Transport, delay_ms: u64) -> (Socket, Recorder) {
    let (tap, rec) = recorder();
    let builder = ClientBuilder::new(url)
        .transport(transport)
        .reconnection(after(delay_ms))
        .auth(&json!({ "token": "t" }));
    let socket = tap_client(builder, &tap).connect().await.expect("connect");
    (socket, rec)
}

/// The next recorded event, which must be `name`.
async fn next_is(rec: &mut Recorder, name: &str) -> Received {
    let r = rec.next().await;
    assert_eq!(
        r.name,
        name,
        "expected {name:?}, got {:?} {}",
        r.name,
        r.json()
    );
    r
}

/// The arguments of an event the server stored for replay: the ones it
/// was emitted with, and the offset it appended (a string).
fn split_offset(r: &Received) -> (Vec<Value>, String) {
    let Value::Array(mut args) = r.json() else {
        unreachable!("json() is an array")
    };
    let offset = args.pop().and_then(|o| o.as_str().map(str::to_owned));
    let offset = offset.unwrap_or_else(|| panic!("{} has no offset: {}", r.name, r.json()));
    (args, offset)
}

/// The recovery fields a CONNECT carried (as echoed by `auth`): its pid
/// (checked to be a string) and offset, the rest being the auth payload.
fn asked(auth: &Value) -> (String, Option<String>) {
    assert_eq!(auth["token"], "t", "the auth payload is kept: {auth}");
    let pid = auth["pid"]
        .as_str()
        .unwrap_or_else(|| panic!("no pid in {auth}"));
    let offset = auth
        .get("offset")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let keys = auth.as_object().map_or(0, |o| o.len());
    assert_eq!(keys, 2 + usize::from(offset.is_some()), "{auth}");
    (pid.to_owned(), offset)
}

async fn recovers_after_a_short_cut(url: String, transport: Transport) {
    let (socket, mut rec) = client(&url, transport, 200).await;
    next_is(&mut rec, "connect").await;
    assert!(!socket.recovered(), "a first connection is not recovered");
    let id = socket.id().expect("id");
    let (auth, _) = split_offset(&next_is(&mut rec, "auth").await);
    assert_eq!(
        auth,
        [json!({ "token": "t" })],
        "a first CONNECT has no pid"
    );

    // The handler sees the offset as the last argument, as in the JS client.
    socket.emit("message", "before").unwrap();
    let (back, offset) = split_offset(&next_is(&mut rec, "message-back").await);
    assert_eq!(back, [json!("before")]);

    socket.emit("cut-transport", &3).unwrap();
    let gone = next_is(&mut rec, "disconnect").await;
    let reason = gone.args.get::<String>(0).unwrap();
    // Node closes a polling session with a CLOSE packet; wirehub drops it
    // (the next poll fails).
    assert!(
        ["transport close", "transport error"].contains(&reason.as_str()),
        "{reason}"
    );

    // The missed events, in order, then `connect`: the server (Node and
    // wirehub alike) sends them before its CONNECT answer; the client holds
    // them until connected, then hands them out before `connect`, as the
    // official client does.
    let mut offsets = vec![offset.clone()];
    for i in 1..=3 {
        let (args, o) = split_offset(&next_is(&mut rec, "missed").await);
        assert_eq!(args, [json!(i)], "missed events in order");
        assert!(!offsets.contains(&o), "a new offset per event");
        offsets.push(o);
    }
    next_is(&mut rec, "connect").await;
    assert!(socket.recovered(), "the session was restored");
    assert_eq!(socket.id().as_deref(), Some(id.as_str()), "same socket id");

    // The reconnection's CONNECT: pid, the last offset seen, the auth.
    let (auth, _) = split_offset(&next_is(&mut rec, "auth").await);
    let (pid, asked_offset) = asked(&auth[0]);
    assert!(!pid.is_empty());
    assert_eq!(asked_offset.as_deref(), Some(offset.as_str()));

    // Nothing is delivered twice.
    socket.emit("message", "after").unwrap();
    let (back, _) = split_offset(&next_is(&mut rec, "message-back").await);
    assert_eq!(back, [json!("after")]);
    assert!(!rec.sees("missed", Duration::from_millis(300)).await);

    // A deliberate disconnect ends the session: the next CONNECT asks for
    // nothing. (The official client would still offer its pid, and the Node
    // server, which keeps the session it restored, would restore it again.)
    socket.disconnect().await;
    let gone = next_is(&mut rec, "disconnect").await;
    assert_eq!(gone.args.get::<String>(0).unwrap(), "io client disconnect");
    socket.connect().await.expect("connect again");
    next_is(&mut rec, "connect").await;
    assert!(!socket.recovered(), "a new session after disconnect()");
    assert_ne!(socket.id().as_deref(), Some(id.as_str()));
    let (auth, _) = split_offset(&next_is(&mut rec, "auth").await);
    assert_eq!(auth, [json!({ "token": "t" })], "no pid after disconnect()");
    assert!(!rec.sees("missed", Duration::from_millis(300)).await);
    socket.disconnect().await;
}

async fn a_long_cut_starts_a_new_session(url: String, transport: Transport) {
    // The server keeps the session 300 ms; the client is back after 1.5 s.
    let (socket, mut rec) = client(&url, transport, 1500).await;
    next_is(&mut rec, "connect").await;
    let id = socket.id().expect("id");
    next_is(&mut rec, "auth").await;
    socket.emit("message", "before").unwrap();
    let (_, offset) = split_offset(&next_is(&mut rec, "message-back").await);

    socket.emit("cut-transport", &2).unwrap();
    next_is(&mut rec, "disconnect").await;
    next_is(&mut rec, "connect").await;
    assert!(!socket.recovered(), "the session expired");
    assert_ne!(socket.id().as_deref(), Some(id.as_str()), "a new socket id");
    let (auth, _) = split_offset(&next_is(&mut rec, "auth").await);
    let (_, asked_offset) = asked(&auth[0]);
    assert_eq!(asked_offset.as_deref(), Some(offset.as_str()), "it did ask");
    assert!(
        !rec.sees("missed", Duration::from_millis(300)).await,
        "nothing replayed into a new session"
    );
    socket.disconnect().await;
}

async fn nothing_asked_without_recovery(url: String, transport: Transport) {
    let (socket, mut rec) = client(&url, transport, 200).await;
    next_is(&mut rec, "connect").await;
    let id = socket.id().expect("id");
    assert_eq!(
        next_is(&mut rec, "auth").await.json(),
        json!([{ "token": "t" }])
    );
    socket.emit("message", "before").unwrap();
    let back = next_is(&mut rec, "message-back").await;
    assert_eq!(back.json(), json!(["before"]), "no offset appended");

    socket.emit("cut-transport", &2).unwrap();
    next_is(&mut rec, "disconnect").await;
    next_is(&mut rec, "connect").await;
    assert!(!socket.recovered());
    assert_ne!(socket.id().as_deref(), Some(id.as_str()));
    assert_eq!(
        next_is(&mut rec, "auth").await.json(),
        json!([{ "token": "t" }]),
        "no pid (nor offset) in the CONNECT"
    );
    assert!(!rec.sees("missed", Duration::from_millis(300)).await);
    socket.disconnect().await;
}

fn node(recovery_ms: Option<u64>) -> Option<NodeServer> {
    match recovery_ms {
        Some(ms) => NodeServer::start_with_or_skip(&[("RECOVERY_MS", &ms.to_string())]),
        None => NodeServer::start_or_skip(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_recovers_after_a_short_cut_websocket() {
    let Some(server) = node(Some(10_000)) else {
        return;
    };
    recovers_after_a_short_cut(server.url(), Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_recovers_after_a_short_cut_polling() {
    let Some(server) = node(Some(10_000)) else {
        return;
    };
    recovers_after_a_short_cut(server.url(), Transport::Polling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_a_long_cut_starts_a_new_session() {
    let Some(server) = node(Some(300)) else {
        return;
    };
    a_long_cut_starts_a_new_session(server.url(), Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_without_recovery_nothing_is_asked_or_recovered() {
    let Some(server) = node(None) else { return };
    nothing_asked_without_recovery(server.url(), Transport::WebSocket).await;
}

// The same scenarios against wirehub's own server (in-process, recovery
// on with `SocketIo::builder().recovery_window`; its `cut-transport` closes
// the connection with a recoverable "forced server close").

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_recovers_after_a_short_cut_websocket() {
    let server = OurServer::start_with_recovery(Duration::from_secs(10));
    recovers_after_a_short_cut(server.url(), Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_recovers_after_a_short_cut_polling() {
    let server = OurServer::start_with_recovery(Duration::from_secs(10));
    recovers_after_a_short_cut(server.url(), Transport::Polling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_a_long_cut_starts_a_new_session() {
    let server = OurServer::start_with_recovery(Duration::from_millis(300));
    a_long_cut_starts_a_new_session(server.url(), Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_without_recovery_nothing_is_asked_or_recovered() {
    let server = OurServer::start();
    nothing_asked_without_recovery(server.url(), Transport::WebSocket).await;
}
