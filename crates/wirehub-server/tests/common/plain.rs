//! Plain-transport test helpers: a server with the plain endpoints and the
//! TCP and UDP gateways on ephemeral ports (assembled as `wirehub serve`
//! does), and one client type for every plain transport — WebSocket, SSE,
//! NDJSON streaming (both sending with `POST /send`), TCP and UDP — whose
//! background reader decodes server envelopes into an inbox.

use super::{http, register_echo, within, HttpResponse, PanicCheck, Probe, Reasons, WsClient};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tower_layer::Layer;
use wirehub_server::health::HealthLayer;
use wirehub_server::io::{ConnectError, Data, SocketRef};
use wirehub_server::plain::{install_room_events, serve_tcp, serve_udp};
use wirehub_server::proto::plain::{LineDecoder, SseParser};
use wirehub_server::{NotFound, PlainHub, SocketIo, SocketIoBuilder};

/// The API key of servers started with [`api_builder`].
pub const API_KEY: &str = "test-key";

/// A builder with the API key set.
pub fn api_builder() -> SocketIoBuilder {
    SocketIo::builder().api_key(Some(API_KEY.to_owned()))
}

/// Registers namespace `name`: the echo handlers, the `hub:*` room events,
/// `ask` (the server asks the client `question` with an ack and emits the
/// answer back as `answer`: `{"ok":..}` or `{"error":..}`), and a `welcome`
/// event `{"sid":..}` emitted by the connection handler.
pub fn plain_ns(io: &SocketIo, name: &str, reasons: &Reasons) -> wirehub_server::io::NamespaceRef {
    let reasons = reasons.clone();
    io.ns(name, move |s: SocketRef| {
        let reasons = reasons.clone();
        async move {
            register_echo(&s, reasons);
            install_room_events(&s);
            s.on("ask", |s: SocketRef, Data(q): Data<Value>| async move {
                let answer = match s.emit_with_ack::<_, Value>("question", &q).await {
                    Ok(v) => json!({ "ok": v }),
                    Err(e) => json!({ "error": e.to_string() }),
                };
                let _ = s.emit("answer", &answer);
            });
            let _ = s.emit("welcome", &json!({ "sid": s.id() }));
        }
    })
}

/// What a plain client can connect with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ws,
    Sse,
    Stream,
    Tcp,
    Udp,
}

impl Kind {
    /// Every plain transport.
    pub const ALL: [Kind; 5] = [Kind::Ws, Kind::Sse, Kind::Stream, Kind::Tcp, Kind::Udp];

    /// The name the API reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ws => "ws",
            Kind::Sse => "sse",
            Kind::Stream => "stream",
            Kind::Tcp => "tcp",
            Kind::Udp => "udp",
        }
    }
}

/// A server with every plain transport, stopped when dropped (and failing
/// the test then if one of its tasks panicked). Namespaces:
/// `/` and `/chat` ([`plain_ns`]), and `/private`, whose middleware wants
/// auth `{"token":"ok"}` and otherwise refuses with
/// `unauthorized` / `{"reason":"bad token"}`.
pub struct PlainServer {
    pub addr: SocketAddr,
    pub tcp: SocketAddr,
    pub udp: SocketAddr,
    pub io: SocketIo,
    pub hub: Arc<PlainHub>,
    pub reasons: Reasons,
    /// The HTTP requests the server holds.
    pub probe: Probe,
    pub panics: PanicCheck,
    _stop: watch::Sender<bool>,
}

/// Starts a [`PlainServer`] from `builder`.
pub async fn start_plain(builder: SocketIoBuilder) -> PlainServer {
    let panics = PanicCheck::new();
    let (layer, io) = builder.build_layer();
    let reasons = Reasons::default();
    plain_ns(&io, "/", &reasons);
    plain_ns(&io, "/chat", &reasons);
    plain_ns(&io, "/private", &reasons).use_middleware(|Data(auth): Data<Value>| async move {
        if auth["token"] == "ok" {
            Ok(())
        } else {
            Err(ConnectError::new("unauthorized").with_data(json!({ "reason": "bad token" })))
        }
    });
    let hub = PlainHub::new(io.clone());
    let probe = Probe::default();
    let health = HealthLayer::new(io.connections().clone());
    let service = probe.wrap(health.layer(layer.layer(hub.layer().layer(NotFound))));
    let (stop, stopped) = watch::channel(false);
    // Each listener stops when the test ends or the server drains.
    let signal = |mut rx: watch::Receiver<bool>| {
        let draining = io.connections().draining();
        async move {
            tokio::select! {
                _ = rx.wait_for(|s| *s) => {}
                () = draining => {}
            }
        }
    };
    let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
    let tcp_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind tcp");
    let udp_socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let (addr, tcp, udp) = (
        http_listener.local_addr().expect("addr"),
        tcp_listener.local_addr().expect("addr"),
        udp_socket.local_addr().expect("addr"),
    );
    let drained = io.connections().drained();
    let mut http_stop = stopped.clone();
    tokio::spawn(wirehub_server::serve(http_listener, service, async move {
        tokio::select! {
            _ = http_stop.wait_for(|s| *s) => {}
            () = drained => {}
        }
    }));
    tokio::spawn(serve_tcp(
        hub.clone(),
        tcp_listener,
        signal(stopped.clone()),
    ));
    tokio::spawn(serve_udp(hub.clone(), udp_socket, signal(stopped)));
    PlainServer {
        addr,
        tcp,
        udp,
        io,
        hub,
        reasons,
        probe,
        panics,
        _stop: stop,
    }
}

impl PlainServer {
    /// A client of `kind` connected to `ns` (and in `rooms`), after its
    /// `hello` and `welcome`; rooms are joined by query (SSE, stream) or
    /// with an acknowledged `join` envelope.
    pub async fn client(&self, kind: Kind, ns: &str, rooms: &[&str]) -> PlainClient {
        let mut query = format!("ns={}", ns.replace('/', "%2F"));
        if matches!(kind, Kind::Sse | Kind::Stream) {
            for room in rooms {
                query.push_str(&format!("&room={room}"));
            }
        }
        let mut c = self.open(kind, &query, &[]).await.expect("stream opened");
        if matches!(kind, Kind::Tcp | Kind::Udp) {
            c.send(json!({ "type": "connect", "ns": ns })).await;
        }
        c.read_hello(ns).await;
        let welcome = c.expect_type("event").await;
        assert_eq!(welcome["event"], "welcome", "{welcome}");
        assert_eq!(welcome["data"]["sid"], c.sid.as_str());
        if !rooms.is_empty() && !matches!(kind, Kind::Sse | Kind::Stream) {
            c.send(json!({ "type": "join", "rooms": rooms, "id": 0 }))
                .await;
            let ack = c.expect_type("ack").await;
            assert_eq!(ack["id"], 0, "{ack}");
        }
        c
    }

    /// Opens a client of `kind` without reading anything. `query` and
    /// `headers` apply to the HTTP transports; an HTTP error is returned.
    pub async fn open(
        &self,
        kind: Kind,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<PlainClient, HttpResponse> {
        Ok(match kind {
            Kind::Ws => PlainClient::ws(self.addr, query).await,
            Kind::Sse => PlainClient::http_stream(self.addr, "/sse", query, headers).await?,
            Kind::Stream => PlainClient::http_stream(self.addr, "/stream", query, headers).await?,
            Kind::Tcp => PlainClient::tcp(self.addr, self.tcp).await,
            Kind::Udp => PlainClient::udp(self.addr, self.udp).await,
        })
    }

    /// A Socket.IO WebSocket client connected to `/` (welcome consumed).
    pub async fn sio(&self) -> (WsClient, String) {
        let mut ws = WsClient::open(self.addr).await;
        let sid = ws.connect_ns("/", None).await;
        let welcome = ws.recv_json("42").await;
        assert_eq!(welcome[0], "welcome");
        (ws, sid)
    }

    /// Emits the `marker` event to every client of `/` (not recorded).
    pub fn marker(&self) {
        self.io.emit("marker", &0).expect("marker");
    }

    /// One HTTP request.
    pub async fn http(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http(self.addr, method, target, headers, body).await
    }

    /// An API request with the right key.
    pub async fn api(&self, method: &str, target: &str, body: &[u8]) -> HttpResponse {
        let auth = format!("Bearer {API_KEY}");
        self.http(method, target, &[("Authorization", &auth)], body)
            .await
    }

    /// Publishes chat messages with data `from..from + n` to room `news`
    /// through the API; their offsets.
    pub async fn publish_chats(&self, n: usize, from: usize) -> Vec<u64> {
        let mut offsets = Vec::new();
        for i in from..from + n {
            let (_, offset) = self
                .publish(json!({"room":"news","event":"chat","data":i}))
                .await;
            offsets.push(offset.expect("recorded"));
        }
        offsets
    }

    /// Publishes through the API; returns `(delivered, offset)`.
    pub async fn publish(&self, request: Value) -> (u64, Option<u64>) {
        let resp = self
            .api("POST", "/api/v1/publish", request.to_string().as_bytes())
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text());
        let v = resp.json();
        (
            v["delivered"].as_u64().expect("delivered"),
            v["offset"].as_u64(),
        )
    }
}

/// What a plain client received. A reader task that fails (a message that
/// is not JSON, broken SSE or chunked framing: it panics) is no close: the
/// test fails on its next receive.
#[derive(Debug, Clone, PartialEq)]
pub enum Got {
    /// An envelope, with the SSE `id:` (last event id) and `event:` name.
    Env {
        json: Value,
        sse_id: Option<String>,
        sse_name: Option<String>,
    },
    /// The connection ended (with the WebSocket close code, if any).
    Closed(Option<u16>),
}

enum Out {
    Bytes(Vec<u8>),
    Binary(Vec<u8>),
    Close,
}

/// A plain client of any transport.
pub struct PlainClient {
    pub kind: Kind,
    pub sid: String,
    pub token: Option<String>,
    pub hello: Value,
    http: SocketAddr,
    out: Option<mpsc::UnboundedSender<Out>>,
    inbox: mpsc::UnboundedReceiver<Got>,
    /// The close the reader reported, once it did.
    closed: Option<Got>,
    /// The reader task, aborted on drop so the connection goes away.
    reader: Option<tokio::task::AbortHandle>,
}

impl Drop for PlainClient {
    fn drop(&mut self) {
        if let Some(reader) = &self.reader {
            reader.abort();
        }
    }
}

impl PlainClient {
    fn new(
        kind: Kind,
        http: SocketAddr,
        out: Option<mpsc::UnboundedSender<Out>>,
    ) -> (Self, mpsc::UnboundedSender<Got>) {
        let (deliver, inbox) = mpsc::unbounded_channel();
        let client = PlainClient {
            kind,
            sid: String::new(),
            token: None,
            hello: Value::Null,
            http,
            out,
            inbox,
            closed: None,
            reader: None,
        };
        (client, deliver)
    }

    async fn ws(addr: SocketAddr, query: &str) -> Self {
        let url = format!("ws://{addr}/ws?{query}");
        let (ws, _) = within("the /ws handshake", tokio_tungstenite::connect_async(url))
            .await
            .expect("websocket handshake");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (client, deliver) = Self::new(Kind::Ws, addr, Some(tx));
        tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            loop {
                tokio::select! {
                    read = stream.next() => match read {
                        Some(Ok(Message::Text(t))) => { let _ = deliver.send(env(t.as_bytes(), None, None)); }
                        Some(Ok(Message::Close(frame))) => {
                            let _ = deliver.send(Got::Closed(frame.map(|f| u16::from(f.code))));
                            return;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => { let _ = deliver.send(Got::Closed(None)); return; }
                    },
                    cmd = rx.recv() => {
                        let sent = match cmd {
                            Some(Out::Bytes(b)) => sink.send(Message::text(String::from_utf8(b).expect("UTF-8"))).await,
                            Some(Out::Binary(b)) => sink.send(Message::binary(b)).await,
                            Some(Out::Close) => sink.close().await,
                            None => return,
                        };
                        let _ = sent;
                    }
                }
            }
        });
        client
    }

    async fn tcp(http: SocketAddr, addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("tcp connect");
        let (mut read, mut write) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (mut client, deliver) = Self::new(Kind::Tcp, http, Some(tx));
        tokio::spawn(async move {
            while let Some(out) = rx.recv().await {
                match out {
                    Out::Bytes(b) | Out::Binary(b) => {
                        if write.write_all(&b).await.is_err() {
                            return;
                        }
                    }
                    Out::Close => {
                        let _ = write.shutdown().await;
                    }
                }
            }
        });
        let reader = tokio::spawn(async move {
            let mut lines = LineDecoder::new(1 << 20);
            loop {
                while let Some(line) = lines.next_line() {
                    let _ = deliver.send(env(&line.expect("line"), None, None));
                }
                match read.read_buf(lines.buffer_mut()).await {
                    Ok(0) | Err(_) => {
                        let _ = deliver.send(Got::Closed(None));
                        return;
                    }
                    Ok(_) => {}
                }
            }
        });
        client.reader = Some(reader.abort_handle());
        client
    }

    async fn udp(http: SocketAddr, addr: SocketAddr) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        socket.connect(addr).await.expect("udp connect");
        let socket = Arc::new(socket);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (mut client, deliver) = Self::new(Kind::Udp, http, Some(tx));
        let writer = socket.clone();
        tokio::spawn(async move {
            while let Some(out) = rx.recv().await {
                if let Out::Bytes(b) | Out::Binary(b) = out {
                    let _ = writer.send(&b).await;
                }
            }
        });
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                match socket.recv(&mut buf).await {
                    Ok(n) => {
                        if deliver.send(env(&buf[..n], None, None)).is_err() {
                            return;
                        }
                    }
                    // E.g. the port is closed (ICMP): nothing more will come.
                    Err(_) => {
                        let _ = deliver.send(Got::Closed(None));
                        return;
                    }
                }
            }
        });
        client.reader = Some(reader.abort_handle());
        client
    }

    async fn http_stream(
        addr: SocketAddr,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, HttpResponse> {
        let target = format!("{path}?{query}");
        let (mut stream, status, rest) = raw_stream(addr, &target, headers).await;
        if status != 200 {
            let mut head = format!("HTTP/1.1 {status} X\r\n").into_bytes();
            head.extend_from_slice(&rest);
            let mut all = std::io::Cursor::new(head).chain(stream);
            return Err(super::read_response(&mut all).await);
        }
        let kind = if path == "/sse" {
            Kind::Sse
        } else {
            Kind::Stream
        };
        let (mut client, deliver) = Self::new(kind, addr, None);
        let reader = tokio::spawn(async move {
            let mut chunks = Dechunker::default();
            let mut sse = SseParser::new(1 << 20);
            let mut lines = LineDecoder::new(1 << 20);
            let mut input = rest;
            loop {
                let mut body = Vec::new();
                let done = chunks.feed(&input, &mut body);
                if kind == Kind::Sse {
                    sse.feed(&body).expect("SSE");
                    while let Some(e) = sse.next_event() {
                        if !e.data.is_empty() {
                            let _ = deliver.send(env(e.data.as_bytes(), e.id, Some(e.event)));
                        }
                    }
                } else {
                    lines.feed(&body);
                    while let Some(line) = lines.next_line() {
                        let _ = deliver.send(env(&line.expect("line"), None, None));
                    }
                }
                if done {
                    let _ = deliver.send(Got::Closed(None));
                    return;
                }
                input = vec![0u8; 8192];
                match stream.read(&mut input).await {
                    Ok(0) | Err(_) => {
                        let _ = deliver.send(Got::Closed(None));
                        return;
                    }
                    Ok(n) => input.truncate(n),
                }
            }
        });
        client.reader = Some(reader.abort_handle());
        Ok(client)
    }

    /// Reads the `hello` (the next envelope) and checks it is for `ns`.
    pub async fn read_hello(&mut self, ns: &str) {
        let hello = self.expect_type("hello").await;
        assert_eq!(hello["v"], 1, "{hello}");
        assert_eq!(hello["ns"], ns, "{hello}");
        assert!(hello["pingInterval"].as_u64().is_some(), "{hello}");
        assert!(hello["maxPayload"].as_u64().is_some(), "{hello}");
        self.sid = hello["sid"].as_str().expect("sid").to_owned();
        self.token = hello["token"].as_str().map(str::to_owned);
        assert_eq!(
            self.token.is_some(),
            matches!(self.kind, Kind::Sse | Kind::Stream),
            "token only on SSE and streaming: {hello}"
        );
        self.hello = hello;
    }

    /// Sends an envelope (SSE and streaming: one `POST /send` that must be
    /// accepted).
    pub async fn send(&self, envelope: Value) {
        let mut bytes = envelope.to_string().into_bytes();
        if let Some(resp) = self.send_raw(&mut bytes).await {
            assert_eq!(resp.status, 200, "POST /send: {}", resp.text());
        }
    }

    /// Sends bytes as they are (TCP: a newline is added if missing); SSE
    /// and streaming answer with the `POST /send` response.
    pub async fn send_raw(&self, bytes: &mut Vec<u8>) -> Option<HttpResponse> {
        match self.kind {
            Kind::Sse | Kind::Stream => Some(self.post_send(bytes).await),
            kind => {
                if kind == Kind::Tcp && bytes.last() != Some(&b'\n') {
                    bytes.push(b'\n');
                }
                self.push(Out::Bytes(std::mem::take(bytes)));
                None
            }
        }
    }

    /// `POST /send` with this client's token.
    pub async fn post_send(&self, body: &[u8]) -> HttpResponse {
        let token = self.token.as_deref().expect("a token");
        let auth = format!("Bearer {token}");
        http(
            self.http,
            "POST",
            "/send",
            &[("Authorization", &auth)],
            body,
        )
        .await
    }

    /// Writes bytes as they are (TCP, UDP, WebSocket text).
    pub fn write(&self, bytes: &[u8]) {
        self.push(Out::Bytes(bytes.to_vec()));
    }

    /// Sends a binary WebSocket message.
    pub fn send_binary(&self, bytes: &[u8]) {
        self.push(Out::Binary(bytes.to_vec()));
    }

    /// Closes the sending side (WebSocket close frame, TCP shutdown).
    pub fn close(&self) {
        self.push(Out::Close);
    }

    fn push(&self, out: Out) {
        let tx = self.out.as_ref().expect("a sending transport");
        let _ = tx.send(out);
    }

    /// The next thing received; once closed, the close again. Panics if
    /// the reader task failed (it ended without reporting a close).
    pub async fn recv(&mut self) -> Got {
        if let Some(closed) = &self.closed {
            return closed.clone();
        }
        let what = format!("a {:?} envelope", self.kind);
        match within(&what, self.inbox.recv()).await {
            Some(got) => {
                if matches!(got, Got::Closed(_)) {
                    self.closed = Some(got.clone());
                }
                got
            }
            None => panic!(
                "the {:?} client's reader failed (see its panic above): not a close",
                self.kind
            ),
        }
    }

    /// The next envelope (panics on a close).
    pub async fn recv_env(&mut self) -> Value {
        match self.recv().await {
            Got::Env { json, .. } => json,
            Got::Closed(code) => panic!("{:?} closed ({code:?}) instead of sending", self.kind),
        }
    }

    /// The next envelope must have type `ty`.
    pub async fn expect_type(&mut self, ty: &str) -> Value {
        let v = self.recv_env().await;
        assert_eq!(v["type"], ty, "expected a {ty} envelope, got {v}");
        v
    }

    /// The next envelope must be an `error` with `code`.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let v = self.expect_type("error").await;
        assert_eq!(v["code"], code, "{v}");
        v
    }

    /// The next thing must be the end of the connection; its close code.
    pub async fn expect_closed(&mut self) -> Option<u16> {
        match self.recv().await {
            Got::Closed(code) => code,
            Got::Env { json, .. } => panic!("{:?} still open: got {json}", self.kind),
        }
    }

    /// Skips envelopes until the connection ends; its close code.
    pub async fn until_closed(&mut self) -> Option<u16> {
        loop {
            if let Got::Closed(code) = self.recv().await {
                return code;
            }
        }
    }

    /// The envelopes received before the `marker` event.
    pub async fn until_marker(&mut self) -> Vec<Value> {
        let mut got = Vec::new();
        loop {
            let v = self.recv_env().await;
            if v["type"] == "event" && v["event"] == "marker" {
                return got;
            }
            got.push(v);
        }
    }

    /// A `message-with-ack` round trip: the client still works.
    pub async fn assert_alive(&mut self) {
        self.send(json!({"type":"emit","event":"message-with-ack","data":"alive","id":9001}))
            .await;
        let ack = self.expect_type("ack").await;
        assert_eq!(ack, json!({"type":"ack","id":9001,"data":"alive"}));
    }
}

/// Decodes one received envelope.
fn env(bytes: &[u8], sse_id: Option<String>, sse_name: Option<String>) -> Got {
    let json = serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{:?} is not JSON: {e}", String::from_utf8_lossy(bytes)));
    Got::Env {
        json,
        sse_id,
        sse_name,
    }
}

/// Sends a GET request and reads the response head; returns the stream,
/// the status and the bytes read past the head.
pub async fn raw_stream(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
) -> (TcpStream, u16, Vec<u8>) {
    within("a streaming response head", async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let head = super::request_head("GET", target, headers, None);
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&buf[..i]).into_owned();
                let status = text.split(' ').nth(1).and_then(|s| s.parse().ok());
                let rest = buf.split_off(i + 4);
                return (stream, status.expect("status"), rest);
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before the response head");
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
}

/// An incremental decoder of chunked transfer encoding.
#[derive(Default)]
pub struct Dechunker {
    buf: Vec<u8>,
    /// Data bytes left in the current chunk.
    left: usize,
    /// The CRLF after a chunk's data is still to skip.
    crlf: bool,
}

impl Dechunker {
    /// Feeds bytes, appending body data to `out`; `true` at the last chunk.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        self.buf.extend_from_slice(data);
        loop {
            if self.left > 0 {
                let n = self.left.min(self.buf.len());
                out.extend(self.buf.drain(..n));
                self.left -= n;
                if self.left > 0 {
                    return false;
                }
                self.crlf = true;
            }
            if self.crlf {
                if self.buf.len() < 2 {
                    return false;
                }
                self.buf.drain(..2);
                self.crlf = false;
            }
            let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                return false;
            };
            let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size {line:?}"));
            self.buf.drain(..end + 2);
            if size == 0 {
                return true;
            }
            self.left = size;
        }
    }
}

/// The chat events `c` received before the marker: `(data, offset)`.
pub async fn chats(c: &mut PlainClient) -> Vec<(u64, u64)> {
    c.until_marker()
        .await
        .iter()
        .map(|v| {
            assert_eq!(v["event"], "chat", "{v}");
            (v["data"].as_u64().unwrap(), v["offset"].as_u64().unwrap())
        })
        .collect()
}

/// A `kind` reader of room `news` resumes on `reader` after offset `last`
/// (SSE `Last-Event-ID`, a stream's `since`) while `missed` (chat data 3..7)
/// were published; `publisher` then publishes two more (data 7, 8). The
/// reader must get exactly the missed ones and the live ones, in order.
pub async fn resume_news_after(
    kind: Kind,
    reader: &PlainServer,
    publisher: &PlainServer,
    last: u64,
    missed: &[u64],
) {
    let last = last.to_string();
    let (query, headers) = match kind {
        Kind::Sse => (
            "room=news".to_owned(),
            vec![("Last-Event-ID", last.as_str())],
        ),
        _ => (format!("room=news&since={last}"), vec![]),
    };
    let mut again = reader.open(kind, &query, &headers).await.unwrap();
    again.read_hello("/").await;
    assert_eq!(again.recv_env().await["event"], "welcome");
    let live = publisher.publish_chats(2, 7).await;
    publisher.marker();
    let got = chats(&mut again).await;
    let want: Vec<u64> = missed.iter().chain(&live).copied().collect();
    assert_eq!(
        got.iter().map(|g| g.1).collect::<Vec<_>>(),
        want,
        "{kind:?}"
    );
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        (3..9).collect::<Vec<_>>()
    );
}
