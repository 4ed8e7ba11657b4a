// One client per transport of `wirehub serve`, all with the same shape:
//
//   const c = await SomeClient.open({ ns, room, label });  // connected, member of `room`
//   c.inbox        what it received (see helpers.mjs Inbox)
//   await c.publish(room, event, data)  → the publish ack {delivered, offset}
//   c.problems()   error envelopes and unparsable messages it received
//   await c.close()
//
// TRANSPORTS lists them for the matrix. Plain clients file envelopes as
// they arrive; the Socket.IO client files its events as
// {type:"event", event, data, args}.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { once } from "node:events";
import { io } from "socket.io-client";
import SockJS from "sockjs-client";
import WebSocket from "ws";
import { API_KEY, EVENT_TIMEOUT, Inbox, TCP_ADDR, UDP_ADDR, URL, hostPort } from "./helpers.mjs";
import { readNdjson, readSse } from "./readers.mjs";

const enc = encodeURIComponent;

/** The single argument of an ack envelope (or its argument list). */
const ackValue = (env) => ("data" in env ? env.data : env.args);

function assertJoined(label, answer, room) {
  assert.ok(
    Array.isArray(answer?.rooms) && answer.rooms.includes(room),
    `${label}: join answer ${JSON.stringify(answer)} lacks ${room}`,
  );
}

/** Common part of the clients that speak plain envelopes. */
class EnvelopeClient {
  constructor(label) {
    this.label = label;
    this.inbox = new Inbox(label);
    this.nextId = 1;
  }

  /** Files one received text message (an envelope, one per message/line/datagram). */
  onText(text) {
    try {
      this.inbox.push(JSON.parse(text));
    } catch {
      this.inbox.push({ type: "unparsable", text });
    }
  }

  async hello() {
    this.helloEnvelope = await this.inbox.waitFor((e) => e.type === "hello", "hello");
    return this.helloEnvelope;
  }

  /** Sends `env` with a fresh id; resolves with its ack's value, throws on an error envelope. */
  async request(env) {
    const id = this.nextId++;
    const answer = this.inbox.waitFor(
      (e) => (e.type === "ack" || e.type === "error") && e.id === id,
      `the answer to ${env.type} #${id}`,
    );
    answer.catch(() => {}); // awaited below; do not report it unhandled if sending throws
    await this.send({ ...env, id });
    const reply = await answer;
    if (reply.type === "error") {
      throw new Error(`${this.label}: ${env.type} refused: ${reply.code}: ${reply.message}`);
    }
    return ackValue(reply);
  }

  async join(room) {
    assertJoined(this.label, await this.request({ type: "join", room }), room);
  }

  publish(room, event, data) {
    return this.request({ type: "emit", event, data, room });
  }

  problems() {
    return this.inbox.filter((e) => e.type === "error" || e.type === "unparsable");
  }
}

/** The official socket.io-client, limited to one transport. */
export class SocketIoClient {
  static async open(transport, { ns, room, label }) {
    const socket = io(URL + ns, {
      transports: [transport],
      forceNew: true,
      reconnection: false,
      timeout: EVENT_TIMEOUT,
    });
    const c = new SocketIoClient(socket, label);
    socket.onAny((event, ...args) => c.inbox.push({ type: "event", event, data: args[0], args }));
    // What the plain clients report as error envelopes: a refused or lost
    // connection that the test did not ask for.
    socket.on("connect_error", (err) => c.issues.push({ type: "connect_error", message: err.message }));
    socket.on("disconnect", (reason) => {
      if (reason !== "io client disconnect") c.issues.push({ type: "disconnect", reason });
      c.inbox.end(`disconnected (${reason})`);
    });
    try {
      await new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      if (room) await c.join(room);
    } catch (err) {
      socket.close();
      throw err;
    }
    return c;
  }

  constructor(socket, label) {
    this.socket = socket;
    this.label = label;
    this.inbox = new Inbox(label);
    this.issues = [];
  }

  async ack(event, arg) {
    const answer = await this.socket.timeout(EVENT_TIMEOUT).emitWithAck(event, arg);
    if (answer?.error) {
      this.issues.push({ type: "refused", event, error: answer.error });
      throw new Error(`${this.label}: ${event} refused: ${JSON.stringify(answer.error)}`);
    }
    return answer;
  }

  async join(room) {
    assertJoined(this.label, await this.ack("hub:join", room), room);
  }

  publish(room, event, data) {
    return this.ack("hub:publish", { room, event, data });
  }

  /** Refused requests, connect errors and disconnects the test did not ask for. */
  problems() {
    return this.issues;
  }

  async close() {
    this.socket.close();
  }
}

/** Plain WebSocket (`/ws`), through the `ws` package. */
export class WsClient extends EnvelopeClient {
  static async open({ ns, room, label }) {
    const c = new WsClient(label);
    const ws = new WebSocket(`${URL.replace(/^http/, "ws")}/ws?ns=${enc(ns)}`);
    c.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (isBinary) c.inbox.push({ type: "unparsable", text: "<binary frame>" });
      else c.onText(data.toString("utf8"));
    });
    ws.on("close", (code, reason) => c.inbox.end(`closed (${code} ${reason})`));
    ws.on("error", (err) => c.inbox.end(`error: ${err.message}`));
    try {
      await c.hello();
      if (room) await c.join(room);
    } catch (err) {
      ws.terminate();
      throw err;
    }
    return c;
  }

  send(env) {
    this.ws.send(JSON.stringify(env));
  }

  async close() {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, "close");
    this.ws.close(1000);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    this.ws.terminate();
  }
}

/**
 * The official sockjs-client (Node drivers), limited to one SockJS
 * transport (`websocket`, `xhr-streaming`, `xhr-polling`, `eventsource`):
 * one envelope per SockJS message. `transport` is the one it used.
 */
export class SockJsClient extends EnvelopeClient {
  static async open(transport, { ns, room, label }) {
    const c = new SockJsClient(label);
    const sock = new SockJS(`${URL}/sockjs?ns=${enc(ns)}`, null, { transports: [transport] });
    c.sock = sock;
    c.closed = new Promise((resolve) => {
      sock.onclose = (e) => {
        c.inbox.end(`closed (${e.code} ${e.reason})`);
        resolve(e);
      };
    });
    sock.onmessage = (e) => c.onText(e.data);
    try {
      await c.hello();
      c.transport = sock.transport;
      if (room) await c.join(room);
    } catch (err) {
      sock.close();
      throw err;
    }
    return c;
  }

  send(env) {
    this.sock.send(JSON.stringify(env));
  }

  async close() {
    this.sock.close();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 1000))]);
  }
}

/**
 * SSE (`/sse`) or HTTP streaming (`/stream`): the rooms come as query
 * parameters, sending goes through `POST /send` with the hello's token.
 * For SSE, `raw` keeps every parsed SSE event ({event, data, id}).
 */
export class StreamClient extends EnvelopeClient {
  static async open(framing, { ns, room, label, headers = {}, query = "" }) {
    const c = new StreamClient(label);
    c.framing = framing;
    c.raw = [];
    c.comments = [];
    c.abort = new AbortController();
    let url = `${URL}/${framing}?ns=${enc(ns)}`;
    for (const r of [room].flat().filter(Boolean)) url += `&room=${enc(r)}`;
    url += query;
    const res = await fetch(url, { signal: c.abort.signal, headers });
    c.response = res;
    if (res.status !== 200) {
      const body = await res.text();
      throw new Error(`${label}: GET /${framing} answered ${res.status}: ${body}`);
    }
    const reading =
      framing === "sse"
        ? readSse(res.body, {
            onEvent: (ev) => {
              c.raw.push(ev);
              c.onText(ev.data);
            },
            onComment: (text) => c.comments.push(text),
            onRetry: (ms) => (c.retry = ms),
          })
        : readNdjson(res.body, (env) => c.inbox.push(env));
    c.reading = reading.then(
      () => c.inbox.end("the stream ended"),
      (err) => c.inbox.end(c.abort.signal.aborted ? "closed by the test" : `stream failed: ${err.message}`),
    );
    try {
      c.token = (await c.hello()).token;
      assert.ok(c.token, `${label}: the hello carries no token`);
    } catch (err) {
      c.abort.abort();
      throw err;
    }
    return c;
  }

  async send(env) {
    const res = await fetch(`${URL}/send`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/x-ndjson" },
      body: JSON.stringify(env) + "\n",
    });
    const text = await res.text();
    if (res.status !== 200 || JSON.parse(text).accepted !== 1) {
      throw new Error(`${this.label}: POST /send answered ${res.status}: ${text}`);
    }
  }

  async close() {
    this.abort.abort();
    await this.reading;
  }
}

/** Raw TCP (`--tcp`), NDJSON both ways. */
export class TcpClient extends EnvelopeClient {
  static async open({ ns, room, label }) {
    const c = new TcpClient(label);
    const sock = net.connect(hostPort(TCP_ADDR));
    c.sock = sock;
    sock.setEncoding("utf8");
    let buf = "";
    sock.on("data", (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) c.onText(line);
      }
    });
    sock.on("close", () => c.inbox.end("the connection closed"));
    sock.on("error", (err) => c.inbox.end(`error: ${err.message}`));
    try {
      await once(sock, "connect");
      c.send({ type: "connect", ns });
      await c.hello();
      if (room) await c.join(room);
    } catch (err) {
      sock.destroy();
      throw err;
    }
    return c;
  }

  send(env) {
    this.sock.write(JSON.stringify(env) + "\n");
  }

  async close() {
    if (this.sock.destroyed) return;
    const closed = once(this.sock, "close");
    this.sock.end(JSON.stringify({ type: "close" }) + "\n");
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    this.sock.destroy();
  }
}

/** UDP (`--udp`), one envelope per datagram, from a socket of its own. */
export class UdpClient extends EnvelopeClient {
  static async open({ ns, room, label }) {
    const c = new UdpClient(label);
    c.server = hostPort(UDP_ADDR);
    const sock = dgram.createSocket("udp4");
    c.sock = sock;
    sock.on("message", (msg) => c.onText(msg.toString("utf8")));
    sock.on("error", (err) => c.inbox.end(`error: ${err.message}`));
    try {
      await new Promise((resolve) => sock.bind(0, "127.0.0.1", resolve));
      await c.send({ type: "connect", ns });
      await c.hello();
      if (room) await c.join(room);
    } catch (err) {
      sock.close();
      throw err;
    }
    return c;
  }

  send(env) {
    return new Promise((resolve, reject) => {
      this.sock.send(JSON.stringify(env), this.server.port, this.server.host, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  async close() {
    try {
      await this.send({ type: "close" });
    } finally {
      this.sock.close();
    }
  }
}

/**
 * Long polling (`/poll`) of one room: a cursor taken at open, then
 * back-to-back `wait=` polls until closed. It has no session, so it cannot
 * publish (the HTTP API stands in for it as a sender).
 */
export class PollClient {
  static async open({ ns, room, label, wait = 5 }) {
    const c = new PollClient(label);
    c.base = `${URL}/poll?ns=${enc(ns)}&room=${enc(room)}`;
    const first = await c.get(c.base);
    assert.deepEqual(first.messages, [], `${label}: a poll without since returns no messages`);
    c.loop(first.next, wait);
    return c;
  }

  constructor(label) {
    this.label = label;
    this.inbox = new Inbox(label);
    this.abort = new AbortController();
    this.truncated = 0;
  }

  async get(url) {
    const res = await fetch(url, { signal: this.abort.signal });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.label}: ${url} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  loop(since, wait) {
    this.running = (async () => {
      while (!this.abort.signal.aborted) {
        const page = await this.get(`${this.base}&since=${since}&wait=${wait}`);
        if (page.truncated) this.truncated++;
        for (const m of page.messages) this.inbox.push(m);
        since = page.next;
      }
    })().catch((err) => this.inbox.end(this.abort.signal.aborted ? "closed" : err.message));
  }

  publish() {
    throw new Error("poll cannot publish; use the HTTP API");
  }

  problems() {
    return this.truncated ? [{ type: "truncated", count: this.truncated }] : [];
  }

  async close() {
    this.abort.abort();
    await this.running;
  }
}

/**
 * The HTTP API's `POST /api/v1/publish` as a sender: no session, so it is
 * no member of any room and receives nothing (`receives: false`: the "no
 * echo" rule does not apply to it; the publish's `delivered` count is what
 * shows where a message went). `room` may be a list.
 */
export class ApiSender {
  static async open({ ns, label }) {
    return new ApiSender(ns, label);
  }

  constructor(ns, label) {
    this.ns = ns;
    this.label = label;
    this.receives = false;
    this.issues = [];
  }

  async publish(room, event, data) {
    const res = await fetch(`${URL}/api/v1/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ns: this.ns, [Array.isArray(room) ? "rooms" : "room"]: room, event, data }),
    });
    const text = await res.text();
    if (res.status !== 200) {
      this.issues.push({ type: "http", status: res.status, body: text });
      throw new Error(`${this.label}: publish answered ${res.status}: ${text}`);
    }
    return JSON.parse(text);
  }

  /** Requests the API refused. */
  problems() {
    return this.issues;
  }

  /** The sids in `room` (`GET /api/v1/rooms/{room}/members`). */
  async members(room) {
    const res = await fetch(`${URL}/api/v1/rooms/${enc(room)}/members?ns=${enc(this.ns)}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.label}: members answered ${res.status}: ${text}`);
    return JSON.parse(text).members;
  }

  async close() {}
}

/**
 * The matrix's transports. `sender` names the transport when it sends (if
 * not the same), `plain`: its events carry `room` and `offset`,
 * `sessionless`: the server counts no recipient for it.
 */
export const TRANSPORTS = [
  { name: "socket.io-ws", open: (o) => SocketIoClient.open("websocket", o) },
  { name: "socket.io-polling", open: (o) => SocketIoClient.open("polling", o) },
  { name: "ws", plain: true, open: (o) => WsClient.open(o) },
  { name: "sse", plain: true, open: (o) => StreamClient.open("sse", o) },
  { name: "stream", plain: true, open: (o) => StreamClient.open("stream", o) },
  {
    name: "poll",
    sender: "api",
    plain: true,
    sessionless: true,
    open: (o) => PollClient.open(o),
    openSender: (o) => ApiSender.open(o),
  },
  { name: "tcp", plain: true, open: (o) => TcpClient.open(o) },
  { name: "udp", plain: true, open: (o) => UdpClient.open(o) },
  { name: "sockjs", plain: true, open: (o) => SockJsClient.open("xhr-streaming", o) },
];
