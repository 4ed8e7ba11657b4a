//! The `wirehub` client subcommands run as a user would: a real
//! `wirehub serve` (the chat demo) in one process, `wirehub listen` /
//! `emit` / `connect` in others, lines piped in, JSON lines read out.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wirehub");

/// A free port in 3501-3589 (tried from a per-process offset; 3590-3599
/// are the client tests' restarting servers).
fn free_port() -> u16 {
    let offset = (std::process::id() % 89) as u16;
    (0..89)
        .map(|i| 3501 + (offset + i) % 89)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 3501-3599")
}

/// A port of the range where connections are refused: bound (so no other
/// test takes it) but not listening, while the socket lives.
fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let offset = (std::process::id() % 89) as u16;
    for i in 0..89 {
        let port = 3501 + (offset + i) % 89;
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        if socket.bind(([127, 0, 0, 1], port).into()).is_ok() {
            return (socket, port);
        }
    }
    panic!("no free port in 3501-3589");
}

/// `wirehub serve` with the chat demo; killed on drop.
struct Server {
    port: u16,
    child: Child,
}

impl Server {
    fn start() -> Server {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(BIN)
                .args(["serve", "--no-demo", "--port", &port.to_string()])
                .env("WIREHUB_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn wirehub serve");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Server { port, child };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken meanwhile: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("wirehub serve did not start");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `wirehub ARGS` with `stdin`, within 20 s.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wirehub");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "wirehub {args:?} did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
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
    let server = Server::start();
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
    let server = Server::start();
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

#[test]
fn listen_sees_what_emit_causes() {
    let server = Server::start();
    let url = server.url();
    let mut listener = Command::new(BIN)
        .args(["listen", &url, "--event", "rooms", "--count", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn listen");
    let mut out = BufReader::new(listener.stdout.take().expect("stdout")).lines();
    let first = out.next().expect("first line").expect("read");
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
    let second = out.next().expect("second line").expect("read");
    let second: Value = serde_json::from_str(&second).expect("JSON");
    assert_eq!(
        second,
        json!({ "event": "rooms", "args": [[{ "room": "r2", "members": 1 }]] })
    );
    assert!(listener.wait().expect("wait").success());
}

#[test]
fn connect_reads_commands_from_a_pipe() {
    let server = Server::start();
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
    let server = Server::start();
    let (_reserved, port) = refusing_port();
    let refused = format!("http://127.0.0.1:{port}");
    let https = format!("https://127.0.0.1:{}", server.port);
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
