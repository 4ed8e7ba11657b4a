// Namespaces, multiplexing, auth payload and unknown namespaces.
import assert from "node:assert/strict";
import { test, connected, connectError, echo, waitFor } from "./helpers.mjs";

test('"/" and "/custom" multiplexed on one Manager both receive "auth"', async ({ manager, track }) => {
  const m = manager();
  const root = track(m.socket("/", { auth: { token: "root" } }));
  const custom = track(m.socket("/custom", { auth: { token: "custom" } }));
  const rootAuth = waitFor(root, "auth");
  const customAuth = waitFor(custom, "auth");
  await Promise.all([connected(root), connected(custom)]);
  assert.deepEqual(await rootAuth, [{ token: "root" }]);
  assert.deepEqual(await customAuth, [{ token: "custom" }]);
  // one Engine.IO session carries both namespaces
  assert.equal(root.io, custom.io);
  assert.equal(root.io.engine, m.engine);
  assert.notEqual(root.id, custom.id);
  // "/" still works after "/custom" joined the same connection
  assert.deepEqual(await echo(root, "multiplexed"), ["multiplexed"]);
});

test('multiplexed over websocket-only: closing "/custom" keeps "/" working', async ({ manager, track }) => {
  const m = manager({ transports: ["websocket"] });
  const root = track(m.socket("/"));
  const custom = track(m.socket("/custom"));
  const customAuth = waitFor(custom, "auth");
  await Promise.all([connected(root), connected(custom)]);
  assert.deepEqual(await customAuth, [{}]);
  custom.disconnect();
  assert.deepEqual(await echo(root, "still here"), ["still here"]);
  assert.equal(root.connected, true);
});

test('auth payload is echoed back on "/"', async ({ connect }) => {
  const socket = connect({ auth: { token: "abc" } });
  const auth = waitFor(socket, "auth");
  await connected(socket);
  assert.deepEqual(await auth, [{ token: "abc" }]);
});

test('auth payload is echoed back on "/custom"', async ({ connect }) => {
  const socket = connect({ auth: { token: "abc" } }, "/custom");
  const auth = waitFor(socket, "auth");
  await connected(socket);
  assert.deepEqual(await auth, [{ token: "abc" }]);
});

test('auth payload as a function, over websocket-only, on "/custom"', async ({ connect }) => {
  const socket = connect({ transports: ["websocket"], auth: (cb) => cb({ token: "abc", n: 1 }) }, "/custom");
  const auth = waitFor(socket, "auth");
  await connected(socket);
  assert.deepEqual(await auth, [{ token: "abc", n: 1 }]);
});

test("no auth payload gives an empty object", async ({ connect }) => {
  const socket = connect();
  const auth = waitFor(socket, "auth");
  await connected(socket);
  assert.deepEqual(await auth, [{}]);
});

test('unknown namespace "/nope" -> connect_error "Invalid namespace"', async ({ connect }) => {
  const socket = connect({}, "/nope");
  const err = await connectError(socket);
  assert.equal(err.message, "Invalid namespace");
  assert.equal(socket.connected, false);
});

test('unknown namespace over websocket-only -> connect_error "Invalid namespace"', async ({ connect }) => {
  const socket = connect({ transports: ["websocket"] }, "/nope");
  const err = await connectError(socket);
  assert.equal(err.message, "Invalid namespace");
});

test('"/nope" rejected on a shared Manager while "/" on it keeps working', async ({ manager, track }) => {
  const m = manager();
  const root = track(m.socket("/"));
  await connected(root);
  const nope = track(m.socket("/nope"));
  const err = await connectError(nope);
  assert.equal(err.message, "Invalid namespace");
  assert.deepEqual(await echo(root, "ok"), ["ok"]);
});
