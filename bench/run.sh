#!/usr/bin/env bash
# Side-by-side benchmark: wirehub vs Node socket.io vs socketioxide.
#
#   bench/run.sh              full run (~15 min on an idle 2-core machine, up to ~30 on a busy one): bench/results/latest.{md,svg,json} + BENCHMARKS.md
#   bench/run.sh --smoke      seconds-long smoke of every scenario, no thresholds (CI): bench/results/smoke.*
#
# Options:
#   --reps N                  repetitions of every case (default 2; smoke 1)
#   --servers "a b"           subset of: wirehub node socketioxide
#   --scenarios "a b"         subset of: echo fanout stalled handshake idle polling transports cluster
#                             (stalled: the fan-out without, then with, one client in the room that
#                             stopped reading; transports: wirehub's fan-out with SSE / TCP / Socket.IO
#                             receivers; cluster: cross-node fan-out, 2 nodes on Redis / NATS, wirehub and Node)
#   --ping-interval MS        engine heartbeat of every server (default 5000)
#   --ping-timeout MS         (default 20000)
#   --conformance             run wirehub's examples/conformance.rs itself, and every
#                             server with its fixed 300/200 ms heartbeat
#   --no-quiet-wait           do not wait for the machine to be idle before each case
#   --out DIR                 results directory (default bench/results)
#
# Installs and builds everything itself: wirehub's bench server
# (bench/loadgen/examples/bench-server.rs: the conformance contract) and the
# load generator (cargo, release), socketioxide (bench/peers/socketioxide, its
# own Cargo project, shared target dir), Node socket.io (npm ci in
# bench/peers/node). The server runs on core 1 (TOKIO_WORKER_THREADS=1 for
# the tokio servers), the generator on core 0; the cluster scenario runs two
# servers, both on core 1, on the Redis (127.0.0.1:6379) and NATS
# (127.0.0.1:4222) already running (scripts/services.sh starts them if
# installed). See bench/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

MODE=full
REPS=""
SERVERS="wirehub node socketioxide"
SCENARIOS="echo fanout stalled handshake idle polling transports cluster"
QUIET_WAIT=1
PING_INTERVAL=5000
PING_TIMEOUT=20000
CONFORMANCE=0
OUT_DEFAULT="$HERE/results"
OUT="$OUT_DEFAULT"
ARGS_TEXT="bench/run.sh"
while (($#)); do
  case "$1" in
  --smoke) MODE=smoke ;;
  --reps) REPS="$2"; ARGS_TEXT+=" --reps $2"; shift ;;
  --servers) SERVERS="$2"; ARGS_TEXT+=" --servers \"$2\""; shift ;;
  --scenarios) SCENARIOS="$2"; ARGS_TEXT+=" --scenarios \"$2\""; shift ;;
  --no-quiet-wait) QUIET_WAIT=0; ARGS_TEXT+=" --no-quiet-wait" ;;
  --ping-interval) PING_INTERVAL="$2"; ARGS_TEXT+=" --ping-interval $2"; shift ;;
  --ping-timeout) PING_TIMEOUT="$2"; ARGS_TEXT+=" --ping-timeout $2"; shift ;;
  --conformance) CONFORMANCE=1; PING_INTERVAL=300; PING_TIMEOUT=200; ARGS_TEXT+=" --conformance" ;;
  --out) OUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift ;;
  -h | --help) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$MODE" == smoke ]] && ARGS_TEXT="bench/run.sh --smoke${ARGS_TEXT#bench/run.sh}"
if [[ -z "$REPS" ]]; then
  if [[ "$MODE" == smoke ]]; then REPS=1; else REPS=2; fi
fi

say() { echo "bench: $*"; }
die() { echo "bench: error: $*" >&2; exit 1; }
START_TS=$SECONDS

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# ---------------------------------------------------------------- limits, cores
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
NOFILE="$(ulimit -n)"
NPROC="$(nproc)"
CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"
if ((NPROC >= 2)) && command -v taskset >/dev/null; then
  SERVER_PIN=(taskset -c 1)
  GEN_PIN=(taskset -c 0)
  PINNING="server on core 1 (one core; TOKIO_WORKER_THREADS=1 for tokio servers), load generator on core 0 (single-threaded), via taskset"
else
  SERVER_PIN=()
  GEN_PIN=()
  PINNING="none (needs taskset and 2+ cores): figures are not per-core comparable"
  say "warning: $PINNING"
fi

# ---------------------------------------------------------------- build / install
LOG_DIR="$TARGET_DIR/bench/logs"
BIN_DIR="$TARGET_DIR/bench/bin"
mkdir -p "$LOG_DIR" "$BIN_DIR" "$OUT"
rm -f "$LOG_DIR"/*.log

say "building wirehub bench server and load generator (cargo --release)"
(cd "$ROOT" && cargo build --release --quiet -p wirehub-loadgen --bins --example bench-server) ||
  die "cargo build -p wirehub-loadgen failed"
if ((CONFORMANCE)); then
  (cd "$ROOT" && cargo build --release --quiet --example conformance) || die "cargo build --example conformance failed"
fi
say "building socketioxide peer (bench/peers/socketioxide, cargo --release)"
CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release --quiet --locked \
  --manifest-path "$HERE/peers/socketioxide/Cargo.toml" || die "socketioxide peer build failed"

NODE_DIR="$HERE/peers/node"
stamp="$NODE_DIR/node_modules/.bench-lock-sha256"
want="$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  say "installing Node peer (npm ci in bench/peers/node)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
  echo "$want" >"$stamp"
fi

# Snapshot the binaries: a rebuild elsewhere must not swap them mid-run.
if ((CONFORMANCE)); then
  cp -f "$TARGET_DIR/release/examples/conformance" "$BIN_DIR/wirehub-server"
  WIREHUB_BINARY="examples/conformance.rs"
else
  cp -f "$TARGET_DIR/release/examples/bench-server" "$BIN_DIR/wirehub-server"
  WIREHUB_BINARY="bench/loadgen/examples/bench-server.rs"
fi
cp -f "$TARGET_DIR/release/socketioxide-bench-peer" "$BIN_DIR/socketioxide-bench-peer"
cp -f "$TARGET_DIR/release/loadgen" "$BIN_DIR/loadgen"
LOADGEN="$BIN_DIR/loadgen"

# ---------------------------------------------------------------- servers
SERVER_PID=""
SERVER_PID_B="" # the cluster scenario's second node
stop_pid() {
  local pid="$1"
  [[ -z "$pid" ]] && return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_server() {
  stop_pid "$SERVER_PID"
  stop_pid "$SERVER_PID_B"
  SERVER_PID=""
  SERVER_PID_B=""
}
GEN_PID=""
cleanup() {
  if [[ -n "$GEN_PID" ]]; then kill -TERM "$GEN_PID" 2>/dev/null || true; fi
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ENGINE_ENV=(PING_INTERVAL_MS="$PING_INTERVAL" PING_TIMEOUT_MS="$PING_TIMEOUT")
# start_server NAME PORT LOG [ADAPTER_URL ADAPTER_KEY]: the server process
# itself (taskset and env exec into it, so $! is the PID sampled by the
# generator); sets LAST_PID. With an adapter URL (the cluster scenario) the
# server joins a cluster: WIREHUB_ADAPTER / WIREHUB_ADAPTER_KEY, read by
# wirehub's bench server and by the Node peer alike.
start_server() {
  local name="$1" port="$2" log="$3"
  local env_=("${ENGINE_ENV[@]}" PORT="$port")
  [[ -n "${4:-}" ]] && env_+=(WIREHUB_ADAPTER="$4" WIREHUB_ADAPTER_KEY="$5")
  case "$name" in
  wirehub)
    "${SERVER_PIN[@]}" env "${env_[@]}" TOKIO_WORKER_THREADS=1 \
      "$BIN_DIR/wirehub-server" >"$log" 2>&1 </dev/null &
    ;;
  socketioxide)
    "${SERVER_PIN[@]}" env "${env_[@]}" TOKIO_WORKER_THREADS=1 \
      "$BIN_DIR/socketioxide-bench-peer" >"$log" 2>&1 </dev/null &
    ;;
  node)
    "${SERVER_PIN[@]}" env "${env_[@]}" NODE_ENV=production \
      node "$NODE_DIR/server.mjs" >"$log" 2>&1 </dev/null &
    ;;
  *) die "unknown server $name" ;;
  esac
  LAST_PID=$!
}

# ---------------------------------------------------------------- brokers
# The cluster scenario's brokers: the Redis and NATS already running on
# loopback (shared with the cluster tests; each case uses a fresh random key
# prefix, so nothing of another case or user is seen). Their PIDs are only
# read (CPU time from /proc), never signalled.
REDIS_URL="redis://127.0.0.1:6379"
NATS_URL="nats://127.0.0.1:4222"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
listener_pid() { # listener_pid PORT: PID of the process listening on 127.0.0.1:PORT
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1
}
adapter_of() { # adapter_of VARIANT: "redis" or "nats" (the variant's prefix)
  echo "${1%%/*}"
}

# ---------------------------------------------------------------- cases
# Scenario parameters: "scenario|variant|loadgen arguments" per line.
if [[ "$MODE" == smoke ]]; then
  CASES="
echo|32B|echo --clients 20 --payload 32 --warmup 0.3 --duration 1
echo|4096B|echo --clients 20 --payload 4096 --warmup 0.3 --duration 1
fanout|200@20|fanout --clients 200 --rate 20 --duration 1 --drain 2 --variant 200@20
stalled|200@20|stalled --clients 200 --rate 20 --duration 1 --drain 2 --variant 200@20
handshake|ws|handshake --concurrency 8 --warmup 0.3 --duration 1
idle|500|idle --clients 500 --settle 1
polling|50|polling --clients 50 --rate 10 --duration 1 --drain 2
transports|socketio|fanout --clients 50 --rate 10 --duration 1 --drain 2 --via socketio --variant socketio --scenario transports
transports|sse|fanout --clients 50 --rate 10 --duration 1 --drain 2 --via sse --variant sse --scenario transports
transports|tcp|fanout --clients 50 --rate 10 --duration 1 --drain 2 --via tcp --variant tcp --scenario transports
cluster|redis/100@20|cluster --clients 100 --rate 20 --duration 1 --drain 2 --adapter redis --variant redis/100@20
cluster|nats/100@20|cluster --clients 100 --rate 20 --duration 1 --drain 2 --adapter nats --variant nats/100@20
"
else
  CASES="
echo|32B|echo --clients 100 --payload 32 --warmup 1 --duration 5
echo|4096B|echo --clients 100 --payload 4096 --warmup 1 --duration 5
fanout|1000@20|fanout --clients 1000 --rate 20 --duration 8 --variant 1000@20
fanout|1000@200|fanout --clients 1000 --rate 200 --duration 8 --variant 1000@200
fanout|5000@40|fanout --clients 5000 --rate 40 --duration 8 --variant 5000@40
fanout|10000@20|fanout --clients 10000 --rate 20 --duration 8 --variant 10000@20
stalled|1000@20|stalled --clients 1000 --rate 20 --duration 8 --variant 1000@20
handshake|ws|handshake --concurrency 32 --warmup 1 --duration 5
idle|10000|idle --clients 10000 --settle 6
idle|19000|idle --clients 19000 --settle 6
polling|1000|polling --clients 1000 --rate 10 --duration 8
transports|socketio|fanout --clients 1000 --rate 20 --duration 8 --via socketio --variant socketio --scenario transports
transports|sse|fanout --clients 1000 --rate 20 --duration 8 --via sse --variant sse --scenario transports
transports|tcp|fanout --clients 1000 --rate 20 --duration 8 --via tcp --variant tcp --scenario transports
cluster|redis/1000@20|cluster --clients 1000 --rate 20 --duration 8 --adapter redis --variant redis/1000@20
cluster|redis/100@200|cluster --clients 100 --rate 200 --duration 8 --adapter redis --variant redis/100@200
cluster|nats/1000@20|cluster --clients 1000 --rate 20 --duration 8 --adapter nats --variant nats/1000@20
cluster|nats/100@200|cluster --clients 100 --rate 200 --duration 8 --adapter nats --variant nats/100@200
"
fi

# applies SCENARIO VARIANT SERVER: whether the case runs. Plain transports
# exist on wirehub only. The cluster scenario runs wirehub and Node
# (socketioxide has no adapter compatible with @socket.io/redis-adapter),
# and Node has no NATS adapter.
applies() {
  case "$1" in
  transports) [[ "$3" == wirehub ]] ;;
  cluster) [[ "$3" == wirehub || ("$3" == node && "$(adapter_of "$2")" == redis) ]] ;;
  *) return 0 ;;
  esac
}
# With the conformance example as wirehub's server there is no TCP gateway.
((CONFORMANCE)) && SCENARIOS="${SCENARIOS/transports/}"

RAW="$LOG_DIR/raw.jsonl"
: >"$RAW"
total=0
while IFS='|' read -r scenario variant _; do
  [[ -z "$scenario" ]] && continue
  [[ " $SCENARIOS " == *" $scenario "* ]] || continue
  for server in $SERVERS; do
    applies "$scenario" "$variant" "$server" || continue
    total=$((total + 1))
  done
done <<<"$CASES"
total=$((total * REPS))
say "$MODE run: $total cases ($REPS repetition(s); servers: $SERVERS; open files: $NOFILE)"

BROKER_INFO="none (no cluster case)"
if [[ " $SCENARIOS " == *" cluster "* ]]; then
  if ! port_open 6379 || ! port_open 4222; then
    say "cluster scenario: Redis or NATS is down; scripts/services.sh starts them if installed"
    "$ROOT/scripts/services.sh" | sed 's/^/bench: /' || true
  fi
  port_open 6379 || say "warning: nothing listens on 127.0.0.1:6379 (Redis): the cluster redis cases will fail"
  port_open 4222 || say "warning: nothing listens on 127.0.0.1:4222 (NATS): the cluster nats cases will fail"
  redis_v="$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
  nats_v="$(nats-server --version 2>/dev/null | sed -n 's/.* v\{0,1\}\([0-9][^ ]*\).*/\1/p')"
  nodes_pin="both cluster nodes on core 1"
  ((${#SERVER_PIN[@]})) || nodes_pin="cluster nodes not pinned"
  BROKER_INFO="Redis ${redis_v:-?} on 127.0.0.1:6379, NATS ${nats_v:-?} on 127.0.0.1:4222, both already running and not pinned (their CPU is reported apart, not charged to the servers); $nodes_pin"
fi

# run_case SCENARIO VARIANT SERVER REP ARGS TAG LOG: one server, one
# generator run; sets `line` (the generator's summary; empty on failure).
run_case() {
  local scenario="$1" variant="$2" server="$3" rep="$4" args="$5" tag="$6" log="$7"
  local port=$((PORT_BASE + (n * 2 + attempt) % 200))
  line=""
  if ((QUIET_WAIT)) && [[ "$MODE" == full ]] && ((QUIET_SPENT < QUIET_BUDGET)); then
    local q0=$SECONDS
    "$LOADGEN" quiet --max-busy 0.12 --timeout 60 >/dev/null 2>>"$log" </dev/null || true
    QUIET_SPENT=$((QUIET_SPENT + SECONDS - q0))
    ((QUIET_SPENT < QUIET_BUDGET)) || say "spent ${QUIET_SPENT}s waiting for an idle machine; not waiting any more"
  fi
  local extra=() adapter_url="" key="" ready=1
  if [[ "$scenario" == cluster ]]; then
    # Two nodes of the same kind on one broker, a fresh key prefix per case,
    # both pinned like a single server (core 1): their CPU is summed.
    local port_b=$((port + 1000)) broker_port
    case "$(adapter_of "$variant")" in
    redis) adapter_url="$REDIS_URL" broker_port=6379 ;;
    nats) adapter_url="$NATS_URL" broker_port=4222 ;;
    *) die "unknown cluster variant $variant" ;;
    esac
    key="bench-$(date +%s)-$RANDOM$RANDOM"
    echo "bench: cluster $adapter_url, key prefix $key, nodes on ports $port and $port_b" >>"$log"
    start_server "$server" "$port_b" "$LOG_DIR/$tag.server-b.log" "$adapter_url" "$key"
    SERVER_PID_B=$LAST_PID
    extra=(--port-b "$port_b" --server-pid-b "$SERVER_PID_B")
    local broker_pid
    broker_pid="$(listener_pid "$broker_port")"
    [[ -n "$broker_pid" ]] && extra+=(--broker-pid "$broker_pid")
    "${GEN_PIN[@]}" "$LOADGEN" wait --port "$port_b" --server-pid "$SERVER_PID_B" --timeout 30 2>>"$log" </dev/null || ready=0
  fi
  start_server "$server" "$port" "$LOG_DIR/$tag.server.log" "$adapter_url" "$key"
  SERVER_PID=$LAST_PID
  if ((ready)) && "${GEN_PIN[@]}" "$LOADGEN" wait --port "$port" --server-pid "$SERVER_PID" --timeout 30 2>>"$log" </dev/null; then
    # Bound every case; the generator has its own internal bounds too.
    # shellcheck disable=SC2086 # $args is a word list by design
    "${GEN_PIN[@]}" timeout -k 5 300 "$LOADGEN" $args --port "$port" --server-pid "$SERVER_PID" \
      --server "$server" --rep "$rep" --src-ips 32 --clk-tck "$CLK_TCK" "${extra[@]}" \
      >"$LOG_DIR/$tag.json" 2>>"$log" </dev/null &
    GEN_PID=$!
    if wait "$GEN_PID"; then
      line="$(grep '^=> ' "$log" | tail -n1 | cut -c4-)"
    fi
    GEN_PID=""
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null || { [[ -n "$SERVER_PID_B" ]] && ! kill -0 "$SERVER_PID_B" 2>/dev/null; }; then
    echo "bench: a server process exited during the case" >>"$log"
    line=""
  fi
  stop_server
  return 0
}

n=0
attempt=1
FAILED=0
QUIET_SPENT=0
QUIET_BUDGET="${BENCH_QUIET_BUDGET:-900}" # seconds, over the whole run
PORT_BASE=$((3400 + RANDOM % 200))
for ((rep = 1; rep <= REPS; rep++)); do
  while IFS='|' read -r scenario variant args; do
    [[ -z "$scenario" ]] && continue
    [[ " $SCENARIOS " == *" $scenario "* ]] || continue
    for server in $SERVERS; do
      applies "$scenario" "$variant" "$server" || continue
      n=$((n + 1))
      tag="$scenario-${variant//\//-}-$server-$rep"
      log="$LOG_DIR/$tag.log"
      t0=$SECONDS
      attempt=1
      while :; do
        run_case "$scenario" "$variant" "$server" "$rep" "$args" "$tag" "$log"
        # A case that overlapped with other work on the machine (a build...)
        # is run once more, after waiting for the machine to be idle.
        if [[ -n "$line" && "$MODE" == full ]] && ((QUIET_WAIT && attempt < 2 && QUIET_SPENT < QUIET_BUDGET)); then
          other="$(grep -o '"other_busy_cores":[0-9.]*' "$LOG_DIR/$tag.json" | cut -d: -f2)"
          if awk -v o="${other:-0}" 'BEGIN { exit !(o >= 0.3) }'; then
            printf 'bench: [%d/%d] %-10s %-6s %-13s #%d overlapped with other work (%s cores), once more\n' \
              "$n" "$total" "$scenario" "$variant" "$server" "$rep" "$other"
            attempt=$((attempt + 1))
            continue
          fi
        fi
        break
      done
      if [[ -z "$line" ]]; then
        FAILED=$((FAILED + 1))
        printf 'bench: [%d/%d] %-10s %-6s %-13s #%d FAILED (log: %s)\n' "$n" "$total" "$scenario" "$variant" "$server" "$rep" "${log#"$ROOT"/}"
        tail -n 5 "$log" | sed 's/^/bench:     /'
        tail -n 3 "$LOG_DIR/$tag.server.log" | sed 's/^/bench:     server: /'
        if [[ -f "$LOG_DIR/$tag.server-b.log" ]]; then
          tail -n 3 "$LOG_DIR/$tag.server-b.log" | sed 's/^/bench:     server B: /'
        fi
        printf '{"scenario":"%s","variant":"%s","server":"%s","rep":%d,"failed":true}\n' \
          "$scenario" "$variant" "$server" "$rep" >>"$RAW"
      else
        cat "$LOG_DIR/$tag.json" >>"$RAW"
        printf 'bench: [%d/%d] %-10s %-6s %-13s #%d %s (%ds)\n' "$n" "$total" "$scenario" "$variant" "$server" "$rep" "$line" $((SECONDS - t0))
      fi
    done
  done <<<"$CASES"
done

# ---------------------------------------------------------------- report
json_str() { # a JSON string literal
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}
lock_version() { # lock_version LOCKFILE CRATE: version of CRATE in a Cargo.lock
  awk -v name="$2" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$1"
}
npm_version() { node -p "require('$NODE_DIR/node_modules/$1/package.json').version" 2>/dev/null || echo "?"; }
SX_LOCK="$HERE/peers/socketioxide/Cargo.lock"
WIREHUB_REV="$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"
CPU_MODEL="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
MEM_TOTAL="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
META="$LOG_DIR/meta.json"
cat >"$META" <<EOF
{
  "date": $(json_str "$(date -u +%Y-%m-%dT%H:%MZ)"),
  "mode": $(json_str "$MODE"),
  "reps": $REPS,
  "command": $(json_str "$ARGS_TEXT"),
  "total_s": $((SECONDS - START_TS)),
  "failed_cases": $FAILED,
  "pinning": $(json_str "$PINNING"),
  "engine_settings": $(json_str "pingInterval $PING_INTERVAL ms, pingTimeout $PING_TIMEOUT ms, max payload 1 MB, otherwise each library's defaults; clients use the WebSocket transport directly, or long-polling without upgrade"),
  "wirehub_server": $(json_str "$WIREHUB_BINARY"),
  "brokers": $(json_str "$BROKER_INFO"),
  "machine": {
    "nproc": $NPROC,
    "cpu_model": $(json_str "$CPU_MODEL"),
    "mem_total": $(json_str "$MEM_TOTAL"),
    "kernel": $(json_str "$(uname -r)"),
    "open_files": $NOFILE
  },
  "versions": {
    "wirehub": $(json_str "$WIREHUB_REV"),
    "rustc": $(json_str "$(rustc -V | cut -d' ' -f2-)"),
    "node": $(json_str "$(node -v)"),
    "socket_io": $(json_str "$(npm_version socket.io)"),
    "engine_io": $(json_str "$(npm_version engine.io)"),
    "ws": $(json_str "$(npm_version ws)"),
    "redis_adapter": $(json_str "$(npm_version @socket.io/redis-adapter)"),
    "node_redis": $(json_str "$(npm_version redis)"),
    "socketioxide": $(json_str "$(lock_version "$SX_LOCK" socketioxide)"),
    "axum": $(json_str "$(lock_version "$SX_LOCK" axum)"),
    "tokio": $(json_str "$(lock_version "$SX_LOCK" tokio)")
  }
}
EOF
if [[ "$MODE" == full && "$OUT" == "$OUT_DEFAULT" ]]; then
  "$LOADGEN" report --raw "$RAW" --meta "$META" --out-dir "$OUT" --name latest \
    --summary "$ROOT/BENCHMARKS.md" --summary-link bench/results --analysis "$HERE/analysis.md" 2>/dev/null
  say "results: bench/results/latest.md, latest.svg, latest.json; summary: BENCHMARKS.md"
elif [[ "$MODE" == full ]]; then
  "$LOADGEN" report --raw "$RAW" --meta "$META" --out-dir "$OUT" --name latest 2>/dev/null
  say "results: $OUT/latest.md, latest.svg, latest.json"
else
  "$LOADGEN" report --raw "$RAW" --meta "$META" --out-dir "$OUT" --name smoke 2>/dev/null
  say "smoke results: ${OUT#"$ROOT"/}/smoke.md"
fi
say "done in $((SECONDS - START_TS)) s; $FAILED failed case(s)"
((FAILED == 0))
