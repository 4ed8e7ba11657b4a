//! A minimal HTTP/1.1 keep-alive client for Engine.IO long-polling: one
//! request at a time per connection, `Content-Length` or chunked bodies.

use crate::ws::Target;
use crate::Result;
use bytes::{Buf, Bytes, BytesMut};
use std::rc::Rc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection (reopened when the server closes it).
pub(crate) struct HttpConn {
    target: Rc<Target>,
    host: String,
    stream: Option<TcpStream>,
    buf: BytesMut,
    /// Whether any byte of the current answer arrived.
    answered: bool,
}

/// A response: status code and body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

impl HttpConn {
    pub(crate) fn new(target: Rc<Target>) -> Self {
        let host = target.authority();
        HttpConn {
            target,
            host,
            stream: None,
            buf: BytesMut::with_capacity(4096),
            answered: false,
        }
    }

    /// Sends one request and reads its response.
    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Response> {
        // A kept-alive connection may have been closed by the server while
        // idle (Node closes them after 5 s): when a reused connection fails
        // before any byte of the answer, send the request once more on a new
        // connection, as HTTP clients do.
        let reused = self.stream.is_some();
        match self.request_once(method, path, body).await {
            Err(_) if reused && self.stream.is_none() && !self.answered => {
                self.request_once(method, path, body).await
            }
            other => other,
        }
    }

    async fn request_once(&mut self, method: &str, path: &str, body: &[u8]) -> Result<Response> {
        self.answered = false;
        if self.stream.is_none() {
            self.stream = Some(self.target.tcp().await?);
            self.buf.clear();
        }
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\n",
            self.host
        );
        if method == "POST" {
            head.push_str("Content-Type: text/plain;charset=UTF-8\r\n");
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let result = self.exchange(head.as_bytes(), body).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, head: &[u8], body: &[u8]) -> Result<Response> {
        let stream = self.stream.as_mut().ok_or("no connection")?;
        if body.is_empty() {
            stream.write_all(head).await?;
        } else {
            let mut out = Vec::with_capacity(head.len() + body.len());
            out.extend_from_slice(head);
            out.extend_from_slice(body);
            stream.write_all(&out).await?;
        }
        // Head.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            fill(stream, &mut self.buf).await?;
            self.answered = true;
        };
        self.answered = true;
        let head = std::str::from_utf8(&self.buf[..head_end])?.to_owned();
        self.buf.advance(head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().ok_or("empty response")?;
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line: {status_line}"))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>()?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        // Body.
        let body = if chunked {
            let mut body = BytesMut::new();
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break i;
                    }
                    fill(stream, &mut self.buf).await?;
                };
                let size_text = std::str::from_utf8(&self.buf[..line_end])?;
                let size_text = size_text.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16)?;
                self.buf.advance(line_end + 2);
                while self.buf.len() < size + 2 {
                    fill(stream, &mut self.buf).await?;
                }
                body.extend_from_slice(&self.buf[..size]);
                self.buf.advance(size + 2);
                if size == 0 {
                    break; // (no trailers expected)
                }
            }
            body.freeze()
        } else if let Some(n) = length {
            while self.buf.len() < n {
                fill(stream, &mut self.buf).await?;
            }
            self.buf.split_to(n).freeze()
        } else {
            // Body until close.
            loop {
                match stream.read_buf(&mut self.buf).await {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            close = true;
            self.buf.split().freeze()
        };
        if close {
            self.stream = None;
        }
        Ok(Response { status, body })
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<()> {
    buf.reserve(4096);
    if stream.read_buf(buf).await? == 0 {
        return Err("connection closed by the server".into());
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
