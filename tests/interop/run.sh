#!/usr/bin/env bash
# Interop suites: the official socket.io clients (socket.io-client for JS,
# python-socketio for Python) against a conformance server.
#
#   SERVER_CMD="node tests/interop/reference/server.mjs" tests/interop/run.sh
#
# SERVER_CMD is run with `bash -c` from the repository root, with PORT=0; it
# must listen on a free port of 127.0.0.1 (Socket.IO path /socket.io/) and
# log `listening on http://127.0.0.1:PORT` (the reference server and the
# conformance example do), so the suites reach that very process.
#
# Prints `interop: N passed, N failed` (a failed, timed-out, skipped or todo
# test does not pass) and exits non-zero unless every test of every suite
# run passed. Optional environment:
#   INTEROP_SUITES           "js python" (default) or just one of them; any
#                            other value is an error (scripts/test.sh always
#                            runs both)
#   INTEROP_STARTUP_TIMEOUT  seconds to wait for the server (default 20)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITES="${INTEROP_SUITES:-js python}"
for suite in $SUITES; do
  [[ "$suite" == js || "$suite" == python ]] || {
    echo "interop: error: unknown suite $suite in INTEROP_SUITES (js, python)" >&2
    echo "interop: 0 passed, 1 failed"
    exit 2
  }
done
[[ " $SUITES " == *" js "* && " $SUITES " == *" python "* ]] ||
  echo "interop: note: INTEROP_SUITES=\"$SUITES\": only these suites run"
STARTUP_TIMEOUT="${INTEROP_STARTUP_TIMEOUT:-20}"
SUITE_TIMEOUT=900 # hard bound for one whole suite (each test is bounded on its own: 20 s JS, 30 s Python)

if [[ -z "${SERVER_CMD:-}" ]]; then
  echo "usage: SERVER_CMD=\"<command starting the server on \$PORT>\" $0" >&2
  exit 2
fi

say() { echo "interop: $*"; }
die() {
  echo "interop: error: $*" >&2
  echo "interop: 0 passed, 1 failed"
  exit 2
}

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- dependencies
install_js() {
  "$HERE/install.sh" || die "npm ci failed"
}

VENV="$HERE/.venv"
install_python() {
  local stamp="$VENV/.interop-lock-sha256"
  local want
  want="$(hash_of "$HERE/python/requirements.lock")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$VENV/bin/python" ]]; then return 0; fi
  say "installing Python dependencies (venv + pip install -r requirements.lock)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    -r "$HERE/python/requirements.lock" || die "pip install failed"
  echo "$want" >"$stamp"
}

[[ " $SUITES " == *" js "* ]] && install_js
[[ " $SUITES " == *" python "* ]] && install_python

# ---------------------------------------------------------------- server
WORK="$(mktemp -d "${TMPDIR:-/tmp}/interop.XXXXXX")"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

stop_server() {
  [[ -z "$SERVER_PID" ]] && return 0
  # the server runs in its own process group: signal the whole group
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || kill -KILL "$SERVER_PID" 2>/dev/null
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

say "starting server: $SERVER_CMD"
cd "$ROOT" || die "cannot cd to the repository root"
if command -v setsid >/dev/null; then
  PORT=0 NO_COLOR=1 setsid bash -c "$SERVER_CMD" >"$SERVER_LOG" 2>&1 </dev/null &
else
  PORT=0 NO_COLOR=1 bash -c "$SERVER_CMD" >"$SERVER_LOG" 2>&1 </dev/null &
fi
SERVER_PID=$!
PORT=$("$ROOT/scripts/listening-port.sh" "$SERVER_LOG" "$SERVER_PID" "$STARTUP_TIMEOUT") || {
  server_log_tail
  die "the server did not log the port it listens on"
}
SERVER_URL="http://127.0.0.1:$PORT"

server_answers() {
  python3 - "$SERVER_URL/socket.io/?EIO=4&transport=polling" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
        sys.exit(0 if r.status == 200 and r.read(1) == b"0" else 1)
except Exception:
    sys.exit(1)
EOF
}

deadline=$((SECONDS + STARTUP_TIMEOUT))
until server_answers; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=""
    server_log_tail
    die "the server exited (status $rc) before answering $SERVER_URL/socket.io/?EIO=4&transport=polling"
  fi
  if ((SECONDS >= deadline)); then
    server_log_tail
    die "the server did not answer $SERVER_URL/socket.io/?EIO=4&transport=polling within ${STARTUP_TIMEOUT} s"
  fi
  sleep 0.2
done
say "server is up at $SERVER_URL"

# ---------------------------------------------------------------- suites
# count_of WORD TEXT: N from "N WORD" in TEXT, else 0
count_of() {
  local n
  n="$(grep -oE "[0-9]+ $1" <<<"$2" | head -n1 | cut -d' ' -f1)"
  echo "${n:-0}"
}

export SERVER_URL SERVER_CMD
JS_PASS=0 JS_FAIL=0 PY_PASS=0 PY_FAIL=0 OTHER_FAIL=0
FAILED=0

# Compact TAP: one line per test, details only for failures (without the
# expected:/actual: dumps, which repeat the error diff), then the summary.
compact_tap() {
  awk '
    /^TAP version/ || /^# Subtest:/ { next }
    /^1\.\.[0-9]+$/ { failing = 0; next }
    /^(not )?ok [0-9]+ / { failing = ($1 == "not"); dump = 0; out(); next }
    /^# (tests|pass|fail|cancelled|skipped|todo) / { out(); next }
    /^  (expected|actual):/ { dump = 1; next }
    /^  [^ ]/ { dump = 0 }
    /^ / || /^#/ { if (failing && !dump) out(); next }
    { out() }
    function out() { print; fflush() }
  '
}

if [[ " $SUITES " == *" js "* ]]; then
  say "JS suite (socket.io-client $(node -p 'require(process.argv[1]).version' "$HERE/js/node_modules/socket.io-client/package.json"), node --test)"
  (
    cd "$HERE/js" &&
      timeout -k 10 "$SUITE_TIMEOUT" node --test --test-reporter=tap --test-concurrency=1 \
        --test-force-exit ./*.test.mjs 2>&1
  ) | tee "$WORK/js.tap" | compact_tap
  rc=${PIPESTATUS[0]}
  # Failed, cancelled (timed out), skipped and todo tests all count as failed.
  read -r JS_PASS JS_FAIL < <("$ROOT/scripts/tap-counts.sh" "interop js" "$WORK/js.tap")
  if ((rc != 0)); then
    FAILED=1
    ((JS_FAIL == 0)) && JS_FAIL=1 # crashed or timed out without a summary
    ((rc == 124)) && echo "interop: JS suite timed out after ${SUITE_TIMEOUT} s" >&2
  fi
fi

if [[ " $SUITES " == *" python "* ]]; then
  say "Python suite (python-socketio $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("python-socketio"))'), pytest)"
  (
    cd "$HERE/python" &&
      PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 timeout -k 10 "$SUITE_TIMEOUT" \
        "$VENV/bin/python" -m pytest -q --tb=short --color=no 2>&1
  ) | tee "$WORK/py.out"
  rc=${PIPESTATUS[0]}
  summary="$(grep -E '^[=[:space:]]*[0-9]+ (passed|failed|error)' "$WORK/py.out" | tail -n1)"
  PY_PASS="$(count_of passed "$summary")"
  PY_FAIL=$(($(count_of failed "$summary") + $(count_of 'errors?' "$summary")))
  # A skipped or expected-to-fail test did not pass either.
  for word in skipped xfailed xpassed; do
    n=$(count_of "$word" "$summary")
    if ((n > 0)); then
      echo "interop python: $n test(s) $word: counted as failed" >&2
      PY_FAIL=$((PY_FAIL + n))
    fi
  done
  if ((rc != 0)); then
    FAILED=1
    ((PY_FAIL == 0)) && PY_FAIL=1
    ((rc == 124)) && echo "interop: Python suite timed out after ${SUITE_TIMEOUT} s" >&2
  fi
fi

if [[ -n "$SERVER_PID" ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
  wait "$SERVER_PID"
  echo "interop: error: the server exited during the run (status $?): counted as one failure" >&2
  SERVER_PID=""
  OTHER_FAIL=1
fi
if ((JS_PASS + JS_FAIL + PY_PASS + PY_FAIL == 0)); then
  echo "interop: error: no test ran" >&2
  OTHER_FAIL=1
fi
((JS_FAIL + PY_FAIL + OTHER_FAIL > 0)) && FAILED=1
if ((FAILED)); then
  server_log_tail
fi
stop_server
parts=()
[[ " $SUITES " == *" js "* ]] && parts+=("js $JS_PASS passed, $JS_FAIL failed")
[[ " $SUITES " == *" python "* ]] && parts+=("python $PY_PASS passed, $PY_FAIL failed")
(IFS=';' && echo "interop: ${parts[*]}" | sed 's/;/; /g')
echo "interop: $((JS_PASS + PY_PASS)) passed, $((JS_FAIL + PY_FAIL + OTHER_FAIL)) failed"
exit "$FAILED"
