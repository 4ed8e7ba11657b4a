//! The conformance server: behaves like the Node reference below, so the
//! public socket.io-protocol test suite and our interop suites can run
//! against it. Listens on 127.0.0.1:3000 (env `PORT` overrides).
//!
//! ```js
//! io.on("connection", (socket) => {
//!   socket.emit("auth", socket.handshake.auth);
//!   socket.on("message", (...args) => socket.emit("message-back", ...args));
//!   socket.on("message-with-ack", (...args) => { const ack = args.pop(); ack(...args); });
//!   socket.on("join", (room, ack) => { socket.join(room); ack && ack("joined"); });
//!   socket.on("leave", (room, ack) => { socket.leave(room); ack && ack("left"); });
//!   socket.on("to-room", (room, ...args) => socket.to(room).emit("room-message", ...args));
//!   socket.on("broadcast", (...args) => io.emit("broadcast-message", ...args));
//! });
//! io.of("/custom").on("connection", (socket) => { socket.emit("auth", socket.handshake.auth); });
//! ```
//!
//! Plus additive events used only by the interop suites: `server-ack`,
//! `collect-acks`, `disconnect-me`, `watch-disconnects` (see
//! `tests/interop/reference/server.mjs` for their Node equivalent), and the
//! cluster contract of `wirehub_server::conformance::cluster_contract`.
//!
//! Clustering: env `WIREHUB_ADAPTER` (`memory`, the default;
//! `redis://HOST:PORT`, `redis-sharded://HOST:PORT`,
//! `redis-streams://HOST:PORT`, `nats://HOST:PORT`)
//! and `WIREHUB_ADAPTER_KEY` (default `socket.io`), as `wirehub serve`;
//! `WIREHUB_ADVERTISE` (default `http://127.0.0.1:$PORT`) is where the
//! other nodes forward requests for this node's sessions.
//!
//! Parser: env `WIREHUB_PARSER` (`json`, the default; `msgpack` for
//! clients using socket.io-msgpack-parser, as the reference's
//! `new Server({ parser })`), as `wirehub serve --parser`.
//!
//! Engine.IO v3 / Socket.IO v2 clients (socket.io-client 2.x) are refused,
//! as in the reference; env `WIREHUB_ALLOW_EIO3=1` serves them (the
//! reference's `allowEIO3: true`), as `wirehub serve --allow-eio3`.
//!
//! Connection-state recovery is off, as in the reference; env
//! `WIREHUB_RECOVERY_MS=N` turns it on with the reference's
//! `connectionStateRecovery: { maxDisconnectionDuration: N,
//! skipMiddlewares: true }`, so outside checkers can test it.
//!
//! JWT: env `WIREHUB_JWT_SECRET` requires an HS256 token in every
//! namespace CONNECT's `auth: { token }` (the interop suite's
//! `jwt.test.mjs`).
//! TLS: env `CONFORMANCE_TLS_DIR=DIR` makes a CA of its own and a
//! certificate it signed for `localhost` and `127.0.0.1` (with rcgen, as the
//! Rust tests do), writes them into DIR (`ca.pem`, `cert.pem`, `key.pem`)
//! and serves HTTPS/WSS, logging `listening on https://...`, so the
//! interop suite's client can trust `ca.pem`.
//!
//! SIGTERM or SIGINT drains it as `wirehub serve` does (every client sees
//! its transport close) and it exits 0.

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/common/certs.rs"]
mod certs;

use std::path::Path;
use std::time::Duration;
use wirehub_server::auth::JwtVerifier;
use wirehub_server::proto::socketio::Parser;
use wirehub_server::tls::{TlsConfig, TlsListener};
use wirehub_server::{conformance, CorsOrigins, SocketIo};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let adapter = wirehub::adapters::from_env()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let advertise =
        std::env::var("WIREHUB_ADVERTISE").unwrap_or_else(|_| format!("http://127.0.0.1:{port}"));
    let mut builder = SocketIo::builder().adapter(adapter.factory.clone());
    match adapter.directory(&advertise).await {
        Ok(Some(directory)) => builder = builder.session_locator(directory),
        Ok(None) => {}
        Err(e) => eprintln!("cluster engine unreachable ({e}); requests for other nodes' sessions are not forwarded"),
    }
    let recovery_ms: u64 = std::env::var("WIREHUB_RECOVERY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    let parser: Parser = match std::env::var("WIREHUB_PARSER") {
        Ok(name) => name
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        Err(_) => Parser::Json,
    };
    let tls = match std::env::var_os("CONFORMANCE_TLS_DIR") {
        Some(dir) => Some(test_certificate(Path::new(&dir))?),
        None => None,
    };
    let allow_eio3 = std::env::var("WIREHUB_ALLOW_EIO3").is_ok_and(|v| v == "1" || v == "true");
    if let Ok(secret) = std::env::var("WIREHUB_JWT_SECRET") {
        builder = builder.jwt(JwtVerifier::hs256(secret));
    }
    let (service, io) = builder
        .parser(parser)
        .allow_eio3(allow_eio3)
        .recovery_window(Duration::from_millis(recovery_ms))
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000)
        .connect_timeout(Duration::from_millis(1000))
        .cors(CorsOrigins::Any)
        .build_service();
    conformance::register(&io, true);
    io.ready().await;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    // The bound port (PORT=0 picks a free one): scripts read it from this line.
    let port = listener.local_addr()?.port();
    let drained = io.connections().drained();
    let server = match tls {
        Some(tls) => {
            eprintln!("conformance server listening on https://127.0.0.1:{port}");
            let listener = TlsListener::new(listener, tls);
            tokio::spawn(wirehub_server::serve(listener, service, drained))
        }
        None => {
            eprintln!("conformance server listening on http://127.0.0.1:{port}");
            tokio::spawn(wirehub_server::serve(listener, service, drained))
        }
    };
    signal().await;
    let grace = Duration::from_secs(10);
    if let Err(e) = io.shutdown(grace).await {
        eprintln!("conformance server: {e}");
    }
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(served)) => served,
        Ok(Err(e)) => Err(std::io::Error::other(e)),
        Err(_) => Ok(()),
    }
}

/// A fresh test CA and server certificate, written into `dir`, loaded.
fn test_certificate(dir: &Path) -> std::io::Result<TlsConfig> {
    let pki = certs::TestPki::new("wirehub interop CA").map_err(std::io::Error::other)?;
    let (cert, key) = pki.write(dir)?;
    TlsConfig::from_pem_files(cert, key).map_err(std::io::Error::other)
}

/// SIGTERM or SIGINT.
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
