// SSE resume: a client that reconnects with the id of the last event it
// saw gets exactly the messages it missed, in order and once each, then
// the live ones.
import assert from "node:assert/strict";
import { EVENT_TIMEOUT, SETTLE, freshNamespace, sleep, test, uid } from "./helpers.mjs";
import { ApiSender, StreamClient } from "./clients.mjs";

const NS = freshNamespace("resume");
const EVENT = "news";
const api = new ApiSender(NS, "api");

/** The `news` SSE events a client received: [{n, id}]. */
const news = (sse) =>
  sse.raw.filter((ev) => ev.event === EVENT).map((ev) => ({ n: JSON.parse(ev.data).data.n, id: ev.id }));

/** Resolves once `sse` received the `news` event numbered `n`. */
const arrival = (sse, n) =>
  sse.inbox.waitFor((e) => e.type === "event" && e.event === EVENT && e.data?.n === n, `news #${n}`);

/** Waits until the server dropped every member of `room` (the closed stream's session). */
async function emptied(room) {
  const deadline = Date.now() + EVENT_TIMEOUT;
  while ((await api.members(room)).length > 0) {
    assert.ok(Date.now() < deadline, `the closed SSE client is still a member of ${room}`);
    await sleep(20);
  }
}

/** Publishes news #n to `rooms` with the HTTP API; resolves with the ack. */
const publish = (rooms, n) => api.publish(rooms, EVENT, { n });

test("SSE reconnect with Last-Event-ID: the missed messages in order, then live", async (ctx) => {
  const room = `resume-${uid()}`;
  const first = ctx.track(await StreamClient.open("sse", { ns: NS, room, label: "sse (first)" }));
  assert.ok(first.retry > 0, "the stream starts with retry:");
  const offsets = {};
  for (const n of [1, 2, 3]) {
    const ack = await publish(room, n);
    assert.equal(ack.delivered, 1);
    offsets[n] = String(ack.offset);
    await arrival(first, n);
  }
  assert.deepEqual(news(first), [1, 2, 3].map((n) => ({ n, id: offsets[n] })), "ids are the offsets");
  const lastId = news(first).at(-1).id;
  await first.close();
  await emptied(room);

  for (const n of [4, 5, 6]) {
    const ack = await publish(room, n);
    assert.equal(ack.delivered, 0, "nobody is connected");
    offsets[n] = String(ack.offset);
  }
  const second = ctx.track(
    await StreamClient.open("sse", {
      ns: NS,
      room,
      label: "sse (resumed)",
      headers: { "last-event-id": lastId },
    }),
  );
  await arrival(second, 6);
  offsets[7] = String((await publish(room, 7)).offset);
  await arrival(second, 7);
  await sleep(SETTLE);
  assert.deepEqual(news(second), [4, 5, 6, 7].map((n) => ({ n, id: offsets[n] })));
  assert.notEqual(second.helloEnvelope.sid, first.helloEnvelope.sid, "a new session");
  assert.deepEqual(second.problems(), []);
});

test("SSE resume over two rooms (lastEventId=): one offset sequence, a message to both once", async (ctx) => {
  const [a, b, other] = ["a", "b", "other"].map((r) => `resume-${r}-${uid()}`);
  const first = ctx.track(await StreamClient.open("sse", { ns: NS, room: [a, b], label: "sse (first)" }));
  await publish(a, 1);
  await arrival(first, 1);
  const lastId = news(first).at(-1).id;
  await first.close();
  await emptied(a);

  const offsets = {};
  for (const [rooms, n] of [[a, 2], [b, 3], [[a, b], 4], [other, 5]]) {
    offsets[n] = String((await publish(rooms, n)).offset);
  }
  const second = ctx.track(
    await StreamClient.open("sse", {
      ns: NS,
      room: [a, b],
      label: "sse (resumed)",
      query: `&lastEventId=${lastId}`,
    }),
  );
  await arrival(second, 4);
  offsets[6] = String((await publish(b, 6)).offset);
  await arrival(second, 6);
  await sleep(SETTLE);
  assert.deepEqual(news(second), [2, 3, 4, 6].map((n) => ({ n, id: offsets[n] })));
  const rooms = second.inbox.filter((e) => e.type === "event").map((e) => e.room ?? null);
  assert.deepEqual(rooms, [a, b, null, b], "`room` only on a publish to exactly one room");
  assert.deepEqual(second.problems(), []);
});

test("HTTP stream resume with since=: the missed messages, then live", async (ctx) => {
  const room = `resume-stream-${uid()}`;
  const since = (await publish(room, 1)).offset;
  const offsets = [];
  for (const n of [2, 3]) offsets.push((await publish(room, n)).offset);
  const stream = ctx.track(
    await StreamClient.open("stream", { ns: NS, room, label: "stream", query: `&since=${since}` }),
  );
  await arrival(stream, 3);
  offsets.push((await publish(room, 4)).offset);
  await arrival(stream, 4);
  await sleep(SETTLE);
  const got = stream.inbox.filter((e) => e.type === "event").map((e) => [e.data.n, e.offset]);
  assert.deepEqual(got, [[2, offsets[0]], [3, offsets[1]], [4, offsets[2]]]);
  assert.deepEqual(stream.problems(), []);
});

// protocol.md: an SSE stream "starts with `retry:` …, then a
// `wirehub.hello` event" (§5.2); an HTTP stream's first line is `hello`
// (§5.3). That must hold on a resume too, when there is history to replay.
for (const framing of ["sse", "stream"]) {
  test(`${framing} resume: hello comes first, before the replayed messages`, async (ctx) => {
    const room = `resume-hello-${framing}-${uid()}`;
    const since = (await publish(room, 1)).offset;
    await publish(room, 2);
    const client = ctx.track(
      await StreamClient.open(framing, { ns: NS, room, label: framing, query: `&since=${since}` }),
    );
    await arrival(client, 2);
    assert.deepEqual(
      client.inbox.items.map((e) => e.type),
      ["hello", "event"],
      "envelope types in arrival order",
    );
  });
}
