//! A tiny HTTP/1.1 client (one request per connection) and a long-polling
//! Engine.IO session on top of it.

use super::{connect_packet, parse_connect_ok, parse_open, within, POLLING};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body {:?} is not JSON: {e}", self.text()))
    }

    /// Asserts an Engine.IO error response: `status` and `{"code":..,"message":..}`.
    pub fn assert_error(&self, status: u16, code: u8, message: &str) {
        assert_eq!(self.status, status, "status of {:?}", self.text());
        assert_eq!(self.json(), json!({ "code": code, "message": message }));
    }
}

/// The bytes of a request head; `Connection: close` unless `headers` set it.
pub fn request_head(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
    {
        head.push_str("Connection: close\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(len) = content_length {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// One request on a fresh connection; the body is sent whenever the
/// method is not GET/OPTIONS or the body is not empty.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let what = format!("the response to {method} {target}");
    within(&what, async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let with_body = !body.is_empty() || !matches!(method, "GET" | "OPTIONS");
        let head = request_head(method, target, headers, with_body.then_some(body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).await.expect("write request");
        read_response(&mut stream).await
    })
    .await
}

/// Reads one response: status line, headers, and a body delimited by
/// `Content-Length`, chunked encoding, or the end of the connection.
pub async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> HttpResponse {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = read_more(stream, &mut buf).await;
        assert!(n > 0, "connection closed before the response head");
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut resp = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    let mut rest = buf.split_off(head_end + 4);
    if status < 200 || status == 204 || status == 304 {
        return resp;
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        resp.body = read_chunked(stream, rest).await;
    } else if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().expect("numeric Content-Length");
        while rest.len() < len {
            let n = read_more(stream, &mut rest).await;
            assert!(n > 0, "connection closed inside the body");
        }
        rest.truncate(len);
        resp.body = rest;
    } else {
        while read_more(stream, &mut rest).await > 0 {}
        resp.body = rest;
    }
    resp
}

async fn read_chunked(stream: &mut (impl AsyncRead + Unpin), mut buf: Vec<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = loop {
            if let Some(i) = find(&buf[pos..], b"\r\n") {
                break pos + i;
            }
            assert!(read_more(stream, &mut buf).await > 0, "eof in chunk size");
        };
        let size_text = String::from_utf8_lossy(&buf[pos..line_end]).into_owned();
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).expect("hex chunk size");
        pos = line_end + 2;
        if size == 0 {
            return body;
        }
        while buf.len() < pos + size + 2 {
            assert!(read_more(stream, &mut buf).await > 0, "eof in chunk");
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

/// Reads more bytes into `buf`; a reset counts as the end of the stream.
async fn read_more(stream: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> usize {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.unwrap_or(0);
    buf.extend_from_slice(&chunk[..n]);
    n
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// Long-polling.

/// A long-polling Engine.IO session.
#[derive(Debug, Clone)]
pub struct Polling {
    pub addr: SocketAddr,
    pub sid: String,
    /// The open packet's JSON.
    pub open: Value,
}

impl Polling {
    /// Performs the handshake.
    pub async fn open(addr: SocketAddr) -> Polling {
        let resp = http(addr, "GET", POLLING, &[], b"").await;
        assert_eq!(resp.status, 200, "handshake: {}", resp.text());
        let open = parse_open(&resp.text());
        let sid = open["sid"].as_str().expect("sid").to_owned();
        Polling { addr, sid, open }
    }

    /// The session's polling URL.
    pub fn target(&self) -> String {
        format!("{POLLING}&sid={}", self.sid)
    }

    /// One GET (waits for data, at most [`WAIT`]).
    pub async fn get(&self) -> HttpResponse {
        http(self.addr, "GET", &self.target(), &[], b"").await
    }

    /// One GET that must succeed; the packets of its payload.
    pub async fn poll(&self) -> Vec<String> {
        let resp = self.get().await;
        assert_eq!(resp.status, 200, "poll: {}", resp.text());
        resp.text().split('\u{1e}').map(str::to_owned).collect()
    }

    /// One POST with `body`.
    pub async fn post(&self, body: &[u8]) -> HttpResponse {
        http(self.addr, "POST", &self.target(), &[], body).await
    }

    /// A POST that must be accepted (`200 ok`).
    pub async fn send(&self, payload: &str) {
        let resp = self.post(payload.as_bytes()).await;
        assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
    }

    /// Connects to namespace `ns` (optionally with an auth JSON object);
    /// returns the socket id.
    pub async fn connect_ns(&self, ns: &str, auth: Option<&str>) -> String {
        self.send(&connect_packet(ns, auth)).await;
        let packets = self.poll().await;
        assert_eq!(packets.len(), 1, "{packets:?}");
        parse_connect_ok(ns, &packets[0])
    }

    /// The session is closed: GETs end with a close (or noop) packet, then
    /// the sid is unknown.
    pub async fn assert_gone(&self) {
        for _ in 0..3 {
            let resp = self.get().await;
            if resp.status == 400 {
                resp.assert_error(400, 1, "Session ID unknown");
                return;
            }
            assert_eq!(resp.status, 200, "{}", resp.text());
            let body = resp.text();
            let last = body.rsplit('\u{1e}').next().unwrap_or("");
            assert!(last == "1" || last == "6", "session still open: {body:?}");
        }
        panic!("session {} still known after its close", self.sid);
    }
}
