#!/usr/bin/env bash
# Runs the browser tests of the demo chat page against a server.
#
#   SERVER_CMD="target/release/wirehub serve" tests/browser/run.sh [test files...]
#
# SERVER_CMD is started through bash with PORT=0 in its environment; it must
# listen on a free port of 127.0.0.1, serve the demo there and log
# `listening on http://127.0.0.1:PORT` (as `wirehub serve` does). Prints
# `browser: N passed, N failed` (a test that failed, timed out, was skipped
# or left todo does not pass) and exits non-zero unless all passed.
# Optional environment:
#   ARTIFACTS_DIR     screenshots, the TAP output and the server log
#                     (default target/test-artifacts)
#   SERVER_WAIT_SECS  how long the server may take to answer GET / (default 20)
#   CHROMIUM_PATH     browser binary (default /usr/bin/chromium)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
: "${SERVER_CMD:?usage: SERVER_CMD=\"...\" $0 [test files...]}"

ARTIFACTS_DIR="${ARTIFACTS_DIR:-$ROOT/target/test-artifacts}"
case "$ARTIFACTS_DIR" in /*) ;; *) ARTIFACTS_DIR="$PWD/$ARTIFACTS_DIR" ;; esac
export ARTIFACTS_DIR
mkdir -p "$ARTIFACTS_DIR"

"$HERE/setup.sh"

LOG="$ARTIFACTS_DIR/browser-test-server.log"

# The server runs in its own session (process group) so that everything it
# spawns is stopped with it. It listens on a port of its own choosing
# (PORT=0) and says which in its log.
echo "run: starting server: $SERVER_CMD" >&2
PORT=0 NO_COLOR=1 setsid bash -c "$SERVER_CMD" >"$LOG" 2>&1 </dev/null &
SERVER_PID=$!

stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

show_log() {
  echo "---- server log (last 40 lines) ----" >&2
  tail -n 40 "$LOG" >&2 || true
}
fail() { # one line, and the tally scripts/test.sh reads
  echo "run: $*" >&2
  show_log
  echo "browser: 0 passed, 1 failed"
  exit 1
}

PORT="$("$ROOT/scripts/listening-port.sh" "$LOG" "$SERVER_PID" "${SERVER_WAIT_SECS:-20}")" ||
  fail "no server port"
URL="http://127.0.0.1:$PORT"

# Wait until GET / answers 200.
now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo "$((t / 1000))"; }
deadline=$(( $(now_ms) + ${SERVER_WAIT_SECS:-20} * 1000 ))
until node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
' "$URL/"; do
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before answering"
  [ "$(now_ms)" -lt "$deadline" ] || fail "the server did not answer GET / with 200 in time"
  sleep 0.2
done

if [ "$#" -eq 0 ]; then set -- "$HERE"/*.test.mjs; fi
# TAP, shown as it comes and kept for the counts: a test that failed, timed
# out (node:test files it as cancelled), was skipped or left todo does not
# pass, nor does a run that crashed before its summary.
TAP="$ARTIFACTS_DIR/browser-tests.tap"
set +e
SERVER_URL="$URL" timeout --kill-after=10 180 \
  node --test --test-reporter=tap "$@" 2>&1 | tee "$TAP"
status=${PIPESTATUS[0]}
set -e
read -r pass fail < <("$ROOT/scripts/tap-counts.sh" browser "$TAP")
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
  echo "run: node --test exited with status $status" >&2
  fail=1
fi
if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
  echo "run: no test ran" >&2
  fail=1
fi
if [ "$fail" -ne 0 ]; then show_log; fi
echo "browser: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
