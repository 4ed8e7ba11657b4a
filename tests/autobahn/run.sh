#!/usr/bin/env bash
# Runs the Autobahn|Testsuite's cases 1-10, 12 and 13 (fuzzingclient)
# against examples/websocket-echo, the bare echo on wirehub's WebSocket
# layer: the sans-IO framing of wirehub_proto::websocket (frame decoding,
# control frames, the close handshake), permessage-deflate (sections 12
# and 13; the echo runs with DEFLATE_THRESHOLD=0, every echo compressed;
# sections 1-10 offer no extension and run the plain path) and the
# server's vectored writes. Another agent (ECHO_CMD) runs sections 1-10.
# The 36 cases of 13.3 and 13.5 offer only server_max_window_bits=8, which
# wirehub declines (miniz keeps a 32 KiB window): they are UNIMPLEMENTED,
# accepted only as listed in expected.json.
#
# The runner is kosoku (PyPI, Python >= 3.10; pinned in requirements.txt):
# it drives the Autobahn|Testsuite's own case files, and runs on the
# machine's Python 3. AUTOBAHN_RUNNER=wstest runs the original wstest
# instead (Python 2.7 only, found on PATH or under pyenv; packages pinned in
# requirements-wstest.txt), to cross-check the two.
#
# ECHO_CMD runs another echo server instead (PORT=0 in its environment; it
# must log `listening on ws://127.0.0.1:PORT`), and AUTOBAHN_AGENT names it:
# bench/ws-crates/run.sh puts each WebSocket crate of its comparison under
# the same suite this way.
#
# A case passes when both its behaviour and its close behaviour are OK,
# NON-STRICT or INFORMATIONAL. For our own echo, the per-behaviour breakdown
# and the non-strict and informational cases must also be exactly those of
# expected.json (the ones the README states). Prints
# `autobahn: N passed, N failed`; the report (index.json, HTML) is in
# target/autobahn/reports. A suite that could not run (no runner, no Python)
# fails under CI=true or WIREHUB_TEST_STRICT=1 (scripts/test.sh), and is
# reported as `autobahn: skipped (...)` otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

work="${CARGO_TARGET_DIR:-target}/autobahn"
case "$work" in /*) ;; *) work="$root/$work" ;; esac
agent=${AUTOBAHN_AGENT:-wirehub}
runner=${AUTOBAHN_RUNNER:-kosoku}
mkdir -p "$work"

strict() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" || "${WIREHUB_TEST_STRICT:-}" == "1" ]]; }
# could_not_run WHY: a failure in CI, a skip otherwise.
could_not_run() {
  if strict; then
    echo "autobahn: could not run: $*" >&2
    echo "autobahn: 0 passed, 1 failed"
    exit 1
  fi
  echo "autobahn: skipped (could not run: $*)"
  exit 0
}
fail() {
  echo "autobahn: $*" >&2
  echo "autobahn: 0 passed, 1 failed"
  exit 1
}

# ---------------------------------------------------------------- runner
# Installed once into target/autobahn, again when the requirements change.
case "$runner" in
kosoku)
  python3=""
  for candidate in python3 python3.13 python3.12 python3.11 python3.10; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
      python3=$(command -v "$candidate")
      break
    fi
  done
  [[ -n "$python3" ]] || could_not_run "kosoku needs Python >= 3.10"
  venv="$work/kosoku-venv"
  if ! cmp -s tests/autobahn/requirements.txt "$venv/.requirements"; then
    echo "installing kosoku (tests/autobahn/requirements.txt) with $python3"
    rm -rf "$venv"
    "$python3" -m venv "$venv" || could_not_run "python3 -m venv failed"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      -r tests/autobahn/requirements.txt || could_not_run "pip install kosoku failed"
    cp tests/autobahn/requirements.txt "$venv/.requirements"
  fi
  ;;
wstest)
  python2=""
  for candidate in python2.7 python2; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null; then
      python2=$(command -v "$candidate")
      break
    fi
  done
  if [[ -z "$python2" ]] && command -v pyenv >/dev/null 2>&1; then
    for dir in "$(pyenv root)"/versions/2.7*; do
      [[ -x "$dir/bin/python2.7" ]] && python2="$dir/bin/python2.7"
    done
  fi
  [[ -n "$python2" ]] || could_not_run "wstest needs a Python 2.7"
  site="$work/wstest-site"
  if ! cmp -s tests/autobahn/requirements-wstest.txt "$site/.requirements"; then
    echo "installing the Autobahn|Testsuite (tests/autobahn/requirements-wstest.txt) with $python2"
    rm -rf "$site"
    "$python2" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$site" -r tests/autobahn/requirements-wstest.txt || could_not_run "pip install failed"
    cp tests/autobahn/requirements-wstest.txt "$site/.requirements"
  fi
  ;;
*) fail "unknown AUTOBAHN_RUNNER=$runner (kosoku, wstest)" ;;
esac

# ---------------------------------------------------------------- echo server
if [[ -z "${ECHO_CMD:-}" ]]; then
  ECHO_CMD="${CARGO_TARGET_DIR:-target}/release/examples/websocket-echo"
  [[ -x "$ECHO_CMD" ]] || cargo build --release --example websocket-echo --locked
fi
# permessage-deflate (sections 12 and 13) for our own echo.
if [[ "$agent" == wirehub ]]; then
  export DEFLATE_THRESHOLD=0
  kosoku_exclude=()
  wstest_exclude='[]'
else
  kosoku_exclude=(-x '12.*' -x '13.*')
  wstest_exclude='["12.*", "13.*"]'
fi
rm -rf "$work/reports"
mkdir -p "$work/reports"
# shellcheck disable=SC2086 # ECHO_CMD is a command line
PORT=0 $ECHO_CMD >"$work/echo.log" 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
port=$(scripts/listening-port.sh "$work/echo.log" "$echo_pid" 20) || {
  tail -n 20 "$work/echo.log" >&2
  fail "the echo server did not start (its log: $work/echo.log)"
}
url="ws://127.0.0.1:$port"
echo "autobahn: $runner against $agent at $url"

# ---------------------------------------------------------------- the suite
started=$SECONDS
case "$runner" in
kosoku)
  # Exits 1 when a case fails: the verdict below reads the report instead.
  (cd "$work" && timeout 900 "$venv/bin/kosoku" "$url" "${kosoku_exclude[@]}" -o reports \
    >kosoku.log 2>&1) || true
  log="$work/kosoku.log"
  ;;
wstest)
  cat >"$work/spec.json" <<EOF
{
  "outdir": "./reports",
  "servers": [{"agent": "$agent", "url": "$url"}],
  "cases": ["*"],
  "exclude-cases": $wstest_exclude,
  "exclude-agent-cases": {}
}
EOF
  # zope is a namespace package: addsitedir reads the .pth files that make it importable.
  (cd "$work" && timeout 900 "$python2" -c "
import site, sys
site.addsitedir('wstest-site')
sys.argv = ['wstest', '--mode', 'fuzzingclient', '--spec', 'spec.json']
from autobahntestsuite.wstest import run
run()
" >wstest.log 2>&1) || true
  log="$work/wstest.log"
  ;;
esac
echo "autobahn: the suite ran for $((SECONDS - started)) s"
if ! kill -0 "$echo_pid" 2>/dev/null; then
  tail -n 20 "$work/echo.log" >&2
  fail "the echo server exited during the run"
fi
[[ -s "$work/reports/index.json" ]] || {
  tail -n 30 "$log" >&2
  fail "no report: the $runner run did not finish ($log)"
}

expected=""
[[ "$agent" == wirehub ]] && expected=tests/autobahn/expected.json
python3 - "$work/reports/index.json" "$expected" <<'EOF'
import json, sys

ACCEPTED = {"OK", "NON-STRICT", "INFORMATIONAL"}
index = json.load(open(sys.argv[1]))
# One agent per run (wstest names it from the spec, kosoku from the server).
cases = {case: result for agent in index.values() for case, result in agent.items()}
if not cases:
    print("autobahn: the report holds no case")
    print("autobahn: 0 passed, 1 failed")
    sys.exit(1)

def key(case_id):
    return [int(part) for part in case_id.split(".")]

want = json.load(open(sys.argv[2])) if sys.argv[2] else None
# Declined on purpose (an extension offer wirehub does not accept), by case.
declined = set(want["cases"].get("UNIMPLEMENTED", [])) if want else set()
passed = failed = 0
tally, by_behaviour = {}, {}
for case_id in sorted(cases, key=key):
    result = cases[case_id]
    behaviour, close = result["behavior"], result["behaviorClose"]
    tally[behaviour] = tally.get(behaviour, 0) + 1
    by_behaviour.setdefault(behaviour, []).append(case_id)
    if (behaviour in ACCEPTED or (behaviour == "UNIMPLEMENTED" and case_id in declined)) \
            and close in ACCEPTED:
        passed += 1
    else:
        failed += 1
        print(f"FAILED case {case_id}: behaviour {behaviour}, close {close}, "
              f"remote close code {result.get('remoteCloseCode')}")
    if behaviour == "NON-STRICT":
        print(f"non-strict case {case_id} (accepted by the suite)")
print("behaviours: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))

if want:
    # The breakdown the README states, case by case.
    if tally != want["behaviours"]:
        print(f"FAILED breakdown: {tally}, expected {want['behaviours']} ({sys.argv[2]})")
        failed += 1
    for behaviour in ("NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"):
        got, exp = by_behaviour.get(behaviour, []), want["cases"][behaviour]
        if got != exp:
            print(f"FAILED {behaviour} cases: {got}, expected {exp} ({sys.argv[2]})")
            failed += 1
print(f"autobahn: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
EOF
