// Scenario e: Redis restart. wirehub#0 + node#0 (classic adapter) on a private
// redis-server on a free port, with NO key set on either side (so both must use
// the adapter's default, "socket.io"). Twice (publisher on the wirehub node,
// then on the Node node): a publisher client on node A emits `broadcast` with
// a sequence number every 20 ms for 6.5 s; redis-server is SIGKILLed at 2 s
// and started again on the same port at 3.5 s.
//   - receivers on A (local delivery) get every message, once, in order;
//   - receivers on B lose only messages sent in [kill - 100 ms, redis back + 2 s]
//     (100 ms: messages still in flight when Redis died), never one twice;
//   - no client is disconnected, no node dies, and the cluster works again after.
import assert from "node:assert/strict";
import { describe, test, before, after } from "node:test";
import { startCluster, stopAll, deadNodes, freePort, startRedis, redisClient, numsub, sleep } from "./cluster.mjs";
import { EVENT_TIMEOUT, clientOf, connected, emitAck, waitUntil, closeAll, expectDelivery } from "./helpers.mjs";

const PERIOD = 20;
const DURATION = 6_500;
const KILL_AT = 2_000;
const RESTART_AT = 3_500;
const GRACE = 2_000; // reconnect grace after Redis answers again
const IN_FLIGHT = 100; // sent this shortly before the kill, a message may still be lost

const st = { nodes: [], redis: null, port: 0, extra: [] };

async function healthy(nodes, clients) {
  // both nodes see each other again (bounded)
  let last;
  await waitUntil(async () => {
    last = await Promise.all(clients.map((c) => emitAck(c, "nodes-ping").then(([x]) => x, (e) => e.message)));
    return last.every((x) => x === 1);
  }, { timeout: 20_000, what: () => `nodes-ping = 1 on both nodes (last ${JSON.stringify(last)})` });
}

describe("e. Redis restart: wirehub#0 + node#0 (classic adapter) on a private redis-server, no key set on either side", () => {
  before(async () => {
    st.port = await freePort();
    st.redis = await startRedis(st.port, "e-redis");
    st.nodes = await startCluster([{ kind: "wirehub", count: 1 }, { kind: "node", count: 1 }], {
      adapter: "redis", server: `127.0.0.1:${st.port}`, key: undefined,
    });
  }, { timeout: 60_000 });

  after(async () => {
    closeAll(st.extra);
    await stopAll(st.nodes);
    await st.redis?.kill();
  });

  test("defaults match: NUMSUB socket.io-request#/# = 2, nodes-ping = 1 on both nodes, a broadcast crosses both ways", { timeout: 40_000 }, async () => {
    const probes = st.nodes.map((n) => clientOf(n.url, `${n.label}/probe`, { transports: ["websocket"] }));
    st.extra.push(...probes);
    await Promise.all(probes.map((s) => connected(s)));
    await healthy(st.nodes, probes);
    const redis = await redisClient(`127.0.0.1:${st.port}`);
    try {
      assert.equal(await numsub(redis, "socket.io-request#/#", false), 2, "PUBSUB NUMSUB socket.io-request#/#");
    } finally {
      await redis.quit();
    }
    for (const [i, tok] of [[0, "e-default-0"], [1, "e-default-1"]]) {
      probes[i].emit("broadcast", tok);
      await expectDelivery({ event: "broadcast-message", token: tok, expected: probes, others: [] });
    }
    closeAll(probes);
  });

  for (const [a, b] of [[0, 1], [1, 0]]) {
    const labels = ["wirehub#0", "node#0"];
    test(`publisher on ${labels[a]}, receiver on ${labels[b]}: redis-server SIGKILLed at ${KILL_AT} ms, back at ${RESTART_AT} ms`, { timeout: 60_000 }, async (t) => {
      const A = st.nodes[a], B = st.nodes[b];
      const pub = clientOf(A.url, `${A.label}/publisher`, { transports: ["websocket"] });
      const recvA = clientOf(A.url, `${A.label}/receiver`, { transports: ["websocket"] });
      const recvB = clientOf(B.url, `${B.label}/receiver`, { transports: ["websocket"] });
      const recvBp = clientOf(B.url, `${B.label}/receiver(polling)`, { transports: ["polling"] });
      const all = [pub, recvA, recvB, recvBp];
      st.extra.push(...all);
      await Promise.all(all.map((s) => connected(s)));
      await healthy(st.nodes, [pub, recvB]);

      const run = `e-${a}${b}-${Date.now()}`;
      const sentAt = []; // seq -> ms since start
      const got = new Map(all.map((s) => [s, []])); // seqs in arrival order
      for (const s of all) s.on("broadcast-message", (r, seq) => r === run && got.get(s).push(seq));

      const t0 = Date.now();
      let killAt = null, backAt = null;
      const outage = (async () => {
        await sleep(KILL_AT - (Date.now() - t0));
        killAt = Date.now() - t0;
        await st.redis.kill();
        await sleep(RESTART_AT - (Date.now() - t0));
        st.redis = await startRedis(st.port, "e-redis");
        backAt = Date.now() - t0;
      })();
      let seq = 0;
      while (Date.now() - t0 < DURATION) {
        sentAt[seq] = Date.now() - t0;
        pub.emit("broadcast", run, seq);
        seq++;
        await sleep(PERIOD); // the test is about time: one message every PERIOD ms
      }
      await outage;
      const sent = seq;
      // local delivery is complete (bounded), then a quiet window for late remote ones
      await waitUntil(() => got.get(recvA).length >= sent && got.get(pub).length >= sent, {
        timeout: EVENT_TIMEOUT, what: () => `all ${sent} messages at the receivers on ${A.label} (got ${got.get(recvA).length}, ${got.get(pub).length})`,
      }).catch(() => {}); // the assertions below say what is missing
      await sleep(500);

      const lo = killAt - IN_FLIGHT, hi = backAt + GRACE;
      const report = [];
      for (const s of all) {
        const seqs = got.get(s);
        const set = new Set(seqs);
        const lost = [];
        for (let i = 0; i < sent; i++) if (!set.has(i)) lost.push(i);
        const span = lost.length ? `seq ${lost[0]}..${lost[lost.length - 1]}, sent at ${sentAt[lost[0]]}..${sentAt[lost[lost.length - 1]]} ms` : "-";
        report.push(`${s.label}: received ${set.size}/${sent}, lost ${lost.length} (${span})${seqs.length !== set.size ? `, ${seqs.length - set.size} duplicates` : ""}`);
        s.lost = lost;
        s.dups = seqs.length - set.size;
        s.inOrder = seqs.every((x, i) => i === 0 || x > seqs[i - 1]);
      }
      const summary = `sent ${sent} (every ${PERIOD} ms for ${DURATION} ms), redis killed at ${killAt} ms, answering again at ${backAt} ms; ` +
        `allowed loss window on ${B.label} [${lo}, ${hi}] ms; ${report.join("; ")}`;
      t.diagnostic(`cluster: e ${summary}`);

      for (const s of [pub, recvA]) {
        assert.deepEqual(s.lost, [], `${s.label} (local) lost messages: ${summary}`);
        assert.equal(s.dups, 0, `${s.label} got duplicates: ${summary}`);
        assert.ok(s.inOrder, `${s.label}: local delivery out of order`);
      }
      const afterGrace = sentAt.filter((x) => x > hi).length;
      assert.ok(afterGrace >= 10, `only ${afterGrace} messages were sent after the grace period (redis back at ${backAt} ms): the schedule leaves nothing to check`);
      for (const s of [recvB, recvBp]) {
        assert.equal(s.dups, 0, `${s.label} got duplicates: ${summary}`);
        const outside = s.lost.filter((i) => sentAt[i] < lo || sentAt[i] > hi);
        assert.deepEqual(outside.map((i) => `#${i}@${sentAt[i]}ms`), [], `${s.label} lost messages outside [${lo}, ${hi}] ms: ${summary}`);
      }
      const hit = all.filter((s) => s.disconnects.length || !s.connected);
      assert.deepEqual(hit.map((s) => `${s.label}: ${JSON.stringify(s.disconnects)}`), [], "clients disconnected during the outage");
      assert.deepEqual(deadNodes(st.nodes), [], "a node died");
      closeAll(all);
    });
  }

  test("after the restarts: both nodes run, see each other and relay broadcasts both ways", { timeout: 40_000 }, async () => {
    assert.deepEqual(deadNodes(st.nodes), []);
    const probes = st.nodes.map((n) => clientOf(n.url, `${n.label}/probe2`, { transports: ["websocket"] }));
    st.extra.push(...probes);
    await Promise.all(probes.map((s) => connected(s)));
    await healthy(st.nodes, probes);
    for (const [i, tok] of [[0, "e-after-0"], [1, "e-after-1"]]) {
      probes[i].emit("broadcast", tok);
      await expectDelivery({ event: "broadcast-message", token: tok, expected: probes, others: [] });
    }
    closeAll(probes);
  });
});
