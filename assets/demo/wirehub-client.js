/*
 * wirehub-client.js — a small, dependency-free browser client for
 * Socket.IO v5 running over Engine.IO v4 (text packets only).
 *
 *   const socket = Wirehub.connect();                 // same origin, namespace "/"
 *   socket.on("connect", () => console.log(socket.id, socket.transport));
 *   socket.emit("hello", { a: 1 }, (reply) => ...);    // trailing function = ack
 *   const reply = await socket.timeout(5000).emitWithAck("hello", 1);
 *
 * Options (all optional):
 *   path                 "/socket.io/"   Engine.IO endpoint
 *   transports           ["websocket", "polling"]  order = preference; a
 *                        transport that fails before the Engine.IO handshake
 *                        completes falls back to the next one
 *   namespace            "/"             (or the path part of the url)
 *   auth                 undefined       object (or function returning one)
 *                                        sent in the CONNECT packet
 *   query                {}              extra query parameters
 *   reconnection         true
 *   reconnectionDelay    500    ms, doubled per attempt, with jitter
 *   reconnectionDelayMax 5000   ms
 *   randomizationFactor  0.5
 *   openTimeout          8000   ms for one transport to complete the handshake
 *   timeout              20000  ms for the whole connection (incl. CONNECT ack)
 *   ackTimeout           undefined  default timeout of emitWithAck (ms)
 *   autoConnect          true
 *
 * Local events: "connect", "disconnect" (reason), "connect_error" (Error),
 * "reconnect_attempt" (attempt, delayMs).
 *
 * Written from the protocol descriptions; shares no code with socket.io-client.
 */
(function (global) {
  "use strict";

  // Engine.IO v4 packet types (first character of every packet).
  const EIO = { OPEN: "0", CLOSE: "1", PING: "2", PONG: "3", MESSAGE: "4", UPGRADE: "5", NOOP: "6" };
  // Socket.IO v5 packet types (first character of an Engine.IO message payload).
  const SIO = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4 };
  // Separator of packets in one HTTP long-polling payload.
  const RECORD_SEPARATOR = "\x1e";
  const RESERVED = new Set(["connect", "disconnect", "connect_error", "reconnect_attempt",
    "disconnecting", "newListener", "removeListener"]);

  // ==== A tiny event emitter
  class Emitter {
    constructor() { this._listeners = new Map(); }

    on(event, fn) {
      if (!this._listeners.has(event)) this._listeners.set(event, []);
      this._listeners.get(event).push(fn);
      return this;
    }

    once(event, fn) {
      const wrapper = (...args) => { this.off(event, wrapper); fn.apply(this, args); };
      wrapper.original = fn;
      return this.on(event, wrapper);
    }

    /** off() removes everything, off(event) all listeners of event, off(event, fn) one. */
    off(event, fn) {
      if (event === undefined) this._listeners.clear();
      else if (fn === undefined) this._listeners.delete(event);
      else {
        const list = (this._listeners.get(event) || []).filter((l) => l !== fn && l.original !== fn);
        if (list.length) this._listeners.set(event, list); else this._listeners.delete(event);
      }
      return this;
    }

    /** Calls the local listeners; one throwing listener does not break the others. */
    _fire(event, ...args) {
      for (const fn of [...(this._listeners.get(event) || [])]) {
        try { fn.apply(this, args); } catch (err) { console.error(err); }
      }
    }
  }

  // Byte length of a string once UTF-8 encoded (for maxPayload accounting).
  const encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;
  const utf8Length = (s) => (encoder ? encoder.encode(s).length : s.length * 3);

  // ==== Transports: each delivers raw Engine.IO packets (strings) to
  // `onpacket` and reports its end once through `onclose(reason)`.

  /** One WebSocket frame = one Engine.IO packet. */
  class WebSocketTransport {
    constructor(url) {
      this.name = "websocket";
      this.onpacket = this.onclose = () => {};
      this._done = false;
      const ws = (this._ws = new WebSocket(url));
      ws.onmessage = (ev) => { if (!this._done && typeof ev.data === "string") this.onpacket(ev.data); };
      ws.onerror = () => this._end("transport error");
      ws.onclose = () => this._end("transport close");
    }

    send(packets) {
      if (this._done) return;
      for (const p of packets) this._ws.send(p);
    }

    close() {
      this._done = true;
      try { this._ws.close(); } catch (_) { /* already closed */ }
    }

    _end(reason) {
      if (this._done) return;
      this._done = true;
      this.onclose(reason);
    }
  }

  /**
   * HTTP long-polling: one GET in flight to receive, at most one POST in
   * flight to send; several packets travel in one body joined by "\x1e".
   */
  class PollingTransport {
    constructor(urlFor) {
      this.name = "polling";
      this.onpacket = this.onclose = () => {};
      this.maxPayload = 1e6;
      this._urlFor = urlFor; // (sid) => url
      this._sid = null;
      this._queue = [];
      this._posting = false;
      this._done = false;
      this._abort = new AbortController();
      this._poll();
    }

    async _poll() {
      while (!this._done) {
        let body;
        try {
          const res = await fetch(this._urlFor(this._sid), { cache: "no-store", signal: this._abort.signal });
          if (!res.ok) throw new Error("HTTP " + res.status);
          body = await res.text();
        } catch (_) {
          return this._end("transport error");
        }
        for (const packet of body.split(RECORD_SEPARATOR)) {
          if (this._done) return;
          if (this._sid === null && packet[0] === EIO.OPEN) {
            try { this._sid = JSON.parse(packet.slice(1)).sid; } catch (_) { /* engine rejects it */ }
          }
          this.onpacket(packet);
        }
        this._flush(); // packets queued before the sid was known
      }
    }

    send(packets) {
      this._queue.push(...packets);
      this._flush();
    }

    _flush() {
      if (this._posting || this._sid === null || this._queue.length === 0) return;
      // Take as many packets as fit into maxPayload bytes (always at least one).
      let n = 0;
      let size = 0;
      while (n < this._queue.length) {
        const len = utf8Length(this._queue[n]) + (n > 0 ? 1 : 0);
        if (n > 0 && size + len > this.maxPayload) break;
        size += len;
        n++;
      }
      const body = this._queue.splice(0, n).join(RECORD_SEPARATOR);
      this._posting = true;
      fetch(this._urlFor(this._sid), {
        method: "POST",
        body,
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
        keepalive: body.length < 60000, // lets the final close packet survive page unload
      }).then((res) => {
        if (!res.ok) throw new Error("HTTP " + res.status);
        this._posting = false;
        this._flush();
      }).catch(() => this._end("transport error"));
    }

    /**
     * A graceful close sends a CLOSE packet (after anything still queued) and
     * lets the server end the pending GET; aborting it would look like an error.
     */
    close(graceful) {
      if (graceful && this._sid !== null && !this._done) {
        this._done = true;
        this.send([EIO.CLOSE]);
        setTimeout(() => this._abort.abort(), 5000);
      } else {
        this._done = true;
        this._abort.abort();
      }
    }

    _end(reason) {
      if (this._done) return;
      this._done = true;
      this._abort.abort();
      this.onclose(reason);
    }
  }

  // ==== Engine.IO v4 connection: transport choice and fallback, handshake,
  // heartbeat (the server pings, we answer pong) and its watchdog.
  class Engine {
    /** handlers: onopen(transportName), onmessage(text), onclose(reason). */
    constructor(base, opts, handlers) {
      this._base = base;
      this._opts = opts;
      this._h = handlers;
      this.state = "opening"; // "opening" | "open" | "closed"
      this.transport = null;
      this._watchdog = null;
      this._openTimer = null;
      this._lastError = "transport error";
      this._candidates = opts.transports.filter((name) =>
        name === "websocket" ? typeof WebSocket === "function" :
        name === "polling" ? typeof fetch === "function" : false);
    }

    open() { this._tryNext(); }

    _url(transport, sid) {
      const u = new URL(this._opts.path, this._base);
      if (transport === "websocket") u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
      const q = new URLSearchParams(this._opts.query || {});
      q.set("EIO", "4");
      q.set("transport", transport);
      if (sid) q.set("sid", sid);
      if (transport === "polling") q.set("t", Date.now().toString(36) + Math.random().toString(36).slice(2, 6));
      u.search = q.toString();
      u.hash = "";
      return u.toString();
    }

    /** Opens the next candidate transport, or gives up when none is left. */
    _tryNext() {
      clearTimeout(this._openTimer);
      const name = this._candidates.shift();
      if (!name) return this._close(this._lastError);
      let t;
      try {
        t = name === "websocket"
          ? new WebSocketTransport(this._url("websocket"))
          : new PollingTransport((sid) => this._url("polling", sid));
      } catch (_) {
        return this._tryNext();
      }
      this.transport = t;
      t.onpacket = (packet) => { if (this.transport === t) this._onPacket(packet); };
      t.onclose = (reason) => {
        if (this.transport !== t) return;
        if (this.state === "opening") { this._lastError = reason; this._tryNext(); } // fall back
        else this._close(reason);
      };
      this._openTimer = setTimeout(() => {
        if (this.transport !== t || this.state !== "opening") return;
        this._lastError = "timeout";
        t.close();
        this._tryNext();
      }, this._opts.openTimeout);
    }

    _onPacket(packet) {
      const type = packet[0];
      const data = packet.slice(1);
      if (this.state === "opening") {
        // The very first packet must be OPEN: 0{"sid":..,"pingInterval":..,...}
        let info = null;
        try { info = type === EIO.OPEN ? JSON.parse(data) : null; } catch (_) { /* invalid */ }
        if (!info || typeof info.sid !== "string") {
          this._lastError = "invalid handshake";
          this.transport.close();
          return this._tryNext();
        }
        clearTimeout(this._openTimer);
        this.sid = info.sid;
        this.pingInterval = info.pingInterval || 25000;
        this.pingTimeout = info.pingTimeout || 20000;
        this.transport.maxPayload = info.maxPayload || 1e6;
        this.state = "open";
        this._resetWatchdog();
        this._h.onopen(this.transport.name);
        return;
      }
      switch (type) {
        case EIO.PING:
          this._resetWatchdog();
          this.transport.send([EIO.PONG + data]);
          break;
        case EIO.MESSAGE:
          this._h.onmessage(data);
          break;
        case EIO.CLOSE:
          this._close("transport close");
          break;
        default: // PONG, UPGRADE, NOOP: nothing to do
          break;
      }
    }

    /** No ping within pingInterval + pingTimeout means the server is gone. */
    _resetWatchdog() {
      clearTimeout(this._watchdog);
      this._watchdog = setTimeout(() => this._close("ping timeout"), this.pingInterval + this.pingTimeout);
    }

    send(text) {
      if (this.state === "open") this.transport.send([EIO.MESSAGE + text]);
    }

    /** Closes the connection; the handler learns the reason once. */
    close(reason = "forced close") { this._close(reason, true); }

    _close(reason, graceful = false) {
      if (this.state === "closed") return;
      this.state = "closed";
      clearTimeout(this._openTimer);
      clearTimeout(this._watchdog);
      if (this.transport) this.transport.close(graceful);
      this._h.onclose(reason);
    }
  }

  // ==== Socket.IO v5 packet encoding:  <type>[<namespace>,][<ack id>][<JSON>]
  function encode(packet, nsp) {
    let s = String(packet.type);
    if (nsp !== "/") s += nsp + ",";
    if (packet.id !== undefined) s += packet.id;
    if (packet.data !== undefined) s += JSON.stringify(packet.data);
    return s;
  }

  function decode(s) {
    const type = Number(s[0]);
    let i = 1;
    let nsp = "/";
    if (s[i] === "/") {
      const comma = s.indexOf(",", i);
      const end = comma < 0 ? s.length : comma;
      nsp = s.slice(i, end);
      i = comma < 0 ? end : end + 1;
    }
    let j = i;
    while (j < s.length && s[j] >= "0" && s[j] <= "9") j++;
    const id = j > i ? Number(s.slice(i, j)) : undefined;
    const data = j < s.length ? JSON.parse(s.slice(j)) : undefined;
    return { type, nsp, id, data };
  }

  // ==== The Socket.IO v5 socket
  class Socket extends Emitter {
    constructor(url, opts = {}) {
      super();
      const base = new URL(url || "/", global.location ? global.location.href : undefined);
      this.opts = {
        path: "/socket.io/",
        transports: ["websocket", "polling"],
        reconnection: true,
        reconnectionDelay: 500,
        reconnectionDelayMax: 5000,
        randomizationFactor: 0.5,
        openTimeout: 8000,
        timeout: 20000,
        ...opts,
      };
      this._base = base.origin;
      this.nsp = opts.namespace || (url && base.pathname !== "/" ? base.pathname : "/");
      this.id = null;
      this.connected = false;
      this.transport = null;
      this._active = false; // true while we want to be connected
      this._engine = null;
      this._buffer = []; // packets emitted while disconnected
      this._acks = new Map();
      this._nextAckId = 0;
      this._attempts = 0;
      this._retryTimer = null;
      this._connectTimer = null;
      // Leaving the page: close cleanly so the server updates presence at once.
      if (typeof global.addEventListener === "function") {
        global.addEventListener("pagehide", () => this._engine && this._engine.close("transport close"));
      }
      if (this.opts.autoConnect !== false) this.connect();
    }

    get active() { return this._active; }

    connect() {
      if (this._active) return this;
      this._active = true;
      this._attempts = 0;
      this._open();
      return this;
    }

    _open() {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
      const engine = new Engine(this._base, this.opts, {
        onopen: (name) => {
          if (this._engine !== engine) return;
          this.transport = name;
          const auth = typeof this.opts.auth === "function" ? this.opts.auth() : this.opts.auth;
          engine.send(encode({ type: SIO.CONNECT, data: auth }, this.nsp));
        },
        onmessage: (text) => { if (this._engine === engine) this._onPacket(text); },
        onclose: (reason) => { if (this._engine === engine) this._onEngineClose(reason); },
      });
      this._engine = engine;
      clearTimeout(this._connectTimer);
      this._connectTimer = setTimeout(() => {
        if (this._engine === engine && !this.connected) engine.close("timeout");
      }, this.opts.timeout);
      engine.open(); // may fail synchronously: then onclose has already run
    }

    _onPacket(text) {
      let p;
      try { p = decode(text); } catch (err) { console.error("wirehub: bad packet", text); return; }
      if (p.nsp !== this.nsp) return;
      switch (p.type) {
        case SIO.CONNECT:
          if (!p.data || typeof p.data.sid !== "string") return;
          clearTimeout(this._connectTimer);
          this.id = p.data.sid;
          this.connected = true;
          this._attempts = 0;
          // "connect" listeners run first (so they can restore session state,
          // e.g. re-join a room), then the packets buffered while offline go out.
          this._fire("connect");
          for (const packet of this._buffer.splice(0)) {
            if (this.connected) this._send(packet); else this._buffer.push(packet);
          }
          break;
        case SIO.CONNECT_ERROR: {
          // Refused by the server (e.g. bad auth): no automatic retry.
          const err = new Error((p.data && p.data.message) || "connect error");
          err.data = p.data && p.data.data;
          this._active = false;
          this._closeEngine();
          this._fire("connect_error", err);
          break;
        }
        case SIO.DISCONNECT: // the server kicked us: no automatic retry
          this._active = false;
          this._closeEngine();
          this._lost("io server disconnect");
          break;
        case SIO.EVENT:
          if (!Array.isArray(p.data) || typeof p.data[0] !== "string") return;
          if (p.id !== undefined) p.data.push(this._ackFor(p.id));
          this._fire(...p.data);
          break;
        case SIO.ACK: {
          const fn = this._acks.get(p.id);
          this._acks.delete(p.id);
          if (fn) fn(...(Array.isArray(p.data) ? p.data : []));
          break;
        }
        default:
          break; // binary packets are not supported
      }
    }

    /** The callback handed to listeners of an event that asks for an ack. */
    _ackFor(id) {
      const engine = this._engine;
      let done = false;
      return (...args) => {
        if (done || !this.connected || this._engine !== engine) return;
        done = true;
        this._send({ type: SIO.ACK, id, data: args });
      };
    }

    _onEngineClose(reason) {
      this._engine = null;
      this.transport = null;
      clearTimeout(this._connectTimer);
      if (this.connected) this._lost(reason);
      else this._fire("connect_error", new Error(reason));
      if (this._active) this._scheduleReconnect();
    }

    _lost(reason) {
      const was = this.connected;
      this.connected = false;
      this.id = null;
      this.transport = null;
      if (was) this._fire("disconnect", reason);
    }

    _closeEngine() {
      const engine = this._engine;
      this._engine = null; // detach first: its close callback is ignored
      clearTimeout(this._connectTimer);
      if (engine) engine.close();
    }

    /** Exponential backoff with jitter: 500 ms, 1 s, 2 s, 4 s, 5 s, 5 s, ... */
    _scheduleReconnect() {
      if (!this.opts.reconnection) { this._active = false; return; }
      if (this._retryTimer) return;
      const o = this.opts;
      const attempt = ++this._attempts;
      const base = o.reconnectionDelay * Math.pow(2, Math.min(attempt - 1, 20));
      const jitter = 1 + (Math.random() * 2 - 1) * o.randomizationFactor;
      const delay = Math.round(Math.min(o.reconnectionDelayMax, base * jitter));
      this._retryTimer = setTimeout(() => {
        this._retryTimer = null;
        if (this._active && !this._engine) this._open();
      }, delay);
      this._fire("reconnect_attempt", attempt, delay);
    }

    /** Closes the connection for good (until connect() is called again). */
    disconnect() {
      if (this.connected) this._send({ type: SIO.DISCONNECT });
      this._active = false;
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
      this._closeEngine();
      this._lost("io client disconnect");
      return this;
    }

    _send(packet) {
      if (this._engine) this._engine.send(encode(packet, this.nsp));
    }

    /** emit(event, ...args[, ack]) — sent now, or buffered until connected. */
    emit(event, ...args) { return this._emit(event, args, undefined, false); }

    /** Resolves with the first argument of the server's ack. */
    emitWithAck(event, ...args) { return this._emitWithAck(event, args, this.opts.ackTimeout); }

    /** socket.timeout(ms).emit(ev, ..., (err, ...reply) => ...) / .emitWithAck(ev, ...) */
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
      if (RESERVED.has(event)) throw new Error(`"${event}" is a reserved event name`);
      const packet = { type: SIO.EVENT };
      if (typeof args[args.length - 1] === "function") {
        const cb = args.pop();
        const id = (packet.id = this._nextAckId++);
        let timer = null;
        if (ms !== undefined && ms !== null) {
          timer = setTimeout(() => {
            this._acks.delete(id);
            const i = this._buffer.indexOf(packet);
            if (i >= 0) this._buffer.splice(i, 1); // never send it late
            cb(new Error("operation has timed out"));
          }, ms);
        }
        this._acks.set(id, (...reply) => {
          clearTimeout(timer);
          if (errorFirst) cb(null, ...reply); else cb(...reply);
        });
      }
      packet.data = [event, ...args];
      if (this.connected) this._send(packet); else this._buffer.push(packet);
      return this;
    }
  }

  global.Wirehub = {
    /** connect(url?, opts?) — url defaults to the page's origin. */
    connect(url, opts) {
      if (url && typeof url === "object") { opts = url; url = undefined; }
      return new Socket(url, opts);
    },
    Socket,
    Emitter, // shared with plain-client.js
    protocol: 5,
  };
})(typeof window !== "undefined" ? window : globalThis);
