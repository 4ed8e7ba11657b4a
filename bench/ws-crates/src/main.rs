//! Bare WebSocket echo servers, one per WebSocket implementation, for the
//! WebSocket-layer comparison of `bench/ws-crates/run.sh`.
//!
//! Every variant runs behind the same accept loop (TCP_NODELAY, hyper 1
//! HTTP/1.1 with upgrades, one task per connection) and answers the same
//! upgrade; after it, each implementation frames the upgraded stream on its
//! own: every text or binary message goes back as it came, pings are
//! answered, a close is answered. So the figures (idle memory per
//! connection, CPU per echoed message, Autobahn|Testsuite results) differ by
//! the framing layer alone.
//!
//! Usage: `ws-crates-echo <variant>`, listening on 127.0.0.1:$PORT (default
//! 9001). Variants: wirehub (wirehub's own framing, the server's
//! `WebSocketEcho`), tungstenite, fastwebsockets, tokio-websockets, yawc,
//! sockudo-ws. Each runs with its defaults, except a 32 MiB message limit
//! (the Autobahn|Testsuite's largest message is 16 MiB), UTF-8 checks of
//! text where they are optional, and tungstenite's read buffer (4 KiB, not
//! its default 128 KiB).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use tokio::net::TcpListener;
use tower_service::Service;
use wirehub_server::websocket_echo::WebSocketEcho;

/// Messages up to this size are echoed; larger ones fail the connection.
const MAX_MESSAGE: usize = 32 << 20;

type Io = TokioIo<Upgraded>;

#[derive(Clone, Copy, Debug)]
enum Variant {
    /// wirehub's own framing, in the server's `WebSocketEcho` service.
    Wirehub,
    /// A WebSocket crate over the stream of our upgrade.
    Crate(Crate),
}

#[derive(Clone, Copy, Debug)]
enum Crate {
    Tungstenite,
    Fastwebsockets,
    TokioWebsockets,
    Yawc,
    SockudoWs,
}

impl Variant {
    const ALL: [(&'static str, Variant); 6] = [
        ("wirehub", Variant::Wirehub),
        ("tungstenite", Variant::Crate(Crate::Tungstenite)),
        ("fastwebsockets", Variant::Crate(Crate::Fastwebsockets)),
        ("tokio-websockets", Variant::Crate(Crate::TokioWebsockets)),
        ("yawc", Variant::Crate(Crate::Yawc)),
        ("sockudo-ws", Variant::Crate(Crate::SockudoWs)),
    ];

    fn parse(name: &str) -> Option<Variant> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let names: Vec<&str> = Variant::ALL.iter().map(|(n, _)| *n).collect();
    let Some(variant) = std::env::args().nth(1).as_deref().and_then(Variant::parse) else {
        eprintln!("usage: ws-crates-echo <{}>", names.join("|"));
        std::process::exit(2);
    };
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9001);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    // The bound port (PORT=0 picks a free one): tests/autobahn/run.sh reads it here.
    let port = listener.local_addr()?.port();
    eprintln!("{variant:?} echo listening on ws://127.0.0.1:{port}");
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: the listener stays.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let io = TokioIo::new(tcp);
            let _ = match variant {
                Variant::Wirehub => {
                    let echo = WebSocketEcho::new(MAX_MESSAGE);
                    let service = service_fn(move |req: Request<Incoming>| {
                        let mut echo = echo;
                        echo.call(req)
                    });
                    http1::Builder::new()
                        .serve_connection(io, service)
                        .with_upgrades()
                        .await
                }
                Variant::Crate(framing) => {
                    let service = service_fn(move |req| upgrade(req, framing));
                    http1::Builder::new()
                        .serve_connection(io, service)
                        .with_upgrades()
                        .await
                }
            };
        });
    }
}

/// Answers the upgrade (the same response for every crate) and hands the
/// upgraded stream to the crate's echo.
async fn upgrade(
    mut req: Request<Incoming>,
    framing: Crate,
) -> Result<Response<Empty<Bytes>>, Infallible> {
    let key = req.headers().get("sec-websocket-key").cloned();
    let Some(key) = key.filter(|_| req.headers().contains_key("upgrade")) else {
        let mut response = Response::new(Empty::new());
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    let accept = wirehub_proto::websocket::accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let io = TokioIo::new(upgraded);
            match framing {
                Crate::Tungstenite => tungstenite_echo(io).await,
                Crate::Fastwebsockets => fastwebsockets_echo(io).await,
                Crate::TokioWebsockets => tokio_websockets_echo(io).await,
                Crate::Yawc => yawc_echo(io).await,
                Crate::SockudoWs => sockudo_echo(io).await,
            }
        }
    });
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .body(Empty::new())
        .unwrap_or_default();
    Ok(response)
}

async fn tungstenite_echo(io: Io) {
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
    // Its default read buffer is 128 KiB per connection; 4 KiB is what
    // wirehub ran it with before its own framing.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    // Pings and the close are answered inside the stream's reads.
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

async fn fastwebsockets_echo(io: Io) {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    let mut ws = WebSocket::after_handshake(io, Role::Server);
    ws.set_max_message_size(MAX_MESSAGE);
    // Auto-pong and auto-close are on by default; the collector joins
    // fragments and checks text.
    let mut ws = FragmentCollector::new(ws);
    while let Ok(frame) = ws.read_frame().await {
        if frame.opcode == OpCode::Close {
            return;
        }
        let data = matches!(frame.opcode, OpCode::Text | OpCode::Binary);
        if data && ws.write_frame(frame).await.is_err() {
            return;
        }
    }
}

async fn tokio_websockets_echo(io: Io) {
    use tokio_websockets::{Limits, ServerBuilder};
    let mut ws = ServerBuilder::new()
        .limits(Limits::default().max_payload_len(Some(MAX_MESSAGE)))
        .serve(io);
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

async fn yawc_echo(io: Io) {
    use yawc::frame::OpCode;
    use yawc::{Options, Role, WebSocket};
    let options = Options::default()
        .with_max_payload_read(MAX_MESSAGE)
        .with_max_read_buffer(MAX_MESSAGE)
        .with_utf8();
    let Ok(mut ws) = WebSocket::from_stream(io, Role::Server, options) else {
        return;
    };
    // The answer to a close is queued inside the stream's reads: read on
    // until the stream ends so that it goes out.
    while let Some(frame) = ws.next().await {
        let data = matches!(frame.opcode(), OpCode::Text | OpCode::Binary);
        if data && ws.send(frame).await.is_err() {
            return;
        }
    }
}

async fn sockudo_echo(io: Io) {
    use sockudo_ws::{Config, Message, WebSocketStream};
    let config = Config::builder()
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .build();
    let mut ws = WebSocketStream::server(io, config);
    while let Some(Ok(message)) = ws.next().await {
        let echo = match message {
            Message::Text(_) | Message::Binary(_) => message,
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if ws.send(echo).await.is_err() {
            return;
        }
    }
}
