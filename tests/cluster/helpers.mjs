// Client-side helpers of the cluster tests (socket.io-client 4.8).
import { io } from "socket.io-client";
import { sleep } from "./cluster.mjs";

/** Hard bound for one test (node:test timeout). */
export const TEST_TIMEOUT = 30_000;
/** Bound for one expected event, ack or effect. */
export const EVENT_TIMEOUT = 5_000;
/** How long we keep collecting after the expected deliveries, to catch duplicates and strays. */
export const QUIET_WINDOW = 300;

/**
 * A socket.io-client socket to `url` that records every event it receives
 * (socket.log: {event, args}), its disconnects (socket.disconnects: reasons),
 * and answers "collect" with its label. No reconnection.
 */
export function clientOf(url, label, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: EVENT_TIMEOUT, ...opts });
  socket.label = label;
  socket.log = [];
  socket.disconnects = [];
  socket.onAny((event, ...args) => {
    socket.log.push({ event, args: args.filter((a) => typeof a !== "function") });
  });
  socket.on("collect", (cb) => cb(label));
  socket.on("disconnect", (reason) => socket.disconnects.push(reason));
  return socket;
}

/** Resolves once connected; rejects on connect_error or after `timeout`. */
export function connected(socket, timeout = EVENT_TIMEOUT) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${socket.label}: not connected after ${timeout} ms`)), timeout);
    const onConnect = () => done(null);
    const onError = (err) => done(new Error(`${socket.label}: connect_error: ${err.message}${err.description ? ` (${describe(err.description)})` : ""}`));
    function done(err) {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
      err ? reject(err) : resolve(socket);
    }
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

function describe(x) {
  if (x instanceof Error) return x.message;
  if (x && typeof x === "object") {
    const parts = [];
    if (x.message) parts.push(x.message);
    if (x.status || x.statusCode) parts.push(`status ${x.status || x.statusCode}`);
    if (x.description) parts.push(describe(x.description));
    if (x.context?.responseText) parts.push(`response ${x.context.responseText}`);
    if (x.context?.status) parts.push(`status ${x.context.status}`);
    return parts.join(", ") || JSON.stringify(x);
  }
  return String(x);
}

/** Emits with an ack (bounded); resolves with the ack's arguments. */
export function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(EVENT_TIMEOUT).emit(event, ...args, (err, ...reply) => {
      if (err) reject(new Error(`${socket.label}: no ack for "${event}" within ${EVENT_TIMEOUT} ms`));
      else resolve(reply);
    });
  });
}

/** Polls `predicate` every 10 ms until true; throws `what()` (or a generic message) after `timeout`. */
export async function waitUntil(predicate, { timeout = EVENT_TIMEOUT, what = () => "condition" } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what()}`);
    await sleep(10);
  }
}

/** The events `event` of `socket` whose first argument is `token`. */
export const received = (socket, event, token) => socket.log.filter((e) => e.event === event && e.args[0] === token);

/**
 * The exactly-once check: waits (bounded) until every socket of `expected`
 * got `event` with first argument `token`, keeps collecting for QUIET_WINDOW,
 * then requires exactly one for each expected socket and none for each of
 * `others`. Returns the args each expected socket got.
 */
export async function expectDelivery({ event, token, expected, others, timeout = EVENT_TIMEOUT }) {
  const table = () =>
    [...expected.map((s) => `${s.label}: ${received(s, event, token).length} (want 1)`),
     ...others.map((s) => `${s.label}: ${received(s, event, token).length} (want 0)`)].join(", ");
  await waitUntil(() => expected.every((s) => received(s, event, token).length >= 1), {
    timeout,
    what: () => `"${event}" ${token} at every expected client; got ${table()}`,
  });
  await sleep(QUIET_WINDOW);
  const wrong = [
    ...expected.filter((s) => received(s, event, token).length !== 1),
    ...others.filter((s) => received(s, event, token).length !== 0),
  ];
  if (wrong.length) throw new Error(`"${event}" ${token}: wrong deliveries (${wrong.map((s) => s.label).join(", ")}); ${table()}`);
  return expected.map((s) => received(s, event, token)[0].args);
}

/** Closes sockets, ignoring errors. */
export function closeAll(sockets) {
  for (const s of sockets) {
    try {
      s.close();
    } catch {
      /* gone */
    }
  }
}
