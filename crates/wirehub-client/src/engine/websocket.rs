//! WebSocket: the handshake (direct, or carrying the `sid` of an upgrade),
//! and one task that reads frames into [`Inbound`] events and writes the
//! queued frames.

use super::{parse_open, CloseCause, Inbound, Link, Opened, Session, TransportHandle};
use crate::config::Config;
use crate::error::Error;
use crate::net::{self, Stream};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::ClientRequestBuilder;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;
use wirehub_proto::engineio::{Frame, Packet, TransportKind};
use wirehub_proto::Str;

/// A WebSocket to the server.
pub(crate) type WsStream = WebSocketStream<Stream>;

/// Runs the WebSocket handshake for `transport=websocket` (with `sid` when upgrading).
pub(crate) async fn connect(config: &Config, sid: Option<&str>) -> Result<WsStream, Error> {
    let target = config.request_target("websocket", sid);
    let url = format!("{}{}", config.url.ws_base(), target);
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| Error::InvalidOption(e.to_string()))?;
    let mut request = ClientRequestBuilder::new(uri);
    for (name, value) in &config.headers {
        let value = value.to_str().unwrap_or_default();
        request = request.with_header(name.as_str(), value);
    }
    let stream = net::connect(&config.url, &config.tls).await?;
    match tokio_tungstenite::client_async(request, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            let url = format!("{}{}", config.url.ws_base(), config.path);
            Err(super::http::status_error(url, response.status(), &body))
        }
        Err(e) => Err(Error::Transport(format!("WebSocket handshake failed: {e}"))),
    }
}

/// A session opened directly over WebSocket: the first message is `open`.
pub(super) async fn open(config: &Config) -> Result<Opened, Error> {
    let mut ws = connect(config, None).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let packet = decode_text(text)?;
                let open = parse_open(packet)?;
                return Ok(Opened {
                    open,
                    link: Link::WebSocket(Box::new(ws)),
                });
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => {
                return Err(Error::Protocol(format!(
                    "expected an open packet, got {other:?}"
                )))
            }
            Some(Err(e)) => return Err(Error::Transport(e.to_string())),
            None => return Err(Error::Transport("closed before the open packet".into())),
        }
    }
}

/// Starts the task that carries the session over `ws`.
pub(super) fn spawn(
    ws: WsStream,
    session: &Session,
    inbound: mpsc::UnboundedSender<Inbound>,
) -> TransportHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(ws, session.clone(), inbound, rx));
    TransportHandle {
        id: session.transport,
        kind: TransportKind::WebSocket,
        tx: Some(tx),
        tasks: vec![task],
        stop: Arc::new(AtomicBool::new(false)),
    }
}

async fn run(
    mut ws: WsStream,
    session: Session,
    inbound: mpsc::UnboundedSender<Inbound>,
    mut rx: mpsc::UnboundedReceiver<Frame>,
) {
    let cause = loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => match decode_text(text) {
                    Ok(packet) => {
                        let _ = inbound.send(Inbound::Packet { gen: session.gen, packet });
                    }
                    Err(_) => break CloseCause::Parse,
                },
                Some(Ok(Message::Binary(data))) => {
                    let packet = Packet::binary(data);
                    let _ = inbound.send(Inbound::Packet { gen: session.gen, packet });
                }
                Some(Ok(Message::Close(_))) | None => break CloseCause::Close,
                Some(Ok(_)) => {}
                Some(Err(e)) => break CloseCause::Error(e.to_string()),
            },
            frame = rx.recv() => match frame {
                Some(frame) => {
                    if let Err(e) = ws.send(to_message(frame)).await {
                        break CloseCause::Error(e.to_string());
                    }
                }
                None => {
                    close_gracefully(&mut ws).await;
                    return;
                }
            },
        }
    };
    let _ = inbound.send(Inbound::Closed {
        transport: session.transport,
        cause,
    });
}

/// Sends a close frame and waits (briefly) for the server's.
async fn close_gracefully(ws: &mut WsStream) {
    let _ = ws.close(None).await;
    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

/// Decodes a text frame into an Engine.IO packet.
pub(super) fn decode_text(text: Utf8Bytes) -> Result<Packet, Error> {
    let text = Str::from_utf8(text.into()).map_err(|_| Error::Protocol("invalid UTF-8".into()))?;
    Packet::decode_text(text).map_err(|e| Error::Protocol(e.to_string()))
}

/// A frame as a WebSocket message.
pub(super) fn to_message(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => {
            Message::Text(Utf8Bytes::try_from(text.into_bytes()).unwrap_or_default())
        }
        Frame::Binary(data) => Message::Binary(data),
    }
}
