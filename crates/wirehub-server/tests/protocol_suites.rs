//! Our own equivalents of every case of the two public protocol test
//! suites (not vendored: github.com/socketio/socket.io-protocol and
//! github.com/socketio/engine.io-protocol, `test-suite/test-suite.js`), so
//! that CI checks what those suites check. Each test is named after its
//! case; the servers are the ones the suites run against: the Socket.IO
//! conformance contract (`examples/conformance`) at `/socket.io/`, and a bare
//! Engine.IO echo (`examples/engineio-echo`) at `/engine.io/`, both with
//! pingInterval 300 ms, pingTimeout 200 ms and maxPayload 1000000. The
//! Engine.IO cases run against both servers, as the two suites do.

mod common;

use common::{http, within, HttpResponse, Msg, PanicCheck, Probe, WsClient};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_layer::Layer;
use wirehub_server::engine::{Engine, EngineConn, EngineHandler};
use wirehub_server::proto::engineio::{CloseReason, Message, Packet};
use wirehub_server::{conformance, Config, CorsOrigins, EngineLayer, NotFound, SocketIo};

const PING_INTERVAL: Duration = Duration::from_millis(300);
const PING_TIMEOUT: Duration = Duration::from_millis(200);

/// A server of one of the suites; stopped (and checked for panics) on drop.
struct Suite {
    addr: SocketAddr,
    /// The Engine.IO path: `/socket.io/` or `/engine.io/`.
    path: &'static str,
    /// The requests the server holds.
    probe: Probe,
    _stop: oneshot::Sender<()>,
    _panics: PanicCheck,
}

async fn serve<S, B>(service: S, path: &'static str) -> Suite
where
    S: tower_service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let panics = PanicCheck::new();
    let probe = Probe::default();
    let service = probe.wrap(service);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        wirehub_server::serve(listener, service, shutdown)
            .await
            .expect("serve");
    });
    Suite {
        addr,
        path,
        probe,
        _stop: stop,
        _panics: panics,
    }
}

/// The socket.io-protocol suite's server: the conformance contract.
async fn socketio_server() -> Suite {
    let (service, io) = SocketIo::builder()
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .max_payload(1_000_000)
        .connect_timeout(Duration::from_millis(1000))
        .cors(CorsOrigins::Any)
        .build_service();
    conformance::register(&io, false);
    serve(service, "/socket.io/").await
}

/// Echoes every message on its own session (text stays text, binary binary).
struct Echo;

impl EngineHandler for Echo {
    type Conn = Arc<EngineConn>;

    fn on_open(&self, conn: &Arc<EngineConn>) -> Self::Conn {
        conn.clone()
    }

    fn on_message(&self, conn: &mut Self::Conn, msg: Message) -> Result<(), CloseReason> {
        let _ = conn.send_frame(Packet::Message(msg).to_frame());
        Ok(())
    }

    fn on_close(&self, _conn: Self::Conn, _reason: CloseReason) {}
}

/// The engine.io-protocol suite's server: a bare Engine.IO echo.
async fn engineio_server() -> Suite {
    let config = Config::builder()
        .path("/engine.io/")
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .max_payload(1_000_000)
        .cors(CorsOrigins::Any)
        .build();
    let service = EngineLayer::new(Engine::new(config, Echo)).layer(NotFound);
    serve(service, "/engine.io/").await
}

impl Suite {
    async fn request(&self, method: &str, query: &str, body: &[u8]) -> HttpResponse {
        let target = format!("{}?{query}", self.path);
        http(self.addr, method, &target, &[], body).await
    }

    async fn get(&self, query: &str) -> HttpResponse {
        self.request("GET", query, b"").await
    }

    /// A polling session's sid.
    async fn polling_session(&self) -> String {
        let resp = self.get("EIO=4&transport=polling").await;
        assert_eq!(resp.status, 200, "{}", resp.text());
        open_packet(&resp.text())["sid"]
            .as_str()
            .expect("sid")
            .to_owned()
    }

    fn ws_url(&self, query: &str) -> String {
        format!("ws://{}{}?{query}", self.addr, self.path)
    }

    /// A WebSocket session (pings not answered automatically), after its
    /// open packet.
    async fn websocket(&self) -> WsClient {
        WsClient::open_url(&self.ws_url("EIO=4&transport=websocket"), &[], false).await
    }

    /// A WebSocket with `query`, nothing read yet.
    async fn raw_websocket(
        &self,
        query: &str,
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        WsClient::raw_url(&self.ws_url(query), &[], false).await
    }

    /// The suite's `initSocketIOConnection`: connected to `/`, auth read.
    async fn socketio_connection(&self) -> WsClient {
        let mut ws = self.websocket().await;
        ws.send("40");
        let connected = ws.recv_text().await;
        assert!(connected.starts_with("40{"), "{connected}");
        ws.expect(r#"42["auth",{}]"#).await;
        ws
    }
}

/// The JSON of an open packet, with exactly the keys the suites check.
fn open_packet(text: &str) -> Value {
    let value: Value = serde_json::from_str(
        text.strip_prefix('0')
            .unwrap_or_else(|| panic!("not an open packet: {text:?}")),
    )
    .expect("open packet JSON");
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ]
    );
    assert!(value["sid"].is_string());
    assert_eq!(value["pingInterval"], 300);
    assert_eq!(value["pingTimeout"], 200);
    assert_eq!(value["maxPayload"], 1_000_000);
    value
}

/// The server ends the WebSocket (skipping pings it sends meanwhile).
async fn closes(ws: &mut WsClient) {
    loop {
        match ws.recv().await {
            Msg::Closed => return,
            Msg::Text(t) if t == "2" => continue,
            other => panic!("expected the close, got {other:?}"),
        }
    }
}

/// A WebSocket refused at the handshake, or closed at once.
async fn refused(suite: &Suite, query: &str) {
    match suite.raw_websocket(query).await {
        Err(_) => {}
        Ok(mut ws) => closes(&mut ws).await,
    }
}

// ------------------------------------------------ Engine.IO cases, both suites

async fn polling_handshake_opens_a_session(s: Suite) {
    let resp = s.get("EIO=4&transport=polling").await;
    assert_eq!(resp.status, 200);
    let open = open_packet(&resp.text());
    assert_eq!(open["upgrades"], json!(["websocket"]));
}

async fn polling_handshake_fails_with_an_invalid_eio(s: Suite) {
    assert_eq!(s.get("transport=polling").await.status, 400);
    assert_eq!(s.get("EIO=abc&transport=polling").await.status, 400);
}

async fn polling_handshake_fails_with_an_invalid_transport(s: Suite) {
    assert_eq!(s.get("EIO=4").await.status, 400);
    assert_eq!(s.get("EIO=4&transport=abc").await.status, 400);
}

async fn polling_handshake_fails_with_an_invalid_method(s: Suite) {
    let post = s.request("POST", "EIO=4&transport=polling", b"").await;
    assert_eq!(post.status, 400);
    let put = s.request("PUT", "EIO=4&transport=polling", b"").await;
    assert_eq!(put.status, 400);
}

async fn websocket_handshake_opens_a_session(s: Suite) {
    let ws = s.websocket().await;
    assert_eq!(open_packet(&format!("0{}", ws.open))["upgrades"], json!([]));
}

async fn websocket_handshake_fails_with_an_invalid_eio(s: Suite) {
    refused(&s, "transport=websocket").await;
    refused(&s, "EIO=abc&transport=websocket").await;
}

async fn websocket_handshake_fails_with_an_invalid_transport(s: Suite) {
    refused(&s, "EIO=4").await;
    refused(&s, "EIO=4&transport=abc").await;
}

async fn polling_heartbeat_sends_ping_pong_packets(s: Suite) {
    let sid = s.polling_session().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    for _ in 0..3 {
        let poll = s.get(&query).await;
        assert_eq!((poll.status, poll.text().as_str()), (200, "2"));
        let push = s.request("POST", &query, b"3").await;
        assert_eq!(push.status, 200);
    }
}

async fn polling_heartbeat_closes_the_session_upon_ping_timeout(s: Suite) {
    let sid = s.polling_session().await;
    // As the suite does: the whole heartbeat, then a poll.
    tokio::time::sleep(PING_INTERVAL + PING_TIMEOUT).await;
    let poll = s.get(&format!("EIO=4&transport=polling&sid={sid}")).await;
    assert_eq!(poll.status, 400);
}

async fn websocket_heartbeat_sends_ping_pong_packets(s: Suite) {
    let mut ws = s.websocket().await;
    for _ in 0..3 {
        ws.expect("2").await;
        ws.send("3");
    }
}

async fn websocket_heartbeat_closes_the_session_upon_ping_timeout(s: Suite) {
    let mut ws = s.websocket().await;
    closes(&mut ws).await;
}

async fn polling_close_forcefully_closes_the_session(s: Suite) {
    let sid = s.polling_session().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let (addr, target) = (s.addr, format!("{}?{query}", s.path));
    let pending = tokio::spawn(async move { http(addr, "GET", &target, &[], b"").await });
    // The GET is held before the close comes (the suite sends both at once).
    s.probe.until_held(s.path, 1).await;
    let push = s.request("POST", &query, b"1").await;
    assert_eq!(push.status, 200);
    let poll = within("the pending GET", pending).await.expect("task");
    assert_eq!((poll.status, poll.text().as_str()), (200, "6"));
    assert_eq!(s.get(&query).await.status, 400);
}

async fn websocket_close_forcefully_closes_the_session(s: Suite) {
    let mut ws = s.websocket().await;
    ws.send("1");
    closes(&mut ws).await;
}

async fn upgrade_from_polling_to_websocket(s: Suite) {
    let sid = s.polling_session().await;
    let mut ws = s
        .raw_websocket(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await
        .expect("the upgrade's WebSocket");
    ws.send("2probe");
    ws.expect("3probe").await;
    ws.send("5");
    // The session now runs over the WebSocket: its pings come there.
    ws.expect("2").await;
}

async fn upgrade_ignores_http_requests_with_the_same_sid(s: Suite) {
    let sid = s.polling_session().await;
    let mut ws = s
        .raw_websocket(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await
        .expect("the upgrade's WebSocket");
    ws.send("2probe");
    ws.expect("3probe").await;
    ws.send("5");
    let poll = s.get(&format!("EIO=4&transport=polling&sid={sid}")).await;
    assert_eq!(poll.status, 400);
}

async fn upgrade_ignores_a_websocket_with_the_same_sid(s: Suite) {
    let sid = s.polling_session().await;
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    let mut ws = s
        .raw_websocket(&query)
        .await
        .expect("the upgrade's WebSocket");
    ws.send("2probe");
    ws.expect("3probe").await;
    ws.send("5");
    ws.expect("2").await;
    refused(&s, &query).await;
}

/// One test per Engine.IO case and server.
macro_rules! engineio_cases {
    ($($case:ident),* $(,)?) => {
        mod socketio_protocol_engineio {
            $(#[tokio::test] async fn $case() { super::$case(super::socketio_server().await).await; })*
        }
        mod engineio_protocol {
            $(#[tokio::test] async fn $case() { super::$case(super::engineio_server().await).await; })*
        }
    };
}

engineio_cases!(
    polling_handshake_opens_a_session,
    polling_handshake_fails_with_an_invalid_eio,
    polling_handshake_fails_with_an_invalid_transport,
    polling_handshake_fails_with_an_invalid_method,
    websocket_handshake_opens_a_session,
    websocket_handshake_fails_with_an_invalid_eio,
    websocket_handshake_fails_with_an_invalid_transport,
    polling_heartbeat_sends_ping_pong_packets,
    polling_heartbeat_closes_the_session_upon_ping_timeout,
    websocket_heartbeat_sends_ping_pong_packets,
    websocket_heartbeat_closes_the_session_upon_ping_timeout,
    polling_close_forcefully_closes_the_session,
    websocket_close_forcefully_closes_the_session,
    upgrade_from_polling_to_websocket,
    upgrade_ignores_http_requests_with_the_same_sid,
    upgrade_ignores_a_websocket_with_the_same_sid,
);

// ------------------------------------------ engine.io-protocol: messages

/// POSTs `body` to a new polling session; the next GET must give it back.
async fn polling_echo(body: &str) {
    let s = engineio_server().await;
    let sid = s.polling_session().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let push = s.request("POST", &query, body.as_bytes()).await;
    assert_eq!((push.status, push.text().as_str()), (200, "ok"));
    let poll = s.get(&query).await;
    assert_eq!((poll.status, poll.text().as_str()), (200, body));
}

#[tokio::test]
async fn engineio_protocol_polling_one_plain_text_packet() {
    polling_echo("4hello").await;
}

#[tokio::test]
async fn engineio_protocol_polling_several_plain_text_packets() {
    polling_echo("4test1\u{1e}4test2\u{1e}4test3").await;
}

#[tokio::test]
async fn engineio_protocol_polling_plain_text_and_binary_packets() {
    polling_echo("4hello\u{1e}bAQIDBA==").await;
}

#[tokio::test]
async fn engineio_protocol_polling_closes_the_session_upon_invalid_packet_format() {
    let s = engineio_server().await;
    let sid = s.polling_session().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    assert_eq!(s.request("POST", &query, b"abc").await.status, 400);
    assert_eq!(s.get(&query).await.status, 400);
}

#[tokio::test]
async fn engineio_protocol_polling_closes_the_session_upon_duplicate_poll_requests() {
    let s = engineio_server().await;
    let sid = s.polling_session().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let (addr, target) = (s.addr, format!("{}?{query}", s.path));
    let first = tokio::spawn(async move { http(addr, "GET", &target, &[], b"").await });
    // (The suite sends the second GET 5 ms later; here, once the first is
    // held by the session.)
    s.probe.until_held(s.path, 1).await;
    let second = s.get(&format!("{query}&t=burst")).await;
    let first = within("the first GET", first).await.expect("task");
    let mut both = [(first.status, first.text()), (second.status, second.text())];
    both.sort();
    assert_eq!(
        both[0],
        (200, "1".to_owned()),
        "the held GET gets a close packet"
    );
    assert!([400, 500].contains(&both[1].0), "{both:?}");
    assert_eq!(s.get(&query).await.status, 400);
}

#[tokio::test]
async fn engineio_protocol_websocket_plain_text_packet() {
    let s = engineio_server().await;
    let mut ws = s.websocket().await;
    ws.send("4hello");
    ws.expect("4hello").await;
}

#[tokio::test]
async fn engineio_protocol_websocket_binary_packet() {
    let s = engineio_server().await;
    let mut ws = s.websocket().await;
    ws.send_bin(&[1, 2, 3, 4]);
    ws.expect_bin(&[1, 2, 3, 4]).await;
}

#[tokio::test]
async fn engineio_protocol_websocket_closes_the_session_upon_invalid_packet_format() {
    let s = engineio_server().await;
    let mut ws = s.websocket().await;
    ws.send("abc");
    closes(&mut ws).await;
}

// ------------------------------------------ socket.io-protocol: Socket.IO

/// Connects with `packet`; the answer must be a CONNECT for `prefix`
/// (`40` or `40/custom,`) with exactly a sid, then `auth`.
async fn connects(packet: &str, prefix: &str, auth: &str) {
    let s = socketio_server().await;
    let mut ws = s.websocket().await;
    ws.send(packet);
    let answer = ws.recv_text().await;
    let handshake: Value = serde_json::from_str(
        answer
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix}..., got {answer:?}")),
    )
    .expect("JSON");
    assert_eq!(handshake.as_object().map(|o| o.len()), Some(1), "{answer}");
    assert!(handshake["sid"].is_string(), "{answer}");
    let ns = &prefix[2..];
    ws.expect(&format!(r#"42{ns}["auth",{auth}]"#)).await;
}

#[tokio::test]
async fn socketio_protocol_connect_to_the_main_namespace() {
    connects("40", "40", "{}").await;
}

#[tokio::test]
async fn socketio_protocol_connect_to_the_main_namespace_with_a_payload() {
    connects(r#"40{"token":"123"}"#, "40", r#"{"token":"123"}"#).await;
}

#[tokio::test]
async fn socketio_protocol_connect_to_a_custom_namespace() {
    connects("40/custom,", "40/custom,", "{}").await;
}

#[tokio::test]
async fn socketio_protocol_connect_to_a_custom_namespace_with_a_payload() {
    connects(
        r#"40/custom,{"token":"abc"}"#,
        "40/custom,",
        r#"{"token":"abc"}"#,
    )
    .await;
}

#[tokio::test]
async fn socketio_protocol_connect_to_an_unknown_namespace_is_refused() {
    let s = socketio_server().await;
    let mut ws = s.websocket().await;
    ws.send("40/random");
    ws.expect(r#"44/random,{"message":"Invalid namespace"}"#)
        .await;
}

#[tokio::test]
async fn socketio_protocol_connect_with_an_invalid_handshake_closes() {
    let s = socketio_server().await;
    let mut ws = s.websocket().await;
    ws.send("4abc");
    closes(&mut ws).await;
}

#[tokio::test]
async fn socketio_protocol_no_handshake_closes_the_connection() {
    let s = socketio_server().await;
    let mut ws = s.websocket().await;
    // Pings are answered: what ends it is the connect timeout (1 s).
    loop {
        match ws.recv().await {
            Msg::Closed => break,
            Msg::Text(t) if t == "2" => ws.send("3"),
            other => panic!("expected the close, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn socketio_protocol_disconnect_from_the_main_namespace() {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.send("41");
    // The Engine.IO session stays: its next packet is a ping.
    ws.expect("2").await;
}

#[tokio::test]
async fn socketio_protocol_connect_then_disconnect_from_a_custom_namespace() {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.expect("2").await; // ping (not answered: the suite does not either)
    ws.send("40/custom");
    let answer = ws.recv_text().await;
    assert!(answer.starts_with("40/custom,{"), "{answer}");
    ws.expect(r#"42/custom,["auth",{}]"#).await;
    ws.send("41/custom");
    ws.send(r#"42["message","message to main namespace"]"#);
    ws.expect(r#"42["message-back","message to main namespace"]"#)
        .await;
}

#[tokio::test]
async fn socketio_protocol_message_plain_text() {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.send(r#"42["message",1,"2",{"3":[true]}]"#);
    ws.expect(r#"42["message-back",1,"2",{"3":[true]}]"#).await;
}

/// The next packet that is not a ping.
async fn next_packet(ws: &mut WsClient) -> Msg {
    loop {
        match ws.recv().await {
            Msg::Text(t) if t == "2" => continue,
            other => return other,
        }
    }
}

#[tokio::test]
async fn socketio_protocol_message_with_binary_attachments() {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.send(r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    ws.send_bin(&[1, 2, 3]);
    ws.send_bin(&[4, 5, 6]);
    assert_eq!(
        next_packet(&mut ws).await,
        Msg::Text(
            r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
                .into()
        )
    );
    assert_eq!(next_packet(&mut ws).await, Msg::Binary(vec![1, 2, 3]));
    assert_eq!(next_packet(&mut ws).await, Msg::Binary(vec![4, 5, 6]));
}

#[tokio::test]
async fn socketio_protocol_message_plain_text_with_an_ack() {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.send(r#"42456["message-with-ack",1,"2",{"3":[false]}]"#);
    ws.expect(r#"43456[1,"2",{"3":[false]}]"#).await;
}

#[tokio::test]
async fn socketio_protocol_message_with_binary_attachments_and_an_ack() {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.send(
        r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    );
    ws.send_bin(&[1, 2, 3]);
    ws.send_bin(&[4, 5, 6]);
    assert_eq!(
        next_packet(&mut ws).await,
        Msg::Text(r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into())
    );
    assert_eq!(next_packet(&mut ws).await, Msg::Binary(vec![1, 2, 3]));
    assert_eq!(next_packet(&mut ws).await, Msg::Binary(vec![4, 5, 6]));
}

/// A connected socket sends `packet`: the server closes the connection.
async fn invalid_closes(packet: &str) {
    let s = socketio_server().await;
    let mut ws = s.socketio_connection().await;
    ws.send(packet);
    closes(&mut ws).await;
}

#[tokio::test]
async fn socketio_protocol_message_invalid_format_unknown_packet_type() {
    invalid_closes("4abc").await;
}

#[tokio::test]
async fn socketio_protocol_message_invalid_format_invalid_payload() {
    invalid_closes("42{}").await;
}

#[tokio::test]
async fn socketio_protocol_message_invalid_format_invalid_ack_id() {
    invalid_closes(r#"42abc["message-with-ack",1,"2",{"3":[false]}]"#).await;
}
