#!/usr/bin/env bash
# Soak test, bounded in time, loopback only: N Socket.IO clients (WebSocket)
# against `wirehub serve` with connection-state recovery on, for DURATION
# seconds of steady load:
#   - the clients are spread over 20 rooms of the on-demand namespace /soak;
#     one publisher sends sequence-numbered messages to every room (1 msg/s
#     each) and a broadcast to all rooms every 5 s (`hub:publish`, acked);
#   - every client sends an acknowledged emit every 10 s (`hub:join` of its
#     own room again: idempotent, acked with its rooms) and counts the acks;
#   - every DURATION/10 seconds (every minute by default) 5 % of the clients
#     drop their TCP connection abruptly (RST) and reconnect 0.5-3 s later
#     with their pid and last offset (Socket.IO 4.6+ recovery wire format);
#   - the server's RSS is sampled from /proc every few seconds.
# The load generator is `loadgen soak` (bench/loadgen/src/scenarios/soak.rs).
#
# Checks (one tally line `soak: N passed, N failed`, then the figures):
#   all clients connected; no lost acks (emits pending at a drop are sent
#   again after the reconnect; every emit must get its ack); no gaps (per
#   client, the room's and the broadcasts' sequence numbers have no gap and
#   no duplicate across recovered reconnects, and every client has the last
#   message at the end); every reconnect recovered (same socket id); RSS
#   flat after the warm-up (least-squares slope under --max-slope KiB/min);
#   the publisher and the server stayed up.
#
#   scripts/soak.sh [--clients N] [--duration SECS] [--max-slope KIB_PER_MIN] [--server wirehub|node]
#
# Defaults: 10,000 clients, 600 s (about 11 minutes in all). scripts/test.sh
# runs `--clients 1000 --duration 60`. --server node runs the same load
# against Node socket.io with connectionStateRecovery (bench/peers/node,
# npm ci there first), the reference for the wire format.
#
# The recovery window (--recovery-window of `wirehub serve`) is 120 s for a
# 10-minute run and DURATION/6 (at least 10 s) for shorter ones; the RSS
# warm-up is the first max(30 % of DURATION, window + one drop interval)
# seconds: until then the server's recovery buffer is still filling. Room
# history keeps messages for the same window (--history-ttl), so that it
# too is full by then: its cap (100 messages per room) is not reached within
# a short run, and a history still filling would read as a slope.
#
# Slope limit, 512 KiB/min by default: with 5 % of the clients dropping every
# DURATION/10 s there are 500 reconnects a minute in both the default run
# and the CI one, and 10,000 message deliveries a second at 10,000 clients.
# A leak of 1 KiB per reconnect (a quarter of one idle connection's 3.8 KiB)
# or of about one byte per delivery would show as 500+ KiB/min; allocator
# noise after the warm-up is well below that (the figures of a clean run are
# in the output).
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=10000
DURATION=600
MAX_SLOPE=512
SERVER=wirehub
while (($#)); do
  case "$1" in
  --clients) CLIENTS="$2"; shift ;;
  --duration) DURATION="$2"; shift ;;
  --max-slope) MAX_SLOPE="$2"; shift ;;
  --server) SERVER="$2"; shift ;;
  -h | --help) sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "soak: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$CLIENTS" =~ ^[0-9]+$ && "$DURATION" =~ ^[0-9]+$ ]] || { echo "soak: --clients and --duration take whole numbers" >&2; exit 2; }

say() { echo "soak: $*"; }
fail_early() { # a tally even when nothing could run
  echo "soak: error: $*" >&2
  echo "soak: 0 passed, 1 failed"
  exit 1
}

# One socket per client in the generator, one in the server, plus a margin.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((CLIENTS + 200))
(($(ulimit -n) >= need)) || fail_early "open files limit $(ulimit -n) < $need (raise the hard limit: ulimit -Hn)"

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
say "building wirehub and the load generator (cargo --release)"
cargo build --release --quiet -p wirehub -p wirehub-loadgen --bins ||
  fail_early "cargo build failed"
BIN="$TARGET_DIR/release"

if ((DURATION >= 600)); then
  WINDOW=120
else
  WINDOW=$((DURATION / 6 > 10 ? DURATION / 6 : 10))
fi
DROP_EVERY=$(awk -v d="$DURATION" 'BEGIN { printf "%.1f", d / 10 }')
WARMUP=$(awk -v d="$DURATION" -v w="$WINDOW" -v e="$DROP_EVERY" 'BEGIN { x = d * 0.3; if (w + e > x) x = w + e; if (x > d * 0.6) x = d * 0.6; printf "%.0f", x }')

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/wirehub-soak.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$SERVER" in
wirehub)
  "$BIN/wirehub" serve --help | grep -q -- '--recovery-window' ||
    fail_early "this wirehub has no --recovery-window (connection-state recovery)"
  "$BIN/wirehub" serve --host 127.0.0.1 --port 0 --no-demo \
    --recovery-window "$WINDOW" --history-ttl "$WINDOW" >"$LOG_DIR/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  PORT="$(scripts/listening-port.sh "$LOG_DIR/server.log" "$SERVER_PID" 30)" ||
    fail_early "the server did not start: $(tail -n 3 "$LOG_DIR/server.log")"
  GEN_ARGS=(--protocol hub --namespace /soak)
  ;;
node)
  [[ -d bench/peers/node/node_modules ]] || fail_early "run npm ci in bench/peers/node first"
  PORT=$((4400 + RANDOM % 500))
  env PORT="$PORT" WIREHUB_RECOVERY_WINDOW="$WINDOW" NODE_ENV=production \
    node bench/peers/node/server.mjs >"$LOG_DIR/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  GEN_ARGS=(--protocol contract)
  ;;
*) fail_early "unknown --server $SERVER (wirehub, node)" ;;
esac
"$BIN/loadgen" wait --port "$PORT" --server-pid "$SERVER_PID" --timeout 30 2>>"$LOG_DIR/gen.log" ||
  fail_early "no handshake from the server on port $PORT: $(tail -n 3 "$LOG_DIR/server.log")"

say "$SERVER (pid $SERVER_PID, port $PORT, recovery window ${WINDOW} s): $CLIENTS clients for ${DURATION} s, 5 % dropping every ${DROP_EVERY} s, RSS warm-up ${WARMUP} s, slope limit ${MAX_SLOPE} KiB/min"
set +e
timeout -k 10 $((DURATION + 600)) "$BIN/loadgen" soak --port "$PORT" --server-pid "$SERVER_PID" \
  --server "$SERVER" --src-ips 32 --clients "$CLIENTS" --duration "$DURATION" \
  --drop-every "$DROP_EVERY" --warmup "$WARMUP" --max-slope "$MAX_SLOPE" "${GEN_ARGS[@]}" \
  >"$LOG_DIR/result.txt" 2> >(tee "$LOG_DIR/gen.log" | grep --line-buffered -v '^loadgen:   ' | sed -u 's/^loadgen: soak: /soak: /' >&2)
gen_rc=$?
set -e

passed=0
failed=0
while IFS= read -r line; do
  case "$line" in
  "check pass "*) passed=$((passed + 1)); echo "soak: PASS ${line#check pass }" ;;
  "check fail "*) failed=$((failed + 1)); echo "soak: FAIL ${line#check fail }" ;;
  esac
done <"$LOG_DIR/result.txt"
if kill -0 "$SERVER_PID" 2>/dev/null; then
  passed=$((passed + 1)); echo "soak: PASS server stayed up"
else
  failed=$((failed + 1)); echo "soak: FAIL server stayed up: it exited ($(tail -n 3 "$LOG_DIR/server.log"))"
fi
if ((gen_rc != 0)); then
  failed=$((failed + 1))
  echo "soak: FAIL load generator exited with status $gen_rc: $(tail -n 3 "$LOG_DIR/gen.log")"
fi
echo "soak: $passed passed, $failed failed"
json="$(head -n 1 "$LOG_DIR/result.txt")"
if [[ "$json" == "{"* ]]; then
  fig() { # fig KEY: a top-level number of the result
    printf '%s' "$json" | grep -o "\"$1\":[-0-9.]*" | head -n 1 | cut -d: -f2
  }
  echo "soak: figures: $(fig connected) clients for $(fig steady_s) s; $(fig published) messages published, $(fig received) received; acks $(fig acks_received)/$(fig acks_sent) ($(fig acks_lost) lost, $(fig acks_resent) resent); $(fig drops) drops in $(fig drop_rounds) rounds, $(fig recovered) recovered, $(fig not_recovered) not recovered; gaps $(fig gaps), duplicates $(fig duplicates), missing at the end $(fig missing_at_end); RSS $(fig rss_start_kib) -> $(fig rss_end_kib) KiB, slope after warm-up $(fig rss_slope_kib_per_min) KiB/min; server CPU $(fig server_cpu_share) of a core"
fi
if ((failed == 0)); then rm -rf "$LOG_DIR"; else echo "soak: logs kept in $LOG_DIR"; fi
((failed == 0))
