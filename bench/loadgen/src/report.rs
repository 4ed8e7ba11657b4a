//! `report`: aggregates the raw result lines of a benchmark run (medians and
//! spreads over repetitions) into a Markdown report, an SVG bar chart of the
//! wirehub ÷ peer ratios, a JSON summary and, optionally, BENCHMARKS.md.

use crate::Result;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Options of `report`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    /// Raw results: one JSON object per line (as printed by the scenarios).
    #[arg(long)]
    raw: PathBuf,
    /// Run facts (machine, versions, command, durations) as a JSON object.
    #[arg(long)]
    meta: PathBuf,
    /// Directory for `<name>.md`, `<name>.svg` and `<name>.json`.
    #[arg(long)]
    out_dir: PathBuf,
    /// Base name of the output files.
    #[arg(long, default_value = "latest")]
    name: String,
    /// Also write this summary file (BENCHMARKS.md at the repository root).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Path of the output directory as seen from the summary file (for links).
    #[arg(long, default_value = "bench/results")]
    summary_link: String,
    /// A hand-written Markdown section (profiles, what blocks the targets)
    /// copied into the summary after the caveats.
    #[arg(long)]
    analysis: Option<PathBuf>,
}

/// The servers, in column order: the subject first, then the peers.
const SUBJECT: &str = "wirehub";
const PEERS: [&str; 2] = ["node", "socketioxide"];

fn display(server: &str) -> &str {
    match server {
        "wirehub" => "wirehub",
        "node" => "Node socket.io",
        "socketioxide" => "socketioxide",
        other => other,
    }
}

/// One headline figure: a metric of one scenario variant.
struct Key {
    scenario: &'static str,
    label: &'static str,
    field: &'static str,
    unit: &'static str,
    higher_is_better: bool,
    /// Issue targets on wirehub ÷ Node and wirehub ÷ socketioxide.
    target: [Option<f64>; 2],
    /// Also drawn in the chart.
    chart: bool,
}

const KEYS: &[Key] = &[
    Key {
        scenario: "echo",
        label: "acks per server CPU-s",
        field: "per_server_cpu_s",
        unit: "",
        higher_is_better: true,
        target: [Some(5.0), Some(2.0)],
        chart: true,
    },
    Key {
        scenario: "echo",
        label: "acks/s",
        field: "per_s",
        unit: "/s",
        higher_is_better: true,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "echo",
        label: "p99 round-trip",
        field: "latency_us.p99",
        unit: "µs",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "fanout",
        label: "deliveries per server CPU-s",
        field: "per_server_cpu_s",
        unit: "",
        higher_is_better: true,
        target: [Some(6.0), Some(2.5)],
        chart: true,
    },
    Key {
        scenario: "fanout",
        label: "deliveries/s",
        field: "per_s",
        unit: "/s",
        higher_is_better: true,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "fanout",
        label: "p99 delivery latency",
        field: "latency_us.p99",
        unit: "µs",
        higher_is_better: false,
        target: [Some(0.05), Some(0.2)],
        chart: true,
    },
    Key {
        scenario: "fanout",
        label: "messages lost",
        field: "lost",
        unit: "",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "stalled",
        label: "p99 delivery latency, one client stalled",
        field: "latency_us.p99",
        unit: "µs",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "stalled",
        label: "p99 stalled ÷ baseline (target ≤ 1.2×)",
        field: "p99_ratio",
        unit: "×",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "stalled",
        label: "server RSS growth while stalled",
        field: "rss_growth_kib",
        unit: "KiB",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "handshake",
        label: "connects per server CPU-s",
        field: "per_server_cpu_s",
        unit: "",
        higher_is_better: true,
        target: [Some(10.0), Some(2.0)],
        chart: true,
    },
    Key {
        scenario: "handshake",
        label: "connects/s",
        field: "per_s",
        unit: "/s",
        higher_is_better: true,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "handshake",
        label: "p99 connect",
        field: "latency_us.p99",
        unit: "µs",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "idle",
        label: "RSS per connection",
        field: "rss_per_conn_kib",
        unit: "KiB",
        higher_is_better: false,
        target: [Some(0.25), Some(0.15)],
        chart: true,
    },
    Key {
        scenario: "idle",
        label: "heartbeat CPU (share of a core)",
        field: "server_cpu_share",
        unit: "share",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "polling",
        label: "messages per server CPU-s",
        field: "per_server_cpu_s",
        unit: "",
        higher_is_better: true,
        target: [None, None],
        chart: true,
    },
    Key {
        scenario: "polling",
        label: "messages/s",
        field: "per_s",
        unit: "/s",
        higher_is_better: true,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "polling",
        label: "server CPU (share of a core)",
        field: "server_cpu_share",
        unit: "share",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
    // Cross-node broadcast: wirehub's 2 nodes against Node's 2 nodes on
    // @socket.io/redis-adapter (the NATS variants are compared with Node's
    // Redis figures: Node has no NATS adapter; socketioxide takes no part).
    Key {
        scenario: "cluster",
        label: "deliveries per server CPU-s (2 nodes)",
        field: "per_server_cpu_s",
        unit: "",
        higher_is_better: true,
        target: [Some(3.0), None],
        chart: true,
    },
    Key {
        scenario: "cluster",
        label: "deliveries/s",
        field: "per_s",
        unit: "/s",
        higher_is_better: true,
        target: [None, None],
        chart: false,
    },
    Key {
        scenario: "cluster",
        label: "p99 delivery latency",
        field: "latency_us.p99",
        unit: "µs",
        higher_is_better: false,
        // "A lower p99 than Node".
        target: [Some(1.0), None],
        chart: true,
    },
    Key {
        scenario: "cluster",
        label: "messages lost",
        field: "lost",
        unit: "",
        higher_is_better: false,
        target: [None, None],
        chart: false,
    },
];

const SCENARIO_ORDER: [&str; 8] = [
    "echo",
    "fanout",
    "stalled",
    "handshake",
    "idle",
    "polling",
    "transports",
    "cluster",
];

fn scenario_title(s: &str) -> &str {
    match s {
        "echo" => "echo",
        "fanout" => "fan-out",
        "handshake" => "handshake",
        "idle" => "idle memory",
        "polling" => "long-polling",
        "transports" => "fan-out by receiver transport (wirehub)",
        "cluster" => "cross-node broadcast (2 nodes on one broker)",
        "stalled" => "fan-out with one stalled client in the room",
        other => other,
    }
}

fn get_path(v: &Value, path: &str) -> Option<f64> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    cur.as_f64()
}

/// Median and range of one metric over the repetitions.
#[derive(Debug, Clone, Copy)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

impl Stat {
    fn of(mut xs: Vec<f64>) -> Option<Stat> {
        if xs.is_empty() {
            return None;
        }
        xs.sort_by(|a, b| a.total_cmp(b));
        let n = xs.len();
        let median = if n % 2 == 1 {
            xs[n / 2]
        } else {
            (xs[n / 2 - 1] + xs[n / 2]) / 2.0
        };
        Some(Stat {
            median,
            min: xs[0],
            max: xs[n - 1],
            n,
        })
    }

    /// Half the range relative to the median, in percent.
    fn spread_pct(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / 2.0 / self.median.abs() * 100.0
        }
    }
}

type Group = BTreeMap<(String, String, String), Vec<Value>>;

struct Data {
    /// The runs the medians are taken over.
    groups: Group,
    /// Runs left out: they overlapped with other work on the machine while a
    /// clean run of the same case exists.
    excluded: Group,
    variants: Vec<(String, String)>,
}

/// Busy cores charged to neither the server nor the generator from which a
/// run counts as overlapped with other work.
const OVERLAP: f64 = 0.3;

fn overlapped(r: &Value) -> bool {
    get_path(r, "other_busy_cores").is_some_and(|x| x >= OVERLAP)
}

impl Data {
    fn runs(&self, scenario: &str, variant: &str, server: &str) -> &[Value] {
        self.groups
            .get(&(scenario.to_owned(), variant.to_owned(), server.to_owned()))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    fn stat(&self, scenario: &str, variant: &str, server: &str, field: &str) -> Option<Stat> {
        Stat::of(
            self.runs(scenario, variant, server)
                .iter()
                .filter_map(|r| get_path(r, field))
                .collect(),
        )
    }
}

fn variant_label(scenario: &str, variant: &str) -> String {
    match scenario {
        "echo" => match variant
            .strip_suffix('B')
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(n) if n >= 1024 && n % 1024 == 0 => format!("echo {} KiB", n / 1024),
            Some(n) => format!("echo {n} B"),
            None => format!("echo {variant}"),
        },
        "fanout" => match variant.split_once('@') {
            Some((clients, rate)) => {
                format!("fan-out {} clients × {rate} msg/s", thousands(clients))
            }
            None => format!("fan-out {} clients", thousands(variant)),
        },
        "handshake" => "handshake".to_owned(),
        "idle" => format!("idle {} conns", thousands(variant)),
        "polling" => format!("long-polling {} clients", thousands(variant)),
        "transports" => format!("fan-out via {variant}"),
        "stalled" => match variant.split_once('@') {
            Some((clients, rate)) => format!(
                "stalled client, {} clients × {rate} msg/s",
                thousands(clients)
            ),
            None => format!("stalled client, {} clients", thousands(variant)),
        },
        "cluster" => {
            let (adapter, rest) = cluster_variant(variant);
            match rest.split_once('@') {
                Some((clients, rate)) => format!(
                    "cross-node {} {} clients × {rate} msg/s",
                    adapter_name(adapter),
                    thousands(clients)
                ),
                None => format!("cross-node {} {rest}", adapter_name(adapter)),
            }
        }
        _ => format!("{scenario} {variant}"),
    }
}

/// A cluster variant `adapter/clients@rate` as (adapter, `clients@rate`).
fn cluster_variant(variant: &str) -> (&str, &str) {
    variant.split_once('/').unwrap_or(("redis", variant))
}

/// Order of the cluster adapters in the tables: Node's (Redis) first.
fn adapter_order(adapter: &str) -> usize {
    ["", "redis", "redis-sharded", "nats"]
        .iter()
        .position(|a| *a == adapter)
        .unwrap_or(9)
}

fn adapter_name(adapter: &str) -> &str {
    match adapter {
        "redis" => "Redis",
        "redis-sharded" => "Redis (sharded)",
        "nats" => "NATS",
        other => other,
    }
}

/// The variant of `peer`'s runs that a variant of wirehub's compares with:
/// itself, except in the cluster scenario, where Node runs on Redis only
/// (it has no NATS adapter), so wirehub on NATS is compared with Node on
/// Redis at the same load.
fn peer_variant(scenario: &str, variant: &str) -> String {
    if scenario == "cluster" {
        format!("redis/{}", cluster_variant(variant).1)
    } else {
        variant.to_owned()
    }
}

fn thousands(s: &str) -> String {
    match s.parse::<u64>() {
        Ok(n) if n >= 1000 => {
            let t = n.to_string();
            let mut out = String::new();
            for (i, c) in t.chars().enumerate() {
                if i > 0 && (t.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        }
        _ => s.to_owned(),
    }
}

/// A figure with 3 significant digits and thousands separators.
fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    let digits = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else if a == 0.0 {
        0
    } else {
        3
    };
    let rounded = if a >= 1000.0 {
        let mag = 10f64.powi(a.log10().floor() as i32 - 2);
        (x / mag).round() * mag
    } else {
        x
    };
    let s = format!("{rounded:.digits$}");
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_owned(), format!(".{f}")),
        None => (s.clone(), String::new()),
    };
    let neg = int.starts_with('-');
    let int = int.trim_start_matches('-');
    format!(
        "{}{}{}",
        if neg { "-" } else { "" },
        thousands_str(int),
        frac
    )
}

fn thousands_str(int: &str) -> String {
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An integer count with thousands separators.
fn fmt_count(x: f64) -> String {
    thousands_str(&format!("{}", x.round() as u64))
}

fn fmt_ratio(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn fmt_stat(s: Option<Stat>, unit: &str) -> String {
    match s {
        None => "–".into(),
        Some(s) => {
            let value = match unit {
                "µs" if s.median >= 1000.0 => format!("{} ms", fmt_num(s.median / 1000.0)),
                "share" => format!("{:.0}%", s.median * 100.0),
                "×" => fmt_ratio(s.median),
                "" | "/s" => fmt_num(s.median),
                u => format!("{} {u}", fmt_num(s.median)),
            };
            if s.n > 1 && s.spread_pct() >= 0.5 {
                format!("{value} ±{:.0}%", s.spread_pct())
            } else {
                value
            }
        }
    }
}

fn ratio(data: &Data, key: &Key, variant: &str, peer: &str) -> Option<f64> {
    let ours = data.stat(key.scenario, variant, SUBJECT, key.field)?.median;
    let theirs = data
        .stat(
            key.scenario,
            &peer_variant(key.scenario, variant),
            peer,
            key.field,
        )?
        .median;
    if theirs == 0.0 {
        return if ours == 0.0 { Some(1.0) } else { None };
    }
    Some(ours / theirs)
}

fn target_text(key: &Key) -> String {
    let cmp = if key.higher_is_better { "≥" } else { "≤" };
    match key.target {
        [Some(a), Some(b)] => format!("{cmp}{a}× / {cmp}{b}×"),
        [Some(a), None] => format!("{cmp}{a}× / –"),
        [None, Some(b)] => format!("– / {cmp}{b}×"),
        [None, None] => String::new(),
    }
}

fn met(key: &Key, r: Option<f64>, target: Option<f64>) -> Option<bool> {
    let (r, t) = (r?, target?);
    Some(if key.higher_is_better { r >= t } else { r <= t })
}

fn mark(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => " ✅",
        Some(false) => " ❌",
        None => "",
    }
}

/// Whether the figure is meaningful for a ratio (lost messages are shown,
/// not divided).
fn ratio_applies(key: &Key) -> bool {
    !matches!(key.field, "lost" | "p99_ratio" | "rss_growth_kib")
}

fn ratio_table(data: &Data, headline_only: bool) -> String {
    let mut out = String::new();
    out.push_str("| Scenario | Metric | wirehub | Node socket.io | socketioxide | wirehub ÷ Node | wirehub ÷ socketioxide | Issue target (÷ Node / ÷ sxio) |\n");
    out.push_str("|---|---|--:|--:|--:|--:|--:|:-:|\n");
    // The cluster scenario has a table of its own (`cluster_table`).
    for (scenario, variant) in data.variants.iter().filter(|(s, _)| s != "cluster") {
        for key in KEYS.iter().filter(|k| k.scenario == scenario) {
            if headline_only
                && key.target == [None, None]
                && !key.chart
                && !matches!(key.field, "lost" | "p99_ratio")
            {
                continue;
            }
            let cells: Vec<String> = std::iter::once(SUBJECT)
                .chain(PEERS)
                .map(|s| fmt_stat(data.stat(scenario, variant, s, key.field), key.unit))
                .collect();
            if cells.iter().all(|c| c == "–") {
                continue;
            }
            let mut ratios = Vec::new();
            for (i, peer) in PEERS.iter().enumerate() {
                if !ratio_applies(key) {
                    ratios.push(String::new());
                    continue;
                }
                let r = ratio(data, key, variant, peer);
                let m = met(key, r, key.target[i]);
                ratios.push(format!(
                    "{}{}",
                    r.map(fmt_ratio).unwrap_or_else(|| "–".into()),
                    mark(m)
                ));
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                variant_label(scenario, variant),
                key.label,
                cells[0],
                cells[1],
                cells[2],
                ratios[0],
                ratios[1],
                target_text(key)
            );
        }
    }
    out
}

fn detail_tables(data: &Data) -> String {
    let mut out = String::new();
    for scenario in SCENARIO_ORDER {
        let variants: Vec<&String> = data
            .variants
            .iter()
            .filter(|(s, _)| s == scenario)
            .map(|(_, v)| v)
            .collect();
        if variants.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {}\n", scenario_title(scenario));
        let (rate, lat) = match scenario {
            "echo" => ("acks/s", true),
            "fanout" | "transports" | "cluster" | "stalled" => ("deliveries/s", true),
            "handshake" => ("connects/s", true),
            "idle" => ("conns held", false),
            _ => ("messages/s", true),
        };
        let mut header = format!("| variant | server | runs | {rate} | per server CPU-s | server CPU | generator CPU | core 0 / core 1 busy | other |");
        let mut sep = "|---|---|--:|--:|--:|--:|--:|--:|--:|".to_owned();
        if lat {
            header.push_str(" p50 | p99 |");
            sep.push_str("--:|--:|");
        }
        match scenario {
            "fanout" | "polling" | "transports" | "stalled" => {
                header.push_str(" lost | errors | server RSS |");
                sep.push_str("--:|--:|--:|");
            }
            "cluster" => {
                header.push_str(
                    " p99 local / remote | lost | errors | server RSS (2 nodes) | broker CPU |",
                );
                sep.push_str("--:|--:|--:|--:|--:|");
            }
            "idle" => {
                header.push_str(" RSS before | RSS after | RSS/conn | connect rate | errors |");
                sep.push_str("--:|--:|--:|--:|--:|");
            }
            _ => {
                header.push_str(" errors | server RSS |");
                sep.push_str("--:|--:|");
            }
        }
        let _ = writeln!(out, "{header}\n{sep}");
        for variant in variants {
            for server in std::iter::once(SUBJECT).chain(PEERS) {
                let runs = data.runs(scenario, variant, server);
                if runs.is_empty() {
                    continue;
                }
                let st = |f: &str| data.stat(scenario, variant, server, f);
                let pct = |f: &str| match st(f) {
                    Some(s) => format!("{:.0}%", s.median * 100.0),
                    None => "–".into(),
                };
                let gen = match st("gen_cpu_share") {
                    Some(s) if s.max >= 0.9 => format!("**{:.0}%** ⚠", s.median * 100.0),
                    Some(s) => format!("{:.0}%", s.median * 100.0),
                    None => "–".into(),
                };
                let cores = format!("{} / {}", pct("cores_busy.0"), pct("cores_busy.1"));
                let cores = if runs[0].get("cores_busy").and_then(|c| c.get(1)).is_some() {
                    let c0 = Stat::of(
                        runs.iter()
                            .filter_map(|r| r["cores_busy"][0].as_f64())
                            .collect(),
                    );
                    let c1 = Stat::of(
                        runs.iter()
                            .filter_map(|r| r["cores_busy"][1].as_f64())
                            .collect(),
                    );
                    format!(
                        "{:.0}% / {:.0}%",
                        c0.map_or(0.0, |s| s.median * 100.0),
                        c1.map_or(0.0, |s| s.median * 100.0)
                    )
                } else {
                    cores
                };
                let other = match st("other_busy_cores") {
                    Some(s) if s.max >= OVERLAP => format!("**{:.2}** ⚠", s.median),
                    Some(s) => format!("{:.2}", s.median),
                    None => "–".into(),
                };
                let mut row = format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {other} |",
                    variant_label(scenario, variant),
                    display(server),
                    match data.excluded.get(&(
                        scenario.to_owned(),
                        variant.clone(),
                        server.to_owned()
                    )) {
                        Some(x) => format!("{} (+{} left out)", runs.len(), x.len()),
                        None => runs.len().to_string(),
                    },
                    fmt_stat(st(if scenario == "idle" { "count" } else { "per_s" }), ""),
                    if scenario == "idle" {
                        "–".to_owned()
                    } else {
                        fmt_stat(st("per_server_cpu_s"), "")
                    },
                    pct("server_cpu_share"),
                    gen,
                    cores
                );
                if lat {
                    let _ = write!(
                        row,
                        " {} | {} |",
                        fmt_stat(st("latency_us.p50"), "µs"),
                        fmt_stat(st("latency_us.p99"), "µs")
                    );
                }
                let sum = |f: &str| runs.iter().filter_map(|r| get_path(r, f)).sum::<f64>();
                let rss = |f: &str| match st(f) {
                    Some(s) => format!("{} MiB", fmt_num(s.median / 1024.0)),
                    None => "–".into(),
                };
                match scenario {
                    "fanout" | "polling" | "transports" | "stalled" => {
                        let _ = write!(
                            row,
                            " {} of {} | {} | {} |",
                            fmt_count(sum("lost")),
                            fmt_count(sum("expected")),
                            fmt_count(sum("errors")),
                            rss("server_rss_kib")
                        );
                    }
                    "cluster" => {
                        let _ = write!(
                            row,
                            " {} / {} | {} of {} | {} | {} | {} |",
                            fmt_stat(st("local.latency_us.p99"), "µs"),
                            fmt_stat(st("remote.latency_us.p99"), "µs"),
                            fmt_count(sum("lost")),
                            fmt_count(sum("expected")),
                            fmt_count(sum("errors")),
                            rss("server_rss_kib"),
                            pct("broker_cpu_share")
                        );
                    }
                    "idle" => {
                        let _ = write!(
                            row,
                            " {} | {} | {} | {} | {} |",
                            rss("rss_before_kib"),
                            rss("rss_after_kib"),
                            fmt_stat(st("rss_per_conn_kib"), "KiB"),
                            fmt_stat(st("connect_per_s"), "/s"),
                            fmt_count(sum("errors"))
                        );
                    }
                    _ => {
                        let _ = write!(
                            row,
                            " {} | {} |",
                            fmt_count(sum("errors")),
                            rss("server_rss_kib")
                        );
                    }
                }
                let _ = writeln!(out, "{row}");
            }
        }
    }
    out
}

/// The same fan-out on wirehub with receivers on each transport: medians
/// and ratios to the Socket.IO (WebSocket) receivers. Empty without runs.
fn transport_table(data: &Data) -> String {
    let variants: Vec<&String> = data
        .variants
        .iter()
        .filter(|(s, _)| s == "transports")
        .map(|(_, v)| v)
        .collect();
    if variants.is_empty() {
        return String::new();
    }
    let per_cpu = |v: &str| data.stat("transports", v, SUBJECT, "per_server_cpu_s");
    let p99 = |v: &str| data.stat("transports", v, SUBJECT, "latency_us.p99");
    let base = per_cpu("socketio").map(|s| s.median);
    let base_p99 = p99("socketio").map(|s| s.median);
    let mut out = String::from("| receivers | deliveries per server CPU-s | ÷ Socket.IO | p50 | p99 | p99 ÷ Socket.IO | lost |\n|---|--:|--:|--:|--:|--:|--:|\n");
    for v in variants {
        let runs = data.runs("transports", v, SUBJECT);
        let lost: f64 = runs.iter().filter_map(|r| get_path(r, "lost")).sum();
        let expected: f64 = runs.iter().filter_map(|r| get_path(r, "expected")).sum();
        let ratio = |x: Option<Stat>, b: Option<f64>| match (x, b) {
            (Some(x), Some(b)) if b > 0.0 => fmt_ratio(x.median / b),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {v} | {} | {} | {} | {} | {} | {} of {} |",
            fmt_stat(per_cpu(v), ""),
            ratio(per_cpu(v), base),
            fmt_stat(data.stat("transports", v, SUBJECT, "latency_us.p50"), "µs"),
            fmt_stat(p99(v), "µs"),
            ratio(p99(v), base_p99),
            fmt_count(lost),
            fmt_count(expected)
        );
    }
    out
}

/// The cross-node broadcast: for each load (clients@rate), wirehub on Redis,
/// Node on Redis and wirehub on NATS, with the ratios to Node on Redis and
/// the issue's targets (≥ 3× per server CPU-second, a lower p99). Empty
/// without cluster runs.
fn cluster_table(data: &Data) -> String {
    let mut loads: Vec<&str> = Vec::new();
    for (s, v) in &data.variants {
        let load = cluster_variant(v).1;
        if s == "cluster" && !loads.contains(&load) {
            loads.push(load);
        }
    }
    if loads.is_empty() {
        return String::new();
    }
    let mut adapters: Vec<&str> = data
        .variants
        .iter()
        .filter(|(s, _)| s == "cluster")
        .map(|(_, v)| cluster_variant(v).0)
        .collect();
    adapters.sort_by_key(|a| adapter_order(a));
    adapters.dedup();
    let per_cpu = KEYS
        .iter()
        .find(|k| k.scenario == "cluster" && k.field == "per_server_cpu_s");
    let p99 = KEYS
        .iter()
        .find(|k| k.scenario == "cluster" && k.field == "latency_us.p99");
    let (Some(per_cpu), Some(p99)) = (per_cpu, p99) else {
        return String::new();
    };
    let mut out = String::from(
        "| load | server, adapter | deliveries per server CPU-s | ÷ Node | p50 | p99 | p99 ÷ Node | p99 local / remote | lost | server CPU (2 nodes) | broker CPU |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for load in loads {
        let (clients, rate) = load.split_once('@').unwrap_or((load, "?"));
        let label = format!("{} clients × {rate} msg/s", thousands(clients));
        for adapter in &adapters {
            let variant = format!("{adapter}/{load}");
            for server in [SUBJECT, "node"] {
                let runs = data.runs("cluster", &variant, server);
                if runs.is_empty() {
                    continue;
                }
                let st = |f: &str| data.stat("cluster", &variant, server, f);
                let pct = |f: &str| match st(f) {
                    Some(s) => format!("{:.0}%", s.median * 100.0),
                    None => "–".into(),
                };
                let ratio_cell = |key: &Key| {
                    if server != SUBJECT {
                        return String::new();
                    }
                    let r = ratio(data, key, &variant, "node");
                    format!(
                        "{}{}",
                        r.map(fmt_ratio).unwrap_or_else(|| "–".into()),
                        mark(met(key, r, key.target[0]))
                    )
                };
                let sum = |f: &str| runs.iter().filter_map(|r| get_path(r, f)).sum::<f64>();
                let _ = writeln!(
                    out,
                    "| {label} | {}, {} | {} | {} | {} | {} | {} | {} / {} | {} of {} | {} | {} |",
                    display(server),
                    adapter_name(adapter),
                    fmt_stat(st("per_server_cpu_s"), ""),
                    ratio_cell(per_cpu),
                    fmt_stat(st("latency_us.p50"), "µs"),
                    fmt_stat(st("latency_us.p99"), "µs"),
                    ratio_cell(p99),
                    fmt_stat(st("local.latency_us.p99"), "µs"),
                    fmt_stat(st("remote.latency_us.p99"), "µs"),
                    fmt_count(sum("lost")),
                    fmt_count(sum("expected")),
                    pct("server_cpu_share"),
                    pct("broker_cpu_share"),
                );
            }
        }
    }
    out
}

/// The stalled-client scenario: per server, the other receivers' p99
/// without and with the stalled client, their ratio against the issue's
/// target (≤ 1.2×), and the server's RSS while the client is stalled.
/// Empty without runs.
fn stalled_table(data: &Data) -> String {
    let variants: Vec<&String> = data
        .variants
        .iter()
        .filter(|(s, _)| s == "stalled")
        .map(|(_, v)| v)
        .collect();
    if variants.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| load | server | p99 baseline | p99 with a stalled client | stalled ÷ baseline (target ≤ 1.2×) | p50 baseline / stalled | server RSS before → end of the stalled phase | RSS growth: whole / stalled phase only | stalled bytes in kernel buffers (server send + client receive) | stalled client at the end | lost |\n|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|\n",
    );
    for v in variants {
        let load = match v.split_once('@') {
            Some((clients, rate)) => format!("{} clients × {rate} msg/s", thousands(clients)),
            None => v.clone(),
        };
        for server in std::iter::once(SUBJECT).chain(PEERS) {
            let runs = data.runs("stalled", v, server);
            if runs.is_empty() {
                continue;
            }
            let st = |f: &str| data.stat("stalled", v, server, f);
            let ratio = st("p99_ratio");
            let m = ratio.map(|r| r.median <= 1.2);
            let kib = |f: &str| match st(f) {
                Some(s) if s.median.abs() >= 1024.0 => format!("{} MiB", fmt_num(s.median / 1024.0)),
                Some(s) => format!("{} KiB", fmt_num(s.median)),
                None => "–".into(),
            };
            let mib = |f: &str| match st(f) {
                Some(s) => format!("{} MiB", fmt_num(s.median / 1024.0)),
                None => "–".into(),
            };
            let kernel = {
                let s = st("stall.at_start.server_send_queue");
                let c = st("stall.at_start.client_recv_queue");
                match (s, c) {
                    (Some(s), Some(c)) => format!(
                        "{} + {} KiB{}",
                        fmt_num(s.median / 1024.0),
                        fmt_num(c.median / 1024.0),
                        if runs.iter().all(|r| r["stall"]["confirmed"].as_bool() == Some(true)) {
                            ""
                        } else {
                            " (not confirmed)"
                        }
                    ),
                    _ => "–".into(),
                }
            };
            let mut ends: Vec<&str> = runs
                .iter()
                .filter_map(|r| r["stall"]["at_end"]["server_state"].as_str())
                .collect();
            ends.dedup();
            let lost: f64 = runs.iter().filter_map(|r| get_path(r, "lost")).sum();
            let expected: f64 = runs.iter().filter_map(|r| get_path(r, "expected")).sum();
            let _ = writeln!(
                out,
                "| {load} | {} | {} | {} | {}{} | {} / {} | {} → {} | {} / {} | {kernel} | {} | {} of {} |",
                display(server),
                fmt_stat(st("baseline.latency_us.p99"), "µs"),
                fmt_stat(st("latency_us.p99"), "µs"),
                fmt_stat(ratio, "×"),
                mark(m),
                fmt_stat(st("baseline.latency_us.p50"), "µs"),
                fmt_stat(st("latency_us.p50"), "µs"),
                mib("rss_before_kib"),
                mib("rss_end_kib"),
                kib("rss_growth_kib"),
                kib("rss_growth_during_kib"),
                if ends.is_empty() { "–".to_owned() } else { ends.join(", ") },
                fmt_count(lost),
                fmt_count(expected),
            );
        }
    }
    out
}

const STALLED_INTRO: &str = "The fan-out (receivers in one room, one publisher emitting `to-room` at a fixed rate) measured twice on the same connections: as is (*baseline*), then with one more client in the room that joined and then stopped reading its socket, keeping its TCP connection open (its receive buffer set to 4 KiB; before its phase it asks for 8 MiB of echoes addressed to it alone, 16 KiB each: its kernel buffers fill up, the server's send buffer to `tcp_wmem`'s 4 MiB, and the rest waits in the server; it keeps writing pongs, so the heartbeat does not close it). Latencies are the other receivers'. Issue target: the stalled phase's p99 within 1.2× of the baseline's, and memory bounded while the client is stalled. wirehub's bench server keeps the defaults: a 1,024-packet queue per connection, slow-consumer policy `Disconnect` (the session is closed when its queue is full; the fill and the phase's messages stay below that, so the stalled client is still connected at the end: what is measured is a stalled client kept, not one dropped).";

const CLUSTER_INTRO: &str = "Two server processes of the same kind on one broker (a fresh key prefix per case), both pinned to core 1 (their CPU is summed: *per server CPU-second* counts both nodes), the generator on core 0. The room's receivers are split between the nodes (half on node A: *local*, half on node B: *remote*, reached through the broker); one publisher on node A, not in the room, emits `to-room` at a fixed rate. wirehub runs on Redis (`@socket.io/redis-adapter`'s classic protocol) and on NATS; Node socket.io on `@socket.io/redis-adapter` (it has no NATS adapter, so wirehub on NATS is compared with Node on Redis at the same load); socketioxide has no adapter compatible with `@socket.io/redis-adapter` and takes no part. The broker (shared, not pinned) is not charged to the servers: its CPU is given apart. Issue target: ≥ 3× Node per server CPU-second and a lower p99.";

/// Anomalies worth a line: errors, losses, generator saturation.
fn anomalies(data: &Data) -> Vec<String> {
    let mut out = Vec::new();
    let mut overlapping = Vec::new();
    let mut total_runs = 0;
    for (scenario, variant) in &data.variants {
        for server in std::iter::once(SUBJECT).chain(PEERS) {
            for r in data.runs(scenario, variant, server) {
                total_runs += 1;
                let rep = r["rep"].as_u64().unwrap_or(0);
                let what = format!(
                    "{} / {} / run {rep}",
                    variant_label(scenario, variant),
                    display(server)
                );
                let num = |f: &str| get_path(r, f).unwrap_or(0.0);
                if num("errors") > 0.0 {
                    let mut parts = Vec::new();
                    for (f, label) in [
                        ("connect_failed", "connections or joins that failed"),
                        ("closed_during_run", "connections closed during the run"),
                        ("closed_during_settle", "connections closed while idling"),
                        ("publisher_errors", "publisher connection lost"),
                        ("pong_post_errors", "pong POSTs that failed"),
                        ("mismatches", "acks with an unexpected body"),
                    ] {
                        if num(f) > 0.0 {
                            parts.push(format!("{} {label}", fmt_count(num(f))));
                        }
                    }
                    if let Some(reasons) = r["close_reasons"].as_object().filter(|m| !m.is_empty())
                    {
                        let list: Vec<String> =
                            reasons.iter().map(|(k, v)| format!("{v}× {k}")).collect();
                        parts.push(format!("close reasons: {}", list.join(", ")));
                    }
                    if let Some(e) = r["publisher_error"].as_str() {
                        parts.push(format!("publisher: {e}"));
                    }
                    out.push(format!("{what}: {}", parts.join("; ")));
                }
                if num("lost") > 0.0 {
                    out.push(format!(
                        "{what}: {} of {} messages not delivered within the drain time",
                        fmt_count(num("lost")),
                        fmt_count(num("expected"))
                    ));
                }
                if scenario == "stalled" && r["stall"]["confirmed"].as_bool() == Some(false) {
                    out.push(format!(
                        "{what}: the stalled client's buffers were not seen full in /proc/net/tcp before its phase (at start: {})",
                        r["stall"]["at_start"]
                    ));
                }
                if num("gen_cpu_share") >= 0.9 {
                    out.push(format!(
                        "{what}: load generator at {:.0}% of its core (generator-bound: the raw rate understates the server; its per-CPU-second figure stands)",
                        num("gen_cpu_share") * 100.0
                    ));
                }
                // Closed-loop scenarios saturate by design; a fixed-rate one
                // that saturates the server measures queueing.
                if matches!(scenario.as_str(), "fanout" | "polling" | "cluster" | "stalled")
                    && num("server_cpu_share") >= 0.95
                {
                    out.push(format!(
                        "{what}: server saturated at the offered rate ({:.0}% of its core): its latency is queueing",
                        num("server_cpu_share") * 100.0
                    ));
                }
                if overlapped(r) {
                    overlapping.push(format!("{what} ({:.2})", num("other_busy_cores")));
                }
            }
        }
    }
    if !overlapping.is_empty() {
        out.push(format!(
            "{} of the {total_runs} runs in the medians overlapped with other work on the machine (busy cores charged to neither server nor generator ≥ {OVERLAP}; no clean run of the same case): {}",
            overlapping.len(),
            overlapping.join(", ")
        ));
    }
    let excluded: Vec<String> = data
        .excluded
        .iter()
        .flat_map(|((scenario, variant, server), runs)| {
            runs.iter().map(move |r| {
                format!(
                    "{} / {} / run {} ({:.2})",
                    variant_label(scenario, variant),
                    display(server),
                    r["rep"],
                    get_path(r, "other_busy_cores").unwrap_or(0.0)
                )
            })
        })
        .collect();
    if !excluded.is_empty() {
        out.push(format!(
            "Left out of the medians, as they overlapped with other work while a clean run of the same case exists: {}",
            excluded.join(", ")
        ));
    }
    out
}

/// The issue's absolute memory target, with the measured figures.
fn absolute_target(data: &Data) -> Option<String> {
    let figures: Vec<(String, f64)> = data
        .variants
        .iter()
        .filter(|(s, _)| s == "idle")
        .filter_map(|(s, v)| {
            let st = data.stat(s, v, SUBJECT, "rss_per_conn_kib")?;
            Some((
                format!(
                    "{} KiB with {} connections",
                    fmt_num(st.median),
                    thousands(v)
                ),
                st.median,
            ))
        })
        .collect();
    if figures.is_empty() {
        return None;
    }
    let met = figures.iter().all(|(_, x)| *x <= 4.0);
    Some(format!(
        "Issue's absolute target, ≤ 4 KiB of server RSS per idle WebSocket connection: wirehub {}{}.",
        figures.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(", "),
        mark(Some(met))
    ))
}

// ---------------------------------------------------------------- SVG chart

struct Bar {
    label: String,
    values: [Option<f64>; 2],
    targets: [Option<f64>; 2],
}

fn chart_bars(data: &Data) -> Vec<Bar> {
    let mut bars = Vec::new();
    for (scenario, variant) in &data.variants {
        for key in KEYS.iter().filter(|k| k.scenario == scenario && k.chart) {
            let mut values = [None, None];
            let mut targets = [None, None];
            for (i, peer) in PEERS.iter().enumerate() {
                values[i] = ratio(data, key, variant, peer)
                    .filter(|r| *r > 0.0)
                    .map(|r| if key.higher_is_better { r } else { 1.0 / r });
                targets[i] = key.target[i].map(|t| if key.higher_is_better { t } else { 1.0 / t });
            }
            if values.iter().all(Option::is_none) {
                continue;
            }
            let against = if scenario == "cluster" && cluster_variant(variant).0 != "redis" {
                " (Node on Redis)"
            } else {
                ""
            };
            bars.push(Bar {
                label: format!(
                    "{}: {}{against}",
                    variant_label(scenario, variant),
                    key.label
                ),
                values,
                targets,
            });
        }
    }
    bars
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svg(data: &Data, subtitle: &str) -> String {
    let bars = chart_bars(data);
    let colors = ["#3c873a", "#c2571a"];
    let (label_w, plot_w, right) = (330.0, 520.0, 40.0);
    let row_h = 34.0;
    let top = 78.0;
    let height = top + row_h * bars.len() as f64 + 50.0;
    let width = label_w + plot_w + right;
    // Log scale: 0.1x .. the next power of ten above the largest value/target.
    let max_v = bars
        .iter()
        .flat_map(|b| b.values.iter().chain(b.targets.iter()))
        .flatten()
        .fold(10.0f64, |m, &v| m.max(v));
    let min_v = bars
        .iter()
        .flat_map(|b| b.values.iter())
        .flatten()
        .fold(0.1f64, |m, &v| m.min(v));
    let lo = 10f64.powf(min_v.log10().floor());
    let hi = 10f64.powf(max_v.log10().ceil());
    let x =
        |v: f64| label_w + (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()) * plot_w;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="12" y="22" font-size="15" font-weight="bold">wirehub advantage over each peer (×, log scale; right of 1× = wirehub better)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="40" fill="#555">{}</text>"##,
        esc(subtitle)
    );
    // Legend.
    for (i, peer) in PEERS.iter().enumerate() {
        let lx = 12.0 + i as f64 * 200.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="50" width="12" height="12" fill="{}"/>"#,
            colors[i]
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="60">vs {}</text>"#,
            lx + 16.0,
            display(peer)
        );
    }
    let _ = writeln!(s, r#"<text x="420" y="60">│ = issue target</text>"#);
    // Grid.
    let mut g = lo;
    while g <= hi * 1.0001 {
        let gx = x(g);
        let stroke = if (g - 1.0).abs() < 1e-9 {
            "#000"
        } else {
            "#ddd"
        };
        let _ = writeln!(
            s,
            r#"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{:.1}" stroke="{stroke}"/>"#,
            top + row_h * bars.len() as f64
        );
        let label = if g >= 1.0 {
            format!("{g:.0}×")
        } else {
            format!("{g}×")
        };
        let _ = writeln!(
            s,
            r##"<text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#333">{label}</text>"##,
            top + row_h * bars.len() as f64 + 16.0
        );
        g *= 10.0;
    }
    for (row, bar) in bars.iter().enumerate() {
        let y0 = top + row as f64 * row_h;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y0 + row_h / 2.0 + 4.0,
            esc(&bar.label)
        );
        for (i, color) in colors.iter().enumerate() {
            let by = y0 + 4.0 + i as f64 * 13.0;
            if let Some(v) = bar.values[i] {
                let (x1, x2) = (x(1.0).min(x(v)), x(1.0).max(x(v)));
                let _ = writeln!(
                    s,
                    r#"<rect x="{x1:.1}" y="{by:.1}" width="{:.1}" height="12" fill="{}"/>"#,
                    (x2 - x1).max(1.0),
                    color
                );
                let near_target = bar.targets[i]
                    .map(x)
                    .filter(|t| (t - x2).abs() < 40.0 && v >= 1.0);
                let (tx, anchor) = if v >= 1.0 {
                    (near_target.map_or(x2, |t| t.max(x2)) + 4.0, "start")
                } else {
                    (x1 - 4.0, "end")
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11">{}</text>"#,
                    by + 10.0,
                    fmt_ratio(v)
                );
            }
            if let Some(t) = bar.targets[i] {
                let tx = x(t);
                let _ = writeln!(
                    s,
                    r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#000" stroke-width="2"/>"##,
                    by - 1.0,
                    by + 13.0
                );
            }
        }
    }
    let _ = writeln!(
        s,
        r##"<text x="12" y="{:.1}" fill="#555" font-size="11">Throughput rows: wirehub ÷ peer, per server CPU-second. Latency and memory rows: peer ÷ wirehub (inverted so that right is better).</text>"##,
        height - 10.0
    );
    s.push_str("</svg>\n");
    s
}

// ---------------------------------------------------------------- output

fn meta_str(meta: &Value, path: &str) -> String {
    let mut cur = meta;
    for p in path.split('.') {
        cur = &cur[p];
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => "?".into(),
        other => other.to_string(),
    }
}

fn facts(meta: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "- Date: {} · mode: {} · repetitions: {} · total run time: {}",
        meta_str(meta, "date"),
        meta_str(meta, "mode"),
        meta_str(meta, "reps"),
        fmt_duration(meta["total_s"].as_f64())
    );
    let _ = writeln!(out, "- Command: `{}`", meta_str(meta, "command"));
    let _ = writeln!(
        out,
        "- Machine: {} × {} ({} cores online), {} RAM, Linux {}",
        meta_str(meta, "machine.nproc"),
        meta_str(meta, "machine.cpu_model"),
        meta_str(meta, "machine.nproc"),
        meta_str(meta, "machine.mem_total"),
        meta_str(meta, "machine.kernel")
    );
    let _ = writeln!(out, "- Pinning: {}", meta_str(meta, "pinning"));
    let _ = writeln!(
        out,
        "- Versions: wirehub {} · rustc {} · Node {} · socket.io {} (engine.io {}, ws {}) · socketioxide {} (axum {}, tokio {})",
        meta_str(meta, "versions.wirehub"),
        meta_str(meta, "versions.rustc"),
        meta_str(meta, "versions.node"),
        meta_str(meta, "versions.socket_io"),
        meta_str(meta, "versions.engine_io"),
        meta_str(meta, "versions.ws"),
        meta_str(meta, "versions.socketioxide"),
        meta_str(meta, "versions.axum"),
        meta_str(meta, "versions.tokio"),
    );
    let _ = writeln!(
        out,
        "- Engine settings (all servers): {}",
        meta_str(meta, "engine_settings")
    );
    let _ = writeln!(
        out,
        "- wirehub server: `{}` (the conformance contract)",
        meta_str(meta, "wirehub_server")
    );
    if meta
        .get("brokers")
        .and_then(Value::as_str)
        .is_some_and(|b| !b.starts_with("none"))
    {
        let _ = writeln!(
            out,
            "- Cross-node broadcast: {}; Node on @socket.io/redis-adapter {} (node-redis {})",
            meta_str(meta, "brokers"),
            meta_str(meta, "versions.redis_adapter"),
            meta_str(meta, "versions.node_redis"),
        );
    }
    out
}

fn fmt_duration(s: Option<f64>) -> String {
    match s {
        Some(s) if s >= 60.0 => format!("{}m{:02}s", (s / 60.0).floor(), (s % 60.0).round() as u64),
        Some(s) => format!("{s:.0}s"),
        None => "?".into(),
    }
}

fn summary_rows(data: &Data) -> Vec<Value> {
    let mut rows = Vec::new();
    for (scenario, variant) in &data.variants {
        for key in KEYS.iter().filter(|k| k.scenario == scenario) {
            let mut servers = serde_json::Map::new();
            for s in std::iter::once(SUBJECT).chain(PEERS) {
                let v = if s == SUBJECT {
                    variant.clone()
                } else {
                    peer_variant(scenario, variant)
                };
                if let Some(st) = data.stat(scenario, &v, s, key.field) {
                    servers.insert(
                        s.into(),
                        json!({ "median": st.median, "min": st.min, "max": st.max, "runs": st.n }),
                    );
                }
            }
            if servers.is_empty() {
                continue;
            }
            let mut ratios = serde_json::Map::new();
            for peer in PEERS {
                if let Some(r) = ratio(data, key, variant, peer) {
                    ratios.insert(peer.into(), json!(crate::stats::round(r, 4)));
                }
            }
            rows.push(json!({
                "scenario": scenario,
                "variant": variant,
                "metric": key.label,
                "field": key.field,
                "higher_is_better": key.higher_is_better,
                "servers": servers,
                "wirehub_over_peer": ratios,
                "target": { "node": key.target[0], "socketioxide": key.target[1] },
            }));
        }
    }
    rows
}

pub(crate) fn run(o: Opts) -> Result<()> {
    let raw_text = std::fs::read_to_string(&o.raw)?;
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(&o.meta)?)?;
    let mut runs = Vec::new();
    for line in raw_text.lines().filter(|l| !l.trim().is_empty()) {
        runs.push(serde_json::from_str::<Value>(line)?);
    }
    let mut groups: Group = BTreeMap::new();
    let mut variants: Vec<(String, String)> = Vec::new();
    let mut failures = Vec::new();
    for r in &runs {
        if r["failed"].as_bool() == Some(true) {
            failures.push(format!(
                "{} / {} / run {}: the case failed (generator error, timeout or server exit; see the run's logs)",
                variant_label(r["scenario"].as_str().unwrap_or("?"), r["variant"].as_str().unwrap_or("?")),
                display(r["server"].as_str().unwrap_or("?")),
                r["rep"]
            ));
            continue;
        }
        let key = (
            r["scenario"].as_str().unwrap_or("?").to_owned(),
            r["variant"].as_str().unwrap_or("?").to_owned(),
            r["server"].as_str().unwrap_or("?").to_owned(),
        );
        let sv = (key.0.clone(), key.1.clone());
        if !variants.contains(&sv) {
            variants.push(sv);
        }
        groups.entry(key).or_default().push(r.clone());
    }
    // Scenario order, then numeric variant order.
    variants.sort_by_key(|(s, v)| {
        let si = SCENARIO_ORDER.iter().position(|x| x == s).unwrap_or(99);
        // "4096B", "1000@200" (clients @ msg/s), "redis/1000@20" (cluster:
        // the adapter first): the leading number, then the rate.
        let (adapter, v) = match v.split_once('/') {
            Some((a, rest)) => (a.to_owned(), rest.to_owned()),
            None => (String::new(), v.clone()),
        };
        let (head, rate) = v.split_once('@').unwrap_or((v.as_str(), ""));
        let vn: u64 = head.trim_end_matches('B').parse().unwrap_or(0);
        let rn: u64 = rate.parse().unwrap_or(0);
        (si, adapter_order(&adapter), vn, rn, v.clone())
    });
    let mut excluded: Group = BTreeMap::new();
    for (key, runs) in groups.iter_mut() {
        if runs.iter().any(|r| !overlapped(r)) && runs.iter().any(overlapped) {
            let (clean, other): (Vec<Value>, Vec<Value>) =
                runs.drain(..).partition(|r| !overlapped(r));
            *runs = clean;
            excluded.insert(key.clone(), other);
        }
    }
    let data = Data {
        groups,
        excluded,
        variants,
    };

    let subtitle = format!(
        "{} · {} · server on 1 core, generator on another · medians of {} run(s)",
        meta_str(&meta, "date"),
        meta_str(&meta, "machine.cpu_model"),
        meta_str(&meta, "reps")
    );
    std::fs::create_dir_all(&o.out_dir)?;
    let svg_name = format!("{}.svg", o.name);
    std::fs::write(o.out_dir.join(&svg_name), svg(&data, &subtitle))?;

    let mut anomalies = failures;
    anomalies.extend(self::anomalies(&data));
    let mut md = String::new();
    let _ = writeln!(md, "# wirehub benchmark: {} run\n", meta_str(&meta, "mode"));
    md.push_str(&facts(&meta));
    md.push_str("\nRatios are wirehub ÷ peer on medians. Throughput ratios are taken on work per server CPU-second (the server is pinned to one core, so this is per-core efficiency); latency and memory ratios are plain (lower is better). `±` is half the min–max range over the runs, relative to the median. A run that overlapped with other work on the machine is left out of the medians when a clean run of the same case exists (see Anomalies). ✅/❌ compare with the issue's targets.\n\n");
    let ratios = ratio_table(&data, false);
    // Only the header when no scenario besides the cluster one ran.
    if ratios.lines().count() > 2 {
        md.push_str(&ratios);
    }
    if let Some(t) = absolute_target(&data) {
        let _ = writeln!(md, "\n{t}");
    }
    let _ = writeln!(md, "\n![wirehub advantage over each peer]({svg_name})\n");
    let transports = transport_table(&data);
    if !transports.is_empty() {
        md.push_str("## Plain transports\n\nThe same fan-out on wirehub (1 publisher, receivers in one room), with the receivers on Socket.IO over WebSocket, Server-Sent Events or the raw TCP gateway; throughput per server CPU-second.\n\n");
        md.push_str(&transports);
        md.push('\n');
    }
    let stalled = stalled_table(&data);
    if !stalled.is_empty() {
        md.push_str("## Stalled client\n\n");
        md.push_str(STALLED_INTRO);
        md.push_str("\n\n");
        md.push_str(&stalled);
        md.push('\n');
    }
    let cluster = cluster_table(&data);
    if !cluster.is_empty() {
        md.push_str("## Cross-node broadcast\n\n");
        md.push_str(CLUSTER_INTRO);
        md.push_str("\n\n");
        md.push_str(&cluster);
        md.push('\n');
    }
    md.push_str("## Details\n\nServer and generator CPU are shares of one core over the measurement window (utime+stime of all threads, /proc/PID/stat); core busy shares come from /proc/stat; *other* is busy core time charged to neither process, in cores (interrupts, other processes: ⚠ from 0.3). A generator share near 100% (⚠) means the generator, not the server, limited the throughput.\n");
    md.push_str(&detail_tables(&data));
    md.push_str("\n## Anomalies\n\n");
    if anomalies.is_empty() {
        md.push_str("None: no errors, no lost messages, no generator saturation.\n");
    } else {
        for a in &anomalies {
            let _ = writeln!(md, "- {a}");
        }
    }
    std::fs::write(o.out_dir.join(format!("{}.md", o.name)), &md)?;

    let summary = json!({
        "meta": meta,
        "summary": summary_rows(&data),
        "anomalies": anomalies,
        "runs": runs,
    });
    std::fs::write(
        o.out_dir.join(format!("{}.json", o.name)),
        serde_json::to_string_pretty(&summary)? + "\n",
    )?;

    if let Some(path) = &o.summary {
        let link = o.summary_link.trim_end_matches('/');
        let mut b = String::new();
        b.push_str("# Benchmarks\n\n");
        b.push_str("wirehub against Node [socket.io](https://socket.io) (the reference implementation, default `ws` engine) and [socketioxide](https://github.com/totodore/socketioxide) (Rust, on axum), all serving the same conformance contract, measured by one load generator. Reproduce with one command:\n\n```sh\nbench/run.sh            # full run: ~15 min on an idle 2-core machine\nbench/run.sh --smoke    # seconds-long smoke, no thresholds (CI)\n```\n\n");
        let _ = writeln!(b, "Method, scenarios and caveats: [bench/README.md](bench/README.md). Full tables of this run: [{link}/{}.md]({link}/{}.md); raw figures: [{link}/{}.json]({link}/{}.json).\n", o.name, o.name, o.name, o.name);
        b.push_str("## This run\n\n");
        b.push_str(&facts(&meta));
        b.push_str("\n## Ratios (wirehub ÷ peer)\n\nThroughput ratios are on work per server CPU-second (server pinned to one core); latency and memory ratios are plain, lower is better. Absolute medians beside; `±` is half the min–max range over the runs (runs that overlapped with other work on the machine are left out when a clean run of the same case exists).\n\n");
        b.push_str(&ratio_table(&data, true));
        if let Some(t) = absolute_target(&data) {
            let _ = writeln!(b, "\n{t}");
        }
        let _ = writeln!(
            b,
            "\n![wirehub advantage over each peer]({link}/{svg_name})\n"
        );
        if !transports.is_empty() {
            b.push_str("## Plain transports (wirehub only)\n\nThe same fan-out with the receivers on Socket.IO over WebSocket, Server-Sent Events (`/sse`) or the raw TCP gateway (NDJSON); throughput per server CPU-second, ratios to the Socket.IO receivers.\n\n");
            b.push_str(&transports);
            b.push('\n');
        }
        if !stalled.is_empty() {
            b.push_str("## Stalled client\n\n");
            b.push_str(STALLED_INTRO);
            b.push_str("\n\n");
            b.push_str(&stalled);
            b.push('\n');
        }
        if !cluster.is_empty() {
            b.push_str("## Cross-node broadcast\n\n");
            b.push_str(CLUSTER_INTRO);
            b.push_str("\n\n");
            b.push_str(&cluster);
            b.push('\n');
        }
        b.push_str("## Caveats\n\n");
        b.push_str("- Loopback: every delivery is a `write` whose kernel TCP work (including the receiving side's, done inline on loopback) is charged to the server. That cost is the same for every server and is a large share of each one's CPU per message, so it compresses the ratios compared with user-space work alone.\n");
        b.push_str("- Heartbeat: all servers ping every 5 s (20 s timeout), not the conformance server's 300 ms / 200 ms, with which Node cannot keep 19,000 connections open; `bench/run.sh --conformance` runs that setting.\n");
        b.push_str("- One generator core: in the closed-loop scenarios (echo, handshake) the generator can saturate before a Rust server does (⚠ in the detailed tables); the per-server-CPU-second figures stay valid, the raw rates are then lower bounds.\n");
        b.push_str("- Shared machines: cases that overlapped with other work were run again or left out of the medians (listed below).\n\n");
        if let Some(analysis) = &o.analysis {
            let text = std::fs::read_to_string(analysis)?;
            b.push_str(text.trim_end());
            b.push_str("\n\n");
        }
        b.push_str("## Anomalies in this run\n\n");
        if anomalies.is_empty() {
            b.push_str("None: no errors, no lost messages, no generator saturation.\n");
        } else {
            for a in &anomalies {
                let _ = writeln!(b, "- {a}");
            }
        }
        std::fs::write(path, b)?;
    }
    eprintln!(
        "loadgen: report written to {}",
        o.out_dir.join(format!("{}.md", o.name)).display()
    );
    Ok(())
}
