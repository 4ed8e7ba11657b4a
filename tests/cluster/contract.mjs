// The cluster contract, checked on a cluster of nodes of one or two kinds
// (scenarios a, b, c, f). Every action is started from one node of each kind
// (and from the last node when that adds one) in turn; its effect is checked
// on clients of every node.
//
// Clients ("residents", connected for the whole scenario), on every node:
//   c0 websocket, c1 websocket, c2 polling only.
// Rooms get names unique to the scenario, origin and check.
import assert from "node:assert/strict";
import { describe, test, before, after } from "node:test";
import { randomBytes } from "node:crypto";
import { startCluster, stopAll, deadNodes, randomKey, redisClient, numsub, sleep } from "./cluster.mjs";
import {
  TEST_TIMEOUT, EVENT_TIMEOUT, QUIET_WINDOW, clientOf, connected, emitAck, waitUntil, expectDelivery, closeAll,
} from "./helpers.mjs";

/** Bound for the cluster to form: every node sees the others (nodes-ping). */
const FORM_TIMEOUT = 20_000;
/** Bound for an adapter request that needs every node's answer (fetchSockets & co. time out at 5 s). */
const EFFECT_TIMEOUT = 6_000;

const token = (what) => `${what}-${randomBytes(4).toString("hex")}`;
const describeSpec = (spec) => spec.map(({ kind, count }) => `${count} ${kind}`).join(" + ");

/**
 * @param {object} o
 * @param {string} o.id        scenario letter (a, b, c)
 * @param {string} o.title     what it is
 * @param {{kind: string, count: number}[]} o.spec
 * @param {"redis"|"redis-sharded"|"redis-streams"|"nats"} o.adapter
 * @param {string} o.server    host:port of Redis / NATS
 */
export function contractScenario({ id, title, spec, adapter, server }) {
  const key = randomKey(id);
  const labels = spec.flatMap(({ kind, count }) => Array.from({ length: count }, (_, i) => `${kind}#${i}`));
  const N = labels.length;
  const origins = [...new Set([...spec.map(({ kind }) => `${kind}#0`), labels[N - 1]])];
  const sharded = adapter === "redis-sharded";
  const st = { nodes: [], residents: [], extra: [], redis: null };

  const nodeIndex = (label) => labels.indexOf(label);
  const res = (node, i) => st.residents[node][i]; // resident i (0..2) of node index `node`
  const allResidents = () => st.residents.flat();

  /** Sharded (dynamic mode): a node receives a room's broadcasts once its SSUBSCRIBE of the room channel is done,
   * which Node does asynchronously on the room's creation. Wait (bounded, no failure here) until as many
   * subscribers as nodes with members hold it; a missing one shows up as a missed delivery. */
  async function settleRoom(room, nodesWithMembers) {
    if (!sharded || !st.redis) return;
    const channel = `${key}#/#${room}#`;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && (await numsub(st.redis, channel, true)) < nodesWithMembers) await sleep(10);
  }

  async function join(sockets, room) {
    for (const s of sockets) assert.deepEqual(await emitAck(s, "join", room), ["joined"], `${s.label} join ${room}`);
  }

  async function roomSize(socket, room) {
    const [n] = await emitAck(socket, "room-size", room);
    return n;
  }

  describe(`${id}. ${title}: ${describeSpec(spec)} (${adapter}://${server}, key ${key})`, () => {
    before(async () => {
      st.nodes = await startCluster(spec, { adapter, server, key });
      if (adapter !== "nats") st.redis = await redisClient(server);
      st.residents = st.nodes.map((n) => [
        clientOf(n.url, `${n.label}/c0`, { transports: ["websocket"] }),
        clientOf(n.url, `${n.label}/c1`, { transports: ["websocket"] }),
        clientOf(n.url, `${n.label}/c2(polling)`, { transports: ["polling"] }),
      ]);
      await Promise.all(allResidents().map((s) => connected(s)));
    }, { timeout: 60_000 });

    after(async () => {
      closeAll([...allResidents(), ...st.extra]);
      await stopAll(st.nodes);
      if (adapter === "redis-streams") await st.redis?.del(key).catch(() => {}); // the stream
      await st.redis?.quit().catch(() => {});
    });

    test(`cluster forms: nodes-ping from every node answers ${N - 1} (bounded ${FORM_TIMEOUT} ms)`, { timeout: FORM_TIMEOUT + 10_000 }, async () => {
      const last = {};
      await waitUntil(async () => {
        const answers = await Promise.all(st.nodes.map((n, i) => emitAck(res(i, 0), "nodes-ping").then(([x]) => x)));
        st.nodes.forEach((n, i) => (last[n.label] = answers[i]));
        return answers.every((x) => x === N - 1);
      }, { timeout: FORM_TIMEOUT, what: () => `nodes-ping = ${N - 1} everywhere; last answers ${JSON.stringify(last)}` });
    });

    if (adapter !== "nats") {
      const channel = adapter === "redis" ? `${key}-request#/#` : `${key}#/#`;
      const what = { redis: "the request channel (NUMSUB)", "redis-sharded": "the main channel (SHARDNUMSUB)", "redis-streams": "the main channel (NUMSUB)" }[adapter];
      test(`every node holds exactly one subscription to ${what} ${channel}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.equal(await numsub(st.redis, channel, sharded), N, `PUBSUB ${sharded ? "SHARDNUMSUB" : "NUMSUB"} ${channel}`);
      });
    }

    for (const originLabel of origins) {
      const from = `from ${originLabel}`;
      const o = nodeIndex(originLabel);
      const remotes = () => labels.map((_, i) => i).filter((i) => i !== o);

      test(`${from}: broadcast reaches every client on every node exactly once (binary included)`, { timeout: TEST_TIMEOUT }, async () => {
        const t = token("bc");
        const payload = [t, { from: originLabel, n: [1, 2] }, Buffer.from([1, 2, 3])];
        res(o, 0).emit("broadcast", ...payload);
        const got = await expectDelivery({ event: "broadcast-message", token: t, expected: allResidents(), others: [] });
        for (const args of got) assert.deepEqual(args, payload);
      });

      test(`${from}: to-room reaches the members on every node exactly once, not the sender nor non-members`, { timeout: TEST_TIMEOUT }, async () => {
        const room = `${key}-${originLabel}-to-room`;
        const sender = res(o, 0);
        const members = st.nodes.map((_, i) => res(i, 1));
        await join([sender, ...members], room);
        await settleRoom(room, N);
        const t = token("tr");
        const payload = [t, "room", Buffer.from([4, 5])];
        sender.emit("to-room", room, ...payload);
        const got = await expectDelivery({
          event: "room-message", token: t, expected: members,
          others: allResidents().filter((s) => !members.includes(s)),
        });
        for (const args of got) assert.deepEqual(args, payload);
      });

      test(`${from}: to-room-except honours except across nodes (a room, then a remote socket id)`, { timeout: TEST_TIMEOUT }, async () => {
        const room = `${key}-${originLabel}-except-room`;
        const exceptRoom = `${key}-${originLabel}-except-these`;
        const [r1, r2] = [remotes()[0], remotes()[remotes().length - 1]];
        const sender = res(o, 0);
        const members = [sender, ...st.nodes.flatMap((_, i) => [res(i, 1), res(i, 2)])];
        const excepted = [res(o, 1), res(r1, 1)];
        await join(members, room);
        await join(excepted, exceptRoom);
        await settleRoom(room, N);
        // except a room: io.to(room).except(exceptRoom) includes the sender (it is a member)
        const t1 = token("ex");
        sender.emit("to-room-except", room, exceptRoom, t1, 1);
        const want1 = members.filter((s) => !excepted.includes(s));
        await expectDelivery({ event: "room-message", token: t1, expected: want1, others: allResidents().filter((s) => !want1.includes(s)) });
        // except one socket of another node, by its id
        const victim = res(r2, 2);
        const t2 = token("ex");
        sender.emit("to-room-except", room, victim.id, t2, 2);
        const want2 = members.filter((s) => s !== victim);
        await expectDelivery({ event: "room-message", token: t2, expected: want2, others: allResidents().filter((s) => !want2.includes(s)) });
      });

      test(`${from}: collect-acks gets one answer from every socket on every node`, { timeout: TEST_TIMEOUT }, async () => {
        const [reply] = await emitAck(res(o, 0), "collect-acks");
        assert.equal(reply.timedOut, false, `timedOut (responses: ${JSON.stringify(reply.responses)})`);
        assert.deepEqual([...reply.responses].sort(), allResidents().map((s) => s.label).sort());
      });

      test(`${from}: room-size counts the members on every node`, { timeout: TEST_TIMEOUT }, async () => {
        const room = `${key}-${originLabel}-size`;
        const lone = `${key}-${originLabel}-size-lone`;
        const r = remotes()[remotes().length - 1];
        await join([...st.nodes.map((_, i) => res(i, 1)), res(r, 0)], room);
        await join([res(r, 2)], lone);
        const asker = res(o, 0);
        assert.equal(await roomSize(asker, room), N + 1, `room-size ${room}`);
        assert.equal(await roomSize(asker, lone), 1, `room-size of a room that exists only on ${labels[r]}`);
        assert.equal(await roomSize(asker, `${key}-nobody-here`), 0, "room-size of an empty room");
      });

      test(`${from}: make-join / make-leave take effect on sockets of every node (room-size and to-room)`, { timeout: TEST_TIMEOUT }, async () => {
        const src = `${key}-${originLabel}-mj-src`;
        const dst = `${key}-${originLabel}-mj-dst`;
        const r = remotes()[remotes().length - 1];
        const srcMembers = st.nodes.map((_, i) => res(i, 2));
        const stayer = res(r, 0);
        await join(srcMembers, src);
        await join([stayer], dst);
        const asker = res(o, 0);
        const sender = res(o, 1); // not in dst
        let size;
        assert.deepEqual(await emitAck(asker, "make-join", src, dst), ["ok"]);
        await waitUntil(async () => (size = await roomSize(asker, dst)) === N + 1, {
          timeout: EFFECT_TIMEOUT, what: () => `room-size ${dst} = ${N + 1} after make-join (last: ${JSON.stringify(size)})`,
        });
        await settleRoom(dst, N);
        const t1 = token("mj");
        sender.emit("to-room", dst, t1);
        const want1 = [...srcMembers, stayer];
        await expectDelivery({ event: "room-message", token: t1, expected: want1, others: allResidents().filter((s) => !want1.includes(s)) });

        assert.deepEqual(await emitAck(asker, "make-leave", src, dst), ["ok"]);
        await waitUntil(async () => (size = await roomSize(asker, dst)) === 1, {
          timeout: EFFECT_TIMEOUT, what: () => `room-size ${dst} = 1 after make-leave (last: ${JSON.stringify(size)})`,
        });
        const t2 = token("ml");
        sender.emit("to-room", dst, t2);
        await expectDelivery({ event: "room-message", token: t2, expected: [stayer], others: allResidents().filter((s) => s !== stayer) });
      });

      test(`${from}: kick-room disconnects exactly the room's sockets on every node ("io server disconnect")`, { timeout: TEST_TIMEOUT }, async () => {
        const room = `${key}-${originLabel}-kick`;
        // fresh clients to kick, one per node (polling on the origin, websocket elsewhere)
        const kicked = st.nodes.map((n, i) =>
          clientOf(n.url, `${n.label}/kick`, { transports: [i === o ? "polling" : "websocket"] }));
        st.extra.push(...kicked);
        try {
          await Promise.all(kicked.map((s) => connected(s)));
          await join(kicked, room);
          const before = new Map(allResidents().map((s) => [s, s.disconnects.length]));
          assert.deepEqual(await emitAck(res(o, 0), "kick-room", room), ["ok"]);
          await waitUntil(() => kicked.every((s) => s.disconnects.length > 0), {
            timeout: EFFECT_TIMEOUT,
            what: () => `a disconnect at every kicked client; got ${kicked.map((s) => `${s.label}: ${JSON.stringify(s.disconnects)}`).join(", ")}`,
          });
          for (const s of kicked) assert.deepEqual(s.disconnects, ["io server disconnect"], s.label);
          await sleep(QUIET_WINDOW);
          const hit = allResidents().filter((s) => s.disconnects.length !== before.get(s) || !s.connected);
          assert.deepEqual(hit.map((s) => `${s.label}: ${JSON.stringify(s.disconnects)}`), [], "residents (not in the room) must stay connected");
          let size;
          await waitUntil(async () => (size = await roomSize(res(o, 0), room)) === 0, {
            timeout: EFFECT_TIMEOUT, what: () => `room-size ${room} = 0 after kick-room (last: ${JSON.stringify(size)})`,
          });
        } finally {
          closeAll(kicked); // a client that was not kicked must not linger into the next checks
        }
      });

      test(`${from}: nodes-ping answers ${N - 1} (the other nodes)`, { timeout: TEST_TIMEOUT }, async () => {
        assert.deepEqual(await emitAck(res(o, 0), "nodes-ping"), [N - 1]);
      });
    }

    test("no node crashed, and no resident client was disconnected", { timeout: TEST_TIMEOUT }, async () => {
      assert.deepEqual(deadNodes(st.nodes), []);
      const hit = allResidents().filter((s) => s.disconnects.length || !s.connected);
      assert.deepEqual(hit.map((s) => `${s.label}: ${JSON.stringify(s.disconnects)}`), []);
    });
  });
}

export { EVENT_TIMEOUT };
