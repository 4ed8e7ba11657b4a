//! Events and acknowledgements: several arguments (`Seq`), `TryData` on bad
//! data, the other extractors, binary attachments nested in structs in both
//! directions (WebSocket and polling), and acks both ways, including a
//! server ack that times out.

mod common;

use common::{ack_id, register_echo, start, Reasons, TestServer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_server::io::{AckError, AckSender, Bin, Data, Event, RawArgs, Seq, SocketRef, TryData};
use wirehub_server::proto::socketio::Binary;
use wirehub_server::SocketIo;

const P0: &str = r#"{"_placeholder":true,"num":0}"#;

#[derive(Serialize, Deserialize)]
struct File {
    name: String,
    data: Binary,
}

#[derive(Deserialize)]
struct Point {
    x: i64,
    y: i64,
}

fn register_events(s: &SocketRef) {
    s.on(
        "pair",
        |s: SocketRef, Seq((name, n)): Seq<(String, i64)>| async move {
            let _ = s.emit_args("pair-back", &(n * 2, name));
        },
    );
    s.on(
        "point",
        |s: SocketRef, TryData(p): TryData<Point>| async move {
            let _ = match p {
                Ok(p) => s.emit("point-ok", &(p.x + p.y)),
                Err(_) => s.emit("point-error", "invalid point"),
            };
        },
    );
    s.on("strict", |s: SocketRef, Data(p): Data<Point>| async move {
        let _ = s.emit("strict-ok", &(p.x * p.y));
    });
    s.on("file", |s: SocketRef, Data(f): Data<File>| async move {
        let mut data = f.data.to_vec();
        data.reverse();
        let back = File {
            name: f.name.to_uppercase(),
            data: Binary::from(data),
        };
        let _ = s.emit("file-back", &back);
    });
    s.on(
        "inspect",
        |s: SocketRef, Event(e): Event, Bin(bins): Bin, RawArgs(args): RawArgs| async move {
            let sizes: Vec<usize> = bins.iter().map(|b| b.len()).collect();
            let _ = s.emit("inspected", &json!([e.as_str(), sizes, args.len()]));
        },
    );
    s.on("double", |Data(n): Data<i64>, ack: AckSender| async move {
        let _ = ack.send(&(n * 2));
    });
    s.on("requested", |s: SocketRef, ack: AckSender| async move {
        let requested = ack.is_requested();
        let _ = ack.send_args(&("yes", 2));
        let _ = s.emit("was-requested", &requested);
    });
    s.on("ask", |s: SocketRef, Data(q): Data<String>| async move {
        let answer = s.emit_with_ack::<_, Value>("question", &q).await;
        let out = match answer {
            Ok(v) => json!({ "answer": v }),
            Err(AckError::Timeout) => json!("timeout"),
            Err(e) => json!(format!("error: {e}")),
        };
        let _ = s.emit("answer", &out);
    });
}

async fn server(ack_timeout: Duration) -> TestServer {
    let server = start(SocketIo::builder().ack_timeout(ack_timeout)).await;
    let reasons: Reasons = server.reasons.clone();
    server.io.ns("/", move |s: SocketRef| {
        let reasons = reasons.clone();
        async move {
            register_echo(&s, reasons);
            register_events(&s);
        }
    });
    server
}

#[tokio::test]
async fn several_arguments_and_extractors() {
    let server = server(Duration::from_secs(5)).await;
    let (mut ws, _) = server.ws_connected().await;
    ws.send(r#"42["pair","x",5]"#);
    ws.expect(r#"42["pair-back",10,"x"]"#).await;
    // A sequence that does not fit: the handler is not called.
    ws.send(r#"42["pair","x"]"#);
    ws.send(r#"42["pair",1,2]"#);
    ws.send(r#"42["inspect",1,"two",{"three":3}]"#);
    ws.expect(r#"42["inspected",["inspect",[],3]]"#).await;
    ws.send(&format!(
        r#"452-["inspect",{P0},{{"_placeholder":true,"num":1}}]"#
    ));
    ws.send_bin(&[1, 2, 3]);
    ws.send_bin(&[4]);
    ws.expect(r#"42["inspected",["inspect",[3,1],2]]"#).await;
    ws.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn try_data_sees_bad_data_and_data_skips_the_handler() {
    let server = server(Duration::from_secs(5)).await;
    let (mut ws, _) = server.ws_connected().await;
    ws.send(r#"42["point",{"x":1,"y":2}]"#);
    ws.expect(r#"42["point-ok",3]"#).await;
    for bad in [r#"{"x":"a","y":2}"#, r#"{"x":1}"#, "[]", "null"] {
        ws.send(&format!(r#"42["point",{bad}]"#));
        ws.expect(r#"42["point-error","invalid point"]"#).await;
    }
    ws.send(r#"42["point"]"#);
    ws.expect(r#"42["point-error","invalid point"]"#).await;
    // A handler whose extractor fails is not called; the socket stays.
    ws.send(r#"42["strict",{"x":"a"}]"#);
    ws.send(r#"42["strict",{"x":2,"y":4}]"#);
    ws.expect(r#"42["strict-ok",8]"#).await;
    ws.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn binary_nested_in_a_struct_both_directions() {
    let server = server(Duration::from_secs(5)).await;
    let (mut ws, _) = server.ws_connected().await;
    ws.send(&format!(r#"451-["file",{{"name":"a.bin","data":{P0}}}]"#));
    ws.send_bin(&[1, 2, 3]);
    ws.expect(&format!(
        r#"451-["file-back",{{"name":"A.BIN","data":{P0}}}]"#
    ))
    .await;
    ws.expect_bin(&[3, 2, 1]).await;

    // A binary ack: the echo answers with the attachment.
    ws.send(&format!(r#"451-7["message-with-ack","t",{P0}]"#));
    ws.send_bin(&[9, 8]);
    ws.expect(&format!(r#"461-7["t",{P0}]"#)).await;
    ws.expect_bin(&[9, 8]).await;

    // Over polling: attachments are `b` + base64 records.
    let p = server.polling().await;
    p.connect_ns("/", None).await;
    let payload = format!("451-[\"file\",{{\"name\":\"p\",\"data\":{P0}}}]\u{1e}bAQID");
    p.send(&payload).await;
    assert_eq!(
        p.poll().await,
        [
            format!(r#"451-["file-back",{{"name":"P","data":{P0}}}]"#),
            "bAwIB".to_owned()
        ]
    );
    ws.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn client_acks_are_answered() {
    let server = server(Duration::from_secs(5)).await;
    let (mut ws, _) = server.ws_connected().await;
    ws.send(r#"4212["double",21]"#);
    ws.expect("4312[42]").await;
    ws.send(r#"420["double",-1]"#);
    ws.expect("430[-2]").await;
    // Several ack arguments; no ack packet when none was asked for.
    ws.send(r#"429["requested"]"#);
    ws.expect(r#"439["yes",2]"#).await;
    ws.expect(r#"42["was-requested",true]"#).await;
    ws.send(r#"42["requested"]"#);
    ws.expect(r#"42["was-requested",false]"#).await;
    // The raw echo ack keeps every argument as it was.
    ws.send(r#"423["message-with-ack",{"a":[1,{"b":null}]},"x",1.5]"#);
    ws.expect(r#"433[{"a":[1,{"b":null}]},"x",1.5]"#).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn server_acks_answered_and_timed_out() {
    let server = server(Duration::from_secs(1)).await;
    let (mut ws, _) = server.ws_connected().await;

    ws.send(r#"42["ask","q1"]"#);
    let question = ws.recv_text().await;
    let id = ack_id(&question, "/");
    assert_eq!(question, format!(r#"42{id}["question","q1"]"#));
    ws.send(&format!(r#"43{id}["yes"]"#));
    ws.expect(r#"42["answer",{"answer":"yes"}]"#).await;

    // Two ack arguments deserialise as a sequence.
    ws.send(r#"42["ask","q2"]"#);
    let id = ack_id(&ws.recv_text().await, "/");
    ws.send(&format!(r#"43{id}["a",1]"#));
    ws.expect(r#"42["answer",{"answer":["a",1]}]"#).await;

    // No answer within ack_timeout: AckError::Timeout.
    ws.send(r#"42["ask","q3"]"#);
    let id = ack_id(&ws.recv_text().await, "/");
    ws.expect(r#"42["answer","timeout"]"#).await;
    // A late answer, and one for an id never used, are ignored.
    ws.send(&format!(r#"43{id}["late"]"#));
    ws.send(r#"43999999["unknown"]"#);
    ws.assert_echo().await;

    // Ids differ from one request to the next.
    ws.send(r#"42["ask","q4"]"#);
    let next = ack_id(&ws.recv_text().await, "/");
    assert_ne!(next, id);
    ws.send(&format!(r#"43{next}["again"]"#));
    ws.expect(r#"42["answer",{"answer":"again"}]"#).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn server_ack_fails_when_the_socket_leaves() {
    let server = server(Duration::from_secs(3)).await;
    let (mut ws, id) = server.ws_connected().await;
    let socket = server.socket("/", &id);
    let pending = tokio::spawn({
        let socket = socket.clone();
        async move { socket.emit_with_ack::<_, Value>("question", "q").await }
    });
    let question = ws.recv_text().await;
    ack_id(&question, "/");
    ws.send("41");
    let result = common::within("the ack result", pending).await.unwrap();
    assert!(matches!(result, Err(AckError::Disconnected)), "{result:?}");
    assert_eq!(
        server.reasons.wait(&id).await,
        "client namespace disconnect"
    );
    server.assert_healthy().await;
}
