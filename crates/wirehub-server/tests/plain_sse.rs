//! Server-Sent Events (`/sse`), NDJSON streaming (`/stream`) and
//! `POST /send`: the stream's opening (`retry:`, hello with a token), event
//! names and ids, sending with the token (acks on the stream, the server's
//! `emit_with_ack`), namespaces and refusals as HTTP errors, invalid or
//! oversized bodies, resume (`Last-Event-ID`, `since`) without gaps or
//! duplicates, and a client that stops reading.

mod common;

use common::plain::{
    api_builder, chats, raw_stream, resume_news_after, start_plain, Got, Kind, PlainServer,
};
use common::within;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use wirehub_server::SocketIo;

const STREAMS: [Kind; 2] = [Kind::Sse, Kind::Stream];

async fn server() -> PlainServer {
    start_plain(api_builder()).await
}

#[tokio::test]
async fn sse_starts_with_retry_then_the_hello() {
    let server = server().await;
    let (mut stream, status, mut bytes) = raw_stream(server.addr, "/sse", &[]).await;
    assert_eq!(status, 200);
    within("the hello", async {
        while !String::from_utf8_lossy(&bytes).contains(r#""type":"hello""#) {
            let mut chunk = [0u8; 1024];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0);
            bytes.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    let text = String::from_utf8_lossy(&bytes);
    let retry = text.find("retry: 3000\n\n").expect("retry");
    let hello = text.find("event: wirehub.hello\n").expect("hello");
    assert!(retry < hello, "{text}");
}

#[tokio::test]
async fn sse_event_names_and_ids() {
    let server = server().await;
    let mut c = server.open(Kind::Sse, "room=news", &[]).await.unwrap();
    let Got::Env { json, sse_name, .. } = c.recv().await else {
        panic!("closed")
    };
    assert_eq!(sse_name.as_deref(), Some("wirehub.hello"));
    assert_eq!(json["type"], "hello");
    c.token = json["token"].as_str().map(str::to_owned);
    let Got::Env { json, sse_name, .. } = c.recv().await else {
        panic!("closed")
    };
    assert_eq!(
        (json["event"].as_str(), sse_name.as_deref()),
        (Some("welcome"), Some("welcome"))
    );

    let (_, offset) = server
        .publish(json!({"room":"news","event":"chat","data":"hi"}))
        .await;
    let Got::Env {
        json,
        sse_id,
        sse_name,
    } = c.recv().await
    else {
        panic!("closed")
    };
    let offset = offset.expect("recorded");
    assert_eq!(
        json,
        json!({"type":"event","event":"chat","data":"hi","room":"news","offset":offset})
    );
    assert_eq!(sse_id, Some(offset.to_string()));
    assert_eq!(sse_name.as_deref(), Some("chat"));

    // Envelopes of the client's own: `wirehub.*` names.
    c.send(json!({"type":"ping"})).await;
    let Got::Env { json, sse_name, .. } = c.recv().await else {
        panic!("closed")
    };
    assert_eq!(
        (json["type"].as_str(), sse_name.as_deref()),
        (Some("pong"), Some("wirehub.pong"))
    );
}

#[tokio::test]
async fn streams_send_with_the_token_and_get_answers_on_the_stream() {
    let server = server().await;
    for kind in STREAMS {
        let mut c = server.client(kind, "/", &[]).await;
        let body = concat!(
            r#"{"type":"emit","event":"message","data":1}"#,
            "\n\r\n",
            r#"{"type":"emit","event":"message-with-ack","args":[1,2],"id":7}"#,
            "\r\n",
            r#"{"type":"ping"}"#
        );
        let resp = c.post_send(body.as_bytes()).await;
        assert_eq!(
            (resp.status, resp.json()),
            (200, json!({"accepted":3})),
            "{kind:?}"
        );
        assert_eq!(
            c.recv_env().await,
            json!({"type":"event","event":"message-back","data":1})
        );
        assert_eq!(
            c.recv_env().await,
            json!({"type":"ack","id":7,"args":[1,2]})
        );
        assert_eq!(c.recv_env().await, json!({"type":"pong"}));

        // The server's emit_with_ack, answered through POST /send.
        c.send(json!({"type":"emit","event":"ask","data":"q"}))
            .await;
        let question = c.expect_type("event").await;
        assert_eq!(question["event"], "question");
        let id = question["id"].as_u64().expect("id");
        c.send(json!({"type":"ack","id":id,"data":"a"})).await;
        let answer = c.expect_type("event").await;
        assert_eq!(answer["data"], json!({"ok":"a"}), "{kind:?}");

        // join / leave acks.
        c.send(json!({"type":"join","rooms":["z","y"],"id":1}))
            .await;
        assert_eq!(
            c.expect_type("ack").await["data"],
            json!({"rooms":["y","z"]})
        );
        c.send(json!({"type":"leave","rooms":["z"],"id":2})).await;
        assert_eq!(c.expect_type("ack").await["data"], json!({"rooms":["y"]}));

        // close ends the stream.
        let resp = c.post_send(br#"{"type":"close"}"#).await;
        assert_eq!((resp.status, resp.json()), (200, json!({"accepted":1})));
        assert_eq!(c.expect_closed().await, None);
        assert_eq!(server.reasons.wait(&c.sid).await, "transport close");
        let resp = c.post_send(br#"{"type":"ping"}"#).await;
        assert_eq!(resp.status, 401, "{}", resp.text());
    }
}

#[tokio::test]
async fn send_needs_a_known_token() {
    let server = server().await;
    let resp = server
        .http("POST", "/send", &[], br#"{"type":"ping"}"#)
        .await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"]["code"], "unauthorized");
    let resp = server
        .http(
            "POST",
            "/send",
            &[("Authorization", "Bearer nope")],
            br#"{"type":"ping"}"#,
        )
        .await;
    assert_eq!(resp.status, 401);
    // ?token= works too.
    let mut c = server.client(Kind::Sse, "/", &[]).await;
    let target = format!("/send?token={}", c.token.clone().unwrap());
    let resp = server
        .http("POST", &target, &[], br#"{"type":"ping"}"#)
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(c.recv_env().await, json!({"type":"pong"}));
}

#[tokio::test]
async fn namespaces_and_refusals_are_http_errors() {
    let server = server().await;
    for path in ["/sse", "/stream"] {
        let mut c = server.client(Kind::Sse, "/chat", &[]).await;
        c.assert_alive().await;

        let resp = server
            .http("GET", &format!("{path}?ns=/nope"), &[], b"")
            .await;
        assert_eq!(resp.status, 404, "{}", resp.text());
        assert_eq!(resp.json()["error"]["code"], "unknown_namespace");

        let target = format!("{path}?ns=/private&auth=%7B%22token%22%3A1%7D");
        let resp = server.http("GET", &target, &[], b"").await;
        assert_eq!(resp.status, 403, "{}", resp.text());
        let error = &resp.json()["error"];
        assert_eq!(error["code"], "connect_refused");
        assert_eq!(error["message"], "unauthorized");
        assert_eq!(error["data"], json!({"reason":"bad token"}));

        let resp = server
            .http("GET", &format!("{path}?since=x"), &[], b"")
            .await;
        assert_eq!(resp.status, 400);
        assert_eq!(resp.json()["error"]["code"], "bad_request");
    }
}

/// Posts `bad`; answered 400 with `code`, the stream gets the error and
/// ends, a bystander keeps working.
async fn refused_send(server: &PlainServer, kind: Kind, bad: &[u8], code: &str) {
    let mut bystander = server.client(kind, "/", &[]).await;
    let mut c = server.client(kind, "/", &[]).await;
    let resp = c.post_send(bad).await;
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], code);
    c.expect_error(code).await;
    assert_eq!(c.expect_closed().await, None);
    assert_eq!(server.reasons.wait(&c.sid).await, "parse error");
    bystander.assert_alive().await;
}

#[tokio::test]
async fn invalid_envelopes_in_a_send_close_the_stream() {
    let server = server().await;
    for kind in STREAMS {
        refused_send(&server, kind, b"{nope", "bad_json").await;
        refused_send(&server, kind, br#"{"type":"fly"}"#, "unknown_type").await;
        refused_send(&server, kind, br#"{"type":"join","room":""}"#, "bad_field").await;
        refused_send(
            &server,
            kind,
            br#"{"type":"emit","event":"connect"}"#,
            "reserved_event",
        )
        .await;
        refused_send(&server, kind, br#"{"type":"connect"}"#, "bad_envelope").await;
    }
}

#[tokio::test]
async fn oversized_sends_are_413() {
    let server = start_plain(
        SocketIo::builder()
            .max_payload(2000)
            .config_with(|c| c.max_line(500)),
    )
    .await;
    let mut c = server.client(Kind::Sse, "/", &[]).await;
    let resp = c.post_send(&vec![b' '; 3000]).await;
    assert_eq!(resp.status, 413);
    assert_eq!(resp.json()["error"]["code"], "too_large");
    c.assert_alive().await;

    // A line over max_line: too_large, and the stream closes.
    let line = format!(
        r#"{{"type":"emit","event":"message","data":"{}"}}"#,
        "x".repeat(600)
    );
    let resp = c.post_send(line.as_bytes()).await;
    assert_eq!(resp.status, 413);
    c.expect_error("too_large").await;
    assert_eq!(c.expect_closed().await, None);
}

#[tokio::test]
async fn resume_replays_exactly_the_missed_messages() {
    let server = server().await;
    for kind in STREAMS {
        let mut first = server.client(kind, "/", &["news"]).await;
        let seen = server.publish_chats(3, 0).await;
        server.marker();
        let got = chats(&mut first).await;
        assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), seen);
        drop(first);

        let missed = server.publish_chats(4, 3).await;
        resume_news_after(kind, &server, &server, seen[2], &missed).await;
    }
}

#[tokio::test]
async fn resume_over_several_rooms_replays_each_message_once() {
    let server = server().await;
    let (_, a) = server
        .publish(json!({"rooms":["a","b"],"event":"chat","data":1}))
        .await;
    let (_, b) = server
        .publish(json!({"room":"b","event":"chat","data":2}))
        .await;
    let (_, _) = server
        .publish(json!({"room":"c","event":"chat","data":3}))
        .await;
    let mut c = server
        .open(Kind::Sse, "rooms=a,b&lastEventId=0", &[])
        .await
        .unwrap();
    c.read_hello("/").await;
    assert_eq!(c.recv_env().await["event"], "welcome");
    server.marker();
    let got: Vec<Value> = c.until_marker().await;
    let offsets: Vec<_> = got.iter().map(|v| v["offset"].as_u64()).collect();
    assert_eq!(offsets, [a, b]);
    assert!(got[0].get("room").is_none(), "two rooms: no room field");
}

#[tokio::test]
async fn a_stream_that_is_not_read_is_closed_and_others_go_on() {
    let server = start_plain(
        api_builder()
            .queue_capacity(8)
            .config_with(|c| c.body_timeout(Duration::from_millis(300))),
    )
    .await;
    let mut calm = server.client(Kind::Sse, "/", &["calm"]).await;
    let (mut slow, status, mut bytes) = raw_stream(server.addr, "/sse?room=flood", &[]).await;
    assert_eq!(status, 200);
    // Read up to the hello, for the sid; then never read again.
    let sid = within("the slow client's hello", async {
        loop {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some(i) = text.find(r#""sid":""#) {
                let rest = &text[i + 7..];
                if let Some(end) = rest.find('"') {
                    return rest[..end].to_owned();
                }
            }
            let mut chunk = [0u8; 1024];
            let n = slow.read(&mut chunk).await.expect("read");
            bytes.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    let big = "x".repeat(64 * 1024);
    let reason = within("the slow client's disconnect", async {
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
    server
        .publish(json!({"room":"calm","event":"chat","data":"still here"}))
        .await;
    assert_eq!(calm.expect_type("event").await["data"], "still here");
    calm.assert_alive().await;
    // The slow response ends once its buffered part is read.
    let mut rest =
        std::io::Cursor::new(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec())
            .chain(std::io::Cursor::new(bytes))
            .chain(slow);
    let resp = common::read_response(&mut rest).await;
    assert!(!resp.body.is_empty());
}

#[tokio::test]
async fn idle_streams_get_heartbeats() {
    let server = start_plain(
        SocketIo::builder().config_with(|c| c.stream_heartbeat(Duration::from_millis(50))),
    )
    .await;
    for (path, beat) in [
        ("/sse", &b": heartbeat\n\n"[..]),
        ("/stream", &b"}\n\n"[..]),
    ] {
        let (mut stream, status, mut bytes) = raw_stream(server.addr, path, &[]).await;
        assert_eq!(status, 200);
        let mut body = Vec::new();
        let mut chunks = common::plain::Dechunker::default();
        within("a heartbeat", async {
            // After the hello and welcome envelopes: SSE comments, or
            // empty NDJSON lines.
            while !body.windows(beat.len()).any(|w| w == beat) {
                chunks.feed(&bytes, &mut body);
                bytes = vec![0u8; 1024];
                let n = stream.read(&mut bytes).await.expect("read");
                bytes.truncate(n);
            }
        })
        .await;
    }
}
