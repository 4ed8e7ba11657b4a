//! The MessagePack parser (socket.io-msgpack-parser's format): our client
//! with `ClientBuilder::parser(Parser::MsgPack)` against the Node reference
//! server started with `PARSER=msgpack` and against our server built with
//! the same parser, over WebSocket and long-polling: nested binary, acks
//! both ways, rooms. A JSON-parser client of such a server never connects.

mod common;

use common::node::NodeServer;
use common::ours::OurServer;
use common::record::{recorder, tap_client, Recorder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use wirehub_client::{AckSender, Binary, ClientBuilder, Parser, RawArgs, Socket, Transport};

fn builder(url: &str, t: Transport) -> ClientBuilder {
    ClientBuilder::new(url).transport(t).parser(Parser::MsgPack)
}

async fn client(url: &str, t: Transport) -> (Socket, Recorder) {
    let (tap, rec) = recorder();
    let socket = tap_client(builder(url, t), &tap)
        .connect()
        .await
        .expect("connect");
    (socket, rec)
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct File {
    name: String,
    data: Binary,
    parts: Vec<Binary>,
}

async fn echo_nested_binary(url: String, t: Transport) {
    let (tap, mut rec) = recorder();
    let b = tap_client(builder(&url, t), &tap).auth(&json!({ "token": "abc", "n": 1.5 }));
    let socket = b.connect().await.expect("connect");
    assert_eq!(
        rec.expect("auth").await.json(),
        json!([{ "token": "abc", "n": 1.5 }])
    );
    let file = File {
        name: "f.bin".into(),
        data: Binary::from(vec![0u8, 1, 2, 255]),
        parts: vec![Binary::from(vec![9u8; 1000]), Binary::from(Vec::new())],
    };
    socket
        .emit_args("message", &(&file, -3, Binary::from(vec![7u8])))
        .unwrap();
    let back = rec.expect("message-back").await;
    assert_eq!(back.args.attachments().len(), 4);
    let (f, n, b): (File, i8, Binary) = back.args.to_seq().unwrap();
    assert_eq!((f, n, b), (file, -3, Binary::from(vec![7u8])));
    socket.disconnect().await;
}

async fn acks_both_ways(url: String, t: Transport) {
    let (tap, mut rec) = recorder();
    let b = tap_client(builder(&url, t), &tap).on(
        "server-ack-request",
        |RawArgs(args): RawArgs, ack: AckSender| async move {
            ack.send_raw(args).unwrap();
        },
    );
    let socket = b.connect().await.expect("connect");
    let reply: Binary = socket
        .emit_with_ack("message-with-ack", &Binary::from(vec![4u8, 2]))
        .await
        .unwrap();
    assert_eq!(&reply[..], &[4, 2]);
    socket
        .emit_args("server-ack", &(1, "x", Binary::from(vec![5u8])))
        .unwrap();
    #[derive(Deserialize)]
    struct Reply {
        reply: (u8, String, Binary),
    }
    let result = rec.expect("server-ack-result").await;
    let Reply { reply } = result.args.get(0).unwrap();
    assert_eq!(
        (reply.0, reply.1.as_str(), &reply.2[..]),
        (1, "x", &[5][..])
    );
    socket.disconnect().await;
}

async fn rooms(url: String, t: Transport) {
    let (a, mut a_rec) = client(&url, t).await;
    let (b, mut b_rec) = client(&url, t).await;
    let joined: String = a.emit_with_ack("join", "r1").await.unwrap();
    assert_eq!(joined, "joined");
    b.emit_args("to-room", &("r1", "hi", Binary::from(vec![1u8])))
        .unwrap();
    let got = a_rec.expect("room-message").await;
    let (hi, bin): (String, Binary) = got.args.to_seq().unwrap();
    assert_eq!((hi.as_str(), &bin[..]), ("hi", &[1][..]));
    b.emit("broadcast", "all").unwrap();
    for rec in [&mut a_rec, &mut b_rec] {
        assert_eq!(rec.expect("broadcast-message").await.json(), json!(["all"]));
    }
    a.disconnect().await;
    b.disconnect().await;
}

macro_rules! cell {
    ($cell:ident, $server:ident, $transport:expr) => {
        mod $cell {
            use super::*;
            cell!(@tests $server, $transport, echo_nested_binary, acks_both_ways, rooms);
        }
    };
    (@tests node, $transport:expr, $($scenario:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let Some(server) = NodeServer::start_with_or_skip(&[("PARSER", "msgpack")]) else {
                return;
            };
            super::$scenario(server.url(), $transport).await;
        }
    )*};
    (@tests ours, $transport:expr, $($scenario:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let server = OurServer::start_with_parser(Parser::MsgPack);
            super::$scenario(server.url(), $transport).await;
        }
    )*};
}

cell!(node_websocket, node, Transport::WebSocket);
cell!(node_polling, node, Transport::Polling);
cell!(ours_websocket, ours, Transport::WebSocket);
cell!(ours_polling, ours, Transport::Polling);

/// Negative control: the default (JSON) parser cannot talk to a
/// MessagePack server, so the cells above do test the parser option.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_client_of_a_msgpack_server_never_connects() {
    let server = OurServer::start_with_parser(Parser::MsgPack);
    let result = ClientBuilder::new(server.url())
        .transport(Transport::WebSocket)
        .connect_timeout(Duration::from_millis(1500))
        .reconnection(wirehub_client::Reconnection::disabled())
        .connect()
        .await;
    assert!(result.is_err(), "connected with the wrong parser");
}
