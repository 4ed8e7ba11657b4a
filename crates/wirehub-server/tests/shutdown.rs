//! The connection registry and the graceful shutdown: every transport is
//! counted by kind and closed by the drain, each in its own way (Engine.IO
//! WebSocket closed, a held poll answered with a `close` packet, `/ws` with
//! close code 1001, SSE and NDJSON streams ended, TCP at EOF, UDP sessions
//! ended, SockJS answered `c[3000,"Go away!"]`); `/readyz` turns 503 while draining; the drain waits for every
//! driver.

mod common;

use common::plain::{start_plain, Kind};
use common::{within, Msg, Polling, WsClient, WAIT};
use http_body_util::{BodyExt, Full};
use std::time::Duration;
use tower_layer::Layer;
use tower_service::Service;
use wirehub_server::conn::Transport;
use wirehub_server::health::HealthLayer;
use wirehub_server::{NotFound, SocketIo};

#[tokio::test]
async fn every_transport_is_counted_and_the_drain_closes_each_one() {
    let server = start_plain(SocketIo::builder()).await;
    let connections = server.io.connections().clone();
    let (mut sio_ws, _) = server.sio().await;
    let polling = Polling::open(server.addr).await;
    polling.send("40").await;
    // Read the connect answer and the welcome, so the next poll is held.
    let mut got = Vec::new();
    while !got.iter().any(|p: &String| p.starts_with("42[\"welcome\"")) {
        got.extend(polling.poll().await);
    }
    let mut ws = server.client(Kind::Ws, "/", &[]).await;
    let mut sse = server.client(Kind::Sse, "/", &[]).await;
    let mut stream = server.client(Kind::Stream, "/", &[]).await;
    let mut tcp = server.client(Kind::Tcp, "/", &[]).await;
    let udp = server.client(Kind::Udp, "/", &[]).await;
    // A SockJS session over xhr polling: the open frame, then the hello
    // and the connection handler's events; the next poll is held.
    let sockjs = "/sockjs/0/drain/xhr";
    assert_eq!(server.http("POST", sockjs, &[], b"").await.text(), "o\n");
    assert!(server
        .http("POST", sockjs, &[], b"")
        .await
        .text()
        .starts_with("a["));
    let held_sockjs = {
        let addr = server.addr;
        tokio::spawn(async move { common::http(addr, "POST", sockjs, &[], b"").await })
    };
    // Usually held when the drain starts; if it comes later, the closed
    // session answers it with the same close frame.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for transport in Transport::ALL {
        assert_eq!(connections.count(transport), 1, "{transport}");
    }
    assert_eq!(connections.total(), 8);
    assert_eq!(connections.list().len(), 8);
    assert_eq!(server.http("GET", "/readyz", &[], b"").await.status, 200);

    // The poll the drain will answer.
    let held = {
        let polling = polling.clone();
        tokio::spawn(async move { polling.get().await })
    };
    within("the poll to be held", async {
        while server.probe.held("/socket.io/") == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;

    let io = server.io.clone();
    let shutdown = tokio::spawn(async move { io.shutdown(WAIT).await });

    assert_eq!(ws.until_closed().await, Some(1001), "/ws close code");
    assert_eq!(sse.until_closed().await, None, "SSE ends");
    assert_eq!(stream.until_closed().await, None, "NDJSON stream ends");
    assert_eq!(tcp.until_closed().await, None, "TCP at EOF");
    loop {
        match sio_ws.recv().await {
            Msg::Closed => break,
            Msg::Text(t) if t == "2" => {}
            other => panic!("Engine.IO WebSocket got {other:?} instead of its close"),
        }
    }
    let answer = within("the held poll's answer", held)
        .await
        .expect("poll task");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.text(),
        "1",
        "a held poll is answered with a close packet"
    );
    assert_eq!(server.reasons.wait(&udp.sid).await, "server shutting down");
    let answer = within("the held SockJS poll's answer", held_sockjs)
        .await
        .expect("poll task");
    assert_eq!(answer.text(), "c[3000,\"Go away!\"]\n", "SockJS: go away");

    within("the drain", shutdown)
        .await
        .expect("shutdown task")
        .expect("every connection closed before the deadline");
    assert_eq!((connections.total(), connections.tasks()), (0, 0));
    for transport in Transport::ALL {
        assert_eq!(connections.count(transport), 0, "{transport}");
    }
}

#[tokio::test]
async fn readyz_turns_503_when_the_drain_starts_and_healthz_stays_200() {
    let (service, io) = SocketIo::builder().build_service();
    let mut health = HealthLayer::new(io.connections().clone()).layer(NotFound);
    let status = |path: &str| http::Request::get(path).body(Full::<bytes::Bytes>::default());
    let mut get = |path: &'static str| {
        let req = status(path).expect("request");
        let fut = health.call(req);
        async move {
            let resp = fut.await.expect("infallible");
            let code = resp.status().as_u16();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            (code, String::from_utf8_lossy(&body).into_owned())
        }
    };
    assert_eq!(get("/healthz").await, (200, "ok\n".into()));
    assert_eq!(get("/readyz").await, (200, "ready\n".into()));
    assert_eq!(get("/elsewhere").await.0, 404);

    io.close();
    assert!(io.connections().is_draining());
    assert_eq!(get("/readyz").await, (503, "draining\n".into()));
    assert_eq!(get("/healthz").await, (200, "ok\n".into()));

    // A handshake that still reaches the server is refused while draining.
    let mut engine = service;
    let req = http::Request::get(common::POLLING)
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    let resp = engine.call(req).await.expect("infallible");
    assert_eq!(resp.status(), 503);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["code"], 10, "{body}");
    assert_eq!(io.connections().total(), 0);
}

#[tokio::test]
async fn an_engine_io_upgrade_moves_the_connection_to_websocket() {
    let server = start_plain(SocketIo::builder()).await;
    let connections = server.io.connections();
    let polling = Polling::open(server.addr).await;
    assert_eq!(connections.count(Transport::Polling), 1);
    let _ws = WsClient::upgrade(server.addr, &polling.sid).await;
    within("the upgrade to be counted", async {
        while connections.count(Transport::WebSocket) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(connections.count(Transport::Polling), 0);
    assert_eq!(connections.total(), 1);
}

#[tokio::test]
async fn a_tcp_client_that_said_nothing_is_closed_by_the_drain() {
    let server = start_plain(SocketIo::builder()).await;
    let mut silent = tokio::net::TcpStream::connect(server.tcp)
        .await
        .expect("tcp");
    within("the silent client to be counted", async {
        while server.io.connections().count(Transport::Tcp) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let result = server.io.shutdown(WAIT).await;
    assert_eq!(result, Ok(()));
    let mut rest = Vec::new();
    use tokio::io::AsyncReadExt;
    within("EOF", silent.read_to_end(&mut rest))
        .await
        .expect("read");
    let line: serde_json::Value =
        serde_json::from_slice(rest.trim_ascii_end()).expect("one error line");
    assert_eq!(line["code"], "unavailable", "{line}");
}

#[tokio::test]
async fn a_polling_client_between_two_gets_reads_the_close_packet_on_its_next_one() {
    let server = start_plain(SocketIo::builder()).await;
    let polling = Polling::open(server.addr).await;
    let io = server.io.clone();
    let shutdown = tokio::spawn(async move { io.shutdown(WAIT).await });
    // Well after the session took the close: without the wait for the last
    // poll it would be gone, and this GET a 400 (the client's "transport
    // error"). The HTTP listener still serves it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.io.connections().is_draining());
    let resp = polling.get().await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "1"));
    within("the drain", shutdown)
        .await
        .expect("shutdown task")
        .expect("drained before the deadline");
    assert_eq!(server.io.connections().total(), 0);
}
