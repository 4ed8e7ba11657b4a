// socket.io-msgpack-parser: the official client with the MessagePack parser
// against a server started with it (WIREHUB_PARSER=msgpack for wirehub's
// conformance example, PARSER=msgpack for the Node reference server, which
// then passes the parser to `new Server({ parser })`): the contract's
// events, nested binary, acks both ways and rooms, over WebSocket and
// long-polling (where every packet is a binary message, base64 in the
// payload).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before } from "node:test";
import { io, test, connected, connectError, waitFor, collectDuring, record, startServer } from "./helpers.mjs";

const parser = createRequire(import.meta.url)("socket.io-msgpack-parser");
const EVENT_TIMEOUT = 5_000;

let server;
before(async () => {
  server = await startServer({ WIREHUB_PARSER: "msgpack", PARSER: "msgpack" });
});
after(() => server?.stop());

/** A msgpack-parser client of the test's server, closed at the end of the test. */
function client(ctx, transports, { nsp = "/", parser: chosen = parser, ...opts } = {}) {
  const socket = io(server.url + (nsp === "/" ? "" : nsp), {
    forceNew: true,
    reconnection: false,
    timeout: EVENT_TIMEOUT,
    transports,
    parser: chosen,
    ...opts,
  });
  return ctx.track(socket);
}

/** Emits with an ack callback; resolves with every ack argument. */
function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(EVENT_TIMEOUT).emit(event, ...args, (err, ...reply) => {
      if (err) reject(new Error(`no ack for "${event}": ${err.message}`));
      else resolve(reply);
    });
  });
}

const bytes = (...xs) => Buffer.from(xs);
/** Mixed JSON and binary, binary nested in objects and arrays. */
const mixed = () => [
  "text",
  7,
  -2.5,
  null,
  { file: bytes(0, 1, 2), meta: { ok: true, list: [1, "two", bytes(3)] } },
  [bytes(255), { deeper: [bytes(), bytes(4, 4)] }],
  bytes(9, 8, 7),
  false,
];

for (const transports of [["websocket"], ["polling"]]) {
  const tn = transports[0];

  test(`msgpack ${tn}: auth is echoed on connect, in / and /custom`, async (ctx) => {
    const auth = { token: "abc", n: [1, 2.5], nested: { k: null } };
    const main = client(ctx, transports, { auth, autoConnect: false });
    const gotAuth = waitFor(main, "auth");
    main.connect();
    await connected(main);
    assert.deepEqual(await gotAuth, [auth]);
    const custom = client(ctx, transports, { nsp: "/custom", auth: { who: "me" }, autoConnect: false });
    const customAuth = waitFor(custom, "auth");
    custom.connect();
    assert.deepEqual(await customAuth, [{ who: "me" }]);
  });

  test(`msgpack ${tn}: an unknown namespace gets a connect error`, async (ctx) => {
    const err = await connectError(client(ctx, transports, { nsp: "/nope" }));
    assert.equal(err.message, "Invalid namespace");
  });

  test(`msgpack ${tn}: message echoes nested binary as Buffers`, async (ctx) => {
    const socket = client(ctx, transports);
    await connected(socket);
    const back = waitFor(socket, "message-back");
    socket.emit("message", ...mixed());
    const got = await back;
    assert.deepEqual(got, mixed());
    assert.ok(Buffer.isBuffer(got[4].file), "nested binary comes back as a Buffer");
    assert.ok(Buffer.isBuffer(got[5][1].deeper[0]), "an empty Buffer stays a Buffer");
  });

  test(`msgpack ${tn}: message-with-ack answers with the same arguments`, async (ctx) => {
    const socket = client(ctx, transports);
    await connected(socket);
    assert.deepEqual(await emitAck(socket, "message-with-ack", ...mixed()), mixed());
    assert.deepEqual(await emitAck(socket, "message-with-ack"), []);
  });

  test(`msgpack ${tn}: the server's ack request is answered by the client`, async (ctx) => {
    const socket = client(ctx, transports);
    await connected(socket);
    socket.on("server-ack-request", (...args) => {
      const ack = args.pop();
      ack("reply", ...args);
    });
    const result = waitFor(socket, "server-ack-result");
    socket.emit("server-ack", 1, bytes(5, 6));
    assert.deepEqual(await result, [{ reply: ["reply", 1, bytes(5, 6)] }]);
  });

  test(`msgpack ${tn}: 100 KB Buffer round-trips byte-exact`, async (ctx) => {
    const socket = client(ctx, transports);
    await connected(socket);
    const buf = Buffer.alloc(100_000);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7919 + 13) & 0xff;
    const back = waitFor(socket, "message-back");
    socket.emit("message", buf);
    const [got] = await back;
    assert.ok(Buffer.isBuffer(got) && got.equals(buf), "payload differs");
  });

  test(`msgpack ${tn}: rooms, broadcast and leave with clients A, B, C`, async (ctx) => {
    const [a, b, c] = [client(ctx, transports), client(ctx, transports), client(ctx, transports)];
    await Promise.all([connected(a), connected(b), connected(c)]);
    assert.deepEqual(await emitAck(a, "join", "r1"), ["joined"]);
    assert.deepEqual(await emitAck(b, "join", "r1"), ["joined"]);

    const args = ["hi room", 1, { n: [2, 3], bin: bytes(1, 2) }];
    const recA = record(a, "room-message");
    const recC = record(c, "room-message");
    const toB = waitFor(b, "room-message");
    a.emit("to-room", "r1", ...args);
    assert.deepEqual(await toB, args);
    assert.deepEqual(await collectDuring(b, "room-message"), [], "B gets it exactly once");
    recA.stop();
    recC.stop();
    assert.deepEqual(recA.calls, [], "the sender is excluded");
    assert.deepEqual(recC.calls, [], "C is not in the room");

    const all = [a, b, c].map((s) => waitFor(s, "broadcast-message"));
    c.emit("broadcast", "to all", bytes(7));
    for (const got of await Promise.all(all)) assert.deepEqual(got, ["to all", bytes(7)]);

    assert.deepEqual(await emitAck(b, "leave", "r1"), ["left"]);
    const recB = record(b, "room-message");
    a.emit("to-room", "r1", "after leave");
    await collectDuring(b, "room-message");
    recB.stop();
    assert.deepEqual(recB.calls, [], "B left the room");
  });
}

test("msgpack: a client with the default parser gets no connection", async (ctx) => {
  // Negative control: the server really speaks MessagePack (a JSON-parser
  // client's CONNECT is not a packet there).
  const socket = client(ctx, ["websocket"], { parser: null, timeout: 1500 });
  await assert.rejects(connected(socket, 3000));
});
