// Browser tests of the demo page's transport choice (?via= and the selector):
// Socket.IO, plain WebSocket, SSE and long-polling users of one room, in
// headless Chromium with the browser's own WebSocket, EventSource and fetch.
// Run with run.sh, or SERVER_URL=http://127.0.0.1:PORT node --test
// tests/browser/transports.test.mjs. Screenshots go to $ARTIFACTS_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import {
  ARTIFACTS_DIR, assertClean, SERVER_URL, join, launchBrowser, newContext as newContextIn, openPage, send, uniqueRoom,
  waitForCount, waitForMessage, waitForText,
} from "./helpers.mjs";

const TEST = { timeout: 45_000 }; // any whole test

let browser;

before(async () => {
  browser = await launchBrowser();
}, { timeout: 25_000 });

after(async () => {
  if (browser) await browser.close();
});

const newContext = () => newContextIn(browser);

/** What a page asked of the network: WebSockets, EventSources, fetches. */
function recordNetwork(page) {
  const net = { websockets: [], eventsources: [], fetches: [] };
  page.on("websocket", (ws) => net.websockets.push(new URL(ws.url())));
  page.on("request", (req) => {
    const entry = { url: new URL(req.url()), method: req.method(), headers: req.headers(), req };
    if (req.resourceType() === "eventsource") net.eventsources.push(entry);
    if (req.resourceType() === "fetch") net.fetches.push(entry);
  });
  return net;
}

/** The page's current client uses the browser's own object (not a polyfill or a wrapper). */
async function rawTransport(page) {
  return page.evaluate(() => {
    const raw = window.wirehubSocket.raw;
    const native = (ctor) => typeof ctor === "function" && /\[native code\]/.test(Function.prototype.toString.call(ctor));
    return {
      via: window.wirehubSocket.via,
      webSocket: raw instanceof WebSocket && native(WebSocket),
      eventSource: raw instanceof EventSource && native(EventSource),
      url: raw && raw.url,
      readyState: raw && raw.readyState,
    };
  });
}

/** Each text appears exactly once in the page's message list. */
async function assertOnce(page, texts, who) {
  for (const text of texts) {
    const n = await page.getByTestId("message").filter({ hasText: text }).count();
    assert.equal(n, 1, `${who}: "${text}" shown ${n} times`);
  }
}

const stats = (page) => page.evaluate(() => ({ ...window.wirehubStats }));

test("Socket.IO, WebSocket and SSE users chat in one room; a long-polling page watches it", TEST, async () => {
  const room = uniqueRoom("mixed");
  const contexts = await Promise.all([newContext(), newContext(), newContext(), newContext()]);
  const [ctxIo, ctxWs, ctxSse, ctxPoll] = contexts;
  try {
    const nets = new Map();
    const record = (page) => nets.set(page, recordNetwork(page));
    const io = await openPage(ctxIo, "?via=socketio", record);
    const ws = await openPage(ctxWs, "?via=ws", record);
    const sse = await openPage(ctxSse, "?via=sse", record);
    const poll = await openPage(ctxPoll, "?via=poll", record);

    await waitForText(io, "status", /^connected · websocket$/);
    await waitForText(ws, "status", /^connected · plain WebSocket$/);
    await waitForText(sse, "status", /^connected · SSE$/);
    await waitForText(poll, "status", /^long polling · pick a room to watch$/);
    assert.equal(await poll.getByTestId("transport-select").inputValue(), "poll");

    // The watcher opens the room first: it has no nickname field and cannot post.
    assert.equal(await poll.getByTestId("nick-input").isVisible(), false);
    await poll.getByTestId("room-input").fill(room);
    await poll.getByTestId("join-button").click();
    await waitForText(poll, "current-room", new RegExp(`^#${room}$`));
    await waitForText(poll, "status", /^watching · long polling$/);
    await waitForText(poll, "watch-note", /long polling is receive-only; switch transport to post/);
    assert.equal(await poll.getByTestId("message-input").isDisabled(), true);
    assert.equal(await poll.getByTestId("send-button").isDisabled(), true);

    await join(io, "sam", room);
    await join(ws, "wendy", room);
    await join(sse, "sean", room);
    for (const [page, who] of [[io, "socket.io"], [ws, "ws"], [sse, "sse"], [poll, "poll"]]) {
      await waitForCount(page, "member", 3, `${who}: members`);
      await waitForText(page, "members", /sam/, `${who}: members`);
      await waitForText(page, "members", /wendy/, `${who}: members`);
      await waitForText(page, "members", /sean/, `${who}: members`);
    }

    // Typing crosses transports too (the SSE user's typing reaches the Socket.IO user).
    await sse.getByTestId("message-input").pressSequentially("typed over SSE", { delay: 15 });
    await waitForText(io, "typing", /^sean is typing…$/);
    await sse.getByTestId("send-button").click();
    await send(io, "from Socket.IO");
    await send(ws, "from a plain WebSocket");
    const texts = ["typed over SSE", "from Socket.IO", "from a plain WebSocket"];
    const authors = { "typed over SSE": "sean", "from Socket.IO": "sam", "from a plain WebSocket": "wendy" };
    for (const [page, who] of [[io, "socket.io"], [ws, "ws"], [sse, "sse"], [poll, "poll"]]) {
      for (const text of texts) await waitForMessage(page, authors[text], text);
      await new Promise((resolve) => setTimeout(resolve, 300)); // room for a late duplicate
      await assertOnce(page, texts, who);
      assert.deepEqual(await stats(page), { chat: 3, duplicates: 0, replayed: 0 }, `${who}: chat events received`);
    }

    // The real browser objects did the work.
    const wsRaw = await rawTransport(ws);
    assert.equal(wsRaw.webSocket, true, "the ws page uses the browser's WebSocket");
    assert.equal(new URL(wsRaw.url).pathname, "/ws");
    assert.equal(wsRaw.readyState, 1);
    const sseRaw = await rawTransport(sse);
    assert.equal(sseRaw.eventSource, true, "the sse page uses the browser's EventSource");
    assert.equal(new URL(sseRaw.url).pathname, "/sse");
    assert.equal(new URL(sseRaw.url).searchParams.get("room"), room);
    assert.equal(sseRaw.readyState, 1);

    // And the network saw exactly the endpoints each transport needs.
    const paths = (urls) => [...new Set(urls.map((u) => u.pathname))];
    assert.deepEqual(paths(nets.get(io).websockets), ["/socket.io/"]);
    assert.deepEqual(paths(nets.get(ws).websockets), ["/ws"]);
    assert.deepEqual(nets.get(sse).websockets, [], "the SSE page opened no WebSocket");
    assert.ok(nets.get(sse).eventsources.some((r) => r.url.pathname === "/sse" && r.url.searchParams.get("room") === room),
      "an EventSource request to /sse for the room");
    const sends = nets.get(sse).fetches.filter((r) => r.url.pathname === "/send");
    assert.ok(sends.length >= 2, "join and chat went out with POST /send");
    for (const r of sends) {
      assert.equal(r.method, "POST");
      assert.match(r.headers.authorization || "", /^Bearer \S+$/);
    }
    const chatPost = sends.find((r) => /"event":"chat"/.test(r.req.postData() || ""));
    assert.ok(chatPost, "the chat message was POSTed to /send");
    assert.deepEqual(nets.get(poll).websockets, [], "the polling page opened no WebSocket");
    assert.deepEqual(nets.get(poll).eventsources, [], "the polling page opened no EventSource");
    const polls = nets.get(poll).fetches.filter((r) => r.url.pathname === "/poll");
    assert.ok(polls.length >= 2, "the polling page polled");
    assert.ok(polls.every((r) => r.url.searchParams.get("room") === room));
    assert.ok(polls.some((r) => r.url.searchParams.get("wait") === "25"), "long polls wait");

    await fs.promises.mkdir(ARTIFACTS_DIR, { recursive: true });
    await sse.screenshot({ path: path.join(ARTIFACTS_DIR, "transports-sse.png") });
    await poll.screenshot({ path: path.join(ARTIFACTS_DIR, "transports-poll.png") });

    await assertClean(ws, "ws page errors");
    // The WebSocket user leaves: everyone's list, the watcher's included, drops her.
    await ctxWs.close();
    for (const [page, who] of [[io, "socket.io"], [sse, "sse"], [poll, "poll"]]) {
      await waitForCount(page, "member", 2, `${who}: members after wendy left`);
    }

    for (const [page, who] of [[io, "socket.io"], [sse, "sse"], [poll, "poll"]]) {
      await assertClean(page, `${who} page errors`);
    }
  } finally {
    for (const ctx of contexts) await ctx.close();
  }
});

test("switching transport in the page reconnects and rejoins the same room", TEST, async () => {
  const room = uniqueRoom("switch");
  const ctxA = await newContext();
  const ctxB = await newContext();
  try {
    const a = await openPage(ctxA);
    const b = await openPage(ctxB, "?via=ws");
    await waitForText(a, "status", /^connected · websocket$/);
    assert.equal(await a.getByTestId("transport-select").inputValue(), "socketio");
    await join(a, "alice", room);
    await join(b, "bob", room);
    await waitForCount(b, "member", 2);

    await a.getByTestId("transport-select").selectOption("sse");
    await waitForText(a, "status", /^connected · SSE$/);
    assert.equal(new URL(a.url()).searchParams.get("via"), "sse");
    await waitForText(a, "current-room", new RegExp(`^#${room}$`));
    await send(a, "hello over SSE");
    await waitForMessage(b, "alice", "hello over SSE");
    await waitForMessage(a, "alice", "hello over SSE");
    await send(b, "bob answers");
    await waitForMessage(a, "bob", "bob answers");
    await waitForCount(b, "member", 2, "bob's members with alice on SSE");
    assert.equal((await rawTransport(a)).eventSource, true);

    // Long polling: alice watches the same room and can no longer post.
    await a.getByTestId("transport-select").selectOption("poll");
    await waitForText(a, "status", /^watching · long polling$/);
    await waitForText(a, "current-room", new RegExp(`^#${room}$`));
    assert.equal(await a.getByTestId("message-input").isDisabled(), true);
    await waitForText(a, "watch-note", /receive-only/);
    await waitForCount(b, "member", 1, "bob's members once alice only watches");
    await send(b, "watch this");
    await waitForMessage(a, "bob", "watch this");

    // Back to a transport that posts: alice joins again under her nickname.
    await a.getByTestId("transport-select").selectOption("ws");
    await waitForText(a, "status", /^connected · plain WebSocket$/);
    await waitForText(a, "me", /^alice$/);
    await waitForCount(b, "member", 2, "bob's members once alice is back");
    await send(a, "posting again");
    await waitForMessage(b, "alice", "posting again");
    await waitForMessage(a, "alice", "posting again");
    assert.equal((await rawTransport(a)).webSocket, true);

    // Every message once, although the watcher read the room's history:
    // its catch-up handed out the two messages alice had seen again.
    assert.deepEqual(await stats(a), { chat: 6, duplicates: 0, replayed: 2 }, "alice: chat events received");
    await assertOnce(a, ["hello over SSE", "bob answers", "watch this", "posting again"], "alice");
    await assertOnce(b, ["hello over SSE", "bob answers", "watch this", "posting again"], "bob");
    await assertClean(a, "page A errors");
    await assertClean(b, "page B errors");
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

/**
 * A proxy between one page's EventSource and the server, so that the test
 * can break the stream: the browser sees a network error mid-response, as
 * when Wi-Fi drops, and reconnects on its own. (Chromium's offline
 * emulation does not break a stream that is already open.)
 */
async function streamBreaker(context) {
  const upstream = new URL(SERVER_URL);
  const open = new Set();
  let refuse = false;
  const requests = []; // the stream requests as they came over the wire
  const proxy = http.createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers });
    const up = http.request({
      host: upstream.hostname, port: upstream.port, path: req.url, method: req.method,
      headers: { ...req.headers, host: upstream.host },
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    const pair = { req, up };
    open.add(pair);
    res.on("close", () => { open.delete(pair); up.destroy(); });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${proxy.address().port}`;
  // (Playwright's view of a routed request lacks the headers Chromium's
  // network layer adds, Last-Event-ID among them: the proxy sees them.)
  await context.route((url) => url.pathname === "/sse", (route) => {
    if (refuse) return route.abort("connectionreset");
    const url = new URL(route.request().url());
    return route.continue({ url: base + url.pathname + url.search });
  });
  return {
    requests,
    /** Cuts every open stream and refuses new ones until heal(). */
    break() {
      refuse = true;
      for (const { req, up } of open) { req.socket.destroy(); up.destroy(); }
    },
    heal() { refuse = false; },
    close: () => new Promise((resolve) => proxy.close(resolve)),
  };
}

test("SSE: the browser's EventSource reconnects with Last-Event-ID and missed messages replay", TEST, async () => {
  const room = uniqueRoom("resume");
  const ctxS = await newContext();
  const ctxW = await newContext();
  const breaker = await streamBreaker(ctxS);
  try {
    const s = await openPage(ctxS, "?via=sse");
    const w = await openPage(ctxW, "?via=ws");
    await waitForText(s, "status", /^connected · SSE$/);
    await join(s, "sue", room);
    await join(w, "walt", room);
    await send(w, "before the drop");
    await waitForMessage(s, "walt", "before the drop");
    const before = breaker.requests.length;
    await s.evaluate(() => { window.streamBeforeDrop = window.wirehubSocket.raw; });

    // The stream breaks; the EventSource stays and retries by itself.
    breaker.break();
    await waitForText(s, "status", /^(disconnected|reconnecting)/, "status once the stream broke");
    await waitForCount(w, "member", 1, "walt's members once sue's stream broke");
    await send(w, "missed one");
    await send(w, "missed two");
    await waitForMessage(w, "walt", "missed two");
    breaker.heal();

    await waitForText(s, "status", /^connected · SSE$/, "status after the resume");
    await waitForMessage(s, "walt", "missed one");
    await waitForMessage(s, "walt", "missed two");
    await s.getByTestId("system-message").filter({ hasText: /Resumed after event \d+: \d+ missed events? replayed/ })
      .first().waitFor({ state: "attached" });
    await waitForCount(w, "member", 2, "walt's members once sue is back");

    // The browser reconnected the same EventSource object, sending Last-Event-ID.
    assert.equal(await s.evaluate(() => window.wirehubSocket.raw === window.streamBeforeDrop), true,
      "the page kept its EventSource (the browser reconnected it)");
    const again = breaker.requests.slice(before);
    assert.ok(again.length >= 1, "the EventSource reconnected");
    for (const { url, headers } of again) {
      assert.equal(new URL(url, SERVER_URL).searchParams.get("room"), room, "the reconnect asks for the same room");
      assert.match(headers["last-event-id"] || "", /^[1-9]\d*$/, "the reconnect sent Last-Event-ID");
    }
    assert.equal((await rawTransport(s)).eventSource, true);

    await send(s, "back online");
    await waitForMessage(w, "sue", "back online");
    await assertOnce(s, ["before the drop", "missed one", "missed two", "back online"], "sue");
    assert.equal((await stats(s)).duplicates, 0);
    // Chromium logs the refused reconnects as failed resource loads.
    assert.deepEqual(s.errors.filter((e) => !/ERR_CONNECTION_RESET|Failed to load resource/.test(e)), [], "SSE page errors");
    await assertClean(w, "ws page errors");
  } finally {
    await ctxS.close();
    await ctxW.close();
    await breaker.close();
  }
});
