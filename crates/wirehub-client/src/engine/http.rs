//! A minimal HTTP/1.1 client for long-polling: keep-alive connections over
//! [`crate::net`], reused when idle (a poll and a send run side by side, so
//! at most two are open), on hyper's low-level connection API.

use crate::config::Config;
use crate::error::Error;
use crate::net;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};

/// Connections to one server.
#[derive(Debug)]
pub(crate) struct HttpClient {
    config: Arc<Config>,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl HttpClient {
    pub(crate) fn new(config: Arc<Config>) -> Self {
        HttpClient {
            config,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends one request to `target` (path and query); returns status and body.
    pub(crate) async fn request(
        &self,
        method: Method,
        target: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), Error> {
        if let Some(sender) = self.take_idle() {
            match self
                .send(sender, method.clone(), target, body.clone())
                .await
            {
                Ok(answer) => return Ok(answer),
                // A kept-alive connection the server closed meanwhile: retry once.
                Err(e) => tracing::debug!(error = %e, "reused connection failed, reconnecting"),
            }
        }
        let sender = self.open().await?;
        self.send(sender, method, target, body).await
    }

    async fn send(
        &self,
        mut sender: SendRequest<Full<Bytes>>,
        method: Method,
        target: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(target)
            .header(header::HOST, self.config.url.authority())
            .body(Full::new(body))
            .map_err(|e| Error::InvalidOption(e.to_string()))?;
        let headers = request.headers_mut();
        for (name, value) in &self.config.headers {
            headers.append(name, value.clone());
        }
        if request.method() == Method::POST {
            request.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain;charset=UTF-8"),
            );
        }
        sender.ready().await.map_err(transport)?;
        let response = sender.send_request(request).await.map_err(transport)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(transport)?
            .to_bytes();
        self.put_idle(sender);
        Ok((status, body))
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, Error> {
        let stream = net::connect(&self.config.url, &self.config.tls).await?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(transport)?;
        // Ends when the last sender is dropped or the server closes.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < 2 {
            idle.push(sender);
        }
    }
}

fn transport(e: hyper::Error) -> Error {
    Error::Transport(e.to_string())
}

/// Maps a non-200 answer to the engine handshake to an error.
pub(crate) fn status_error(url: String, status: StatusCode, body: &[u8]) -> Error {
    if status == StatusCode::NOT_FOUND {
        return Error::NotFound { url };
    }
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("no reason").to_owned()
    } else {
        message
    };
    Error::Handshake {
        status: status.as_u16(),
        message,
    }
}
