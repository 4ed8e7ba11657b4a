//! `wirehub serve` on SIGTERM during traffic: `/readyz` was 200, a TCP
//! client pinging in a loop, an SSE stream and a held Engine.IO poll are
//! each closed (EOF, end of stream, a `close` packet), and the process
//! exits 0 well within `--shutdown-timeout`.

mod common;

use common::{http, Server, WAIT};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The flag's value; the process must exit well before it.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(8);

/// A TCP client that pings as fast as the server answers, until EOF;
/// returns how many pongs it read.
fn tcp_traffic(server: &Server, pongs: Arc<AtomicUsize>) -> thread::JoinHandle<String> {
    let addr = server.tcp.expect("tcp gateway");
    let mut stream = TcpStream::connect(addr).expect("tcp connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream
        .write_all(b"{\"type\":\"connect\",\"ns\":\"/\"}\n")
        .expect("connect line");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut hello = String::new();
    reader.read_line(&mut hello).expect("hello");
    assert!(hello.contains("\"hello\""), "{hello}");
    thread::spawn(move || {
        let mut last = String::new();
        loop {
            // A write may fail once the server closed: the read says EOF.
            let _ = stream.write_all(b"{\"type\":\"ping\"}\n");
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => return last,
                Ok(_) => {
                    if line.contains("\"pong\"") {
                        pongs.fetch_add(1, Ordering::SeqCst);
                    }
                    last = line;
                }
                Err(e) => panic!("tcp read failed instead of EOF: {e}"),
            }
        }
    })
}

/// An SSE stream read to its end; returns everything it got.
fn sse(server: &Server) -> thread::JoinHandle<String> {
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let head = format!("GET /sse HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    stream.write_all(head.as_bytes()).expect("write");
    let mut first = [0u8; 1024];
    let n = stream.read(&mut first).expect("response head");
    let first = String::from_utf8_lossy(&first[..n]).into_owned();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    thread::spawn(move || {
        let mut rest = Vec::new();
        stream
            .read_to_end(&mut rest)
            .expect("the stream ends instead of timing out");
        first + &String::from_utf8_lossy(&rest)
    })
}

/// A Socket.IO session on long-polling, connected to `/`, with a GET held
/// by the server; returns the held GET's answer.
fn held_poll(server: &Server) -> thread::JoinHandle<String> {
    let base = "/socket.io/?EIO=4&transport=polling";
    let open = server.get(base);
    assert_eq!(open.status, 200, "{}", open.body);
    let sid = open.body[1..].split('"').nth(3).expect("sid").to_owned();
    let target = format!("{base}&sid={sid}");
    assert_eq!(server.http("POST", &target, &[], b"40").body, "ok");
    let mut got = String::new();
    while !got.contains("40{") {
        got += &server.get(&target).body;
    }
    let addr = server.addr;
    // Whatever the namespace emits on connect comes first; the poll after
    // it is held until the shutdown answers it.
    thread::spawn(move || loop {
        let body = http(addr, "GET", &target, &[], b"").body;
        if body.split('\u{1e}').any(|p| p == "1") {
            return body;
        }
    })
}

#[test]
fn sigterm_during_traffic_closes_every_client_and_exits_0_within_the_deadline() {
    let timeout = SHUTDOWN_TIMEOUT.as_secs().to_string();
    let mut server = Server::spawn(
        &[
            "--no-demo",
            "--port",
            "0",
            "--tcp",
            "127.0.0.1:0",
            "--shutdown-timeout",
            &timeout,
        ],
        &[],
    );
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/readyz").status, 200);
    let pongs = Arc::new(AtomicUsize::new(0));
    let tcp = tcp_traffic(&server, pongs.clone());
    let sse = sse(&server);
    let poll = held_poll(&server);
    let before = Instant::now() + WAIT;
    while pongs.load(Ordering::SeqCst) < 20 {
        assert!(Instant::now() < before, "no TCP traffic");
        thread::sleep(Duration::from_millis(5));
    }

    let signalled = Instant::now();
    server.signal("TERM");
    let status = server
        .exit_within(SHUTDOWN_TIMEOUT)
        .unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", server.log.text()));
    let took = signalled.elapsed();
    assert!(status.success(), "exit {status:?}:\n{}", server.log.text());
    // Everything closed at once: no wait for the deadline.
    assert!(took < SHUTDOWN_TIMEOUT / 2, "exited after {took:?}");

    let last = tcp.join().expect("tcp thread");
    assert!(pongs.load(Ordering::SeqCst) >= 20);
    assert!(!last.is_empty(), "the TCP client got lines until EOF");
    let streamed = sse.join().expect("sse thread");
    assert!(streamed.contains("event: wirehub.hello"), "{streamed}");
    // The chunked body's last chunk: the stream ended, it was not cut.
    assert!(streamed.ends_with("0\r\n\r\n"), "{streamed:?}");
    let answer = poll.join().expect("poll thread");
    assert_eq!(
        answer.rsplit('\u{1e}').next(),
        Some("1"),
        "the held poll ends with a close packet: {answer:?}"
    );
    let log = server.log.text();
    assert!(log.contains("every connection closed"), "{log}");
}
