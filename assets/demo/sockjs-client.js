/*
 * sockjs-client.js — a small SockJS (protocol 0.3) client for the demo,
 * with the shape of plain-client.js's sockets (it extends them):
 *
 *   const socket = WirehubPlain.connect("sockjs", { ackTimeout });
 *
 * Each SockJS message is one plain envelope (docs/protocol.md). It opens a
 * session at /sockjs/<server>/<session>/ over a WebSocket (`websocket`:
 * frames o, h, a[...], c[code,reason] as text messages; it sends arrays
 * of messages) and, if that never opens, over xhr polling (POST .../xhr
 * in a loop; POST .../xhr_send to talk back). A close frame or a lost
 * transport starts a new session after the usual backoff. Not the
 * official sockjs-client: only these two transports.
 */
(function (global) {
  "use strict";

  const { PlainSocket, endpoint } = global.WirehubPlain; // plain-client.js is loaded first
  const isWebSocket = (raw) => typeof WebSocket === "function" && raw instanceof WebSocket;

  class SockJsSocket extends PlainSocket {
    constructor(opts) {
      super(opts);
      this.via = "sockjs";
      this.transport = "SockJS";
      this._noWebSocket = false; // a WebSocket never opened: poll from now on
      this._outbox = [];
      this._posting = false;
      this._abort = null;
    }

    _open() {
      const server = String(Math.floor(Math.random() * 1000)).padStart(3, "0");
      const session = Math.random().toString(36).slice(2, 12);
      this._base = `/sockjs/${server}/${session}`;
      this._params = new URLSearchParams();
      if (this.opts.namespace !== "/") this._params.set("ns", this.opts.namespace);
      if (this._noWebSocket || typeof WebSocket !== "function") this._openPolling();
      else this._openWebSocket();
    }

    _openWebSocket() {
      this.transport = "SockJS websocket";
      let ws;
      try {
        ws = new WebSocket(endpoint(`${this._base}/websocket`, this._params, "ws"));
      } catch (_) {
        this._noWebSocket = true;
        return this._openPolling();
      }
      this.raw = ws;
      let opened = false;
      ws.onmessage = (ev) => {
        if (this.raw !== ws) return;
        opened = true;
        this._onFrame(ev.data);
      };
      ws.onclose = (ev) => {
        if (this.raw !== ws) return;
        if (opened) return this._failed(`transport close (${ev.code})`);
        this._noWebSocket = true; // blocked on the way: fall back to polling
        this.raw = null;
        this._openPolling();
      };
    }

    async _openPolling() {
      this.transport = "SockJS xhr-polling";
      const abort = new AbortController();
      this.raw = abort;
      this._abort = abort;
      while (this.raw === abort) {
        let text;
        try {
          const res = await fetch(endpoint(`${this._base}/xhr`, this._params), { method: "POST", signal: abort.signal });
          if (!res.ok) throw new Error(`status ${res.status}`);
          text = await res.text();
        } catch (_) {
          if (this.raw === abort) this._failed("transport error");
          return;
        }
        for (const frame of text.split("\n")) {
          if (frame && this.raw === abort) this._onFrame(frame);
        }
      }
    }

    /** One SockJS frame: open and heartbeat need nothing; messages are envelopes. */
    _onFrame(frame) {
      if (frame[0] === "a") {
        let messages;
        try { messages = JSON.parse(frame.slice(1)); } catch (_) { return console.error("wirehub: bad SockJS frame", frame); }
        for (const message of messages) {
          let env;
          try { env = JSON.parse(message); } catch (_) { console.error("wirehub: bad envelope", message); continue; }
          this._onEnvelope(env);
          if (!this.raw) return; // the envelope ended the session
        }
      } else if (frame[0] === "c") {
        let close = [];
        try { close = JSON.parse(frame.slice(1)); } catch (_) { /* reported below all the same */ }
        this._failed(`SockJS close (${close.join(" ")})`);
      }
    }

    _transmit(envelopes) {
      const raw = this.raw;
      if (!raw || (isWebSocket(raw) && raw.readyState !== WebSocket.OPEN)) {
        this._buffer.push(...envelopes);
        return;
      }
      if (isWebSocket(raw)) {
        raw.send(JSON.stringify(envelopes.map((env) => JSON.stringify(env))));
        return;
      }
      this._outbox.push(...envelopes);
      this._post(raw);
    }

    /** xhr_send, one request at a time so envelopes keep their order. */
    async _post(abort) {
      if (this._posting) return;
      this._posting = true;
      while (this._outbox.length && this.raw === abort) {
        const batch = this._outbox.splice(0);
        const body = JSON.stringify(batch.map((env) => JSON.stringify(env)));
        try {
          const res = await fetch(endpoint(`${this._base}/xhr_send`, this._params), { method: "POST", body });
          if (!res.ok) throw new Error(`status ${res.status}`);
        } catch (_) {
          if (this.raw === abort) this._failed("transport error");
          break;
        }
      }
      this._posting = false;
    }

    _closeTransport() {
      const raw = this.raw;
      this.raw = null; // detach first: its close is ignored
      this._outbox = [];
      if (isWebSocket(raw)) { try { raw.close(1000); } catch (_) { /* already closed */ } }
      else if (raw) raw.abort(); // the held poll: the server closes the session at once
    }
  }

  global.WirehubPlain.register("sockjs", SockJsSocket);
})(typeof window !== "undefined" ? window : globalThis);
