// Benchmark peer: the conformance contract (the Node contract documented in
// examples/conformance.rs, as in tests/interop/reference/server.mjs, without
// the interop extensions) on Node socket.io 4.8 with its default `ws` engine.
// Engine timings come from the environment so that every server of the
// benchmark runs with the same settings; the rest is socket.io's defaults
// (no CORS handling: the load generator sends no Origin).
//
// Usage: PORT=3401 node bench/peers/node/server.mjs   (after `npm ci` here)
// Environment: PING_INTERVAL_MS (default 25000), PING_TIMEOUT_MS (default 20000).
//
// Clustering (the benchmark's `cluster` scenario), with the variables
// wirehub's bench server reads:
//   WIREHUB_ADAPTER      unset or "memory": a single node (the default);
//                        redis://HOST:PORT: @socket.io/redis-adapter 8.3.0's
//                        classic createAdapter on two node-redis 4.7 clients
//                        (pub + sub); redis-sharded://HOST:PORT: its
//                        createShardedAdapter; nats://...: exits with an error
//                        (Node socket.io has no NATS adapter of this protocol)
//   WIREHUB_ADAPTER_KEY  the adapter's `key` (classic) or `channelPrefix`
//                        (sharded); unset: its default ("socket.io")
// With an adapter the server listens once both Redis clients are connected.
//
// Connection-state recovery (the soak, scripts/soak.sh, against Node):
//   WIREHUB_RECOVERY_WINDOW  seconds; unset or 0: off (socket.io's default);
//                            N > 0: connectionStateRecovery with
//                            maxDisconnectionDuration N s (middlewares skipped)
import { createServer } from "node:http";
import { Server } from "socket.io";

const fail = (msg) => {
  console.error(`node bench peer: error: ${msg}`);
  process.exit(2);
};

const port = Number(process.env.PORT || 3000);
const adapterUrl = process.env.WIREHUB_ADAPTER || "memory";
let adapter; // undefined: socket.io's in-memory adapter
if (adapterUrl !== "memory") {
  const m = /^(redis|redis-sharded|nats):\/\/(.+)$/.exec(adapterUrl);
  if (!m) fail(`WIREHUB_ADAPTER=${adapterUrl}: expected memory, redis://, redis-sharded:// or nats://`);
  if (m[1] === "nats") fail(`WIREHUB_ADAPTER=${adapterUrl}: Node socket.io has no NATS adapter of this protocol`);
  // Loaded only when asked for: the single-node scenarios run without them.
  const { createAdapter, createShardedAdapter } = await import("@socket.io/redis-adapter");
  const { createClient } = await import("redis");
  const key = process.env.WIREHUB_ADAPTER_KEY || undefined;
  const pub = createClient({ url: `redis://${m[2]}` });
  const sub = pub.duplicate();
  for (const [name, client] of [["pub", pub], ["sub", sub]]) {
    client.on("error", (err) => console.error(`node bench peer: redis ${name}: ${err.message}`));
  }
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    fail(`cannot connect to ${adapterUrl}: ${err.message}`);
  }
  adapter =
    m[1] === "redis-sharded"
      ? createShardedAdapter(pub, sub, key === undefined ? {} : { channelPrefix: key })
      : createAdapter(pub, sub, key === undefined ? {} : { key });
}

const recoverySecs = Number(process.env.WIREHUB_RECOVERY_WINDOW || 0);
if (!Number.isFinite(recoverySecs) || recoverySecs < 0) {
  fail(`WIREHUB_RECOVERY_WINDOW=${process.env.WIREHUB_RECOVERY_WINDOW}: expected seconds`);
}
const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  pingInterval: Number(process.env.PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS || 20000),
  maxHttpBufferSize: 1_000_000,
  ...(adapter ? { adapter } : {}),
  ...(recoverySecs > 0
    ? { connectionStateRecovery: { maxDisconnectionDuration: recoverySecs * 1000, skipMiddlewares: true } }
    : {}),
});

io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack && ack("joined");
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    ack && ack("left");
  });
  socket.on("to-room", (room, ...args) => socket.to(room).emit("room-message", ...args));
  socket.on("broadcast", (...args) => io.emit("broadcast-message", ...args));
});

httpServer.listen(port, "127.0.0.1", () => {
  const recovery = recoverySecs > 0 ? `, recovery ${recoverySecs} s` : "";
  console.error(`node socket.io peer listening on 127.0.0.1:${port} (adapter ${adapterUrl}${recovery})`);
});

const shutdown = () => {
  io.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
