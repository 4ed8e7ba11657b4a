//! The Node reference server (`tests/interop/reference/server.mjs`,
//! socket.io 4.8.4), run with `node` on a port of its choosing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running Node reference server; killed on drop.
pub(crate) struct NodeServer {
    pub(crate) port: u16,
    /// The id the running process acknowledges `instance` with.
    pub(crate) instance: String,
    child: Option<Child>,
    /// Extra environment of the process (kept for restarts).
    env: Vec<(String, String)>,
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
    /// Starts the server; `None` if Node or the npm modules are missing and
    /// the run is not strict (see [`super::require`]: under CI that fails
    /// the test instead).
    pub(crate) fn start_or_skip() -> Option<Self> {
        Self::start_with_or_skip(&[])
    }

    /// [`Self::start_or_skip`] with extra environment variables, e.g.
    /// `RECOVERY_MS` (connection state recovery on).
    pub(crate) fn start_with_or_skip(env: &[(&str, &str)]) -> Option<Self> {
        if let Some(why) = unavailable() {
            super::require(&format!("the Node reference server cannot run: {why}"));
            return None;
        }
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        match Self::spawn(0, env) {
            Ok(server) => Some(server),
            Err(why) => panic!("the Node reference server did not start: {why}"),
        }
    }

    /// Spawns on `port` (0: a free one); waits for its `listening on` line.
    fn spawn(port: u16, env: Vec<(String, String)>) -> Result<Self, String> {
        let script = interop_dir().join("reference/server.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("PORT", port.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn node: {e}"))?;
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // "reference server listening on http://127.0.0.1:PORT (instance ID)"
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let port = rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
                    let instance = rest
                        .split("(instance ")
                        .nth(1)
                        .map(|i| i.trim_end_matches(')').to_owned());
                    let _ = tx.send((port, instance));
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok((Some(port), Some(instance))) => Ok(NodeServer {
                port,
                instance,
                child: Some(child),
                env,
            }),
            other => {
                let _ = child.kill();
                let status = child.wait().ok();
                Err(format!(
                    "no listening line ({other:?}), exit status {status:?}"
                ))
            }
        }
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

    /// Starts a new process on the same port (a new `instance`).
    pub(crate) fn restart(&mut self) {
        self.kill();
        let mut last = String::new();
        for _ in 0..50 {
            match Self::spawn(self.port, self.env.clone()) {
                Ok(server) => {
                    *self = server;
                    return;
                }
                Err(why) => last = why,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the Node reference server did not restart on port {}: {last}",
            self.port
        );
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        self.kill();
    }
}
