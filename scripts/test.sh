#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need:
#   1. Rust unit, property and integration tests (cargo nextest, release
#      profile, a deadline per test), among them the Rust client against the
#      Node reference server (whose npm modules are installed first) and the
#      `wirehub` CLI; then the documentation examples (cargo test --doc);
#   2. interop suites with the official clients (socket.io-client from npm,
#      python-socketio from PyPI) against the conformance example;
#   3. the cross-transport matrix: socket.io-client and every plain transport
#      (WebSocket, SSE, HTTP streaming, polling + HTTP API, TCP, UDP) against
#      `wirehub serve`, and SSE resume;
#   4. the cluster suite: wirehub nodes with a Node socket.io node on one
#      Redis (classic and sharded adapters), on NATS, behind a round-robin
#      proxy without sticky sessions, and through a Redis restart;
#   5. the WebSocket layer against the Autobahn|Testsuite's cases 1-10 (kosoku,
#      from PyPI, drives the suite's case files on Python 3);
#   6. the demo chat page in headless Chromium (Debian's package, Playwright);
#   7. every fuzz target of fuzz/ for a few seconds each (cargo-fuzz on the
#      nightly toolchain; the corpora themselves are replayed in stage 1);
#   8. a 60-second soak: 1,000 Socket.IO clients against `wirehub serve` with
#      connection-state recovery, steady broadcasts and acks, 5 % of them
#      dropping and recovering every 6 s (no lost ack, no gap, RSS flat;
#      scripts/soak.sh, whose defaults are 10,000 clients for 10 minutes);
#   9. a seconds-long smoke of the benchmark against its peers and of the
#      WebSocket-layer comparison (bench/ws-crates), so they cannot rot; they
#      are checked by exit status only, and reported apart from the tests.
#
# Each stage is a script that prints one tally line, `NAME: N passed, N
# failed`; `run_stage` folds that line and the script's exit status into the
# total: a stage that exits non-zero, prints no tally, or passes nothing
# counts as failed even if its tally says otherwise. A new stage is one
# line: `run_stage NAME COMMAND...`.
# Ends with one line `total: N passed, N failed`; exits non-zero on any
# failure (of a test or a smoke).
#
#   scripts/test.sh [STAGE...]
#
# With stage names (rust doctests interop plain cluster autobahn browser fuzz
# soak smoke), only those run, and the summary says which were left out; under
# CI=true names are refused: CI runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo puts the binaries the suites run (CARGO_TARGET_DIR if set).
bin="${CARGO_TARGET_DIR:-target}/release"

# ------------------------------------------------------------ environment
# Knobs the stage scripts (and `wirehub serve`) read from the environment can
# narrow or bend a suite (INTEROP_SUITES=js drops the Python suite, a
# WIREHUB_TRANSPORTS changes the server under test, NEXTEST_RETRIES hides a
# flaky test): the whole suite runs without any of them, and says so.
ignored=()
for var in INTEROP_SUITES INTEROP_PORT INTEROP_STARTUP_TIMEOUT \
  PLAIN_STARTUP_TIMEOUT PLAIN_SUITE_TIMEOUT SERVER_WAIT_SECS TEST_REPORTER \
  SERVER_CMD SERVER_URL WIREHUB_BIN ECHO_CMD AUTOBAHN_AGENT PORT FUZZ_SECONDS \
  $(compgen -e | grep -E '^(WIREHUB_|NEXTEST_|AUTOBAHN_|CLUSTER_)' || true); do
  if [[ -n "${!var+set}" ]]; then
    ignored+=("$var")
    unset "$var"
  fi
done
if ((${#ignored[@]})); then
  echo "test.sh: ignoring these inherited settings (the whole suite always runs): ${ignored[*]}"
fi
# Tests that need a prerequisite (Node, the npm modules) fail without it
# instead of passing as skipped; outside test.sh only CI=true does that.
export WIREHUB_TEST_STRICT=1

declare -a summary=()
passed=0
failed=0
smokes=()
smoke_failed=0
left_out=()
only=" $* "
if [[ $# -gt 0 && ("${CI:-}" == "true" || "${CI:-}" == "1") ]]; then
  echo "test.sh: stage names given under CI ($*): CI runs every stage" >&2
  exit 2
fi
stage() { printf '\n==== %s ====\n' "$1"; }
# wanted NAME: whether stage NAME runs (all do without arguments).
wanted() {
  if [[ "$only" == "  " || "$only" == *" $1 "* ]]; then return 0; fi
  left_out+=("$1")
  echo "(left out: not named on the command line)"
  return 1
}

# run_stage NAME COMMAND...: runs a stage script (output shown as it comes)
# and folds its tally line `NAME: N passed, N failed` and exit status into
# the total.
run_stage() {
  local name=$1 log rc line p f why=""
  shift
  wanted "$name" || return 0
  log=$(mktemp)
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1 || true)
  rm -f "$log"
  if [[ "$line" =~ ^$name:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
  else
    p=0 f=1 why=" (no tally line)"
  fi
  if ((rc != 0 && f == 0)); then f=1 why=" (exit status $rc)"; fi
  if ((p == 0 && f == 0)); then f=1 why=" (nothing ran)"; fi
  summary+=("$name: $p passed, $f failed$why")
  passed=$((passed + p))
  failed=$((failed + f))
}

# smoke NAME COMMAND...: a check by exit status alone, reported on its own line.
smoke() {
  local name=$1
  shift
  if "$@"; then smokes+=("$name ok"); else
    smokes+=("$name FAILED (exit status $?)")
    smoke_failed=$((smoke_failed + 1))
  fi
}

stage "services"
scripts/services.sh

stage "build (release)"
cargo build --release --bins --examples --locked

stage "npm modules (the Rust client tests start the Node reference server)"
# A failed install is not fatal here: the client tests that need the modules
# then fail, and say why.
tests/interop/install.sh || echo "test.sh: tests/interop/install.sh failed"

stage "rust tests"
run_stage rust scripts/rust-tests.sh

stage "rust documentation examples"
run_stage doctests scripts/rust-tests.sh --doc

stage "interop: official clients vs the conformance example"
run_stage interop env SERVER_CMD="$bin/examples/conformance" tests/interop/run.sh

stage "plain: cross-transport matrix vs wirehub serve"
run_stage plain env WIREHUB_BIN="$bin/wirehub" tests/plain/run.sh

stage "cluster: wirehub and Node nodes in one cluster (Redis, NATS), no sticky sessions"
run_stage cluster env WIREHUB_NODE_CMD="$bin/examples/conformance" tests/cluster/run.sh

stage "autobahn: the WebSocket layer against the Autobahn|Testsuite"
run_stage autobahn tests/autobahn/run.sh

stage "browser: demo chat in headless Chromium"
run_stage browser env SERVER_CMD="$bin/wirehub serve" tests/browser/run.sh

stage "fuzz: every decoder's fuzz target briefly (nightly, cargo-fuzz)"
run_stage fuzz scripts/fuzz.sh

stage "soak: 1,000 clients for 60 s, 5 % dropping and recovering (wirehub serve)"
# Forty seconds after the warm-up are too few for a tight slope: runs of this
# version measured 93 and 607 KiB/min on the same code, allocator noise. The
# limit here catches a gross leak (about 5 KiB or more per reconnect, at 400
# reconnects a minute); the 10-minute run (scripts/soak.sh alone) holds
# the default 512 KiB/min.
run_stage soak scripts/soak.sh --clients 1000 --duration 60 --max-slope 2048

stage "benchmark smoke (every scenario briefly, no thresholds)"
if wanted smoke; then
  smoke bench bench/run.sh --smoke
  smoke ws-crates bench/ws-crates/run.sh --smoke
fi

stage "summary"
printf '%s\n' "${summary[@]}"
((${#smokes[@]})) && echo "smokes (exit status only, not counted as tests): ${smokes[*]}"
((${#left_out[@]})) && echo "LEFT OUT (named stages only): ${left_out[*]}"
if ((smoke_failed)); then
  echo "total: $passed passed, $failed failed; $smoke_failed smoke(s) failed"
else
  echo "total: $passed passed, $failed failed"
fi
[[ "$failed" -eq 0 && "$smoke_failed" -eq 0 ]]
