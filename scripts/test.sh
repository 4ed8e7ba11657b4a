#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need:
#   1. Rust unit, property and integration tests (cargo nextest, release profile),
#      among them the Rust client against the Node reference server (whose npm
#      modules are installed first) and the `wirehub` CLI;
#   2. interop suites with the official clients (socket.io-client from npm,
#      python-socketio from PyPI) against the conformance example;
#   3. the cross-transport matrix: socket.io-client and every plain transport
#      (WebSocket, SSE, HTTP streaming, polling + HTTP API, TCP, UDP) against
#      `wirehub serve`, and SSE resume;
#   4. the WebSocket layer against the Autobahn|Testsuite (cases 1-10; it needs
#      a Python 2.7, and is reported as skipped on a machine without one);
#   5. the demo chat page in headless Chromium (Debian's package, Playwright);
#   6. a seconds-long smoke of the benchmark against its peers and of the
#      WebSocket-layer comparison (bench/ws-crates), so they cannot rot.
# Ends with one line `total: N passed, N failed`; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo puts the binaries the suites run (CARGO_TARGET_DIR if set).
bin="${CARGO_TARGET_DIR:-target}/release"

declare -a summary=()
passed=0
failed=0
count() { # stage passed failed
  summary+=("$1: $2 passed, $3 failed")
  passed=$((passed + $2))
  failed=$((failed + $3))
}
stage() { printf '\n==== %s ====\n' "$1"; }

stage "services"
scripts/services.sh

stage "build (release)"
cargo build --release --bins --examples --locked

stage "npm modules (the Rust client tests start the Node reference server)"
tests/interop/install.sh

stage "rust tests"
log=$(mktemp)
if cargo nextest --version >/dev/null 2>&1; then
  set +e
  cargo nextest run --release --workspace --locked --no-fail-fast 2>&1 | tee "$log"
  set -e
  line=$(grep -E "Summary \[" "$log" | tail -n 1 || true)
  p=$(sed -nE 's/.* ([0-9]+) tests? run: ([0-9]+) passed.*/\2/p' <<<"$line")
  f=$(sed -nE 's/.*, ([0-9]+) failed.*/\1/p' <<<"$line")
else
  set +e
  cargo test --release --workspace --locked --no-fail-fast 2>&1 | tee "$log"
  set -e
  p=$(grep -E "^test result:" "$log" | sed -nE 's/.* ([0-9]+) passed.*/\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(grep -E "^test result:" "$log" | sed -nE 's/.* ([0-9]+) failed.*/\1/p' | awk '{s+=$1} END {print s+0}')
fi
[[ -n "${p:-}" ]] || { echo "could not read the Rust test summary" >&2; p=0; f=${f:-1}; }
count "rust" "$p" "${f:-0}"
# nextest exits non-zero on failures; the count above already records them.
rm -f "$log"

stage "interop: official clients vs the conformance example"
log=$(mktemp)
set +e
SERVER_CMD="$bin/examples/conformance" tests/interop/run.sh 2>&1 | tee "$log"
set -e
line=$(grep -E "^interop: [0-9]+ passed" "$log" | tail -n 1 || true)
if [[ -n "$line" ]]; then
  count "interop" "$(sed -nE 's/^interop: ([0-9]+) passed.*/\1/p' <<<"$line")" \
    "$(sed -nE 's/.*, ([0-9]+) failed.*/\1/p' <<<"$line")"
else
  count "interop" 0 1
fi
rm -f "$log"

stage "plain: cross-transport matrix vs wirehub serve"
log=$(mktemp)
set +e
WIREHUB_BIN="$bin/wirehub" tests/plain/run.sh 2>&1 | tee "$log"
set -e
line=$(grep -E "^plain: [0-9]+ passed" "$log" | tail -n 1 || true)
if [[ -n "$line" ]]; then
  count "plain" "$(sed -nE 's/^plain: ([0-9]+) passed.*/\1/p' <<<"$line")" \
    "$(sed -nE 's/.*, ([0-9]+) failed.*/\1/p' <<<"$line")"
else
  count "plain" 0 1
fi
rm -f "$log"

stage "autobahn: the WebSocket layer against the Autobahn|Testsuite"
log=$(mktemp)
set +e
tests/autobahn/run.sh 2>&1 | tee "$log"
set -e
line=$(grep -E "^autobahn: " "$log" | tail -n 1 || true)
if [[ "$line" =~ ^autobahn:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  count "autobahn" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
elif [[ "$line" == "autobahn: skipped"* ]]; then
  summary+=("$line")
else
  count "autobahn" 0 1
fi
rm -f "$log"

stage "browser: demo chat in headless Chromium"
log=$(mktemp)
set +e
SERVER_CMD="$bin/wirehub serve" tests/browser/run.sh 2>&1 | tee "$log"
set -e
p=$(grep -E "^# pass " "$log" | tail -n 1 | awk '{print $3}' || true)
f=$(grep -E "^# fail " "$log" | tail -n 1 | awk '{print $3}' || true)
if [[ -n "$p" ]]; then count "browser" "$p" "${f:-0}"; else count "browser" 0 1; fi
rm -f "$log"

stage "benchmark smoke (every scenario briefly, no thresholds)"
if bench/run.sh --smoke; then count "bench-smoke" 1 0; else count "bench-smoke" 0 1; fi
if bench/ws-crates/run.sh --smoke; then count "ws-crates-smoke" 1 0; else count "ws-crates-smoke" 0 1; fi

stage "summary"
printf '%s\n' "${summary[@]}"
echo "total: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
