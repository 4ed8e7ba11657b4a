// permessage-deflate with the official clients, against `wirehub serve
// --ws-deflate` at SERVER_URL (run by tests/deflate.rs; not a *.test.mjs,
// so the interop suites, which also run against the Node reference
// server, leave it out).
//
// socket.io-client (its `ws` transport offers permessage-deflate by
// default) and a plain `ws` client on /ws join one room; the Socket.IO
// client publishes a 64 KiB message and a short one there, the /ws client
// a 32 KiB one; each must get what the other published (a publisher is
// not sent its own), intact. Both must have negotiated the extension. Prints one JSON line with what it saw; exits
// non-zero on any failure.
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import WebSocket from "ws";

const URL = (process.env.SERVER_URL || "http://127.0.0.1:3000").replace(/\/+$/, "");
const ROOM = "deflate";
const within = (ms, what, promise) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);

/** A JSON-friendly text of `len` bytes, compressible like real chat. */
const text = (len, tag) =>
  `${tag}:` + Array.from({ length: len }, (_, i) => `user${i % 97} says hello ${i % 13}; `).join("").slice(0, len);

const big = text(64 * 1024, "sio");
const small = "tiny";
const fromWs = text(32 * 1024, "ws");

async function socketIo() {
  const socket = io(URL, { transports: ["websocket"], forceNew: true, reconnection: false });
  const got = [];
  socket.on("blob", (data) => got.push(data));
  await within(5000, "socket.io connect", new Promise((ok, ko) => {
    socket.once("connect", ok);
    socket.once("connect_error", ko);
  }));
  const answer = await socket.timeout(5000).emitWithAck("hub:join", ROOM);
  assert.ok(answer?.rooms?.includes(ROOM), `hub:join answered ${JSON.stringify(answer)}`);
  return { socket, got, extensions: socket.io.engine.transport.ws.extensions };
}

async function plainWs() {
  const ws = new WebSocket(`${URL.replace(/^http/, "ws")}/ws?ns=/`, { perMessageDeflate: true });
  const got = [];
  const waiting = [];
  ws.on("message", (data) => {
    const env = JSON.parse(data.toString("utf8"));
    got.push(env);
    for (const w of waiting.splice(0)) w();
  });
  await within(5000, "ws open", new Promise((ok, ko) => {
    ws.once("open", ok);
    ws.once("error", ko);
  }));
  ws.send(JSON.stringify({ type: "join", room: ROOM, id: 1 }));
  await within(5000, "ws join ack", (async () => {
    while (!got.some((e) => e.type === "ack" && e.id === 1)) {
      await new Promise((w) => waiting.push(w));
    }
  })());
  return { ws, got, extensions: ws.extensions };
}

async function until(what, cond) {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sio = await socketIo();
const plain = await plainWs();
try {
  for (const [who, ext] of [["socket.io-client", sio.extensions], ["ws", plain.extensions]]) {
    assert.match(ext, /permessage-deflate/, `${who} did not negotiate permessage-deflate: "${ext}"`);
  }
  for (const data of [big, small]) {
    const ack = await sio.socket.timeout(5000).emitWithAck("hub:publish", { room: ROOM, event: "blob", data });
    assert.ok(!ack?.error, `hub:publish refused: ${JSON.stringify(ack)}`);
  }
  plain.ws.send(JSON.stringify({ type: "emit", room: ROOM, event: "blob", data: fromWs, id: 2 }));
  await until("socket.io-client gets the ws blob", () => sio.got.length >= 1);
  const blobs = () => plain.got.filter((e) => e.type === "event" && e.event === "blob").map((e) => e.data);
  await until("ws gets two blobs", () => blobs().length >= 2);
  assert.deepEqual(sio.got, [fromWs]);
  assert.deepEqual(blobs(), [big, small]);
  console.log(JSON.stringify({ ok: true, socketio: sio.extensions, ws: plain.extensions }));
} finally {
  sio.socket.close();
  plain.ws.close();
}
