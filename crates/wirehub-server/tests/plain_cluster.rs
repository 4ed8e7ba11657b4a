//! Room history across nodes: two plain servers clustered over the
//! in-process bus. Messages published on one node are recorded by the
//! other under the same offsets, so a client resumes on either node (SSE
//! `Last-Event-ID`, stream and poll `since`) without gaps or repeats: with
//! the classic protocol (offsets from the cluster's sequence) and with the
//! Redis streams adapter's (offsets from the stream entry ids).

mod common;

use common::plain::{api_builder, chats, resume_news_after, start_plain, Kind, PlainServer};
use common::within;
use serde_json::Value;
use std::time::Duration;
use wirehub_server::cluster::{self, ClusterOptions, MemoryBus};

#[derive(Debug, Clone, Copy)]
enum Protocol {
    Classic,
    Streams,
}

async fn pair(protocol: Protocol) -> (PlainServer, PlainServer) {
    let bus = MemoryBus::new();
    let options = ClusterOptions::with_key("plain").requests_timeout(Duration::from_secs(2));
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let driver = bus.driver();
        let factory = match protocol {
            Protocol::Classic => cluster::classic(driver, options.clone()),
            Protocol::Streams => cluster::streams(driver.clone(), driver, options.clone()),
        };
        let node = start_plain(api_builder().adapter(factory)).await;
        node.io.ready().await;
        nodes.push(node);
    }
    let b = nodes.pop().expect("b");
    let a = nodes.pop().expect("a");
    (a, b)
}

async fn poll(server: &PlainServer, since: u64) -> Value {
    let target = format!("/poll?room=news&since={since}&wait=0");
    let resp = server.http("GET", &target, &[], b"").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

fn offsets(answer: &Value) -> Vec<u64> {
    answer["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["offset"].as_u64().expect("offset"))
        .collect()
}

/// Waits until `server`'s history of `news` holds `want` after `since`.
async fn recorded(server: &PlainServer, since: u64, want: &[u64]) {
    within("the other node to record the messages", async {
        while offsets(&poll(server, since).await) != want {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn resume_on_another_node_replays_exactly_the_missed_messages() {
    resume_on_another_node(Protocol::Classic).await;
}

#[tokio::test]
async fn streams_resume_on_another_node_replays_exactly_the_missed_messages() {
    resume_on_another_node(Protocol::Streams).await;
}

async fn resume_on_another_node(protocol: Protocol) {
    let (a, b) = pair(protocol).await;
    for kind in [Kind::Sse, Kind::Stream] {
        // A live reader on node b, of messages published on node a.
        let mut first = b.client(kind, "/", &["news"]).await;
        let seen = a.publish_chats(3, 0).await;
        a.marker();
        let got = chats(&mut first).await;
        assert_eq!(
            got.iter().map(|g| g.1).collect::<Vec<_>>(),
            seen,
            "{kind:?}"
        );
        drop(first);

        let missed = a.publish_chats(4, 3).await;
        recorded(&b, seen[2], &missed).await;
        resume_news_after(kind, &b, &a, seen[2], &missed).await;
    }
}

#[tokio::test]
async fn both_nodes_publish_into_one_sequence() {
    one_sequence(Protocol::Classic).await;
}

#[tokio::test]
async fn streams_both_nodes_publish_into_one_sequence() {
    one_sequence(Protocol::Streams).await;
}

async fn one_sequence(protocol: Protocol) {
    let (a, b) = pair(protocol).await;
    let mut all = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        all.extend(node.publish_chats(1, i).await);
    }
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, all, "one increasing sequence, no offset twice");
    if let Protocol::Streams = protocol {
        // Stream entry ids ((ms - 2020) << 12 | seq), not a counter from 1.
        assert!(all.iter().all(|&o| o > 1 << 40), "{all:?}");
    }
    // Each node's history holds all six, whichever node published them.
    recorded(&a, 0, &all).await;
    recorded(&b, 0, &all).await;
    let on_b = poll(&b, all[1]).await;
    assert_eq!(offsets(&on_b), &all[2..]);
}
