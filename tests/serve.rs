//! `wirehub serve`: every flag, and every `WIREHUB_*` environment variable
//! standing for one, reaches the running server. One server is configured
//! by flags, another by the environment, both with values other than the
//! defaults, and each setting is checked by what the server does (the
//! Engine.IO open packet, CORS headers, the connect timeout, the slow
//! consumer limit, the demo, the API key, the TCP and UDP gateways, room
//! history, the idle timeout, the datagram limit). `PORT` is the fallback
//! for the port, and a flag wins over its variable. A third server takes the
//! same settings from a configuration file (`--config`), under which
//! variables and flags win; `wirehub config check` accepts that file and
//! names what is wrong with others.

mod common;

use common::{Server, WAIT};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// Settings other than the defaults, as flags and as environment variables.
const SETTINGS: &[(&str, &str, &str)] = &[
    // flag, variable, value ("" for a switch)
    ("--path", "WIREHUB_PATH", "/rt/"),
    ("--ping-interval", "WIREHUB_PING_INTERVAL", "1234"),
    ("--ping-timeout", "WIREHUB_PING_TIMEOUT", "2345"),
    ("--max-payload", "WIREHUB_MAX_PAYLOAD", "3456"),
    ("--connect-timeout", "WIREHUB_CONNECT_TIMEOUT", "400"),
    ("--cors-origin", "WIREHUB_CORS_ORIGINS", "http://a.example"),
    ("--cors-credentials", "WIREHUB_CORS_CREDENTIALS", ""),
    ("--transports", "WIREHUB_TRANSPORTS", "polling"),
    ("--queue-capacity", "WIREHUB_QUEUE_CAPACITY", "4"),
    ("--no-demo", "WIREHUB_NO_DEMO", ""),
    ("--tcp", "WIREHUB_TCP", "127.0.0.1:0"),
    ("--udp", "WIREHUB_UDP", "127.0.0.1:0"),
    ("--api-key", "WIREHUB_API_KEY", "key-123"),
    ("--history-size", "WIREHUB_HISTORY_SIZE", "2"),
    ("--history-ttl", "WIREHUB_HISTORY_TTL", "1"),
    ("--idle-timeout", "WIREHUB_IDLE_TIMEOUT", "1"),
    ("--max-datagram", "WIREHUB_MAX_DATAGRAM", "300"),
    ("--max-connections", "WIREHUB_MAX_CONNECTIONS", "8"),
    (
        "--max-connections-per-ip",
        "WIREHUB_MAX_CONNECTIONS_PER_IP",
        "100",
    ),
    ("--max-event-rate", "WIREHUB_MAX_EVENT_RATE", "1"),
    ("--event-burst", "WIREHUB_EVENT_BURST", "2"),
    ("--event-rate-grace", "WIREHUB_EVENT_RATE_GRACE", "0"),
    (
        "--max-rooms-per-socket",
        "WIREHUB_MAX_ROOMS_PER_SOCKET",
        "1",
    ),
    (
        "--max-namespaces-per-connection",
        "WIREHUB_MAX_NAMESPACES_PER_CONNECTION",
        "1",
    ),
    ("--allow-eio3", "WIREHUB_ALLOW_EIO3", ""),
    ("--sockjs-prefix", "WIREHUB_SOCKJS_PREFIX", "/sj"),
    ("--sockjs-heartbeat", "WIREHUB_SOCKJS_HEARTBEAT", "300"),
    (
        "--sockjs-disconnect-delay",
        "WIREHUB_SOCKJS_DISCONNECT_DELAY",
        "200",
    ),
];

/// `SETTINGS` as a configuration file, but for `[server]` (`no_demo = true`
/// and the address, added by each test).
const SETTINGS_FILE: &str = r#"
[engine]
path = "/rt/"
ping_interval = 1234
ping_timeout = 2345
max_payload = 3456
transports = ["polling"]
queue_capacity = 4
allow_eio3 = true

[socketio]
connect_timeout = 400

[cors]
origin = ["http://a.example"]
credentials = true

[history]
size = 2
ttl = 1

[plain]
tcp = "127.0.0.1:0"
udp = "127.0.0.1:0"
idle_timeout = 1
max_datagram = 300

[sockjs]
prefix = "/sj"
heartbeat = 300
disconnect_delay = 200

[api]
key = "key-123"

[limits]
max_connections = 8
max_connections_per_ip = 100
max_event_rate = 1
event_burst = 2
event_rate_grace = 0
max_rooms_per_socket = 1
max_namespaces_per_connection = 1
"#;

/// A file of the test's own, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!("wirehub-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A host other than the default 127.0.0.1 (the whole 127/8 is loopback).
const HOST: &str = "127.0.0.2";

/// A port that was free on `host` a moment ago.
fn free_port(host: &str) -> u16 {
    let listener = TcpListener::bind((host, 0)).expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn every_flag_reaches_the_server() {
    let port = free_port(HOST);
    let port_text = port.to_string();
    let mut args = vec!["--host", HOST, "--port", &port_text];
    for (flag, _, value) in SETTINGS {
        args.push(flag);
        if !value.is_empty() {
            args.push(value);
        }
    }
    let server = Server::spawn(&args, &[]);
    assert_eq!(server.addr, SocketAddr::from(([127, 0, 0, 2], port)));
    check_settings(&server);
}

#[test]
fn every_environment_variable_reaches_the_server() {
    let port = free_port(HOST);
    let port_text = port.to_string();
    let mut env = vec![
        ("WIREHUB_HOST", HOST),
        ("WIREHUB_PORT", port_text.as_str()),
        ("WIREHUB_LOG", "debug"),
    ];
    for (_, var, value) in SETTINGS {
        env.push((var, if value.is_empty() { "true" } else { value }));
    }
    let server = Server::spawn(&[], &env);
    assert_eq!(server.addr, SocketAddr::from(([127, 0, 0, 2], port)));
    check_settings(&server);
    // WIREHUB_LOG=debug: the log has debug lines (the default is info).
    assert!(server.log.text().contains("DEBUG"), "{}", server.log.text());
}

#[test]
fn every_setting_of_a_config_file_reaches_the_server() {
    let port = free_port(HOST);
    let file = TempFile::new(
        "settings.toml",
        &format!("[server]\nno_demo = true\nhost = \"{HOST}\"\nport = {port}\n{SETTINGS_FILE}"),
    );
    let server = Server::spawn_with_gateways(&["--config", file.path()], &[], (true, true));
    assert_eq!(server.addr, SocketAddr::from(([127, 0, 0, 2], port)));
    check_settings(&server);
}

#[test]
fn variables_and_flags_win_over_the_config_file() {
    let file = TempFile::new(
        "override.toml",
        "[engine]\nping_interval = 1000\nping_timeout = 3000\nmax_payload = 5000\n",
    );
    let server = Server::spawn(
        &["--no-demo", "--port", "0", "--ping-interval", "1111"],
        &[
            ("WIREHUB_CONFIG", file.path()),
            ("WIREHUB_PING_TIMEOUT", "2222"),
        ],
    );
    let (_, packet) = open(&server, "/socket.io/", &[]);
    assert_eq!(packet["pingInterval"], 1111, "the flag over the file");
    assert_eq!(packet["pingTimeout"], 2222, "the variable over the file");
    assert_eq!(packet["maxPayload"], 5000, "the file over the default");
}

#[test]
fn config_check_prints_the_effective_configuration_or_names_the_error() {
    let file = TempFile::new(
        "check.toml",
        &format!("[server]\nno_demo = true\n{SETTINGS_FILE}"),
    );
    let out = common::wirehub(&["config", "check", file.path()])
        .env("WIREHUB_PING_TIMEOUT", "999")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` in:\n{text}"))
            .to_owned()
    };
    assert!(line("ping_interval = 1234 ").ends_with("# file"));
    assert!(line("ping_timeout = 999 ").ends_with("# environment"));
    assert!(line("host = \"127.0.0.1\" ").ends_with("# default"));
    assert!(
        line("key = ").contains("hidden") && !text.contains("key-123"),
        "secrets are not printed"
    );

    let refused = |name: &str, body: &str, needle: &str| {
        let bad = TempFile::new(name, body);
        let out = common::wirehub(&["config", "check", bad.path()])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(err.contains(needle), "{name}: no `{needle}` in: {err}");
    };
    refused(
        "unknown.toml",
        "[engine]\nping_intervall = 1\n",
        "unknown key `engine.ping_intervall`",
    );
    refused(
        "section.toml",
        "[engin]\nping_interval = 1\n",
        "unknown section [engin]",
    );
    refused(
        "syntax.toml",
        "[engine]\nping_interval = 1\nping_timeout 2\n",
        "line 3",
    );
    refused(
        "value.toml",
        "[limits]\nmax_connections = -1\n",
        "`limits.max_connections`",
    );
    refused(
        "transport.toml",
        "[engine]\ntransports = [\"carrier-pigeon\"]\n",
        "unknown transport",
    );
    // `serve` refuses the same file before it listens.
    let bad = TempFile::new("serve.toml", "[engine]\nping_intervall = 1\n");
    let out = common::wirehub(&["serve", "--port", "0", "--config", bad.path()])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("engine.ping_intervall"));
}

#[test]
fn port_falls_back_to_port_and_flags_win_over_variables() {
    let port = free_port("127.0.0.1");
    let server = Server::spawn(&["--no-demo"], &[("PORT", &port.to_string())]);
    assert_eq!(server.port(), port, "PORT");
    drop(server);

    let (flag, var) = (free_port("127.0.0.1"), free_port("127.0.0.1"));
    let server = Server::spawn(
        &["--port", &flag.to_string(), "--ping-interval", "1111"],
        &[
            ("WIREHUB_PORT", &var.to_string()),
            ("WIREHUB_PING_INTERVAL", "2222"),
        ],
    );
    assert_eq!(server.port(), flag, "--port over WIREHUB_PORT");
    let (_, packet) = open(&server, "/socket.io/", &[]);
    assert_eq!(
        packet["pingInterval"], 1111,
        "--ping-interval over its variable"
    );
    // Without any setting: the defaults (and the demo).
    drop(server);
    let server = Server::spawn(&["--port", "0"], &[]);
    let (_, packet) = open(&server, "/socket.io/", &[]);
    assert_eq!(
        (
            &packet["pingInterval"],
            &packet["pingTimeout"],
            &packet["maxPayload"],
            &packet["upgrades"]
        ),
        (
            &json!(25000),
            &json!(20000),
            &json!(1000000),
            &json!(["websocket"])
        )
    );
    assert_eq!(server.get("/").status, 200, "the demo page");
}

/// Waits until `cond` holds, asking every 50 ms, for at most `WAIT`.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < WAIT, "no {what} within {WAIT:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Opens an Engine.IO polling session at `path`; its sid and open packet.
fn open(server: &Server, path: &str, headers: &[(&str, &str)]) -> (String, Value) {
    let resp = server.http(
        "GET",
        &format!("{path}?EIO=4&transport=polling"),
        headers,
        b"",
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let open: Value = serde_json::from_str(
        resp.body
            .strip_prefix('0')
            .unwrap_or_else(|| panic!("no open packet: {}", resp.body)),
    )
    .expect("open JSON");
    (open["sid"].as_str().expect("sid").to_owned(), open)
}

fn target(sid: &str) -> String {
    format!("/rt/?EIO=4&transport=polling&sid={sid}")
}

/// The packets of one poll of session `sid`; `None` when the session is gone
/// (a close packet, or 400 "Session ID unknown").
fn poll(server: &Server, sid: &str) -> Option<Vec<String>> {
    let resp = server.get(&target(sid));
    if resp.status == 400 {
        assert_eq!(
            resp.json()["message"],
            "Session ID unknown",
            "{}",
            resp.body
        );
        return None;
    }
    assert_eq!(resp.status, 200, "{}", resp.body);
    let packets: Vec<String> = resp.body.split('\u{1e}').map(str::to_owned).collect();
    if packets.iter().any(|p| p == "1") {
        return None;
    }
    Some(packets)
}

fn post(server: &Server, sid: &str, body: &str) {
    let resp = server.http("POST", &target(sid), &[], body.as_bytes());
    assert_eq!((resp.status, resp.body.as_str()), (200, "ok"));
}

fn api(server: &Server, method: &str, target: &str, body: &Value) -> common::Resp {
    let text = body.to_string();
    let body = if method == "GET" {
        &b""[..]
    } else {
        text.as_bytes()
    };
    server.http(method, target, &[("Authorization", "Bearer key-123")], body)
}

/// Checks the effect of each of `SETTINGS` on `server`.
fn check_settings(server: &Server) {
    // --path: Engine.IO moved to /rt/; the default path is the demo's
    // (switched off: 404), as is /.
    let (sid, open_packet) = open(server, "/rt/", &[]);
    assert_eq!(
        server.get("/socket.io/?EIO=4&transport=polling").status,
        404
    );
    assert_eq!(server.get("/").status, 404, "--no-demo");
    // --ping-interval, --ping-timeout, --max-payload; --transports polling:
    // no upgrade offered, and WebSocket refused.
    assert_eq!(open_packet["pingInterval"], 1234);
    assert_eq!(open_packet["pingTimeout"], 2345);
    assert_eq!(open_packet["maxPayload"], 3456);
    assert_eq!(open_packet["upgrades"], json!([]));
    let ws = server.get("/rt/?EIO=4&transport=websocket");
    assert_eq!(ws.status, 400);
    assert_eq!(
        ws.json(),
        json!({"code": 0, "message": "Transport unknown"})
    );

    // --connect-timeout 400: a session that joins no namespace is closed
    // long before its first ping (1234 ms), which it would answer anyway.
    let started = Instant::now();
    loop {
        match poll(server, &sid) {
            None => break,
            Some(packets) => {
                assert!(started.elapsed() < WAIT, "still open: {packets:?}");
                if packets.iter().any(|p| p == "2") {
                    post(server, &sid, "3");
                }
            }
        }
    }

    // --allow-eio3: an Engine.IO v3 handshake is served, in v3 framing
    // (`<length>:<packet>`); closed at once so it holds no connection.
    let v3 = server.get("/rt/?EIO=3&transport=polling&b64=1");
    assert_eq!(v3.status, 200, "{}", v3.body);
    let (len, packet) = v3.body.split_once(':').expect("a v3 record");
    assert_eq!(len.parse::<usize>().ok(), Some(packet.len()), "{}", v3.body);
    let v3_open: Value = serde_json::from_str(&packet[1..]).expect("v3 open packet");
    let v3_sid = v3_open["sid"].as_str().expect("sid");
    let v3_target = format!("/rt/?EIO=3&transport=polling&sid={v3_sid}");
    let closed = server.http("POST", &v3_target, &[], b"1:1");
    assert_eq!((closed.status, closed.body.as_str()), (200, "ok"));

    // --sockjs-prefix /sj, --sockjs-heartbeat 300: a poll with nothing to
    // say is answered by a heartbeat; --sockjs-disconnect-delay 200: with
    // no poll for a while the session is gone (xhr_send: 404).
    assert_eq!(server.get("/sj/info").status, 200);
    assert_eq!(server.get("/sockjs/info").status, 404);
    let sockjs = "/sj/000/settings/xhr";
    assert_eq!(server.http("POST", sockjs, &[], b"").body, "o\n");
    assert!(server.http("POST", sockjs, &[], b"").body.starts_with("a["));
    let started = Instant::now();
    assert_eq!(server.http("POST", sockjs, &[], b"").body, "h\n");
    assert!(started.elapsed() >= Duration::from_millis(250));
    std::thread::sleep(Duration::from_millis(700));
    let send = server.http("POST", "/sj/000/settings/xhr_send", &[], b"[]");
    assert_eq!(send.status, 404, "the session timed out");

    // --cors-origin, --cors-credentials.
    let resp = server.http(
        "GET",
        "/rt/?EIO=4&transport=polling",
        &[("Origin", "http://a.example")],
        b"",
    );
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://a.example")
    );
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        Some("true")
    );
    let other = server.http(
        "GET",
        "/rt/?EIO=4&transport=polling",
        &[("Origin", "http://b.example")],
        b"",
    );
    assert_eq!(other.header("access-control-allow-origin"), None);

    // --api-key.
    assert_eq!(
        api(server, "GET", "/api/v1/rooms", &json!(null)).status,
        200
    );
    assert_eq!(server.get("/api/v1/rooms").status, 401);

    // --queue-capacity 4: a polling member of room q that does not poll is
    // dropped as a slow consumer by the 5th message queued for it: the
    // publishes' `delivered` counts show the drop, before the heartbeat
    // (1234 + 2345 ms) could end the session on its own.
    let (sid, _) = open(server, "/rt/", &[]);
    post(server, &sid, "40/q,");
    let joined = poll(server, &sid).expect("connected");
    assert!(joined[0].starts_with("40/q,{\"sid\""), "{joined:?}");
    post(server, &sid, r#"42/q,0["hub:join","q"]"#);
    assert_eq!(
        poll(server, &sid).expect("join ack"),
        [r#"43/q,0[{"rooms":["q"]}]"#]
    );
    // --max-rooms-per-socket 1: a second room is refused.
    post(server, &sid, r#"42/q,1["hub:join","r"]"#);
    let refused = poll(server, &sid).expect("join ack");
    assert!(
        refused[0].starts_with(r#"43/q,1[{"error":{"code":"too_many_rooms""#),
        "{refused:?}"
    );
    // --max-namespaces-per-connection 1: a second namespace is refused.
    post(server, &sid, "40/r,");
    let refused = poll(server, &sid).expect("connect error");
    assert!(refused[0].starts_with("44/r,"), "{refused:?}");
    assert!(
        refused[0].contains("max-namespaces-per-connection"),
        "{refused:?}"
    );
    let delivered: Vec<u64> = (0..6)
        .map(|i| {
            let resp = api(
                server,
                "POST",
                "/api/v1/publish",
                &json!({"ns": "/q", "room": "q", "event": "m", "data": i}),
            );
            assert_eq!(resp.status, 200, "{}", resp.body);
            resp.json()["delivered"].as_u64().expect("delivered")
        })
        .collect();
    // [1, 1, 1, 1, 0, 0] (fewer 1s if a ping took a place in the queue).
    assert_eq!(delivered[0], 1, "{delivered:?}");
    assert!(delivered.iter().sum::<u64>() <= 4, "{delivered:?}");
    assert_eq!(delivered[5], 0, "{delivered:?}");
    eventually("the slow consumer to leave room q", || {
        let members = api(
            server,
            "GET",
            "/api/v1/rooms/q/members?ns=%2Fq",
            &json!(null),
        );
        members.json()["members"] == json!([])
    });
    assert_eq!(
        poll(server, &sid),
        None,
        "the slow consumer's session is gone"
    );

    // --history-size 2: of three messages, the room keeps the last two.
    for i in 0..3 {
        api(
            server,
            "POST",
            "/api/v1/publish",
            &json!({"ns": "/q", "room": "h", "event": "m", "data": i}),
        );
    }
    let page = server.get("/poll?ns=%2Fq&room=h&since=0").json();
    let data: Vec<&Value> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| &m["data"])
        .collect();
    assert_eq!(data, [&json!(1), &json!(2)], "{page}");
    assert_eq!(page["truncated"], true);

    // --history-ttl 1: a message leaves history after a second.
    api(
        server,
        "POST",
        "/api/v1/publish",
        &json!({"ns": "/q", "room": "t", "event": "m", "data": 0}),
    );
    let page = server.get("/poll?ns=%2Fq&room=t&since=0").json();
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1), "{page}");
    eventually("the message to leave history", || {
        server.get("/poll?ns=%2Fq&room=t&since=0").json()["messages"] == json!([])
    });

    // --tcp, --idle-timeout 1: a silent TCP client gets idle_timeout and is
    // closed.
    let tcp = server.tcp.expect("the TCP gateway");
    let mut stream = TcpStream::connect(tcp).expect("tcp connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream
        .write_all(b"{\"type\":\"connect\",\"ns\":\"/q\"}\n")
        .expect("write");
    let mut lines = BufReader::new(stream.try_clone().expect("clone")).lines();
    let hello: Value = serde_json::from_str(&lines.next().expect("hello").expect("read")).unwrap();
    assert_eq!(
        (&hello["type"], &hello["ns"]),
        (&json!("hello"), &json!("/q"))
    );
    let mut last = Value::Null;
    for line in lines {
        last = serde_json::from_str(&line.expect("read within WAIT")).expect("JSON");
    }
    assert_eq!(last["code"], "idle_timeout", "{last}");

    // --max-event-rate 1, --event-burst 2, --event-rate-grace 0: two
    // events at once pass, a third right after disconnects the client.
    let (sid, _) = open(server, "/rt/", &[]);
    post(server, &sid, "40/q,");
    poll(server, &sid).expect("connected");
    post(
        server,
        &sid,
        &[r#"42/q,5["hub:join","q"]"#; 2].join("\u{1e}"),
    );
    let acks = poll(server, &sid).expect("the two acks");
    assert_eq!(
        acks.iter().filter(|p| p.starts_with("43/q,5")).count(),
        2,
        "{acks:?}"
    );
    server.http("POST", &target(&sid), &[], br#"42/q,["x"]"#);
    let mut gone = false;
    for _ in 0..3 {
        if poll(server, &sid).is_none() {
            gone = true;
            break;
        }
    }
    assert!(gone, "the client over the event rate is still connected");

    // --max-connections 8: sessions connected to /q (so that the connect
    // timeout keeps none from counting) until the handshake is refused.
    let mut held = Vec::new();
    let refusal = loop {
        let resp = server.http("GET", "/rt/?EIO=4&transport=polling", &[], b"");
        if resp.status != 200 {
            break resp;
        }
        assert!(held.len() < 8, "a 9th connection was accepted");
        let open: Value = serde_json::from_str(&resp.body[1..]).expect("open packet");
        let sid = open["sid"].as_str().expect("sid").to_owned();
        post(server, &sid, "40/q,");
        held.push(sid);
    };
    assert!(held.len() >= 4, "refused after {} sessions", held.len());
    assert_eq!(refusal.status, 503, "{}", refusal.body);
    assert_eq!(refusal.json()["code"], 6, "{}", refusal.body);
    assert!(refusal.body.contains("max-connections"), "{}", refusal.body);

    // --udp, --max-datagram 300: a bigger datagram gets too_large.
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    udp.set_read_timeout(Some(WAIT)).expect("timeout");
    let big = json!({"type": "connect", "ns": "/q", "pad": "x".repeat(400)});
    udp.send_to(
        big.to_string().as_bytes(),
        server.udp.expect("the UDP gateway"),
    )
    .expect("send");
    let mut buf = [0u8; 2048];
    let n = udp.recv(&mut buf).expect("a reply");
    let reply: Value = serde_json::from_slice(&buf[..n]).expect("JSON");
    assert_eq!(
        (&reply["type"], &reply["code"]),
        (&json!("error"), &json!("too_large")),
        "{reply}"
    );
}
