#!/usr/bin/env bash
# The WebSocket-layer comparison: wirehub's own framing against the
# WebSocket crates it could use instead, each as a bare echo behind the
# same hyper accept loop and upgrade (src/main.rs), measured by the same
# load generator (bench/loadgen, --bare) and checked by the same
# Autobahn|Testsuite (tests/autobahn/run.sh).
#
#   bench/ws-crates/run.sh                   full comparison (~15 min): bench/results/ws-crates.{md,jsonl}
#   bench/ws-crates/run.sh --smoke           every variant for a second, no Autobahn, no report
#
# Options:
#   --reps N          repetitions of every case (default 2)
#   --variants "a b"  subset of: wirehub tungstenite fastwebsockets tokio-websockets yawc sockudo-ws
#   --no-autobahn     skip the Autobahn|Testsuite runs
#
# Per variant: server RSS per idle connection (10,000 connections), echo
# round-trips of 32 B and 4 KiB text messages per server CPU-second (100
# clients in closed loops), Autobahn cases 1-10 passed. The server runs on
# core 1 with one tokio worker, the generator on core 0, as in bench/run.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

MODE=full
REPS=2
VARIANTS="wirehub tungstenite fastwebsockets tokio-websockets yawc sockudo-ws"
AUTOBAHN=1
while (($#)); do
  case "$1" in
  --smoke) MODE=smoke; REPS=1; AUTOBAHN=0 ;;
  --reps) REPS="$2"; shift ;;
  --variants) VARIANTS="$2"; shift ;;
  --no-autobahn) AUTOBAHN=0 ;;
  -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "ws-crates: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "ws-crates: $*"; }
die() { echo "ws-crates: error: $*" >&2; exit 1; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then
  SERVER_PIN=(taskset -c 1)
  GEN_PIN=(taskset -c 0)
else
  SERVER_PIN=()
  GEN_PIN=()
  say "warning: no pinning (needs taskset and 2+ cores): figures are not per-core comparable"
fi

say "building the echo servers (bench/ws-crates) and the load generator"
CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release --quiet --locked \
  --manifest-path "$HERE/Cargo.toml" || die "bench/ws-crates build failed"
(cd "$ROOT" && cargo build --release --quiet --locked -p wirehub-loadgen --bin loadgen) ||
  die "loadgen build failed"
BIN_DIR="$TARGET_DIR/bench/ws-crates"
LOG_DIR="$BIN_DIR/logs"
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log
# Snapshot the binaries: a rebuild elsewhere must not swap them mid-run.
cp -f "$TARGET_DIR/release/ws-crates-echo" "$BIN_DIR/ws-crates-echo"
cp -f "$TARGET_DIR/release/loadgen" "$BIN_DIR/loadgen"
ECHO="$BIN_DIR/ws-crates-echo"
LOADGEN="$BIN_DIR/loadgen"

if [[ "$MODE" == smoke ]]; then
  CASES="
idle|idle --clients 200 --settle 0.5
echo-32|echo --clients 10 --payload 32 --warmup 0.2 --duration 0.5
"
else
  CASES="
idle|idle --clients 10000 --settle 3
echo-32|echo --clients 100 --payload 32 --warmup 1 --duration 5
echo-4096|echo --clients 100 --payload 4096 --warmup 1 --duration 5
"
fi

SERVER_PID=""
stop_server() {
  [[ -z "$SERVER_PID" ]] && return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT

# wait_port PORT: until the server accepts TCP connections (bounded).
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

RAW="$LOG_DIR/raw.jsonl"
: >"$RAW"
failed=0
port=$((19200 + RANDOM % 500))
for ((rep = 1; rep <= REPS; rep++)); do
  while IFS='|' read -r name args; do
    [[ -z "$name" ]] && continue
    for variant in $VARIANTS; do
      port=$((port + 1))
      tag="$name-$variant-$rep"
      "${SERVER_PIN[@]}" env PORT="$port" TOKIO_WORKER_THREADS=1 "$ECHO" "$variant" \
        >"$LOG_DIR/$tag.server.log" 2>&1 </dev/null &
      SERVER_PID=$!
      line=""
      if wait_port "$port"; then
        # shellcheck disable=SC2086 # $args is a word list by design
        line="$("${GEN_PIN[@]}" timeout -k 5 120 "$LOADGEN" $args --bare --port "$port" \
          --server-pid "$SERVER_PID" --server "$variant" --rep "$rep" --src-ips 32 \
          --clk-tck "$CLK_TCK" 2>"$LOG_DIR/$tag.log" </dev/null)" || line=""
      fi
      stop_server
      if [[ -z "$line" ]]; then
        failed=$((failed + 1))
        say "$tag FAILED (log: ${LOG_DIR#"$ROOT"/}/$tag.log)"
        tail -n 3 "$LOG_DIR/$tag.log" | sed 's/^/ws-crates:     /'
        continue
      fi
      echo "$line" >>"$RAW"
      say "$tag $(python3 "$HERE/report.py" line "$line")"
    done
  done <<<"$CASES"
done

AUTOBAHN_RAW="$LOG_DIR/autobahn.txt"
: >"$AUTOBAHN_RAW"
if ((AUTOBAHN)); then
  for variant in $VARIANTS; do
    say "Autobahn|Testsuite against $variant"
    result="$(ECHO_CMD="$ECHO $variant" AUTOBAHN_AGENT="$variant" \
      "$ROOT/tests/autobahn/run.sh" 2>&1 | tee "$LOG_DIR/autobahn-$variant.log" |
      grep -E '^(autobahn:|behaviours:|FAILED)' || true)"
    printf '%s\n' "$result" | sed 's/^/ws-crates:   /'
    printf '%s\t%s\n' "$variant" "$(printf '%s' "$result" | tr '\n' ';')" >>"$AUTOBAHN_RAW"
  done
fi

((failed == 0)) || die "$failed case(s) failed"
[[ "$MODE" == smoke ]] && { say "smoke passed"; exit 0; }

OUT="$ROOT/bench/results"
cp -f "$RAW" "$OUT/ws-crates.jsonl"
python3 "$HERE/report.py" table "$RAW" "$AUTOBAHN_RAW" "$ROOT" >"$OUT/ws-crates.md"
say "report: bench/results/ws-crates.md"
