//! History polling (`GET /poll`): short polls with and without a cursor,
//! long polls woken by a publish or timing out, truncation when the cursor
//! is older than what history kept, and the errors (no room, bad `wait`,
//! unknown namespace, history disabled).

mod common;

use common::plain::{api_builder, start_plain, PlainServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wirehub_server::SocketIo;

async fn poll(server: &PlainServer, query: &str) -> Value {
    let resp = server
        .http("GET", &format!("/poll?{query}"), &[], b"")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

fn offsets(answer: &Value) -> Vec<u64> {
    let messages = answer["messages"].as_array().expect("messages");
    messages
        .iter()
        .map(|m| m["offset"].as_u64().expect("offset"))
        .collect()
}

#[tokio::test]
async fn short_polls_answer_at_once_with_a_cursor() {
    let server = start_plain(api_builder()).await;
    let (_, first) = server
        .publish(json!({"room":"a","event":"chat","data":1}))
        .await;
    let first = first.unwrap();

    // Without since: only what comes from now on, so nothing yet.
    let now = poll(&server, "room=a").await;
    assert_eq!(now, json!({"messages":[],"next":first,"truncated":false}));

    let (_, second) = server
        .publish(json!({"room":"a","event":"chat","data":2}))
        .await;
    let (_, _) = server
        .publish(json!({"room":"b","event":"chat","data":3}))
        .await;
    let answer = poll(&server, &format!("room=a&since={first}&wait=0")).await;
    assert_eq!(
        answer["messages"],
        json!([{"type":"event","event":"chat","data":2,"room":"a","offset":second.unwrap()}])
    );
    assert_eq!(answer["next"], first + 2);
    let answer = poll(&server, "room=a&room=b&since=0").await;
    assert_eq!(offsets(&answer), [first, first + 1, first + 2]);
    let answer = poll(&server, &format!("rooms=a,b&since={}", first + 2)).await;
    assert_eq!(answer["messages"], json!([]));
}

#[tokio::test]
async fn a_long_poll_returns_when_a_message_is_recorded() {
    let server = start_plain(api_builder()).await;
    let next = poll(&server, "room=a").await["next"].as_u64().unwrap();
    let addr = server.addr;
    let waiting = tokio::spawn(async move {
        let target = format!("/poll?room=a&since={next}&wait=10");
        common::http(addr, "GET", &target, &[], b"").await.json()
    });
    // The server holds the poll before anything is published: what ends
    // it is the wake-up, not a message already there when it came.
    server.probe.until_held("/poll", 1).await;
    // A message elsewhere does not end it: it wakes, finds nothing for
    // room a, and waits again. One in the room does.
    let waits = server.probe.waits("/poll");
    server
        .publish(json!({"room":"b","event":"chat","data":0}))
        .await;
    server.probe.until_waits_beyond("/poll", waits).await;
    assert_eq!(server.probe.held("/poll"), 1, "the poll still waits");
    let (_, offset) = server
        .publish(json!({"room":"a","event":"chat","data":1}))
        .await;
    let answer = common::within("the long poll", waiting).await.unwrap();
    assert_eq!(offsets(&answer), [offset.unwrap()]);
    assert_eq!(answer["next"], offset.unwrap());
}

#[tokio::test]
async fn a_long_poll_times_out_empty() {
    let server = start_plain(api_builder()).await;
    let started = Instant::now();
    let answer = poll(&server, "room=a&since=0&wait=1").await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(answer, json!({"messages":[],"next":0,"truncated":false}));
}

#[tokio::test]
async fn truncated_when_the_cursor_is_older_than_history() {
    let server = start_plain(api_builder().history_size(2)).await;
    for i in 0..5 {
        server
            .publish(json!({"room":"a","event":"chat","data":i}))
            .await;
    }
    let answer = poll(&server, "room=a&since=0").await;
    assert_eq!(answer["truncated"], true);
    assert_eq!(offsets(&answer), [4, 5]);
    assert_eq!(answer["next"], 5);
    let answer = poll(&server, "room=a&since=3").await;
    assert_eq!(answer["truncated"], false);
    assert_eq!(offsets(&answer), [4, 5]);
}

#[tokio::test]
async fn poll_errors() {
    let server = start_plain(api_builder()).await;
    for (query, status, code) in [
        ("", 400, "bad_request"),
        ("room=a&wait=61", 400, "bad_request"),
        ("room=a&since=-1", 400, "bad_request"),
        ("room=a&ns=/nope", 404, "unknown_namespace"),
    ] {
        let resp = server
            .http("GET", &format!("/poll?{query}"), &[], b"")
            .await;
        assert_eq!(resp.status, status, "{query}: {}", resp.text());
        assert_eq!(resp.json()["error"]["code"], code, "{query}");
    }
    let resp = server.http("POST", "/poll?room=a", &[], b"").await;
    assert_eq!(resp.status, 405);

    let off = start_plain(SocketIo::builder().history_size(0)).await;
    let resp = off.http("GET", "/poll?room=a", &[], b"").await;
    assert_eq!(resp.status, 404, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "not_allowed");
}
