#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ briefly, one stage of scripts/test.sh:
#
#   scripts/fuzz.sh [TARGET...]
#
# Installs cargo-fuzz if missing, builds the targets on the nightly toolchain
# (in fuzz/target), then runs each for FUZZ_SECONDS seconds (default 15) from
# a temporary copy of its seeds (fuzz/seeds/TARGET), so the repository is not
# written; a crash input lands in fuzz/artifacts/TARGET (see fuzz/README.md).
# Prints one line per target with its execution count, then
# `fuzz: N passed, N failed`: a target that crashes, or that fails to build
# or to run, counts as failed. Exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-15}
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(engineio_packet engineio_payload engineio_v3_payload socketio_packet socketio_msgpack websocket_frames
    plain_envelope ndjson_lines sse_parser handshake_query sockjs_messages)
fi
# The fuzz crate has its own workspace and target directory.
unset CARGO_TARGET_DIR

passed=0
failed=0
tally() {
  echo "fuzz: $passed passed, $failed failed"
  ((failed == 0))
  exit $?
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz"
  cargo install cargo-fuzz --locked || echo "fuzz.sh: cargo install cargo-fuzz failed"
fi
if ! (cd fuzz && cargo +nightly fuzz build); then
  echo "fuzz.sh: the fuzz targets did not build: all counted as failed" >&2
  failed=${#targets[@]}
  tally
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  corpus="$work/$target"
  log="$work/$target.log"
  mkdir -p "$corpus"
  cp fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null
  (cd fuzz && cargo +nightly fuzz run "$target" "$corpus" -- \
    -max_total_time="$seconds" -print_final_stats=1) >"$log" 2>&1
  status=$?
  runs=$(grep -oE 'number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  if ((status == 0)) && [[ -n "$runs" ]]; then
    passed=$((passed + 1))
    echo "$target: ok, $runs executions in ${seconds} s, corpus $(ls "$corpus" | wc -l) inputs"
  else
    failed=$((failed + 1))
    tail -n 40 "$log"
    echo "$target: FAILED (exit status $status, ${runs:-no} executions); see fuzz/artifacts/$target"
  fi
done
tally
