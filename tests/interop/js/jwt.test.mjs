// JWT at the Socket.IO handshake: the official client sends `auth: { token }`
// with its namespace CONNECT to a server started with WIREHUB_JWT_SECRET
// (wirehub's conformance example; HS256). A valid token connects; no token,
// a bad signature or an expired token gets a CONNECT_ERROR whose message
// the client surfaces as `err.message`. Tokens are signed here with
// node:crypto, over WebSocket and long-polling. socket.io-client 2.x, which
// has no auth payload, sends it as `query: { token }` (its handshake query,
// and its namespace query outside `/`); a refusal is its `error` event.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { after, before } from "node:test";
import { io, test, connected, connectError, waitFor, EVENT_TIMEOUT, startServer } from "./helpers.mjs";

const ioV2 = createRequire(import.meta.url)("socket.io-client-v2");

const SECRET = "interop-secret";

let server;
before(async () => {
  server = await startServer({ WIREHUB_JWT_SECRET: SECRET, WIREHUB_ALLOW_EIO3: "1" });
});
after(() => server?.stop());

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An HS256 JWT for `claims`, signed with `secret`. */
function sign(claims, secret = SECRET) {
  const unsigned = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(claims)}`;
  const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

const now = () => Math.floor(Date.now() / 1000);

function client(ctx, transports, auth) {
  const socket = io(server.url, {
    forceNew: true,
    reconnection: false,
    timeout: EVENT_TIMEOUT,
    transports,
    auth,
  });
  return ctx.track(socket);
}

for (const transports of [["websocket"], ["polling"]]) {
  const label = transports[0];

  test(`a valid token connects (${label})`, async (ctx) => {
    const socket = client(ctx, transports, { token: sign({ sub: "js", exp: now() + 600 }) });
    await connected(socket);
    assert.ok(socket.id);
  });

  const refusals = [
    ["no token", {}, "missing token"],
    ["a bad signature", { token: sign({ sub: "js", exp: now() + 600 }, "wrong") }, "invalid token signature"],
    ["an expired token", { token: sign({ sub: "js", exp: now() - 3600 }) }, "token expired"],
  ];
  for (const [what, auth, message] of refusals) {
    test(`${what} is refused with CONNECT_ERROR (${label})`, async (ctx) => {
      const socket = client(ctx, transports, auth);
      const err = await connectError(socket);
      assert.equal(err.message, message);
      assert.equal(socket.connected, false);
    });
  }
}

test("socket.io-client 2.x sends its token in the query", async (ctx) => {
  const token = sign({ sub: "v2", exp: now() + 600 });
  for (const nsp of ["/", "/custom"]) {
    const socket = ioV2(server.url + (nsp === "/" ? "" : nsp), {
      forceNew: true,
      reconnection: false,
      timeout: EVENT_TIMEOUT,
      query: { token },
    });
    ctx.track(socket);
    await connected(socket);
  }
  const refused = ctx.track(
    ioV2(server.url, { forceNew: true, reconnection: false, timeout: EVENT_TIMEOUT, query: { token: "not-a-jwt" } }),
  );
  const [error] = await waitFor(refused, "error");
  assert.equal(error, "malformed token");
});
