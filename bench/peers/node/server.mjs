// Benchmark peer: the conformance contract (the Node contract documented in
// examples/conformance.rs, as in tests/interop/reference/server.mjs, without
// the interop extensions) on Node socket.io 4.8 with its default `ws` engine.
// Engine timings come from the environment so that every server of the
// benchmark runs with the same settings; the rest is socket.io's defaults
// (no CORS handling: the load generator sends no Origin).
//
// Usage: PORT=3401 node bench/peers/node/server.mjs   (after `npm ci` here)
// Environment: PING_INTERVAL_MS (default 25000), PING_TIMEOUT_MS (default 20000).
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 3000);
const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  pingInterval: Number(process.env.PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS || 20000),
  maxHttpBufferSize: 1_000_000,
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
  console.error(`node socket.io peer listening on 127.0.0.1:${port}`);
});

const shutdown = () => {
  io.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
