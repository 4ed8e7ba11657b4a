// Shared helpers for the JS interop suite (socket.io-client against the conformance server).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test as nodeTest } from "node:test";
import { fileURLToPath } from "node:url";
import { io, Manager } from "socket.io-client";

export { io, Manager };

/** Base URL of the server under test (set by tests/interop/run.sh). */
export const URL = (process.env.SERVER_URL || "http://127.0.0.1:3301").replace(/\/+$/, "");
/** Hard bound for a whole test. */
export const TEST_TIMEOUT = 20_000;
/** Bound for waiting on one expected event. */
export const EVENT_TIMEOUT = 5_000;
/** How long we listen to assert that an event does NOT arrive. */
export const ABSENCE_WINDOW = 300;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Like node:test's test(), with a bounded timeout and a `ctx` whose
 * connect()/manager() track every client so it is closed at the end.
 */
export function test(name, fn) {
  nodeTest(name, { timeout: TEST_TIMEOUT }, async (t) => {
    const closers = [];
    const ctx = {
      /** io(url + nsp, opts) with test-friendly defaults; tracked for cleanup. */
      connect(opts = {}, nsp = "/") {
        const socket = io(URL + (nsp === "/" ? "" : nsp), {
          forceNew: true,
          reconnection: false,
          timeout: EVENT_TIMEOUT,
          ...opts,
        });
        closers.push(() => socket.close());
        return socket;
      },
      /** new Manager(url, opts); its engine is closed at the end. */
      manager(opts = {}) {
        const manager = new Manager(URL, { reconnection: false, timeout: EVENT_TIMEOUT, ...opts });
        closers.push(() => manager.engine?.close());
        return manager;
      },
      /** Registers a socket (e.g. from manager.socket()) to be closed at the end. */
      track(socket) {
        closers.unshift(() => socket.close());
        return socket;
      },
    };
    try {
      await fn(ctx, t);
    } finally {
      for (const close of closers) {
        try {
          close();
        } catch {
          /* already closed */
        }
      }
    }
  });
}

/**
 * Resolves with the argument list of the next `event` on `emitter` (optionally
 * the next one accepted by `filter`), rejects after `timeout` ms.
 */
export function waitFor(emitter, event, { timeout = EVENT_TIMEOUT, filter } = {}) {
  return handled(new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out after ${timeout} ms waiting for "${event}"`));
    }, timeout);
    function handler(...args) {
      if (filter && !filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(args);
    }
    emitter.on(event, handler);
  }));
}

/**
 * Marks a promise as handled so that, when a test fails before awaiting it,
 * its later rejection is not reported as an unhandledRejection. Awaiting it
 * still throws.
 */
function handled(promise) {
  promise.catch(() => {});
  return promise;
}

/** Records every `event` on `emitter`; call .stop() to detach. */
export function record(emitter, event) {
  const calls = [];
  const handler = (...args) => calls.push(args);
  emitter.on(event, handler);
  return { calls, stop: () => emitter.off(event, handler) };
}

/** Waits ABSENCE_WINDOW ms and returns the `event`s that arrived meanwhile (expected: none). */
export async function collectDuring(emitter, event, ms = ABSENCE_WINDOW) {
  const rec = record(emitter, event);
  await sleep(ms);
  rec.stop();
  return rec.calls;
}

/** Resolves once `socket` is connected; rejects on connect_error or timeout. */
export function connected(socket, timeout = EVENT_TIMEOUT) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms waiting for connect`));
    }, timeout);
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    function cleanup() {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    }
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** Resolves with the connect_error error; rejects if the socket connects or on timeout. */
export function connectError(socket, timeout = EVENT_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms waiting for connect_error`));
    }, timeout);
    const onConnect = () => {
      cleanup();
      reject(new Error("connected, but a connect_error was expected"));
    };
    const onError = (err) => {
      cleanup();
      resolve(err);
    };
    function cleanup() {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    }
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/**
 * Emits `event` with `args` and an acknowledgement callback (official
 * socket.timeout(ms).emit(..., cb) API); resolves with the full list of ack
 * arguments (emitWithAck would only give the first one).
 */
export function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(EVENT_TIMEOUT).emit(event, ...args, (err, ...reply) => {
      if (err) reject(new Error(`no ack for "${event}": ${err.message}`));
      else resolve(reply);
    });
  });
}

/**
 * Resolves once the server's "/" namespace has exactly `count` sockets (the
 * `socket-count` extension), asking every 20 ms; rejects after `timeout` ms.
 */
export async function untilOnly(socket, count, timeout = EVENT_TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const [n] = await emitAck(socket, "socket-count");
    if (n === count) return;
    if (Date.now() > deadline) {
      throw new Error(`the namespace still has ${n} sockets after ${timeout} ms, expected ${count}`);
    }
    await sleep(20);
  }
}

/** Emits "message" and resolves with the args of the next "message-back". */
export async function echo(socket, ...args) {
  const back = waitFor(socket, "message-back");
  socket.emit("message", ...args);
  return back;
}

const ROOT = fileURLToPath(new globalThis.URL("../../..", import.meta.url));

/**
 * Starts a server of its own from SERVER_CMD (the command the suite runs,
 * from the repository root) on a free port with `env` added, for tests that
 * need a server set up differently (recovery on, another parser); resolves
 * with its URL and a stopper.
 */
export function startServer(env) {
  const command = process.env.SERVER_CMD;
  assert.ok(command, "SERVER_CMD must name the server under test");
  const child = spawn("bash", ["-c", command], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: "0", ...env },
  });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  };
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`server did not start:\n${seen}`));
    }, 20_000);
    const onData = (chunk) => {
      seen += chunk;
      const m = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}):\n${seen}`));
    });
  });
}
