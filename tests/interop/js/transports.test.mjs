// Transports: websocket-only, polling-only and the default polling -> websocket upgrade.
import assert from "node:assert/strict";
import { test, connected, echo, emitAck, waitFor, sleep } from "./helpers.mjs";

async function roundTrips(socket) {
  const args = ["hello", 42, { nested: [true, null, "x"] }];
  assert.deepEqual(await echo(socket, ...args), args);
  assert.deepEqual(await emitAck(socket, "message-with-ack", "a", 1, { b: 2 }), ["a", 1, { b: 2 }]);
}

test("websocket-only: connect, echo and ack round-trip", async ({ connect }) => {
  const socket = connect({ transports: ["websocket"] });
  await connected(socket);
  assert.equal(socket.io.engine.transport.name, "websocket");
  await roundTrips(socket);
  assert.equal(socket.io.engine.transport.name, "websocket");
});

test("polling-only: connect, echo and ack round-trip", async ({ connect }) => {
  const socket = connect({ transports: ["polling"] });
  await connected(socket);
  assert.equal(socket.io.engine.transport.name, "polling");
  await roundTrips(socket);
  // a few ping/pong cycles (pingInterval 300 ms) must not break the session
  await sleep(700);
  assert.equal(socket.connected, true);
  assert.equal(socket.io.engine.transport.name, "polling");
  await roundTrips(socket);
});

test("default transports: polling upgrades to websocket, echo and ack round-trip", async ({ connect }) => {
  const socket = connect();
  const upgraded = waitFor(socket.io.engine, "upgrade");
  await connected(socket);
  await upgraded;
  assert.equal(socket.io.engine.transport.name, "websocket");
  await roundTrips(socket);
  assert.equal(socket.io.engine.transport.name, "websocket");
});

test("websocket-only: session survives several heartbeats", async ({ connect }) => {
  const socket = connect({ transports: ["websocket"] });
  await connected(socket);
  const pings = [];
  socket.io.on("ping", () => pings.push(Date.now()));
  await sleep(1000);
  assert.ok(pings.length >= 2, `expected >= 2 pings in 1 s with pingInterval 300 ms, got ${pings.length}`);
  assert.equal(socket.connected, true);
  await roundTrips(socket);
});
