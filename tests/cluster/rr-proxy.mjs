// A round-robin HTTP/WebSocket proxy with no affinity at all: each HTTP
// request, and each WebSocket upgrade, goes to the next backend in turn.
//
// The turn is kept per Engine.IO session: the handshake (a request without
// `sid`) goes to the next backend of a global counter, and every later request
// of that session (`sid=` in the query) to the backend after the one that
// served its previous request. With two backends, consecutive requests of one
// session therefore always alternate between them, starting with the backend
// that did NOT create the session. (A single global counter would also spread
// the requests, but two clients polling in step could by chance keep all the
// requests of one session on one backend.) Requests with an unknown sid follow
// the global counter.
//
// Library: startRrProxy({ targets: ["http://127.0.0.1:P1", ...] }) ->
//   { url, port, stats(), close() }
// CLI (debugging): node tests/cluster/rr-proxy.mjs [--port N] URL [URL...]
//   prints "rr-proxy: listening on http://127.0.0.1:N", and its stats on SIGINT/SIGTERM.
import { createServer, request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { pathToFileURL } from "node:url";

const MAX_ERRORS_KEPT = 20;

export function startRrProxy({ targets, port = 0, host = "127.0.0.1" }) {
  const backends = targets.map((t) => {
    const u = new URL(t);
    return { url: t, host: u.hostname, port: Number(u.port || 80) };
  });
  if (backends.length === 0) throw new Error("rr-proxy: no backend");
  let globalTurn = 0;
  const nextOfSession = new Map(); // sid -> index of the backend for its next request
  const stats = {
    requests: backends.map(() => 0), // HTTP requests per backend (upgrades included)
    upgrades: backends.map(() => 0),
    sessions: {}, // sid -> requests per backend (handshake included)
    errors: [], // non-2xx answers and proxy errors: {backend, method, url, status, body}
  };
  const sockets = new Set();

  const sidOf = (url) => new URL(url, "http://x").searchParams.get("sid");
  const pick = (sid) => {
    let i;
    if (sid && nextOfSession.has(sid)) i = nextOfSession.get(sid);
    else i = globalTurn++ % backends.length;
    if (sid) nextOfSession.set(sid, (i + 1) % backends.length);
    return i;
  };
  const count = (i, sid) => {
    stats.requests[i]++;
    if (!sid) return;
    stats.sessions[sid] ??= backends.map(() => 0);
    stats.sessions[sid][i]++;
  };
  const noteError = (e) => {
    if (stats.errors.length < MAX_ERRORS_KEPT) stats.errors.push(e);
  };

  const server = createServer((req, res) => {
    const sid = sidOf(req.url);
    const i = pick(sid);
    const b = backends[i];
    count(i, sid);
    let responded = false;
    const up = httpRequest(
      { host: b.host, port: b.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (upRes) => {
        responded = true;
        const ok = upRes.statusCode >= 200 && upRes.statusCode < 300;
        const isHandshake = !sid && req.method === "GET" && ok && /[?&]transport=polling/.test(req.url);
        const keep = !ok || isHandshake;
        const chunks = [];
        let kept = 0;
        upRes.on("data", (c) => {
          if (keep && kept < 4096) {
            chunks.push(c);
            kept += c.length;
          }
        });
        upRes.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (!ok) {
            noteError({ backend: b.url, method: req.method, url: req.url, status: upRes.statusCode, body: body.slice(0, 200) });
          } else if (isHandshake) {
            // "0{"sid":"...",...}": the session lives on backend i; its next request goes elsewhere
            const m = /^0(\{.*\})/.exec(body);
            if (m) {
              try {
                const newSid = JSON.parse(m[1]).sid;
                if (newSid) {
                  stats.sessions[newSid] ??= backends.map(() => 0);
                  stats.sessions[newSid][i]++;
                  nextOfSession.set(newSid, (i + 1) % backends.length);
                }
              } catch {
                /* not an Engine.IO handshake */
              }
            }
          }
        });
        res.writeHead(upRes.statusCode, upRes.statusMessage, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", (err) => {
      // after the answer has begun, an error is one side hanging up, not a backend error
      if (!responded) noteError({ backend: b.url, method: req.method, url: req.url, status: 502, body: `proxy: ${err.message}` });
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`rr-proxy: ${err.message}`);
    });
    req.pipe(up);
  });

  server.on("upgrade", (req, socket, head) => {
    const sid = sidOf(req.url);
    const i = pick(sid);
    const b = backends[i];
    count(i, sid);
    stats.upgrades[i]++;
    sockets.add(socket);
    const up = netConnect(b.port, b.host);
    sockets.add(up);
    let answered = false;
    const drop = () => {
      socket.destroy();
      up.destroy();
      sockets.delete(socket);
      sockets.delete(up);
    };
    up.once("connect", () => {
      let head1 = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
      for (let k = 0; k < req.rawHeaders.length; k += 2) head1 += `${req.rawHeaders[k]}: ${req.rawHeaders[k + 1]}\r\n`;
      up.write(head1 + "\r\n");
      if (head?.length) up.write(head);
      // the 101 (or an error answer) and then the frames, both ways, untouched
      up.once("data", (first) => {
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(first.toString("latin1"))?.[1] || 0);
        answered = true;
        if (status !== 101) {
          noteError({ backend: b.url, method: "UPGRADE", url: req.url, status, body: first.toString("utf8").slice(0, 300) });
        }
      });
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on("error", (err) => {
      // an error once the backend has answered is the tunnel closing (either side hung up), not a backend error
      if (!answered) noteError({ backend: b.url, method: "UPGRADE", url: req.url, status: 502, body: `proxy: ${err.message}` });
      drop();
    });
    socket.on("error", drop);
    up.on("close", drop);
    socket.on("close", drop);
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolve({
        port: actual,
        url: `http://${host}:${actual}`,
        backends: backends.map((b) => b.url),
        stats: () => structuredClone(stats),
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

// ---------------------------------------------------------------- CLI
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  let port = 0;
  const targets = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--port") port = Number(args[++i]);
    else targets.push(args[i]);
  }
  if (!targets.length) {
    console.error("usage: node rr-proxy.mjs [--port N] http://HOST:PORT [http://HOST:PORT...]");
    process.exit(2);
  }
  const proxy = await startRrProxy({ targets, port });
  console.log(`rr-proxy: listening on ${proxy.url} -> ${proxy.backends.join(", ")}`);
  const bye = async () => {
    console.log(`rr-proxy: stats ${JSON.stringify(proxy.stats())}`);
    await proxy.close();
    process.exit(0);
  };
  process.on("SIGINT", bye);
  process.on("SIGTERM", bye);
}
