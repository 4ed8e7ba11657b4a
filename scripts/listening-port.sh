#!/usr/bin/env bash
# Waits for a server started with port 0 to say where it listens, and
# prints that port: the first `listening on SCHEME://127.0.0.1:PORT` (or
# `LABEL on 127.0.0.1:PORT` when a LABEL is given) in its log. The port
# comes from the process itself, so whatever answers there is the server
# under test, not another process that happened to hold a fixed port.
#
#   port=$(scripts/listening-port.sh LOG PID SECONDS [LABEL])
#
# Fails (status 1, reason on stderr) if the process PID exits first or
# says nothing within SECONDS.
set -uo pipefail
log=$1 pid=$2 seconds=$3 label=${4:-}

if [[ -n "$label" ]]; then
  pattern="$label on ([a-z]+://)?127\.0\.0\.1:([0-9]+)"
else
  pattern="listening on [a-z]+://127\.0\.0\.1:([0-9]+)"
fi
deadline=$((SECONDS + seconds))
while :; do
  # Log lines may carry colour codes (tracing): strip them first.
  line=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" 2>/dev/null | grep -oE "$pattern" | head -n 1)
  if [[ -n "$line" ]]; then
    port=${line##*:}
    if ((port > 0)); then
      echo "$port"
      exit 0
    fi
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the server (pid $pid) exited before saying where it listens" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "the server (pid $pid) did not say where it listens within $seconds s" >&2
    exit 1
  fi
  sleep 0.1
done
