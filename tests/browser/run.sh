#!/usr/bin/env bash
# Runs the browser tests of the demo chat page against a server.
#
#   SERVER_CMD="target/release/wirehub serve" tests/browser/run.sh [test files...]
#
# SERVER_CMD is started through bash with PORT=<free port> in its environment
# and must serve the demo on 127.0.0.1:$PORT. Optional environment:
#   ARTIFACTS_DIR     screenshots and the server log (default target/test-artifacts)
#   SERVER_WAIT_SECS  how long the server may take to answer GET / (default 20)
#   PORT_MIN/PORT_MAX range to pick the free port from (default 3401-3499)
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

# A free port on 127.0.0.1, starting at a random point of the range.
PORT="$(PORT_MIN="${PORT_MIN:-3401}" PORT_MAX="${PORT_MAX:-3499}" node -e '
  const net = require("node:net");
  const lo = Number(process.env.PORT_MIN), hi = Number(process.env.PORT_MAX), n = hi - lo + 1;
  const free = (port) => new Promise((resolve) => {
    const srv = net.createServer().once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
  (async () => {
    const start = Math.floor(Math.random() * n);
    for (let i = 0; i < n; i++) {
      const port = lo + ((start + i) % n);
      if (await free(port)) { console.log(port); return; }
    }
    console.error("no free port in " + lo + "-" + hi);
    process.exit(1);
  })();
')"
URL="http://127.0.0.1:$PORT"
LOG="$ARTIFACTS_DIR/browser-test-server.log"

# The server runs in its own session (process group) so that everything it
# spawns is stopped with it.
echo "run: starting server on $URL: $SERVER_CMD" >&2
PORT="$PORT" setsid bash -c "$SERVER_CMD" >"$LOG" 2>&1 </dev/null &
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

# Wait until GET / answers 200.
now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo "$((t / 1000))"; }
deadline=$(( $(now_ms) + ${SERVER_WAIT_SECS:-20} * 1000 ))
until node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
' "$URL/"; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run: the server exited before answering" >&2; show_log; exit 1
  fi
  if [ "$(now_ms)" -ge "$deadline" ]; then
    echo "run: the server did not answer GET / with 200 in time" >&2; show_log; exit 1
  fi
  sleep 0.2
done

if [ "$#" -eq 0 ]; then set -- "$HERE"/*.test.mjs; fi
status=0
SERVER_URL="$URL" timeout --kill-after=10 180 \
  node --test --test-reporter="${TEST_REPORTER:-tap}" "$@" || status=$?
if [ "$status" -ne 0 ]; then show_log; fi
exit "$status"
