//! The Node reference server (`tests/interop/reference/server.mjs`,
//! socket.io 4.8.4), run with `node` on a free port.

use super::ports;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Node reference server; killed on drop.
pub(crate) struct NodeServer {
    pub(crate) port: u16,
    child: Option<Child>,
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

/// Why the Node server cannot run here, if it cannot.
pub(crate) fn unavailable() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("`node` is not installed".into());
    }
    let module = interop_dir().join("js/node_modules/socket.io/package.json");
    if !module.exists() {
        return Some(format!(
            "{} is missing (run tests/interop/install.sh)",
            module.display()
        ));
    }
    None
}

impl NodeServer {
    /// Starts the server, or `None` (with a message) if Node or the npm
    /// modules are missing.
    pub(crate) fn start_or_skip() -> Option<Self> {
        if let Some(why) = unavailable() {
            eprintln!("SKIPPED: the Node reference server cannot run: {why}");
            return None;
        }
        for _ in 0..5 {
            if let Some(server) = Self::spawn(ports::free()) {
                return Some(server);
            }
        }
        panic!("the Node reference server did not start");
    }

    /// Starts on the port of a test that restarts its server (or `None`, as
    /// [`Self::start_or_skip`]).
    pub(crate) fn start_fixed_or_skip(port: ports::Fixed) -> Option<Self> {
        if let Some(why) = unavailable() {
            eprintln!("SKIPPED: the Node reference server cannot run: {why}");
            return None;
        }
        let mut server = NodeServer {
            port: port.port(),
            child: None,
        };
        server.restart();
        Some(server)
    }

    /// Spawns on `port`; `None` if it exited (e.g. the port was taken).
    fn spawn(port: u16) -> Option<Self> {
        let script = interop_dir().join("reference/server.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn node");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    let _ = tx.send(());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if rx.recv_timeout(Duration::from_millis(50)).is_ok() {
                return Some(NodeServer {
                    port,
                    child: Some(child),
                });
            }
            if child.try_wait().ok().flatten().is_some() {
                return None;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port.
    pub(crate) fn restart(&mut self) {
        self.kill();
        for _ in 0..50 {
            if let Some(server) = Self::spawn(self.port) {
                *self = server;
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the Node reference server did not restart on port {}",
            self.port
        );
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        self.kill();
    }
}
