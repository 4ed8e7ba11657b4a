//! Several servers in one process, clustered over the in-process bus
//! (`MemoryBus`), in each protocol the cluster adapters speak: every
//! operation of the adapter seam across three nodes (broadcasts, rooms,
//! except, acks, fetch_sockets, bulk join/leave/disconnect, server-side
//! emits, server count, local), room history with one offset sequence
//! across nodes, and an engine outage.

mod common;

use common::{start, within, Msg, TestServer, WsClient};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use wirehub_server::cluster::{
    self, ClusterOptions, Counting, MemoryBus, MemoryDriver, RoomChannels,
};
use wirehub_server::io::{Data, ServerAck};
use wirehub_server::proto::socketio::Args;
use wirehub_server::SocketIo;

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Classic,
    Sharded,
    Heartbeats,
}

const ALL: [Protocol; 3] = [Protocol::Classic, Protocol::Sharded, Protocol::Heartbeats];

struct Node {
    server: TestServer,
    driver: Arc<MemoryDriver>,
}

struct Cluster {
    nodes: Vec<Node>,
}

fn options() -> ClusterOptions {
    ClusterOptions::with_key("test")
        .requests_timeout(Duration::from_millis(1500))
        .heartbeat(Duration::from_millis(200), Duration::from_millis(1000))
}

async fn cluster(protocol: Protocol, n: usize) -> Cluster {
    let bus = MemoryBus::new();
    let mut nodes = Vec::new();
    for _ in 0..n {
        let driver = bus.driver();
        let factory = match protocol {
            Protocol::Classic => cluster::classic(driver.clone(), options()),
            Protocol::Sharded => cluster::clustered(
                driver.clone(),
                options(),
                Counting::Subscribers,
                RoomChannels::Dynamic,
            ),
            Protocol::Heartbeats => cluster::clustered(
                driver.clone(),
                options(),
                Counting::Heartbeats,
                RoomChannels::Static,
            ),
        };
        let server = start(SocketIo::builder().adapter(factory)).await;
        register_contract(&server.io);
        server.io.ready().await;
        nodes.push(Node { server, driver });
    }
    let c = Cluster { nodes };
    // Every node counts the whole cluster (heartbeats need a moment).
    for node in &c.nodes {
        let io = node.server.io.clone();
        within("every node to see the cluster", async move {
            while io.main().server_count().await.unwrap_or(0) != n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
    c
}

/// The server side the tests drive through: answers to broadcasts with
/// acks, and a server-side event.
fn register_contract(io: &SocketIo) {
    io.on_server_event("node-ping", |_args: Args, ack: ServerAck| async move {
        let _ = ack.send("pong");
    });
}

impl Cluster {
    fn io(&self, i: usize) -> &SocketIo {
        &self.nodes[i].server.io
    }

    /// A connected client on node `i`, and its socket id.
    async fn client(&self, i: usize) -> (WsClient, String) {
        let (mut ws, id) = self.nodes[i].server.ws_connected().await;
        ws.assert_echo().await;
        (ws, id)
    }

    /// Two clients on every node.
    async fn clients(&self) -> Vec<(usize, WsClient, String)> {
        let mut all = Vec::new();
        for i in 0..self.nodes.len() {
            for _ in 0..2 {
                let (ws, id) = self.client(i).await;
                all.push((i, ws, id));
            }
        }
        all
    }
}

/// The next event a client receives: `[name, ...args]`.
async fn next_event(ws: &mut WsClient) -> Value {
    loop {
        match ws.recv().await {
            Msg::Text(t) if t.starts_with("42") => {
                let json = t.trim_start_matches(|c: char| c.is_ascii_digit());
                return serde_json::from_str(json).expect("event JSON");
            }
            Msg::Text(_) => continue,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

/// Nothing more arrives for a short while (no duplicate, no stray event).
async fn nothing_more(ws: &mut WsClient) {
    ws.assert_echo().await;
}

#[tokio::test]
async fn broadcast_reaches_every_node_once() {
    for protocol in ALL {
        let c = cluster(protocol, 3).await;
        let mut all = c.clients().await;
        for from in 0..3 {
            let sent = c.io(from).emit("hello", &from).unwrap();
            assert_eq!(sent, 2, "{protocol:?}: the local recipients");
            for (_, ws, _) in all.iter_mut() {
                assert_eq!(next_event(ws).await, json!(["hello", from]), "{protocol:?}");
            }
        }
        for (_, ws, _) in all.iter_mut() {
            nothing_more(ws).await;
        }
    }
}

#[tokio::test]
async fn rooms_and_except_across_nodes() {
    for protocol in ALL {
        let c = cluster(protocol, 3).await;
        let mut all = c.clients().await;
        // One member of `r` on each node; the first of node 2 is excepted.
        for (node, _, id) in all.iter().step_by(2) {
            c.nodes[*node].server.socket("/", id).join("r");
        }
        let excepted = all[4].2.clone();
        // Heartbeat/sharded room channels subscribe asynchronously.
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.io(1)
            .to("r")
            .except(excepted.as_str())
            .emit("in-r", &1)
            .unwrap();
        for (i, (_, ws, _)) in all.iter_mut().enumerate() {
            if i % 2 == 0 && i != 4 {
                assert_eq!(
                    next_event(ws).await,
                    json!(["in-r", 1]),
                    "{protocol:?} #{i}"
                );
            }
            nothing_more(ws).await;
        }
        // A socket's own room, across nodes.
        let target = all[5].2.clone();
        c.io(0).to(target.as_str()).emit("direct", &2).unwrap();
        assert_eq!(next_event(&mut all[5].1).await, json!(["direct", 2]));
        for (_, ws, _) in all.iter_mut() {
            nothing_more(ws).await;
        }
    }
}

/// Answers the next `collect` event of each client with `from-<its id>`.
async fn answer_collect(all: &mut [(usize, WsClient, String)]) {
    for (_, ws, id) in all.iter_mut() {
        let text = ws.recv_text().await;
        let ack = common::ack_id(&text, "/");
        ws.send(&format!(r#"43{ack}["from-{id}"]"#));
    }
}

#[tokio::test]
async fn broadcast_acks_gather_every_node() {
    for protocol in ALL {
        let c = cluster(protocol, 3).await;
        let mut all = c.clients().await;
        let op = c.io(2).broadcast().timeout(Duration::from_secs(2));
        let pending = tokio::spawn(async move { op.emit_with_ack("collect", &0).await });
        answer_collect(&mut all).await;
        let answers = within("the acks", pending).await.unwrap().unwrap();
        assert!(!answers.timed_out, "{protocol:?}: {answers:?}");
        assert_eq!(answers.expected, 6);
        let got: BTreeSet<String> = answers.first_args().unwrap().into_iter().collect();
        let want: BTreeSet<String> = all.iter().map(|(_, _, id)| format!("from-{id}")).collect();
        assert_eq!(got, want, "{protocol:?}");
        // A room with no member on two nodes: they report 0 and the
        // gathering still completes before the timeout.
        c.nodes[0].server.socket("/", &all[0].2).join("solo");
        let op = c.io(1).to("solo").timeout(Duration::from_secs(2));
        let pending = tokio::spawn(async move { op.emit_with_ack("collect", &0).await });
        answer_collect(&mut all[..1]).await;
        let answers = within("the acks", pending).await.unwrap().unwrap();
        assert!(!answers.timed_out, "{protocol:?}");
        assert_eq!(answers.expected, 1);
        for (_, ws, _) in all.iter_mut() {
            nothing_more(ws).await;
        }
    }
}

#[tokio::test]
async fn fetch_sockets_describes_every_node() {
    for protocol in ALL {
        let c = cluster(protocol, 3).await;
        let all = c.clients().await;
        let s = c.nodes[1].server.socket("/", &all[2].2);
        s.join("fetched");
        s.set_data(&json!({"nick": "ann"})).unwrap();
        let every = c.io(0).fetch_sockets().await.unwrap();
        let ids: BTreeSet<String> = every.iter().map(|s| s.id().to_string()).collect();
        let want: BTreeSet<String> = all.iter().map(|(_, _, id)| id.clone()).collect();
        assert_eq!(ids, want, "{protocol:?}");
        let found = c.io(2).to("fetched").fetch_sockets().await.unwrap();
        assert_eq!(found.len(), 1);
        let remote = &found[0];
        assert_eq!(remote.id().as_str(), all[2].2);
        assert_eq!(remote.data()["nick"], "ann");
        let rooms: Vec<&str> = remote.rooms().iter().map(|r| r.as_str()).collect();
        assert!(rooms.contains(&"fetched") && rooms.contains(&all[2].2.as_str()));
        assert_eq!(remote.handshake()["address"], "127.0.0.1");
        assert!(remote.handshake()["time"].as_str().unwrap().contains("GMT"));
        // Acting on a remote socket.
        remote.emit("to-you", &3).unwrap();
        let mut all = all;
        assert_eq!(next_event(&mut all[2].1).await, json!(["to-you", 3]));
    }
}

/// Waits until `cond` holds (bounded).
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

#[tokio::test]
async fn bulk_join_leave_and_disconnect_across_nodes() {
    for protocol in ALL {
        let c = cluster(protocol, 3).await;
        let mut all = c.clients().await;
        for (node, _, id) in all.iter().step_by(2) {
            c.nodes[*node].server.socket("/", id).join("a");
        }
        c.io(0).to("a").sockets_join("b").unwrap();
        for (node, _, id) in all.iter().step_by(2) {
            let socket = c.nodes[*node].server.socket("/", id);
            eventually("the join", || socket.rooms().iter().any(|r| r == "b")).await;
        }
        c.io(1).to("b").sockets_leave("a").unwrap();
        for (node, _, id) in all.iter().step_by(2) {
            let socket = c.nodes[*node].server.socket("/", id);
            eventually("the leave", || !socket.rooms().iter().any(|r| r == "a")).await;
        }
        assert_eq!(c.io(2).to("b").fetch_sockets().await.unwrap().len(), 3);
        c.io(2).to("b").disconnect_sockets(false).unwrap();
        for (i, (node, ws, id)) in all.iter_mut().enumerate() {
            if i % 2 == 0 {
                ws.expect("41").await;
                let reasons = &c.nodes[*node].server.reasons;
                assert_eq!(reasons.wait(id).await, "server namespace disconnect");
            } else {
                nothing_more(ws).await;
            }
        }
    }
}

#[tokio::test]
async fn server_side_emits_reach_the_other_nodes() {
    for protocol in ALL {
        let c = cluster(protocol, 3).await;
        for from in 0..3 {
            let answers = c
                .io(from)
                .server_side_emit_with_ack("node-ping", Args::empty())
                .await;
            assert!(!answers.timed_out, "{protocol:?}");
            assert_eq!(answers.expected, 2);
            let pongs: Vec<String> = answers
                .responses
                .iter()
                .map(|a| a.get(0).unwrap())
                .collect();
            assert_eq!(pongs, ["pong", "pong"]);
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 1..3 {
            let tx = tx.clone();
            c.io(i)
                .on_server_event("hello", move |args: Args, _ack: ServerAck| {
                    let tx = tx.clone();
                    async move {
                        let _ = tx.send((i, args.get::<u8>(0).unwrap()));
                    }
                });
        }
        c.io(0).server_side_emit("hello", &7).unwrap();
        let mut got = vec![
            within("a server-side event", rx.recv()).await.unwrap(),
            within("a server-side event", rx.recv()).await.unwrap(),
        ];
        got.sort();
        assert_eq!(got, [(1, 7), (2, 7)]);
    }
}

#[tokio::test]
async fn local_stays_on_the_node() {
    for protocol in ALL {
        let c = cluster(protocol, 2).await;
        let (mut a, _) = c.client(0).await;
        let (mut b, _) = c.client(1).await;
        assert_eq!(c.io(0).broadcast().local().emit("here", &1).unwrap(), 1);
        assert_eq!(next_event(&mut a).await, json!(["here", 1]));
        nothing_more(&mut b).await;
        assert_eq!(
            c.io(1)
                .broadcast()
                .local()
                .fetch_sockets()
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn room_history_has_one_offset_sequence_across_nodes() {
    for protocol in ALL {
        let c = cluster(protocol, 2).await;
        let (_a, a_id) = c.client(0).await;
        c.nodes[0].server.socket("/", &a_id).join("r");
        let mut offsets = Vec::new();
        for i in 0..4 {
            let from = i % 2;
            let published = c
                .io(from)
                .to("r")
                .publish("news", Args::one(&i).unwrap())
                .unwrap();
            offsets.push(
                within("the offset", published.offset())
                    .await
                    .expect("recorded"),
            );
        }
        let mut sorted = offsets.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, offsets, "{protocol:?}: distinct and increasing");
        // Both nodes recorded all four, under the same offsets, whichever
        // node published them (node 1 has no member of `r`).
        for node in 0..2 {
            let read = wait_history(&c, node, 4).await;
            assert_eq!(read, offsets, "{protocol:?} node {node}");
        }
    }
}

/// The offsets in node `node`'s history of room `r`, once it has `n`.
async fn wait_history(c: &Cluster, node: usize, n: usize) -> Vec<u64> {
    let io = c.io(node).clone();
    within("the history", async move {
        loop {
            let read = io.main().read_history(&["r".into()], 0, 100);
            let offsets: Vec<u64> = read.messages.iter().filter_map(|d| d.offset()).collect();
            if offsets.len() >= n {
                return offsets;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

#[tokio::test]
async fn an_outage_keeps_local_delivery_and_recovers() {
    for protocol in ALL {
        let c = cluster(protocol, 2).await;
        let (mut a, _) = c.client(0).await;
        let (mut b, _) = c.client(1).await;
        c.nodes[0].driver.set_cut(true);
        // Local delivery goes on; the other node misses it.
        assert_eq!(c.io(0).emit("during", &1).unwrap(), 1);
        assert_eq!(next_event(&mut a).await, json!(["during", 1]));
        nothing_more(&mut b).await;
        assert!(c.io(0).fetch_sockets().await.is_err(), "{protocol:?}");
        c.nodes[0].driver.set_cut(false);
        c.io(0).emit("after", &2).unwrap();
        assert_eq!(next_event(&mut a).await, json!(["after", 2]));
        assert_eq!(next_event(&mut b).await, json!(["after", 2]));
        c.nodes[0].server.assert_healthy().await;
    }
}

#[tokio::test]
async fn a_node_that_left_is_not_waited_for() {
    for protocol in [Protocol::Classic, Protocol::Sharded] {
        let c = cluster(protocol, 3).await;
        let _clients = c.clients().await;
        c.nodes[2].driver.leave();
        let found = within("the fetch", c.io(0).fetch_sockets()).await.unwrap();
        assert_eq!(found.len(), 4, "{protocol:?}");
    }
    // With heartbeats, a silent node is dropped after the heartbeat timeout;
    // meanwhile a fetch fails after the request timeout instead of hanging.
    let c = cluster(Protocol::Heartbeats, 3).await;
    c.nodes[2].driver.leave();
    let failed = within("the fetch", c.io(0).fetch_sockets()).await;
    assert!(failed.is_err());
    let io = c.io(0).clone();
    within("the silent node to be dropped", async move {
        while io.main().server_count().await.unwrap() != 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let found = within("the fetch", c.io(0).fetch_sockets()).await.unwrap();
    assert!(found.is_empty());
}

/// A node that stops answering mid-request (still counted as a
/// subscriber): fetches and broadcast acks complete with what arrived once
/// the timeout passed.
#[tokio::test]
async fn requests_complete_with_what_arrived_when_a_node_goes_silent() {
    for protocol in [Protocol::Classic, Protocol::Sharded] {
        let c = cluster(protocol, 3).await;
        let mut all = c.clients().await;
        c.nodes[2].driver.set_cut(true);
        let partial = within("the fetch", c.io(0).fetch_sockets())
            .await
            .unwrap_err();
        assert_eq!(partial.items.len(), 4, "{protocol:?}: nodes 0 and 1");
        assert!(
            matches!(
                partial.error,
                wirehub_server::io::AdapterError::Timeout {
                    received: 1,
                    expected: 2
                }
            ),
            "{protocol:?}: {}",
            partial.error
        );
        let op = c.io(0).broadcast().timeout(Duration::from_millis(800));
        let pending = tokio::spawn(async move { op.emit_with_ack("collect", &0).await });
        answer_collect(&mut all[..4]).await;
        let answers = within("the acks", pending).await.unwrap().unwrap();
        assert!(answers.timed_out, "{protocol:?}");
        assert_eq!((answers.expected, answers.responses.len()), (4, 4));
    }
}

#[tokio::test]
async fn middleware_added_through_of_applies() {
    let server = common::start_default().await;
    let ns = server.io.of("/").unwrap();
    ns.use_middleware(|Data(auth): Data<Value>| async move {
        match auth.get("ok") {
            Some(_) => Ok(()),
            None => Err(wirehub_server::io::ConnectError::new("refused")),
        }
    });
    let mut ws = server.ws().await;
    ws.send("40");
    let refusal = ws.recv_text().await;
    assert!(refusal.starts_with("44"), "{refusal}");
    ws.send(r#"40{"ok":1}"#);
    assert!(ws.recv_text().await.starts_with("40"));
}

/// Two nodes that know each other's address: requests for a session sent
/// to the node that does not own it are forwarded (polling and upgrade).
#[tokio::test]
async fn requests_for_another_nodes_session_are_forwarded() {
    use common::{Polling, WsClient};
    use wirehub_server::cluster::NodeDirectory;
    let bus = MemoryBus::new();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let driver = bus.driver();
        // The address is known once the listener is bound: reserve it first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let directory = NodeDirectory::start(driver.clone(), "fwd", &format!("http://{addr}"))
            .await
            .unwrap();
        let (service, io) = SocketIo::builder()
            .adapter(cluster::classic(driver, options()))
            .session_locator(directory.clone())
            .build_service();
        common::echo_ns(&io, "/", &common::Reasons::default());
        io.ready().await;
        tokio::spawn(wirehub_server::serve(
            listener,
            service,
            std::future::pending(),
        ));
        nodes.push((addr, directory));
    }
    let (a, b) = (nodes[0].0, nodes[1].0);
    let dirs = (nodes[0].1.clone(), nodes[1].1.clone());
    within("the nodes to know each other", async move {
        while dirs.0.nodes().is_empty() || dirs.1.nodes().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    // A polling session of node A, driven entirely through node B.
    let owned_by_a = Polling::open(a).await;
    assert!(owned_by_a.sid.starts_with(nodes[0].1.tag().as_str()));
    let via_b = Polling {
        addr: b,
        ..owned_by_a.clone()
    };
    via_b.connect_ns("/", None).await;
    via_b.send(r#"42["message","through b"]"#).await;
    assert_eq!(via_b.poll().await, [r#"42["message-back","through b"]"#]);
    // A forwarded request is never forwarded again.
    let looped = common::http(
        b,
        "GET",
        &owned_by_a.target(),
        &[("x-wirehub-forwarded", "1")],
        b"",
    )
    .await;
    looped.assert_error(400, 1, "Session ID unknown");

    // The upgrade of A's session, sent to B, is piped to A.
    let mut ws = WsClient::upgrade(b, &owned_by_a.sid).await;
    ws.assert_echo().await;
}

/// A dynamic namespace dropped to make room for another takes its cluster
/// subscriptions with it.
#[tokio::test]
async fn a_dropped_dynamic_namespace_leaves_the_cluster() {
    use wirehub_server::cluster::Driver;
    let bus = MemoryBus::new();
    let driver = bus.driver();
    let builder = SocketIo::builder()
        .adapter(cluster::classic(driver.clone(), options()))
        .config_with(|c| c.max_dynamic_namespaces(1));
    let server = start(builder).await;
    server
        .io
        .dyn_ns(r"/d\d", |_: wirehub_server::io::SocketRef| async {})
        .unwrap();
    let subscribers = |ns: &str| {
        let driver = driver.clone();
        let channel = format!("test-request#{ns}#");
        async move { driver.listeners(channel).await.unwrap() }
    };
    let mut ws = server.ws().await;
    ws.connect_ns("/d1", None).await;
    ws.send("41/d1,");
    within("/d1 to subscribe", async {
        while subscribers("/d1").await != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // /d2 takes the only place: /d1, unused now, goes, and so do its channels.
    ws.connect_ns("/d2", None).await;
    within("/d1 to unsubscribe", async {
        while subscribers("/d1").await != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(subscribers("/d2").await, 1);
}
