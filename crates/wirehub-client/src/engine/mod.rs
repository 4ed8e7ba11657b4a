//! The Engine.IO v4 client side: opening a session (handshake over
//! WebSocket or long-polling), the transport tasks that carry frames, and the
//! polling→WebSocket upgrade probe.
//!
//! Transports run as tasks that report to the manager's driver over one
//! channel of [`Inbound`] events, tagged with the connection generation (to
//! drop events of a connection already given up) and the transport id (to
//! tell the polling transport being replaced from the current one).
//!
//! - `http`: keep-alive HTTP/1.1 requests for long-polling.
//! - `payload`: server long-polling payloads.
//! - `polling`: the long-polling handshake and its poll/send tasks.
//! - `websocket`: the WebSocket handshake and its read/write task.
//! - `upgrade`: the `2probe`/`3probe` probe of an upgrade.

mod http;
mod payload;
mod polling;
mod upgrade;
mod websocket;

pub(crate) use http::HttpClient;
pub(crate) use upgrade::spawn_probe;
pub(crate) use websocket::WsStream;

use crate::config::{Config, Transport};
use crate::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wirehub_proto::engineio::{Frame, OpenPacket, Packet, TransportKind};

/// What transport tasks report to the driver.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// The handshake of connection `gen` finished.
    Opened {
        gen: u64,
        result: Result<Opened, Error>,
    },
    /// A packet arrived on connection `gen`.
    Packet { gen: u64, packet: Packet },
    /// Transport `transport` ended.
    Closed { transport: u64, cause: CloseCause },
    /// The upgrade probe of connection `gen` ended (`None`: it failed).
    Probed { gen: u64, ws: Option<Box<WsStream>> },
}

/// Why a transport ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseCause {
    /// The server closed the connection or the session.
    Close,
    /// An I/O or HTTP failure.
    Error(String),
    /// The server sent something undecodable.
    Parse,
}

/// A session just opened, with its first transport.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) open: OpenPacket,
    pub(crate) link: Link,
}

/// The transport a session was opened on.
#[derive(Debug)]
pub(crate) enum Link {
    /// A WebSocket (the open packet already read from it).
    WebSocket(Box<WsStream>),
    /// Long-polling, with packets that came after the open packet.
    Polling {
        http: Arc<HttpClient>,
        rest: Vec<Packet>,
    },
}

/// Opens a session with the configured transport, within the connect timeout.
pub(crate) async fn open(config: Arc<Config>) -> Result<Opened, Error> {
    let attempt = async {
        match config.transport {
            Transport::WebSocket => websocket::open(&config).await,
            Transport::Polling | Transport::Upgrade => {
                polling::open(&config, Arc::new(HttpClient::new(config.clone()))).await
            }
        }
    };
    tokio::time::timeout(config.connect_timeout, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(Error::Timeout {
                url: config.url.original.clone(),
                timeout: config.connect_timeout,
            })
        })
}

/// Parses the `open` packet's JSON.
fn parse_open(packet: Packet) -> Result<OpenPacket, Error> {
    match packet {
        Packet::Open(json) => serde_json::from_str(&json)
            .map_err(|e| Error::Protocol(format!("invalid open packet: {e}"))),
        other => Err(Error::Protocol(format!(
            "expected an open packet, got {other:?}"
        ))),
    }
}

/// Starts the tasks of the transport a session was opened on.
pub(crate) fn start(
    link: Link,
    config: &Arc<Config>,
    session: &Session,
    inbound: &mpsc::UnboundedSender<Inbound>,
) -> TransportHandle {
    match link {
        Link::WebSocket(ws) => websocket::spawn(*ws, session, inbound.clone()),
        Link::Polling { http, rest } => {
            for packet in rest {
                let _ = inbound.send(Inbound::Packet {
                    gen: session.gen,
                    packet,
                });
            }
            polling::spawn(http, config.clone(), session, inbound.clone())
        }
    }
}

/// Completes an upgrade once polling is paused: sends `5` on the probed
/// socket and starts it as the session's transport.
pub(crate) async fn complete_upgrade(
    mut ws: Box<WsStream>,
    session: &Session,
    inbound: &mpsc::UnboundedSender<Inbound>,
) -> Result<TransportHandle, Error> {
    use futures_util::SinkExt;
    ws.send(websocket::to_message(Packet::Upgrade.to_frame()))
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    Ok(websocket::spawn(*ws, session, inbound.clone()))
}

/// Identifies a session and one of its transports in [`Inbound`] events.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) gen: u64,
    pub(crate) transport: u64,
    pub(crate) sid: String,
    pub(crate) max_payload: usize,
}

/// The running tasks of one transport and the queue of frames to send.
#[derive(Debug)]
pub(crate) struct TransportHandle {
    pub(crate) id: u64,
    pub(crate) kind: TransportKind,
    tx: Option<mpsc::UnboundedSender<Frame>>,
    tasks: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl TransportHandle {
    /// Queues a frame; `false` if the transport already ended.
    pub(crate) fn send(&self, frame: Frame) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(frame).is_ok())
    }

    /// Lets the tasks send what is queued and stop (a poll in flight is
    /// awaited), aborting what is still running after `within`.
    /// Returns whether everything ended in time.
    pub(crate) async fn finish(&mut self, within: Duration) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        self.tx = None;
        let deadline = tokio::time::Instant::now() + within;
        let mut clean = true;
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                clean = false;
            }
        }
        clean
    }

    /// Stops the tasks at once.
    pub(crate) fn abort(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
