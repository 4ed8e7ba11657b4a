// Acknowledgements in both directions, and broadcast acks ("collect-acks").
import assert from "node:assert/strict";
import { test, connected, emitAck, waitFor, untilOnly } from "./helpers.mjs";

for (const transports of [["websocket"], ["polling"]]) {
  const tn = transports[0];

  test(`${tn}: client -> server ack with multiple arguments`, async ({ connect }) => {
    const socket = connect({ transports });
    await connected(socket);
    const args = ["one", 2, { three: [3] }, null, true, Buffer.from([4])];
    assert.deepEqual(await emitAck(socket, "message-with-ack", ...args), args);
    // an ack with no arguments at all
    assert.deepEqual(await emitAck(socket, "message-with-ack"), []);
    // emitWithAck (promise API) resolves with the first ack argument
    assert.equal(await socket.emitWithAck("message-with-ack", "first", "second"), "first");
  });

  test(`${tn}: server -> client ack is answered and reported back`, async ({ connect }) => {
    const socket = connect({ transports });
    await connected(socket);
    const requests = [];
    socket.on("server-ack-request", (...args) => {
      const ack = args.pop();
      assert.equal(typeof ack, "function", "server-ack-request must carry an ack callback");
      requests.push(args);
      ack("pong", ...args, Buffer.from([7, 7]));
    });
    const result = waitFor(socket, "server-ack-result");
    socket.emit("server-ack", "ping", 1, { two: 2 });
    const [res] = await result;
    assert.deepEqual(requests, [["ping", 1, { two: 2 }]]);
    assert.deepEqual(res, { reply: ["pong", "ping", 1, { two: 2 }, Buffer.from([7, 7])] });
  });

  test(`${tn}: server -> client ack not answered -> timeout after ~1 s`, async ({ connect }) => {
    const socket = connect({ transports });
    await connected(socket);
    let asked = 0;
    socket.on("server-ack-request", () => {
      asked++; // deliberately never call the ack
    });
    const result = waitFor(socket, "server-ack-result");
    const start = Date.now();
    socket.emit("server-ack", "ignored");
    const [res] = await result;
    const elapsed = Date.now() - start;
    assert.equal(asked, 1);
    assert.deepEqual(res, { error: "timeout" });
    assert.ok(elapsed >= 900 && elapsed < 3000, `timeout after ${elapsed} ms, expected ~1000 ms`);
    assert.equal(socket.connected, true);
  });
}

// io.timeout(1000).emit("collect", cb) reaches every socket of "/" -- including
// the requester itself -- so every connected client must answer for timedOut=false.
async function threeClients(connect) {
  const a = connect({ transports: ["websocket"] });
  const b = connect({ transports: ["polling"] });
  const c = connect();
  await Promise.all([connected(a), connected(b), connected(c)]);
  // sockets of earlier tests may still be leaving server-side: wait until
  // these three are all "/" has
  await untilOnly(a, 3);
  return [a, b, c];
}

test("collect-acks: answers from every client of the namespace", async ({ connect }) => {
  const [a, b, c] = await threeClients(connect);
  a.on("collect", (ack) => ack("from-a"));
  b.on("collect", (ack) => ack({ from: "b" }));
  c.on("collect", (ack) => ack(["from-c", 3]));
  const start = Date.now();
  const [res] = await emitAck(a, "collect-acks");
  assert.equal(res.timedOut, false);
  assert.equal(res.responses.length, 3);
  for (const answer of ["from-a", { from: "b" }, ["from-c", 3]]) {
    assert.ok(
      res.responses.some((r) => JSON.stringify(r) === JSON.stringify(answer)),
      `missing ${JSON.stringify(answer)} in ${JSON.stringify(res.responses)}`,
    );
  }
  assert.ok(Date.now() - start < 900, "all answered: must not wait for the 1 s timeout");
});

test("collect-acks: one client not answering -> timedOut", async ({ connect }) => {
  const [a, b, c] = await threeClients(connect);
  let cAsked = 0;
  a.on("collect", (ack) => ack("from-a"));
  b.on("collect", (ack) => ack("from-b"));
  c.on("collect", () => cAsked++); // never answers
  const start = Date.now();
  const [res] = await emitAck(a, "collect-acks");
  const elapsed = Date.now() - start;
  assert.equal(res.timedOut, true);
  assert.equal(cAsked, 1);
  // the answers received before the timeout are still reported
  assert.deepEqual([...res.responses].sort(), ["from-a", "from-b"]);
  assert.ok(elapsed >= 900, `timed out after ${elapsed} ms, expected ~1000 ms`);
});
