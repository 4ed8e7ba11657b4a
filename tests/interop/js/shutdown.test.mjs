// Graceful shutdown: SIGTERM to a server of its own (started with
// SERVER_CMD, as run.sh starts the shared one) while official clients are
// connected over WebSocket and long-polling. Each client must see its
// transport close (reason "transport close", so it would reconnect to
// another node), and the server must exit 0 within the deadline. Run
// against wirehub (run.sh's conformance server). The Node reference
// server exits at once after io.close(), so its polling client reports
// "transport error"; even a graceful io.close(callback) answers only a GET
// held at that moment, and the next GET races the HTTP server's close.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test, io, connected, waitFor, echo, EVENT_TIMEOUT } from "./helpers.mjs";

/** Starts `bash -c "$SERVER_CMD"` on a free port; resolves with its URL and process. */
function startServer() {
  const command = process.env.SERVER_CMD;
  assert.ok(command, "SERVER_CMD is not set (run this suite with tests/interop/run.sh)");
  const child = spawn("bash", ["-c", command], {
    cwd: new globalThis.URL("../../..", import.meta.url).pathname,
    env: { ...process.env, PORT: "0", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: the signal reaches the server itself
  });
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line:\n${log}`)), 20_000);
    const onData = (chunk) => {
      log += chunk;
      const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, log: () => log });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
}

/** Resolves with the exit code, or rejects after `ms`. */
function exited(child, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server still running ${ms} ms after SIGTERM`)), ms);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

test("SIGTERM: websocket and polling clients see \"transport close\", the server exits 0", async () => {
  const server = await startServer();
  const clients = [];
  try {
    for (const transports of [["websocket"], ["polling"]]) {
      const s = io(server.url, { forceNew: true, reconnection: false, timeout: EVENT_TIMEOUT, transports });
      clients.push(s);
      await connected(s);
      assert.deepEqual(await echo(s, "before"), ["before"]);
    }
    const disconnects = clients.map((s) => waitFor(s, "disconnect"));
    const exit = exited(server.child, 12_000);
    process.kill(-server.child.pid, "SIGTERM");
    const reasons = (await Promise.all(disconnects)).map(([reason]) => reason);
    assert.deepEqual(reasons, ["transport close", "transport close"]);
    assert.equal(await exit, 0, server.log());
  } finally {
    for (const s of clients) s.close();
    try {
      process.kill(-server.child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
});
