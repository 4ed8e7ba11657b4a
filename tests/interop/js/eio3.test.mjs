// Engine.IO v3 / Socket.IO v2: socket.io-client 2.x (installed as
// socket.io-client-v2) against a server started with WIREHUB_ALLOW_EIO3=1
// (the conformance example; the Node reference reads the same variable
// into `allowEIO3`): polling, WebSocket and the upgrade between them, the
// client-driven heartbeat, the contract's events and acks, binary both
// ways, a room shared with a 4.x client, `/custom` with a query as its
// auth; and the suite's own server (default settings) refuses that client.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before } from "node:test";
import { URL, io, test, connected, waitFor, collectDuring, record, sleep, startServer } from "./helpers.mjs";

const ioV2 = createRequire(import.meta.url)("socket.io-client-v2");
const EVENT_TIMEOUT = 5_000;

let server;
before(async () => {
  server = await startServer({ WIREHUB_ALLOW_EIO3: "1" });
});
after(() => server?.stop());

/** A 2.x client of `base` (the test's server by default), closed at the end of the test. */
function v2(ctx, { nsp = "/", base = server.url, ...opts } = {}) {
  const socket = ioV2(base + (nsp === "/" ? "" : nsp), {
    forceNew: true,
    reconnection: false,
    timeout: EVENT_TIMEOUT,
    ...opts,
  });
  return ctx.track(socket);
}

/** A 4.x client of the test's server, closed at the end of the test. */
function v4(ctx, transports = ["websocket"]) {
  const socket = io(server.url, { forceNew: true, reconnection: false, timeout: EVENT_TIMEOUT, transports });
  return ctx.track(socket);
}

/** Emits with an ack callback (2.x has no socket.timeout()); resolves with every ack argument. */
function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for "${event}"`)), EVENT_TIMEOUT);
    socket.emit(event, ...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** The Engine.IO transport a 2.x client is on. */
const transportOf = (socket) => socket.io.engine.transport.name;

const bytes = (...xs) => Buffer.from(xs);
/** Normalises what a 2.x client decodes as binary (Buffer or ArrayBuffer) to Buffers. */
function buffers(value) {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(buffers);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, buffers(v)]));
  }
  return value;
}
/** JSON and binary, binary nested in objects and arrays. */
const mixed = () => ["text", 7, null, { file: bytes(0, 1, 2), list: [1, bytes(3)] }, bytes(255, 254)];

for (const transports of [["polling"], ["websocket"]]) {
  const tn = transports[0];

  test(`eio3 ${tn}: connects to / at once, with an empty auth`, async (ctx) => {
    const socket = v2(ctx, { transports });
    const auth = waitFor(socket, "auth");
    await connected(socket);
    assert.deepEqual(await auth, [{}]);
    assert.equal(transportOf(socket), tn);
    assert.equal(socket.id, socket.io.engine.id, "the socket id is the session id, as Node gives 2.x clients");
  });

  test(`eio3 ${tn}: message echoes and message-with-ack answers`, async (ctx) => {
    const socket = v2(ctx, { transports });
    await connected(socket);
    const back = waitFor(socket, "message-back");
    socket.emit("message", "héllo 😀", 1, { a: [true, null] });
    assert.deepEqual(await back, ["héllo 😀", 1, { a: [true, null] }]);
    assert.deepEqual(await emitAck(socket, "message-with-ack", "x", 2), ["x", 2]);
    assert.deepEqual(await emitAck(socket, "message-with-ack"), []);
  });

  test(`eio3 ${tn}: binary round-trips, in events and acks`, async (ctx) => {
    const socket = v2(ctx, { transports });
    await connected(socket);
    const back = waitFor(socket, "message-back");
    socket.emit("message", ...mixed());
    assert.deepEqual(buffers(await back), mixed());
    assert.deepEqual(buffers(await emitAck(socket, "message-with-ack", ...mixed())), mixed());
    const big = Buffer.alloc(100_000, 7);
    const bigBack = waitFor(socket, "message-back");
    socket.emit("message", big);
    assert.ok(buffers((await bigBack)[0]).equals(big), "100 KB payload differs");
  });

  test(`eio3 ${tn}: the server's ack request is answered by the client`, async (ctx) => {
    const socket = v2(ctx, { transports });
    await connected(socket);
    socket.on("server-ack-request", (...args) => {
      const ack = args.pop();
      ack("reply", ...args);
    });
    const result = waitFor(socket, "server-ack-result");
    socket.emit("server-ack", 1, "two");
    assert.deepEqual(await result, [{ reply: ["reply", 1, "two"] }]);
  });

  test(`eio3 ${tn}: the client's pings keep the session up past pingInterval + pingTimeout`, async (ctx) => {
    // The servers ping every 300 ms with a 200 ms timeout: a server that
    // waited for pongs, or did not answer the client's pings, would drop
    // the session (or the client would) well within 1.5 s.
    const socket = v2(ctx, { transports });
    await connected(socket);
    const pongs = record(socket, "pong");
    const drops = record(socket, "disconnect");
    await sleep(1_500);
    pongs.stop();
    drops.stop();
    assert.deepEqual(drops.calls, [], "the session stayed up");
    assert.ok(pongs.calls.length >= 2, `the server answered the pings (${pongs.calls.length} pongs)`);
    assert.deepEqual(await emitAck(socket, "message-with-ack", "still here"), ["still here"]);
  });

  test(`eio3 ${tn}: /custom takes its query as auth; an unknown namespace is refused`, async (ctx) => {
    const custom = v2(ctx, { transports, nsp: "/custom", query: { token: "abc", n: "1" } });
    const auth = waitFor(custom, "auth");
    await connected(custom);
    assert.deepEqual(await auth, [{ token: "abc", n: "1" }]);
    assert.equal(custom.id, `/custom#${custom.io.engine.id}`);
    const plain = v2(ctx, { transports, nsp: "/custom" });
    const plainAuth = waitFor(plain, "auth");
    await connected(plain);
    assert.deepEqual(await plainAuth, [{}]);
    const nope = v2(ctx, { transports, nsp: "/nope" });
    const [error] = await waitFor(nope, "error");
    assert.deepEqual(error, { message: "Invalid namespace" });
  });
}

test("eio3: polling upgrades to WebSocket and keeps working", async (ctx) => {
  const socket = v2(ctx, { transports: ["polling", "websocket"] });
  // The engine exists once io() returns (autoConnect): nothing is missed.
  // It opens on polling; the upgrade may finish before "connect" fires
  // (the probe races the CONNECT packet), so the first transport is read
  // here, not after connecting.
  assert.equal(transportOf(socket), "polling");
  const upgraded = waitFor(socket.io.engine, "upgrade");
  await connected(socket);
  await upgraded;
  assert.equal(transportOf(socket), "websocket");
  const back = waitFor(socket, "message-back");
  socket.emit("message", "after upgrade", bytes(1, 2, 3));
  assert.deepEqual(buffers(await back), ["after upgrade", bytes(1, 2, 3)]);
  await sleep(800);
  assert.ok(socket.connected, "heartbeat over the upgraded transport");
  assert.deepEqual(await emitAck(socket, "message-with-ack", 5), [5]);
});

test("eio3: a room is shared by 2.x and 4.x clients", async (ctx) => {
  const a = v2(ctx, { transports: ["websocket"] });
  const b = v2(ctx, { transports: ["polling"] });
  const c = v4(ctx);
  const d = v4(ctx);
  await Promise.all([a, b, c, d].map((s) => connected(s)));
  for (const s of [a, b]) assert.deepEqual(await emitAck(s, "join", "mixed"), ["joined"]);
  assert.deepEqual(await emitAck(c, "join", "mixed"), ["joined"]);

  const args = ["from 4.x", { bin: bytes(9, 9) }];
  const outsider = record(d, "room-message");
  const toA = waitFor(a, "room-message");
  const toB = waitFor(b, "room-message");
  c.emit("to-room", "mixed", ...args);
  assert.deepEqual(buffers(await toA), args);
  assert.deepEqual(buffers(await toB), args);

  const back = ["from 2.x", bytes(4, 5)];
  const toC = waitFor(c, "room-message");
  const toB2 = waitFor(b, "room-message");
  a.emit("to-room", "mixed", ...back);
  assert.deepEqual(await toC, back);
  assert.deepEqual(buffers(await toB2), back);
  assert.deepEqual(await collectDuring(a, "room-message"), [], "the sender is excluded");
  outsider.stop();
  assert.deepEqual(outsider.calls, [], "a 4.x client outside the room gets nothing");

  const all = [a, b, c, d].map((s) => waitFor(s, "broadcast-message"));
  b.emit("broadcast", "to all", bytes(7));
  for (const got of await Promise.all(all)) assert.deepEqual(buffers(got), ["to all", bytes(7)]);
});

test("eio3: refused by a server with default settings", async (ctx) => {
  // The suite's own server runs with defaults (no WIREHUB_ALLOW_EIO3).
  const res = await fetch(`${URL}/socket.io/?EIO=3&transport=polling`);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { code: 5, message: "Unsupported protocol version" });
  const socket = v2(ctx, { base: URL, transports: ["polling"] });
  await assert.rejects(connected(socket, 3_000));
  const ws = v2(ctx, { base: URL, transports: ["websocket"] });
  await assert.rejects(connected(ws, 3_000));
});

test("eio3: the handshake answers in v3 polling framing", async () => {
  const res = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling&b64=1`);
  assert.equal(res.status, 200);
  const body = await res.text();
  const m = /^(\d+):0(\{.*?\})(?=\d+:|$)/.exec(body);
  assert.ok(m, `a <length>:<packet> record: ${body}`);
  assert.equal(Number(m[1]), 1 + m[2].length);
  const open = JSON.parse(m[2]);
  assert.equal(typeof open.sid, "string");
  assert.deepEqual(open.upgrades, ["websocket"]);
  assert.equal(open.pingInterval, 300);
  assert.equal(open.pingTimeout, 200);
});
