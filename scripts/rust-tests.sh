#!/usr/bin/env bash
# The Rust tests of the workspace (release profile), one stage of
# scripts/test.sh:
#
#   scripts/rust-tests.sh [--doc] [ARGS...]
#
# Without arguments: unit, property and integration tests with cargo nextest
# (settings in .config/nextest.toml: a per-test deadline, no retries), else
# with `cargo test`; prints `rust: N passed, N failed`. With --doc: the
# documentation examples (`cargo test --doc`, which nextest does not run);
# prints `doctests: N passed, N failed`. ARGS go to cargo nextest run (or
# cargo test), e.g. a filter while working on some tests: `-E
# 'binary(plain_poll)'` (scripts/test.sh passes none).
#
# Exits non-zero when a test failed, timed out, could not be run, was
# skipped (#[ignore]), or when nothing ran at all (a compile error, say):
# each of those also shows in the failed count.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# tally NAME PASSED FAILED STATUS: prints the tally line, exits with the verdict.
tally() {
  local name=$1 passed=$2 failed=$3 status=$4
  if ((status != 0 && failed == 0)); then
    echo "$name: cargo exited with status $status but no failed test was counted: counted as one failure" >&2
    failed=1
  fi
  if ((passed == 0 && failed == 0)); then
    echo "$name: no test ran: counted as one failure" >&2
    failed=1
  fi
  echo "$name: $passed passed, $failed failed"
  ((failed == 0))
  exit $?
}

# Sums "N passed" / "N failed" / "N ignored" over the libtest result lines of
# a `cargo test` run (one line per test binary).
libtest_sum() { # WORD
  grep -E '^test result:' "$log" | grep -oE "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'
}

if [[ "${1:-}" == "--doc" ]]; then
  shift
  cargo test --release --workspace --locked --doc --no-fail-fast "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  passed=$(libtest_sum passed)
  failed=$(($(libtest_sum failed) + $(libtest_sum ignored)))
  tally doctests "$passed" "$failed" "$status"
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --release --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  # e.g. "Summary [  98.1s] 402 tests run: 399 passed (3 slow), 1 failed, 1 timed out, 1 exec failed, 2 skipped"
  #  or, when the run was cut short, "Summary [...] 120/402 tests run: ..."
  line=$(grep -E 'Summary \[' "$log" | tail -n 1)
  if [[ "$line" =~ ([0-9]+)(/([0-9]+))?\ tests?\ run:\ ([0-9]+)\ passed ]]; then
    run=${BASH_REMATCH[1]}
    total=${BASH_REMATCH[3]:-$run}
    passed=${BASH_REMATCH[4]}
    skipped=$(grep -oE '[0-9]+ skipped' <<<"$line" | awk '{print $1}')
    skipped=${skipped:-0}
    if (($# > 0)); then
      # A filter of ours (ARGS): nextest counts what it filtered out as skipped.
      echo "rust: $skipped test(s) left out by the arguments $*" >&2
      skipped=0
    elif ((skipped > 0)); then
      echo "rust: $skipped test(s) skipped (#[ignore]): counted as failed" >&2
    fi
    # Not passed (failed, timed out, exec failed, leaky), not run, or skipped.
    failed=$((run - passed + total - run + skipped))
  else
    echo "rust: no nextest summary line" >&2
    passed=0 failed=1
  fi
  tally rust "$passed" "$failed" "$status"
fi

echo "rust: cargo-nextest is not installed: running cargo test (no per-test deadline)" >&2
cargo test --release --workspace --locked --no-fail-fast --lib --bins --tests "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(libtest_sum passed)
failed=$(($(libtest_sum failed) + $(libtest_sum ignored)))
tally rust "$passed" "$failed" "$status"
