// Scenario g: connection-state recovery across two wirehub nodes on one
// Redis (classic and sharded adapters): a client cut from one node comes
// back on the other with the same socket id, its rooms, and every event it
// missed (emitted on the first node meanwhile), in order, exactly once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SHARED_REDIS, randomKey, sleep, startNode, stopAll } from "./cluster.mjs";
import { TEST_TIMEOUT, clientOf, closeAll, connected, emitAck, waitUntil } from "./helpers.mjs";

const WINDOW_MS = 5000;

for (const adapter of ["redis", "redis-sharded"]) {
  for (const transports of [["websocket"], ["polling"]]) {
    const name = `g: ${adapter}, ${transports[0]}: a client cut from one wirehub node is recovered on another`;
    test(name, { timeout: TEST_TIMEOUT }, async () => {
      const key = randomKey(`g-${adapter}`);
      const extraEnv = { WIREHUB_RECOVERY_MS: String(WINDOW_MS) };
      const spec = { kind: "wirehub", adapter, server: SHARED_REDIS, key, extraEnv };
      const [a, b] = await Promise.all([
        startNode({ ...spec, label: "wirehub#a" }),
        startNode({ ...spec, label: "wirehub#b" }),
      ]);
      const sockets = [];
      try {
        const w = clientOf(a.url, "watcher@a", { transports: ["websocket"] });
        const s = clientOf(a.url, "client", {
          transports,
          reconnection: true,
          reconnectionDelay: 300,
          reconnectionDelayMax: 300,
          randomizationFactor: 0,
        });
        sockets.push(w, s);
        await Promise.all([connected(w), connected(s)]);
        assert.deepEqual(await emitAck(w, "watch-disconnects"), ["watching"]);
        assert.deepEqual(await emitAck(s, "join", "r"), ["joined"]);
        const payloads = () => s.log.filter((e) => e.event === "room-message").map((e) => e.args[0]);
        w.emit("to-room", "r", "m0");
        await waitUntil(() => payloads().includes("m0"), { what: () => "m0 at the client" });
        const id = s.id;
        const gone = new Promise((resolve) =>
          w.on("peer-disconnected", (sid, reason) => sid === id && resolve(reason)),
        );
        // the next connection goes to node b
        s.io.uri = b.url;
        s.io.engine.close();
        assert.equal(await gone, "transport close");
        const back = new Promise((resolve) => s.once("connect", resolve));
        for (let i = 1; i <= 5; i++) w.emit("to-room", "r", `m${i}`);
        w.emit("to-room", id, "private");
        await back;
        assert.equal(s.recovered, true, "recovered on the other node");
        assert.equal(s.id, id);
        await waitUntil(() => payloads().length >= 7, { what: () => `the missed events (got ${payloads()})` });
        // still in "r" on node b: a live event from node a follows the replayed ones
        w.emit("to-room", "r", "live");
        await waitUntil(() => payloads().includes("live"), { what: () => "a live event" });
        await sleep(300);
        assert.deepEqual(payloads(), ["m0", "m1", "m2", "m3", "m4", "m5", "private", "live"]);
      } finally {
        closeAll(sockets);
        await stopAll([a, b]);
      }
    });
  }
}
