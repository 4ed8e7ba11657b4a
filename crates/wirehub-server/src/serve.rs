//! A ready accept loop over any [`Listener`]: HTTP/1.1 with upgrades, a
//! header read timeout against slow clients, the peer address in each
//! request, and a graceful end: when `shutdown` completes the loop stops
//! accepting, every connection finishes the request it is serving (idle
//! keep-alive ones close at once), and `serve` returns once they are gone.
//! Upgraded connections (WebSockets) are their drivers' from the upgrade
//! on: the connection registry ([`crate::registry::Connections`]) closes
//! and waits for those.

use crate::listener::Listener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tower_service::Service;

/// The client's address, inserted into every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// Serves `service` on `listener` until `shutdown` completes, then waits
/// for the connections being served to finish (bound it with a timeout).
/// With a [`crate::SocketIo`], pass `io.connections().drained()` and call
/// [`crate::SocketIo::shutdown`] to drain the live connections: the loop
/// then serves the requests of sessions still closing (new handshakes are
/// refused) and stops once every connection is gone.
///
/// The service must always be ready (as every service of this crate is):
/// each request calls a fresh clone.
pub async fn serve<L, S, B>(
    mut listener: L,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    L: Listener,
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // Each connection task holds a receiver: `true` asks it to finish, and
    // the sender's `closed()` says every task is gone.
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (handshake, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = service.clone();
        tokio::spawn(connection(handshake, addr, service, stopped.clone()));
    }
    drop(listener);
    drop(stopped);
    stop.send_replace(true);
    stop.closed().await;
    Ok(())
}

/// Serves one connection until it ends, or finishes it gracefully once
/// `stop` turns true.
async fn connection<H, I, S, B>(
    handshake: H,
    addr: SocketAddr,
    service: S,
    mut stop: watch::Receiver<bool>,
) where
    H: Future<Output = std::io::Result<I>>,
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = tokio::select! {
        io = handshake => match io {
            Ok(io) => io,
            Err(e) => {
                tracing::debug!(error = %e, %addr, "connection handshake failed");
                return;
            }
        },
        () = stopping(&mut stop) => return,
    };
    let handler = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(RemoteAddr(addr));
        service.clone().call(req)
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(io), handler)
        .with_upgrades();
    tokio::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = stopping(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, %addr, "connection ended with an error");
    }
}

/// Completes once `stop` turns true (or its sender is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
