//! Latency samples, percentiles and the JSON result line of a run.

use crate::procfs::{Sample, Window};
use crate::Common;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use std::time::Instant;

/// Nanoseconds since the first call in this process: the clock embedded in
/// payloads (sender and receivers live in the same process).
pub(crate) fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Latency samples in microseconds.
#[derive(Default, Debug)]
pub(crate) struct Latencies(Vec<u32>);

impl Latencies {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Latencies(Vec::with_capacity(n))
    }

    pub(crate) fn push_ns(&mut self, ns: u64) {
        self.0.push((ns / 1000).min(u32::MAX as u64) as u32);
    }

    /// Adds the samples of `other`.
    pub(crate) fn extend_from(&mut self, other: &Latencies) {
        self.0.extend_from_slice(&other.0);
    }

    /// `{"p50":..,"p90":..,"p99":..,"max":..,"samples":n}` in microseconds.
    pub(crate) fn summary(&mut self) -> Value {
        if self.0.is_empty() {
            return json!({ "samples": 0 });
        }
        self.0.sort_unstable();
        let n = self.0.len();
        let pct = |p: f64| {
            let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
            self.0[rank - 1]
        };
        json!({
            "p50": pct(0.50),
            "p90": pct(0.90),
            "p99": pct(0.99),
            "max": self.0[n - 1],
            "samples": n,
        })
    }
}

/// Builder of the one-line JSON result of a scenario run.
pub(crate) struct Report {
    map: Map<String, Value>,
}

impl Report {
    pub(crate) fn new(scenario: &str, variant: &str, common: &Common, params: Value) -> Self {
        let mut map = Map::new();
        map.insert("scenario".into(), json!(scenario));
        map.insert("variant".into(), json!(variant));
        map.insert("server".into(), json!(common.server));
        map.insert("rep".into(), json!(common.rep));
        map.insert("params".into(), params);
        Report { map }
    }

    pub(crate) fn set(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.map.insert(key.into(), value.into());
        self
    }

    /// Records the measurement window: wall time, CPU of both processes, core
    /// shares, server RSS at the end; `count` work units give the rates.
    pub(crate) fn window(&mut self, a: &Sample, b: &Sample, common: &Common, count: u64) -> Window {
        let w = Window::between(a, b, common.clk_tck);
        self.set("window_s", round(w.secs, 3));
        self.set("count", count);
        self.set("per_s", round(count as f64 / w.secs.max(1e-9), 1));
        if let Some(cpu) = w.server_cpu_s {
            self.set("server_cpu_s", round(cpu, 3));
            self.set("server_cpu_share", round(cpu / w.secs.max(1e-9), 3));
            if cpu > 0.0 {
                self.set("per_server_cpu_s", round(count as f64 / cpu, 1));
            }
        }
        if let Some(cpu) = w.gen_cpu_s {
            self.set("gen_cpu_s", round(cpu, 3));
            self.set("gen_cpu_share", round(cpu / w.secs.max(1e-9), 3));
        }
        self.set(
            "cores_busy",
            w.cores_busy
                .iter()
                .map(|&x| round(x, 3))
                .collect::<Vec<_>>(),
        );
        // Busy core time not charged to the server or the generator (in cores):
        // interrupt/softirq time and any other process on the machine.
        if let (Some(s), Some(g)) = (w.server_cpu_s, w.gen_cpu_s) {
            let busy: f64 = w.cores_busy.iter().sum();
            let other = busy - (s + g) / w.secs.max(1e-9);
            self.set("other_busy_cores", round(other.max(0.0), 3));
        }
        if let Some(rss) = b.server_rss_kib {
            self.set("server_rss_kib", rss);
        }
        w
    }

    /// Prints the line on stdout, and a short human summary on stderr.
    pub(crate) fn emit(self) {
        eprintln!("=> {}", self.human());
        println!("{}", Value::Object(self.map));
    }

    fn human(&self) -> String {
        let m = &self.map;
        let f = |k: &str| m.get(k).and_then(Value::as_f64);
        let mut parts = Vec::new();
        let scenario = m.get("scenario").and_then(Value::as_str).unwrap_or("");
        if scenario == "idle" {
            if let Some(x) = f("rss_per_conn_kib") {
                parts.push(format!("{x:.2} KiB/conn"));
            }
            if let (Some(a), Some(b)) = (f("rss_before_kib"), f("rss_after_kib")) {
                parts.push(format!("RSS {:.1} -> {:.1} MiB", a / 1024.0, b / 1024.0));
            }
            if let Some(x) = f("connect_per_s") {
                parts.push(format!("{x:.0} conn/s"));
            }
        } else {
            if let Some(x) = f("per_s") {
                parts.push(format!("{}/s", compact(x)));
            }
            if let Some(x) = f("per_server_cpu_s") {
                parts.push(format!("{}/server-CPU-s", compact(x)));
            }
        }
        if let Some(x) = f("server_cpu_share") {
            parts.push(format!("server {:.0}%", x * 100.0));
        }
        if let Some(x) = f("gen_cpu_share") {
            parts.push(format!("gen {:.0}%", x * 100.0));
        }
        if let Some(l) = m.get("latency_us") {
            if let (Some(a), Some(b)) = (
                l.get("p50").and_then(Value::as_f64),
                l.get("p99").and_then(Value::as_f64),
            ) {
                parts.push(format!("p50 {:.2} ms p99 {:.2} ms", a / 1000.0, b / 1000.0));
            }
        }
        if let (Some(a), Some(b)) = (
            m.get("local").and_then(|l| l["latency_us"]["p99"].as_f64()),
            m.get("remote")
                .and_then(|l| l["latency_us"]["p99"].as_f64()),
        ) {
            parts.push(format!(
                "p99 local {:.2} ms remote {:.2} ms",
                a / 1000.0,
                b / 1000.0
            ));
        }
        if let Some(x) = f("broker_cpu_share") {
            parts.push(format!("broker {:.0}%", x * 100.0));
        }
        if let Some(x) = f("lost").filter(|x| *x > 0.0) {
            parts.push(format!("LOST {x}"));
        }
        if let Some(x) = f("errors").filter(|x| *x > 0.0) {
            parts.push(format!("ERRORS {x}"));
        }
        if let Some(x) = f("other_busy_cores").filter(|x| *x > 0.25) {
            parts.push(format!("other load {x:.2} cores"));
        }
        parts.join(", ")
    }
}

pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// 12.3k style figure.
fn compact(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
