//! The chat demo across two `wirehub serve` nodes on one Redis (started by
//! `scripts/services.sh` on 127.0.0.1:6379): members, the room list and
//! messages are the same whichever node a user is connected to.

use serde_json::{json, Value};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wirehub_client::{ClientBuilder, Data, Socket, Transport};

const BIN: &str = env!("CARGO_BIN_EXE_wirehub");
const REDIS: &str = "127.0.0.1:6379";
const WAIT: Duration = Duration::from_secs(10);

/// A `wirehub serve` node on a free port, killed on drop.
struct Node {
    port: u16,
    child: Child,
}

fn free_port() -> u16 {
    // Bound then released: a brief window, covered by the retry below.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("addr").port()
}

impl Node {
    fn start(key: &str) -> Node {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(BIN)
                .args(["serve", "--port", &port.to_string()])
                .args([
                    "--adapter",
                    &format!("redis://{REDIS}"),
                    "--adapter-key",
                    key,
                ])
                .env("WIREHUB_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn wirehub serve");
            let deadline = Instant::now() + WAIT;
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Node { port, child };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("wirehub serve did not start");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chat user: its socket and every `(event, data)` it receives.
async fn user(node: &Node) -> (Socket, mpsc::UnboundedReceiver<(String, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut builder = ClientBuilder::new(node.url()).transport(Transport::WebSocket);
    for event in ["presence", "rooms", "chat"] {
        let tx = tx.clone();
        builder = builder.on(event, move |Data(data): Data<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((event.to_owned(), data));
            }
        });
    }
    let socket = builder.connect().await.expect("connect");
    (socket, rx)
}

/// Waits for an event `name` whose data satisfies `want`.
async fn expect(rx: &mut mpsc::UnboundedReceiver<(String, Value)>, name: &str, want: Value) {
    let seen = tokio::time::timeout(WAIT, async {
        while let Some((event, data)) = rx.recv().await {
            if event == name && data == want {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "no {name} {want}");
}

#[tokio::test]
async fn presence_rooms_and_messages_span_the_nodes() {
    assert!(
        TcpStream::connect(REDIS).is_ok(),
        "Redis must run on {REDIS} (scripts/services.sh starts it)"
    );
    let key = format!("demo-test-{}", std::process::id());
    let (a, b) = (Node::start(&key), Node::start(&key));
    let (ann, mut ann_events) = user(&a).await;
    let (bob, _bob_events) = user(&b).await;

    let joined: Value = ann
        .emit_with_ack("join", &json!({"nick": "ann", "room": "den"}))
        .await
        .expect("ann joins");
    assert_eq!(
        joined,
        json!({"ok": true, "room": "den", "members": ["ann"]})
    );
    let joined: Value = bob
        .emit_with_ack("join", &json!({"nick": "bob", "room": "den"}))
        .await
        .expect("bob joins");
    assert_eq!(
        joined["members"],
        json!(["ann", "bob"]),
        "ann is on the other node"
    );

    let both = json!({"room": "den", "members": ["ann", "bob"]});
    expect(&mut ann_events, "presence", both).await;
    expect(
        &mut ann_events,
        "rooms",
        json!([{"room": "den", "members": 2}]),
    )
    .await;

    let sent: Value = bob
        .emit_with_ack("chat", &json!({"text": "hi from b"}))
        .await
        .expect("bob chats");
    assert_eq!(sent["ok"], true);
    let seen = tokio::time::timeout(WAIT, async {
        while let Some((event, data)) = ann_events.recv().await {
            if event == "chat" {
                return data;
            }
        }
        Value::Null
    })
    .await
    .expect("ann gets bob's message");
    assert_eq!(
        (&seen["nick"], &seen["text"], &seen["id"]),
        (&json!("bob"), &json!("hi from b"), &sent["id"])
    );

    // Bob leaves: ann's node is told, with bob gone from the members.
    bob.disconnect().await;
    expect(
        &mut ann_events,
        "presence",
        json!({"room": "den", "members": ["ann"]}),
    )
    .await;
}
