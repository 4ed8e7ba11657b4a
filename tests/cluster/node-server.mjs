// A Node socket.io 4.8 cluster node with @socket.io/redis-adapter 8.3.0 (or
// @socket.io/redis-streams-adapter 0.3.1): the conformance contract, the
// interop extensions and the cluster contract.
//
//   PORT=3400 node tests/cluster/node-server.mjs
//
// Environment:
//   PORT              listens on 127.0.0.1:$PORT (required)
//   ADAPTER           "redis" (default): createAdapter (classic);
//                     "redis-sharded": createShardedAdapter (Redis >= 7);
//                     "redis-streams": @socket.io/redis-streams-adapter
//   REDIS_URL         default redis://127.0.0.1:6379
//   ADAPTER_KEY       `key` (classic) or `channelPrefix` (sharded); for the
//                     streams adapter `streamName` and `channelPrefix`, and
//                     sessions under `<key>:session:`; unset: the adapter's
//                     own defaults ("socket.io", sessions "sio:session:")
//   WIREHUB_RECOVERY_MS  when set, connectionStateRecovery with this
//                     maxDisconnectionDuration (ms)
// Standing in for a wirehub node, it reads the variables tests/cluster/run.sh
// gives a wirehub node instead (when WIREHUB_ADAPTER is set, the three above
// are ignored):
//   WIREHUB_ADAPTER      redis://HOST:PORT -> classic, redis-sharded://HOST:PORT
//                        -> sharded, redis-streams://HOST:PORT -> streams;
//                        nats://... -> exits with an error (Node has no NATS
//                        adapter of this protocol)
//   WIREHUB_ADAPTER_KEY  as ADAPTER_KEY
//
// Prints "node-server: listening on 127.0.0.1:PORT (...)" once the adapter's
// Redis clients are connected and the HTTP server listens.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";

const fail = (msg) => {
  console.error(`node-server: error: ${msg}`);
  process.exit(2);
};

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) fail("PORT is not set");

let mode, redisUrl, key;
if (process.env.WIREHUB_ADAPTER) {
  const spec = process.env.WIREHUB_ADAPTER;
  const m = /^(redis|redis-sharded|redis-streams|nats):\/\/(.+)$/.exec(spec);
  if (!m) fail(`WIREHUB_ADAPTER=${spec}: expected redis://, redis-sharded://, redis-streams:// or nats://`);
  if (m[1] === "nats") fail(`WIREHUB_ADAPTER=${spec}: Node socket.io has no NATS adapter of this protocol`);
  mode = m[1];
  redisUrl = `redis://${m[2]}`;
  key = process.env.WIREHUB_ADAPTER_KEY;
} else {
  mode = process.env.ADAPTER || "redis";
  if (!["redis", "redis-sharded", "redis-streams"].includes(mode)) {
    fail(`ADAPTER=${mode}: expected redis, redis-sharded or redis-streams`);
  }
  redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  key = process.env.ADAPTER_KEY;
}
if (key === "") key = undefined; // empty = unset: the adapter's default

// A stray rejection (e.g. a Redis command failing while Redis is down) must
// not take the node down silently: log it loudly and keep serving.
process.on("unhandledRejection", (err) => console.error("node-server: unhandled rejection:", err));

const pub = createClient({ url: redisUrl });
const sub = pub.duplicate();
// node-redis emits "error" on every failed (re)connection; an EventEmitter
// without an "error" listener would crash the process on Redis restart.
// Logged once per outage.
for (const [name, client] of [["pub", pub], ["sub", sub]]) {
  let down = false;
  client.on("error", (err) => {
    if (!down) console.error(`node-server: redis ${name}: ${err.message} (reconnecting)`);
    down = true;
  });
  client.on("ready", () => {
    if (down) console.error(`node-server: redis ${name}: reconnected`);
    down = false;
  });
}
try {
  await Promise.all([pub.connect(), sub.connect()]);
} catch (err) {
  fail(`cannot connect to ${redisUrl}: ${err.message}`);
}

// The streams adapter takes one client (it duplicates it for its reads and
// subscriptions); `sub` stays unused then.
const streamsOptions = key === undefined ? {} : { streamName: key, channelPrefix: key, sessionKeyPrefix: `${key}:session:` };
const adapter =
  mode === "redis-sharded"
    ? createShardedAdapter(pub, sub, key === undefined ? {} : { channelPrefix: key })
    : mode === "redis-streams"
      ? createStreamsAdapter(pub, streamsOptions)
      : createAdapter(pub, sub, key === undefined ? {} : { key });
const recoveryMs = Number(process.env.WIREHUB_RECOVERY_MS || 0);

const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1_000_000,
  connectTimeout: 1000,
  cors: { origin: "*" },
  adapter,
  ...(recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs } } : {}),
});

const errorOf = (err) => ({ error: String(err?.message || err) });

io.on("connection", (socket) => {
  // --- conformance contract (as tests/interop/reference/server.mjs) ---
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

  // --- interop extensions ---
  socket.on("server-ack", (...args) => {
    socket.timeout(1000).emit("server-ack-request", ...args, (err, ...reply) => {
      socket.emit("server-ack-result", err ? { error: "timeout" } : { reply });
    });
  });
  socket.on("collect-acks", (ack) => {
    io.timeout(1000).emit("collect", (err, responses) => ack({ timedOut: !!err, responses }));
  });
  socket.on("disconnect-me", () => socket.disconnect());
  socket.on("watch-disconnects", (ack) => {
    socket.join("watchers");
    ack && ack("watching");
  });
  socket.on("disconnect", (reason) => io.to("watchers").emit("peer-disconnected", socket.id, reason));

  // --- cluster contract ---
  socket.on("room-size", async (room, ack) => {
    try {
      ack((await io.in(room).fetchSockets()).length);
    } catch (err) {
      ack(errorOf(err));
    }
  });
  socket.on("to-room-except", (room, except, ...args) => io.to(room).except(except).emit("room-message", ...args));
  socket.on("make-join", (from, to, ack) => {
    io.in(from).socketsJoin(to);
    ack("ok");
  });
  socket.on("make-leave", (from, room, ack) => {
    io.in(from).socketsLeave(room);
    ack("ok");
  });
  socket.on("kick-room", (room, ack) => {
    ack("ok");
    io.in(room).disconnectSockets();
  });
  socket.on("nodes-ping", async (ack) => {
    try {
      ack((await io.serverSideEmitWithAck("node-ping")).length); // answers from the other nodes
    } catch (err) {
      ack(errorOf(err));
    }
  });
});
io.on("node-ping", (cb) => cb("pong"));

io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

httpServer.once("error", (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
httpServer.listen(port, "127.0.0.1", () => {
  console.log(
    `node-server: listening on 127.0.0.1:${port} (adapter ${{ redis: "classic", "redis-sharded": "sharded", "redis-streams": "streams" }[mode]}, ` +
      `${redisUrl}, ${mode === "redis" ? "key" : "channelPrefix"} ${key === undefined ? "(default)" : key}` +
      `${recoveryMs > 0 ? `, connection state recovery ${recoveryMs} ms` : ""})`,
  );
});

let closing = false;
const shutdown = (signal) => {
  if (closing) return;
  closing = true;
  console.log(`node-server: ${signal}, exiting`);
  io.close();
  // quit() waits for Redis; bound it so a dead Redis cannot hold the exit
  Promise.race([
    Promise.allSettled([pub.quit(), sub.quit()]),
    new Promise((r) => setTimeout(r, 500)),
  ]).finally(() => process.exit(0));
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
