//! The benchmark scenarios, plus `wait` (server readiness).

pub(crate) mod cluster;
pub(crate) mod echo;
pub(crate) mod fanout;
pub(crate) mod handshake;
pub(crate) mod idle;
pub(crate) mod polling;
pub(crate) mod soak;
pub(crate) mod stalled;
pub(crate) mod wire;

use crate::http::HttpConn;
use crate::ws::Target;
use crate::{Common, Result};
use clap::Args;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Options of `wait`.
#[derive(Args, Debug)]
pub(crate) struct WaitOpts {
    #[command(flatten)]
    common: Common,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 20.0)]
    timeout: f64,
}

/// Polls `GET /socket.io/?EIO=4&transport=polling` until it answers `0{...}`.
pub(crate) async fn wait(o: WaitOpts) -> Result<()> {
    let target = Rc::new(Target::new(&o.common));
    let deadline = Instant::now() + Duration::from_secs_f64(o.timeout);
    loop {
        let mut conn = HttpConn::new(target.clone());
        if let Ok(r) = conn
            .request("GET", "/socket.io/?EIO=4&transport=polling", b"")
            .await
        {
            if r.status == 200 && r.body.starts_with(b"0") {
                return Ok(());
            }
        }
        if let Some(pid) = o.common.server_pid {
            if !crate::procfs::alive(pid) {
                return Err(format!("server process {pid} exited").into());
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no Engine.IO handshake on port {} within {} s",
                o.common.port, o.timeout
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Options of `quiet`.
#[derive(Args, Debug)]
pub(crate) struct QuietOpts {
    /// Busy share of the whole machine (0..1) under which it counts as quiet.
    #[arg(long, default_value_t = 0.1)]
    max_busy: f64,
    /// Give up (and go ahead) after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
}

/// Waits until the machine is quiet (all cores together below `max_busy`
/// over half a second), so that runs do not overlap with other work such as
/// a build. Prints how long it waited; never fails.
pub(crate) async fn quiet(o: QuietOpts) -> Result<()> {
    let started = Instant::now();
    let mut last = crate::procfs::sample(None);
    let mut busy = 1.0;
    while started.elapsed().as_secs_f64() < o.timeout {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = crate::procfs::sample(None);
        let w = crate::procfs::Window::between(&last, &now, 100);
        busy = w.cores_busy.iter().sum::<f64>() / w.cores_busy.len().max(1) as f64;
        last = now;
        if busy <= o.max_busy {
            break;
        }
    }
    let waited = started.elapsed().as_secs_f64();
    if busy > o.max_busy {
        eprintln!(
            "loadgen: machine still busy ({:.0}%) after {waited:.0} s; going ahead",
            busy * 100.0
        );
    } else if waited > 1.5 {
        eprintln!("loadgen: waited {waited:.0} s for the machine to be quiet");
    }
    println!("{{\"waited_s\":{waited:.1},\"busy\":{busy:.3}}}");
    Ok(())
}

/// A counter shared by the client tasks of one process (single-threaded).
#[derive(Default, Debug)]
pub(crate) struct Counter(Cell<u64>);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.set(self.0.get() + n);
    }
    pub(crate) fn inc(&self) {
        self.add(1);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.get()
    }
}

/// Waits until `done()` holds, printing progress every second; gives up after
/// `timeout` (returns false) or when the server process is gone.
pub(crate) async fn wait_until(
    what: &str,
    timeout: Duration,
    common: &Common,
    mut progress: impl FnMut() -> (bool, String),
) -> bool {
    let deadline = Instant::now() + timeout;
    let mut last_print = Instant::now();
    loop {
        let (done, text) = progress();
        if done {
            return true;
        }
        if last_print.elapsed() >= Duration::from_secs(2) {
            eprintln!("loadgen:   {what}: {text}");
            last_print = Instant::now();
        }
        if Instant::now() >= deadline {
            eprintln!(
                "loadgen:   {what}: gave up after {:.0} s ({text})",
                timeout.as_secs_f64()
            );
            return false;
        }
        if let Some(pid) = common.server_pid {
            if !crate::procfs::alive(pid) {
                eprintln!("loadgen:   {what}: the server process exited ({text})");
                return false;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A payload string of `len` bytes that carries a send timestamp and a
/// sequence number: `T<ns>S<seq>P` padded with `x`.
pub(crate) fn stamped_payload(seq: u64, len: usize) -> String {
    let mut s = format!("T{}S{}P", crate::stats::now_ns(), seq);
    while s.len() < len {
        s.push('x');
    }
    s
}

/// Parses `T<ns>S<seq>P...` at the start of `s`.
pub(crate) fn parse_stamp(s: &str) -> Option<(u64, u64)> {
    let s = s.strip_prefix('T')?;
    let (ts, rest) = s.split_once('S')?;
    let (seq, _) = rest.split_once('P')?;
    Some((ts.parse().ok()?, seq.parse().ok()?))
}

/// A JSON string literal with no escaping needed (our payloads are ASCII
/// letters and digits).
pub(crate) fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}
