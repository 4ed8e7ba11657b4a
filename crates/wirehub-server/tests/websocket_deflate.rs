//! permessage-deflate (RFC 7692) over real sockets, with a raw client that
//! sees each frame's RSV1 bit: negotiated on Engine.IO and `/ws` only when
//! the config allows it and the client offers it; messages from the
//! threshold on are compressed, smaller ones and `compress(false)` emits
//! are not; compressed client messages are inflated; a compressed bomb
//! closes only its connection (with 1009 on `/ws`; Engine.IO drops it, as
//! it drops any message over the limit); without the setting, RSV1 is
//! still a protocol error. The official clients are in
//! `tests/deflate.rs` at the workspace root.

mod common;

use common::plain::start_plain;
use common::{start_with, within};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirehub_server::io::{Data, SocketRef};
use wirehub_server::proto::websocket::deflate::{compress, inflate};
use wirehub_server::SocketIo;

const OFFER: &str = "permessage-deflate; client_max_window_bits";
const AGREED: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// A WebSocket client that shows frames as they are on the wire.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The answer's `Sec-WebSocket-Extensions`, if any.
    extensions: Option<String>,
}

/// One server frame: opcode, RSV1, payload as sent.
#[derive(Debug)]
struct WireFrame {
    opcode: u8,
    rsv1: bool,
    payload: Vec<u8>,
}

impl WireFrame {
    /// The message's text, inflated if compressed.
    fn text(&self) -> String {
        let data = if self.rsv1 {
            inflate(&self.payload, 1 << 24).expect("inflate")
        } else {
            self.payload.clone()
        };
        String::from_utf8(data).expect("utf-8")
    }

    fn close_code(&self) -> Option<u16> {
        (self.opcode == 0x8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

impl Raw {
    async fn open(addr: SocketAddr, target: &str, offer: Option<&str>) -> Raw {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut req = format!(
            "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        );
        if let Some(offer) = offer {
            req.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
            extensions: None,
        };
        let end = loop {
            if let Some(i) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            raw.fill().await;
        };
        let head = String::from_utf8(raw.buf.drain(..end).collect()).expect("head");
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        raw.extensions = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_owned())
        });
        raw
    }

    async fn fill(&mut self) {
        assert!(self.try_fill().await, "the server closed the stream");
    }

    /// Reads more; `false` at the end of the stream.
    async fn try_fill(&mut self) -> bool {
        let mut chunk = [0; 65536];
        let n = within("bytes from the server", self.stream.read(&mut chunk))
            .await
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// Reads until the connection ends: the close frame's code, if any
    /// (`Some(0)` for a close frame without one).
    async fn ended(&mut self) -> Option<u16> {
        loop {
            while let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                if frame.opcode == 0x8 {
                    return Some(frame.close_code().unwrap_or(0));
                }
            }
            if !self.try_fill().await {
                return None;
            }
        }
    }

    /// Sends one masked frame (RSV1 set when `compressed`).
    async fn send(&mut self, opcode: u8, payload: &[u8], compressed: bool) {
        let mask = [1, 2, 3, 4];
        let mut frame = vec![0x80 | opcode | if compressed { 0x40 } else { 0 }];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.expect("write frame");
    }

    /// Sends a text message compressed.
    async fn send_compressed(&mut self, text: &str) {
        let packed = compress(text.as_bytes()).expect("compressible");
        self.send(0x1, &packed, true).await;
    }

    async fn next(&mut self) -> WireFrame {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return frame;
            }
            self.fill().await;
        }
    }

    /// The next data frame, skipping pings.
    async fn next_data(&mut self) -> WireFrame {
        loop {
            let frame = self.next().await;
            if frame.opcode != 0x9 {
                return frame;
            }
        }
    }
}

/// An unmasked server frame at the front of `buf`, and its length.
fn parse(buf: &[u8]) -> Option<(WireFrame, usize)> {
    let [b0, b1, ..] = *buf else { return None };
    assert_eq!(b1 & 0x80, 0, "server frames are not masked");
    let (len, at) = match b1 & 0x7f {
        126 => (u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize, 4),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let payload = buf.get(at..at + len)?.to_vec();
    assert_eq!(b0 & 0x30, 0, "RSV2/RSV3 never set");
    let frame = WireFrame {
        opcode: b0 & 0x0f,
        rsv1: b0 & 0x40 != 0,
        payload,
    };
    Some((frame, at + len))
}

const EIO: &str = "/socket.io/?EIO=4&transport=websocket";

/// Chat-like text of `len` bytes.
fn chat(len: usize) -> String {
    "ada: hello, world! ".chars().cycle().take(len).collect()
}

/// A Socket.IO server whose `/` answers `big` with `big-back` twice: once
/// as usual, once with `compress(false)`.
async fn deflate_server(builder: wirehub_server::SocketIoBuilder) -> common::TestServer {
    start_with(builder, |io, _| {
        io.ns("/", |s: SocketRef| async move {
            s.on("big", |s: SocketRef, Data(data): Data<Value>| async move {
                let _ = s.emit("big-back", &data);
                let _ = s.compress(false).emit("big-back", &data);
            });
        });
    })
    .await
}

/// Opens an Engine.IO WebSocket and connects to `/`.
async fn socketio(addr: SocketAddr, offer: Option<&str>) -> Raw {
    let mut ws = Raw::open(addr, EIO, offer).await;
    let open = ws.next_data().await;
    assert!(!open.rsv1, "a short open packet is not compressed");
    assert!(open.text().starts_with("0{"), "{}", open.text());
    ws.send(0x1, b"40", false).await;
    let connected = ws.next_data().await;
    assert!(connected.text().starts_with("40{"), "{}", connected.text());
    ws
}

#[tokio::test]
async fn engineio_compresses_from_the_threshold_and_honours_compress_false() {
    let server = deflate_server(
        SocketIo::builder()
            .ws_deflate(true)
            .ws_deflate_threshold(200),
    )
    .await;
    let mut ws = socketio(server.addr, Some(OFFER)).await;
    assert_eq!(ws.extensions.as_deref(), Some(AGREED));
    let text = chat(3000);
    // The client compresses too; the server inflates.
    ws.send_compressed(&format!("42[\"big\",\"{text}\"]")).await;
    let want = format!("42[\"big-back\",\"{text}\"]");
    let first = ws.next_data().await;
    assert!(first.rsv1, "a 3 KB message is compressed");
    assert!(first.payload.len() < 500, "{} bytes", first.payload.len());
    assert_eq!(first.text(), want);
    let second = ws.next_data().await;
    assert!(!second.rsv1, "compress(false) is sent as it is");
    assert_eq!(second.text(), want);
    // Under the threshold: sent as it is; uncompressed client messages still work.
    ws.send(0x1, b"42[\"big\",\"short\"]", false).await;
    for _ in 0..2 {
        let frame = ws.next_data().await;
        assert!(!frame.rsv1);
        assert_eq!(frame.text(), "42[\"big-back\",\"short\"]");
    }
}

#[tokio::test]
async fn no_deflate_unless_the_config_allows_and_the_client_offers_it() {
    let off = deflate_server(SocketIo::builder()).await;
    let mut ws = socketio(off.addr, Some(OFFER)).await;
    assert_eq!(ws.extensions, None);
    let text = chat(3000);
    ws.send(0x1, format!("42[\"big\",\"{text}\"]").as_bytes(), false)
        .await;
    assert!(!ws.next_data().await.rsv1);
    // RSV1 is still a protocol error: the connection ends.
    ws.send_compressed(&format!("42[\"big\",\"{text}\"]")).await;
    ws.ended().await;
    let mut other = Raw::open(off.addr, EIO, None).await;
    assert!(
        other.next_data().await.text().starts_with("0{"),
        "the server still serves"
    );

    let on = deflate_server(SocketIo::builder().ws_deflate(true)).await;
    let mut ws = socketio(on.addr, None).await;
    assert_eq!(ws.extensions, None, "not offered: not agreed");
    ws.send(0x1, format!("42[\"big\",\"{text}\"]").as_bytes(), false)
        .await;
    assert!(!ws.next_data().await.rsv1);
    // An offer the server cannot honour (a 1 KiB window for its messages).
    let ws = Raw::open(
        on.addr,
        EIO,
        Some("permessage-deflate; server_max_window_bits=10"),
    )
    .await;
    assert_eq!(ws.extensions, None);
}

#[tokio::test]
async fn a_compressed_bomb_closes_only_its_connection_with_1009() {
    let builder = SocketIo::builder().ws_deflate(true).max_payload(100_000);
    let server = deflate_server(builder).await;
    let mut bystander = socketio(server.addr, Some(OFFER)).await;
    let mut bomber = socketio(server.addr, Some(OFFER)).await;
    // 10 MB that compress to about 10 KB: under the limit on the wire.
    let bomb = format!("4{}", "a".repeat(10_000_000));
    let packed = compress(bomb.as_bytes()).expect("compressible");
    assert!(packed.len() < 100_000);
    bomber.send(0x1, &packed, true).await;
    assert_eq!(bomber.ended().await, None, "Engine.IO drops it");
    let text = chat(2000);
    bystander
        .send_compressed(&format!("42[\"big\",\"{text}\"]"))
        .await;
    assert_eq!(
        bystander.next_data().await.text(),
        format!("42[\"big-back\",\"{text}\"]")
    );
}

#[tokio::test]
async fn plain_ws_compresses_both_ways() {
    let server = start_plain(
        SocketIo::builder()
            .ws_deflate(true)
            .ws_deflate_threshold(100),
    )
    .await;
    let mut reader = Raw::open(server.addr, "/ws?ns=/", Some(OFFER)).await;
    assert_eq!(reader.extensions.as_deref(), Some(AGREED));
    reader.next_data().await;
    reader
        .send(0x1, br#"{"type":"join","room":"r","id":1}"#, false)
        .await;
    loop {
        let env: Value = serde_json::from_str(&reader.next_data().await.text()).expect("json");
        if env["type"] == "ack" {
            break;
        }
    }
    // A publisher is not sent its own event: another client publishes.
    let mut writer = Raw::open(server.addr, "/ws?ns=/", Some(OFFER)).await;
    writer.next_data().await;
    let text = chat(5000);
    writer
        .send_compressed(&format!(
            r#"{{"type":"emit","room":"r","event":"e","data":"{text}","id":2}}"#
        ))
        .await;
    loop {
        let frame = reader.next_data().await;
        let env: Value = serde_json::from_str(&frame.text()).expect("json");
        if env["type"] == "event" && env["event"] == "e" {
            assert!(frame.rsv1, "a 5 KB event is compressed");
            assert_eq!(env["data"], text.as_str());
            break;
        }
    }
}

#[tokio::test]
async fn plain_ws_closes_a_compressed_bomb_with_1009() {
    let builder = SocketIo::builder().ws_deflate(true).max_payload(100_000);
    let server = start_plain(builder).await;
    let mut ws = Raw::open(server.addr, "/ws?ns=/", Some(OFFER)).await;
    ws.next_data().await;
    let bomb = format!(
        r#"{{"type":"emit","room":"r","event":"e","data":"{}"}}"#,
        "a".repeat(10_000_000)
    );
    ws.send(0x1, &compress(bomb.as_bytes()).expect("compressible"), true)
        .await;
    assert_eq!(ws.ended().await, Some(1009));
}
