//! Limits against one bad client: connections in total and per address
//! (Socket.IO handshakes, plain transports and the TCP/UDP gateways all
//! counted, a refusal is 503 with a body naming the limit), the inbound
//! event rate (drops counted, a client that stays over it disconnected),
//! rooms per socket and namespaces per connection. Each refusal touches
//! only the offending client: the others keep working.

mod common;

use common::plain::{start_plain, Kind, PlainServer};
use common::{
    echo_ns, read_response, register_echo, request_head, start, start_with, within, HttpResponse,
    Msg, WsClient, POLLING,
};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, UdpSocket};
use wirehub_server::io::SocketRef;
use wirehub_server::limits::LimitError;
use wirehub_server::{Config, SocketIo};

/// A second loopback address (the whole 127/8 is loopback on Linux).
const OTHER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// The headers of a WebSocket upgrade request.
const UPGRADE: &[(&str, &str)] = &[
    ("Connection", "Upgrade"),
    ("Upgrade", "websocket"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

/// One HTTP request from local address `from`.
async fn http_from(
    from: Ipv4Addr,
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    within("a response", async {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind((from, 0).into()).expect("bind");
        let mut stream = socket.connect(addr).await.expect("connect");
        let head = request_head("GET", target, headers, None);
        stream.write_all(head.as_bytes()).await.expect("write");
        read_response(&mut stream).await
    })
    .await
}

async fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> HttpResponse {
    common::http(addr, "GET", target, headers, b"").await
}

/// Waits until `cond` holds (checked every 10 ms, at most `WAIT`).
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

fn engine_refusal(resp: &HttpResponse, limit: LimitError) {
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(
        resp.json(),
        json!({ "code": limit.code(), "message": limit.to_string() })
    );
}

fn plain_refusal(resp: &HttpResponse, code: &str, flag: &str) {
    assert_eq!(resp.status, 503, "{}", resp.text());
    let body = resp.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains(flag), "{message}");
}

#[tokio::test]
async fn defaults_limit_rooms_and_namespaces_only() {
    let c = Config::default();
    assert_eq!(
        (
            c.max_connections,
            c.max_connections_per_ip,
            c.max_event_rate
        ),
        (0, 0, 0)
    );
    assert_eq!(c.event_burst, 0);
    assert_eq!(c.event_rate_grace, Duration::from_secs(5));
    assert_eq!(c.max_rooms_per_socket, 1_000);
    assert_eq!(c.max_namespaces_per_connection, 100);
}

// ---------------------------------------------------------------- connections

#[tokio::test]
async fn the_connection_past_max_connections_gets_503_json() {
    let server = start(SocketIo::builder().max_connections(2)).await;
    let limit = LimitError::TooManyConnections { max: 2 };
    let polling = server.polling().await;
    let (mut ws, _) = server.ws_connected().await;
    assert_eq!(server.io.limits().connections(), 2);

    // Both handshakes refused: the first polling GET, and the WebSocket
    // upgrade without sid (before any 101).
    engine_refusal(&get(server.addr, POLLING, &[]).await, limit);
    let target = "/socket.io/?EIO=4&transport=websocket";
    engine_refusal(&get(server.addr, target, UPGRADE).await, limit);
    assert!(limit.to_string().contains("max-connections"));
    assert_eq!(server.io.limits().connections(), 2);

    // The sessions already open keep working; requests with their sid
    // are no handshakes.
    ws.assert_echo().await;
    polling.connect_ns("/", None).await;

    // A closed session frees its place.
    polling.send("1").await;
    eventually("the place to be freed", || {
        server.io.limits().connections() == 1
    })
    .await;
    let fresh = server.polling().await;
    assert!(!fresh.sid.is_empty());
    engine_refusal(&get(server.addr, POLLING, &[]).await, limit);
}

#[tokio::test]
async fn max_connections_per_ip_counts_each_address_alone() {
    let server = start(SocketIo::builder().max_connections_per_ip(1)).await;
    let limit = LimitError::TooManyConnectionsFromAddress { max: 1 };
    let (mut ws, _) = server.ws_connected().await;
    engine_refusal(&get(server.addr, POLLING, &[]).await, limit);
    assert!(limit.to_string().contains("max-connections-per-ip"));
    // Another address is not affected, once.
    let other = http_from(OTHER, server.addr, POLLING, &[]).await;
    assert_eq!(other.status, 200, "{}", other.text());
    engine_refusal(&http_from(OTHER, server.addr, POLLING, &[]).await, limit);
    let limits = server.io.limits();
    assert_eq!(limits.connections(), 2);
    assert_eq!(limits.connections_from(IpAddr::V4(OTHER)), 1);
    ws.assert_echo().await;
}

/// One client of each plain kind holds a place; the next of any kind is
/// refused the way its transport reports errors.
#[tokio::test]
async fn plain_transports_and_gateways_count_toward_max_connections() {
    let server = start_plain(SocketIo::builder().max_connections(4)).await;
    let mut ws = server.client(Kind::Ws, "/", &[]).await;
    let _sse = server.client(Kind::Sse, "/", &[]).await;
    let tcp = server.client(Kind::Tcp, "/", &[]).await;
    let mut udp = server.client(Kind::Udp, "/", &[]).await;
    assert_eq!(server.io.limits().connections(), 4);
    assert_eq!(server.hub.session_count(), 4);

    let code = "too_many_connections";
    engine_refusal(
        &get(server.addr, POLLING, &[]).await,
        LimitError::TooManyConnections { max: 4 },
    );
    plain_refusal(
        &get(server.addr, "/ws?ns=%2F", UPGRADE).await,
        code,
        "max-connections",
    );
    plain_refusal(
        &get(server.addr, "/sse?ns=%2F", &[]).await,
        code,
        "max-connections",
    );
    plain_refusal(
        &get(server.addr, "/stream?ns=%2F", &[]).await,
        code,
        "max-connections",
    );
    refused_by_tcp(&server, code).await;
    refused_by_udp(&server, code).await;
    assert_eq!(server.io.limits().connections(), 4);

    // The clients inside keep working.
    ws.assert_alive().await;
    udp.assert_alive().await;

    // The TCP client leaves: a new client gets its place.
    tcp.close();
    drop(tcp);
    eventually("the TCP place to be freed", || {
        server.io.limits().connections() == 3
    })
    .await;
    let mut stream = server.client(Kind::Stream, "/", &[]).await;
    stream.assert_alive().await;
}

/// A TCP client is refused with one error line, then the connection ends.
async fn refused_by_tcp(server: &PlainServer, code: &str) {
    let mut c = server.open(Kind::Tcp, "", &[]).await.expect("tcp");
    let error = c.expect_error(code).await;
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("max-connections"));
    assert_eq!(c.expect_closed().await, None);
}

/// A new UDP address gets one error datagram and no session.
async fn refused_by_udp(server: &PlainServer, code: &str) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let hello = json!({"type":"connect","ns":"/"}).to_string();
    socket
        .send_to(hello.as_bytes(), server.udp)
        .await
        .expect("send");
    let mut buf = [0u8; 2048];
    let n = within("the UDP refusal", socket.recv(&mut buf))
        .await
        .expect("recv");
    let reply: Value = serde_json::from_slice(&buf[..n]).expect("JSON");
    assert_eq!(
        (&reply["type"], &reply["code"]),
        (&json!("error"), &json!(code))
    );
}

#[tokio::test]
async fn max_connections_per_ip_counts_socketio_and_plain_together() {
    let server = start_plain(SocketIo::builder().max_connections_per_ip(2)).await;
    let (mut sio, _) = server.sio().await;
    let _tcp = server.client(Kind::Tcp, "/", &[]).await;
    let code = "too_many_connections_per_ip";
    plain_refusal(
        &get(server.addr, "/sse?ns=%2F", &[]).await,
        code,
        "max-connections-per-ip",
    );
    refused_by_tcp_per_ip(&server, code).await;
    refused_by_udp(&server, code).await;
    // Another address still connects, on any transport.
    let resp = http_from(OTHER, server.addr, POLLING, &[]).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind((OTHER, 0).into()).expect("bind");
    let mut stream = socket.connect(server.tcp).await.expect("connect");
    stream
        .write_all(b"{\"type\":\"connect\",\"ns\":\"/\"}\n")
        .await
        .expect("write");
    let hello = read_line(&mut stream).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    sio.assert_echo().await;
}

async fn refused_by_tcp_per_ip(server: &PlainServer, code: &str) {
    let mut c = server.open(Kind::Tcp, "", &[]).await.expect("tcp");
    c.expect_error(code).await;
    assert_eq!(c.expect_closed().await, None);
}

async fn read_line(stream: &mut tokio::net::TcpStream) -> Value {
    use tokio::io::AsyncReadExt;
    let mut line = Vec::new();
    within("a line", async {
        let mut byte = [0u8; 1];
        while stream.read(&mut byte).await.expect("read") == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
    })
    .await;
    serde_json::from_slice(&line).expect("JSON line")
}

// ---------------------------------------------------------------- event rate

/// A server whose `/` counts `tick` events (and echoes, as usual).
async fn ticking(
    builder: wirehub_server::SocketIoBuilder,
) -> (common::TestServer, Arc<AtomicUsize>) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = ticks.clone();
    let server = start_with(builder, move |io, reasons| {
        let reasons = reasons.clone();
        io.ns("/", move |s: SocketRef| {
            let (reasons, counter) = (reasons.clone(), counter.clone());
            async move {
                register_echo(&s, reasons);
                s.on("tick", move || {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
    })
    .await;
    (server, ticks)
}

fn rate_limited() -> wirehub_server::SocketIoBuilder {
    SocketIo::builder()
        .max_event_rate(5)
        .event_burst(5)
        .event_rate_grace(Duration::from_secs(1))
}

#[tokio::test]
async fn events_over_the_rate_are_dropped_and_counted() {
    let (server, ticks) = ticking(rate_limited()).await;
    let (mut ws, _) = server.ws_connected().await;
    for _ in 0..50 {
        ws.send(r#"42["tick"]"#);
    }
    // The burst passes, the rest is dropped (one more token may have come
    // in meanwhile: one every 200 ms).
    eventually("50 events handled or dropped", || {
        ticks.load(Ordering::SeqCst) as u64 + server.io.limits().dropped_events() == 50
    })
    .await;
    let handled = ticks.load(Ordering::SeqCst);
    assert!((5..=6).contains(&handled), "{handled} handled");
    // A short burst is no reason to disconnect: after a pause the client
    // is served again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ws.assert_echo().await;
    assert_eq!(server.io.limits().rate_limit_disconnects(), 0);
}

#[tokio::test]
async fn a_client_staying_over_the_rate_is_disconnected() {
    let (server, ticks) = ticking(rate_limited()).await;
    let (mut calm, _) = server.ws_connected().await;
    let (mut flood, id) = server.ws_connected().await;
    within("the flood's disconnect", async {
        while server.reasons.get(&id).is_none() {
            for _ in 0..5 {
                flood.send(r#"42["tick"]"#);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(server.reasons.wait(&id).await, "rate limited");
    // The client is told to stay away: a DISCONNECT (the official client
    // does not reconnect after it), then the end of the connection.
    assert_eq!(flood.recv().await, Msg::Text("41".into()));
    flood.expect_closed().await;
    let limits = server.io.limits();
    assert_eq!(limits.rate_limit_disconnects(), 1);
    assert!(limits.dropped_events() > 10, "{}", limits.dropped_events());
    assert!(ticks.load(Ordering::SeqCst) < 20);
    // The other client was never slowed down.
    calm.assert_echo().await;
}

#[tokio::test]
async fn plain_clients_over_the_rate_get_rate_limited_then_are_closed() {
    let server = start_plain(rate_limited()).await;
    let mut calm = server.client(Kind::Tcp, "/", &[]).await;
    for kind in [Kind::Ws, Kind::Tcp, Kind::Udp] {
        let mut c = server.client(kind, "/", &[]).await;
        let flood = json!({"type":"emit","event":"noop"}).to_string();
        let error = within("the rate_limited error", async {
            loop {
                for _ in 0..5 {
                    c.write(format!("{flood}\n").as_bytes());
                }
                let got = tokio::time::timeout(Duration::from_millis(50), c.recv_env()).await;
                if let Ok(v) = got {
                    break v;
                }
            }
        })
        .await;
        assert_eq!(error["type"], "error", "{kind:?}: {error}");
        assert_eq!(error["code"], "rate_limited", "{kind:?}: {error}");
        assert!(error["message"]
            .as_str()
            .unwrap()
            .contains("max-event-rate"));
        match kind {
            Kind::Ws => assert_eq!(c.until_closed().await, Some(1008)),
            Kind::Tcp => assert_eq!(c.until_closed().await, None),
            _ => {}
        }
    }
    assert_eq!(server.io.limits().rate_limit_disconnects(), 3);
    calm.assert_alive().await;
}

#[tokio::test]
async fn sse_clients_over_the_rate_get_429_from_send() {
    let server = start_plain(
        SocketIo::builder()
            .max_event_rate(2)
            .event_burst(2)
            .event_rate_grace(Duration::ZERO),
    )
    .await;
    let mut c = server.client(Kind::Sse, "/", &[]).await;
    let body = json!({"type":"emit","event":"noop"}).to_string();
    for _ in 0..2 {
        assert_eq!(c.post_send(body.as_bytes()).await.status, 200);
    }
    let resp = c.post_send(body.as_bytes()).await;
    assert_eq!(resp.status, 429, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "rate_limited");
    c.expect_error("rate_limited").await;
    assert_eq!(c.until_closed().await, None);
}

// ---------------------------------------------------------------- rooms

#[tokio::test]
async fn a_join_past_max_rooms_per_socket_fails_as_a_whole() {
    let server = start_plain(SocketIo::builder().max_rooms_per_socket(3)).await;
    let mut c = server.client(Kind::Ws, "/", &["a", "b"]).await;
    c.send(json!({"type":"join","rooms":["b","c","d"],"id":1}))
        .await;
    let error = c.expect_error("too_many_rooms").await;
    assert_eq!(error["id"], 1, "{error}");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("max-rooms-per-socket"));
    c.send(json!({"type":"join","rooms":["b","c"],"id":2}))
        .await;
    let ack = c.expect_type("ack").await;
    assert_eq!(ack["data"]["rooms"], json!(["a", "b", "c"]), "{ack}");
    // The connection stays open.
    c.assert_alive().await;

    // Socket.IO clients: `hub:join` acks the error.
    let (mut sio, sid) = server.sio().await;
    sio.send(r#"420["hub:join",["x","y","z","w"]]"#);
    let answer = sio.recv_json("430").await;
    assert_eq!(answer[0]["error"]["code"], "too_many_rooms", "{answer}");

    // The server API: `try_join` says why, `join` joins nothing.
    let socket = server
        .io
        .of("/")
        .expect("/")
        .broadcast()
        .expect("static")
        .sockets()
        .into_iter()
        .find(|s| s.id().as_str() == sid)
        .expect("the socket");
    socket.join(["p", "q", "r"]);
    assert_eq!(
        socket.try_join(["s", "t", "u", "v"]),
        Err(LimitError::TooManyRooms { max: 3 })
    );
    assert_eq!(socket.rooms().len(), 4, "its own and p, q, r");
    socket.join("s");
    assert_eq!(socket.rooms().len(), 4);

    // SSE rooms by query: refused before streaming.
    let resp = get(server.addr, "/sse?room=1&room=2&room=3&room=4", &[]).await;
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "too_many_rooms");
    eventually("the refused SSE connection to go", || {
        server.io.limits().connections() == 2
    })
    .await;
}

// ---------------------------------------------------------------- namespaces

#[tokio::test]
async fn a_connect_past_max_namespaces_gets_connect_error() {
    let server = start_with(
        SocketIo::builder().max_namespaces_per_connection(2),
        |io, reasons| {
            for ns in ["/", "/a", "/b"] {
                echo_ns(io, ns, reasons);
            }
        },
    )
    .await;
    let (mut ws, _) = server.ws_connected().await;
    ws.connect_ns("/a", None).await;
    ws.send("40/b,");
    let refusal = ws.recv_json("44/b,").await;
    assert_eq!(
        refusal,
        json!({
            "message": "Too many namespaces: a connection may join at most 2 (max-namespaces-per-connection)",
            "data": {"code": "too_many_namespaces"}
        })
    );
    // The connection and its namespaces are intact.
    ws.assert_echo_on("/a").await;
    ws.assert_echo().await;
    // Leaving one makes room.
    ws.send("41/a,");
    ws.connect_ns("/b", None).await;
    ws.assert_echo_on("/b").await;
    // Other connections have their own count.
    let (mut other, _) = server.ws_connected().await;
    other.connect_ns("/b", None).await;
}

/// Bad input from one client still closes only that client's session,
/// with limits on.
#[tokio::test]
async fn bad_input_closes_only_the_offending_session_with_limits_on() {
    let server = start(
        rate_limited()
            .max_connections(10)
            .max_connections_per_ip(10),
    )
    .await;
    let (mut good, _) = server.ws_connected().await;
    let (mut bad, _) = server.ws_connected().await;
    bad.send("42[not json");
    bad.expect_closed().await;
    eventually("the bad session's place to be freed", || {
        server.io.limits().connections() == 1
    })
    .await;
    good.assert_echo().await;
    let mut again = WsClient::open(server.addr).await;
    again.connect_ns("/", None).await;
    again.assert_echo().await;
}
