//! The WebSocket layer (our RFC 6455 framing): a peer's close frame is
//! answered with one (section 5.5.1) on every WebSocket endpoint (Engine.IO,
//! plain `/ws`, and the bare echo that the Autobahn suite runs against);
//! pings are answered with their payload, fragmented messages put together;
//! the echo fails text that is not UTF-8 with 1007, an oversized message
//! with 1009, and a frame that breaks the protocol with 1002, each closing
//! only that connection.

mod common;

use bytes::Bytes;
use common::plain::start_plain;
use common::{start_default, within, PanicCheck};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};
use wirehub_server::websocket_echo::WebSocketEcho;
use wirehub_server::SocketIo;

type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str) -> Client {
    within("the WebSocket handshake", connect_async(url))
        .await
        .expect("handshake")
        .0
}

/// The close frame that ends the stream, skipping data messages before it;
/// `None` if the stream ended without one.
async fn close_frame(ws: &mut Client) -> Option<CloseFrame> {
    loop {
        match within("the next frame", ws.next()).await {
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// Sends a normal close and expects the same code back.
async fn assert_close_is_answered(url: &str) {
    let mut ws = open(url).await;
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    })))
    .await
    .expect("send close");
    let reply = close_frame(&mut ws).await;
    assert_eq!(
        reply.map(|f| f.code),
        Some(CloseCode::Normal),
        "{url}: the server must answer a close frame with one"
    );
}

/// A bare echo on the WebSocket layer; fails the test when dropped if one
/// of its tasks panicked.
struct Echo {
    addr: SocketAddr,
    _panics: PanicCheck,
}

impl Echo {
    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

async fn start_echo(max_message: usize) -> Echo {
    let panics = PanicCheck::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let echo = WebSocketEcho::new(max_message);
    tokio::spawn(wirehub_server::serve(
        listener,
        echo,
        std::future::pending(),
    ));
    Echo {
        addr,
        _panics: panics,
    }
}

#[tokio::test]
async fn engineio_answers_the_peers_close() {
    let server = start_default().await;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    assert_close_is_answered(&url).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn plain_ws_answers_the_peers_close() {
    let server = start_plain(SocketIo::builder()).await;
    assert_close_is_answered(&format!("ws://{}/ws?ns=/", server.addr)).await;
}

#[tokio::test]
async fn echo_sends_messages_back_and_answers_the_close() {
    let echo = start_echo(1 << 20).await;
    let url = echo.url();
    let mut ws = open(&url).await;
    let big = vec![7u8; 100_000];
    for msg in [
        Message::text("héllo"),
        Message::binary(Bytes::from_static(&[0, 1, 2, 255])),
        Message::binary(big),
        Message::text(""),
    ] {
        ws.send(msg.clone()).await.expect("send");
        let back = within("the echo", ws.next()).await;
        assert_eq!(back.expect("a message").expect("no error"), msg);
    }
    drop(ws);
    assert_close_is_answered(&url).await;
}

#[tokio::test]
async fn pings_are_answered_and_fragments_put_together() {
    let echo = start_echo(1 << 20).await;
    let mut ws = open(&echo.url()).await;
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .expect("send");
    let pong = within("the pong", ws.next()).await;
    assert_eq!(
        pong.expect("a frame").expect("no error"),
        Message::Pong(Bytes::from_static(b"are you there"))
    );
    let parts = [
        Frame::message(Bytes::from_static(b"frag"), OpCode::Data(Data::Text), false),
        Frame::message(
            Bytes::from_static(b"men"),
            OpCode::Data(Data::Continue),
            false,
        ),
        Frame::message(
            Bytes::from_static(b"ted"),
            OpCode::Data(Data::Continue),
            true,
        ),
    ];
    for part in parts {
        ws.send(Message::Frame(part)).await.expect("send");
    }
    let back = within("the echo", ws.next()).await;
    assert_eq!(
        back.expect("a message").expect("no error"),
        Message::text("fragmented")
    );
}

#[tokio::test]
async fn a_frame_that_breaks_the_protocol_is_failed_with_1002() {
    let echo = start_echo(1 << 20).await;
    let url = echo.url();
    let mut ws = open(&url).await;
    // A continuation with no message to continue.
    let stray = Frame::message(Bytes::from_static(b"x"), OpCode::Data(Data::Continue), true);
    ws.send(Message::Frame(stray)).await.expect("send");
    let close = close_frame(&mut ws).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Protocol);
    let mut other = open(&url).await;
    other.send(Message::text("fine")).await.expect("send");
    let back = within("the echo", other.next()).await;
    assert_eq!(
        back.expect("a message").expect("no error"),
        Message::text("fine")
    );
}

#[tokio::test]
async fn echo_fails_text_that_is_not_utf8_with_1007() {
    let echo = start_echo(1 << 20).await;
    let mut ws = open(&echo.url()).await;
    let bad = Frame::message(
        Bytes::from_static(&[b'a', 0xff, 0xfe]),
        OpCode::Data(Data::Text),
        true,
    );
    ws.send(Message::Frame(bad)).await.expect("send");
    let close = close_frame(&mut ws).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Invalid);
}

#[tokio::test]
async fn echo_fails_an_oversized_message_with_1009_and_keeps_serving() {
    let echo = start_echo(1024).await;
    let url = echo.url();
    let mut ws = open(&url).await;
    ws.send(Message::binary(vec![1u8; 2048]))
        .await
        .expect("send");
    let close = close_frame(&mut ws).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Size);

    let mut other = open(&url).await;
    other.send(Message::text("still here")).await.expect("send");
    let back = within("the echo", other.next()).await;
    assert_eq!(
        back.expect("a message").expect("no error"),
        Message::text("still here")
    );
}
