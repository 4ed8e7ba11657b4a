// Rooms and broadcast with three clients A, B, C.
import assert from "node:assert/strict";
import { test, connected, emitAck, waitFor, collectDuring, record } from "./helpers.mjs";

const ROOM = "r1";

for (const [label, opts] of [
  ["websocket", { transports: ["websocket"] }],
  ["polling", { transports: ["polling"] }],
  ["mixed transports", null],
]) {
  test(`${label}: to-room, broadcast and leave with clients A, B, C`, async ({ connect }) => {
    const [a, b, c] = opts
      ? [connect(opts), connect(opts), connect(opts)]
      : [connect({ transports: ["websocket"] }), connect({ transports: ["polling"] }), connect()];
    await Promise.all([connected(a), connected(b), connected(c)]);

    assert.deepEqual(await emitAck(a, "join", ROOM), ["joined"]);
    assert.deepEqual(await emitAck(b, "join", ROOM), ["joined"]);

    // A -> room r1: only B receives (the sender is excluded, C is not in the room)
    const args = ["hi room", 1, { n: [2, 3] }, Buffer.from([1, 2])];
    const recA = record(a, "room-message");
    const recC = record(c, "room-message");
    const toB = waitFor(b, "room-message");
    a.emit("to-room", ROOM, ...args);
    assert.deepEqual(await toB, args);
    const lateB = await collectDuring(b, "room-message");
    recA.stop();
    recC.stop();
    assert.deepEqual(recA.calls, [], "sender must not get its own room message");
    assert.deepEqual(recC.calls, [], "C is not in the room");
    assert.deepEqual(lateB, [], "B gets the room message exactly once");

    // broadcast: everybody, sender included
    const all = [a, b, c].map((s) => waitFor(s, "broadcast-message"));
    c.emit("broadcast", "to all", { x: 1 });
    for (const got of await Promise.all(all)) assert.deepEqual(got, ["to all", { x: 1 }]);

    // B leaves r1; C joins r1 (positive control): A -> r1 reaches C, not B
    assert.deepEqual(await emitAck(b, "leave", ROOM), ["left"]);
    assert.deepEqual(await emitAck(c, "join", ROOM), ["joined"]);
    const recB = record(b, "room-message");
    const toC = waitFor(c, "room-message");
    a.emit("to-room", ROOM, "after leave");
    assert.deepEqual(await toC, ["after leave"]);
    const lateB2 = await collectDuring(b, "room-message");
    recB.stop();
    assert.deepEqual([...recB.calls, ...lateB2], [], "B left the room");
  });
}

test("join/leave without ack callback are accepted", async ({ connect }) => {
  const [a, b] = [connect(), connect()];
  await Promise.all([connected(a), connected(b)]);
  b.emit("join", "r2"); // no ack requested
  // events on one socket are processed in order: this ack proves the join happened
  assert.deepEqual(await emitAck(b, "message-with-ack", "sync"), ["sync"]);
  const toB = waitFor(b, "room-message");
  a.emit("to-room", "r2", "no-ack join");
  assert.deepEqual(await toB, ["no-ack join"]);
  b.emit("leave", "r2");
  assert.deepEqual(await emitAck(b, "message-with-ack", "sync"), ["sync"]);
  a.emit("to-room", "r2", "after no-ack leave");
  assert.deepEqual(await collectDuring(b, "room-message"), []);
});
