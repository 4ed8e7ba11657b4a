//! A scripted Engine.IO server over WebSocket for what real servers do not
//! do on demand: it opens sessions (short heartbeat), accepts every
//! namespace, and never pings — so the client must notice the silence.

use super::ports;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// A silent server; stops on drop.
pub(crate) struct SilentServer {
    pub(crate) port: u16,
    /// Sessions opened so far.
    pub(crate) sessions: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl SilentServer {
    /// Starts; announces `pingInterval` 100 ms and `pingTimeout` 100 ms.
    pub(crate) async fn start() -> Self {
        let listener = ports::bind();
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let sessions = Arc::new(AtomicUsize::new(0));
        let count = sessions.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let n = count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(session(tcp, n));
            }
        });
        SilentServer {
            port,
            sessions,
            task,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(tcp: tokio::net::TcpStream, n: usize) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let open = format!(
        r#"0{{"sid":"s{n}","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}}"#
    );
    if ws.send(Message::text(open)).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            // `40` or `40/ns,` (with or without auth): accept it.
            if let Some(rest) = text.strip_prefix("40") {
                let ns = rest
                    .split_once(',')
                    .map(|(ns, _)| ns)
                    .filter(|ns| ns.starts_with('/'));
                let prefix = ns.map(|ns| format!("{ns},")).unwrap_or_default();
                let reply = format!(r#"40{prefix}{{"sid":"x{n}"}}"#);
                if ws.send(Message::text(reply)).await.is_err() {
                    return;
                }
            }
        }
    }
}
