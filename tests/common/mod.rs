//! Shared helpers of the `wirehub` binary's tests: `wirehub serve` in a
//! child process on ports of its choosing (read back from its log, so what
//! a test reaches is that very process), a blocking HTTP/1.1 client, and a
//! line reader with a deadline for child processes' output.
//!
//! Every child runs without the `WIREHUB_*` and `PORT` variables of the
//! environment the tests run in: only what a test sets reaches it.

// Each test binary uses a subset of these helpers.
#![allow(dead_code, unreachable_pub)]

pub mod certs;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_wirehub");

/// The longest any single expected thing may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// `wirehub ARGS`, without the test environment's `WIREHUB_*` and `PORT`.
pub fn wirehub(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("WIREHUB_") || name == "PORT" {
            cmd.env_remove(name);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Lines of a child's output, read on a thread of their own; every wait
/// for one has a deadline, so a child that says nothing fails the test
/// instead of hanging it.
pub struct Lines {
    rx: mpsc::Receiver<String>,
    /// Every line read so far.
    pub all: Arc<Mutex<Vec<String>>>,
}

impl Lines {
    pub fn new(source: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        let all = Arc::new(Mutex::new(Vec::new()));
        let kept = all.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(source).lines().map_while(Result::ok) {
                kept.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.clone());
                let _ = tx.send(line);
            }
        });
        Lines { rx, all }
    }

    pub fn of_stdout(child: &mut Child) -> Lines {
        let out: ChildStdout = child.stdout.take().expect("stdout piped");
        Lines::new(out)
    }

    pub fn of_stderr(child: &mut Child) -> Lines {
        let err: ChildStderr = child.stderr.take().expect("stderr piped");
        Lines::new(err)
    }

    /// The next line, within [`WAIT`]; panics with `what` otherwise (or
    /// when the output ended).
    pub fn next(&self, what: &str) -> String {
        match self.rx.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no {what} within {WAIT:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the output ended before {what}"),
        }
    }

    /// Skips lines until one `accept`s, within [`WAIT`] in all.
    pub fn until(&self, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) if accept(&line) => return line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("no {what} within {WAIT:?}"),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the output ended before {what}")
                }
            }
        }
    }

    /// Everything read so far, one string.
    pub fn text(&self) -> String {
        self.all
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }
}

/// The port in a log line `... on SCHEME://HOST:PORT ...` or `... on HOST:PORT`.
fn port_after(line: &str, marker: &str) -> Option<u16> {
    let rest = line.split(marker).nth(1)?;
    let rest = rest.split("://").last()?;
    let addr = rest.split_whitespace().next()?;
    addr.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

/// A `wirehub serve` process; killed on drop.
pub struct Server {
    /// Where it serves HTTP (host and port from its log).
    pub addr: SocketAddr,
    /// The TCP and UDP gateways, if started.
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    /// Its stderr (the log).
    pub log: Lines,
    child: Child,
}

impl Server {
    /// `wirehub serve --no-demo --port 0`.
    pub fn start() -> Server {
        Server::spawn(&["--no-demo", "--port", "0"], &[])
    }

    /// `wirehub serve ARGS` with `env`; waits for its log to say where it
    /// listens (and where its gateways listen, when asked for).
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
        let wants = |flag: &str, var: &str| {
            args.contains(&flag) || env.iter().any(|(name, _)| *name == var)
        };
        let gateways = (wants("--tcp", "WIREHUB_TCP"), wants("--udp", "WIREHUB_UDP"));
        Server::spawn_with_gateways(args, env, gateways)
    }

    /// [`Server::spawn`], waiting for the TCP and UDP gateways as told
    /// (`(tcp, udp)`: when a configuration file starts them).
    pub fn spawn_with_gateways(
        args: &[&str],
        env: &[(&str, &str)],
        (want_tcp, want_udp): (bool, bool),
    ) -> Server {
        let mut cmd = wirehub(&["serve"]);
        cmd.args(args)
            .env("WIREHUB_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn wirehub serve");
        let log = Lines::of_stderr(&mut child);
        let (mut addr, mut tcp, mut udp) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(15);
        while addr.is_none() || (want_tcp && tcp.is_none()) || (want_udp && udp.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match log.rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    panic!(
                        "wirehub serve {args:?} did not say where it listens (exit {status:?}):\n{}",
                        log.text()
                    );
                }
            };
            // "wirehub listening on http://127.0.0.1:PORT (Socket.IO at /socket.io/)" (https:// with TLS)
            let listening = line
                .split("wirehub listening on http://")
                .nth(1)
                .or_else(|| line.split("wirehub listening on https://").nth(1));
            if let Some(rest) = listening {
                let host_port = rest.split_whitespace().next().unwrap_or("");
                addr = host_port.parse().ok();
            }
            if line.contains("plain TCP (NDJSON) on ") {
                let port = port_after(&line, "plain TCP (NDJSON) on ").expect("tcp port");
                tcp = Some(SocketAddr::from(([127, 0, 0, 1], port)));
            }
            if line.contains("plain UDP (datagrams) on ") {
                let port = port_after(&line, "plain UDP (datagrams) on ").expect("udp port");
                udp = Some(SocketAddr::from(([127, 0, 0, 1], port)));
            }
        }
        Server {
            addr: addr.expect("addr"),
            tcp,
            udp,
            log,
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// One HTTP request.
    pub fn http(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        http(self.addr, method, target, headers, body)
    }

    pub fn get(&self, target: &str) -> Resp {
        self.http("GET", target, &[], b"")
    }

    /// Sends the process signal `name` (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// The exit status, once the process exits within `limit` (`None`:
    /// still running then).
    pub fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body {:?} is not JSON: {e}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), read
/// to its end, within [`WAIT`].
pub fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading the response to {method} {target}: {e}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )
        .unwrap_or(0);
        data = &data[end + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

/// Whether Node and the interop npm module `module` (in
/// `tests/interop/js/node_modules`, installed by `tests/interop/install.sh`)
/// are here. When they are not, a strict run (`CI=true`,
/// `WIREHUB_TEST_STRICT=1`, as `scripts/test.sh` sets) fails on the spot;
/// otherwise the caller skips its test, which is said on stderr.
pub fn node_module_ready(module: &str) -> bool {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop/js/node_modules")
        .join(module)
        .join("package.json");
    let node = Command::new("node").arg("--version").output();
    if node.is_ok_and(|o| o.status.success()) && modules.exists() {
        return true;
    }
    let strict = matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
        || std::env::var("WIREHUB_TEST_STRICT").as_deref() == Ok("1");
    assert!(!strict, "node or the npm module {module} is missing");
    eprintln!("SKIPPED: node or the npm module {module} is missing (tests/interop/install.sh)");
    false
}
