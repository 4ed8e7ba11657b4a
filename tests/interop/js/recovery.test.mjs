// Connection-state recovery (Socket.IO 4.6+) with the official client.
//
// Each test starts its own server from SERVER_CMD (the command the suite
// runs, from the repository root) with recovery on: WIREHUB_RECOVERY_MS for
// wirehub's conformance example, RECOVERY_MS for the Node reference server
// (`connectionStateRecovery: { maxDisconnectionDuration, skipMiddlewares:
// true }` in both), so the same tests hold the reference to what they ask.
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { io, test, connected, emitAck, waitFor, sleep, startServer } from "./helpers.mjs";

/** The recovery window of the servers under test. */
const WINDOW_MS = 3000;

let server;
before(async () => {
  server = await startServer({
    WIREHUB_RECOVERY_MS: String(WINDOW_MS),
    RECOVERY_MS: String(WINDOW_MS),
  });
});
after(() => server?.stop());

/** Resolves once `check()` holds, rejects after `timeout` ms. */
async function until(check, what, timeout = 5000) {
  const end = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A watcher (told of every disconnect) and a client in room "r" that got one
 * event (so it holds an offset); `reconnectAfter` ms is its reconnection delay.
 */
async function setup(transports, reconnectAfter, closers) {
  const opts = { forceNew: true, timeout: 5000 };
  const w = io(server.url, { ...opts, transports: ["websocket"], reconnection: false });
  closers.push(() => w.close());
  await connected(w);
  assert.deepEqual(await emitAck(w, "watch-disconnects"), ["watching"]);
  const s = io(server.url, {
    ...opts,
    transports,
    reconnectionDelay: reconnectAfter,
    reconnectionDelayMax: reconnectAfter,
    randomizationFactor: 0,
  });
  closers.push(() => s.close());
  await connected(s);
  assert.equal(s.recovered, false);
  assert.deepEqual(await emitAck(s, "join", "r"), ["joined"]);
  const first = waitFor(s, "room-message");
  w.emit("to-room", "r", "m0");
  const [payload, offset] = await first;
  assert.equal(payload, "m0");
  assert.equal(typeof offset, "string", "a replayable event carries its offset last");
  const got = [];
  s.on("room-message", (payload) => got.push(payload));
  return { w, s, got };
}

/** Cuts the client's connection and waits until the server saw it go. */
async function cut(w, s) {
  const id = s.id;
  const gone = waitFor(w, "peer-disconnected", { filter: (sid) => sid === id });
  s.io.engine.close();
  const [, reason] = await gone;
  return reason;
}

async function withClosers(fn) {
  const closers = [];
  try {
    await fn(closers);
  } finally {
    for (const close of closers) close();
  }
}

for (const transports of [["websocket"], ["polling"]]) {
  const tn = transports[0];

  test(`${tn}: a short cut is recovered: same id, rooms, and every missed event once, in order`, () =>
    withClosers(async (closers) => {
      const { w, s, got } = await setup(transports, 500, closers);
      const id = s.id;
      assert.equal(await cut(w, s), "transport close");
      const back = waitFor(s, "connect");
      for (let i = 1; i <= 5; i++) w.emit("to-room", "r", `m${i}`);
      w.emit("to-room", id, "private");
      await back;
      assert.equal(s.recovered, true);
      assert.equal(s.id, id);
      await until(() => got.length >= 6, "the missed events");
      // still in room "r", and live events follow the replayed ones
      w.emit("to-room", "r", "live");
      await until(() => got.includes("live"), "a live event after recovery");
      await sleep(200);
      assert.deepEqual(got, ["m1", "m2", "m3", "m4", "m5", "private", "live"]);
    }));

  test(`${tn}: a cut longer than the window gets a fresh session and no replay`, () =>
    withClosers(async (closers) => {
      const { w, s, got } = await setup(transports, WINDOW_MS + 1500, closers);
      const id = s.id;
      await cut(w, s);
      const back = waitFor(s, "connect", { timeout: WINDOW_MS + 8000 });
      w.emit("to-room", "r", "missed");
      await back;
      assert.equal(s.recovered, false);
      assert.notEqual(s.id, id);
      // the new socket is in no room: nothing of "r" reaches it
      w.emit("to-room", "r", "not-for-you");
      await sleep(300);
      assert.deepEqual(got, []);
    }));
}

test("a client that leaves on purpose is not recovered", () =>
  withClosers(async (closers) => {
    const { s, got } = await setup(["websocket"], 200, closers);
    const id = s.id;
    s.disconnect();
    s.connect();
    await connected(s);
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, id);
    assert.deepEqual(got, []);
  }));
