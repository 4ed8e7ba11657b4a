// The real @socket.io/admin-ui dashboard (the npm package's ui/dist, pinned
// in package.json) in headless Chromium against `wirehub serve --admin-ui
// --admin-auth ...`: a wrong password is refused, the right one logs in,
// and the sockets page lists both Socket.IO clients and the rooms page the
// room one of them joined.
//
// The dashboard is served from another origin (a static server here), as
// its hosted copy is, so the server runs with CORS credentials allowed.
// The server is this file's own: $SERVER_CMD (as run.sh has it) with the
// admin flags added; its demo chat's `join` puts clients in rooms.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { launchBrowser, newContext, uniqueRoom, WAIT } from "./helpers.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UI_DIR = path.join(HERE, "node_modules", "@socket.io", "admin-ui", "ui", "dist");
const USER = "admin";
const PASSWORD = `pw-${Math.random().toString(36).slice(2, 10)}`;
const TYPES = {
  ".html": "text/html", ".js": "text/javascript", ".css": "text/css",
  ".png": "image/png", ".svg": "image/svg+xml", ".map": "application/json",
};

let server; // { process, url }
let ui; // { http, url }
let browser;

/** Starts `$SERVER_CMD --admin-ui ...` on a free port; resolves with its URL. */
async function startServer() {
  const cmd = process.env.SERVER_CMD;
  if (!cmd) throw new Error("set SERVER_CMD (run.sh does), e.g. SERVER_CMD='target/release/wirehub serve'");
  const flags = `--admin-ui --admin-auth '${USER}:${PASSWORD}' --cors-origin '*' --cors-credentials`;
  const child = spawn("bash", ["-c", `exec ${cmd} ${flags}`], {
    env: { ...process.env, PORT: "0", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${log}`)), 20_000);
    const read = (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log}`)); });
  });
  return { process: child, url };
}

/** Serves the dashboard's files on a port of its own (another origin). */
async function startUi() {
  const http = createServer(async (req, res) => {
    const name = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.join(UI_DIR, name === "/" ? "index.html" : path.normalize(name));
    if (!file.startsWith(UI_DIR)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  return { http, url: `http://127.0.0.1:${http.address().port}` };
}

before(async () => {
  [server, ui, browser] = await Promise.all([startServer(), startUi(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  ui?.http.close();
  if (server) {
    try { process.kill(-server.process.pid, "SIGTERM"); } catch { /* already gone */ }
  }
});

/** A Socket.IO client connected to the server under test. */
async function client() {
  const socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** The dashboard, its login dialog filled in and submitted. */
async function logIn(context, password) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.errors = [];
  page.on("pageerror", (err) => page.errors.push(String(err)));
  await page.goto(`${ui.url}/`, { waitUntil: "load" });
  await page.getByLabel("Server URL").fill(server.url);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Connect" }).click();
  return page;
}

async function newDashboardContext() {
  const context = await newContext(browser);
  // Web fonts and icons come from CDNs: not reachable, not needed.
  await context.route((url) => !url.href.startsWith("http://127.0.0.1"), (route) => route.abort());
  return context;
}

/** Waits until the page's visible text contains every string of `texts`. */
async function waitForTexts(page, texts, what) {
  try {
    await page.waitForFunction(
      (all) => all.every((t) => document.body.innerText.includes(t)),
      texts,
      { timeout: WAIT },
    );
  } catch {
    const shown = await page.evaluate(() => document.body.innerText);
    throw new Error(`${what}: expected ${JSON.stringify(texts)} in the page, got:\n${shown}`);
  }
}

test("a wrong admin password is refused", { timeout: 60_000 }, async () => {
  const context = await newDashboardContext();
  try {
    const page = await logIn(context, "not-the-password");
    await waitForTexts(page, ["Invalid credentials"], "login dialog");
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});

test("the admin dashboard lists sockets and rooms", { timeout: 60_000 }, async () => {
  const [before, live] = [uniqueRoom("admin"), uniqueRoom("live")];
  const [a, b] = await Promise.all([client(), client()]);
  const context = await newDashboardContext();
  try {
    // Socket a joins a room (the demo chat's `join`) before the dashboard
    // connects: it learns of it from `all_sockets`.
    const joined = await a.timeout(5000).emitWithAck("join", { nick: "ada", room: before });
    assert.equal(joined.ok, true, JSON.stringify(joined));

    const page = await logIn(context, PASSWORD);
    await page.getByRole("button", { name: "Connect" }).waitFor({ state: "hidden" });

    await page.evaluate(() => { window.location.hash = "#/sockets/"; });
    await waitForTexts(page, [a.id, b.id], "sockets page");

    await page.evaluate(() => { window.location.hash = "#/rooms/"; });
    await waitForTexts(page, [before], "rooms page");

    // Socket b joins another room while the dashboard watches (`room_joined`).
    const again = await b.timeout(5000).emitWithAck("join", { nick: "bob", room: live });
    assert.equal(again.ok, true, JSON.stringify(again));
    await waitForTexts(page, [before, live], "rooms page, live");
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
    a.disconnect();
    b.disconnect();
  }
});
