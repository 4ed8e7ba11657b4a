//! `/metrics` of `wirehub serve` after a known workload, parsed with a
//! Prometheus text parser (`prometheus-parse`), every count exact; and the
//! logging flags (`--log-format json`, no colours on a pipe).

mod common;

use common::{wirehub, Server, WAIT};
use futures_util::{SinkExt, StreamExt};
use prometheus_parse::{Sample, Scrape, Value};
use serde_json::{json, Value as Json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use wirehub_client::{ClientBuilder, Data, Socket, Transport};

/// The scraped metrics.
struct Metrics(Vec<Sample>);

impl Metrics {
    fn scrape(server: &Server) -> Metrics {
        let resp = server.get("/metrics");
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let lines = resp.body.lines().map(|l| Ok(l.to_owned()));
        Metrics(Scrape::parse(lines).expect("parse the exposition").samples)
    }

    /// The value of `name` with `labels` (exactly one sample must match).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<_> = self
            .0
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        match &found[0].value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{name}: not a single value: {other:?}"),
        }
    }

    /// A histogram's `+Inf` bucket, which must equal its `_count`.
    fn observations(&self, name: &str) -> f64 {
        let buckets = self
            .0
            .iter()
            .find_map(|s| match (&s.value, s.metric == name) {
                (Value::Histogram(b), true) => Some(b.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no histogram {name}"));
        assert!(
            buckets.windows(2).all(|w| w[0].count <= w[1].count),
            "{name}: buckets not cumulative: {buckets:?}"
        );
        let inf = buckets.last().expect("buckets");
        assert!(inf.less_than.is_infinite());
        assert_eq!(inf.count, self.get(&format!("{name}_count"), &[]));
        inf.count
    }
}

/// Scrapes until `check` passes on a scrape (counters settle as the server
/// handles what the clients sent), or fails with the last scrape.
fn settled(server: &Server, check: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = Instant::now() + WAIT;
    loop {
        let m = Metrics::scrape(server);
        if check(&m) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Socket.IO client of `/m` over WebSocket; `news` events go to `tx`.
async fn client(server: &Server, tx: mpsc::UnboundedSender<Json>) -> Socket {
    ClientBuilder::new(server.url())
        .namespace("/m")
        .transport(Transport::WebSocket)
        .on("news", move |Data(data): Data<Json>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(data);
            }
        })
        .connect()
        .await
        .expect("connect")
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Json {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("read");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("JSON envelope");
        }
    }
}

async fn send_json(ws: &mut Ws, value: Json) {
    ws.send(Message::text(value.to_string()))
        .await
        .expect("send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_a_known_workload_exactly() {
    let server = Server::start();
    let (tx, mut news) = mpsc::unbounded_channel();
    let a = client(&server, tx.clone()).await;
    let b = client(&server, tx.clone()).await;
    let c = client(&server, tx).await;
    for s in [&a, &b] {
        let _: Json = s
            .emit_with_ack("hub:join", &json!("r"))
            .await
            .expect("join");
    }
    // One plain WebSocket client in the room too.
    let url = format!("ws://{}/ws?ns=/m", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("/ws");
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    send_json(&mut ws, json!({"type": "join", "rooms": ["r"], "id": 1})).await;
    assert_eq!(next_json(&mut ws).await["type"], "ack");

    // A broadcast to the room: 3 deliveries.
    let published: Json = c
        .emit_with_ack(
            "hub:publish",
            &json!({"room": "r", "event": "news", "data": 7}),
        )
        .await
        .expect("publish");
    assert_eq!(published["delivered"], 3, "{published}");
    for _ in 0..2 {
        let got = tokio::time::timeout(WAIT, news.recv()).await.expect("news");
        assert_eq!(got, Some(json!(7)));
    }
    assert_eq!(next_json(&mut ws).await["event"], "news");

    // Five events nobody handles, then one with an ack as a barrier.
    for i in 0..5 {
        c.emit("noop", &i).expect("emit");
    }
    let _: Json = c
        .emit_with_ack("hub:leave", &json!("z"))
        .await
        .expect("leave");
    send_json(&mut ws, json!({"type": "emit", "event": "noop"})).await;
    b.disconnect().await;

    // Received: 2 joins + publish + 5 noops + leave (Socket.IO) + 1 plain emit.
    let m = settled(&server, |m| {
        m.get("wirehub_events_received_total", &[("namespace", "/m")]) == 10.0
            && m.get("wirehub_sockets", &[("namespace", "/m")]) == 3.0
    });
    let ns = [("namespace", "/m")];
    assert_eq!(m.get("wirehub_events_received_total", &ns), 10.0);
    assert_eq!(m.get("wirehub_events_sent_total", &ns), 3.0);
    assert_eq!(m.get("wirehub_sockets", &ns), 3.0);
    assert_eq!(m.get("wirehub_sockets", &[("namespace", "/")]), 0.0);
    assert_eq!(m.get("wirehub_connections", &[("transport", "ws")]), 1.0);
    assert_eq!(
        m.get("wirehub_connections", &[("transport", "polling")]),
        0.0
    );
    let reason = [("reason", "client namespace disconnect")];
    assert_eq!(m.get("wirehub_disconnects_total", &reason), 1.0);
    assert_eq!(
        m.get(
            "wirehub_disconnects_total",
            &[("reason", "transport close")]
        ),
        0.0
    );
    for kind in [
        "parse",
        "refused",
        "connect_refused",
        "handler_panic",
        "adapter",
    ] {
        assert_eq!(
            m.get("wirehub_errors_total", &[("kind", kind)]),
            0.0,
            "{kind}"
        );
    }
    assert_eq!(m.get("wirehub_queue_drops_total", &[]), 0.0);
    assert_eq!(m.get("wirehub_adapter_up", &[]), 1.0);
    for result in ["recovered", "failed"] {
        assert_eq!(m.get("wirehub_recovery_total", &[("result", result)]), 0.0);
    }
    // Three Engine.IO handshakes and one plain hello; one broadcast.
    assert_eq!(m.observations("wirehub_handshake_duration_seconds"), 4.0);
    assert_eq!(m.observations("wirehub_broadcast_duration_seconds"), 1.0);
    assert!(m.get("wirehub_bytes_received_total", &[]) > 0.0);
    assert!(m.get("wirehub_bytes_sent_total", &[]) > 0.0);

    // A bad envelope is a parse error (and a disconnect for that reason).
    ws.send(Message::text("{not json")).await.expect("send");
    let m = settled(&server, |m| {
        m.get("wirehub_errors_total", &[("kind", "parse")]) == 1.0
    });
    assert_eq!(m.get("wirehub_errors_total", &[("kind", "parse")]), 1.0);
    let reason = [("reason", "parse error")];
    assert_eq!(m.get("wirehub_disconnects_total", &reason), 1.0);
    drop((a, c));
}

#[test]
fn metrics_can_move_or_be_turned_off() {
    let moved = Server::spawn(&["--no-demo", "--port", "0", "--metrics-path", "/m3"], &[]);
    assert_eq!(moved.get("/m3").status, 200);
    assert_eq!(moved.get("/metrics").status, 404);
    let off = Server::spawn(
        &["--no-demo", "--port", "0"],
        &[("WIREHUB_NO_METRICS", "true")],
    );
    assert_eq!(off.get("/metrics").status, 404);
    assert_eq!(off.get("/healthz").status, 200);
}

/// Runs `wirehub serve ARGS` with stderr a pipe until it answers
/// `/healthz`, stops it, and returns what it wrote to stderr.
fn stderr_of(args: &[&str]) -> Vec<u8> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = wirehub(&["serve", "--no-demo", "--port", &port.to_string()])
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "wirehub serve {args:?} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(common::http(addr, "GET", "/healthz", &[], b"").status, 200);
    let _ = child.kill();
    let _ = child.wait();
    let mut log = Vec::new();
    let mut stderr = child.stderr.take().expect("stderr");
    std::io::Read::read_to_end(&mut stderr, &mut log).expect("read stderr");
    log
}

#[test]
fn json_logs_are_json_lines_without_colour() {
    let log = stderr_of(&["--log-format", "json", "--log-level", "debug"]);
    assert!(!log.contains(&0x1b), "an ESC byte in a piped log");
    let text = String::from_utf8(log).expect("UTF-8");
    let first: Json = serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["level"], "INFO", "{first}");
    assert!(first["fields"]["message"].is_string(), "{first}");
    assert!(first["target"].is_string(), "{first}");
}

#[test]
fn text_logs_on_a_pipe_have_no_colour_and_follow_the_level() {
    let log = stderr_of(&[]);
    assert!(!log.contains(&0x1b), "an ESC byte in a piped log");
    assert!(String::from_utf8_lossy(&log).contains(" INFO "));
    let warn = stderr_of(&["--log-level", "warn"]);
    let warn = String::from_utf8_lossy(&warn);
    assert!(!warn.contains(" INFO "), "{warn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_log() {
    let server = Server::spawn(&["--no-demo", "--port", "0"], &[("WIREHUB_LOG", "trace")]);
    let socket = ClientBuilder::new(server.url())
        .namespace("/m")
        .query("token", "query-secret-1")
        .auth(&json!({"token": "auth-secret-2"}))
        .connect()
        .await
        .expect("connect");
    let _: Json = socket
        .emit_with_ack("hub:join", &json!("r"))
        .await
        .expect("join");
    let url = format!("ws://{}/ws?ns=/m&token=query-secret-3", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("/ws");
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    socket.disconnect().await;
    drop(ws);
    let m = settled(&server, |m| {
        m.get("wirehub_sockets", &[("namespace", "/m")]) == 0.0
    });
    assert_eq!(m.get("wirehub_sockets", &[("namespace", "/m")]), 0.0);
    let log = server.log.text();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "not a verbose log"
    );
    for secret in ["query-secret-1", "auth-secret-2", "query-secret-3"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}
