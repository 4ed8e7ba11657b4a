#!/usr/bin/env bash
# Reads the TAP output of `node --test --test-reporter=tap` and prints
# `PASSED FAILED`, where FAILED counts every test that did not pass: failed,
# cancelled (node:test files a test that hit its timeout, or whose file
# crashed, under "cancelled"), skipped and todo. Without a summary (the run
# crashed or was killed) it prints `0 1`. Reasons go to stderr, prefixed
# with LABEL.
#
#   read -r pass fail < <(scripts/tap-counts.sh LABEL FILE.tap)
set -euo pipefail
label=$1
file=$2

# The last value of the top-level summary line `# WORD N` (0 if absent).
last() {
  local n
  n=$(sed -nE "s/^# $1 ([0-9]+)$/\1/p" "$file" | tail -n 1)
  echo "${n:-0}"
}

if ! grep -qE '^# tests [0-9]+$' "$file"; then
  echo "$label: the test runner printed no summary (crashed or killed)" >&2
  echo "0 1"
  exit 0
fi
pass=$(last pass)
fail=$(last fail)
for word in cancelled skipped todo; do
  n=$(last "$word")
  if ((n > 0)); then
    echo "$label: $n test(s) $word: counted as failed" >&2
    fail=$((fail + n))
  fi
done
echo "$pass $fail"
