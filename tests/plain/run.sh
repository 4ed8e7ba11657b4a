#!/usr/bin/env bash
# The plain-transport suite: the cross-transport matrix (official
# socket.io-client over WebSocket and over polling, plain WebSocket, SSE,
# HTTP streaming, long polling + HTTP API, TCP, UDP, SockJS), sockjs-client
# with each SockJS transport, and SSE resume,
# against `wirehub serve` with every gateway on.
#
#   tests/plain/run.sh [test files...]
#
# Starts target/release/wirehub (build it first) on ports of its choosing
# (HTTP, TCP, UDP; read from its log) with a random API key, runs the
# node:test files, prints `plain: N passed, M failed` (a failed, timed-out,
# skipped or todo test does not pass), and exits non-zero on failure.
# Optional environment:
#   WIREHUB_BIN            the server binary (default target/release/wirehub)
#   PLAIN_STARTUP_TIMEOUT  seconds to wait for the server (default 20)
#   PLAIN_SUITE_TIMEOUT    hard bound for all tests, seconds (default 100)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${WIREHUB_BIN:-$ROOT/target/release/wirehub}"
STARTUP_TIMEOUT="${PLAIN_STARTUP_TIMEOUT:-20}"
SUITE_TIMEOUT="${PLAIN_SUITE_TIMEOUT:-100}"

say() { echo "plain: $*"; }
die() {
  echo "plain: error: $*" >&2
  echo "plain: 0 passed, 1 failed"
  exit 2
}

[[ -x "$BIN" ]] || die "no server binary at $BIN (cargo build --release)"

# ---------------------------------------------------------------- npm modules
stamp="$HERE/node_modules/.plain-lock-sha256"
want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  say "installing JS dependencies (npm ci)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
  echo "$want" >"$stamp"
fi

WIREHUB_API_KEY="$(node -p 'require("node:crypto").randomBytes(18).toString("hex")')"
export WIREHUB_API_KEY

# ---------------------------------------------------------------- server
WORK="$(mktemp -d "${TMPDIR:-/tmp}/plain.XXXXXX")"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

stop_server() {
  [[ -z "$SERVER_PID" ]] && return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log_tail() {
  echo "---- server output (last 40 lines) ----" >&2
  tail -n 40 "$SERVER_LOG" >&2
  echo "---------------------------------------" >&2
}

# Every listener on port 0: the server picks free ports and logs them, so
# what the tests reach is this server, whatever else runs on the machine.
say "starting wirehub serve (HTTP, TCP and UDP on ports of its choosing)"
NO_COLOR=1 "$BIN" serve --port 0 --tcp 127.0.0.1:0 --udp 127.0.0.1:0 \
  --api-key "$WIREHUB_API_KEY" \
  >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!
port_of() { # [LABEL]: the port the server logged (for LABEL)
  "$ROOT/scripts/listening-port.sh" "$SERVER_LOG" "$SERVER_PID" "$STARTUP_TIMEOUT" "$@"
}
no_port() {
  server_log_tail
  die "no $1 port in the server log"
}
PORT=$(port_of) || no_port HTTP
TCP_PORT=$(port_of 'plain TCP \(NDJSON\)') || no_port TCP
UDP_PORT=$(port_of 'plain UDP \(datagrams\)') || no_port UDP
export SERVER_URL="http://127.0.0.1:$PORT"
export WIREHUB_TCP_ADDR="127.0.0.1:$TCP_PORT"
export WIREHUB_UDP_ADDR="127.0.0.1:$UDP_PORT"
say "server on $SERVER_URL, tcp $WIREHUB_TCP_ADDR, udp $WIREHUB_UDP_ADDR"

# Up when the HTTP API accepts the key (the gateways are bound before HTTP
# is served, so they are up too).
server_answers() {
  node -e '
    fetch(process.argv[1], {
      headers: { authorization: `Bearer ${process.env.WIREHUB_API_KEY}` },
      signal: AbortSignal.timeout(1000),
    }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
  ' "$SERVER_URL/api/v1/rooms"
}
deadline=$((SECONDS + STARTUP_TIMEOUT))
until server_answers; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=""
    server_log_tail
    die "the server exited (status $rc) before answering"
  fi
  ((SECONDS < deadline)) || {
    server_log_tail
    die "the server did not answer $SERVER_URL/api/v1/rooms within $STARTUP_TIMEOUT s"
  }
  sleep 0.2
done
say "server is up"

# ---------------------------------------------------------------- tests
# Compact TAP: one line per test, details only for failures (without the
# expected:/actual: dumps, which repeat the diff, and stacks), then the counts.
compact_tap() {
  awk '
    /^TAP version/ || /^# Subtest:/ { next }
    /^1\.\.[0-9]+$/ { failing = 0; next }
    /^(not )?ok [0-9]+ / { failing = ($1 == "not"); dump = 0; out(); next }
    /^# (tests|pass|fail|cancelled|skipped|todo|duration_ms) / { out(); next }
    /^  (expected|actual|stack):/ { dump = 1; next }
    /^  [^ ]/ { dump = 0 }
    /^ / || /^#/ { if (failing && !dump) out(); next }
    { out() }
    function out() { print; fflush() }
  '
}

files=()
for f in "$@"; do files+=("$(realpath "$f")"); done # the tests run from $HERE
if [[ "${#files[@]}" -eq 0 ]]; then files=("$HERE"/*.test.mjs); fi
say "socket.io-client $(node -p 'require(process.argv[1]).version' "$HERE/node_modules/socket.io-client/package.json"), node $(node --version)"
(
  cd "$HERE" &&
    timeout -k 5 "$SUITE_TIMEOUT" node --test --test-reporter=tap --test-concurrency=2 \
      --test-force-exit "${files[@]}" 2>&1
) | tee "$WORK/tap" | compact_tap
rc=${PIPESTATUS[0]}
# Failed, cancelled (timed out), skipped and todo tests all count as failed.
read -r pass fail < <("$ROOT/scripts/tap-counts.sh" plain "$WORK/tap")
if ((rc != 0)); then
  ((fail == 0)) && fail=1 # crashed or timed out without a summary
  ((rc == 124)) && echo "plain: error: the tests timed out after $SUITE_TIMEOUT s" >&2
fi
((pass + fail == 0)) && fail=1 # nothing ran
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "plain: error: the server exited during the run" >&2
  ((fail == 0)) && fail=1
fi
((fail > 0)) && server_log_tail
stop_server
echo "plain: $pass passed, $fail failed"
((fail == 0))
