//! Client connections: TCP with an optional spread of source addresses, the
//! WebSocket transport and the Socket.IO connect handshake on top of it.

use crate::scenarios::wire;
use crate::{Common, Result};
use futures_util::{SinkExt, StreamExt};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wirehub_proto::socketio::Parser;

/// Bound of each connection setup step.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// A WebSocket client connection.
pub(crate) type Ws = WebSocketStream<TcpStream>;

/// Where and how to connect.
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    src_ips: u8,
    next_src: Cell<u32>,
}

impl Target {
    pub(crate) fn new(common: &Common) -> Self {
        Self::at_port(common, common.port)
    }

    /// Like [`Self::new`], to another server on 127.0.0.1 (another node of
    /// a cluster).
    pub(crate) fn at_port(common: &Common, port: u16) -> Self {
        Target {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            src_ips: common.src_ips,
            next_src: Cell::new(0),
        }
    }

    /// `host:port` for Host headers and URLs.
    pub(crate) fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// A TCP connection, bound to the next source address 127.0.0.2.. (round
    /// robin) when spreading is on: each source address has its own ephemeral
    /// port range towards the server.
    pub(crate) async fn tcp(&self) -> Result<TcpStream> {
        self.tcp_port(self.addr.port()).await
    }

    /// Like [`Self::tcp`], to another port of the server's host.
    pub(crate) async fn tcp_port(&self, port: u16) -> Result<TcpStream> {
        self.tcp_with(port, None).await
    }

    /// Like [`Self::tcp_port`], with `SO_RCVBUF` set before connecting
    /// (a small receive window, for a client that stops reading).
    pub(crate) async fn tcp_with(&self, port: u16, recv_buffer: Option<u32>) -> Result<TcpStream> {
        let socket = TcpSocket::new_v4()?;
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size)?;
        }
        if self.src_ips > 0 {
            let i = self.next_src.get();
            self.next_src.set(i.wrapping_add(1));
            let last = 2 + (i % self.src_ips as u32) as u8;
            socket.bind(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
                0,
            ))?;
        }
        let stream = socket
            .connect(SocketAddr::new(self.addr.ip(), port))
            .await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// A WebSocket connection straight to the websocket transport (no polling
    /// first, as socket.io-client with `transports: ["websocket"]`).
    pub(crate) async fn websocket(&self) -> Result<Ws> {
        self.websocket_at("/socket.io/?EIO=4&transport=websocket")
            .await
    }

    /// A bare WebSocket connection to `path`, nothing on top (the echo
    /// servers of the WebSocket-layer comparison, `bench/ws-crates`).
    pub(crate) async fn bare(&self) -> Result<Ws> {
        tokio::time::timeout(STEP_TIMEOUT, self.websocket_at("/"))
            .await
            .map_err(|_| "timed out in TCP connect + WebSocket upgrade")?
    }

    async fn websocket_at(&self, path: &str) -> Result<Ws> {
        self.websocket_with(path, None).await
    }

    /// A WebSocket connection to `path` over [`Self::tcp_with`].
    pub(crate) async fn websocket_with(&self, path: &str, recv_buffer: Option<u32>) -> Result<Ws> {
        let tcp = self.tcp_with(self.addr.port(), recv_buffer).await?;
        let url = format!("ws://{}{path}", self.authority());
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await?;
        Ok(ws)
    }

    /// WebSocket + Engine.IO open + Socket.IO connect to `/`: returns once
    /// `40{"sid":..}` arrived.
    pub(crate) async fn socketio(&self) -> Result<Ws> {
        self.socketio_with(Parser::Json).await
    }

    /// [`Self::socketio`] with `parser`'s CONNECT packet and answer.
    pub(crate) async fn socketio_with(&self, parser: Parser) -> Result<Ws> {
        let mut ws = tokio::time::timeout(STEP_TIMEOUT, self.websocket())
            .await
            .map_err(|_| "timed out in TCP connect + WebSocket upgrade")??;
        let connect = async {
            match parser {
                Parser::Json => sio_connect(&mut ws).await,
                Parser::MsgPack => sio_connect_msgpack(&mut ws).await,
            }
        };
        tokio::time::timeout(STEP_TIMEOUT, connect)
            .await
            .map_err(|_| "timed out waiting for the Engine.IO open / Socket.IO connect answer")??;
        Ok(ws)
    }
}

/// After the WebSocket upgrade: waits for the open packet, sends `40`, waits
/// for the connect answer (answering pings meanwhile).
pub(crate) async fn sio_connect(ws: &mut Ws) -> Result<()> {
    let mut opened = false;
    loop {
        let text = match next_text(ws).await? {
            Some(t) => t,
            None => return Err("connection closed during the Socket.IO handshake".into()),
        };
        if text.starts_with('0') && !opened {
            opened = true;
            ws.send(Message::text("40")).await?;
        } else if text == "2" {
            ws.send(Message::text("3")).await?;
        } else if text.starts_with("40") {
            return Ok(());
        } else if text.starts_with("44") {
            return Err(format!("connect refused: {text}").into());
        } else if text == "1" {
            return Err("engine closed during the Socket.IO handshake".into());
        }
    }
}

/// [`sio_connect`] for a MessagePack-parser server: the CONNECT and its
/// answer are binary messages.
async fn sio_connect_msgpack(ws: &mut Ws) -> Result<()> {
    let mut opened = false;
    loop {
        let m = next_data(ws)
            .await?
            .ok_or("connection closed during the Socket.IO handshake")?;
        match &m {
            Message::Text(t) if t.starts_with('0') && !opened => {
                opened = true;
                ws.send(wire::connect(Parser::MsgPack)).await?;
            }
            Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).await?,
            Message::Text(t) if t.as_str() == "1" => {
                return Err("engine closed during the Socket.IO handshake".into())
            }
            _ => match wire::connect_answer(Parser::MsgPack, &m) {
                Some(true) => return Ok(()),
                Some(false) => return Err("connect refused".into()),
                None => {}
            },
        }
    }
}

/// Next text or binary message; `None` at the end of the stream, an error
/// on a read error or a close frame.
pub(crate) async fn next_data(ws: &mut Ws) -> Result<Option<Message>> {
    loop {
        match ws.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Close(frame))) => return Err(close_error(frame).into()),
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => return Ok(Some(m)),
            Some(Ok(_)) => continue,
        }
    }
}

fn close_error(frame: Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match frame {
        Some(f) => format!(
            "WebSocket close frame {} {:?}",
            u16::from(f.code),
            f.reason.as_str()
        ),
        None => "WebSocket close frame".to_owned(),
    }
}

/// Next text message; `None` at the end of the stream, an error on a read
/// error or a close frame. Binary and control frames are skipped
/// (tungstenite answers WebSocket pings itself).
pub(crate) async fn next_text(
    ws: &mut Ws,
) -> Result<Option<tokio_tungstenite::tungstenite::Utf8Bytes>> {
    loop {
        match ws.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Text(t))) => return Ok(Some(t)),
            Some(Ok(Message::Close(frame))) => return Err(close_error(frame).into()),
            Some(Ok(_)) => continue,
        }
    }
}

/// Emits a Socket.IO event with an ack id and waits for that ack, answering
/// pings meanwhile. Returns the ack text.
pub(crate) async fn call(ws: &mut Ws, id: u64, event_json_array: &str) -> Result<String> {
    ws.send(Message::text(format!("42{id}{event_json_array}")))
        .await?;
    let prefix = format!("43{id}[");
    loop {
        let text = next_text(ws)
            .await?
            .ok_or("connection closed while waiting for an ack")?;
        if text == "2" {
            ws.send(Message::text("3")).await?;
        } else if text.starts_with(&prefix) {
            return Ok(text.to_string());
        } else if text == "1" || text.starts_with("41") {
            return Err("disconnected while waiting for an ack".into());
        }
    }
}

/// Keeps a connection alive for `d`: reads and answers pings (the engine
/// closes a session whose pong is late, 200 ms with the benchmark settings).
pub(crate) async fn idle_for(ws: &mut Ws, d: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + d;
    loop {
        match tokio::time::timeout_at(deadline, next_text(ws)).await {
            Err(_) => return Ok(()),
            Ok(Ok(Some(t))) if t.as_str() == "2" => ws.send(Message::text("3")).await?,
            Ok(Ok(Some(_))) => {}
            Ok(r) => return Err(end_reason(&r).into()),
        }
    }
}

/// Closes a WebSocket politely: close frame, then waits (bounded) for the
/// server's close and the end of the stream.
pub(crate) async fn close(mut ws: Ws) {
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Why a client connection ended, for the results (`close_reasons`).
pub(crate) fn end_reason(r: &Result<Option<tokio_tungstenite::tungstenite::Utf8Bytes>>) -> String {
    match r {
        Ok(None) => "end of stream".to_owned(),
        Ok(Some(t)) if t.as_str() == "1" => "Engine.IO close packet".to_owned(),
        Ok(Some(t)) if t.starts_with("41") => "Socket.IO disconnect packet".to_owned(),
        Ok(Some(t)) => format!("unexpected {t}"),
        Err(e) => {
            let e = e.to_string();
            // Keep the kind, drop per-connection details.
            e.split(" (os error").next().unwrap_or(&e).to_owned()
        }
    }
}

/// [`end_reason`] of what [`next_data`] gave.
pub(crate) fn end_reason_of(r: &Result<Option<Message>>) -> String {
    match r {
        Ok(Some(Message::Text(t))) => end_reason(&Ok(Some(t.clone()))),
        Ok(Some(_)) => "unexpected binary message".to_owned(),
        Ok(None) => end_reason(&Ok(None)),
        Err(e) => {
            let e = e.to_string();
            e.split(" (os error").next().unwrap_or(&e).to_owned()
        }
    }
}

/// Counts of connection end reasons.
#[derive(Default, Debug)]
pub(crate) struct Reasons(std::cell::RefCell<std::collections::BTreeMap<String, u64>>);

impl Reasons {
    pub(crate) fn add(&self, reason: String) {
        *self.0.borrow_mut().entry(reason).or_default() += 1;
    }
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!(*self.0.borrow())
    }
}
