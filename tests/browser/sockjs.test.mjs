// The demo page with SockJS picked (?via=sockjs, its own small client in
// sockjs-client.js) in headless Chromium: one user over the browser's
// WebSocket, one in a browser without WebSocket (xhr polling), and a plain
// WebSocket user chat in one room; every message reaches every page once.
// Run with run.sh, or SERVER_URL=http://127.0.0.1:PORT node --test
// tests/browser/sockjs.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  assertClean, join, launchBrowser, newContext, openPage, send, uniqueRoom, waitForCount, waitForMessage, waitForText,
} from "./helpers.mjs";

const TEST = { timeout: 45_000 };

let browser;

before(async () => {
  browser = await launchBrowser();
}, { timeout: 25_000 });

after(async () => {
  if (browser) await browser.close();
});

test("SockJS users (WebSocket and xhr polling) chat with a plain WebSocket user", TEST, async () => {
  const room = uniqueRoom("sockjs");
  const contexts = await Promise.all([
    newContext(browser), newContext(browser, { noWebSocket: true }), newContext(browser),
  ]);
  const [ctxSockjs, ctxPolling, ctxWs] = contexts;
  try {
    const sockets = [];
    const sockjs = await openPage(ctxSockjs, "?via=sockjs", (page) => page.on("websocket", (ws) => sockets.push(new URL(ws.url()))));
    const polling = await openPage(ctxPolling, "?via=sockjs");
    const ws = await openPage(ctxWs, "?via=ws");
    await waitForText(sockjs, "status", /^connected · SockJS websocket$/);
    await waitForText(polling, "status", /^connected · SockJS xhr-polling$/);
    await waitForText(ws, "status", /^connected · plain WebSocket$/);
    assert.equal(await sockjs.getByTestId("transport-select").inputValue(), "sockjs");
    assert.equal(sockets.length, 1, "one WebSocket");
    assert.match(sockets[0].pathname, /^\/sockjs\/\d{3}\/[a-z0-9]+\/websocket$/);

    const pages = [[sockjs, "sophie", "over SockJS websocket"], [polling, "paul", "over SockJS xhr polling"], [ws, "wendy", "over plain WebSocket"]];
    for (const [page, nick] of pages) await join(page, nick, room);
    for (const [page] of pages) await waitForCount(page, "member", 3, "members");
    for (const [page, , text] of pages) await send(page, text);
    for (const [page] of pages) {
      for (const [, nick, text] of pages) await waitForMessage(page, nick, text);
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a late duplicate
    for (const [page, nick] of pages) {
      assert.deepEqual(await page.evaluate(() => ({ ...window.wirehubStats })), { chat: 3, duplicates: 0, replayed: 0 }, `${nick}: chat events`);
      await assertClean(page, `${nick}: page errors`);
    }
    // The polling user leaves (the held poll is aborted): the others see it.
    await ctxPolling.close();
    for (const [page] of [pages[0], pages[2]]) await waitForCount(page, "member", 2, "members after paul left");
  } finally {
    for (const ctx of contexts) await ctx.close().catch(() => {});
  }
});
