// Disconnect reasons, seen by the client itself and server-side (via a "watcher" client).
import assert from "node:assert/strict";
import { test, connected, emitAck, waitFor, echo } from "./helpers.mjs";

async function watcher(connect) {
  const w = connect({ transports: ["websocket"] });
  await connected(w);
  assert.deepEqual(await emitAck(w, "watch-disconnects"), ["watching"]);
  return w;
}

/** Next "peer-disconnected" for socket id `id`: resolves with the server-side reason. */
async function peerDisconnected(w, id) {
  const [, reason] = await waitFor(w, "peer-disconnected", { filter: (sid) => sid === id });
  return reason;
}

for (const transports of [["websocket"], ["polling"]]) {
  const tn = transports[0];

  test(`${tn}: client disconnect() -> "io client disconnect" / server "client namespace disconnect"`, async ({ connect }) => {
    const w = await watcher(connect);
    const s = connect({ transports });
    await connected(s);
    const id = s.id;
    const serverSide = peerDisconnected(w, id);
    const clientSide = waitFor(s, "disconnect");
    s.disconnect();
    assert.equal((await clientSide)[0], "io client disconnect");
    assert.equal(await serverSide, "client namespace disconnect");
  });

  test(`${tn}: "disconnect-me" -> "io server disconnect" / server "server namespace disconnect"`, async ({ connect }) => {
    const w = await watcher(connect);
    const s = connect({ transports });
    await connected(s);
    const id = s.id;
    const serverSide = peerDisconnected(w, id);
    const clientSide = waitFor(s, "disconnect");
    s.emit("disconnect-me");
    assert.equal((await clientSide)[0], "io server disconnect");
    assert.equal(await serverSide, "server namespace disconnect");
    assert.equal(s.connected, false);
    // the watcher is unaffected
    assert.deepEqual(await echo(w, "watcher ok"), ["watcher ok"]);
  });

  test(`${tn}: engine.close() -> client "forced close" / server "transport close"`, async ({ connect }) => {
    const w = await watcher(connect);
    const s = connect({ transports });
    await connected(s);
    const id = s.id;
    const serverSide = peerDisconnected(w, id);
    const clientSide = waitFor(s, "disconnect");
    s.io.engine.close();
    assert.equal((await clientSide)[0], "forced close");
    assert.equal(await serverSide, "transport close");
  });
}

test('multiplexed: disconnect() of "/custom" leaves "/" connected', async ({ manager, track, connect }) => {
  const w = await watcher(connect);
  const m = manager();
  const root = track(m.socket("/"));
  const custom = track(m.socket("/custom"));
  await Promise.all([connected(root), connected(custom)]);
  custom.disconnect();
  assert.deepEqual(await echo(root, "root ok"), ["root ok"]);
  assert.equal(root.connected, true);
  // closing the last namespace closes the session: "/" reports a client namespace disconnect
  const id = root.id;
  const serverSide = peerDisconnected(w, id);
  root.disconnect();
  assert.equal(await serverSide, "client namespace disconnect");
});
