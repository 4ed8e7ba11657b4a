//! Our server, in-process on its own runtime (so that `kill` drops every
//! connection at once), serving the interop contract of
//! `tests/interop/reference/server.mjs` plus a few extensions.

use super::ports;
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_server::io::{AckSender, ConnectError, Data, SocketRef};
use wirehub_server::{conformance, CorsOrigins, SocketIo};

/// A running server; killed on drop.
pub(crate) struct OurServer {
    pub(crate) port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl OurServer {
    pub(crate) fn start() -> Self {
        Self::start_on(ports::bind())
    }

    /// Starts on the port of a test that restarts its server.
    pub(crate) fn start_fixed(port: ports::Fixed) -> Self {
        Self::start_on(ports::rebind(port.port()))
    }

    fn start_on(listener: std::net::TcpListener) -> Self {
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let (service, io) = SocketIo::builder()
                .ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200))
                .connect_timeout(Duration::from_millis(1000))
                .cors(CorsOrigins::Any)
                .build_service();
            register(&io);
            let _ = wirehub_server::serve(listener, service, std::future::pending()).await;
        });
        OurServer {
            port,
            runtime: Some(runtime),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drops the server and every connection, as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Starts again on the same port.
    pub(crate) fn restart(&mut self) {
        self.kill();
        *self = Self::start_on(ports::rebind(self.port));
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn register(io: &SocketIo) {
    let server = io.clone();
    io.ns("/", move |socket: SocketRef, Data(auth): Data<Value>| {
        let io = server.clone();
        async move {
            let _ = socket.emit("auth", &auth);
            conformance::contract(&socket, io);
            extensions(&socket);
        }
    });
    io.ns(
        "/custom",
        |socket: SocketRef, Data(auth): Data<Value>| async move {
            let _ = socket.emit("auth", &auth);
        },
    );
    io.ns("/guarded", |socket: SocketRef| async move {
        let _ = socket.emit("welcome", "in");
    })
    .use_middleware(|Data(auth): Data<Value>| async move {
        if auth["token"] == "secret" {
            Ok(())
        } else {
            Err(ConnectError::new("not authorized").with_data(json!({ "need": "token" })))
        }
    });
}

fn extensions(socket: &SocketRef) {
    conformance::interop_extensions(socket);
    // Ours only: what the handshake carried.
    socket.on("whoami", |s: SocketRef, ack: AckSender| async move {
        let parts = s.handshake();
        let header = parts
            .headers
            .get("x-test")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let query = parts.uri.query().unwrap_or_default().to_owned();
        let _ = ack.send(&json!({ "header": header, "query": query }));
    });
}
