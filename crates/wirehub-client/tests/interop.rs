//! The interop matrix: our client against the Node reference server
//! (socket.io 4.8.4) and our own server, over WebSocket, long-polling and
//! polling→WebSocket upgrade — the same scenarios in every cell.

mod common;

use common::node::NodeServer;
use common::ours::OurServer;
use common::record::{recorder, tap_client, tap_socket, Recorder};
use common::{wait_until, WAIT};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_client::{
    AckSender, Args, Binary, ClientBuilder, Error, RawArgs, Socket, Transport, TransportKind,
};

fn builder(url: &str, transport: Transport) -> ClientBuilder {
    ClientBuilder::new(url).transport(transport)
}

/// Connects, and for the upgrade cells waits until the upgrade is done.
async fn connected(builder: ClientBuilder, transport: Transport) -> Socket {
    let socket = builder.connect().await.expect("connect");
    assert!(socket.connected());
    let want = match transport {
        Transport::Polling => TransportKind::Polling,
        Transport::WebSocket | Transport::Upgrade => TransportKind::WebSocket,
    };
    let manager = socket.manager().clone();
    let switched = wait_until(WAIT, || manager.transport() == Some(want)).await;
    assert!(
        switched,
        "transport is {:?}, expected {want:?}",
        manager.transport()
    );
    socket
}

async fn client(url: &str, t: Transport) -> (Socket, Recorder) {
    let (tap, rec) = recorder();
    let socket = connected(tap_client(builder(url, t), &tap), t).await;
    (socket, rec)
}

async fn auth(url: String, t: Transport) {
    let (tap, mut rec) = recorder();
    let b = tap_client(builder(&url, t), &tap).auth(&json!({ "token": "abc" }));
    let socket = connected(b, t).await;
    assert!(socket.id().is_some_and(|id| !id.is_empty()));
    rec.expect("connect").await;
    assert_eq!(rec.expect("auth").await.json(), json!([{ "token": "abc" }]));
    socket.disconnect().await;
    assert_eq!(rec.expect_disconnect().await, "io client disconnect");
    assert!(!socket.connected());
}

async fn echo(url: String, t: Transport) {
    let (socket, mut rec) = client(&url, t).await;
    let data = (1, "two", json!({ "three": [3, null, true] }));
    socket.emit_args("message", &data).unwrap();
    socket.emit("message", "ünïcode ✓").unwrap();
    let back = rec.expect("message-back").await;
    assert_eq!(back.json(), json!([1, "two", { "three": [3, null, true] }]));
    let back = rec.expect("message-back").await;
    assert_eq!(back.args.get::<String>(0).unwrap(), "ünïcode ✓");
    socket.disconnect().await;
}

async fn acks(url: String, t: Transport) {
    let (socket, _rec) = client(&url, t).await;
    let reply = socket
        .emit_raw_with_ack("message-with-ack", Args::many(&(1, "2", [3])).unwrap())
        .await
        .unwrap();
    let (a, b, c): (u8, String, Vec<u8>) = reply.to_seq().unwrap();
    assert_eq!((a, b.as_str(), c), (1, "2", vec![3]));
    let joined: String = socket.emit_with_ack("join", "room-a").await.unwrap();
    assert_eq!(joined, "joined");
    // "message" is never acknowledged: the ack times out.
    let started = std::time::Instant::now();
    let late = socket
        .timeout(Duration::from_millis(200))
        .emit_with_ack::<_, Value>("message", &1)
        .await;
    assert!(matches!(late, Err(Error::AckTimeout { .. })), "{late:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    socket.disconnect().await;
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct File {
    name: String,
    data: Binary,
    parts: Vec<Binary>,
}

async fn binary(url: String, t: Transport) {
    let (socket, mut rec) = client(&url, t).await;
    let file = File {
        name: "f.bin".into(),
        data: Binary::from(vec![0u8, 1, 2, 255]),
        parts: vec![Binary::from(vec![9u8; 1000]), Binary::from(Vec::new())],
    };
    socket
        .emit_args("message", &(&file, Binary::from(vec![7u8])))
        .unwrap();
    let back = rec.expect("message-back").await;
    assert_eq!(back.args.attachments().len(), 4);
    let (f, b): (File, Binary) = back.args.to_seq().unwrap();
    assert_eq!((f, b), (file, Binary::from(vec![7u8])));
    let reply: Binary = socket
        .emit_with_ack("message-with-ack", &Binary::from(vec![4u8, 2]))
        .await
        .unwrap();
    assert_eq!(&reply[..], &[4, 2]);
    socket.disconnect().await;
}

async fn server_ack(url: String, t: Transport) {
    let (tap, mut rec) = recorder();
    let b = tap_client(builder(&url, t), &tap).on(
        "server-ack-request",
        |RawArgs(args): RawArgs, ack: AckSender| async move {
            assert!(ack.is_requested());
            ack.send_raw(args).unwrap();
        },
    );
    let socket = connected(b, t).await;
    socket
        .emit_args("server-ack", &(1, "x", Binary::from(vec![5u8])))
        .unwrap();
    let result = rec.expect("server-ack-result").await;
    let value: Value = result.args.get(0).unwrap();
    assert_eq!(value["reply"][0], 1);
    assert_eq!(value["reply"][1], "x");
    #[derive(Deserialize)]
    struct Reply {
        reply: (u8, String, Binary),
    }
    let reply: Reply = result.args.get(0).unwrap();
    assert_eq!(&reply.reply.2[..], &[5]);
    socket.disconnect().await;
}

async fn namespaces(url: String, t: Transport) {
    let manager = builder(&url, t).manager().unwrap();
    let (tap_root, mut root_rec) = recorder();
    let (tap_custom, mut custom_rec) = recorder();
    let root = tap_socket(manager.socket("/").auth(&json!({ "a": 1 })), &tap_root)
        .connect()
        .await
        .unwrap();
    let custom = tap_socket(
        manager.socket("custom").auth(&json!({ "b": 2 })),
        &tap_custom,
    )
    .connect()
    .await
    .unwrap();
    assert_eq!(custom.namespace(), "/custom");
    assert_eq!(root_rec.expect("auth").await.json(), json!([{ "a": 1 }]));
    assert_eq!(custom_rec.expect("auth").await.json(), json!([{ "b": 2 }]));
    let refused = manager.socket("/nope").connect().await;
    match refused {
        Err(Error::ConnectRefused { ns, message, .. }) => {
            assert_eq!(
                (ns.as_str(), message.as_str()),
                ("/nope", "Invalid namespace")
            )
        }
        other => panic!("expected a CONNECT_ERROR, got {other:?}"),
    }
    // Leaving one namespace keeps the connection for the other.
    custom.disconnect().await;
    root.emit("message", "still here").unwrap();
    root_rec.expect("message-back").await;
    assert!(root.connected());
    manager.close().await;
    assert!(!root.connected());
}

async fn server_disconnect(url: String, t: Transport) {
    let (socket, mut rec) = client(&url, t).await;
    socket.emit_args("disconnect-me", &()).unwrap();
    assert_eq!(rec.expect_disconnect().await, "io server disconnect");
    assert!(!socket.connected());
    // No reconnection after a server-side disconnect.
    assert!(!rec.sees("connect", Duration::from_millis(500)).await);
    // Joining again is explicit.
    socket.connect().await.unwrap();
    assert!(socket.connected());
    socket.disconnect().await;
}

async fn client_disconnect(url: String, t: Transport) {
    let (watcher, mut rec) = client(&url, t).await;
    let ok: String = watcher
        .emit_args_with_ack("watch-disconnects", &())
        .await
        .unwrap();
    assert_eq!(ok, "watching");
    let (other, _) = client(&url, t).await;
    let id = other.id().unwrap();
    other.disconnect().await;
    let seen = rec.expect("peer-disconnected").await;
    let (who, reason): (String, String) = seen.args.to_seq().unwrap();
    assert_eq!(
        (who.as_str(), reason.as_str()),
        (id.as_str(), "client namespace disconnect")
    );
    watcher.disconnect().await;
}

async fn rooms(url: String, t: Transport) {
    let (a, mut a_rec) = client(&url, t).await;
    let (b, mut b_rec) = client(&url, t).await;
    let joined: String = a.emit_with_ack("join", "r1").await.unwrap();
    assert_eq!(joined, "joined");
    b.emit_args("to-room", &("r1", "hi", 2)).unwrap();
    assert_eq!(a_rec.expect("room-message").await.json(), json!(["hi", 2]));
    b.emit("broadcast", "all").unwrap();
    assert_eq!(
        a_rec.expect("broadcast-message").await.json(),
        json!(["all"])
    );
    assert_eq!(
        b_rec.expect("broadcast-message").await.json(),
        json!(["all"])
    );
    a.disconnect().await;
    b.disconnect().await;
}

macro_rules! cell {
    ($cell:ident, $server:ident, $transport:expr) => {
        mod $cell {
            use super::*;
            cell!(@tests $server, $transport,
                auth, echo, acks, binary, server_ack, namespaces,
                server_disconnect, client_disconnect, rooms);
        }
    };
    (@tests node, $transport:expr, $($scenario:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let Some(server) = NodeServer::start_or_skip() else { return };
            super::$scenario(server.url(), $transport).await;
        }
    )*};
    (@tests ours, $transport:expr, $($scenario:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let server = OurServer::start();
            super::$scenario(server.url(), $transport).await;
        }
    )*};
}

cell!(node_websocket, node, Transport::WebSocket);
cell!(node_polling, node, Transport::Polling);
cell!(node_upgrade, node, Transport::Upgrade);
cell!(ours_websocket, ours, Transport::WebSocket);
cell!(ours_polling, ours, Transport::Polling);
cell!(ours_upgrade, ours, Transport::Upgrade);
