// TLS: the official client with `ca` set to a test CA, over websocket,
// polling and the polling → websocket upgrade, against a server of its own
// started from SERVER_CMD with CONFORMANCE_TLS_DIR: wirehub's conformance
// example then makes a CA and a certificate for 127.0.0.1 at startup
// (rcgen), writes ca.pem into that directory and serves HTTPS/WSS. (The
// Node reference server does not read that variable: run against wirehub.)
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { io, test, connected, connectError, waitFor, echo, startServer, EVENT_TIMEOUT } from "./helpers.mjs";

let server;
let dir;
let ca;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "wirehub-tls-"));
  server = await startServer({ CONFORMANCE_TLS_DIR: dir });
  ca = readFileSync(join(dir, "ca.pem"));
});
after(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A client of the TLS server, closed at the end of the test. */
function client(ctx, transports, opts) {
  return ctx.track(io(server.url, { forceNew: true, reconnection: false, timeout: EVENT_TIMEOUT, transports, ...opts }));
}

for (const [name, transports, final] of [
  ["websocket", ["websocket"], "websocket"],
  ["polling", ["polling"], "polling"],
  ["polling, upgraded to websocket", ["polling", "websocket"], "websocket"],
]) {
  test(`https/wss with the test CA: ${name}`, async (ctx) => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const socket = client(ctx, transports, { ca });
    await connected(socket);
    const engine = socket.io.engine;
    if (engine.transport.name !== final) await waitFor(engine, "upgrade");
    assert.equal(engine.transport.name, final);
    assert.deepEqual(await echo(socket, "over tls", { n: 1 }), ["over tls", { n: 1 }]);
  });
}

test("https: without the CA the certificate is refused, and only the certificate", async (ctx) => {
  for (const transports of [["polling"], ["websocket"]]) {
    const refused = client(ctx, transports, {});
    const err = await connectError(refused);
    assert.match(err.message, /^(xhr poll|websocket) error$/, `${transports}: ${err.message}`);
    if (transports[0] === "websocket") {
      assert.match(String(err.description?.error?.code), /CERT|SIGNATURE|ISSUER/, `${transports}: ${err.description?.error}`);
    }
    // The same client, told not to check the certificate, connects.
    const unchecked = client(ctx, transports, { rejectUnauthorized: false });
    await connected(unchecked);
  }
});
