/*
 * plain-client.js — browser clients of wirehub's plain transports
 * (docs/protocol.md), with the shape app.js uses from wirehub-client.js:
 *
 *   const socket = WirehubPlain.connect("ws" | "sse" | "poll", { room, ackTimeout });
 *   socket.on("connect", () => console.log(socket.id, socket.transport));
 *   socket.emit("hello", { a: 1 }, (reply) => ...);    // trailing function = ack
 *   const reply = await socket.emitWithAck("hello", 1);
 *   await socket.watch("lobby");                       // the room the transport follows
 *   socket.disconnect();
 *
 *   "ws"    a WebSocket on /ws: one envelope per text message, both ways.
 *   "sse"   an EventSource on /sse?room=R; envelopes go out with
 *           POST /send (Authorization: Bearer <token from hello>) and
 *           their answers come back on the stream. When the connection
 *           drops, the browser reconnects on its own and sends
 *           Last-Event-ID, and the server replays the room messages that
 *           were missed: after such a resume the local event "replayed"
 *           (count, lastEventId) says how many, after which offset.
 *   "poll"  GET /poll?room=R&since=K&wait=25 in a loop: reads the room's
 *           history, starting with what it still holds. Receive-only
 *           (readOnly is true): it has no session, so it cannot emit.
 *
 * watch(room) names the room a transport follows: the room an SSE stream
 * subscribes to (so that a resume replays it; a new room means a new
 * session) or the room a poll reads. Socket.IO and plain WebSocket clients
 * follow the rooms the server puts them in and need no watch().
 *
 * Local events, as in wirehub-client.js: "connect", "disconnect" (reason),
 * "connect_error" (Error), "reconnect_attempt" (attempt, delayMs); and
 * "replayed" (SSE) and "truncated" (poll: history was evicted past the cursor).
 * Emits made while disconnected are buffered and sent after "connect".
 */
(function (global) {
  "use strict";

  const { Emitter } = global.Wirehub; // wirehub-client.js is loaded first
  const LOCAL = new Set(["connect", "disconnect", "connect_error", "reconnect_attempt",
    "replayed", "truncated", "disconnecting", "newListener", "removeListener"]);
  const DEFAULTS = {
    namespace: "/",
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    timeout: 20000, // ms from opening a transport to its hello
    ackTimeout: undefined,
    pollWait: 25, // seconds a long poll may be held
  };
  // The server's SSE `retry:` default. EventSource obeys the field but does
  // not expose it, so this is only what the page shows as the wait.
  const SSE_RETRY_MS = 3000;

  /** The arguments an envelope carries (§2.2): `data` is one, `args` several. */
  function argsOf(env) {
    if (Array.isArray(env.args)) return env.args;
    return "data" in env ? [env.data] : [];
  }

  /** Puts arguments into an envelope the way the server does. */
  function withArgs(env, args) {
    if (args.length === 1) env.data = args[0];
    else if (args.length > 1) env.args = args;
    return env;
  }

  function endpoint(path, params, scheme) {
    const u = new URL(path, global.location.href);
    if (scheme === "ws") u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.search = params.toString();
    return u.toString();
  }

  // ==== What every session-based plain client shares: connection state,
  // backoff, the emit/ack bookkeeping and the handling of server envelopes.
  class PlainSocket extends Emitter {
    constructor(opts) {
      super();
      this.opts = { ...DEFAULTS, ...opts };
      this.id = null;
      this.connected = false;
      this.readOnly = false;
      this.raw = null; // the browser object in use (WebSocket, EventSource)
      this._active = false;
      this._acks = new Map();
      this._nextId = 1;
      this._buffer = []; // envelopes emitted while disconnected
      this._attempts = 0;
      this._retryTimer = null;
      this._openTimer = null;
      // Leaving the page: close at once so the server updates presence.
      global.addEventListener("pagehide", () => this._closeTransport());
    }

    get active() { return this._active; }

    connect() {
      if (this._active) return this;
      this._active = true;
      this._attempts = 0;
      this._start();
      return this;
    }

    disconnect() {
      this._active = false;
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
      this._closeTransport();
      this._lost("io client disconnect");
      return this;
    }

    watch() { return Promise.resolve(); }

    _start() {
      clearTimeout(this._openTimer);
      this._openTimer = setTimeout(() => {
        if (!this.connected) this._failed("timeout");
      }, this.opts.timeout);
      this._open();
    }

    _onHello(hello) {
      clearTimeout(this._openTimer);
      this.id = hello.sid;
      this.connected = true;
      this._attempts = 0;
      // As in wirehub-client.js: listeners first (they may re-join a room),
      // then what was emitted while offline.
      this._fire("connect");
      this._flush();
    }

    _flush() {
      const pending = this._buffer.splice(0);
      if (pending.length) this._transmit(pending);
    }

    _lost(reason) {
      const was = this.connected;
      this.connected = false;
      this.id = null;
      if (was) this._fire("disconnect", reason);
    }

    /** The transport ended: report it, then retry unless we were told to stop. */
    _failed(reason) {
      clearTimeout(this._openTimer);
      const was = this.connected;
      this._closeTransport();
      this._lost(reason);
      if (!was) this._fire("connect_error", new Error(reason));
      if (this._active) this._scheduleReconnect();
    }

    /** Exponential backoff with jitter, as in wirehub-client.js. */
    _scheduleReconnect() {
      if (this._retryTimer) return;
      const o = this.opts;
      const attempt = ++this._attempts;
      const base = o.reconnectionDelay * Math.pow(2, Math.min(attempt - 1, 20));
      const jitter = 1 + (Math.random() * 2 - 1) * o.randomizationFactor;
      const delay = Math.round(Math.min(o.reconnectionDelayMax, base * jitter));
      this._retryTimer = setTimeout(() => {
        this._retryTimer = null;
        if (this._active && !this.raw) this._start();
      }, delay);
      this._fire("reconnect_attempt", attempt, delay);
    }

    _onEnvelope(env) {
      switch (env.type) {
        case "hello":
          this._onHello(env);
          break;
        case "event": {
          if (typeof env.event !== "string" || LOCAL.has(env.event)) return;
          const args = argsOf(env);
          if (env.id !== undefined) args.push(this._ackFor(env.id));
          this._fire(env.event, ...args);
          break;
        }
        case "ack": {
          const fn = this._acks.get(env.id);
          this._acks.delete(env.id);
          if (fn) fn(null, argsOf(env));
          break;
        }
        case "error": {
          const fn = env.id !== undefined && this._acks.get(env.id);
          if (fn) { this._acks.delete(env.id); fn(new Error(`${env.code}: ${env.message}`)); }
          else console.warn("wirehub: server error", env.code, env.message);
          break;
        }
        case "disconnect": // the server ended the session: no automatic retry
          this._active = false;
          this._closeTransport();
          this._lost(env.reason || "io server disconnect");
          break;
        default: // pong, and types of later protocol versions
          break;
      }
    }

    /** The callback handed to listeners of a server event that asks for an ack. */
    _ackFor(id) {
      const sid = this.id;
      let done = false;
      return (...args) => {
        if (done || !this.connected || this.id !== sid) return;
        done = true;
        this._transmit([withArgs({ type: "ack", id }, args)]);
      };
    }

    /** emit(event, ...args[, ack]) — sent now, or buffered until connected. */
    emit(event, ...args) { return this._emit(event, args, undefined, false); }

    /** Resolves with the first argument of the server's ack. */
    emitWithAck(event, ...args) { return this._emitWithAck(event, args, this.opts.ackTimeout); }

    timeout(ms) {
      return {
        emit: (event, ...args) => this._emit(event, args, ms, true),
        emitWithAck: (event, ...args) => this._emitWithAck(event, args, ms),
      };
    }

    _emitWithAck(event, args, ms) {
      return new Promise((resolve, reject) => {
        args.push((err, reply) => (err ? reject(err) : resolve(reply)));
        this._emit(event, args, ms, true);
      });
    }

    _emit(event, args, ms, errorFirst) {
      if (LOCAL.has(event)) throw new Error(`"${event}" is a reserved event name`);
      const env = { type: "emit", event };
      if (typeof args[args.length - 1] === "function") {
        const cb = args.pop();
        const id = (env.id = this._nextId++);
        let timer = null;
        if (ms !== undefined && ms !== null) {
          timer = setTimeout(() => {
            this._acks.delete(id);
            const i = this._buffer.indexOf(env);
            if (i >= 0) this._buffer.splice(i, 1); // never send it late
            cb(new Error("operation has timed out"));
          }, ms);
        }
        this._acks.set(id, (err, reply) => {
          clearTimeout(timer);
          if (err) { if (errorFirst) cb(err); return; }
          if (errorFirst) cb(null, ...reply); else cb(...reply);
        });
      }
      withArgs(env, args);
      if (this._ready()) this._transmit([env]); else this._buffer.push(env);
      return this;
    }

    _ready() { return this.connected; }
  }

  // ==== Plain WebSocket: GET /ws, one envelope per text message.
  class WsSocket extends PlainSocket {
    constructor(opts) {
      super(opts);
      this.via = "ws";
      this.transport = "plain WebSocket";
    }

    _open() {
      const params = new URLSearchParams();
      if (this.opts.namespace !== "/") params.set("ns", this.opts.namespace);
      let ws;
      try {
        ws = new WebSocket(endpoint("/ws", params, "ws"));
      } catch (_) {
        return this._failed("transport error");
      }
      this.raw = ws;
      ws.onmessage = (ev) => {
        if (this.raw !== ws || typeof ev.data !== "string") return;
        let env;
        try { env = JSON.parse(ev.data); } catch (_) { return console.error("wirehub: bad envelope", ev.data); }
        this._onEnvelope(env);
      };
      ws.onclose = (ev) => {
        if (this.raw === ws) this._failed(`transport close (${ev.code})`);
      };
    }

    _transmit(envelopes) {
      const ws = this.raw;
      if (!ws || ws.readyState !== WebSocket.OPEN) { this._buffer.push(...envelopes); return; }
      for (const env of envelopes) ws.send(JSON.stringify(env));
    }

    _closeTransport() {
      const ws = this.raw;
      this.raw = null; // detach first: its close event is ignored
      if (ws) { try { ws.close(1000); } catch (_) { /* already closed */ } }
    }
  }

  // ==== Server-Sent Events: EventSource on GET /sse, POST /send to talk back.
  class SseSocket extends PlainSocket {
    constructor(opts) {
      super(opts);
      this.via = "sse";
      this.transport = "SSE";
      this._room = opts.room || null;
      this._token = null; // from the current session's hello
      this._names = new Set(["wirehub.hello", "wirehub.ack", "wirehub.error", "wirehub.pong",
        "wirehub.disconnect", "message"]);
      this._outbox = [];
      this._posting = false;
      this._lastOffset = null; // of the last room message seen, to resume from
      this._resuming = false; // reconnecting with Last-Event-ID (or since=)
      this._resumeFrom = null; // the offset we resume after
      this._replayed = 0;
      this._swapWaiters = null; // set while watch() moves to a new session
      this._onSse = this._onSse.bind(this);
      this._onSseError = this._onSseError.bind(this);
    }

    /** Every event name the app listens to must be an EventSource listener too. */
    on(event, fn) {
      super.on(event, fn);
      if (!LOCAL.has(event) && !this._names.has(event) && event !== "error") {
        this._names.add(event);
        if (this.raw) this.raw.addEventListener(event, this._onSse);
      }
      return this;
    }

    /**
     * Follows `room`: a stream subscribes to its rooms when it opens, so a
     * new room needs a new session. The old one ends (the server drops its
     * memberships); no disconnect/connect is reported for the move.
     */
    watch(room) {
      if (room === this._room) return Promise.resolve();
      this._room = room;
      this._lastOffset = null; // offsets of the old room mean nothing here
      if (!this._active) return Promise.resolve();
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
      this._closeTransport();
      return new Promise((resolve) => {
        if (this._swapWaiters) this._swapWaiters.push(resolve);
        else this._swapWaiters = [resolve];
        this._start();
      });
    }

    _open(since) {
      const params = new URLSearchParams();
      if (this.opts.namespace !== "/") params.set("ns", this.opts.namespace);
      if (this._room) params.set("room", this._room);
      if (since !== undefined && since !== null) params.set("since", String(since));
      let es;
      try {
        es = new EventSource(endpoint("/sse", params));
      } catch (_) {
        return this._failed("transport error");
      }
      this.raw = es;
      this._token = null;
      for (const name of this._names) es.addEventListener(name, this._onSse);
      es.addEventListener("error", this._onSseError);
    }

    /** After our own backoff (not the browser's): resume where we left off. */
    _start() {
      const since = this._resuming ? this._lastOffset : null;
      clearTimeout(this._openTimer);
      this._openTimer = setTimeout(() => { if (!this._token) this._failed("timeout"); }, this.opts.timeout);
      this._open(since);
    }

    _onSse(ev) {
      if (ev.target !== this.raw) return;
      let env;
      try { env = JSON.parse(ev.data); } catch (_) { return console.error("wirehub: bad envelope", ev.data); }
      if (!env || typeof env !== "object") return;
      if (env.type === "event" && typeof env.offset === "number") {
        this._lastOffset = env.offset;
        if (this._resuming && !this._token) this._replayed++; // replay comes before hello
      }
      this._onEnvelope(env);
    }

    _onHello(hello) {
      this._token = hello.token;
      if (this._swapWaiters) { // watch(): a new session, quietly
        clearTimeout(this._openTimer);
        this.id = hello.sid;
        const waiters = this._swapWaiters;
        this._swapWaiters = null;
        this._flush();
        for (const resolve of waiters) resolve();
        return;
      }
      const resumed = this._resuming;
      this._resuming = false;
      super._onHello(hello);
      if (resumed) this._fire("replayed", this._replayed, this._resumeFrom);
    }

    _onSseError(ev) {
      const es = this.raw;
      if (ev.target !== es) return;
      if (typeof ev.data === "string") return this._onSse(ev); // a server event named "error"
      clearTimeout(this._openTimer);
      this._token = null;
      this._outbox.length = 0; // the old token is gone with its session
      this._endSwap();
      if (es.readyState === EventSource.CONNECTING) {
        // The browser reconnects by itself after the server's retry: delay,
        // sending Last-Event-ID; the server replays what we missed.
        const first = !this._resuming;
        this._resuming = true;
        this._resumeFrom = this._lastOffset; // what the browser sends as Last-Event-ID
        this._replayed = 0;
        this._lost("transport error");
        if (first) this._fire("reconnect_attempt", ++this._attempts, SSE_RETRY_MS);
        return;
      }
      // Failed for good (e.g. an HTTP error): reconnect ourselves, with since.
      this._resuming = this._lastOffset !== null;
      this._resumeFrom = this._lastOffset;
      this._replayed = 0;
      this._failed("transport error");
    }

    /** A watch() that did not reach its hello lets the app go on (its emits wait in the buffer). */
    _endSwap() {
      const waiters = this._swapWaiters;
      this._swapWaiters = null;
      if (waiters) for (const resolve of waiters) resolve();
    }

    _ready() { return this.connected && this._token !== null; }

    /** Answers come on the stream; one POST at a time keeps the order. */
    _transmit(envelopes) {
      this._outbox.push(...envelopes);
      this._post();
    }

    _post() {
      if (this._posting || !this._token || this._outbox.length === 0) return;
      const body = this._outbox.splice(0).map((env) => JSON.stringify(env)).join("\n");
      this._posting = true;
      fetch("/send", {
        method: "POST",
        body,
        headers: { Authorization: `Bearer ${this._token}`, "Content-Type": "application/x-ndjson" },
        keepalive: body.length < 60000,
      }).then((res) => {
        if (!res.ok) console.warn("wirehub: POST /send answered", res.status);
      }, () => console.warn("wirehub: POST /send failed")).finally(() => {
        this._posting = false;
        this._post();
      });
    }

    _closeTransport() {
      const es = this.raw;
      this.raw = null;
      this._token = null;
      if (es) es.close();
    }

    _failed(reason) {
      this._endSwap();
      super._failed(reason);
    }
  }

  // ==== Long polling over room history: GET /poll, receive-only.
  class PollWatcher extends Emitter {
    constructor(opts) {
      super();
      this.opts = { ...DEFAULTS, ...opts };
      this.via = "poll";
      this.transport = "long polling";
      this.readOnly = true;
      this.id = null; // no session
      this.connected = false;
      this.raw = null; // the AbortController of the request in flight
      this.catchingUp = false; // true while the room's history is being handed out
      this._room = opts.room || null;
      this._active = false;
      this._since = 0;
      this._run = 0; // bumped to stop an old loop
      this._attempts = 0;
      this._firstAnswer = [];
    }

    get active() { return this._active; }

    connect() {
      if (this._active) return this;
      this._active = true;
      if (this._room) this._loop(++this._run);
      return this;
    }

    /** Reads `room`, from the oldest message its history still holds; resolves on the first answer. */
    watch(room) {
      if (room === this._room && this.connected) return Promise.resolve();
      const answered = new Promise((resolve) => this._firstAnswer.push(resolve));
      if (room !== this._room) {
        this._room = room;
        this._since = 0;
        this._stop();
        if (this._active) this._loop(++this._run);
      }
      return answered;
    }

    disconnect() {
      this._active = false;
      this._stop();
      const was = this.connected;
      this.connected = false;
      if (was) this._fire("disconnect", "io client disconnect");
      return this;
    }

    _stop() {
      this._run++;
      if (this.raw) this.raw.abort();
      this.raw = null;
    }

    async _loop(run) {
      let wait = 0; // the first answer comes at once, with the history
      let history = true;
      while (this._active && run === this._run) {
        const params = new URLSearchParams({ room: this._room, since: String(this._since), wait: String(wait) });
        if (this.opts.namespace !== "/") params.set("ns", this.opts.namespace);
        const abort = (this.raw = new AbortController());
        let body;
        try {
          const res = await fetch(endpoint("/poll", params), { cache: "no-store", signal: abort.signal });
          if (!res.ok) throw new Error("HTTP " + res.status);
          body = await res.json();
        } catch (err) {
          if (run !== this._run) return;
          await this._backoff(err);
          continue;
        }
        if (run !== this._run) return;
        this._answered();
        // Asking for everything (since=0) finds older messages evicted: expected, not news.
        if (body.truncated && !history) this._fire("truncated");
        this.catchingUp = history;
        for (const env of body.messages || []) {
          if (env.type === "event" && typeof env.event === "string") this._fire(env.event, ...argsOf(env));
        }
        this.catchingUp = false;
        this._since = body.next;
        wait = this.opts.pollWait;
        history = false;
      }
    }

    _answered() {
      this._attempts = 0;
      if (!this.connected) { this.connected = true; this._fire("connect"); }
      for (const resolve of this._firstAnswer.splice(0)) resolve();
    }

    async _backoff(err) {
      if (this.connected) { this.connected = false; this._fire("disconnect", "transport error"); }
      else this._fire("connect_error", err);
      const o = this.opts;
      const attempt = ++this._attempts;
      const delay = Math.round(Math.min(o.reconnectionDelayMax, o.reconnectionDelay * Math.pow(2, Math.min(attempt - 1, 20))));
      this._fire("reconnect_attempt", attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }

    emit() { throw new Error("long polling is receive-only"); }

    emitWithAck() { return Promise.reject(new Error("long polling is receive-only")); }
  }

  const KINDS = { ws: WsSocket, sse: SseSocket, poll: PollWatcher };

  global.WirehubPlain = {
    /** What sockjs-client.js builds on. */
    PlainSocket,
    endpoint,
    /** Adds a kind of socket (sockjs-client.js adds "sockjs"). */
    register(kind, Kind) { KINDS[kind] = Kind; },
    /** connect(kind, opts?) — kind is "ws", "sse", "poll" (or a registered one); same origin. */
    connect(kind, opts = {}) {
      const Kind = KINDS[kind];
      if (!Kind) throw new Error(`unknown plain transport ${kind}`);
      const socket = new Kind(opts);
      if (opts.autoConnect !== false) socket.connect();
      return socket;
    },
  };
})(typeof window !== "undefined" ? window : globalThis);
