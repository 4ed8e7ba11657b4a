#!/usr/bin/env bash
# Starts the local Redis (:6379) and NATS (:4222, JetStream) that the
# scale-out adapters' tests use, if they are installed and not running.
# Best effort: prints what it did, never fails the caller.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open 6379; then
  echo "services: redis already up on :6379"
elif command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null \
    && echo "services: started redis on :6379"
else
  echo "services: redis-server not installed (only the Redis adapter needs it)"
fi

if port_open 4222; then
  echo "services: nats already up on :4222"
elif command -v nats-server >/dev/null; then
  (nohup nats-server -a 127.0.0.1 -p 4222 -js >/dev/null 2>&1 &)
  for _ in $(seq 1 50); do port_open 4222 && break; sleep 0.1; done
  port_open 4222 && echo "services: started nats on :4222"
else
  echo "services: nats-server not installed (only the NATS adapter needs it)"
fi
exit 0
