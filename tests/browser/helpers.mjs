// What the browser tests share: the server under test, Chromium, and page
// helpers that wait on the DOM through data-testid attributes.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const SERVER_URL = (process.env.SERVER_URL || "").replace(/\/+$/, "");
if (!SERVER_URL) throw new Error("set SERVER_URL, e.g. SERVER_URL=http://127.0.0.1:3401");
export const ORIGIN = new URL(SERVER_URL).origin;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const ARTIFACTS_DIR = process.env.ARTIFACTS_DIR
  ? path.resolve(process.env.ARTIFACTS_DIR)
  : path.join(REPO_ROOT, "target", "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const WAIT = 10_000; // any single wait in a page

/**
 * Headless Chromium. launch() gives every run a fresh temporary profile
 * (user-data-dir) that Playwright deletes on close; each newContext() is an
 * isolated session.
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A new isolated browser session; `noWebSocket` removes window.WebSocket. */
export async function newContext(browser, { noWebSocket = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  if (noWebSocket) {
    await context.addInitScript(() => { delete window.WebSocket; window.WebSocket = undefined; });
  }
  return context;
}

/**
 * Opens the page and records errors; `query` is e.g. "?transport=polling".
 * `setup(page)` runs before the page loads (e.g. to listen to its requests).
 */
export async function openPage(context, query = "", setup = () => {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.errors = [];
  page.on("pageerror", (err) => page.errors.push(String(err)));
  page.on("console", (msg) => { if (msg.type() === "error") page.errors.push(msg.text()); });
  setup(page);
  await page.goto(`${SERVER_URL}/${query}`, { waitUntil: "load" });
  return page;
}

/** Waits until the text of [data-testid=testid] matches `re`. */
export async function waitForText(page, testid, re, what = testid) {
  try {
    await page.waitForFunction(
      ([id, source, flags]) => {
        const node = document.querySelector(`[data-testid="${id}"]`);
        return node !== null && new RegExp(source, flags).test(node.textContent.trim());
      },
      [testid, re.source, re.flags],
      { timeout: WAIT },
    );
  } catch (err) {
    const now = (await page.getByTestId(testid).first().textContent().catch(() => null))?.trim() ?? "(missing)";
    throw new Error(`${what}: expected ${re}, got ${JSON.stringify(now)} (${err.message.split("\n")[0]})`);
  }
}

/** Waits until there are exactly `n` elements [data-testid=testid]. */
export async function waitForCount(page, testid, n, what = testid) {
  try {
    await page.waitForFunction(
      ([id, count]) => document.querySelectorAll(`[data-testid="${id}"]`).length === count,
      [testid, n],
      { timeout: WAIT },
    );
  } catch (err) {
    const now = await page.getByTestId(testid).count();
    throw new Error(`${what}: expected ${n} elements, got ${now}`);
  }
}

export async function join(page, nick, room) {
  await page.getByTestId("nick-input").fill(nick);
  await page.getByTestId("room-input").fill(room);
  await page.getByTestId("join-button").click();
  await page.getByTestId("message-input").waitFor({ state: "visible" });
  await waitForText(page, "current-room", new RegExp(`^#${room}$`));
}

export async function send(page, text) {
  await page.getByTestId("message-input").fill(text);
  await page.getByTestId("send-button").click();
}

/**
 * The page logged no error, and was never handed a chat message twice
 * outside a watcher's catch-up on history: the demo shows a message once
 * even if it arrives again, so what it received is read from its counters
 * (window.wirehubStats), not from the screen. Call it while the page is open.
 */
export async function assertClean(page, who) {
  assert.deepEqual(page.errors, [], `${who}: page errors`);
  const stats = await page.evaluate(() => ({ ...window.wirehubStats }));
  assert.equal(stats.duplicates, 0, `${who}: chat messages received twice (${JSON.stringify(stats)})`);
}

/** A message from `nick` with `text` shows up in the message list. */
export async function waitForMessage(page, nick, text) {
  const message = page.getByTestId("message").filter({ hasText: text }).filter({ hasText: nick });
  await message.first().waitFor({ state: "visible" });
}

// Rooms unique to one test (the server may outlive a run of a file).
export const uniqueRoom = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
