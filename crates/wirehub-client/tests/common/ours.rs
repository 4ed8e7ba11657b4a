//! Our server, in-process on its own runtime (so that `kill` drops every
//! connection at once), serving the interop contract of
//! `tests/interop/reference/server.mjs` plus a few extensions. Its runtime's
//! threads carry the instance id in their name: a panic in one of its tasks
//! (the server catches handler panics) fails the test when the server is
//! killed or dropped.

use super::ports;
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_server::io::{AckSender, ConnectError, Data, SocketRef};
use wirehub_server::proto::socketio::Parser;
use wirehub_server::{conformance, CorsOrigins, SocketIo};

/// A running server; killed on drop.
pub(crate) struct OurServer {
    pub(crate) port: u16,
    /// The id this server acknowledges `instance` with (new on restart).
    pub(crate) instance: String,
    runtime: Option<tokio::runtime::Runtime>,
    /// The connection state recovery window, when on.
    recovery: Option<Duration>,
    /// The Socket.IO packet encoding.
    parser: Parser,
}

/// The name of the threads of server `instance`.
fn thread_name(instance: &str) -> String {
    format!("test-server-{instance}")
}

/// A new random instance id.
fn new_instance() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
}

impl OurServer {
    /// Starts on a free port.
    pub(crate) fn start() -> Self {
        Self::start_on(ports::bind(), None, Parser::Json)
    }

    /// Starts on a free port speaking `parser`'s packets, as the Node
    /// reference with `PARSER`.
    pub(crate) fn start_with_parser(parser: Parser) -> Self {
        Self::start_on(ports::bind(), None, parser)
    }

    /// Starts on a free port with connection state recovery on (sessions
    /// kept `window`), as the Node reference with `RECOVERY_MS`.
    pub(crate) fn start_with_recovery(window: Duration) -> Self {
        Self::start_on(ports::bind(), Some(window), Parser::Json)
    }

    fn start_on(
        listener: std::net::TcpListener,
        recovery: Option<Duration>,
        parser: Parser,
    ) -> Self {
        super::install_panic_hook();
        let port = listener.local_addr().expect("addr").port();
        let instance = new_instance();
        let id = instance.clone();
        listener.set_nonblocking(true).expect("nonblocking");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(thread_name(&instance))
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let mut builder = SocketIo::builder()
                .ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200))
                .connect_timeout(Duration::from_millis(1000))
                .cors(CorsOrigins::Any)
                .parser(parser);
            if let Some(window) = recovery {
                builder = builder.recovery_window(window);
            }
            let (service, io) = builder.build_service();
            register(&io, id);
            let _ = wirehub_server::serve(listener, service, std::future::pending()).await;
        });
        OurServer {
            port,
            instance,
            runtime: Some(runtime),
            recovery,
            parser,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drops the server and every connection, as a crash would; fails the
    /// test if one of the server's tasks panicked.
    pub(crate) fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
            let panics = super::panics_on(&thread_name(&self.instance));
            if !std::thread::panicking() {
                assert!(
                    panics.is_empty(),
                    "a task of the test server panicked (it catches handler panics): {panics:?}"
                );
            }
        }
    }

    /// Starts again on the same port, as a new instance.
    pub(crate) fn restart(&mut self) {
        self.kill();
        *self = Self::start_on(ports::rebind(self.port), self.recovery, self.parser);
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn register(io: &SocketIo, instance: String) {
    let server = io.clone();
    io.ns("/", move |socket: SocketRef, Data(auth): Data<Value>| {
        let io = server.clone();
        let instance = instance.clone();
        async move {
            let _ = socket.emit("auth", &auth);
            let cut_io = io.clone();
            conformance::contract(&socket, io);
            extensions(&socket);
            // As the Node reference's `cut-transport`: close the connection
            // under the socket (a recoverable "forced server close"), then
            // emit `missed` 1..count to its room while it is away.
            socket.on(
                "cut-transport",
                move |s: SocketRef, Data(count): Data<u64>| {
                    let io = cut_io.clone();
                    async move {
                        let id = s.id().clone();
                        s.disconnect_with(true);
                        for i in 1..=count {
                            let _ = io.to(&id).emit("missed", &i);
                        }
                    }
                },
            );
            // Which server answers (as the Node reference server's `instance`).
            socket.on("instance", move |ack: AckSender| {
                let instance = instance.clone();
                async move {
                    let _ = ack.send(&instance);
                }
            });
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
