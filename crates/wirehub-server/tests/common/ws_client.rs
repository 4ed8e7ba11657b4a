//! A WebSocket Engine.IO client on tokio-tungstenite, read by a background
//! task so that heartbeats are answered while a test is busy elsewhere.

use super::{connect_packet, ns_prefix, parse_connect_ok, parse_open, within};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// What a WebSocket client received. A reader task that fails (panics) is
/// no close: the test fails on its next receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Text(String),
    Binary(Vec<u8>),
    /// The connection ended (close frame, end of stream, or a read error).
    Closed,
}

enum Cmd {
    Send(Message),
    Close,
}

/// A WebSocket Engine.IO client. A background task reads the socket (and
/// answers pings with pongs when `auto_pong` is on), so heartbeats keep
/// working while a test is busy elsewhere.
pub struct WsClient {
    /// The Engine.IO session id (empty for an upgrade's WebSocket).
    pub sid: String,
    /// The open packet's JSON (`null` for an upgrade's WebSocket).
    pub open: Value,
    out: mpsc::UnboundedSender<Cmd>,
    inbox: mpsc::UnboundedReceiver<Msg>,
    /// Whether the reader reported the end of the connection.
    closed: bool,
}

impl WsClient {
    /// Connects a WebSocket with `query` and extra request `headers`,
    /// without reading anything.
    pub async fn raw(
        addr: SocketAddr,
        query: &str,
        headers: &[(&'static str, &str)],
        auto_pong: bool,
    ) -> Result<WsClient, WsError> {
        let url = format!("ws://{addr}/socket.io/?{query}");
        Self::raw_url(&url, headers, auto_pong).await
    }

    /// Like [`Self::raw`], with a whole URL.
    pub async fn raw_url(
        url: &str,
        headers: &[(&'static str, &str)],
        auto_pong: bool,
    ) -> Result<WsClient, WsError> {
        let mut request = url.into_client_request()?;
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, value.parse().expect("header value"));
        }
        let (ws, _) = within(
            "the WebSocket handshake",
            tokio_tungstenite::connect_async(request),
        )
        .await?;
        let (out, mut commands) = mpsc::unbounded_channel::<Cmd>();
        let (deliver, inbox) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            loop {
                tokio::select! {
                    read = stream.next() => match read {
                        Some(Ok(Message::Text(t))) => {
                            if auto_pong && t.as_str() == "2" {
                                if sink.send(Message::text("3")).await.is_err() {
                                    let _ = deliver.send(Msg::Closed);
                                    return;
                                }
                            } else {
                                let _ = deliver.send(Msg::Text(t.as_str().to_owned()));
                            }
                        }
                        Some(Ok(Message::Binary(b))) => {
                            let _ = deliver.send(Msg::Binary(b.to_vec()));
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                            let _ = deliver.send(Msg::Closed);
                            return;
                        }
                        Some(Ok(_)) => {}
                    },
                    cmd = commands.recv() => match cmd {
                        Some(Cmd::Send(m)) => {
                            if sink.send(m).await.is_err() {
                                let _ = deliver.send(Msg::Closed);
                                return;
                            }
                        }
                        Some(Cmd::Close) => {
                            let _ = sink.close().await;
                        }
                        // The client was dropped: drop the connection abruptly.
                        None => return,
                    },
                }
            }
        });
        Ok(WsClient {
            sid: String::new(),
            open: Value::Null,
            out,
            inbox,
            closed: false,
        })
    }

    /// A new WebSocket session: connects and reads the open packet.
    pub async fn open(addr: SocketAddr) -> WsClient {
        Self::open_with(addr, &[], true).await
    }

    /// Like [`Self::open`], with request headers and the pong behaviour.
    pub async fn open_with(
        addr: SocketAddr,
        headers: &[(&'static str, &str)],
        auto_pong: bool,
    ) -> WsClient {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        Self::open_url(&url, headers, auto_pong).await
    }

    /// A new WebSocket session at `url`: connects and reads the open packet.
    pub async fn open_url(
        url: &str,
        headers: &[(&'static str, &str)],
        auto_pong: bool,
    ) -> WsClient {
        let mut ws = Self::raw_url(url, headers, auto_pong)
            .await
            .expect("WebSocket handshake");
        ws.open = parse_open(&ws.recv_text().await);
        ws.sid = ws.open["sid"].as_str().expect("sid").to_owned();
        ws
    }

    /// Upgrades polling session `sid` to a WebSocket (`2probe`, `3probe`, `5`).
    pub async fn upgrade(addr: SocketAddr, sid: &str) -> WsClient {
        let query = format!("EIO=4&transport=websocket&sid={sid}");
        let mut ws = Self::raw(addr, &query, &[], true)
            .await
            .expect("WebSocket handshake");
        ws.send("2probe");
        ws.expect("3probe").await;
        ws.send("5");
        ws.sid = sid.to_owned();
        ws
    }

    /// Sends a text message.
    pub fn send(&self, text: &str) {
        let _ = self.out.send(Cmd::Send(Message::text(text.to_owned())));
    }

    /// Sends a binary message.
    pub fn send_bin(&self, data: &[u8]) {
        let _ = self.out.send(Cmd::Send(Message::binary(data.to_vec())));
    }

    /// Starts a clean close (close frame).
    pub fn close(&self) {
        let _ = self.out.send(Cmd::Close);
    }

    /// The next message (at most [`WAIT`]); once closed, `Closed` again.
    /// Panics if the reader task failed (ended without reporting a close).
    pub async fn recv(&mut self) -> Msg {
        if self.closed {
            return Msg::Closed;
        }
        match within("a WebSocket message", self.inbox.recv()).await {
            Some(msg) => {
                self.closed = msg == Msg::Closed;
                msg
            }
            None => {
                panic!("the WebSocket client's reader failed (see its panic above): not a close")
            }
        }
    }

    /// The next message, which must be text.
    pub async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Msg::Text(t) => t,
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next message must be exactly `text`.
    pub async fn expect(&mut self, text: &str) {
        assert_eq!(self.recv().await, Msg::Text(text.to_owned()));
    }

    /// The next message must be text starting with `prefix`; the rest, as JSON.
    pub async fn recv_json(&mut self, prefix: &str) -> Value {
        let text = self.recv_text().await;
        let rest = text
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix}..., got {text:?}"));
        serde_json::from_str(rest).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    /// The next message must be exactly these bytes.
    pub async fn expect_bin(&mut self, data: &[u8]) {
        assert_eq!(self.recv().await, Msg::Binary(data.to_vec()));
    }

    /// The server must close the connection, sending nothing more first.
    pub async fn expect_closed(&mut self) {
        assert_eq!(self.recv().await, Msg::Closed, "connection still open");
    }

    /// Connects to namespace `ns`; returns the socket id.
    pub async fn connect_ns(&mut self, ns: &str, auth: Option<&str>) -> String {
        self.send(&connect_packet(ns, auth));
        let answer = self.recv_text().await;
        parse_connect_ok(ns, &answer)
    }

    /// A `message` → `message-back` round trip on namespace `ns`.
    pub async fn assert_echo_on(&mut self, ns: &str) {
        let p = ns_prefix(ns);
        self.send(&format!(r#"42{p}["message","still here",1]"#));
        self.expect(&format!(r#"42{p}["message-back","still here",1]"#))
            .await;
    }

    /// A round trip on `/`: the session and its socket still work.
    pub async fn assert_echo(&mut self) {
        self.assert_echo_on("/").await;
    }
}
