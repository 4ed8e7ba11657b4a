// SockJS: the official sockjs-client 1.6.1 with each transport forced in
// turn, in one room with a plain WebSocket client and a Socket.IO client:
// a publish from each reaches the other two. Then the protocol's edges
// over raw HTTP: /info, the xhr_streaming prelude, one receiver at a time
// (c[2010,...]), xhr_send to an unknown session (404) and broken JSON
// (500, the session goes on).
import assert from "node:assert/strict";
import { SETTLE, URL, freshNamespace, sleep, test, uid } from "./helpers.mjs";
import { SocketIoClient, SockJsClient, WsClient } from "./clients.mjs";

const NS = freshNamespace("sockjs");
const EVENT = "sockjs";
const ours = (e) => e.type === "event" && e.event === EVENT;

for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`sockjs-client over ${transport} with /ws and Socket.IO in one room`, async (ctx) => {
    const room = `sockjs-${transport}-${uid()}`;
    const sockjs = ctx.track(await SockJsClient.open(transport, { ns: NS, room, label: `sockjs ${transport}` }));
    assert.equal(sockjs.transport, transport, "the forced transport was used");
    const ws = ctx.track(await WsClient.open({ ns: NS, room, label: "ws" }));
    const sio = ctx.track(await SocketIoClient.open("websocket", { ns: NS, room, label: "socket.io" }));
    const clients = [sockjs, ws, sio];
    for (const sender of clients) {
      const data = { from: sender.label, id: uid(), text: "héllo \u2028 ✓ \"q\"\n" };
      const ack = await sender.publish(room, EVENT, data);
      assert.equal(ack.delivered, 2, `${sender.label}: delivered to the other two`);
      for (const receiver of clients.filter((c) => c !== sender)) {
        const got = await receiver.inbox.waitFor(
          (e) => ours(e) && e.data?.id === data.id,
          `${receiver.label}: the publish of ${sender.label}`,
        );
        assert.deepEqual(got.data, data);
      }
    }
    await sleep(SETTLE);
    for (const c of clients) {
      assert.equal(c.inbox.filter(ours).length, 2, `${c.label}: one copy from each other client`);
      assert.deepEqual(c.problems(), [], `${c.label}: no errors`);
    }
  });
}

const post = (path, body = "") => fetch(`${URL}/sockjs${path}`, { method: "POST", body });

test("info says websocket, no cookie", async () => {
  const res = await fetch(`${URL}/sockjs/info?t=1`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("cache-control"), /no-store/);
  const info = await res.json();
  assert.equal(info.websocket, true);
  assert.equal(info.cookie_needed, false);
  assert.deepEqual(info.origins, ["*:*"]);
  assert.ok(Number.isInteger(info.entropy));
});

test("xhr_streaming: 2 KiB prelude, open frame; a second receiver gets 2010", async () => {
  const id = uid();
  const abort = new AbortController();
  const res = await fetch(`${URL}/sockjs/000/${id}/xhr_streaming`, { method: "POST", signal: abort.signal });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  let text = "";
  while (!text.includes("\no\n")) {
    const { value, done } = await reader.read();
    assert.ok(!done, `stream ended early: ${JSON.stringify(text.slice(2049))}`);
    text += Buffer.from(value).toString();
  }
  assert.equal(text.slice(0, 2049), `${"h".repeat(2048)}\n`);
  const second = await post(`/000/${id}/xhr`);
  assert.equal(await second.text(), 'c[2010,"Another connection still open"]\n');
  abort.abort();
  await reader.cancel().catch(() => {});
  // The receiver went away mid-response: the session is interrupted.
  await sleep(SETTLE);
  assert.equal(await (await post(`/000/${id}/xhr`)).text(), 'c[1002,"Connection interrupted"]\n');
});

test("xhr_send: 404 without a session, 500 on broken JSON, then it still works", async () => {
  const unknown = await post(`/000/${uid()}/xhr_send`, '["x"]');
  assert.equal(unknown.status, 404);
  const id = uid();
  assert.equal(await (await post(`/000/${id}/xhr`)).text(), "o\n");
  const hello = await (await post(`/000/${id}/xhr`)).text();
  assert.match(hello, /^a\[.*hello/);
  const broken = await post(`/000/${id}/xhr_send`, '["x');
  assert.equal(broken.status, 500);
  assert.equal(await broken.text(), "Broken JSON encoding.");
  const empty = await post(`/000/${id}/xhr_send`);
  assert.equal(empty.status, 500);
  assert.equal(await empty.text(), "Payload expected.");
  const ok = await post(`/000/${id}/xhr_send`, JSON.stringify([JSON.stringify({ type: "ping" })]));
  assert.equal(ok.status, 204);
  assert.equal(await (await post(`/000/${id}/xhr`)).text(), 'a["{\\"type\\":\\"pong\\"}"]\n');
});
