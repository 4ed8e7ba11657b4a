// Large payloads around maxHttpBufferSize (1,000,000 bytes).
import assert from "node:assert/strict";
import { test, connected, echo, waitFor, sleep } from "./helpers.mjs";

const NEAR_LIMIT = 990_000;
const OVER_LIMIT = 1_000_001;

for (const transports of [["websocket"], ["polling"]]) {
  const tn = transports[0];

  test(`${tn}: ~990,000-byte string echoes via "message" -> "message-back"`, async ({ connect }) => {
    const socket = connect({ transports });
    await connected(socket);
    const big = "a".repeat(NEAR_LIMIT - 10) + "0123456789";
    const [back] = await echo(socket, big);
    assert.equal(typeof back, "string");
    assert.equal(back.length, big.length);
    assert.ok(back === big, "echoed string differs");
    // the session is still healthy afterwards
    assert.deepEqual(await echo(socket, "small"), ["small"]);
    assert.equal(socket.io.engine.transport.name, tn);
  });

  test(`${tn}: payload over 1,000,000 bytes disconnects that client only`, async ({ connect }) => {
    const victim = connect({ transports });
    const bystander = connect({ transports });
    await Promise.all([connected(victim), connected(bystander)]);
    const gone = waitFor(victim, "disconnect");
    victim.emit("message", "b".repeat(OVER_LIMIT));
    const [reason] = await gone;
    assert.ok(
      ["transport close", "transport error"].includes(reason),
      `unexpected disconnect reason ${JSON.stringify(reason)}`,
    );
    assert.equal(victim.connected, false);
    // the other client keeps working, also after a few heartbeats
    assert.deepEqual(await echo(bystander, "still alive"), ["still alive"]);
    await sleep(700);
    assert.equal(bystander.connected, true);
    assert.deepEqual(await echo(bystander, "still alive"), ["still alive"]);
  });
}
