"""Renders the WebSocket-layer comparison (bench/ws-crates/run.sh) as Markdown.

`report.py line JSON`: one run's figures in a few words (progress output).
`report.py table RAW AUTOBAHN ROOT`: the table, from the raw results (one
loadgen JSON line per run), the Autobahn summary (variant, tab, the run's
summary lines joined by ';') and the repository root (for the crates'
versions in bench/ws-crates/Cargo.lock). Medians over the repetitions, with
+-half the min-max range; ratios are each variant's figure over wirehub's.
"""

import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from statistics import median

if sys.argv[1] == "line":
    d = json.loads(sys.argv[2])
    if d["scenario"] == "bare-idle":
        print(f"{d.get('rss_per_conn_kib')} KiB per connection, {d['connected']} connected")
    else:
        print(f"{d['per_server_cpu_s']:.0f} per server CPU-s, generator at {d['gen_cpu_share']:.0%}, "
              f"errors {d['errors']}, mismatches {d['mismatches']}")
    sys.exit(0)

raw_path, autobahn_path, root = sys.argv[2:5]
runs = [json.loads(line) for line in open(raw_path) if line.strip()]
autobahn = {}
for line in open(autobahn_path):
    if "\t" in line:
        variant, summary = line.rstrip("\n").split("\t", 1)
        autobahn[variant] = summary

CRATES = {
    "wirehub": None,
    "tungstenite": "tokio-tungstenite",
    "fastwebsockets": "fastwebsockets",
    "tokio-websockets": "tokio-websockets",
    "yawc": "yawc",
    "sockudo-ws": "sockudo-ws",
}


def lock_version(package):
    text = open(f"{root}/bench/ws-crates/Cargo.lock").read()
    m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(package), text)
    return m.group(1) if m else "?"


def label(variant):
    crate = CRATES.get(variant)
    if crate is None:
        return "wirehub (own framing, `wirehub_proto::websocket`)"
    return f"{crate} {lock_version(crate)}"


def figure(run):
    if run["scenario"] == "bare-idle":
        return run.get("rss_per_conn_kib")
    return run.get("per_server_cpu_s")


def case_of(run):
    if run["scenario"] == "bare-idle":
        return "idle"
    return f"echo-{run['params']['payload']}"


cells = {}
gen_bound = set()
for run in runs:
    key = (case_of(run), run["server"])
    value = figure(run)
    if value is not None:
        cells.setdefault(key, []).append(value)
    if run["scenario"] == "bare-echo" and run.get("gen_cpu_share", 0) >= 0.9:
        gen_bound.add(key)


def med(key):
    values = cells.get(key)
    return (median(values), (max(values) - min(values)) / 2) if values else (None, None)


def fmt(value, spread, digits):
    if value is None:
        return "n/a"
    text = f"{value:,.{digits}f}"
    if spread and value and spread / value >= 0.01:
        text += f" ±{spread / value:.0%}"
    return text


variants = [v for v in CRATES if any(k[1] == v for k in cells)]
base = {case: med((case, "wirehub"))[0] for case in ("idle", "echo-32", "echo-4096")}


def ratio(case, value):
    b = base.get(case)
    return f"{value / b:.2f}×" if value is not None and b else ""


rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
print("# WebSocket layer: wirehub's framing against the WebSocket crates\n")
print(f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%MZ')} · command: `bench/ws-crates/run.sh` · {rustc}")
reps = max((r.get("rep", 1) for r in runs), default=1)
print(f"- Every variant is a bare echo behind the same hyper 1 accept loop and upgrade "
      f"(`bench/ws-crates/src/main.rs`); server on core 1 with one tokio worker, load generator "
      f"(`loadgen --bare`) on core 0; {reps} repetition(s), medians (± half the range).")
print("- Idle: server RSS growth per connection with 10,000 open connections. "
      "Echo: 100 clients in closed loops of one text message, echoed whole; "
      "round-trips per server CPU-second (⚠: generator at ≥ 90% of its core, so the raw rate "
      "is the generator's; the per-CPU-second figure stands).")
print("- Autobahn|Testsuite: cases 1–10 (301), `tests/autobahn/run.sh` with the variant's echo.\n")
print("| variant | idle KiB per connection | ÷ wirehub | echo 32 B per server CPU-s | ÷ wirehub "
      "| echo 4 KiB per server CPU-s | ÷ wirehub | Autobahn 1–10 |")
print("|---|--:|--:|--:|--:|--:|--:|---|")
for v in variants:
    row = [label(v)]
    for case, digits in (("idle", 2), ("echo-32", 0), ("echo-4096", 0)):
        value, spread = med((case, v))
        text = fmt(value, spread, digits)
        if (case, v) in gen_bound:
            text += " ⚠"
        row += [text, ratio(case, value)]
    summary = autobahn.get(v, "")
    m = re.search(r"autobahn: (\d+) passed, (\d+) failed", summary)
    if m:
        failed_cases = re.findall(r"FAILED case ([0-9.]+)", summary)
        text = f"{m.group(1)} passed, {m.group(2)} failed"
        if failed_cases:
            text += " (" + ", ".join(failed_cases) + ")"
        row.append(text)
    else:
        row.append("not run")
    print("| " + " | ".join(row) + " |")
