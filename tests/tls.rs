//! `wirehub serve --tls-cert --tls-key` with certificates made at test time
//! (a CA of the test's own, `tests/common/certs.rs`): our Rust client over
//! every Socket.IO transport, `/ws` over wss and `/sse` over https with a
//! plain TLS client, the TCP gateway with `--tcp-tls`, a plain-HTTP client
//! on the TLS port failing alone, and SIGHUP reloading the certificate
//! (new connections see the new one, open ones stay; a bad file keeps the
//! old one).

mod common;

use common::certs::TestPki;
use common::Server;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;
use wirehub_client::{ClientBuilder, Transport, TransportKind};

const WAIT: Duration = common::WAIT;

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("wirehub-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `wirehub serve` over TLS with `pki`'s certificate written into `dir`.
fn tls_server(pki: &TestPki, dir: &Path, extra: &[&str]) -> Server {
    let (cert, key) = pki.write(dir).expect("write PEM files");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let mut args = vec![
        "--no-demo",
        "--port",
        "0",
        "--tls-cert",
        cert,
        "--tls-key",
        key,
    ];
    args.extend_from_slice(extra);
    Server::spawn(&args, &[])
}

/// A TLS client trusting only `ca` (DER).
fn connector(ca: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.to_vec())).expect("CA");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `addr` as `localhost`, trusting only `ca`.
async fn tls_connect(
    addr: std::net::SocketAddr,
    ca: &[u8],
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").expect("name");
    tokio::time::timeout(WAIT, connector(ca).connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
}

/// The leaf certificate the server presented.
fn peer_leaf(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    let (_, session) = stream.get_ref();
    session.peer_certificates().expect("peer certificates")[0].to_vec()
}

/// A `/ws` client over wss, past its `hello`.
async fn wss(
    server: &Server,
    ca: &[u8],
) -> tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>> {
    let tls = tls_connect(server.addr, ca).await.expect("tls");
    let url = format!("wss://localhost:{}/ws", server.port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls)
        .await
        .expect("wss handshake");
    let hello = next_text(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    ws
}

async fn next_text(ws: &mut tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("read");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

/// A `ping` envelope answered by a `pong` (past the demo's `news` event).
async fn ping(ws: &mut tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>) {
    ws.send(Message::text(r#"{"type":"ping"}"#))
        .await
        .expect("send");
    while next_text(ws).await["type"] != "pong" {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_over_websocket_polling_and_upgrade() {
    let dir = TempDir::new("tls-client");
    let pki = TestPki::new("wirehub test CA").expect("pki");
    let server = tls_server(&pki, &dir.0, &[]);
    let port = server.port();
    let cases = [
        (
            "wss://localhost",
            Transport::WebSocket,
            TransportKind::WebSocket,
        ),
        (
            "https://localhost",
            Transport::Polling,
            TransportKind::Polling,
        ),
        (
            "https://127.0.0.1",
            Transport::Upgrade,
            TransportKind::WebSocket,
        ),
    ];
    for (base, transport, kind) in cases {
        let socket = ClientBuilder::new(format!("{base}:{port}"))
            .transport(transport)
            .add_root_certificate(pki.ca_der.clone())
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{base} {transport:?}: {e}"));
        let manager = socket.manager().clone();
        let deadline = tokio::time::Instant::now() + WAIT;
        while manager.transport() != Some(kind) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{base}: never on {kind:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let joined: Value = socket
            .emit_with_ack("join", &json!({"nick": "ann", "room": "tls"}))
            .await
            .unwrap_or_else(|e| panic!("{base} {transport:?}: {e}"));
        assert_eq!(joined["ok"], true, "{base}: {joined}");
        socket.disconnect().await;
    }
    // Without the test CA the certificate is refused.
    let err = ClientBuilder::new(format!("https://localhost:{port}"))
        .transport(Transport::Polling)
        .connect()
        .await
        .expect_err("an untrusted certificate");
    assert!(matches!(err, wirehub_client::Error::Tls { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_ws_over_wss_and_sse_over_https() {
    let dir = TempDir::new("tls-plain");
    let pki = TestPki::new("wirehub test CA").expect("pki");
    let server = tls_server(&pki, &dir.0, &[]);

    let mut ws = wss(&server, &pki.ca_der).await;
    ping(&mut ws).await;

    let mut sse = tls_connect(server.addr, &pki.ca_der).await.expect("tls");
    let (_, session) = sse.get_ref();
    assert_eq!(session.alpn_protocol(), None, "the client offered no ALPN");
    let head = format!(
        "GET /sse HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
        server.port()
    );
    sse.write_all(head.as_bytes()).await.expect("write");
    let mut lines = BufReader::new(sse);
    let mut seen = String::new();
    let got_hello = tokio::time::timeout(WAIT, async {
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await.expect("read") == 0 {
                return false;
            }
            seen.push_str(&line);
            if line.starts_with("data:") && line.contains("\"hello\"") {
                return true;
            }
        }
    })
    .await;
    assert_eq!(got_hello, Ok(true), "{seen}");
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.contains("text/event-stream"), "{seen}");

    // /healthz over https.
    let mut health = tls_connect(server.addr, &pki.ca_der).await.expect("tls");
    let req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    health.write_all(req.as_bytes()).await.expect("write");
    let mut body = String::new();
    tokio::time::timeout(WAIT, health.read_to_string(&mut body))
        .await
        .expect("in time")
        .expect("read");
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
}

/// One NDJSON line from a TLS TCP client.
async fn read_json(lines: &mut BufReader<TlsStream<TcpStream>>) -> Value {
    let mut line = String::new();
    let n = tokio::time::timeout(WAIT, lines.read_line(&mut line))
        .await
        .expect("a line in time")
        .expect("read");
    assert!(n > 0, "EOF instead of a line");
    serde_json::from_str(&line).expect("JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tcp_gateway_over_tls() {
    let dir = TempDir::new("tls-tcp");
    let pki = TestPki::new("wirehub test CA").expect("pki");
    let server = tls_server(&pki, &dir.0, &["--tcp", "127.0.0.1:0", "--tcp-tls"]);
    let addr = server.tcp.expect("tcp gateway");
    let tls = tls_connect(addr, &pki.ca_der)
        .await
        .expect("tls to the gateway");
    assert_eq!(peer_leaf(&tls), pki.cert_der);
    let mut lines = BufReader::new(tls);
    lines
        .get_mut()
        .write_all(b"{\"type\":\"connect\",\"ns\":\"/\"}\n")
        .await
        .expect("connect line");
    let hello = read_json(&mut lines).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    lines
        .get_mut()
        .write_all(b"{\"type\":\"ping\"}\n")
        .await
        .expect("ping");
    while read_json(&mut lines).await["type"] != "pong" {}

    // A plain (non-TLS) client of the gateway gets no NDJSON answer.
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"{\"type\":\"connect\",\"ns\":\"/\"}\n")
        .await
        .expect("write");
    let mut got = Vec::new();
    let _ = tokio::time::timeout(WAIT, plain.read_to_end(&mut got)).await;
    assert!(!String::from_utf8_lossy(&got).contains("hello"), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_the_tls_port_fails_alone() {
    let dir = TempDir::new("tls-plain-http");
    let pki = TestPki::new("wirehub test CA").expect("pki");
    let server = tls_server(&pki, &dir.0, &[]);
    let mut before = wss(&server, &pki.ca_der).await;

    let mut plain = TcpStream::connect(server.addr).await.expect("connect");
    let req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    plain.write_all(req.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let read = tokio::time::timeout(WAIT, plain.read_to_end(&mut got))
        .await
        .expect("the server closes it in time");
    let text = String::from_utf8_lossy(&got);
    assert!(
        !text.contains("HTTP/1.1 200"),
        "plain HTTP was served: {text}"
    );
    assert!(read.is_ok() || got.is_empty(), "{read:?}");

    ping(&mut before).await;
    let mut after = wss(&server, &pki.ca_der).await;
    ping(&mut after).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_certificate_and_keeps_open_connections() {
    let dir = TempDir::new("tls-reload");
    let first = TestPki::new("wirehub first CA").expect("pki");
    let server = tls_server(&first, &dir.0, &["--tcp", "127.0.0.1:0", "--tcp-tls"]);
    let mut before = wss(&server, &first.ca_der).await;
    let gateway = server.tcp.expect("tcp gateway");

    // New files from another CA, then SIGHUP.
    let second = TestPki::new("wirehub second CA").expect("pki");
    second.write(&dir.0).expect("write the new pair");
    server.signal("HUP");
    server
        .log
        .until("the reload", |l| l.contains("TLS certificate reloaded"));

    for addr in [server.addr, gateway] {
        let tls = tls_connect(addr, &second.ca_der)
            .await
            .expect("the new certificate");
        assert_eq!(peer_leaf(&tls), second.cert_der, "{addr}");
        assert!(
            tls_connect(addr, &first.ca_der).await.is_err(),
            "{addr}: the old CA no longer verifies"
        );
    }
    ping(&mut before).await;
    let mut after = wss(&server, &second.ca_der).await;
    ping(&mut after).await;

    // A bad certificate file: logged, and the current pair stays.
    std::fs::write(dir.0.join("cert.pem"), "not a certificate").expect("write");
    server.signal("HUP");
    let line = server
        .log
        .until("the failed reload", |l| l.contains("not reloaded"));
    assert!(line.contains("holds no certificate"), "{line}");
    let tls = tls_connect(server.addr, &second.ca_der)
        .await
        .expect("still the second certificate");
    assert_eq!(peer_leaf(&tls), second.cert_der);
    ping(&mut before).await;
    ping(&mut after).await;
}

#[test]
fn the_tls_flags_come_in_pairs() {
    for args in [
        &["serve", "--tls-cert", "cert.pem"][..],
        &["serve", "--tls-key", "key.pem"][..],
        &["serve", "--tcp-tls", "--tcp", "127.0.0.1:0"][..],
    ] {
        let out = common::wirehub(args).output().expect("run wirehub");
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--tls-"), "{args:?}: {err}");
    }
    let out = common::wirehub(&[
        "serve",
        "--port",
        "0",
        "--tls-cert",
        "absent.pem",
        "--tls-key",
        "absent.key",
    ])
    .output()
    .expect("run wirehub");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read absent.pem"), "{err}");
}

#[test]
fn the_cli_trusts_a_ca_file() {
    let dir = TempDir::new("tls-cli");
    let pki = TestPki::new("wirehub test CA").expect("pki");
    let server = tls_server(&pki, &dir.0, &[]);
    let url = format!("https://localhost:{}", server.port());
    let ca = dir.0.join("ca.pem");
    let emit = |extra: &[&str]| {
        let mut args = vec![
            "emit",
            &url,
            "join",
            r#"{"nick":"ann","room":"tls"}"#,
            "--ack",
        ];
        args.extend_from_slice(extra);
        common::wirehub(&args).output().expect("run wirehub emit")
    };
    let out = emit(&["--ca", ca.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(reply[0]["ok"], true, "{reply}");

    let out = emit(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS handshake with localhost failed"), "{err}");

    let out = emit(&["--ca", dir.0.join("key.pem").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no certificate"), "{err}");
}
