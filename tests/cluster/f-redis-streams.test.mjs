// Scenario f: @socket.io/redis-streams-adapter 0.3.1 (XADD/XREAD on the stream
// named after the key, PUBLISH/SUBSCRIBE for requests and responses).
//
// 1. The contract checks on 2 wirehub nodes + 1 Node socket.io node, random
//    key (stream name and channel prefix).
// 2. Connection-state recovery across kinds: a client cut from a Node node is
//    recovered on a wirehub node, and the other way round (WebSocket and
//    polling), each pair with a fresh random key: same socket id, its rooms,
//    every event it missed in order exactly once (the replay tokens are
//    stream entry ids), then live events.
// 3. The defaults: no key on either side, on a private redis-server (the
//    default stream "socket.io" must not be shared with other runs): one
//    cluster, sessions under sio:session:<pid>, recovery both ways.
import assert from "node:assert/strict";
import { describe, test, before, after } from "node:test";
import { contractScenario } from "./contract.mjs";
import {
  SHARED_REDIS, randomKey, sleep, startNode, stopAll, freePort, startRedis, redisClient, numsub,
} from "./cluster.mjs";
import { TEST_TIMEOUT, clientOf, closeAll, connected, emitAck, waitUntil } from "./helpers.mjs";

contractScenario({
  id: "f",
  title: "mixed Redis cluster, streams adapter",
  spec: [{ kind: "wirehub", count: 2 }, { kind: "node", count: 1 }],
  adapter: "redis-streams",
  server: SHARED_REDIS,
});

const WINDOW_MS = 5000;
const STREAM_ID = /^\d+-\d+$/;

/**
 * A client on node `a` (in room "r") is cut and comes back on node `b`,
 * having missed m1..m5 to "r" and one event to its own id, all emitted on
 * `a`. `server` is the Redis ("host:port") the nodes share; `sessionKey(pid)`
 * is where the dropped session must be kept meanwhile.
 */
async function recoverAcross({ a, b, transports, server, sessionKey }) {
  const redis = await redisClient(server);
  const sockets = [];
  try {
    const w = clientOf(a.url, `watcher@${a.label}`, { transports: ["websocket"] });
    const s = clientOf(a.url, "client", {
      transports,
      reconnection: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
    });
    sockets.push(w, s);
    await Promise.all([connected(w), connected(s)]);
    assert.ok(s._pid, `${a.label} gave the client a pid (recovery on)`);
    assert.deepEqual(await emitAck(w, "watch-disconnects"), ["watching"]);
    assert.deepEqual(await emitAck(s, "join", "r"), ["joined"]);
    const events = () => s.log.filter((e) => e.event === "room-message");
    const payloads = () => events().map((e) => e.args[0]);
    w.emit("to-room", "r", "m0");
    await waitUntil(() => payloads().includes("m0"), { what: () => "m0 at the client" });
    const token0 = events()[0].args.at(-1);
    assert.match(String(token0), STREAM_ID, `${a.label}'s replay token is a stream entry id`);
    assert.equal(s._lastOffset, token0);

    const id = s.id;
    const pid = s._pid;
    const gone = new Promise((resolve) => w.on("peer-disconnected", (sid, reason) => sid === id && resolve(reason)));
    // the next connection goes to node b; hold it back until the session is seen in Redis
    s.io.uri = b.url;
    s.io.reconnectionDelay(1500);
    s.io.reconnectionDelayMax(1500);
    s.io.engine.close();
    assert.equal(await gone, "transport close");
    let ttl;
    await waitUntil(async () => (ttl = await redis.pTTL(sessionKey(pid))) > 0, {
      timeout: 1000, what: () => `${sessionKey(pid)} in Redis (PTTL ${ttl})`,
    });
    assert.ok(ttl <= WINDOW_MS, `session kept for the window (PTTL ${ttl})`);
    const back = new Promise((resolve) => s.once("connect", resolve));
    for (let i = 1; i <= 5; i++) w.emit("to-room", "r", `m${i}`);
    w.emit("to-room", id, "private");
    await back;
    assert.equal(s.recovered, true, `recovered on ${b.label}`);
    assert.equal(s.id, id, "same socket id");
    assert.equal(await redis.exists(sessionKey(pid)), 0, "the session was taken (GETDEL)");
    await waitUntil(() => payloads().length >= 7, { what: () => `the missed events (got ${payloads()})` });
    // still in "r" on node b: a live event from node a follows the replayed ones
    w.emit("to-room", "r", "live");
    await waitUntil(() => payloads().includes("live"), { what: () => "a live event" });
    await sleep(300);
    assert.deepEqual(payloads(), ["m0", "m1", "m2", "m3", "m4", "m5", "private", "live"]);
    const tokens = events().map((e) => String(e.args.at(-1)));
    for (const t of tokens) assert.match(t, STREAM_ID);
    const ordered = tokens.map((t) => t.split("-").map(BigInt));
    for (let i = 1; i < ordered.length; i++) {
      const [p, q] = [ordered[i - 1], ordered[i]];
      assert.ok(q[0] > p[0] || (q[0] === p[0] && q[1] > p[1]), `tokens increase: ${tokens}`);
    }
    assert.equal(s._lastOffset, tokens.at(-1));
  } finally {
    closeAll(sockets);
    await redis.quit().catch(() => {});
  }
}

const pairs = [
  ["node", "wirehub"],
  ["wirehub", "node"],
];

describe("f. connection-state recovery across a wirehub node and a Node node (redis-streams, random key)", () => {
  for (const [from, to] of pairs) {
    for (const transports of [["websocket"], ["polling"]]) {
      test(`cut from the ${from} node, recovered on the ${to} node (${transports[0]})`, { timeout: TEST_TIMEOUT }, async () => {
        const key = randomKey("f-rec");
        const spec = { adapter: "redis-streams", server: SHARED_REDIS, key, extraEnv: { WIREHUB_RECOVERY_MS: String(WINDOW_MS) } };
        const [a, b] = await Promise.all([
          startNode({ ...spec, kind: from, label: `${from}#a` }),
          startNode({ ...spec, kind: to, label: `${to}#b` }),
        ]);
        try {
          await recoverAcross({ a, b, transports, server: SHARED_REDIS, sessionKey: (pid) => `${key}:session:${pid}` });
        } finally {
          await stopAll([a, b]);
          const redis = await redisClient(SHARED_REDIS);
          await redis.del(key).catch(() => {});
          await redis.quit().catch(() => {});
        }
      });
    }
  }
});

describe("f. the adapter's defaults (no key on either side, private redis-server)", () => {
  const st = { redis: null, server: null, nodes: [] };
  before(async () => {
    const port = await freePort();
    st.server = `127.0.0.1:${port}`;
    st.redis = await startRedis(port, "redis-f");
    const spec = { adapter: "redis-streams", server: st.server, key: undefined, extraEnv: { WIREHUB_RECOVERY_MS: String(WINDOW_MS) } };
    st.nodes = await Promise.all([
      startNode({ ...spec, kind: "wirehub", label: "wirehub#0" }),
      startNode({ ...spec, kind: "node", label: "node#0" }),
    ]);
  }, { timeout: 60_000 });
  after(async () => {
    await stopAll(st.nodes);
    await st.redis?.kill();
  });

  test("one cluster on stream socket.io and channel socket.io#/# (NUMSUB 2, nodes-ping both ways)", { timeout: TEST_TIMEOUT }, async () => {
    const redis = await redisClient(st.server);
    const sockets = st.nodes.map((n) => clientOf(n.url, `${n.label}/c0`, { transports: ["websocket"] }));
    try {
      await Promise.all(sockets.map((s) => connected(s)));
      assert.equal(await numsub(redis, "socket.io#/#"), 2);
      for (const s of sockets) assert.deepEqual(await emitAck(s, "nodes-ping"), [1], s.label);
      sockets[0].emit("broadcast", "defaults");
      await waitUntil(() => sockets.every((s) => s.log.some((e) => e.event === "broadcast-message" && e.args[0] === "defaults")), {
        what: () => "the broadcast on both nodes",
      });
      assert.ok((await redis.xLen("socket.io")) > 0, "entries in the stream socket.io");
    } finally {
      closeAll(sockets);
      await redis.quit().catch(() => {});
    }
  });

  for (const [from, to] of pairs) {
    test(`sessions under sio:session:<pid>: cut from the ${from} node, recovered on the ${to} node`, { timeout: TEST_TIMEOUT }, async () => {
      const node = (kind) => st.nodes.find((n) => n.kind === kind);
      await recoverAcross({
        a: node(from), b: node(to), transports: ["websocket"], server: st.server, sessionKey: (pid) => `sio:session:${pid}`,
      });
    });
  }
});
