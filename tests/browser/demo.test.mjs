// Browser tests of the demo chat page (assets/demo/), driven through
// playwright-core and Debian's Chromium. Run them with run.sh, or with
// SERVER_URL=http://127.0.0.1:PORT node --test tests/browser/demo.test.mjs
// (after tests/browser/setup.sh). The screenshot goes to $ARTIFACTS_DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  ARTIFACTS_DIR, assertClean, ORIGIN, SERVER_URL, WAIT, join, launchBrowser, newContext as newContextIn,
  openPage, send, uniqueRoom, waitForCount, waitForMessage, waitForText,
} from "./helpers.mjs";

const TEST = { timeout: 30_000 }; // any whole test

let browser;

before(async () => {
  browser = await launchBrowser();
}, { timeout: 25_000 });

after(async () => {
  if (browser) await browser.close();
});

const newContext = (opts) => newContextIn(browser, opts);

test("two users chat in one room: presence, typing indicator, messages", TEST, async () => {
  const room = uniqueRoom("lobby");
  const ctxA = await newContext();
  const ctxB = await newContext();
  try {
    const a = await openPage(ctxA);
    const b = await openPage(ctxB);
    await waitForText(a, "status", /^connected · websocket$/);
    await waitForText(b, "status", /^connected · websocket$/);

    await join(a, "alice", room);
    await join(b, "bob", room);

    // Each sees the other in the "who is online" list.
    await waitForText(a, "members", /bob/);
    await waitForText(b, "members", /alice/);
    await waitForCount(a, "member", 2);
    await waitForCount(b, "member", 2);
    // The room list shows the room with its member count.
    await waitForText(a, "rooms", new RegExp(`#${room}\\s*2`));

    // Bob sees Alice typing; it goes away once she sends.
    await a.getByTestId("message-input").pressSequentially("Hello Bob, how are you?", { delay: 15 });
    await waitForText(b, "typing", /^alice is typing…$/);
    await a.getByTestId("send-button").click();
    await waitForMessage(b, "alice", "Hello Bob, how are you?");
    await waitForMessage(a, "alice", "Hello Bob, how are you?");
    await waitForText(b, "typing", /^$/, "typing indicator after send");

    // And the other way round (sent with the Enter key).
    await b.getByTestId("message-input").fill("Hi Alice! All good <b>here</b>, café ✓");
    await b.getByTestId("message-input").press("Enter");
    await waitForMessage(a, "bob", "Hi Alice! All good <b>here</b>, café ✓"); // rendered as text, not HTML
    assert.equal(await a.locator("[data-testid=messages] b").count(), 0);

    // Alice sees Bob typing too (and the screenshot shows the indicator).
    await b.getByTestId("message-input").pressSequentially("One more thing", { delay: 15 });
    await waitForText(a, "typing", /^bob is typing…$/);

    await fs.promises.mkdir(ARTIFACTS_DIR, { recursive: true });
    await a.screenshot({ path: path.join(ARTIFACTS_DIR, "demo-chat.png") });

    await assertClean(b, "page B errors");
    // Bob leaves: Alice's list drops him.
    await ctxB.close();
    await waitForCount(a, "member", 1, "members after bob left");
    await waitForText(a, "members", /alice/);

    await assertClean(a, "page A errors");
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test("long-polling without WebSocket chats with a websocket user", TEST, async () => {
  const room = uniqueRoom("poll");
  const ctxP = await newContext({ noWebSocket: true });
  const ctxW = await newContext();
  try {
    const p = await openPage(ctxP, "?transport=polling");
    const sockets = [];
    p.on("websocket", (ws) => sockets.push(ws.url()));
    assert.equal(await p.evaluate(() => typeof window.WebSocket), "undefined");
    await waitForText(p, "status", /^connected · polling$/);

    const w = await openPage(ctxW);
    await waitForText(w, "status", /^connected · websocket$/);

    await join(p, "paula", room);
    await join(w, "walter", room);
    await waitForText(p, "members", /walter/);
    await waitForText(w, "members", /paula/);

    await p.getByTestId("message-input").pressSequentially("typing over polling", { delay: 15 });
    await waitForText(w, "typing", /^paula is typing…$/);
    await p.getByTestId("send-button").click();
    await waitForMessage(w, "paula", "typing over polling");
    await waitForMessage(p, "paula", "typing over polling");

    await send(w, "received, over websocket");
    await waitForMessage(p, "walter", "received, over websocket");

    assert.deepEqual(sockets, [], "the polling page opened no WebSocket");
    await assertClean(p, "polling page errors");
    await assertClean(w, "websocket page errors");
  } finally {
    await ctxP.close();
    await ctxW.close();
  }
});

test("falls back to long-polling when WebSocket is missing or fails", TEST, async () => {
  // No WebSocket at all, no ?transport: the default preference falls back.
  const ctxMissing = await newContext({ noWebSocket: true });
  // WebSocket present, but the connection is closed before the handshake.
  const ctxFailing = await newContext();
  await ctxFailing.routeWebSocket(/\/socket\.io\//, (ws) => ws.close({ code: 1011, reason: "test" }));
  try {
    const missing = await openPage(ctxMissing);
    await waitForText(missing, "status", /^connected · polling$/, "page without WebSocket");
    const failing = await openPage(ctxFailing);
    await waitForText(failing, "status", /^connected · polling$/, "page whose WebSocket fails");

    const room = uniqueRoom("fallback");
    await join(missing, "mia", room);
    await join(failing, "fred", room);
    await send(failing, "still here");
    await waitForMessage(missing, "fred", "still here");
    await waitForMessage(failing, "fred", "still here");
    await assertClean(missing, "page without WebSocket");
    // The failing page's refused WebSocket is logged as an error by Chromium.
    assert.equal((await failing.evaluate(() => window.wirehubStats)).duplicates, 0, "failing page: duplicates");
  } finally {
    await ctxMissing.close();
    await ctxFailing.close();
  }
});

test("reconnects after a dropped connection, re-joins and sends what was buffered", TEST, async () => {
  const room = uniqueRoom("flaky");
  // Every Engine.IO connection of page A goes through the test, which can
  // drop it and refuse new ones (WebSocket and long-polling alike).
  const ctxA = await newContext();
  const ctxB = await newContext();
  let blocked = false;
  const open = [];
  await ctxA.route(/\/socket\.io\//, (route) => (blocked ? route.abort() : route.continue()));
  await ctxA.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (blocked) { ws.close({ code: 1011, reason: "blocked" }); return; }
    ws.connectToServer();
    open.push(ws);
  });
  try {
    const a = await openPage(ctxA);
    const b = await openPage(ctxB);
    await waitForText(a, "status", /^connected · websocket$/);
    await join(a, "alice", room);
    await join(b, "bob", room);
    await waitForText(b, "members", /alice/);

    blocked = true;
    for (const ws of open.splice(0)) await ws.close({ code: 1001, reason: "dropped" });
    await waitForText(a, "status", /^(disconnected|reconnecting|cannot reach)/, "status while offline");
    await waitForCount(b, "member", 1, "bob's member list once alice dropped");

    await send(a, "sent while offline");
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a few failed attempts
    blocked = false;

    await waitForText(a, "status", /^connected · websocket$/, "status after reconnect");
    await waitForCount(b, "member", 2, "bob's member list once alice is back");
    await waitForMessage(b, "alice", "sent while offline");
    await waitForMessage(a, "alice", "sent while offline");
    // Sent once after the reconnection, not again with the buffer's replay.
    for (const [page, who] of [[a, "alice"], [b, "bob"]]) {
      const stats = await page.evaluate(() => ({ ...window.wirehubStats }));
      assert.deepEqual(stats, { chat: 1, duplicates: 0, replayed: 0 }, `${who}: chat events received`);
    }
    await assertClean(b, "page B");
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test("the page makes no request outside the server's origin", TEST, async () => {
  const ctx = await newContext();
  try {
    const page = await ctx.newPage();
    page.setDefaultTimeout(WAIT);
    const urls = [];
    page.on("request", (req) => urls.push(req.url()));
    page.on("websocket", (ws) => urls.push(ws.url()));
    const errors = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });

    await page.goto(`${SERVER_URL}/`, { waitUntil: "load" });
    await waitForText(page, "status", /^connected · websocket$/);
    // The classic greeting arrives as a system line.
    await page.getByTestId("system-message").filter({ hasText: "hello world" }).first().waitFor({ state: "attached" });
    await join(page, "olivia", uniqueRoom("offline"));
    await send(page, "no CDN needed");
    await waitForMessage(page, "olivia", "no CDN needed");

    const paths = new Set();
    for (const raw of urls) {
      if (raw.startsWith("data:")) continue; // inline favicon: not a network request
      const u = new URL(raw);
      const origin = u.origin.replace(/^ws(s?):/, "http$1:");
      assert.equal(origin, ORIGIN, `request outside the server's origin: ${raw}`);
      paths.add(u.pathname);
    }
    for (const p of ["/", "/style.css", "/wirehub-client.js", "/plain-client.js", "/sockjs-client.js", "/app.js", "/socket.io/"]) {
      assert.ok(paths.has(p), `expected a request to ${p}, saw ${[...paths].join(" ")}`);
    }
    assert.deepEqual(errors, [], "page errors");
    assert.deepEqual(await page.evaluate(() => ({ ...window.wirehubStats })), { chat: 1, duplicates: 0, replayed: 0 });
  } finally {
    await ctx.close();
  }
});
