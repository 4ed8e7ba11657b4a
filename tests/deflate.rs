//! `wirehub serve --ws-deflate`: the flag and its variables reach the
//! server (the WebSocket handshake's answer agrees on permessage-deflate
//! only with it), and the official clients round-trip compressed messages:
//! socket.io-client (whose `ws` transport offers permessage-deflate by
//! default) and a plain `ws` client on `/ws`
//! (`tests/interop/js/deflate.mjs`).

mod common;

use common::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// The `Sec-WebSocket-Extensions` answer to an Engine.IO WebSocket
/// handshake that offers permessage-deflate.
fn agreed_extensions(server: &Server) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let req = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: {OFFER}\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("read");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("utf-8");
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-extensions")
            .then(|| value.trim().to_owned())
    })
}

#[test]
fn the_flag_and_its_variable_turn_deflate_on() {
    let off = Server::start();
    assert_eq!(agreed_extensions(&off), None, "off by default");
    let on = Server::spawn(&["--no-demo", "--port", "0", "--ws-deflate"], &[]);
    let by_env = Server::spawn(
        &["--no-demo", "--port", "0"],
        &[
            ("WIREHUB_WS_DEFLATE", "true"),
            ("WIREHUB_WS_DEFLATE_THRESHOLD", "10"),
        ],
    );
    for server in [&on, &by_env] {
        let agreed = agreed_extensions(server).expect("agreed");
        assert!(agreed.starts_with("permessage-deflate;"), "{agreed}");
    }
}

#[test]
fn official_clients_round_trip_compressed_messages() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/js");
    if !common::node_module_ready("socket.io-client") {
        return;
    }
    let server = Server::spawn(
        &[
            "--no-demo",
            "--port",
            "0",
            "--ws-deflate",
            "--ws-deflate-threshold",
            "512",
        ],
        &[],
    );
    let out = Command::new("node")
        .arg(dir.join("deflate.mjs"))
        .env("SERVER_URL", server.url())
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "deflate.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
}
