#!/usr/bin/env bash
# Cluster suite: wirehub nodes and Node socket.io nodes (@socket.io/redis-adapter
# 8.3.0) in one cluster, over Redis (classic and sharded Pub/Sub) and NATS, and
# behind a round-robin proxy without sticky sessions.
#
#   WIREHUB_NODE_CMD="<command starting ONE wirehub node>" tests/cluster/run.sh
#
# WIREHUB_NODE_CMD is run with `bash -c` from the repository root, once per
# wirehub node, with
#   PORT                 listen on 127.0.0.1:$PORT (Socket.IO path /socket.io/)
#   WIREHUB_ADAPTER      redis://127.0.0.1:P, redis-sharded://127.0.0.1:P or
#                        nats://127.0.0.1:4222
#   WIREHUB_ADAPTER_KEY  the key prefix; unset in scenario e (defaults must match)
# and must serve the contract of tests/cluster/node-server.mjs. The Node nodes
# are node-server.mjs. `WIREHUB_NODE_CMD="node tests/cluster/node-server.mjs"`
# makes an all-Node cluster (node-server.mjs reads the WIREHUB_* variables too).
#
# Scenarios (one node:test file each):
#   a  3 wirehub + 1 node, Redis classic adapter (shared Redis, random key)
#   b  2 wirehub + 1 node, Redis sharded adapter (shared Redis, random prefix)
#   c  3 wirehub, NATS (shared NATS, random key)
#   d  2 wirehub (Redis classic) behind rr-proxy.mjs: socket.io-client and
#      python-socketio, polling only and polling + upgrade (first a control
#      through the proxy with one backend)
#   e  1 wirehub + 1 node, Redis classic, private redis-server on a free port,
#      no key set: redis-server killed and restarted while messages flow
#
# Needs: Node >= 20 + npm, python3 (venv), redis-server (scenario e), Redis on
# 127.0.0.1:6379 and NATS on 127.0.0.1:4222 (scripts/services.sh starts them).
# Installs its npm modules (npm ci, pinned by package-lock.json) and the Python
# venv of the interop suite (tests/interop/.venv, from
# tests/interop/python/requirements.lock) when they are missing or stale.
#
# Optional environment (local debugging):
#   CLUSTER_SCENARIOS          e.g. "a e": run only these; ignored when CI=true
#                              (CI always runs every scenario); what is left
#                              out is printed
#   CLUSTER_SCENARIO_TIMEOUT   hard bound per scenario, seconds (default 600;
#                              each test has its own bound of 30-60 s)
#   CLUSTER_STARTUP_TIMEOUT    seconds for a node to answer (default 20)
#
# Prints each scenario, its tests, and as its last line
# `cluster: N passed, M failed`; exits non-zero when anything failed. A
# cancelled (timed out), skipped or todo test counts as failed, and so does a
# scenario that ran no test or whose runner exited non-zero without a failure.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ALL="a b c d e g"
SCENARIO_TIMEOUT="${CLUSTER_SCENARIO_TIMEOUT:-600}"

say() { echo "cluster: $*"; }
die() {
  echo "cluster: error: $*" >&2
  echo "cluster: 0 passed, 1 failed"
  exit 2
}

if [[ -z "${WIREHUB_NODE_CMD:-}" ]]; then
  echo "usage: WIREHUB_NODE_CMD=\"<command starting one wirehub node on \$PORT>\" $0" >&2
  echo "cluster: 0 passed, 1 failed"
  exit 2
fi

# ---------------------------------------------------------------- scenarios
declare -A FILE=(
  [a]="a-mixed-redis.test.mjs" [b]="b-sharded.test.mjs" [c]="c-nats.test.mjs"
  [d]="d-round-robin.test.mjs" [e]="e-redis-restart.test.mjs"
  [g]="g-recovery.test.mjs"
)
declare -A WHAT=(
  [a]="mixed Redis cluster, classic adapter (createAdapter): 3 wirehub + 1 node, shared Redis 127.0.0.1:6379, random key"
  [b]="mixed Redis cluster, sharded adapter (createShardedAdapter): 2 wirehub + 1 node, shared Redis 127.0.0.1:6379, random channelPrefix"
  [c]="NATS cluster: 3 wirehub (no Node node: Node has no NATS adapter of this protocol), NATS 127.0.0.1:4222, random key"
  [d]="round-robin proxy without stickiness: 2 wirehub (Redis classic, random key) behind rr-proxy.mjs; socket.io-client + python-socketio, polling only and with upgrade; control through 1 backend first"
  [e]="Redis restart: 1 wirehub + 1 node (Redis classic), private redis-server on a free port, no key set on either side; SIGKILL at 2 s, restart at 3.5 s"
  [g]="connection-state recovery across 2 wirehub nodes (Redis classic and sharded, random key): cut from one node, recovered on the other (socket.io-client, WebSocket and polling)"
)

want="${CLUSTER_SCENARIOS:-$ALL}"
if [[ "${CI:-}" == "true" && "$want" != "$ALL" ]]; then
  say "CI=true: CLUSTER_SCENARIOS=\"$want\" ignored, every scenario runs"
  want="$ALL"
fi
RUN=() LEFT_OUT=()
for s in $want; do
  [[ -n "${FILE[$s]:-}" ]] || die "unknown scenario \"$s\" in CLUSTER_SCENARIOS (known: $ALL)"
done
for s in $ALL; do
  if [[ " $want " == *" $s "* ]]; then RUN+=("$s"); else LEFT_OUT+=("$s"); fi
done
((${#RUN[@]} > 0)) || die "no scenario selected"

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- dependencies
stamp="$HERE/node_modules/.cluster-lock-sha256"
want_hash="$(hash_of "$HERE/package-lock.json")"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want_hash" ]]; then
  say "installing JS dependencies (npm ci)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
  echo "$want_hash" >"$stamp"
fi

# the interop suite's venv (same location and stamp as tests/interop/run.sh)
VENV="$ROOT/tests/interop/.venv"
if [[ " ${RUN[*]} " == *" d "* ]]; then
  lock="$ROOT/tests/interop/python/requirements.lock"
  pystamp="$VENV/.interop-lock-sha256"
  pywant="$(hash_of "$lock")"
  if [[ ! -f "$pystamp" || "$(cat "$pystamp")" != "$pywant" || ! -x "$VENV/bin/python" ]]; then
    say "installing Python dependencies (venv tests/interop/.venv + pip install -r tests/interop/python/requirements.lock)"
    rm -rf "$VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$lock" || die "pip install failed"
    echo "$pywant" >"$pystamp"
  fi
  export CLUSTER_PYTHON="$VENV/bin/python"
fi

# ---------------------------------------------------------------- work dir, cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cluster.XXXXXX")"
export CLUSTER_WORK="$WORK" CLUSTER_PIDFILE="$WORK/pids"
: >"$CLUSTER_PIDFILE"

# Every process a test starts (nodes, private redis-server) runs in its own
# process group and is listed in $CLUSTER_PIDFILE; the tests stop them, this
# catches what a dead or timed-out test file left behind.
kill_leftovers() {
  local pid left=()
  [[ -s "$CLUSTER_PIDFILE" ]] || return 0
  while read -r pid; do
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && left+=("$pid")
  done <"$CLUSTER_PIDFILE"
  if ((${#left[@]})); then
    say "stopping ${#left[@]} process(es) a test left running: ${left[*]}"
    for pid in "${left[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 30); do
      local alive=0
      for pid in "${left[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    for pid in "${left[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
  fi
  : >"$CLUSTER_PIDFILE"
}
RUNNER_PID=""
stop_runner() {
  [[ -n "$RUNNER_PID" ]] || return 0
  kill -TERM -- "-$RUNNER_PID" 2>/dev/null || kill -TERM "$RUNNER_PID" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$RUNNER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$RUNNER_PID" 2>/dev/null || kill -KILL "$RUNNER_PID" 2>/dev/null
  RUNNER_PID=""
}
cleanup() {
  stop_runner
  kill_leftovers
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- what runs
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ver() { node -p 'require(process.argv[1]).version' "$HERE/node_modules/$1/package.json"; }
say "WIREHUB_NODE_CMD: $WIREHUB_NODE_CMD"
say "node $(node --version), socket.io $(ver socket.io), socket.io-client $(ver socket.io-client), @socket.io/redis-adapter $(ver @socket.io/redis-adapter), redis (client) $(ver redis)"
[[ -n "${CLUSTER_PYTHON:-}" ]] &&
  say "python-socketio $("$CLUSTER_PYTHON" -c 'import importlib.metadata as m; print(m.version("python-socketio"))')"
if command -v redis-server >/dev/null; then
  say "$(redis-server --version | cut -d' ' -f1-3)"
else
  say "warning: redis-server is not installed (scenario e starts its own)"
fi
port_open 6379 && say "shared Redis 127.0.0.1:6379 is up" ||
  say "warning: nothing listens on 127.0.0.1:6379 (Redis; scripts/services.sh starts it): a, b, d will fail"
port_open 4222 && say "shared NATS 127.0.0.1:4222 is up" ||
  say "warning: nothing listens on 127.0.0.1:4222 (NATS; scripts/services.sh starts it): c will fail"
say "scenarios: ${RUN[*]}"
((${#LEFT_OUT[@]})) && say "LEFT OUT (CLUSTER_SCENARIOS=\"$want\"): ${LEFT_OUT[*]}"

# ---------------------------------------------------------------- run
# Compact TAP: one line per test and per scenario diagnostic ("# cluster: ..."),
# the error of each failing test (without expected/actual/stack dumps), the counts.
compact_tap() {
  awk '
    function indent(s) { match(s, /^ */); return RLENGTH }
    function out() { gsub(/\\#/, "#"); print; fflush() }
    /^TAP version/ || /^ *# Subtest:/ || /^ *1\.\.[0-9]+$/ { next }
    /^ *(not )?ok [0-9]+ / { failing = ($0 ~ /^ *not ok/); inyaml = 0; out(); next }
    /^ *---$/ { inyaml = 1; yi = indent($0); dump = 1; next }
    inyaml && /^ *\.\.\.$/ && indent($0) == yi { inyaml = 0; next }
    inyaml {
      if (indent($0) == yi && $0 ~ /^ *[A-Za-z_]+:/) { k = $0; sub(/^ */, "", k); sub(/:.*/, "", k); dump = (k != "error") }
      if (failing && !dump) out()
      next
    }
    /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) / { out(); next }
    /^ *# cluster: / { out(); next }
    /^ *#/ { next }
    { out() }
  '
}

TOTAL_PASS=0 TOTAL_FAIL=0
SUMMARY=()
for s in "${RUN[@]}"; do
  echo
  say "scenario $s: ${WHAT[$s]}"
  tap="$WORK/$s.tap"
  : >"$tap"
  started=$SECONDS
  # The runner runs in the background in its own process group, so that a
  # signal to this script is handled at once (the trap stops the group).
  setsid -w bash -c 'cd "$1" && exec timeout -k 10 "$2" node --test --test-reporter=tap --test-concurrency=1 \
    --test-force-exit "$3"' _ "$ROOT" "$SCENARIO_TIMEOUT" "tests/cluster/${FILE[$s]}" >"$tap" 2>&1 </dev/null &
  RUNNER_PID=$!
  tail -n +1 -s 0.2 --pid="$RUNNER_PID" -f "$tap" | compact_tap &
  SHOW_PID=$!
  wait "$RUNNER_PID"
  rc=$?
  RUNNER_PID=""
  wait "$SHOW_PID"
  took=$((SECONDS - started))
  kill_leftovers
  n() { local v; v="$(sed -n "s/^# $1 \([0-9]*\)\$/\1/p" "$tap" | tail -n1)"; echo "${v:-0}"; }
  tests=$(n tests) pass=$(n pass) fail=$(n fail) cancelled=$(n cancelled) skipped=$(n skipped) todo=$(n todo)
  bad=$((fail + cancelled + skipped + todo))
  notes=()
  ((cancelled)) && notes+=("$cancelled cancelled")
  ((skipped)) && notes+=("$skipped skipped")
  ((todo)) && notes+=("$todo todo")
  if ((tests == 0)); then
    notes+=("ran no test")
    ((bad == 0)) && bad=1
  fi
  if ((rc == 124)); then
    notes+=("timed out after $SCENARIO_TIMEOUT s")
    ((bad == 0)) && bad=1
  elif ((rc != 0 && bad == 0)); then
    notes+=("the runner exited with status $rc without a failing test")
    bad=1
  fi
  if ((bad > 0)); then
    for f in "$WORK"/*.log; do
      [[ -e "$f" ]] || continue
      echo "---- $(basename "$f" .log): last 15 lines ----" >&2
      tail -n 15 "$f" >&2
    done
  fi
  rm -f "$WORK"/*.log
  line="scenario $s: $pass passed, $bad failed ($took s)"
  ((${#notes[@]})) && line+=" [$(IFS=';' && echo "${notes[*]}" | sed 's/;/; /g')]"
  say "$line"
  SUMMARY+=("$line")
  TOTAL_PASS=$((TOTAL_PASS + pass))
  TOTAL_FAIL=$((TOTAL_FAIL + bad))
done

echo
for line in "${SUMMARY[@]}"; do say "$line"; done
((${#LEFT_OUT[@]})) && say "LEFT OUT, not run: ${LEFT_OUT[*]}"
say "$TOTAL_PASS passed, $TOTAL_FAIL failed"
((TOTAL_FAIL == 0))
