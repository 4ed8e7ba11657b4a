//! Samples of /proc: CPU time of a process (all its threads), per-core busy
//! time, resident memory.

use std::time::Instant;

/// One sample of everything the benchmark records about CPU and memory.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) at: Instant,
    /// utime + stime of the server, in clock ticks.
    pub(crate) server_ticks: Option<u64>,
    /// utime + stime of this generator process, in clock ticks.
    pub(crate) gen_ticks: Option<u64>,
    /// Per core: (busy, total) jiffies from /proc/stat.
    pub(crate) cores: Vec<(u64, u64)>,
    /// Server VmRSS in KiB.
    pub(crate) server_rss_kib: Option<u64>,
}

/// Reads a sample now.
pub(crate) fn sample(server_pid: Option<u32>) -> Sample {
    Sample {
        at: Instant::now(),
        server_ticks: server_pid.and_then(|p| cpu_ticks(&format!("/proc/{p}/stat"))),
        gen_ticks: cpu_ticks("/proc/self/stat"),
        cores: cores(),
        server_rss_kib: server_pid.and_then(rss_kib),
    }
}

/// Reads a sample now, the "server" being several processes (the nodes of
/// a cluster): their CPU ticks and RSS summed (`None` if any is gone).
pub(crate) fn sample_all(server_pids: &[u32]) -> Sample {
    let sum = |f: &dyn Fn(u32) -> Option<u64>| -> Option<u64> {
        server_pids.iter().map(|&p| f(p)).sum::<Option<u64>>()
    };
    Sample {
        at: Instant::now(),
        server_ticks: sum(&process_ticks),
        gen_ticks: cpu_ticks("/proc/self/stat"),
        cores: cores(),
        server_rss_kib: sum(&rss_kib),
    }
}

/// utime + stime of a process (all its threads), in clock ticks.
pub(crate) fn process_ticks(pid: u32) -> Option<u64> {
    cpu_ticks(&format!("/proc/{pid}/stat"))
}

/// utime + stime (fields 14 and 15) of /proc/PID/stat: the whole thread group,
/// including threads that already exited.
fn cpu_ticks(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may contain spaces: split after its ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 -> index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// VmRSS of a process, KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// [`rss_kib`] of an optional process.
pub(crate) fn rss_kib_opt(pid: Option<u32>) -> Option<u64> {
    pid.and_then(rss_kib)
}

/// Whether the process still exists (and is not a zombie).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => text
            .rfind(')')
            .and_then(|i| text[i + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Per-core (busy, total) jiffies, in core order.
fn cores() -> Vec<(u64, u64)> {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cpu") else {
            continue;
        };
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            continue; // the aggregate "cpu " line
        }
        let v: Vec<u64> = rest
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest is inside user)
        if v.len() < 8 {
            continue;
        }
        let idle = v[3] + v[4];
        let busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        out.push((busy, busy + idle));
    }
    out
}

/// What happened between two samples.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    pub(crate) secs: f64,
    pub(crate) server_cpu_s: Option<f64>,
    pub(crate) gen_cpu_s: Option<f64>,
    /// Busy share (0..1) of each core.
    pub(crate) cores_busy: Vec<f64>,
}

impl Window {
    pub(crate) fn between(a: &Sample, b: &Sample, clk_tck: u64) -> Window {
        let tck = clk_tck.max(1) as f64;
        let cpu = |x: Option<u64>, y: Option<u64>| match (x, y) {
            (Some(x), Some(y)) => Some(y.saturating_sub(x) as f64 / tck),
            _ => None,
        };
        let cores_busy = a
            .cores
            .iter()
            .zip(&b.cores)
            .map(|(&(b0, t0), &(b1, t1))| {
                let dt = t1.saturating_sub(t0);
                if dt == 0 {
                    0.0
                } else {
                    b1.saturating_sub(b0) as f64 / dt as f64
                }
            })
            .collect();
        Window {
            secs: b.at.duration_since(a.at).as_secs_f64(),
            server_cpu_s: cpu(a.server_ticks, b.server_ticks),
            gen_cpu_s: cpu(a.gen_ticks, b.gen_ticks),
            cores_busy,
        }
    }
}

/// One TCP socket of this network namespace, from /proc/net/tcp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpQueues {
    /// Kernel state number (1 ESTABLISHED, 4 FIN_WAIT1, 8 CLOSE_WAIT, ...).
    pub(crate) state: u8,
    /// Bytes in the send queue (not yet acknowledged by the peer).
    pub(crate) tx: u64,
    /// Bytes in the receive queue (not yet read by the application).
    pub(crate) rx: u64,
}

/// The /proc/net/tcp entry of the IPv4 socket bound to `local` and
/// connected to `remote`, if any.
pub(crate) fn tcp_queues(local: std::net::SocketAddr, remote: std::net::SocketAddr) -> Option<TcpQueues> {
    let hex = |a: std::net::SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) => Some(format!(
            "{:08X}:{:04X}",
            u32::from_ne_bytes(ip.octets()),
            a.port()
        )),
        std::net::IpAddr::V6(_) => None,
    };
    let (l, r) = (hex(local)?, hex(remote)?);
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 || f[1] != l || f[2] != r {
            return None;
        }
        let (tx, rx) = f[4].split_once(':')?;
        Some(TcpQueues {
            state: u8::from_str_radix(f[3], 16).ok()?,
            tx: u64::from_str_radix(tx, 16).ok()?,
            rx: u64::from_str_radix(rx, 16).ok()?,
        })
    })
}
