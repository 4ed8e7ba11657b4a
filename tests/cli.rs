//! The `wirehub` client subcommands run as a user would: a real
//! `wirehub serve` (the chat demo) in one process, the conformance server
//! in-process, or the Node reference server (connection state recovery),
//! `wirehub listen` / `emit` / `connect` in others, lines
//! piped in, JSON lines read out (every wait with a deadline). Covers the
//! stdin commands (`emit`, `emit-ack`, `ack ID`, `wait MS`) and the shared
//! options (`--ns`, `--auth`, `--header`, `--transport`, `--path`,
//! `--connect-timeout`).

mod common;

use common::{wirehub, Lines, Server};
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};
use wirehub_server::io::{Data, SocketRef};
use wirehub_server::{conformance, SocketIo};

/// A port where connections are refused: bound (so no one else takes it)
/// but not listening, while the socket lives.
fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(([127, 0, 0, 1], 0).into()).expect("bind");
    let port = socket.local_addr().expect("addr").port();
    (socket, port)
}

/// Waits for `child` to exit within 20 s (killing it otherwise) and
/// collects its output.
fn finish(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

/// `wirehub serve --no-demo --port 0` without connection state recovery
/// (on by default): its events then carry no trailing offset argument,
/// which these tests do not expect. Recovery is tested with the Node
/// reference server (`connect_says_whether_a_reconnection_recovered_the_session`).
fn serve() -> Server {
    Server::spawn(&["--no-demo", "--port", "0", "--recovery-window", "0"], &[])
}

/// Runs `wirehub ARGS` with `stdin`, within 20 s.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = wirehub(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wirehub");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    finish(child, &format!("wirehub {args:?}"))
}

/// The conformance server (with the interop extensions, and `/probe`,
/// which tells each socket what its handshake carried), in-process on its
/// own runtime, at the Socket.IO path `/rt/`.
struct Conformance {
    port: u16,
    _runtime: tokio::runtime::Runtime,
}

impl Conformance {
    fn start() -> Conformance {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let (service, io) = SocketIo::builder().path("/rt/").build_service();
            conformance::register(&io, true);
            io.ns(
                "/probe",
                |s: SocketRef, Data(auth): Data<Value>| async move {
                    let header = s
                        .handshake()
                        .headers
                        .get("x-test")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let ns = s.ns_name().as_str().to_owned();
                    let _ = s.emit(
                        "probe",
                        &json!({ "ns": ns, "auth": auth, "header": header }),
                    );
                },
            );
            let _ = wirehub_server::serve(listener, service, std::future::pending()).await;
        });
        Conformance {
            port,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn listen_streams_events_as_json_lines() {
    let server = serve();
    for transport in ["ws", "polling", "auto"] {
        let out = run(
            &[
                "listen",
                &server.url(),
                "--transport",
                transport,
                "--count",
                "1",
            ],
            "",
        );
        assert!(out.status.success(), "{transport}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text,
            "{\"event\":\"news\",\"args\":[{\"hello\":\"world\"}]}\n"
        );
    }
    let out = run(
        &["listen", &server.url(), "--event", "rooms", "--count", "1"],
        "",
    );
    assert_eq!(
        lines(&out.stdout),
        [json!({ "event": "rooms", "args": [[]] })]
    );
}

#[test]
fn emit_prints_the_ack_and_its_status_tells_the_outcome() {
    let server = serve();
    let url = server.url();
    let out = run(
        &[
            "emit",
            &url,
            "join",
            r#"{"nick":"ann","room":"lobby"}"#,
            "--ack",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        lines(&out.stdout),
        [json!([{ "ok": true, "room": "lobby", "members": ["ann"] }])]
    );
    // Without --ack: fire and forget.
    let out = run(
        &["emit", &url, "typing", "true", "--transport", "polling"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // "typing" is never acknowledged.
    let out = run(
        &["emit", &url, "typing", "true", "--ack", "--timeout", "200"],
        "",
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "wirehub: no acknowledgement for event \"typing\" within 200 ms\n"
    );
}

/// `wirehub serve --parser msgpack` and the client subcommands'
/// `--parser msgpack`: the chat demo answers; a JSON client gets nowhere.
#[test]
fn msgpack_parser_on_both_ends() {
    let server = Server::spawn(
        &[
            "--port",
            "0",
            "--recovery-window",
            "0",
            "--parser",
            "msgpack",
        ],
        &[],
    );
    let url = server.url();
    let join = r#"{"nick":"bo","room":"lobby"}"#;
    for transport in ["ws", "polling"] {
        let out = run(
            &[
                "emit",
                &url,
                "join",
                join,
                "--ack",
                "--parser",
                "msgpack",
                "--transport",
                transport,
            ],
            "",
        );
        assert!(out.status.success(), "{transport}: {}", stderr(&out));
        assert_eq!(
            lines(&out.stdout),
            [json!([{ "ok": true, "room": "lobby", "members": ["bo"] }])]
        );
    }
    let out = run(
        &[
            "emit",
            &url,
            "join",
            join,
            "--ack",
            "--connect-timeout",
            "1000",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn listen_sees_what_emit_causes() {
    let server = serve();
    let url = server.url();
    let mut listener = wirehub(&["listen", &url, "--event", "rooms", "--count", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn listen");
    let out = Lines::of_stdout(&mut listener);
    let first = out.next("the first rooms line");
    assert_eq!(first, r#"{"event":"rooms","args":[[]]}"#);
    let emitted = run(
        &[
            "emit",
            &url,
            "join",
            r#"{"nick":"bo","room":"r2"}"#,
            "--ack",
        ],
        "",
    );
    assert!(emitted.status.success(), "{}", stderr(&emitted));
    let second = out.next("the second rooms line");
    let second: Value = serde_json::from_str(&second).expect("JSON");
    assert_eq!(
        second,
        json!({ "event": "rooms", "args": [[{ "room": "r2", "members": 1 }]] })
    );
    let status = finish(listener, "wirehub listen").status;
    assert!(status.success(), "{status}");
}

#[test]
fn connect_reads_commands_from_a_pipe() {
    let server = serve();
    let script = [
        "# a chat session",
        r#"emit-ack join {"nick":"cy","room":"den"}"#,
        r#"emit-ack chat {"text":"hi"}"#,
        "emit typing true",
        "shout nothing",
        "",
    ]
    .join("\n");
    let out = run(&["connect", &server.url(), "--transport", "ws"], &script);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "wirehub: line 5: unknown command \"shout\" (expected emit, emit-ack, ack or wait)\n"
    );
    let got = lines(&out.stdout);
    assert_eq!(got[0]["event"], "connect");
    assert!(got[0]["id"].is_string());
    assert_eq!(got[0]["recovered"], false);
    assert!(got.contains(&json!({ "event": "news", "args": [{ "hello": "world" }] })));
    let join = got.iter().find(|l| l["ack"] == "join").expect("join ack");
    assert_eq!(join["args"][0]["ok"], true);
    let chat = got
        .iter()
        .find(|l| l["event"] == "chat")
        .expect("chat event");
    assert_eq!(chat["args"][0]["text"], "hi");
    assert!(got
        .iter()
        .any(|l| l["ack"] == "chat" && l["args"][0]["ok"] == true));
    assert_eq!(
        got.last(),
        Some(&json!({ "event": "disconnect", "reason": "io client disconnect" }))
    );
}

#[test]
fn failures_are_one_clear_line_and_a_nonzero_status() {
    let server = serve();
    let (_reserved, port) = refusing_port();
    let refused = format!("http://127.0.0.1:{port}");
    let https = format!("https://127.0.0.1:{}", server.port());
    let namespace = format!("{}/no!pe", server.url());
    let url = server.url();
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec!["emit", &refused, "x"],
            "connection refused by 127.0.0.1:",
        ),
        (vec!["listen", &url, "--path", "/wrong/"], "(HTTP 404)"),
        (
            vec!["emit", &namespace, "x"],
            "refused namespace /no!pe: Invalid namespace",
        ),
        (
            vec!["connect", &https],
            "TLS handshake with 127.0.0.1 failed",
        ),
        (vec!["emit", "localhost:3000", "x"], "invalid URL"),
    ];
    for (args, expected) in cases {
        let out = run(&args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("wirehub: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A `wirehub connect` session driven line by line: its stdin, and its
/// stdout lines as JSON (each wait bounded).
struct Session {
    child: Child,
    out: Lines,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let mut child = wirehub(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wirehub connect");
        let out = Lines::of_stdout(&mut child);
        Session { child, out }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush");
    }

    /// The next line whose `field` is `value`.
    fn until(&self, field: &str, value: &str) -> Value {
        let line = self
            .out
            .until(&format!("a line with {field} {value:?}"), |l| {
                serde_json::from_str::<Value>(l).is_ok_and(|v| v[field] == value)
            });
        serde_json::from_str(&line).expect("JSON")
    }

    /// The next line, which must be an object with these fields (and
    /// maybe others); returned whole.
    fn next_has(&self, fields: &Value) -> Value {
        let line = self.out.next(&format!("a line with {fields}"));
        let got: Value = serde_json::from_str(&line).expect("JSON");
        for (key, want) in fields.as_object().expect("an object") {
            assert_eq!(&got[key], want, "{key} of {line}");
        }
        got
    }

    /// Closes stdin and waits for the exit.
    fn finish(mut self) -> Output {
        drop(self.child.stdin.take());
        finish(self.child, "wirehub connect")
    }
}

#[test]
fn connect_answers_server_ack_requests_and_waits() {
    let server = Conformance::start();
    let url = server.url();
    let mut session = Session::start(&["connect", &url, "--path", "/rt/", "--transport", "ws"]);
    session.until("event", "connect");
    // `server-ack`: the server asks us `server-ack-request` with an ack,
    // and reports our answer as `server-ack-result`.
    session.send(r#"emit server-ack "q""#);
    let asked = session.until("event", "server-ack-request");
    assert_eq!(asked["args"], json!(["q"]));
    let id = asked["ack"].as_u64().expect("an ack id on the event line");
    session.send(&format!(r#"ack {id} "pong" 2"#));
    let result = session.until("event", "server-ack-result");
    assert_eq!(result["args"], json!([{ "reply": ["pong", 2] }]));
    // An id that was never asked (or was answered already).
    session.send(&format!("ack {id} 1"));

    // `wait MS` holds the next line back for MS milliseconds.
    let started = Instant::now();
    session.send("wait 600");
    session.send(r#"emit message "after the wait""#);
    let echoed = session.until("event", "message-back");
    let waited = started.elapsed();
    assert_eq!(echoed["args"], json!(["after the wait"]));
    assert!(waited >= Duration::from_millis(600), "{waited:?}");

    let out = session.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("wirehub: line 3: no pending server ack request {id}\n")
    );
}

#[test]
fn shared_options_reach_the_server() {
    let server = Conformance::start();
    let probe = |args: &[&str]| -> Value {
        let mut all = vec!["listen"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--path", "/rt/", "--event", "probe", "--count", "1"]);
        let out = run(&all, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let got = lines(&out.stdout);
        assert_eq!(got.len(), 1, "{got:?}");
        got[0]["args"][0].clone()
    };
    let url = server.url();
    // --ns, --auth and --header, over each transport.
    for transport in ["ws", "polling", "auto"] {
        let got = probe(&[
            &url,
            "--transport",
            transport,
            "--ns",
            "/probe",
            "--auth",
            r#"{"k":"v"}"#,
            "--header",
            "X-Test: yes",
        ]);
        assert_eq!(
            got,
            json!({ "ns": "/probe", "auth": { "k": "v" }, "header": "yes" }),
            "{transport}"
        );
    }
    // The URL's path names the namespace, unless --ns says otherwise; -H
    // is --header; without --auth the payload is empty.
    let got = probe(&[&format!("{url}/probe"), "-H", "x-test:  spaced "]);
    assert_eq!(
        got,
        json!({ "ns": "/probe", "auth": {}, "header": "spaced" })
    );
    let got = probe(&[&format!("{url}/custom"), "--ns", "/probe"]);
    assert_eq!(got["ns"], "/probe");
    // Bad values of the options are refused before connecting.
    for (args, expected) in [
        (vec!["--auth", "{nope"], "--auth is not valid JSON"),
        (vec!["--header", "no colon"], "is not NAME:VALUE"),
        (vec!["--transport", "carrier-pigeon"], "unknown transport"),
    ] {
        let mut all = vec!["emit", url.as_str(), "x"];
        all.extend(args);
        let out = run(&all, "");
        assert!(!out.status.success(), "{all:?}");
        assert!(stderr(&out).contains(expected), "{all:?}: {}", stderr(&out));
    }
}

#[test]
fn connect_timeout_bounds_a_server_that_never_answers() {
    // Accepted by the kernel (backlog), never answered.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://127.0.0.1:{}",
        silent.local_addr().expect("addr").port()
    );
    for command in ["emit", "listen", "connect"] {
        let mut args = vec![command, url.as_str()];
        if command == "emit" {
            args.push("x");
        }
        args.extend(["--connect-timeout", "300"]);
        let out = run(&args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("wirehub: timed out after 300 ms"),
            "{args:?}: {err}"
        );
    }
}

/// The Node reference server (`tests/interop/reference/server.mjs`) on a
/// port of its choosing; killed on drop.
struct NodeReference {
    url: String,
    child: Child,
}

impl NodeReference {
    /// Starts it with `env`; `None` (the test skipped, said on stderr) when
    /// Node or its npm modules (`tests/interop/install.sh`) are missing,
    /// unless the run is strict (`CI=true`, `WIREHUB_TEST_STRICT=1`).
    fn start(env: &[(&str, &str)]) -> Option<NodeReference> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
        if !common::node_module_ready("socket.io") {
            return None;
        }
        let mut child = std::process::Command::new("node")
            .arg(dir.join("reference/server.mjs"))
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn node");
        let out = Lines::of_stdout(&mut child);
        // "reference server listening on http://127.0.0.1:PORT (instance ID)"
        let line = out.until("the listening line", |l| l.contains("listening on http://"));
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .expect("url")
            .to_owned();
        Some(NodeReference { url, child })
    }
}

impl Drop for NodeReference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn connect_says_whether_a_reconnection_recovered_the_session() {
    let Some(server) = NodeReference::start(&[("RECOVERY_MS", "10000")]) else {
        return;
    };
    let mut session = Session::start(&["connect", &server.url, "--transport", "ws"]);
    let first = session.next_has(&json!({ "event": "connect", "recovered": false }));
    assert!(first["id"].is_string());
    session.next_has(&json!({ "event": "auth" }));
    session.send(r#"emit message "before""#);
    let back = session.next_has(&json!({ "event": "message-back" }));
    assert_eq!(back["args"][0], "before");
    assert!(back["args"][1].is_string(), "the offset, last: {back}");
    // The server cuts the connection and emits `missed` 1, 2 meanwhile;
    // they come before the `connect` of the restored session.
    session.send("emit cut-transport 2");
    session.next_has(&json!({ "event": "disconnect", "reason": "transport close" }));
    session.next_has(&json!({ "manager": "reconnect_attempt", "attempt": 1 }));
    session.next_has(&json!({ "manager": "reconnect", "attempt": 1 }));
    let one = session.next_has(&json!({ "event": "missed" }));
    assert_eq!(one["args"][0], 1);
    let two = session.next_has(&json!({ "event": "missed" }));
    assert_eq!(two["args"][0], 2);
    let again = session.next_has(&json!({ "event": "connect", "recovered": true }));
    assert_eq!(again["id"], first["id"], "the same socket");
    let out = session.finish();
    assert!(out.status.success(), "{}", stderr(&out));
}
