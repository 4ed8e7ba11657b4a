// Shared helpers of the plain-transport suite: where the server is, the
// test wrapper that closes every client, and Inbox, the recorder every
// transport's client files what it receives in.
import { test as nodeTest } from "node:test";
import { randomBytes } from "node:crypto";

/** Base URL of `wirehub serve` (set by tests/plain/run.sh). */
export const URL = (process.env.SERVER_URL || "http://127.0.0.1:3700").replace(/\/+$/, "");
/** host:port of the TCP gateway (`--tcp`). */
export const TCP_ADDR = process.env.WIREHUB_TCP_ADDR || "127.0.0.1:3701";
/** host:port of the UDP gateway (`--udp`). */
export const UDP_ADDR = process.env.WIREHUB_UDP_ADDR || "127.0.0.1:3702";
/** The key of the HTTP API (`--api-key`). */
export const API_KEY = process.env.WIREHUB_API_KEY || "";

/** Hard bound for a whole test. */
export const TEST_TIMEOUT = 15_000;
/** Bound for waiting on one expected envelope, ack or connection. */
export const EVENT_TIMEOUT = 5_000;
/** How long we keep listening after an arrival, to catch duplicates and strays. */
export const SETTLE = 200;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A short random token for unique names and payloads. */
export const uid = () => randomBytes(6).toString("hex");

/** A namespace of its own for each test file run (created on demand by `wirehub serve`). */
export const freshNamespace = (prefix) => `/${prefix}-${uid()}`;

/** "host:port" → { host, port }. */
export function hostPort(addr) {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/**
 * Like node:test's test(), with a bounded timeout and a `ctx.track(client)`
 * that closes the client at the end, pass or fail.
 */
export function test(name, fn) {
  nodeTest(name, { timeout: TEST_TIMEOUT }, async (t) => {
    const clients = [];
    const ctx = {
      track(client) {
        clients.push(client);
        return client;
      },
    };
    try {
      await fn(ctx, t);
    } finally {
      await Promise.allSettled(clients.reverse().map((c) => c.close()));
    }
  });
}

/**
 * What one client received, in order: envelopes (`{type, ...}`, the plain
 * protocol's; Socket.IO events are filed as `{type:"event", event, data}`),
 * with waiting on the first one a predicate accepts.
 */
export class Inbox {
  constructor(label) {
    this.label = label;
    this.items = [];
    this.waiters = new Set();
    this.ended = null;
  }

  push(item) {
    this.items.push(item);
    for (const w of this.waiters) {
      if (w.pred(item)) w.done(item);
    }
  }

  /** The connection is gone: pending waits fail with `reason`. */
  end(reason) {
    if (this.ended) return;
    this.ended = reason;
    for (const w of this.waiters) w.fail(new Error(`${this.label}: ${reason} while waiting for ${w.what}`));
  }

  /** The received items `pred` accepts. */
  filter(pred) {
    return this.items.filter(pred);
  }

  /** Resolves with the first item (already received or not) `pred` accepts. */
  waitFor(pred, what, timeout = EVENT_TIMEOUT) {
    const found = this.items.find(pred);
    if (found) return Promise.resolve(found);
    if (this.ended) return Promise.reject(new Error(`${this.label}: ${this.ended} before ${what}`));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        what,
        done: (item) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(item);
        },
        fail: (err) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          reject(err);
        },
      };
      const timer = setTimeout(
        () => w.fail(new Error(`${this.label}: timed out after ${timeout} ms waiting for ${what}`)),
        timeout,
      );
      this.waiters.add(w);
    });
  }
}
