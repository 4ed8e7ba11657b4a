//! Shared helpers of the integration tests: a server on an ephemeral port
//! with an echo namespace, and a raw Engine.IO / Socket.IO test client over
//! WebSocket (tokio-tungstenite) and HTTP long-polling (hand-written HTTP/1.1).
//!
//! `plain` adds a server with every plain transport and their clients.
//!
//! Every wait is bounded by [`WAIT`]; a timeout panics with what was awaited.
//! Every test server fails its test, when dropped, if a task of the test
//! panicked meanwhile ([`PanicCheck`]): the server catches panics of its
//! handlers, so without that check a failed assertion inside a handler (the
//! "disconnected twice" check of [`Reasons`], say) would go unnoticed.
//! [`Probe`] counts the requests a server holds (a long poll, a body still
//! arriving), for tests that must wait until one is held.

// Each test binary uses a subset of these helpers.
#![allow(dead_code, unreachable_pub, unused_imports)]

mod http_client;
pub mod plain;
mod probe;
mod ws_client;

pub use http_client::{http, read_response, request_head, HttpResponse, Polling};
pub use probe::{Probe, Probed};
pub use ws_client::{Msg, WsClient};

use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wirehub_server::io::{AckSender, DisconnectReason, NamespaceRef, RawArgs, SocketRef};
use wirehub_server::{SocketIo, SocketIoBuilder};

/// The longest any single expected thing may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// The Engine.IO path of the handshake, polling transport.
pub const POLLING: &str = "/socket.io/?EIO=4&transport=polling";

/// Awaits `fut` for at most [`WAIT`], panicking with `what` on timeout.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

// ---------------------------------------------------------------- panics

/// Every panic of the process: the name of its thread and its message.
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Records every panic. `#[tokio::test]` runs the server's tasks on the
/// test's own thread (named after the test), so a panic in any server task
/// of a test is attributed to that test.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().unwrap_or("").to_owned();
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            PANICS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((name, message));
            previous(info);
        }));
    });
}

/// The messages of the panics of this test's thread that do not start
/// with one of `allowed`.
fn unexpected_panics(allowed: &[String]) -> Vec<String> {
    let me = std::thread::current().name().unwrap_or("").to_owned();
    PANICS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(thread, message)| {
            *thread == me && !allowed.iter().any(|a| message.starts_with(a.as_str()))
        })
        .map(|(_, message)| message.clone())
        .collect()
}

/// Fails if a task running on this test's thread panicked.
pub fn assert_no_panic() {
    let panics = unexpected_panics(&[]);
    assert!(
        panics.is_empty(),
        "a task of this test panicked (the server catches handler panics): {panics:?}"
    );
}

/// Part of every test server: when dropped at the end of a test that did
/// not fail otherwise, fails it if a task on its thread panicked, other
/// than with a message [`Self::allow`]ed.
#[derive(Default)]
pub struct PanicCheck {
    allowed: Mutex<Vec<String>>,
}

impl PanicCheck {
    pub fn new() -> Self {
        install_panic_hook();
        PanicCheck::default()
    }

    /// Panics whose message starts with `prefix` are expected (a test of
    /// panicking handlers).
    pub fn allow(&self, prefix: &str) {
        self.allowed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(prefix.to_owned());
    }

    /// How many panics of this test's thread had a message starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        let me = std::thread::current().name().unwrap_or("").to_owned();
        PANICS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(thread, message)| *thread == me && message.starts_with(prefix))
            .count()
    }

    /// Fails now if an unexpected panic happened so far.
    pub fn check(&self) {
        let allowed = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
        let panics = unexpected_panics(&allowed);
        assert!(
            panics.is_empty(),
            "a task of this test panicked (the server catches handler panics): {panics:?}"
        );
    }
}

impl Drop for PanicCheck {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check();
        }
    }
}

// ---------------------------------------------------------------- server

/// The disconnect reasons seen by `on_disconnect` handlers, by socket id.
#[derive(Clone, Default)]
pub struct Reasons(Arc<Mutex<HashMap<String, String>>>);

impl Reasons {
    pub fn record(&self, socket_id: &str, reason: DisconnectReason) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let previous = map.insert(socket_id.to_owned(), reason.as_str().to_owned());
        assert!(previous.is_none(), "{socket_id} disconnected twice");
    }

    /// The reason of `socket_id`, if it disconnected.
    pub fn get(&self, socket_id: &str) -> Option<String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(socket_id).cloned()
    }

    /// Waits for `socket_id` to disconnect and returns its reason.
    pub async fn wait(&self, socket_id: &str) -> String {
        within(&format!("the disconnect of {socket_id}"), async {
            loop {
                if let Some(r) = self.get(socket_id) {
                    return r;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
    }
}

/// Registers the echo handlers on a socket: `message` → `message-back`,
/// `message-with-ack` → ack with the same arguments, and records the
/// disconnect reason in `reasons`.
pub fn register_echo(socket: &SocketRef, reasons: Reasons) {
    socket.on(
        "message",
        |s: SocketRef, RawArgs(args): RawArgs| async move {
            let _ = s.emit_raw("message-back", args);
        },
    );
    socket.on(
        "message-with-ack",
        |RawArgs(args): RawArgs, ack: AckSender| async move {
            let _ = ack.send_raw(args);
        },
    );
    socket.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
        let reasons = reasons.clone();
        async move { reasons.record(s.id(), reason) }
    });
}

/// Registers namespace `name` with the echo handlers.
pub fn echo_ns(io: &SocketIo, name: &str, reasons: &Reasons) -> NamespaceRef {
    let reasons = reasons.clone();
    io.ns(name, move |s: SocketRef| {
        let reasons = reasons.clone();
        async move { register_echo(&s, reasons) }
    })
}

/// A server on 127.0.0.1, port 0, stopped when dropped; fails the test
/// then if one of its tasks panicked.
pub struct TestServer {
    pub addr: SocketAddr,
    pub io: SocketIo,
    /// Disconnect reasons of the echo namespaces' sockets.
    pub reasons: Reasons,
    /// The requests the server holds.
    pub probe: Probe,
    pub panics: PanicCheck,
    _stop: oneshot::Sender<()>,
}

/// Starts a server from `builder`, with the echo namespace on `/`.
pub async fn start(builder: SocketIoBuilder) -> TestServer {
    start_with(builder, |io, reasons| {
        echo_ns(io, "/", reasons);
    })
    .await
}

/// Starts a server from `builder` whose namespaces `register` sets up.
pub async fn start_with(
    builder: SocketIoBuilder,
    register: impl FnOnce(&SocketIo, &Reasons),
) -> TestServer {
    let panics = PanicCheck::new();
    let (service, io) = builder.build_service();
    let probe = Probe::default();
    let service = probe.wrap(service);
    let reasons = Reasons::default();
    register(&io, &reasons);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        wirehub_server::serve(listener, service, shutdown)
            .await
            .expect("serve");
    });
    TestServer {
        addr,
        io,
        reasons,
        probe,
        panics,
        _stop: stop,
    }
}

/// Starts a server with the default configuration.
pub async fn start_default() -> TestServer {
    start(SocketIo::builder()).await
}

impl TestServer {
    /// A new WebSocket session (auto-answering pings).
    pub async fn ws(&self) -> WsClient {
        WsClient::open(self.addr).await
    }

    /// A new WebSocket session connected to `/`, and the socket id.
    pub async fn ws_connected(&self) -> (WsClient, String) {
        let mut ws = self.ws().await;
        let id = ws.connect_ns("/", None).await;
        (ws, id)
    }

    /// A new long-polling session.
    pub async fn polling(&self) -> Polling {
        Polling::open(self.addr).await
    }

    /// One HTTP request to the server.
    pub async fn http(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http(self.addr, method, target, headers, body).await
    }

    /// A GET request.
    pub async fn get(&self, target: &str) -> HttpResponse {
        self.http("GET", target, &[], b"").await
    }

    /// The socket `id` of namespace `ns`.
    pub fn socket(&self, ns: &str, id: &str) -> SocketRef {
        let ns = self.io.of(ns).expect("namespace exists");
        let all = ns.broadcast().expect("static namespace").sockets();
        all.into_iter()
            .find(|s| s.id().as_str() == id)
            .unwrap_or_else(|| panic!("no socket {id} in the namespace"))
    }

    /// The server still answers new handshakes, and no server task panicked.
    pub async fn assert_healthy(&self) {
        let fresh = self.polling().await;
        assert!(!fresh.sid.is_empty());
        self.panics.check();
    }
}

// ---------------------------------------------------------------- protocol text

/// Parses an Engine.IO open packet (`0{...}`).
pub fn parse_open(text: &str) -> Value {
    let json = text
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("expected an open packet, got {text:?}"));
    serde_json::from_str(json).expect("open packet JSON")
}

/// `""` for the main namespace, `"/ns,"` otherwise.
pub fn ns_prefix(ns: &str) -> String {
    if ns == "/" {
        String::new()
    } else {
        format!("{ns},")
    }
}

/// The Engine.IO message of a Socket.IO CONNECT to `ns`.
pub fn connect_packet(ns: &str, auth: Option<&str>) -> String {
    format!("40{}{}", ns_prefix(ns), auth.unwrap_or(""))
}

/// Checks a CONNECT answer `40[/ns,]{"sid":"..."}`; returns the socket id.
pub fn parse_connect_ok(ns: &str, text: &str) -> String {
    let json = text
        .strip_prefix(&format!("40{}", ns_prefix(ns)))
        .unwrap_or_else(|| panic!("expected a CONNECT answer for {ns}, got {text:?}"));
    let value: Value = serde_json::from_str(json).expect("CONNECT answer JSON");
    let obj = value.as_object().expect("CONNECT answer object");
    assert_eq!(obj.len(), 1, "{text}");
    let sid = obj["sid"].as_str().expect("sid string").to_owned();
    assert!(!sid.is_empty());
    sid
}

/// The ack id of an event packet with one (`42<id>[...]`, `42/ns,<id>[...]`).
pub fn ack_id(text: &str, ns: &str) -> u64 {
    let rest = text
        .strip_prefix(&format!("42{}", ns_prefix(ns)))
        .unwrap_or_else(|| panic!("expected an event, got {text:?}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no ack id in {text:?}"))
}
