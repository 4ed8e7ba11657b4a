#!/usr/bin/env bash
# Runs the Autobahn|Testsuite (wstest fuzzingclient, cases 1-10) against
# examples/websocket-echo, the bare echo on wirehub's WebSocket layer: the
# sans-IO framing of wirehub_proto::websocket (frame decoding, control
# frames, the close handshake) and the server's vectored writes.
# Cases 12 and 13 (permessage-deflate) are left out: wirehub does not offer
# compression, so the suite would only record them as unimplemented.
#
# The suite runs on Python 2.7 only. This script looks for python2.7 on PATH,
# then under pyenv, and installs the pinned packages of requirements.txt into
# target/autobahn/site (once). Without a Python 2.7 it says so and skips.
#
# ECHO_CMD runs another echo server instead (listening on $PORT), and
# AUTOBAHN_AGENT names it in the report: bench/ws-crates/run.sh puts each
# WebSocket crate of its comparison under the same suite this way.
#
# A case passes when both its behaviour and its close behaviour are OK,
# NON-STRICT or INFORMATIONAL. Prints `autobahn: N passed, N failed` (or
# `autobahn: skipped ...`); the HTML report is in target/autobahn/reports.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=target/autobahn
port=${AUTOBAHN_PORT:-19001}
agent=${AUTOBAHN_AGENT:-wirehub}

python2=""
for candidate in python2.7 python2; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null; then
    python2=$(command -v "$candidate")
    break
  fi
done
if [[ -z "$python2" ]] && command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/2.7*; do
    if [[ -x "$dir/bin/python2.7" ]]; then
      python2="$dir/bin/python2.7"
    fi
  done
fi
if [[ -z "$python2" ]]; then
  echo "autobahn: skipped (no Python 2.7 on this machine; the Autobahn|Testsuite needs it)"
  exit 0
fi

stamp="$work/site/.requirements"
if ! cmp -s tests/autobahn/requirements.txt "$stamp"; then
  echo "installing the Autobahn|Testsuite with $python2"
  rm -rf "$work/site"
  "$python2" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$work/site" -r tests/autobahn/requirements.txt
  cp tests/autobahn/requirements.txt "$stamp"
fi

if [[ -z "${ECHO_CMD:-}" ]]; then
  ECHO_CMD="${CARGO_TARGET_DIR:-target}/release/examples/websocket-echo"
  [[ -x "$ECHO_CMD" ]] || cargo build --release --example websocket-echo --locked
fi

rm -rf "$work/reports"
mkdir -p "$work/reports"
cat >"$work/spec.json" <<EOF
{
  "outdir": "./reports",
  "servers": [{"agent": "$agent", "url": "ws://127.0.0.1:$port"}],
  "cases": ["*"],
  "exclude-cases": ["12.*", "13.*"],
  "exclude-agent-cases": {}
}
EOF

# shellcheck disable=SC2086 # ECHO_CMD is a command line
PORT=$port $ECHO_CMD >"$work/echo.log" 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# zope is a namespace package: addsitedir reads the .pth files that make it importable.
(
  cd "$work"
  timeout 900 "$python2" -c "
import site, sys
site.addsitedir('site')
sys.argv = ['wstest', '--mode', 'fuzzingclient', '--spec', 'spec.json']
from autobahntestsuite.wstest import run
run()
" >wstest.log 2>&1
) || { tail -n 30 "$work/wstest.log"; echo "autobahn: 0 passed, 1 failed (wstest did not finish)"; exit 1; }

python3 - "$work/reports/index.json" "$agent" <<'EOF'
import json, sys

ACCEPTED = {"OK", "NON-STRICT", "INFORMATIONAL"}
cases = json.load(open(sys.argv[1])).get(sys.argv[2])
if not cases:
    print(f"no results for {sys.argv[2]}: did the echo server start? (target/autobahn/echo.log)")
    print("autobahn: 0 passed, 1 failed")
    sys.exit(1)

def key(case_id):
    return [int(part) for part in case_id.split(".")]

passed = failed = 0
tally = {}
for case_id in sorted(cases, key=key):
    result = cases[case_id]
    behaviour, close = result["behavior"], result["behaviorClose"]
    tally[behaviour] = tally.get(behaviour, 0) + 1
    if behaviour in ACCEPTED and close in ACCEPTED:
        passed += 1
    else:
        failed += 1
        print(f"FAILED case {case_id}: behaviour {behaviour}, close {close}, "
              f"remote close code {result.get('remoteCloseCode')}")
    if behaviour == "NON-STRICT":
        print(f"non-strict case {case_id} (accepted by the suite)")
print("behaviours: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
print(f"autobahn: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
EOF
