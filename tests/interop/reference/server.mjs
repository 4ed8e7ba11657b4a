// Conformance server for the interop suites (Node reference implementation).
//
// Usage: PORT=3301 node tests/interop/reference/server.mjs
// Listens on 127.0.0.1:$PORT (PORT=0: a free port) and prints
// `reference server listening on http://127.0.0.1:PORT (instance ID)`: the
// bound port, and an ID that the `instance` event acknowledges with, so a
// test can check that the server answering is this one. socket.io is
// resolved from tests/interop/js (run `npm ci` there first;
// tests/interop/run.sh does it).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../js/package.json", import.meta.url));
const { Server } = require("socket.io");

// PARSER=msgpack (or WIREHUB_PARSER=msgpack, the conformance example's name)
// serves socket.io-msgpack-parser clients (tests/interop/js/msgpack.test.mjs).
const parserName = process.env.PARSER ?? process.env.WIREHUB_PARSER ?? "json";
const parser = parserName === "msgpack" ? require("socket.io-msgpack-parser") : undefined;

// WIREHUB_ALLOW_EIO3=1 (the conformance example's name) serves
// socket.io-client 2.x (tests/interop/js/eio3.test.mjs); off by default.
const allowEIO3 = process.env.WIREHUB_ALLOW_EIO3 === "1";

const port = Number(process.env.PORT ?? 3301);
const instance = randomBytes(8).toString("hex");
const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1_000_000,
  connectTimeout: 1000,
  cors: { origin: "*" },
  allowEIO3,
  ...(parser && { parser }),
  // RECOVERY_MS=N turns connection-state recovery on (tests/interop/js/recovery.test.mjs).
  ...(Number(process.env.RECOVERY_MS) > 0 && {
    connectionStateRecovery: {
      maxDisconnectionDuration: Number(process.env.RECOVERY_MS),
      skipMiddlewares: true,
    },
  }),
});

// WIREHUB_JWT_SECRET (the conformance example's name) requires an HS256
// token in `auth: { token }`, refused with wirehub's messages
// (tests/interop/js/jwt.test.mjs). A middleware of `/`, the namespace the
// suite uses.
const jwtSecret = process.env.WIREHUB_JWT_SECRET;
if (jwtSecret) {
  io.use((socket, next) => {
    // socket.io-client 2.x has no auth payload: its token is in the query.
    const legacy = socket.conn.protocol === 3;
    const token = legacy ? socket.handshake.query?.token : socket.handshake.auth?.token;
    const why = jwtRefusal(token, jwtSecret);
    next(why ? new Error(why) : undefined);
  });
}

/** Why an HS256 token is refused, or undefined if it is valid. */
function jwtRefusal(token, secret) {
  if (typeof token !== "string" || token === "") return "missing token";
  const parts = token.split(".");
  if (parts.length !== 3) return "malformed token";
  const expected = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return "invalid token signature";
  }
  const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString());
  if (typeof claims.exp !== "number") return "token lacks the exp claim";
  if (claims.exp + 30 < Date.now() / 1000) return "token expired";
  return undefined;
}

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

  // --- interop extensions (additive; used only by the interop suites) ---
  // server -> client ack with timeout
  socket.on("server-ack", (...args) => {
    socket.timeout(1000).emit("server-ack-request", ...args, (err, ...reply) => {
      socket.emit("server-ack-result", err ? { error: "timeout" } : { reply });
    });
  });
  // broadcast with acks collected from every client in the namespace
  socket.on("collect-acks", (ack) => {
    io.timeout(1000).emit("collect", (err, responses) => ack({ timedOut: !!err, responses }));
  });
  // server-initiated disconnect
  socket.on("disconnect-me", () => socket.disconnect());
  // cut the Engine.IO connection under the socket (recoverable: "forced
  // close"), then emit `missed` 1..count to it while it is away
  socket.on("cut-transport", (count) => {
    const { id, nsp } = socket;
    socket.once("disconnect", () => {
      for (let i = 1; i <= (Number(count) || 0); i++) nsp.to(id).emit("missed", i);
    });
    socket.conn.close();
  });
  // observe server-side disconnect reasons
  socket.on("watch-disconnects", (ack) => {
    socket.join("watchers");
    ack && ack("watching");
  });
  socket.on("disconnect", (reason) => io.to("watchers").emit("peer-disconnected", socket.id, reason));
  // which server process answers (printed at start), and how many sockets "/" has
  socket.on("instance", (ack) => ack && ack(instance));
  socket.on("socket-count", (ack) => ack && ack(io.of("/").sockets.size));
});

io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

httpServer.listen(port, "127.0.0.1", () => {
  const bound = httpServer.address().port;
  console.log(`reference server listening on http://127.0.0.1:${bound} (instance ${instance})`);
});

const shutdown = (signal) => {
  console.log(`reference server: ${signal}, exiting`);
  io.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
